//! scikit-learn's MLP parameters, read into nabla's architecture and training configuration.
//!
//! The estimators' `__init__` stores the parameters unchanged; `fit` sends them here as JSON
//! and every default and cross-parameter rule is applied once, in Rust, from the library's
//! types. Library errors name CLI flags; [`sklearn_name`] turns them into parameter names.

use nabla::model_file::Task;
use nabla::setting::Setting;
use nabla::spec::{self, DataShape, TrainSpec};
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

fn invalid(setting: Setting, message: impl Into<String>) -> Error {
    Error::config(setting, message)
}

fn activation(name: &str) -> Result<Activation, Error> {
    match name {
        "logistic" => Ok(Activation::Sigmoid),
        "tanh" => Ok(Activation::Tanh),
        "relu" => Ok(Activation::Relu),
        "identity" => Ok(Activation::Identity),
        other => match other.parse::<Activation>() {
            Ok(Activation::Softmax) | Err(_) => Err(invalid(
                Setting::Activation,
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
                    Setting::Optimizer,
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

/// Checks the parameters scikit-learn has and the library does not (`tol`, `max_fun`).
pub fn check_own(p: &SkParams) -> Result<(), String> {
    if !(p.tol.is_finite() && p.tol >= 0.0) {
        return Err(format!("invalid tol: must be a number >= 0, got {}", p.tol));
    }
    if p.max_fun < 1 {
        return Err(format!(
            "invalid max_fun: must be at least 1, got {}",
            p.max_fun
        ));
    }
    Ok(())
}

/// Reads the parameters against the data: n examples of `features` inputs, `outputs`
/// network outputs, targets of kind `target`. The parameters fill a [`TrainSpec`], which
/// the library resolves (defaults, ranges, cross-setting rules); what is scikit-learn's own
/// (`batch_size='auto'`, schedules for sgd only, `max_fun`, the `tol` rule) is read here.
pub fn resolve(
    p: &SkParams,
    target: Target,
    n: usize,
    features: usize,
    outputs: usize,
) -> Result<Resolved, Error> {
    let mut hidden = Vec::new();
    for &h in &p.hidden_layer_sizes {
        if h < 1 {
            return Err(invalid(
                Setting::Hidden,
                format!(
                    "every size must be at least 1, got {:?}",
                    p.hidden_layer_sizes
                ),
            ));
        }
        hidden.push(h as usize);
    }
    let output = match target {
        Target::Binary | Target::Multilabel => Activation::Sigmoid,
        Target::Multiclass => Activation::Softmax,
        Target::Continuous => Activation::Identity,
    };
    let task = if target == Target::Continuous {
        Task::Regression
    } else {
        Task::Classification
    };
    let cost = match &p.cost {
        None => None,
        Some(c) => Some(c.parse::<Cost>().map_err(|_| {
            invalid(
                Setting::Cost,
                format!("unknown cost '{c}' (expected quadratic or cross-entropy)"),
            )
        })?),
    };
    let optimizer = optimizer(p)?;
    if p.max_iter < 1 {
        return Err(invalid(
            Setting::Epochs,
            format!("must be at least 1, got {}", p.max_iter),
        ));
    }
    let mut epochs = p.max_iter as usize;
    if matches!(optimizer, OptimizerKind::Lbfgs { .. }) {
        // One function evaluation per iteration here (no line search).
        epochs = epochs.min(p.max_fun as usize);
    }
    let batch_size = match &p.batch_size {
        BatchSize::Name(s) if s == "auto" => n.min(200),
        BatchSize::Name(s) => {
            return Err(invalid(
                Setting::BatchSize,
                format!("must be 'auto' or a positive integer, got '{s}'"),
            ))
        }
        BatchSize::Number(b) if *b < 1 => {
            return Err(invalid(
                Setting::BatchSize,
                format!("must be at least 1, got {b}"),
            ))
        }
        // Larger than n: clipped to n, as scikit-learn does.
        BatchSize::Number(b) => (*b as usize).min(n.max(1)),
    };
    if p.n_iter_no_change < 1 {
        return Err(invalid(
            Setting::Patience,
            format!("must be at least 1, got {}", p.n_iter_no_change),
        ));
    }
    let patience = p.n_iter_no_change as usize;
    let sgd_like = matches!(
        optimizer,
        OptimizerKind::Sgd | OptimizerKind::Momentum { .. }
    );
    let no_improvement = Stop::NoImprovement {
        tol: p.tol,
        patience,
    };
    // Like scikit-learn, the schedule applies to sgd only.
    let (schedule, stop) = match p.learning_rate.as_str() {
        "constant" => (Schedule::Constant, no_improvement),
        "invscaling" if sgd_like => (Schedule::InvScaling { power: p.power_t }, no_improvement),
        "adaptive" if sgd_like => (
            Schedule::Plateau {
                factor: 0.2,
                patience,
                tol: p.tol,
            },
            Stop::RateFloor(1e-6),
        ),
        "invscaling" | "adaptive" => (Schedule::Constant, no_improvement),
        other => {
            return Err(invalid(
                Setting::Schedule,
                format!("unknown schedule '{other}' (expected constant, invscaling or adaptive)"),
            ))
        }
    };
    if p.early_stopping && !(p.validation_fraction > 0.0 && p.validation_fraction < 1.0) {
        return Err(invalid(
            Setting::Validation,
            format!(
                "must be in (0, 1) with early_stopping, got {}",
                p.validation_fraction
            ),
        ));
    }
    let (validation, early_patience, stop) = if p.early_stopping {
        (Some(p.validation_fraction), Some(patience), Stop::Never)
    } else {
        (None, None, stop)
    };
    // η: learning_rate_init, except for the solvers scikit-learn gives none (lbfgs) and
    // rprop, whose steps do not scale by it: there the library's default.
    let lr = match optimizer {
        OptimizerKind::Lbfgs { .. } | OptimizerKind::Rprop => None,
        _ => Some(p.learning_rate_init),
    };
    // scikit-learn adds (alpha / 2m) Σ w² to each mini-batch's loss (m its size), the
    // library (λ / 2n) Σ w² to C (n the training examples): the same decay per step for
    // λ = alpha · n / m.
    let n_train = match validation {
        Some(fraction) => (n as f64 * (1.0 - fraction)).round().max(1.0),
        None => n.max(1) as f64,
    };
    let m = if optimizer.full_batch() {
        n_train
    } else {
        (batch_size as f64).min(n_train)
    };
    let l2 = p.alpha * n_train / m;
    let spec = TrainSpec {
        task: Some(task),
        hidden: Some(hidden),
        activation: Some(activation(&p.activation)?),
        output: Some(output),
        cost,
        // scikit-learn's Glorot uniform.
        init: Some(Init::Xavier),
        optimizer: Some(optimizer),
        lr,
        batch_size: (!optimizer.full_batch()).then_some(batch_size),
        epochs: Some(epochs),
        seed: Some(p.seed),
        shuffle: Some(p.shuffle),
        schedule: Some(schedule),
        l2: Some(l2),
        validation,
        patience: early_patience,
        ..TrainSpec::default()
    };
    let shape = DataShape {
        features,
        outputs,
        task,
        images: None,
        embedded: false,
    };
    let mut r = spec::resolve(&spec, &shape, None)?;
    // The loss curve comes from the mini-batches, as scikit-learn's (python/src/lib.rs).
    r.config.evaluate_train = false;
    Ok(Resolved {
        architecture: r.architecture,
        init: r.init,
        config: r.config,
        stop,
    })
}

/// The scikit-learn parameter for a library setting.
pub fn sklearn_name(setting: Setting) -> String {
    match setting {
        Setting::Hidden | Setting::Layers => "hidden_layer_sizes",
        Setting::Activation => "activation",
        Setting::Output | Setting::Cost => "cost",
        Setting::Optimizer => "solver",
        Setting::Momentum => "momentum",
        Setting::Nesterov => "nesterovs_momentum",
        Setting::Eps => "epsilon",
        Setting::Beta1 => "beta_1",
        Setting::Beta2 => "beta_2",
        Setting::LearningRate => "learning_rate_init",
        Setting::BatchSize => "batch_size",
        Setting::Epochs => "max_iter",
        Setting::Seed => "random_state",
        Setting::Shuffle => "shuffle",
        Setting::Schedule | Setting::Factor | Setting::PlateauPatience => "learning_rate",
        Setting::PowerT => "power_t",
        Setting::L2 => "alpha",
        Setting::Validation => "validation_fraction",
        Setting::Patience => "n_iter_no_change",
        Setting::Precision => "dtype",
        Setting::Threads => "threads",
        other => other.name(),
    }
    .to_string()
}
