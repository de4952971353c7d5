//! scikit-learn's MLP parameters, read into nabla's architecture and training configuration.
//!
//! The estimators' `__init__` stores the parameters unchanged; `fit` sends them here as JSON
//! and every default and cross-parameter rule is applied once, in Rust, from the library's
//! types. Library errors name CLI flags; [`sklearn_name`] turns them into parameter names.

use nabla::{Activation, Architecture, Cost, Error, Init, OptimizerKind, Schedule, TrainConfig};
use serde::Deserialize;

/// What `fit` is asked to learn, from the shape and kind of y.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    /// Two classes: one logistic output.
    Binary,
    /// More classes: softmax outputs.
    Multiclass,
    /// Several yes/no labels: logistic outputs.
    Multilabel,
    /// Real targets: identity outputs.
    Continuous,
}

/// `batch_size`: `"auto"` or a number.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum BatchSize {
    /// A number of examples.
    Number(i64),
    /// `"auto"`: min(200, n).
    Name(String),
}

/// The parameters shared with scikit-learn's `MLPClassifier` / `MLPRegressor`, plus `cost`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkParams {
    pub hidden_layer_sizes: Vec<i64>,
    pub activation: String,
    pub solver: String,
    pub alpha: f64,
    pub batch_size: BatchSize,
    pub learning_rate: String,
    pub learning_rate_init: f64,
    pub power_t: f64,
    pub max_iter: i64,
    pub shuffle: bool,
    pub seed: u64,
    pub tol: f64,
    pub momentum: f64,
    pub nesterovs_momentum: bool,
    pub early_stopping: bool,
    pub validation_fraction: f64,
    pub beta_1: f64,
    pub beta_2: f64,
    pub epsilon: f64,
    pub n_iter_no_change: i64,
    pub max_fun: i64,
    pub cost: Option<String>,
}

/// When `fit` stops before `max_iter`, besides the library's early stopping.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Stop {
    /// scikit-learn's rule: the training loss has not improved by `tol` for more than
    /// `patience` epochs in a row.
    NoImprovement { tol: f64, patience: usize },
    /// `learning_rate='adaptive'`: η has fallen to 1e-6 or below.
    RateFloor(f64),
    /// Only `max_iter` (or the library's early stopping).
    Never,
}

/// The resolved run: architecture, initialisation, configuration, stop rule.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub architecture: Architecture,
    pub init: Init,
    pub config: TrainConfig,
    pub stop: Stop,
}

fn invalid(name: &str, message: impl Into<String>) -> Error {
    Error::config(name, message)
}

fn activation(name: &str) -> Result<Activation, Error> {
    match name {
        "logistic" => Ok(Activation::Sigmoid),
        "tanh" => Ok(Activation::Tanh),
        "relu" => Ok(Activation::Relu),
        "identity" => Ok(Activation::Identity),
        other => match other.parse::<Activation>() {
            Ok(Activation::Softmax) | Err(_) => Err(invalid(
                "activation",
                format!("unknown activation '{other}' (expected identity, logistic, tanh, relu or leaky-relu)"),
            )),
            Ok(a) => Ok(a),
        },
    }
}

fn optimizer(p: &SkParams) -> Result<OptimizerKind, Error> {
    let kind = match p.solver.as_str() {
        "sgd" if p.momentum > 0.0 => OptimizerKind::Momentum {
            mu: p.momentum,
            nesterov: p.nesterovs_momentum,
        },
        "sgd" => OptimizerKind::Sgd,
        "adam" => OptimizerKind::Adam {
            beta1: p.beta_1,
            beta2: p.beta_2,
            eps: p.epsilon,
        },
        // scipy's L-BFGS-B keeps 10 pairs.
        "lbfgs" => OptimizerKind::Lbfgs { history: 10 },
        other => {
            let kind: OptimizerKind = other.parse().map_err(|_| {
                invalid(
                    "solver",
                    format!("unknown solver '{other}' (expected lbfgs, sgd, adam, momentum, nesterov, rmsprop, adamw or rprop)"),
                )
            })?;
            match kind {
                OptimizerKind::Momentum { nesterov, .. } => OptimizerKind::Momentum {
                    mu: p.momentum,
                    nesterov,
                },
                OptimizerKind::RmsProp { alpha, .. } => OptimizerKind::RmsProp {
                    alpha,
                    eps: p.epsilon,
                },
                OptimizerKind::AdamW { weight_decay, .. } => OptimizerKind::AdamW {
                    beta1: p.beta_1,
                    beta2: p.beta_2,
                    eps: p.epsilon,
                    weight_decay,
                },
                k => k,
            }
        }
    };
    Ok(kind)
}

/// Reads the parameters against the data: n examples of `features` inputs, `outputs`
/// network outputs, targets of kind `target`.
pub fn resolve(
    p: &SkParams,
    target: Target,
    n: usize,
    features: usize,
    outputs: usize,
) -> Result<Resolved, Error> {
    let mut sizes = vec![features];
    for &h in &p.hidden_layer_sizes {
        if h < 1 {
            return Err(invalid(
                "hidden_layer_sizes",
                format!(
                    "every size must be at least 1, got {:?}",
                    p.hidden_layer_sizes
                ),
            ));
        }
        sizes.push(h as usize);
    }
    sizes.push(outputs);
    let hidden = activation(&p.activation)?;
    let (output, default_cost) = match target {
        Target::Binary | Target::Multilabel => (Activation::Sigmoid, Cost::CrossEntropy),
        Target::Multiclass => (Activation::Softmax, Cost::CrossEntropy),
        Target::Continuous => (Activation::Identity, Cost::Quadratic),
    };
    let cost = match &p.cost {
        None => default_cost,
        Some(c) => c.parse::<Cost>().map_err(|_| {
            invalid(
                "cost",
                format!("unknown cost '{c}' (expected quadratic or cross-entropy)"),
            )
        })?,
    };
    let architecture = Architecture::new(&sizes, hidden, output, cost)?;

    let optimizer = optimizer(p)?;
    if p.max_iter < 1 {
        return Err(invalid(
            "max_iter",
            format!("must be at least 1, got {}", p.max_iter),
        ));
    }
    let mut epochs = p.max_iter as usize;
    if matches!(optimizer, OptimizerKind::Lbfgs { .. }) {
        if p.max_fun < 1 {
            return Err(invalid(
                "max_fun",
                format!("must be at least 1, got {}", p.max_fun),
            ));
        }
        // One function evaluation per iteration here (no line search).
        epochs = epochs.min(p.max_fun as usize);
    }
    let batch_size = match &p.batch_size {
        BatchSize::Name(s) if s == "auto" => n.min(200),
        BatchSize::Name(s) => {
            return Err(invalid(
                "batch_size",
                format!("must be 'auto' or a positive integer, got '{s}'"),
            ))
        }
        BatchSize::Number(b) if *b < 1 => {
            return Err(invalid(
                "batch_size",
                format!("must be at least 1, got {b}"),
            ))
        }
        // Larger than n: clipped to n, as scikit-learn does.
        BatchSize::Number(b) => (*b as usize).min(n.max(1)),
    };
    // η: learning_rate_init, except for the solvers scikit-learn gives none (lbfgs) and
    // those whose step does not scale by it in the same way (rprop): the library's default.
    let learning_rate = match optimizer {
        OptimizerKind::Lbfgs { .. } | OptimizerKind::Rprop => optimizer
            .default_learning_rate()
            .unwrap_or(p.learning_rate_init),
        _ => p.learning_rate_init,
    };
    if p.n_iter_no_change < 1 {
        return Err(invalid(
            "n_iter_no_change",
            format!("must be at least 1, got {}", p.n_iter_no_change),
        ));
    }
    let patience = p.n_iter_no_change as usize;
    if !(p.tol.is_finite() && p.tol >= 0.0) {
        return Err(invalid(
            "tol",
            format!("must be a number >= 0, got {}", p.tol),
        ));
    }
    if !(0.0..=1.0).contains(&p.power_t) {
        // scikit-learn takes any power_t >= 0; the library's schedule checks the rest.
        if !(p.power_t.is_finite() && p.power_t >= 0.0) {
            return Err(invalid(
                "power_t",
                format!("must be a number >= 0, got {}", p.power_t),
            ));
        }
    }
    let sgd_like = matches!(
        optimizer,
        OptimizerKind::Sgd | OptimizerKind::Momentum { .. }
    );
    // Like scikit-learn, the schedule applies to sgd only.
    let (schedule, stop) = match p.learning_rate.as_str() {
        "constant" => (
            Schedule::Constant,
            Stop::NoImprovement {
                tol: p.tol,
                patience,
            },
        ),
        "invscaling" if sgd_like => (
            Schedule::InvScaling { power: p.power_t },
            Stop::NoImprovement {
                tol: p.tol,
                patience,
            },
        ),
        "adaptive" if sgd_like => (
            Schedule::Plateau {
                factor: 0.2,
                patience,
                tol: p.tol,
            },
            Stop::RateFloor(1e-6),
        ),
        "invscaling" | "adaptive" => (
            Schedule::Constant,
            Stop::NoImprovement {
                tol: p.tol,
                patience,
            },
        ),
        other => {
            return Err(invalid(
                "learning_rate",
                format!("unknown schedule '{other}' (expected constant, invscaling or adaptive)"),
            ))
        }
    };
    let (validation, early_patience, stop) = if p.early_stopping {
        (p.validation_fraction, Some(patience), Stop::Never)
    } else {
        (0.0, None, stop)
    };
    if p.early_stopping && !(p.validation_fraction > 0.0 && p.validation_fraction < 1.0) {
        return Err(invalid(
            "validation_fraction",
            format!(
                "must be in (0, 1) with early_stopping, got {}",
                p.validation_fraction
            ),
        ));
    }
    let config = TrainConfig {
        epochs,
        batch_size,
        learning_rate,
        seed: p.seed,
        shuffle: p.shuffle,
        optimizer,
        schedule,
        l2: p.alpha,
        validation,
        patience: early_patience,
        evaluate_train: true,
        ..TrainConfig::default()
    };
    config.validate()?;
    Ok(Resolved {
        architecture,
        // scikit-learn's Glorot uniform.
        init: Init::Xavier,
        config,
        stop,
    })
}

/// The scikit-learn parameter for a library setting named as on the command line.
pub fn sklearn_name(field: &str) -> &str {
    match field {
        "--epochs" => "max_iter",
        "--batch-size" => "batch_size",
        "--lr" => "learning_rate_init",
        "--momentum" => "momentum",
        "--l2" => "alpha",
        "--validation" => "validation_fraction",
        "--patience" => "n_iter_no_change",
        "--beta1" => "beta_1",
        "--beta2" => "beta_2",
        "--eps" => "epsilon",
        "--layers" => "hidden_layer_sizes",
        "--activation" => "activation",
        "--output" | "--cost" => "cost",
        "--schedule" | "--eta-min" => "learning_rate",
        other => other,
    }
}
