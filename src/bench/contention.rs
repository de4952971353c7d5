//! Other processes' load while [`crate::bench`] times a region, measured as the peers'
//! harness measures it (the harness `scripts/compare.sh` times numpy, JAX and PyTorch
//! with), so that nabla and its peers are timed under the same rules: wait for a quiet machine first, then keep only the timed regions
//! during which other processes used under a quarter of a core ("clean"), repeating
//! regions until there are enough.
//!
//! Linux only (`/proc/stat`, `/proc/self/stat`); elsewhere every region counts as clean.

use std::time::{Duration, Instant};

/// Clock ticks per second of `/proc/stat` and `/proc/self/stat` (USER_HZ, 100 on Linux).
const TICKS_PER_S: f64 = 100.0;

/// A region is clean when other processes used fewer cores than this during it (the
/// peers' `PEERS_CLEAN_FOREIGN`), with an allowance of 3 ticks for short regions.
const CLEAN_FOREIGN_CORES: f64 = 0.25;

/// The machine counts as quiet after two 1-second windows in a row with other processes
/// using fewer cores than this.
const QUIET_FOREIGN_CORES: f64 = 0.15;

/// A point in time: wall clock, this process's CPU time and all processes' CPU time.
#[derive(Clone, Copy)]
pub struct Snapshot {
    wall: Instant,
    cpu: Option<(f64, f64)>,
}

impl Snapshot {
    /// Now.
    pub fn now() -> Snapshot {
        Snapshot {
            wall: Instant::now(),
            cpu: own_cpu_s().zip(system_busy_s()),
        }
    }

    /// Cores' worth of CPU other processes used since `self` (None where unknown).
    pub fn foreign_cores_until(&self, later: &Snapshot) -> Option<f64> {
        let wall = later.wall.duration_since(self.wall).as_secs_f64().max(1e-9);
        let ((own0, all0), (own1, all1)) = (self.cpu?, later.cpu?);
        Some((((all1 - all0) - (own1 - own0)) / wall).max(0.0))
    }

    /// Whether other processes left the region from `self` to `later` alone.
    pub fn clean_until(&self, later: &Snapshot) -> bool {
        let wall = later.wall.duration_since(self.wall).as_secs_f64().max(1e-9);
        self.foreign_cores_until(later)
            .is_none_or(|foreign| foreign < CLEAN_FOREIGN_CORES.max(0.03 / wall))
    }
}

/// Waits, for at most `max_wait`, until the machine is quiet; returns the seconds waited
/// (negative when it gave up). Without `/proc`, returns at once.
pub fn wait_quiet(max_wait: Duration) -> f64 {
    let started = Instant::now();
    if max_wait.is_zero() || Snapshot::now().cpu.is_none() {
        return 0.0;
    }
    let mut quiet_windows = 0;
    loop {
        let before = Snapshot::now();
        std::thread::sleep(Duration::from_secs(1));
        let foreign = before.foreign_cores_until(&Snapshot::now()).unwrap_or(0.0);
        quiet_windows = if foreign < QUIET_FOREIGN_CORES {
            quiet_windows + 1
        } else {
            0
        };
        let waited = started.elapsed().as_secs_f64();
        if quiet_windows >= 2 || started.elapsed() > max_wait {
            keep_busy(Duration::from_secs(1));
            return if quiet_windows >= 2 { waited } else { -waited };
        }
    }
}

/// Keeps this thread's core busy for `duration`: after the sleeps of [`wait_quiet`] a
/// virtual CPU takes about a second to come back to full speed (the peers' harness saw
/// its first passes run 1.3-1.6× slower), longer than a W1 epoch.
fn keep_busy(duration: Duration) {
    let started = Instant::now();
    let mut x = 1u64;
    while started.elapsed() < duration {
        for _ in 0..10_000 {
            x = std::hint::black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
        }
    }
}

/// Runs `region` until `needed` clean runs (or `max_runs` in all); returns the seconds of
/// the first `needed` clean runs, or of the least contended ones when there were too few,
/// and whether they were all clean.
pub fn timed_clean_runs<E>(
    needed: usize,
    max_runs: usize,
    mut region: impl FnMut() -> Result<(), E>,
) -> Result<(Vec<f64>, bool), E> {
    let mut runs: Vec<(f64, bool, f64)> = Vec::new();
    loop {
        let before = Snapshot::now();
        region()?;
        let after = Snapshot::now();
        let seconds = after.wall.duration_since(before.wall).as_secs_f64();
        let foreign = before.foreign_cores_until(&after).unwrap_or(0.0);
        runs.push((seconds, before.clean_until(&after), foreign));
        let clean = runs.iter().filter(|run| run.1).count();
        if clean >= needed || runs.len() >= max_runs {
            break;
        }
    }
    Ok(pick(&runs, needed))
}

/// The first `needed` clean runs' seconds, else the `needed` least contended; and whether
/// they were all clean. `runs` holds (seconds, clean, foreign cores).
pub fn pick(runs: &[(f64, bool, f64)], needed: usize) -> (Vec<f64>, bool) {
    let clean: Vec<f64> = runs.iter().filter(|r| r.1).map(|r| r.0).collect();
    if clean.len() >= needed {
        return (clean[..needed].to_vec(), true);
    }
    let mut by_load: Vec<&(f64, bool, f64)> = runs.iter().collect();
    by_load.sort_by(|a, b| a.2.total_cmp(&b.2));
    (by_load.iter().take(needed).map(|r| r.0).collect(), false)
}

/// This process's user + system CPU seconds (`/proc/self/stat` fields 14 and 15).
fn own_cpu_s() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces; the fields after it follow its ')'.
    let after_name = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // after_name starts at field 3 (state): utime is field 14, stime field 15.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_S)
}

/// All processes' busy CPU seconds (`/proc/stat`: user, nice, system, irq, softirq).
fn system_busy_s() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?;
    let ticks: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .take(7)
        .map(|t| t.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq
    Some((ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6]) / TICKS_PER_S)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_clean_runs_are_kept_else_the_least_contended() {
        let runs = [
            (1.0, false, 0.9),
            (2.0, true, 0.0),
            (3.0, true, 0.1),
            (4.0, true, 0.0),
        ];
        assert_eq!(pick(&runs, 2), (vec![2.0, 3.0], true));
        let busy = [(1.0, false, 0.9), (2.0, false, 0.3), (3.0, true, 0.1)];
        assert_eq!(pick(&busy, 2), (vec![3.0, 2.0], false));
    }

    #[test]
    fn own_and_system_cpu_time_are_read_on_linux() {
        if cfg!(target_os = "linux") {
            let (own, all) = (own_cpu_s().unwrap(), system_busy_s().unwrap());
            assert!(own >= 0.0 && all >= own, "own {own} s, all {all} s");
        }
    }
}
