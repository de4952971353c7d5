//! Mini-batch gradient descent: shuffle the examples each epoch from a seeded stream, cut
//! them into mini-batches of m, and after each one run FF, BP1–BP4 and an optimizer step,
//! with the learning rate from a schedule, optional regularisation, dropout, gradient
//! clipping and early stopping on a held-out validation set.
//!
//! The library prints nothing: progress reaches the caller as [`TrainEvent`]s.
//!
//! Regularisation follows Nielsen's network2.py: with n training examples, L2 adds
//! `(λ/2n) Σ w²` to C (so plain GD becomes `w ← (1 − ηλ/n) w − η ∂C₀/∂w`), L1 adds
//! `(λ₁/n) Σ |w|`; biases are not regularised.

use std::ops::ControlFlow;
use std::time::Instant;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::data::Scaling;
use crate::data::{gather_rows_into, Dataset};
use crate::error::{Error, Result};
use crate::matrix::{Matrix, Scalar};
use crate::metrics::{evaluate_in_units, Evaluation};
use crate::network::{Gradients, Network, Pass};
use crate::optimizer::{Optimizer, OptimizerKind};
use crate::schedule::{Schedule, Scheduler, SchedulerState};
use crate::setting::Setting;

/// How to train.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainConfig {
    /// Passes over the training data.
    pub epochs: usize,
    /// Mini-batch size m (1 = online learning, n = full batch).
    pub batch_size: usize,
    /// Base learning rate η₀.
    pub learning_rate: f64,
    /// Seed of the shuffling, dropout and validation-split streams.
    pub seed: u64,
    /// Shuffle the examples at the start of every epoch.
    pub shuffle: bool,
    /// The update rule.
    pub optimizer: OptimizerKind,
    /// How η changes from epoch to epoch.
    pub schedule: Schedule,
    /// L2 strength λ (network2's `lmbda`): adds `(λ/2n) Σ w²` to C.
    pub l2: f64,
    /// L1 strength λ₁: adds `(λ₁/n) Σ |w|` to C.
    pub l1: f64,
    /// Dropout probability p of each hidden neuron during training (0 = off).
    pub dropout: f64,
    /// Rescale the whole gradient when its Euclidean norm exceeds this.
    pub clip_norm: Option<f64>,
    /// Fraction of the training data held out for validation (stratified by class).
    pub validation: f64,
    /// Stop after this many epochs without a better validation cost, and restore the best weights.
    pub patience: Option<usize>,
    /// Move each training image by a random number of pixels each time it is drawn.
    pub augment_shift: Option<crate::augment::Shift>,
    /// Compute the cost over the whole training set after each epoch (not timed).
    pub evaluate_train: bool,
    /// The standardisation of the regression targets the network learns (`y' = (y −
    /// offset) · factor`): RMSE, MAE and R² are reported in the targets' own units. The
    /// data's targets are the scaled ones.
    #[serde(skip)]
    pub target_scaling: Option<Scaling>,
}

impl Default for TrainConfig {
    /// Nielsen's chapter 1: 30 epochs, m = 10, η = 3.0, plain SGD.
    fn default() -> Self {
        TrainConfig {
            epochs: 30,
            batch_size: 10,
            learning_rate: 3.0,
            seed: 1,
            shuffle: true,
            optimizer: OptimizerKind::Sgd,
            schedule: Schedule::Constant,
            l2: 0.0,
            l1: 0.0,
            dropout: 0.0,
            clip_norm: None,
            validation: 0.0,
            patience: None,
            augment_shift: None,
            evaluate_train: true,
            target_scaling: None,
        }
    }
}

impl TrainConfig {
    /// Checks the ranges of every setting.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the flag.
    pub fn validate(&self) -> Result<()> {
        if self.epochs == 0 {
            return Err(Error::config(Setting::Epochs, "must be at least 1"));
        }
        if self.batch_size == 0 {
            return Err(Error::config(Setting::BatchSize, "must be at least 1"));
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(Error::config(
                Setting::LearningRate,
                format!("must be a positive number, got {}", self.learning_rate),
            ));
        }
        if let OptimizerKind::Momentum { mu, .. } = self.optimizer {
            if !(0.0..1.0).contains(&mu) {
                return Err(Error::config(
                    Setting::Momentum,
                    format!("must be in [0, 1), got {mu}"),
                ));
            }
        }
        for (flag, v) in [(Setting::L2, self.l2), (Setting::L1, self.l1)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::config(
                    flag,
                    format!("must be a number >= 0, got {v}"),
                ));
            }
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(Error::config(
                Setting::Dropout,
                format!("must be in [0, 1), got {}", self.dropout),
            ));
        }
        if let Some(c) = self.clip_norm {
            if !(c.is_finite() && c > 0.0) {
                return Err(Error::config(
                    Setting::ClipNorm,
                    format!("must be a positive number, got {c}"),
                ));
            }
        }
        if !(0.0..1.0).contains(&self.validation) {
            return Err(Error::config(
                Setting::Validation,
                format!("must be a fraction in [0, 1), got {}", self.validation),
            ));
        }
        if self.patience.is_some() && self.validation == 0.0 {
            return Err(Error::config(
                Setting::Patience,
                format!(
                    "early stopping needs a validation set: add {}, e.g. 0.1",
                    Setting::Validation.mention()
                ),
            ));
        }
        if self.patience == Some(0) {
            return Err(Error::config(Setting::Patience, "must be at least 1"));
        }
        self.validate_optimizer()?;
        if let Schedule::Cosine { eta_min, .. } = self.schedule {
            if eta_min > self.learning_rate {
                return Err(Error::config(
                    Setting::EtaMin,
                    format!(
                        "must not exceed the learning rate {} (cosine anneals from it down to eta_min), got {eta_min}",
                        self.learning_rate
                    ),
                ));
            }
        }
        self.schedule.validate()
    }

    /// The optimizer's own settings: decay rates in [0, 1), ε positive, weight decay ≥ 0.
    fn validate_optimizer(&self) -> Result<()> {
        let unit = |flag: Setting, v: f64| {
            if (0.0..1.0).contains(&v) {
                Ok(())
            } else {
                Err(Error::config(flag, format!("must be in [0, 1), got {v}")))
            }
        };
        let positive = |flag: Setting, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(Error::config(
                    flag,
                    format!("must be a positive number, got {v}"),
                ))
            }
        };
        match self.optimizer {
            OptimizerKind::RmsProp { alpha, eps } => {
                unit(Setting::Alpha, alpha)?;
                positive(Setting::Eps, eps)
            }
            OptimizerKind::Adam { beta1, beta2, eps } => {
                unit(Setting::Beta1, beta1)?;
                unit(Setting::Beta2, beta2)?;
                positive(Setting::Eps, eps)
            }
            OptimizerKind::AdamW {
                beta1,
                beta2,
                eps,
                weight_decay,
            } => {
                unit(Setting::Beta1, beta1)?;
                unit(Setting::Beta2, beta2)?;
                positive(Setting::Eps, eps)?;
                if weight_decay.is_finite() && weight_decay >= 0.0 {
                    Ok(())
                } else {
                    Err(Error::config(
                        Setting::WeightDecay,
                        format!("must be a number >= 0, got {weight_decay}"),
                    ))
                }
            }
            _ => Ok(()),
        }
    }
}

/// What happened in one epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochReport {
    /// 1-based epoch number.
    pub epoch: usize,
    /// η used in this epoch.
    pub learning_rate: f64,
    /// C₀, the mean cost over the training set after the epoch (without regularisation).
    pub train_cost: Option<f64>,
    /// The regularisation term added to C₀ in the objective (0 without L1/L2).
    pub regularization: f64,
    /// The evaluation on the validation set after the epoch.
    pub validation: Option<Evaluation>,
    /// The evaluation on the test set after the epoch.
    pub test: Option<Evaluation>,
    /// Seconds of the training pass alone (evaluation excluded).
    #[serde(default)]
    pub seconds: f64,
}

/// Where a run stands after its last epoch: with the optimizer's
/// [`Optimizer::state`], what [`train_from`] needs to go on as if the run had not stopped.
/// A model file stores it (metadata `resume`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunState {
    /// Epochs done, over every run continued.
    pub epochs: usize,
    /// The seed of the streams.
    pub seed: u64,
    /// Training examples (after the validation split): a run continued on other data, or
    /// with another seed, starts its streams afresh.
    pub examples: usize,
    /// Shuffles of the examples done (the order is replayed from the seed).
    pub shuffles: usize,
    /// Position of the dropout stream, in 32-bit words.
    pub dropout_words: u64,
    /// Position of the augmentation stream, in 32-bit words.
    pub augment_words: u64,
    /// The schedule's own state (the plateau schedule's).
    pub scheduler: Option<SchedulerState>,
}

/// Something that went wrong in a run that still finished: a front end shows each once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Warning {
    /// What went wrong.
    pub kind: WarningKind,
    /// What to tell the user (settings named by [`Setting::mention`]).
    pub message: String,
    /// For a divergence: the epoch and what happened, to say it again with more context.
    #[serde(skip)]
    pub(crate) diverged: Option<(usize, String)>,
}

/// The kinds of [`Warning`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WarningKind {
    /// A weight or the cost became NaN or infinite, or the cost grew by orders of
    /// magnitude: training stopped with the weights of the epoch before.
    Diverged,
    /// The training cost hardly moved over the run.
    CostFlat,
    /// Accuracy no better than always answering the most common class.
    ChanceAccuracy,
    /// Every example was given the same class.
    SingleClass,
}

impl Warning {
    /// The warning that training diverged in `epoch` (`why`), naming η: as given, or as
    /// the default when `lr_given` is false.
    pub fn diverged(epoch: usize, why: &str, eta: f64, lr_given: bool) -> Warning {
        let kept = if epoch > 1 {
            format!("the weights of epoch {}", epoch - 1)
        } else {
            "the initial weights".to_string()
        };
        let lr = Setting::LearningRate.mention();
        let number = |v: f64| {
            if v != 0.0 && !(1e-4..1e6).contains(&v.abs()) {
                format!("{v:e}")
            } else {
                v.to_string()
            }
        };
        let (eta, smaller) = (number(eta), number(eta / 10.0));
        let advice = if lr_given {
            format!("lower {lr} ({eta} given), e.g. to {smaller}")
        } else {
            format!("the learning rate (default {eta}) is too large here: give a smaller one, e.g. {lr} {smaller}")
        };
        Warning {
            kind: WarningKind::Diverged,
            message: format!(
                "training diverged in epoch {epoch} ({why}) and stopped; the model holds {kept}; {advice}"
            ),
            diverged: Some((epoch, why.to_string())),
        }
    }

    /// A warning of `kind` saying `message`.
    pub fn new(kind: WarningKind, message: String) -> Warning {
        Warning {
            kind,
            message,
            diverged: None,
        }
    }
}

/// How many times the lowest training cost so far a cost may reach before the run counts
/// as diverging ("growing by orders of magnitude").
pub const DIVERGENCE_FACTOR: f64 = 1e3;

/// The result of [`train`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Training {
    /// One report per epoch that ran.
    pub history: Vec<EpochReport>,
    /// With early stopping: the epoch whose weights the network now holds.
    pub best_epoch: Option<usize>,
    /// Whether early stopping ended training before the last epoch.
    pub stopped_early: bool,
    /// Size of the validation set held out of the training data (0 without).
    pub validation_size: usize,
    /// Where the run stands at its end (the last epoch's, even after early stopping).
    #[serde(default)]
    pub state: RunState,
    /// What went wrong (a diverging run stops early with a warning rather than an error).
    #[serde(default)]
    pub warnings: Vec<Warning>,
}

/// Progress during [`train`].
#[derive(Debug)]
pub enum TrainEvent<'a> {
    /// A mini-batch is done: `done` of `total` in this epoch.
    Batch {
        /// 1-based epoch number.
        epoch: usize,
        /// Mini-batches done in this epoch.
        done: usize,
        /// Mini-batches per epoch.
        total: usize,
        /// The mean cost `c_x` of this mini-batch before its step (without regularisation
        /// or dropout's rescaling: the cost the forward pass saw).
        cost: f64,
    },
    /// An epoch is done.
    Epoch(&'a EpochReport),
}

/// Trains `net` on `train` as `config` says, evaluating on `test` after each epoch.
/// `on_event` sees every [`TrainEvent`] and may stop training by returning
/// [`ControlFlow::Break`].
///
/// # Errors
/// When the configuration is invalid or the data does not fit the network.
///
/// # Example
/// ```
/// use nabla::{Activation, Architecture, Cost, Dataset, Init, Matrix, Network, TrainConfig};
/// let arch = Architecture::new(&[2, 3, 1], Activation::Sigmoid, Activation::Sigmoid, Cost::Quadratic)?;
/// let mut net: Network<f64> = Network::new(arch, Init::Nielsen, 3)?;
/// let x = Matrix::from_rows(&[vec![0.0, 0.0], vec![0.0, 1.0], vec![1.0, 0.0], vec![1.0, 1.0]])?;
/// let y = Matrix::from_rows(&[vec![0.0], vec![1.0], vec![1.0], vec![0.0]])?;
/// let xor = Dataset::new(x, y)?;
/// let config = TrainConfig { epochs: 5, batch_size: 4, learning_rate: 2.0, ..Default::default() };
/// let training = nabla::train(&mut net, &xor, None, &config, |_| std::ops::ControlFlow::Continue(()))?;
/// assert_eq!(training.history.len(), 5);
/// # Ok::<(), nabla::Error>(())
/// ```
pub fn train<T: Scalar>(
    net: &mut Network<T>,
    train: &Dataset<T>,
    test: Option<&Dataset<T>>,
    config: &TrainConfig,
    on_event: impl FnMut(TrainEvent<'_>) -> ControlFlow<()>,
) -> Result<Training> {
    config.validate()?;
    let mut optimizer = config.optimizer.build::<T>();
    train_with(net, optimizer.as_mut(), train, test, config, on_event)
}

/// [`train`] with an optimizer of the caller's (`config.optimizer` is then ignored).
///
/// # Errors
/// As [`train`].
pub fn train_with<T: Scalar>(
    net: &mut Network<T>,
    optimizer: &mut dyn Optimizer<T>,
    train: &Dataset<T>,
    test: Option<&Dataset<T>>,
    config: &TrainConfig,
    on_event: impl FnMut(TrainEvent<'_>) -> ControlFlow<()>,
) -> Result<Training> {
    let mut state = RunState::default();
    train_from(net, optimizer, train, test, config, &mut state, on_event)
}

/// [`train_with`] continuing a run that stands at `state` (with `optimizer` holding the
/// state it ended with, see [`Optimizer::set_state`]): `config.epochs` more epochs,
/// numbered on from `state.epochs`, with the schedule and the shuffling, dropout and
/// augmentation streams where they were. Ten epochs in one run and five plus five
/// continued give the same bits (except with the cosine schedule, which anneals over the
/// epochs of each run). `state` is left where the run ends.
///
/// # Errors
/// As [`train`].
pub fn train_from<T: Scalar>(
    net: &mut Network<T>,
    optimizer: &mut dyn Optimizer<T>,
    train: &Dataset<T>,
    test: Option<&Dataset<T>>,
    config: &TrainConfig,
    state: &mut RunState,
    on_event: impl FnMut(TrainEvent<'_>) -> ControlFlow<()>,
) -> Result<Training> {
    train_run(
        net,
        optimizer,
        train,
        test,
        config,
        state,
        on_event,
        |_: &EpochEnd<'_, T>| Ok(()),
    )
}

/// What [`train_run`]'s epoch hook sees: the network now, the optimizer, where the run
/// stands, and with early stopping the best network so far.
pub(crate) struct EpochEnd<'a, T: Scalar> {
    pub net: &'a Network<T>,
    pub optimizer: &'a dyn Optimizer<T>,
    pub state: &'a RunState,
    pub best: Option<&'a Network<T>>,
}

/// [`train_from`] calling `at_epoch_end` after each epoch (for checkpoints).
#[allow(clippy::too_many_arguments)]
pub(crate) fn train_run<T: Scalar>(
    net: &mut Network<T>,
    optimizer: &mut dyn Optimizer<T>,
    train: &Dataset<T>,
    test: Option<&Dataset<T>>,
    config: &TrainConfig,
    state: &mut RunState,
    mut on_event: impl FnMut(TrainEvent<'_>) -> ControlFlow<()>,
    mut at_epoch_end: impl FnMut(&EpochEnd<'_, T>) -> Result<()>,
) -> Result<Training> {
    config.validate()?;
    train.check()?;
    if let Some(test) = test {
        test.check()?;
    }
    net.check_parameters()?;
    net.check_batch(&train.x, Some(&train.y))?;
    if let Some(test) = test {
        net.check_batch(&test.x, Some(&test.y))?;
    }
    // Held-out validation examples (stratified), from their own stream.
    let (train_owned, validation) = if config.validation > 0.0 {
        let (t, v) = split_validation(train, config.validation, config.seed)?;
        (Some(t), Some(v))
    } else {
        (None, None)
    };
    let train = train_owned.as_ref().unwrap_or(train);
    let n = train.len();
    let m = if config.optimizer.full_batch() {
        n
    } else {
        config.batch_size.min(n)
    };
    let batches = n.div_ceil(m);
    // Separate streams: shuffling (1), dropout (2), validation split (3), augmentation (4); stream 0 of the
    // same seed draws the initial weights in `Init::draw`.
    let mut shuffle_rng = ChaCha8Rng::seed_from_u64(config.seed);
    shuffle_rng.set_stream(1);
    let mut dropout_rng = ChaCha8Rng::seed_from_u64(config.seed);
    dropout_rng.set_stream(2);
    let mut augment_rng = ChaCha8Rng::seed_from_u64(config.seed);
    augment_rng.set_stream(4);
    let mut augment_scratch = Vec::new();
    if let Some(shift) = &config.augment_shift {
        shift.validate(train.features())?;
    }
    let mut order: Vec<usize> = (0..n).collect();
    // A continued run: the streams where they stood (the order replayed shuffle by
    // shuffle), unless the data or the seed changed.
    if state.seed != config.seed || state.examples != n {
        *state = RunState {
            epochs: state.epochs,
            seed: config.seed,
            examples: n,
            scheduler: state.scheduler.take(),
            ..RunState::default()
        };
    }
    for _ in 0..state.shuffles {
        order.shuffle(&mut shuffle_rng);
    }
    dropout_rng.set_word_pos(u128::from(state.dropout_words));
    augment_rng.set_word_pos(u128::from(state.augment_words));
    let first_epoch = state.epochs + 1;
    let last_epoch = state.epochs + config.epochs;
    // Allocated once; the loop below allocates nothing.
    let mut pass = Pass::new(net.sizes(), m);
    let mut grads = Gradients::zeros(net.sizes());
    let mut y_batch = Matrix::zeros(m, train.outputs());
    let mut scheduler = Scheduler::new(config.schedule, config.learning_rate, last_epoch);
    if let Some(saved) = &state.scheduler {
        scheduler.restore(saved);
    }
    let (l2, l1) = (T::c(config.l2 / n as f64), T::c(config.l1 / n as f64));
    let dropout = T::c(config.dropout);
    let mut history = Vec::with_capacity(config.epochs);
    let mut best: Option<(f64, usize, Network<T>)> = None;
    let mut stopped_early = false;
    let mut warnings = Vec::new();
    // The parameters at the start of the epoch, to go back to when it diverges.
    let mut last_good = net.clone();
    let mut lowest_cost = f64::INFINITY;
    let initial_size = parameter_rms(net);

    'epochs: for epoch in first_epoch..=last_epoch {
        let eta_f64 = scheduler.eta(epoch, (epoch - 1) * n);
        let eta = T::c(eta_f64);
        let started = Instant::now();
        copy_parameters(net, &mut last_good);
        if config.shuffle {
            order.shuffle(&mut shuffle_rng);
            state.shuffles += 1;
        }
        let mut interrupted = false;
        for (done, indices) in order.chunks(m).enumerate() {
            pass.set_batch_size(indices.len());
            y_batch.set_rows(indices.len());
            gather_rows_into(&train.x, indices, &mut pass.a[0]);
            gather_rows_into(&train.y, indices, &mut y_batch);
            if let Some(shift) = &config.augment_shift {
                shift.apply(&mut pass.a[0], &mut augment_scratch, &mut augment_rng);
            }
            if dropout > T::zero() {
                net.forward_pass_dropout(&mut pass, dropout, &mut dropout_rng);
                net.backward_pass_dropout(&y_batch, &mut pass, &mut grads);
            } else {
                net.forward_pass(&mut pass);
                net.backward_pass(&y_batch, &mut pass, &mut grads);
            }
            let cost = batch_cost(net, &pass, &y_batch);
            add_penalty_gradients(net, &mut grads, l2, l1);
            if let Some(max_norm) = config.clip_norm {
                clip_to_norm(&mut grads, T::c(max_norm));
            }
            optimizer.step(net, &grads, eta);
            if on_event(TrainEvent::Batch {
                epoch,
                done: done + 1,
                total: batches,
                cost,
            })
            .is_break()
            {
                interrupted = true;
                break;
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        state.dropout_words = u64::try_from(dropout_rng.get_word_pos()).unwrap_or(u64::MAX);
        state.augment_words = u64::try_from(augment_rng.get_word_pos()).unwrap_or(u64::MAX);
        let train_cost = if net.check_parameters().is_err() {
            Some(f64::NAN)
        } else if config.evaluate_train {
            Some(evaluate_in_units(net, train, config.target_scaling.as_ref())?.cost)
        } else {
            None
        };
        let size = parameter_rms(net);
        let why = match train_cost {
            Some(c) if !c.is_finite() => {
                Some("a weight or the cost became NaN or infinite".to_string())
            }
            _ if initial_size > 1e-6 && size > DIVERGENCE_FACTOR * initial_size => Some(format!(
                "the weights grew {:.0} times larger",
                size / initial_size
            )),
            Some(c) if c > DIVERGENCE_FACTOR * lowest_cost => Some(format!(
                "the training cost grew from {} to {}",
                short(lowest_cost),
                short(c)
            )),
            _ => None,
        };
        if let Some(why) = why {
            copy_parameters(&last_good, net);
            warnings.push(Warning::diverged(epoch, &why, config.learning_rate, true));
            stopped_early = true;
            state.epochs = epoch;
            break 'epochs;
        }
        if let Some(c) = train_cost {
            lowest_cost = lowest_cost.min(c);
        }
        let units = config.target_scaling.as_ref();
        let validation_eval = validation
            .as_ref()
            .map(|v| evaluate_in_units(net, v, units))
            .transpose()?;
        let test_eval = test.map(|t| evaluate_in_units(net, t, units)).transpose()?;
        let report = EpochReport {
            epoch,
            learning_rate: eta_f64,
            train_cost,
            regularization: penalty(net, config.l2, config.l1, n),
            validation: validation_eval,
            test: test_eval,
            seconds,
        };
        let monitored = report
            .validation
            .as_ref()
            .map(|v| v.cost)
            .or(report.train_cost);
        if let Some(cost) = monitored {
            scheduler.observe(cost);
        }
        state.epochs = epoch;
        state.scheduler = Some(scheduler.state());
        let flow = on_event(TrainEvent::Epoch(&report));
        history.push(report);
        if let (Some(patience), Some(cost)) = (
            config.patience,
            history
                .last()
                .and_then(|r| r.validation.as_ref())
                .map(|v| v.cost),
        ) {
            if best
                .as_ref()
                .is_none_or(|(best_cost, ..)| cost < *best_cost)
            {
                best = Some((cost, epoch, net.clone()));
            } else if epoch - best.as_ref().map_or(0, |b| b.1) >= patience {
                stopped_early = epoch < last_epoch;
                at_epoch_end(&EpochEnd {
                    net,
                    optimizer,
                    state,
                    best: best.as_ref().map(|b| &b.2),
                })?;
                break 'epochs;
            }
        }
        at_epoch_end(&EpochEnd {
            net,
            optimizer,
            state,
            best: best.as_ref().map(|b| &b.2),
        })?;
        if flow.is_break() || interrupted {
            break;
        }
    }
    let best_epoch = best.map(|(_, epoch, best_net)| {
        *net = best_net;
        epoch
    });
    Ok(Training {
        history,
        best_epoch,
        stopped_early,
        validation_size: validation.as_ref().map_or(0, Dataset::len),
        state: state.clone(),
        warnings,
    })
}

/// Copies the weights and biases of `from` into `to` (same sizes), without allocating.
fn copy_parameters<T: Scalar>(from: &Network<T>, to: &mut Network<T>) {
    for (l, layer) in to.layers_mut().iter_mut().enumerate() {
        layer
            .w
            .as_mut_slice()
            .copy_from_slice(from.w(l + 1).as_slice());
        layer.b.copy_from_slice(from.b(l + 1));
    }
}

/// The root mean square of every weight and bias (a network's size, to see it blow up).
fn parameter_rms<T: Scalar>(net: &Network<T>) -> f64 {
    let (mut sum, mut count) = (0.0, 0usize);
    for l in 1..=net.last() {
        for v in net.w(l).as_slice().iter().chain(net.b(l)) {
            let v = v.to_f64().unwrap_or(f64::NAN);
            sum += v * v;
            count += 1;
        }
    }
    (sum / count.max(1) as f64).sqrt().max(f64::MIN_POSITIVE)
}

/// The mean cost `c_x` over the mini-batch in `pass` (after its forward pass).
fn batch_cost<T: Scalar>(net: &Network<T>, pass: &Pass<T>, y: &Matrix<T>) -> f64 {
    let last = net.last();
    let (z, a) = (&pass.z[last], &pass.a[last]);
    let m = a.rows();
    let mut sum = 0.0;
    for r in 0..m {
        sum += net
            .cost()
            .c_x(net.g(last), z.row(r), a.row(r), y.row(r))
            .to_f64()
            .unwrap_or(f64::NAN);
    }
    sum / m.max(1) as f64
}

/// A cost in a message: 4 significant digits.
fn short(v: f64) -> String {
    format!("{v:.4e}")
}

/// The regularisation term of the objective: `(λ/2n) Σ w² + (λ₁/n) Σ |w|` over all weights.
pub fn penalty<T: Scalar>(net: &Network<T>, l2: f64, l1: f64, n: usize) -> f64 {
    if l2 == 0.0 && l1 == 0.0 {
        return 0.0;
    }
    let (mut squares, mut absolutes) = (0.0, 0.0);
    for l in 1..=net.last() {
        for w in net.w(l).as_slice() {
            let w = w.to_f64().unwrap_or(f64::NAN);
            squares += w * w;
            absolutes += w.abs();
        }
    }
    l2 / (2.0 * n as f64) * squares + l1 / n as f64 * absolutes
}

/// `∂/∂w` of the penalty added to the weight gradients: `(λ/n) w + (λ₁/n) sign(w)`.
fn add_penalty_gradients<T: Scalar>(
    net: &Network<T>,
    grads: &mut Gradients<T>,
    l2_over_n: T,
    l1_over_n: T,
) {
    if l2_over_n == T::zero() && l1_over_n == T::zero() {
        return;
    }
    for l in 1..=net.last() {
        for (g, &w) in grads.nabla_w[l]
            .as_mut_slice()
            .iter_mut()
            .zip(net.w(l).as_slice())
        {
            let sign = if w > T::zero() {
                T::one()
            } else if w < T::zero() {
                -T::one()
            } else {
                T::zero()
            };
            *g = *g + l2_over_n * w + l1_over_n * sign;
        }
    }
}

/// Rescales all gradients together so that their Euclidean norm is at most `max_norm`.
fn clip_to_norm<T: Scalar>(grads: &mut Gradients<T>, max_norm: T) {
    let squares: T = grads
        .nabla_w
        .iter()
        .flat_map(|m| m.as_slice())
        .chain(grads.nabla_b.iter().flatten())
        .map(|&g| g * g)
        .sum();
    let norm = squares.sqrt();
    if norm > max_norm {
        let scale = max_norm / norm;
        grads
            .nabla_w
            .iter_mut()
            .flat_map(|m| m.as_mut_slice().iter_mut())
            .for_each(|g| *g = *g * scale);
        grads
            .nabla_b
            .iter_mut()
            .flatten()
            .for_each(|g| *g = *g * scale);
    }
}

/// Splits off a validation set of about `fraction` of the examples: per class for
/// classification (so each class keeps its share), at random for regression.
///
/// # Errors
/// [`Error::InvalidConfig`] naming `--validation` when either part would be empty.
pub fn split_validation<T: Scalar>(
    data: &Dataset<T>,
    fraction: f64,
    seed: u64,
) -> Result<(Dataset<T>, Dataset<T>)> {
    if !(fraction > 0.0 && fraction < 1.0) {
        return Err(Error::config(
            Setting::Validation,
            format!("must be a fraction between 0 and 1, got {fraction:e}"),
        ));
    }
    data.check()?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(3);
    let mut groups: Vec<Vec<usize>> = match &data.labels {
        Some(labels) => {
            let classes = data.outputs().max(1);
            let mut groups = vec![Vec::new(); classes];
            for (i, &c) in labels.iter().enumerate() {
                groups[c.min(classes - 1)].push(i);
            }
            groups
        }
        None => vec![(0..data.len()).collect()],
    };
    let (mut keep, mut held) = (Vec::new(), Vec::new());
    for group in groups.iter_mut() {
        group.shuffle(&mut rng);
        let k = (fraction * group.len() as f64).round() as usize;
        held.extend_from_slice(&group[..k]);
        keep.extend_from_slice(&group[k..]);
    }
    if held.is_empty() || keep.is_empty() {
        return Err(Error::config(
            Setting::Validation,
            format!(
                "{fraction} of {} examples leaves an empty training or validation set",
                data.len()
            ),
        ));
    }
    keep.sort_unstable();
    held.sort_unstable();
    Ok((data.select(&keep), data.select(&held)))
}
