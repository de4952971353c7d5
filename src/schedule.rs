//! Learning-rate schedules: η for each epoch, from the base rate η₀.
//!
//! ```text
//! constant      η = η₀
//! step          η = η₀ γ^⌊(epoch−1)/step⌋
//! exponential   η = η₀ γ^(epoch−1)
//! cosine        η = η_min + ½ (η₀ − η_min)(1 + cos(π t / T)) after a linear warm-up over `warmup` epochs
//! invscaling    η = η₀ / tᵖ, t = examples seen so far (scikit-learn's `invscaling`, p = 0.5)
//! plateau       η ← η · factor when the monitored cost has not improved by `tol` for
//!               `patience` epochs (scikit-learn's `adaptive`, PyTorch's ReduceLROnPlateau)
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::setting::Setting;

/// A learning-rate schedule.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Schedule {
    /// η = η₀.
    #[default]
    Constant,
    /// η = η₀ γ^⌊(epoch−1)/step⌋.
    Step {
        /// Epochs between decays.
        step: usize,
        /// γ.
        gamma: f64,
    },
    /// η = η₀ γ^(epoch−1).
    Exponential {
        /// γ.
        gamma: f64,
    },
    /// Linear warm-up from η₀/warmup to η₀, then cosine annealing to η_min over the rest.
    Cosine {
        /// Warm-up epochs.
        warmup: usize,
        /// η_min.
        eta_min: f64,
    },
    /// η = η₀ / tᵖ with t the number of examples seen before the epoch (η₀ for the first).
    InvScaling {
        /// p.
        power: f64,
    },
    /// Multiply η by `factor` after `patience` epochs without an improvement of `tol`.
    Plateau {
        /// Factor (< 1).
        factor: f64,
        /// Epochs to wait.
        patience: usize,
        /// Smallest improvement that counts.
        tol: f64,
    },
}

impl Schedule {
    /// The names the CLI accepts.
    pub const NAMES: [&'static str; 6] = [
        "constant",
        "step",
        "exponential",
        "cosine",
        "invscaling",
        "plateau",
    ];

    /// Checks the parameters.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming `--schedule`.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(Error::config(Setting::Schedule, m.to_string()));
        match *self {
            Self::Step { step, gamma } if step == 0 || !(gamma > 0.0 && gamma.is_finite()) => {
                bad("step needs a step of at least 1 epoch and a positive gamma")
            }
            Self::Exponential { gamma } if !(gamma > 0.0 && gamma.is_finite()) => {
                bad("exponential needs a positive gamma")
            }
            Self::Cosine { eta_min, .. } if !(eta_min >= 0.0 && eta_min.is_finite()) => {
                bad("cosine needs eta_min >= 0")
            }
            Self::InvScaling { power } if !(power >= 0.0 && power.is_finite()) => {
                bad("invscaling needs a power >= 0")
            }
            Self::Plateau {
                factor,
                patience,
                tol,
            } if !(factor > 0.0 && factor < 1.0)
                || patience == 0
                || !(tol >= 0.0 && tol.is_finite()) =>
            {
                bad("plateau needs 0 < factor < 1, a patience of at least 1 and a tolerance >= 0")
            }
            _ => Ok(()),
        }
    }
}

/// What a [`Scheduler`] carries from one epoch to the next (the plateau schedule's η, best
/// cost and epochs waited; the others depend on the epoch number alone).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SchedulerState {
    /// η of the last epoch.
    pub eta: f64,
    /// The lowest monitored cost so far.
    pub best: Option<f64>,
    /// Epochs since it last improved.
    pub waited: usize,
}

/// The state of a schedule during training.
#[derive(Clone, Debug)]
pub struct Scheduler {
    schedule: Schedule,
    eta0: f64,
    epochs: usize,
    eta: f64,
    best: f64,
    waited: usize,
}

impl Scheduler {
    /// A schedule from base rate `eta0` over `epochs` epochs.
    pub fn new(schedule: Schedule, eta0: f64, epochs: usize) -> Self {
        Scheduler {
            schedule,
            eta0,
            epochs,
            eta: eta0,
            best: f64::INFINITY,
            waited: 0,
        }
    }

    /// η for `epoch` (1-based), having seen `examples_seen` examples before it.
    pub fn eta(&mut self, epoch: usize, examples_seen: usize) -> f64 {
        let e = (epoch - 1) as f64;
        self.eta = match self.schedule {
            Schedule::Constant => self.eta0,
            Schedule::Step { step, gamma } => self.eta0 * gamma.powi(((epoch - 1) / step) as i32),
            Schedule::Exponential { gamma } => self.eta0 * gamma.powf(e),
            Schedule::Cosine { warmup, eta_min } => {
                if epoch <= warmup {
                    self.eta0 * epoch as f64 / warmup as f64
                } else {
                    let span = (self.epochs.saturating_sub(warmup)).max(1) as f64;
                    let t = (epoch - warmup - 1) as f64;
                    eta_min
                        + 0.5
                            * (self.eta0 - eta_min)
                            * (1.0 + (std::f64::consts::PI * t / span).cos())
                }
            }
            Schedule::InvScaling { power } => {
                if examples_seen == 0 {
                    self.eta0
                } else {
                    self.eta0 / (examples_seen as f64).powf(power)
                }
            }
            Schedule::Plateau { .. } => self.eta,
        };
        self.eta
    }

    /// Where the schedule stands: what a continued run needs to go on as if it had not stopped.
    pub fn state(&self) -> SchedulerState {
        SchedulerState {
            eta: self.eta,
            best: self.best.is_finite().then_some(self.best),
            waited: self.waited,
        }
    }

    /// Takes up a [`Scheduler::state`] saved earlier.
    pub fn restore(&mut self, state: &SchedulerState) {
        self.eta = state.eta;
        self.best = state.best.unwrap_or(f64::INFINITY);
        self.waited = state.waited;
    }

    /// Tells a plateau schedule the monitored cost at the end of an epoch.
    pub fn observe(&mut self, cost: f64) {
        if let Schedule::Plateau {
            factor,
            patience,
            tol,
        } = self.schedule
        {
            if cost < self.best - tol {
                self.best = cost;
                self.waited = 0;
            } else {
                self.waited += 1;
                if self.waited >= patience {
                    self.eta *= factor;
                    self.waited = 0;
                }
            }
        }
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Constant => "constant",
            Self::Step { .. } => "step",
            Self::Exponential { .. } => "exponential",
            Self::Cosine { .. } => "cosine",
            Self::InvScaling { .. } => "invscaling",
            Self::Plateau { .. } => "plateau",
        })
    }
}

impl FromStr for Schedule {
    type Err = Error;
    /// The schedule with its default parameters: step (10 epochs, γ 0.1), exponential
    /// (γ 0.95), cosine (no warm-up, η_min 0), invscaling (p 0.5), plateau (factor 0.2,
    /// patience 2, tol 1e-4, as scikit-learn's `adaptive`).
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "constant" => Ok(Self::Constant),
            "step" => Ok(Self::Step {
                step: 10,
                gamma: 0.1,
            }),
            "exponential" | "exp" => Ok(Self::Exponential { gamma: 0.95 }),
            "cosine" => Ok(Self::Cosine {
                warmup: 0,
                eta_min: 0.0,
            }),
            "invscaling" => Ok(Self::InvScaling { power: 0.5 }),
            "plateau" | "adaptive" => Ok(Self::Plateau {
                factor: 0.2,
                patience: 2,
                tol: 1e-4,
            }),
            _ => Err(Error::config(
                Setting::Schedule,
                format!(
                    "unknown schedule '{s}' (expected one of: {})",
                    Self::NAMES.join(", ")
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_schedule_gives_its_formula() {
        let mut s = Scheduler::new(
            Schedule::Step {
                step: 2,
                gamma: 0.5,
            },
            1.0,
            10,
        );
        assert_eq!(
            [1, 2, 3, 4, 5].map(|e| s.eta(e, 0)),
            [1.0, 1.0, 0.5, 0.5, 0.25]
        );
        let mut s = Scheduler::new(Schedule::Exponential { gamma: 0.5 }, 2.0, 10);
        assert_eq!([1, 2, 3].map(|e| s.eta(e, 0)), [2.0, 1.0, 0.5]);
        let mut s = Scheduler::new(
            Schedule::Cosine {
                warmup: 2,
                eta_min: 0.0,
            },
            1.0,
            6,
        );
        let etas = [1, 2, 3, 4, 5, 6].map(|e| s.eta(e, 0));
        // warm-up 0.5, 1; then cos over 4 epochs: 1, (1+cos(π/4))/2, 0.5, (1+cos(3π/4))/2
        assert!(
            (etas[0] - 0.5).abs() < 1e-15
                && (etas[1] - 1.0).abs() < 1e-15
                && (etas[2] - 1.0).abs() < 1e-15
        );
        assert!((etas[4] - 0.5).abs() < 1e-15, "{etas:?}");
        let mut s = Scheduler::new(Schedule::InvScaling { power: 0.5 }, 1.0, 10);
        assert_eq!(s.eta(1, 0), 1.0);
        assert_eq!(s.eta(2, 100), 0.1);
    }

    #[test]
    fn plateau_cuts_the_rate_after_patience_epochs_without_progress() {
        let mut s = Scheduler::new(
            Schedule::Plateau {
                factor: 0.5,
                patience: 2,
                tol: 0.0,
            },
            1.0,
            10,
        );
        for cost in [3.0, 2.0, 2.0] {
            s.eta(1, 0);
            s.observe(cost);
        }
        assert_eq!(s.eta(4, 0), 1.0);
        s.observe(2.5);
        assert_eq!(s.eta(5, 0), 0.5);
    }
}
