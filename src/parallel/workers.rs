//! The threads that split products run on: a few persistent workers that spin while they
//! wait for work, as BLAS libraries' threads do.
//!
//! Why not rayon's pool: its idle workers go to sleep within microseconds, and waking one
//! costs tens of microseconds on the 2-core development machine. That is as long as the
//! half of a W2 product it would take over, and longer than a whole batch-1 layer
//! (BENCHMARKS.md, "Threads"). Here a worker spins for 0.1-3 ms (2¹⁶ pauses) after
//! each job before it parks, so the jobs of one training step or of a stream of batch-1
//! calls find it awake; a sleeping worker is woken by `unpark`.
//!
//! A worker claims a posted job before it runs it. When the caller is done with its own
//! part it claims every job no worker has claimed yet and runs it itself: on a busy
//! machine, where a worker may not get a core for milliseconds, the caller then never
//! waits for a thread that is not running (blocks compute the same bits on any thread).
//!
//! Only one caller uses the workers at a time; a second caller meanwhile runs its whole
//! product itself (same bits: blocks never change results, see `parallel::gemm_split`).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::thread::{self, JoinHandle, Thread};

const IDLE: u8 = 0;
const POSTED: u8 = 1;
const DONE: u8 = 2;
const FAILED: u8 = 3;
const STOP: u8 = 4;
/// Claimed: by the worker, which will report DONE or FAILED, or by the caller, which runs
/// the job itself and sets IDLE.
const RUNNING: u8 = 5;

/// How many pauses a worker spins for its next job before it parks: 2¹⁶ `pause`
/// instructions, from ~0.1 ms where one takes ~10 cycles to ~3 ms on recent Intel cores
/// (~140 cycles). Counted rather than timed, so the loop is one load and one pause.
const SPINS_BEFORE_PARK: u32 = 1 << 16;

/// How many pauses the caller spins for the workers before it yields its core between
/// checks (in case there are more threads than cores).
const SPINS_BEFORE_YIELD: u32 = 1 << 16;

/// A job for one worker: a type-erased `FnOnce`, called at most once.
#[derive(Clone, Copy)]
struct Job {
    data: *const (),
    call: unsafe fn(*const ()),
}

struct Slot {
    state: AtomicU8,
    job: Mutex<Option<Job>>,
}

// SAFETY: the raw pointer in `job` is only dereferenced by the worker while the caller that
// posted it waits in `Workers::run` for the job to finish (see there).
unsafe impl Send for Slot {}
unsafe impl Sync for Slot {}

struct Worker {
    slot: Arc<Slot>,
    thread: Thread,
    handle: Option<JoinHandle<()>>,
}

/// How many jobs [`Jobs`] holds in place before it spills to the heap: one per worker up
/// to 9 threads.
const INLINE_JOBS: usize = 8;

/// The jobs of one [`Workers::run`]: held in place up to [`INLINE_JOBS`] (more spill to a
/// `Vec`), so that handing blocks to the workers allocates nothing. Each sits in a cell
/// that a worker, or the caller, claims it from.
pub(crate) struct Jobs<F> {
    inline: [Mutex<Option<F>>; INLINE_JOBS],
    spilled: Vec<Mutex<Option<F>>>,
    len: usize,
}

impl<F> Jobs<F> {
    pub(crate) fn new() -> Self {
        Jobs {
            inline: std::array::from_fn(|_| Mutex::new(None)),
            spilled: Vec::new(),
            len: 0,
        }
    }

    pub(crate) fn push(&mut self, job: F) {
        match self.inline.get_mut(self.len) {
            Some(cell) => *lock(cell) = Some(job),
            None => self.spilled.push(Mutex::new(Some(job))),
        }
        self.len += 1;
    }

    fn len(&self) -> usize {
        self.len
    }

    fn cells(&self) -> impl Iterator<Item = &Mutex<Option<F>>> {
        self.inline[..self.len.min(INLINE_JOBS)]
            .iter()
            .chain(&self.spilled)
    }
}

impl<F> FromIterator<F> for Jobs<F> {
    fn from_iter<I: IntoIterator<Item = F>>(jobs: I) -> Self {
        let mut all = Jobs::new();
        jobs.into_iter().for_each(|job| all.push(job));
        all
    }
}

/// A set of spinning workers.
pub(crate) struct Workers {
    workers: Vec<Worker>,
    /// Held by the caller using the workers. A panic while it is held poisons it; the
    /// next caller takes it anyway (`TryLockError::Poisoned`), so the workers stay usable.
    busy: Mutex<()>,
}

impl Workers {
    /// Starts `count` workers; `None` if a thread cannot be started.
    pub(crate) fn start(count: usize) -> Option<Workers> {
        // Built up in place, so that if a thread cannot be started, dropping `started`
        // stops the ones that were.
        let mut started = Workers {
            workers: Vec::with_capacity(count),
            busy: Mutex::new(()),
        };
        for i in 0..count {
            let slot = Arc::new(Slot {
                state: AtomicU8::new(IDLE),
                job: Mutex::new(None),
            });
            let worker_slot = Arc::clone(&slot);
            let handle = thread::Builder::new()
                .name(format!("nabla-worker-{i}"))
                .spawn(move || work(&worker_slot))
                .ok()?;
            started.workers.push(Worker {
                slot,
                thread: handle.thread().clone(),
                handle: Some(handle),
            });
        }
        Some(started)
    }

    /// How many workers there are.
    pub(crate) fn count(&self) -> usize {
        self.workers.len()
    }

    /// Runs `jobs[i]` on worker i (or on the calling thread, if worker i has not claimed it
    /// by the time `last` returns) and `last` on the calling thread, and returns when all
    /// have finished. Without a free set of workers (another caller is using them), or with
    /// more jobs than workers, runs everything on the calling thread, in order.
    ///
    /// # Panics
    /// If a job panics (after every job has finished).
    pub(crate) fn run<F: FnOnce() + Send>(&self, jobs: Jobs<F>, last: impl FnOnce()) {
        let busy = match self.busy.try_lock() {
            Ok(guard) => Some(guard),
            Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        };
        if busy.is_none() || jobs.len() > self.workers.len() {
            for cell in jobs.cells() {
                if let Some(job) = lock(cell).take() {
                    job();
                }
            }
            return last();
        }
        // `jobs` stays where it is (this frame) until every posted job has finished.
        let posted = &self.workers[..jobs.len()];
        for (worker, cell) in posted.iter().zip(jobs.cells()) {
            let job = Job {
                data: cell as *const Mutex<Option<F>> as *const (),
                call: call_once::<F>,
            };
            *lock(&worker.slot.job) = Some(job);
            worker.slot.state.store(POSTED, Ordering::Release);
            worker.thread.unpark();
        }
        // Wait for the workers even if `last` panics: their jobs borrow `jobs`.
        let waiter = WaitFor(posted);
        last();
        let failed = waiter.wait();
        std::mem::forget(waiter);
        assert!(!failed, "a worker's part of a product panicked");
    }
}

/// Waits for posted jobs to finish; on drop too, so that an unwinding caller never frees
/// what a worker still uses.
struct WaitFor<'a>(&'a [Worker]);

impl WaitFor<'_> {
    /// Waits for every posted job; a job no worker has claimed yet (its worker is parked,
    /// or descheduled by a busy machine) the caller claims and runs itself, so that it
    /// never waits for a thread that is not running. Returns whether a job panicked.
    fn wait(&self) -> bool {
        let mut failed = false;
        // First every job no worker has claimed yet, so that none waits behind a running
        // one; then the running ones.
        for worker in self.0 {
            let slot = &worker.slot;
            if slot
                .state
                .compare_exchange(POSTED, RUNNING, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                failed |= run_job(slot) == FAILED;
                slot.state.store(IDLE, Ordering::Release);
            }
        }
        let mut spins = 0u32;
        for worker in self.0 {
            let slot = &worker.slot;
            let state = loop {
                match slot.state.load(Ordering::Acquire) {
                    POSTED => {
                        if slot
                            .state
                            .compare_exchange(POSTED, RUNNING, Ordering::AcqRel, Ordering::Acquire)
                            .is_ok()
                        {
                            break run_job(slot);
                        }
                    }
                    RUNNING if spins < SPINS_BEFORE_YIELD => {
                        spins += 1;
                        std::hint::spin_loop();
                    }
                    RUNNING => thread::yield_now(),
                    state => break state,
                }
            };
            failed |= state == FAILED;
            slot.state.store(IDLE, Ordering::Release);
        }
        failed
    }
}

impl Drop for WaitFor<'_> {
    fn drop(&mut self) {
        self.wait();
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        for worker in &self.workers {
            worker.slot.state.store(STOP, Ordering::Release);
            worker.thread.unpark();
        }
        for worker in &mut self.workers {
            if let Some(handle) = worker.handle.take() {
                let _ = handle.join();
            }
        }
    }
}

/// Calls the `FnOnce` behind `data` (a `Mutex<Option<F>>`), once.
///
/// # Safety
/// `data` must point to a live `Mutex<Option<F>>`.
unsafe fn call_once<F: FnOnce()>(data: *const ()) {
    let cell = unsafe { &*(data as *const Mutex<Option<F>>) };
    let job = lock(cell).take();
    if let Some(job) = job {
        job();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A worker's loop: wait (spinning, then parked) for a posted job, claim it (unless the
/// caller claimed it first), run it, report.
fn work(slot: &Slot) {
    loop {
        let mut spins = 0u32;
        loop {
            match slot.state.load(Ordering::Acquire) {
                POSTED => {
                    if slot
                        .state
                        .compare_exchange(POSTED, RUNNING, Ordering::AcqRel, Ordering::Acquire)
                        .is_ok()
                    {
                        break;
                    }
                }
                STOP => return,
                _ if spins < SPINS_BEFORE_PARK => {
                    spins += 1;
                    std::hint::spin_loop();
                }
                _ => thread::park(),
            }
        }
        let state = run_job(slot);
        slot.state.store(state, Ordering::Release);
    }
}

/// Runs the job posted in `slot` (claimed: state RUNNING) on this thread; DONE or FAILED.
fn run_job(slot: &Slot) -> u8 {
    let job = lock(&slot.job).take();
    let outcome = match job {
        // SAFETY: the caller that posted the job waits for the job to finish before the
        // job's data goes away (`Workers::run`, `WaitFor`).
        Some(job) => catch_unwind(AssertUnwindSafe(|| unsafe { (job.call)(job.data) })),
        None => Ok(()),
    };
    // A panic's payload is not dropped here: its Drop could panic in turn and end this
    // thread, leaving the caller waiting (or, in the caller, abort an unwinding one).
    match outcome {
        Ok(()) => DONE,
        Err(payload) => {
            std::mem::forget(payload);
            FAILED
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn every_job_runs_once_and_run_waits_for_all() {
        let workers = Workers::start(3).unwrap();
        for round in 0..200 {
            let counts: Vec<AtomicUsize> = (0..4).map(|_| AtomicUsize::new(0)).collect();
            let jobs: Jobs<_> = (0..3)
                .map(|i| {
                    let counts = &counts;
                    move || {
                        counts[i].fetch_add(round + 1, Ordering::Relaxed);
                    }
                })
                .collect();
            workers.run(jobs, || {
                counts[3].fetch_add(round + 1, Ordering::Relaxed);
            });
            for count in &counts {
                assert_eq!(count.load(Ordering::Relaxed), round + 1);
            }
        }
    }

    #[test]
    fn a_panicking_job_is_reported_after_all_jobs_finish() {
        let workers = Workers::start(2).unwrap();
        let finished = AtomicUsize::new(0);
        let result = catch_unwind(AssertUnwindSafe(|| {
            let jobs: Vec<Box<dyn FnOnce() + Send>> = vec![
                Box::new(|| panic!("job 0")),
                Box::new(|| {
                    finished.fetch_add(1, Ordering::Relaxed);
                }),
            ];
            workers.run(jobs.into_iter().collect(), || {
                finished.fetch_add(1, Ordering::Relaxed);
            });
        }));
        assert!(result.is_err());
        assert_eq!(finished.load(Ordering::Relaxed), 2);
        // The workers still work afterwards: the job runs on a worker, not inline (the
        // caller stays in `last` until it has run, so it cannot claim the job itself).
        let ran_on = Mutex::new(None);
        workers.run(
            [|| {
                *lock(&ran_on) = thread::current().name().map(str::to_string);
            }]
            .into_iter()
            .collect(),
            || {
                let started = std::time::Instant::now();
                while lock(&ran_on).is_none() && started.elapsed().as_secs() < 30 {
                    thread::yield_now();
                }
            },
        );
        let name = lock(&ran_on).clone().unwrap_or_default();
        assert!(name.starts_with("nabla-worker-"), "ran on {name:?}");
    }

    /// More jobs than are held in place (the rest spill to the heap): each still runs
    /// once, on a worker or on the caller.
    #[test]
    fn jobs_beyond_those_held_in_place_run_too() {
        let workers = Workers::start(INLINE_JOBS + 3).unwrap();
        for round in 0..50 {
            let counts: Vec<AtomicUsize> =
                (0..INLINE_JOBS + 4).map(|_| AtomicUsize::new(0)).collect();
            let jobs: Jobs<_> = (0..INLINE_JOBS + 3)
                .map(|i| {
                    let counts = &counts;
                    move || {
                        counts[i].fetch_add(round + 1, Ordering::Relaxed);
                    }
                })
                .collect();
            assert_eq!(jobs.len(), INLINE_JOBS + 3);
            workers.run(jobs, || {
                counts[INLINE_JOBS + 3].fetch_add(round + 1, Ordering::Relaxed);
            });
            for count in &counts {
                assert_eq!(count.load(Ordering::Relaxed), round + 1);
            }
        }
    }

    /// Workers whose threads never run (as when the machine is busy and they are not
    /// scheduled): slots only.
    fn stalled(count: usize) -> Workers {
        let workers = (0..count)
            .map(|_| Worker {
                slot: Arc::new(Slot {
                    state: AtomicU8::new(IDLE),
                    job: Mutex::new(None),
                }),
                thread: thread::current(),
                handle: None,
            })
            .collect();
        Workers {
            workers,
            busy: Mutex::new(()),
        }
    }

    #[test]
    fn jobs_no_worker_claims_run_on_the_caller() {
        let workers = stalled(2);
        for _ in 0..3 {
            let ran: Vec<AtomicUsize> = (0..3).map(|_| AtomicUsize::new(0)).collect();
            let jobs: Jobs<_> = (0..2)
                .map(|i| {
                    let ran = &ran;
                    move || {
                        ran[i].fetch_add(1, Ordering::Relaxed);
                    }
                })
                .collect();
            workers.run(jobs, || {
                ran[2].fetch_add(1, Ordering::Relaxed);
            });
            assert!(ran.iter().all(|count| count.load(Ordering::Relaxed) == 1));
        }
        // A panic in a job the caller runs is reported like a worker's, after the rest.
        let finished = AtomicUsize::new(0);
        let result = catch_unwind(AssertUnwindSafe(|| {
            let jobs: Vec<Box<dyn FnOnce() + Send>> = vec![
                Box::new(|| panic!("job 0")),
                Box::new(|| {
                    finished.fetch_add(1, Ordering::Relaxed);
                }),
            ];
            workers.run(jobs.into_iter().collect(), || {
                finished.fetch_add(1, Ordering::Relaxed);
            });
        }));
        assert!(result.is_err());
        assert_eq!(finished.load(Ordering::Relaxed), 2);
    }
}
