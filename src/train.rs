//! Mini-batch gradient descent: shuffle the examples each epoch from a seeded stream, cut
//! them into mini-batches of m, and after each one run FF, BP1–BP4 and an optimizer step.
//!
//! The library prints nothing: progress reaches the caller as [`TrainEvent`]s.

use std::ops::ControlFlow;
use std::time::Instant;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::data::{gather_rows_into, Dataset};
use crate::error::{Error, Result};
use crate::matrix::{Matrix, Scalar};
use crate::metrics::{evaluate, Evaluation};
use crate::network::{Gradients, Network, Pass};
use crate::optimizer::{Optimizer, OptimizerKind};

/// How to train.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Passes over the training data.
    pub epochs: usize,
    /// Mini-batch size m (1 = online learning, n = full batch).
    pub batch_size: usize,
    /// Learning rate η.
    pub learning_rate: f64,
    /// Seed of the shuffling stream.
    pub seed: u64,
    /// Shuffle the examples at the start of every epoch.
    pub shuffle: bool,
    /// The update rule.
    pub optimizer: OptimizerKind,
    /// Compute the cost over the whole training set after each epoch (not timed).
    pub evaluate_train: bool,
}

impl Default for TrainConfig {
    /// Nielsen's chapter 1: 30 epochs, m = 10, η = 3.0.
    fn default() -> Self {
        TrainConfig {
            epochs: 30,
            batch_size: 10,
            learning_rate: 3.0,
            seed: 1,
            shuffle: true,
            optimizer: OptimizerKind::Sgd,
            evaluate_train: true,
        }
    }
}

impl TrainConfig {
    /// Checks the ranges of every setting.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the flag.
    pub fn validate(&self) -> Result<()> {
        if self.batch_size == 0 {
            return Err(Error::config("--batch-size", "must be at least 1"));
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(Error::config(
                "--lr",
                format!("must be a positive number, got {}", self.learning_rate),
            ));
        }
        if let OptimizerKind::Momentum { mu } = self.optimizer {
            if !(0.0..1.0).contains(&mu) {
                return Err(Error::config(
                    "--momentum",
                    format!("must be in [0, 1), got {mu}"),
                ));
            }
        }
        Ok(())
    }
}

/// What happened in one epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochReport {
    /// 1-based epoch number.
    pub epoch: usize,
    /// C over the training set after the epoch, if asked for.
    pub train_cost: Option<f64>,
    /// The evaluation on the test set after the epoch, if one was given.
    pub test: Option<Evaluation>,
    /// Seconds of the training pass alone (evaluation excluded).
    pub seconds: f64,
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
    },
    /// An epoch is done.
    Epoch(&'a EpochReport),
}

/// Trains `net` on `train` with the optimizer that `config` names, evaluating on `test`
/// after each epoch. `on_event` sees every [`TrainEvent`] and may stop training early by
/// returning [`ControlFlow::Break`]. Returns the reports of the epochs that ran.
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
/// let reports = nabla::train(&mut net, &xor, None, &config, |_| std::ops::ControlFlow::Continue(()))?;
/// assert_eq!(reports.len(), 5);
/// # Ok::<(), nabla::Error>(())
/// ```
pub fn train<T: Scalar>(
    net: &mut Network<T>,
    train: &Dataset<T>,
    test: Option<&Dataset<T>>,
    config: &TrainConfig,
    on_event: impl FnMut(TrainEvent<'_>) -> ControlFlow<()>,
) -> Result<Vec<EpochReport>> {
    config.validate()?;
    let mut optimizer = config.optimizer.build::<T>(config.learning_rate);
    train_with(net, optimizer.as_mut(), train, test, config, on_event)
}

/// [`train`] with an optimizer of the caller's (its hyper-parameters win over `config`'s).
///
/// # Errors
/// As [`train`].
pub fn train_with<T: Scalar>(
    net: &mut Network<T>,
    optimizer: &mut dyn Optimizer<T>,
    train: &Dataset<T>,
    test: Option<&Dataset<T>>,
    config: &TrainConfig,
    mut on_event: impl FnMut(TrainEvent<'_>) -> ControlFlow<()>,
) -> Result<Vec<EpochReport>> {
    config.validate()?;
    net.check_parameters()?;
    net.check_batch(&train.x, Some(&train.y))?;
    if let Some(test) = test {
        net.check_batch(&test.x, Some(&test.y))?;
    }
    let n = train.len();
    let m = config.batch_size.min(n);
    let batches = n.div_ceil(m);
    // One stream for shuffling, separate from the one that drew the initial weights.
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    rng.set_stream(1);
    let mut order: Vec<usize> = (0..n).collect();
    // Allocated once; the loop below allocates nothing.
    let mut pass = Pass::new(net.sizes(), m);
    let mut grads = Gradients::zeros(net.sizes());
    let mut y_batch = Matrix::zeros(m, train.outputs());
    let mut reports = Vec::with_capacity(config.epochs);

    for epoch in 1..=config.epochs {
        let started = Instant::now();
        if config.shuffle {
            order.shuffle(&mut rng);
        }
        for (done, indices) in order.chunks(m).enumerate() {
            pass.set_batch_size(indices.len());
            y_batch.set_rows(indices.len());
            gather_rows_into(&train.x, indices, &mut pass.a[0]);
            gather_rows_into(&train.y, indices, &mut y_batch);
            net.forward_pass(&mut pass);
            net.backward_pass(&y_batch, &mut pass, &mut grads);
            optimizer.step(net, &grads);
            if on_event(TrainEvent::Batch {
                epoch,
                done: done + 1,
                total: batches,
            })
            .is_break()
            {
                break;
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        let train_cost = if config.evaluate_train {
            Some(evaluate(net, train)?.cost)
        } else {
            None
        };
        let test = test.map(|t| evaluate(net, t)).transpose()?;
        let report = EpochReport {
            epoch,
            train_cost,
            test,
            seconds,
        };
        let flow = on_event(TrainEvent::Epoch(&report));
        reports.push(report);
        if flow.is_break() {
            break;
        }
    }
    Ok(reports)
}
