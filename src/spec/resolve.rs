//! A [`TrainSpec`] against the data: every default and every rule between settings.

use serde::{Deserialize, Serialize};

use crate::activation::Activation;
use crate::cost::Cost;
use crate::error::{Error, Result};
use crate::init::Init;
use crate::model_file::Task;
use crate::network::Architecture;
use crate::optimizer::OptimizerKind;
use crate::schedule::Schedule;
use crate::setting::Setting;
use crate::spec::{Precision, TrainSpec};
use crate::train::TrainConfig;

/// What [`resolve`] needs to know of the data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataShape {
    /// Features per example, `n_0`.
    pub features: usize,
    /// Outputs per example, `n_L`: classes or target columns.
    pub outputs: usize,
    /// Classification or regression.
    pub task: Task,
    /// `(height, width)` when the examples are images (IDX, MNIST): they get Nielsen's
    /// sigmoid output and quadratic cost by default, and can be shifted for augmentation.
    pub images: Option<(usize, usize)>,
    /// Whether the data is the embedded MNIST subset (Nielsen's initialisation by default).
    pub embedded: bool,
}

/// A spec with every default filled in: what to build and how to train it.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolved {
    /// The spec, every setting given (the preset expanded): stored with the model.
    pub spec: TrainSpec,
    /// The network to build (or the one continued).
    pub architecture: Architecture,
    /// Its initialisation.
    pub init: Init,
    /// How to train it.
    pub config: TrainConfig,
    /// Classification or regression.
    pub task: Task,
    /// f32 or f64.
    pub precision: Precision,
    /// Threads for the large products.
    pub threads: usize,
    /// Whether to standardise the features.
    pub scaling: bool,
    /// Whether to standardise the regression targets.
    pub target_scaling: bool,
}

/// `--batch-size` when not given: Nielsen's m = 10.
const DEFAULT_BATCH_SIZE: usize = 10;
/// Epochs when not given: Nielsen's 30.
const DEFAULT_EPOCHS: usize = 30;
/// Hidden sizes when not given: Nielsen's one layer of 30.
const DEFAULT_HIDDEN: usize = 30;

/// The output activation a task gets when none is given: identity for regression; for
/// classification softmax, except Nielsen's sigmoid for images with the quadratic cost.
/// One rule for `nabla init` and `nabla train`.
pub fn default_output(task: Task, cost: Cost, images: bool) -> Activation {
    match task {
        Task::Regression => Activation::Identity,
        Task::Classification if images && cost == Cost::Quadratic => Activation::Sigmoid,
        Task::Classification => Activation::Softmax,
    }
}

/// The cost a task gets when none is given: quadratic for regression and for images
/// (Nielsen's chapter 1), cross-entropy for other classification.
fn default_cost(task: Task, images: bool) -> Cost {
    match task {
        Task::Classification if !images => Cost::CrossEntropy,
        _ => Cost::Quadratic,
    }
}

/// Plain SGD's learning rate for this kind of run when none is given: 0.5 for CSV
/// classification, 0.05 for regression, and for images with the quadratic cost Nielsen's
/// 3.0 for his `[784, 30, 10]` sigmoid network. Wider layers add up more inputs into each
/// z, so the rate comes down with the widest hidden layer w: `3.0 · √(30 / w)` for w > 30
/// (sigmoid, tanh), and `0.5 · min(1, 100 / w)` for ReLU, where 3.0 would blow up.
fn default_learning_rate(task: Task, arch: &Architecture, images: bool) -> f64 {
    let widest = arch.sizes[1..arch.sizes.len() - 1]
        .iter()
        .copied()
        .max()
        .unwrap_or(DEFAULT_HIDDEN) as f64;
    match task {
        Task::Regression => 0.05,
        Task::Classification if images && arch.cost == Cost::Quadratic => {
            if relu_like(arch.hidden) {
                0.5 * (100.0 / widest).min(1.0)
            } else {
                3.0 * (30.0 / widest).sqrt().min(1.0)
            }
        }
        Task::Classification => 0.5,
    }
}

fn relu_like(g: Activation) -> bool {
    matches!(g, Activation::Relu | Activation::LeakyRelu)
}

/// The initialisation when none is given: He for ReLU layers; on the embedded MNIST
/// subset, Nielsen's for his shape (one sigmoid layer of up to 100) and Xavier for wider or
/// deeper networks (whose sigmoid outputs saturate with Nielsen's N(0, 1) biases);
/// Xavier for regression (N(0, 1) biases leave ReLU units dead on some seeds);
/// otherwise [`Init::default`].
fn default_init(arch: &Architecture, task: Task, embedded: bool) -> Init {
    let hidden = &arch.sizes[1..arch.sizes.len() - 1];
    if task == Task::Regression {
        Init::Xavier
    } else if relu_like(arch.hidden) && embedded {
        Init::He
    } else if embedded && (hidden.len() > 1 || hidden.iter().any(|&n| n > 100)) {
        Init::Xavier
    } else if embedded {
        Init::Nielsen
    } else {
        Init::default()
    }
}

/// Resolves `spec` (its preset expanded) for data of `shape`. With `continued`, the
/// architecture of a model being trained further (`from`), which wins over the spec's.
///
/// # Errors
/// [`Error::InvalidConfig`] naming the setting: out of range ([`TrainSpec::check`]), not
/// applying to the optimizer or schedule chosen, layer sizes that do not fit the data
/// (naming the preset when they are its), augmentation without images, dropout without
/// a hidden layer.
pub fn resolve(
    spec: &TrainSpec,
    shape: &DataShape,
    continued: Option<&Architecture>,
) -> Result<Resolved> {
    spec.check()?;
    let given = spec.expanded();
    given.check()?;
    let architecture = match continued {
        Some(arch) => arch.clone(),
        None => architecture(spec, &given, shape)?,
    };
    let images = shape.images.is_some();
    let default_lr = default_learning_rate(shape.task, &architecture, images);
    let mut config = train_config(&given, default_lr)?;
    if let Some(max) = given.augment_shift {
        let Some((height, width)) = shape.images else {
            return Err(Error::config(
                Setting::AugmentShift,
                "shifting needs image data (an IDX file or the embedded MNIST subset)",
            ));
        };
        config.augment_shift = Some(crate::augment::Shift { width, height, max });
    }
    config.validate()?;
    if config.dropout > 0.0 && architecture.sizes.len() < 3 {
        return Err(Error::config(
            Setting::Dropout,
            "the network has no hidden layer to drop neurons from",
        ));
    }
    let init = given
        .init
        .unwrap_or_else(|| default_init(&architecture, shape.task, shape.embedded));
    let precision = given.precision.unwrap_or_default();
    let threads = given.threads.unwrap_or_else(crate::parallel::available);
    let scaling = given.scaling.unwrap_or(true);
    let target_scaling = shape.task == Task::Regression && given.target_scaling.unwrap_or(true);
    let filled = filled_spec(&given, &architecture, &config, init, shape.task, precision);
    Ok(Resolved {
        spec: TrainSpec {
            threads: Some(threads),
            scaling: Some(scaling),
            target_scaling: (shape.task == Task::Regression).then_some(target_scaling),
            ..filled
        },
        architecture,
        init,
        config,
        task: shape.task,
        precision,
        threads,
        scaling,
        target_scaling,
    })
}

/// The network the spec asks for, for data of `shape`. `spec` is the spec as given (to
/// tell sizes of the preset from the user's), `given` its expansion.
fn architecture(spec: &TrainSpec, given: &TrainSpec, shape: &DataShape) -> Result<Architecture> {
    let sizes = match (&given.layers, &given.hidden) {
        (Some(layers), _) => {
            check_layers(layers, shape).map_err(|e| match (spec.sizes_from_preset(), e) {
                // The sizes are the preset's, which the user never typed.
                (true, Error::InvalidConfig { setting, message }) => Error::InvalidConfig {
                    setting,
                    message: format!(
                        "{message} ({} {} is made for MNIST: 784 inputs, 10 classes; give {} for other data)",
                        Setting::Preset.mention(),
                        spec.preset.expect("sizes from a preset"),
                        Setting::Hidden.mention()
                    ),
                },
                (_, e) => e,
            })?;
            layers.clone()
        }
        (None, hidden) => [
            vec![shape.features],
            hidden.clone().unwrap_or_else(|| vec![DEFAULT_HIDDEN]),
            vec![shape.outputs],
        ]
        .concat(),
    };
    let images = shape.images.is_some();
    let cost = given.cost.unwrap_or(default_cost(shape.task, images));
    let output = given
        .output
        .unwrap_or_else(|| default_output(shape.task, cost, images));
    Architecture::new(
        &sizes,
        given.activation.unwrap_or(Activation::Sigmoid),
        output,
        cost,
    )
}

fn check_layers(layers: &[usize], shape: &DataShape) -> Result<()> {
    let bad = |message: String| Err(Error::config(Setting::Layers, message));
    if layers.len() < 2 {
        return bad("need at least an input and an output size".into());
    }
    if layers[0] != shape.features {
        return bad(format!(
            "n_0 = {} but the data has {} features",
            layers[0], shape.features
        ));
    }
    let last = layers[layers.len() - 1];
    if last != shape.outputs {
        let what = match shape.task {
            Task::Classification => "classes",
            Task::Regression => "target columns",
        };
        return bad(format!(
            "n_L = {last} but the data has {} {what}",
            shape.outputs
        ));
    }
    Ok(())
}

/// The optimizer the spec names, with its settings; an error for a setting of another
/// optimizer.
fn optimizer(given: &TrainSpec) -> Result<OptimizerKind> {
    let mut optimizer = match (given.optimizer, given.momentum) {
        (Some(o), _) => o,
        (None, Some(_)) => "momentum".parse()?,
        (None, None) => OptimizerKind::Sgd,
    };
    match &mut optimizer {
        OptimizerKind::Momentum { mu, nesterov } => {
            *mu = given.momentum.unwrap_or(*mu);
            // `optimizer = nesterov` is Nesterov's form already; `nesterov` asks for it.
            *nesterov |= given.nesterov == Some(true);
        }
        OptimizerKind::RmsProp { alpha, eps } => {
            *alpha = given.alpha.unwrap_or(*alpha);
            *eps = given.eps.unwrap_or(*eps);
        }
        OptimizerKind::Adam { beta1, beta2, eps } => {
            *beta1 = given.beta1.unwrap_or(*beta1);
            *beta2 = given.beta2.unwrap_or(*beta2);
            *eps = given.eps.unwrap_or(*eps);
        }
        OptimizerKind::AdamW {
            beta1,
            beta2,
            eps,
            weight_decay,
        } => {
            *beta1 = given.beta1.unwrap_or(*beta1);
            *beta2 = given.beta2.unwrap_or(*beta2);
            *eps = given.eps.unwrap_or(*eps);
            *weight_decay = given.weight_decay.unwrap_or(*weight_decay);
        }
        OptimizerKind::Lbfgs { history } => *history = given.history.unwrap_or(*history),
        OptimizerKind::Sgd | OptimizerKind::Rprop => {}
    }
    let is = |applies: bool, setting: Setting, present: bool| {
        if present && !applies {
            return Err(Error::config(
                setting,
                format!(
                    "does not apply to {} {optimizer}",
                    Setting::Optimizer.mention()
                ),
            ));
        }
        Ok(())
    };
    use OptimizerKind as O;
    let momentum = matches!(optimizer, O::Momentum { .. });
    is(momentum, Setting::Momentum, given.momentum.is_some())?;
    is(momentum, Setting::Nesterov, given.nesterov == Some(true))?;
    let adam = matches!(optimizer, O::Adam { .. } | O::AdamW { .. });
    is(adam, Setting::Beta1, given.beta1.is_some())?;
    is(adam, Setting::Beta2, given.beta2.is_some())?;
    let adamw = matches!(optimizer, O::AdamW { .. });
    is(adamw, Setting::WeightDecay, given.weight_decay.is_some())?;
    let rmsprop = matches!(optimizer, O::RmsProp { .. });
    is(rmsprop, Setting::Alpha, given.alpha.is_some())?;
    let lbfgs = matches!(optimizer, O::Lbfgs { .. });
    is(lbfgs, Setting::History, given.history.is_some())?;
    let eps = adam || rmsprop;
    is(eps, Setting::Eps, given.eps.is_some())?;
    is(
        !optimizer.full_batch(),
        Setting::BatchSize,
        given.batch_size.is_some(),
    )?;
    Ok(optimizer)
}

/// The schedule the spec names, with its settings; an error for a setting of another
/// schedule (it would be silently ignored).
fn schedule(given: &TrainSpec) -> Result<Schedule> {
    let mut schedule = given.schedule.unwrap_or_default();
    match &mut schedule {
        Schedule::Step { step, gamma } => {
            *step = given.step_size.unwrap_or(*step);
            *gamma = given.gamma.unwrap_or(*gamma);
        }
        Schedule::Exponential { gamma } => *gamma = given.gamma.unwrap_or(*gamma),
        Schedule::Cosine { warmup, eta_min } => {
            *warmup = given.warmup.unwrap_or(*warmup);
            *eta_min = given.eta_min.unwrap_or(*eta_min);
        }
        Schedule::InvScaling { power } => *power = given.power_t.unwrap_or(*power),
        Schedule::Plateau {
            factor, patience, ..
        } => {
            *factor = given.factor.unwrap_or(*factor);
            *patience = given.plateau_patience.unwrap_or(*patience);
        }
        Schedule::Constant => {}
    }
    let is = |applies: bool, setting: Setting, present: bool| {
        if present && !applies {
            return Err(Error::config(
                setting,
                format!(
                    "does not apply to {} {schedule}",
                    Setting::Schedule.mention()
                ),
            ));
        }
        Ok(())
    };
    use Schedule as S;
    let gamma = matches!(schedule, S::Step { .. } | S::Exponential { .. });
    is(gamma, Setting::Gamma, given.gamma.is_some())?;
    let step = matches!(schedule, S::Step { .. });
    is(step, Setting::StepSize, given.step_size.is_some())?;
    let cosine = matches!(schedule, S::Cosine { .. });
    is(cosine, Setting::Warmup, given.warmup.is_some())?;
    is(cosine, Setting::EtaMin, given.eta_min.is_some())?;
    let inv = matches!(schedule, S::InvScaling { .. });
    is(inv, Setting::PowerT, given.power_t.is_some())?;
    let plateau = matches!(schedule, S::Plateau { .. });
    is(plateau, Setting::Factor, given.factor.is_some())?;
    is(
        plateau,
        Setting::PlateauPatience,
        given.plateau_patience.is_some(),
    )?;
    Ok(schedule)
}

/// The library's training configuration. `default_lr` is plain SGD's η for this data.
fn train_config(given: &TrainSpec, default_lr: f64) -> Result<TrainConfig> {
    let optimizer = optimizer(given)?;
    let schedule = schedule(given)?;
    // With momentum μ, steps add up to η/(1 − μ) along a steady gradient: the default η is
    // plain SGD's times (1 − μ), the same effective rate (0.05 for μ = 0.9 on CSV
    // classification, where 0.5 would diverge).
    let momentum_factor = match optimizer {
        OptimizerKind::Momentum { mu, .. } => 1.0 - mu,
        _ => 1.0,
    };
    let learning_rate = given
        .lr
        .or(optimizer.default_learning_rate())
        .unwrap_or((default_lr * momentum_factor * 1e12).round() / 1e12);
    Ok(TrainConfig {
        epochs: given.epochs.unwrap_or(DEFAULT_EPOCHS),
        batch_size: given.batch_size.unwrap_or(DEFAULT_BATCH_SIZE),
        learning_rate,
        seed: given.seed.unwrap_or(1),
        shuffle: given.shuffle.unwrap_or(true),
        optimizer,
        schedule,
        l2: given.l2.unwrap_or(0.0),
        l1: given.l1.unwrap_or(0.0),
        dropout: given.dropout.unwrap_or(0.0),
        clip_norm: given.clip_norm,
        validation: given.validation.unwrap_or(0.0),
        patience: given.patience,
        augment_shift: None,
        evaluate_train: true,
        target_scaling: None,
    })
}

/// The spec with every default written out, as the model's training record stores it.
fn filled_spec(
    given: &TrainSpec,
    arch: &Architecture,
    config: &TrainConfig,
    init: Init,
    task: Task,
    precision: Precision,
) -> TrainSpec {
    let optimizer = config.optimizer;
    let mut spec = TrainSpec {
        layers: Some(arch.sizes.clone()),
        hidden: None,
        activation: Some(arch.hidden),
        output: Some(arch.output),
        cost: Some(arch.cost),
        init: Some(init),
        task: Some(task),
        optimizer: Some(optimizer),
        lr: Some(config.learning_rate),
        batch_size: (!optimizer.full_batch()).then_some(config.batch_size),
        epochs: Some(config.epochs),
        seed: Some(config.seed),
        shuffle: Some(config.shuffle),
        schedule: Some(config.schedule),
        l2: Some(config.l2),
        l1: Some(config.l1),
        dropout: Some(config.dropout),
        validation: Some(config.validation),
        precision: Some(precision),
        preset: None,
        ..given.clone()
    };
    for (setting, value) in optimizer.settings() {
        match setting {
            Setting::Momentum => spec.momentum = Some(value),
            Setting::Alpha => spec.alpha = Some(value),
            Setting::Eps => spec.eps = Some(value),
            Setting::Beta1 => spec.beta1 = Some(value),
            Setting::Beta2 => spec.beta2 = Some(value),
            Setting::WeightDecay => spec.weight_decay = Some(value),
            Setting::History => spec.history = Some(value as usize),
            _ => {}
        }
    }
    match config.schedule {
        Schedule::Step { step, gamma } => (spec.step_size, spec.gamma) = (Some(step), Some(gamma)),
        Schedule::Exponential { gamma } => spec.gamma = Some(gamma),
        Schedule::Cosine { warmup, eta_min } => {
            (spec.warmup, spec.eta_min) = (Some(warmup), Some(eta_min))
        }
        Schedule::InvScaling { power } => spec.power_t = Some(power),
        Schedule::Plateau {
            factor, patience, ..
        } => (spec.factor, spec.plateau_patience) = (Some(factor), Some(patience)),
        Schedule::Constant => {}
    }
    spec
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(task: Task) -> DataShape {
        DataShape {
            features: 4,
            outputs: 3,
            task,
            images: None,
            embedded: false,
        }
    }

    #[test]
    fn defaults_follow_the_task() {
        let r = resolve(&TrainSpec::default(), &csv(Task::Classification), None).unwrap();
        assert_eq!(r.architecture.sizes, vec![4, 30, 3]);
        assert_eq!(r.architecture.output, Activation::Softmax);
        assert_eq!(r.architecture.cost, Cost::CrossEntropy);
        assert_eq!(r.config.learning_rate, 0.5);
        let r = resolve(&TrainSpec::default(), &csv(Task::Regression), None).unwrap();
        assert_eq!(r.architecture.output, Activation::Identity);
        assert_eq!(r.config.learning_rate, 0.05);
        let momentum = TrainSpec {
            momentum: Some(0.9),
            ..TrainSpec::default()
        };
        let r = resolve(&momentum, &csv(Task::Classification), None).unwrap();
        assert_eq!(r.config.learning_rate, 0.05, "0.5 × (1 − 0.9)");
    }

    #[test]
    fn a_resolved_spec_resolves_to_itself() {
        let spec = TrainSpec {
            hidden: Some(vec![5]),
            optimizer: Some("adam".parse().unwrap()),
            schedule: Some("step".parse().unwrap()),
            ..TrainSpec::default()
        };
        let once = resolve(&spec, &csv(Task::Classification), None).unwrap();
        let twice = resolve(&once.spec, &csv(Task::Classification), None).unwrap();
        assert_eq!(once, twice);
    }

    #[test]
    fn settings_of_another_optimizer_or_schedule_are_errors() {
        let spec = TrainSpec {
            optimizer: Some("adam".parse().unwrap()),
            momentum: Some(0.5),
            ..TrainSpec::default()
        };
        let e = resolve(&spec, &csv(Task::Classification), None).unwrap_err();
        assert_eq!(e.setting(), Some(Setting::Momentum));
        assert_eq!(
            e.to_string(),
            "invalid momentum: does not apply to optimizer adam"
        );
        let spec = TrainSpec {
            gamma: Some(0.5),
            ..TrainSpec::default()
        };
        let e = resolve(&spec, &csv(Task::Classification), None).unwrap_err();
        assert_eq!(e.setting(), Some(Setting::Gamma));
    }
}
