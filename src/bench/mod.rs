//! The peer workloads W1–W4, timed the way the peers' harness times them (a warm-up
//! epoch, then the median of the timed epochs; W4: median of 11 batch-2000 passes and the
//! mean batch-1 latency, median of 3 passes over the 2000 test images), so that
//! `scripts/compare.sh` can put nabla beside numpy, JAX and PyTorch (BENCHMARKS.md). Batch
//! 1 is timed through a [`Predictor`] (`batch1_latency_us_*`, what the script compares)
//! and through [`Network::infer`] (`batch1_infer_latency_us_*`).
//!
//! Compiled with the cargo feature `bench`. Nothing here prints: [`run`] returns a
//! [`Report`], which serialises to the JSON of `nabla bench --json`.

pub mod contention;

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::{
    evaluate, Activation, Architecture, Cost, Dataset, Init, Matrix, Network, OptimizerKind, Pass,
    Predictor, Result, TrainConfig, TrainEvent,
};

/// The workloads' names, in the order they run.
pub const WORKLOADS: [&str; 4] = ["W1", "W2", "W3", "W4"];

/// One training workload: the network, its training and the batch size.
#[derive(Clone, Copy, Debug)]
pub struct Workload {
    /// "W1", "W2" or "W3".
    pub id: &'static str,
    /// A short name: "nielsen", "mlp", "wide".
    pub name: &'static str,
    /// Layer sizes `n_0, …, n_L`.
    pub sizes: &'static [usize],
    /// g of the hidden layers.
    pub hidden: Activation,
    /// g of the output layer.
    pub output: Activation,
    /// The cost.
    pub cost: Cost,
    /// The initialisation.
    pub init: Init,
    /// The optimizer.
    pub optimizer: OptimizerKind,
    /// η.
    pub learning_rate: f64,
    /// Examples per mini-batch.
    pub batch_size: usize,
}

/// W1-W3. W4 is the inference of W2's network.
pub const TRAINING: [Workload; 3] = [
    Workload {
        id: "W1",
        name: "nielsen",
        sizes: &[784, 30, 10],
        hidden: Activation::Sigmoid,
        output: Activation::Sigmoid,
        cost: Cost::Quadratic,
        init: Init::Nielsen,
        optimizer: OptimizerKind::Sgd,
        learning_rate: 3.0,
        batch_size: 10,
    },
    Workload {
        id: "W2",
        name: "mlp",
        sizes: &[784, 256, 128, 10],
        hidden: Activation::Relu,
        output: Activation::Softmax,
        cost: Cost::CrossEntropy,
        init: Init::He,
        optimizer: OptimizerKind::Momentum {
            mu: 0.9,
            nesterov: false,
        },
        learning_rate: 0.05,
        batch_size: 64,
    },
    Workload {
        id: "W3",
        name: "wide",
        sizes: &[784, 1024, 1024, 10],
        hidden: Activation::Relu,
        output: Activation::Softmax,
        cost: Cost::CrossEntropy,
        init: Init::He,
        optimizer: OptimizerKind::Sgd,
        learning_rate: 0.01,
        batch_size: 256,
    },
];

/// What to time.
#[derive(Clone, Debug)]
pub struct Options {
    /// The workloads to run ([`WORKLOADS`]; others are ignored).
    pub workloads: Vec<String>,
    /// Timed epochs per training workload, after one warm-up epoch (at least 1).
    pub epochs: usize,
    /// Before each workload, wait up to this long for other processes to leave the
    /// machine quiet ([`contention::wait_quiet`]).
    pub quiet_wait: Duration,
}

/// The workload about to run, for a progress note.
#[derive(Clone, Copy, Debug)]
pub enum Stage<'a> {
    /// A training workload.
    Training(&'a Workload),
    /// W4, inference.
    Inference,
}

/// Everything [`run`] measured; serialises to `nabla bench --json`.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// nabla's version.
    pub nabla: &'static str,
    /// The thread count the workloads ran at ([`crate::parallel::threads`]).
    pub threads: usize,
    /// Timed epochs per training workload.
    pub timed_epochs: usize,
    /// Examples in the training set.
    pub train_examples: usize,
    /// One per workload run, in the order of [`WORKLOADS`].
    pub results: Vec<Timing>,
}

/// The timing of one workload.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum Timing {
    /// W1-W3.
    Training(TrainingTiming),
    /// W4.
    Inference(InferenceTiming),
}

/// A training workload's epochs (seconds of the training pass) and test accuracy.
#[derive(Clone, Debug, Serialize)]
pub struct TrainingTiming {
    /// "W1", "W2" or "W3".
    pub workload: &'static str,
    /// The workload's short name.
    pub name: &'static str,
    /// Layer sizes.
    pub sizes: &'static [usize],
    /// Examples per mini-batch.
    pub batch_size: usize,
    /// The warm-up epoch.
    pub warmup_epoch_s: f64,
    /// The timed epochs: the first clean ones, else the least contended.
    pub epoch_s_all: Vec<f64>,
    /// Every epoch after the warm-up.
    pub epoch_s_every_run: Vec<f64>,
    /// Whether the timed epochs all ran clean.
    pub timed_epochs_clean: bool,
    /// Epochs run in all, warm-up included.
    pub epochs_run: usize,
    /// Median of the timed epochs.
    pub epoch_s_median: f64,
    /// Fastest timed epoch.
    pub epoch_s_min: f64,
    /// Training examples per second at the median.
    pub samples_per_s: f64,
    /// 6 × weights × examples / median, in 10⁹ per second.
    pub gflops: f64,
    /// Test accuracy after warm-up + the timed epochs.
    pub test_accuracy: Option<f64>,
    /// Seconds waited for a quiet machine (negative: gave up).
    pub waited_for_quiet_s: f64,
}

/// W4: W2's network over the test images at full batch and one image at a time.
#[derive(Clone, Debug, Serialize)]
pub struct InferenceTiming {
    /// "W4".
    pub workload: &'static str,
    /// "inference".
    pub name: &'static str,
    /// Layer sizes.
    pub sizes: &'static [usize],
    /// The full batch: every test image.
    pub batch_size: usize,
    /// Median of the full-batch passes.
    pub batch_full_s_median: f64,
    /// The timed full-batch passes.
    pub batch_full_s_all: Vec<f64>,
    /// Whether the full-batch passes all ran clean.
    pub batch_full_clean: bool,
    /// Whether the batch-1 passes through the predictor all ran clean.
    pub batch1_clean: bool,
    /// Images per second at full batch.
    pub batch_full_samples_per_s: f64,
    /// 2 × weights × images / median, in 10⁹ per second.
    pub batch_full_gflops: f64,
    /// Median batch-1 latency through a [`Predictor`].
    pub batch1_latency_us_median: f64,
    /// Every predictor pass's mean latency.
    pub batch1_latency_us_all: Vec<f64>,
    /// The dense product's flops over the predictor's latency, as the peers count them
    /// (the predictor skips the zero inputs' share, so this is not what the core computed).
    pub batch1_gflops: f64,
    /// Making the predictor.
    pub batch1_prepare_us: f64,
    /// Median batch-1 latency through [`Network::infer`].
    pub batch1_infer_latency_us_median: f64,
    /// Every `infer` pass's mean latency.
    pub batch1_infer_latency_us_all: Vec<f64>,
    /// Seconds waited for a quiet machine (negative: gave up).
    pub waited_for_quiet_s: f64,
}

/// Times the workloads of `options` on `train` and `test` (the embedded MNIST subset for
/// `nabla bench`) at the thread count of [`crate::parallel::threads`], calling `progress`
/// before each.
///
/// # Errors
/// When a network cannot be built or trained on the data (sizes that do not fit).
pub fn run(
    options: &Options,
    train: &Dataset<f32>,
    test: &Dataset<f32>,
    mut progress: impl FnMut(Stage<'_>),
) -> Result<Report> {
    let wanted = |id: &str| options.workloads.iter().any(|w| w == id);
    let mut results = Vec::new();
    for w in TRAINING.iter().filter(|w| wanted(w.id)) {
        progress(Stage::Training(w));
        let waited = contention::wait_quiet(options.quiet_wait);
        results.push(Timing::Training(bench_training(
            w,
            train,
            test,
            options.epochs,
            waited,
        )?));
    }
    if wanted("W4") {
        progress(Stage::Inference);
        let waited = contention::wait_quiet(options.quiet_wait);
        results.push(Timing::Inference(bench_inference(test, waited)?));
    }
    Ok(Report {
        nabla: env!("CARGO_PKG_VERSION"),
        threads: crate::parallel::threads(),
        timed_epochs: options.epochs,
        train_examples: train.len(),
        results,
    })
}

/// Multiply-adds ×2 per sample: 6 × weights for training (forward, dA, dW), 2 × weights
/// for inference, as the peers count them.
fn weights(sizes: &[usize]) -> f64 {
    sizes.windows(2).map(|p| (p[0] * p[1]) as f64).sum()
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Epochs run beyond warm-up + `--epochs` while too few timed epochs were clean (the
/// peers' `PEERS_MAX_EXTRA_EPOCHS`).
const MAX_EXTRA_EPOCHS: usize = 12;

/// Trains a warm-up epoch and `epochs` timed ones, then (if some ran under other
/// processes' load) more until `epochs` timed epochs ran clean, at most
/// [`MAX_EXTRA_EPOCHS`]; reports the training passes of the first `epochs` clean ones (or
/// of the least contended, flagged) and the test accuracy after warm-up + `epochs`.
fn bench_training(
    w: &Workload,
    train: &Dataset<f32>,
    test: &Dataset<f32>,
    epochs: usize,
    waited_for_quiet_s: f64,
) -> Result<TrainingTiming> {
    let arch = Architecture::new(w.sizes, w.hidden, w.output, w.cost)?;
    let mut net: Network<f32> = Network::new(arch, w.init, 1)?;
    let config = TrainConfig {
        epochs: epochs + 1,
        batch_size: w.batch_size,
        learning_rate: w.learning_rate,
        optimizer: w.optimizer,
        evaluate_train: false,
        ..TrainConfig::default()
    };
    // (seconds of the training pass, clean, foreign cores) of every epoch.
    let mut runs: Vec<(f64, bool, f64)> = Vec::new();
    train_timed(&mut net, train, &config, epochs, &mut runs)?;
    // The accuracy after the warm-up and `epochs` epochs, whatever follows.
    let accuracy = evaluate(&net, test)?.accuracy;
    if runs[1..].iter().filter(|run| run.1).count() < epochs {
        // Too many epochs ran under other processes' load: more, as the peers do (the
        // optimizer starts afresh; an epoch costs the same).
        let extra = TrainConfig {
            epochs: MAX_EXTRA_EPOCHS,
            ..config.clone()
        };
        train_timed(&mut net, train, &extra, epochs, &mut runs)?;
    }
    let (timed, all_clean) = contention::pick(&runs[1..], epochs);
    let timed = &timed[..];
    let med = median(timed);
    let seconds: Vec<f64> = runs.iter().map(|run| run.0).collect();
    let n = train.len() as f64;
    Ok(TrainingTiming {
        workload: w.id,
        name: w.name,
        sizes: w.sizes,
        batch_size: w.batch_size,
        warmup_epoch_s: seconds[0],
        epoch_s_all: timed.to_vec(),
        epoch_s_every_run: seconds[1..].to_vec(),
        timed_epochs_clean: all_clean,
        epochs_run: seconds.len(),
        epoch_s_median: med,
        epoch_s_min: timed.iter().copied().fold(f64::INFINITY, f64::min),
        samples_per_s: n / med,
        gflops: 6.0 * weights(w.sizes) * n / med / 1e9,
        test_accuracy: accuracy,
        waited_for_quiet_s,
    })
}

/// Trains with `config`, adding each epoch's (training-pass seconds, clean, foreign cores)
/// to `runs`; stops early once `runs` holds a warm-up and `epochs` clean epochs.
fn train_timed(
    net: &mut Network<f32>,
    train: &Dataset<f32>,
    config: &TrainConfig,
    epochs: usize,
    runs: &mut Vec<(f64, bool, f64)>,
) -> Result<()> {
    let mut before = contention::Snapshot::now();
    crate::train(net, train, None, config, |event| {
        if let TrainEvent::Epoch(report) = event {
            let after = contention::Snapshot::now();
            let foreign = before.foreign_cores_until(&after).unwrap_or(0.0);
            runs.push((report.seconds, before.clean_until(&after), foreign));
            before = after;
            let clean = runs[1..].iter().filter(|run| run.1).count();
            if runs.len() > epochs && clean >= epochs {
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    })?;
    Ok(())
}

/// W4: the W2 network's forward pass over the 2000 test images at batch 2000, and one
/// image at a time.
fn bench_inference(test: &Dataset<f32>, waited_for_quiet_s: f64) -> Result<InferenceTiming> {
    let w = &TRAINING[1];
    let arch = Architecture::new(w.sizes, w.hidden, w.output, w.cost)?;
    let net: Network<f32> = Network::new(arch, w.init, 1)?;
    let n = test.len();
    let mut pass = Pass::new(net.sizes(), n);
    // As the peers: a second of full passes to warm up (the CPU clock ramps up), then 11
    // clean passes (at most 60 in all).
    let started = Instant::now();
    while started.elapsed().as_secs_f64() < 1.0 {
        net.infer(&test.x, &mut pass)?;
    }
    let (full, full_clean) = contention::timed_clean_runs(11, 60, || -> Result<()> {
        net.infer(&test.x, &mut pass)?;
        Ok(())
    })?;
    // Batch 1 as a server runs it: a Predictor, made once (timed apart), then one image
    // per call; 200 images to warm up, then 3 clean passes over the 2000 (at most 12).
    // Then the same through `Network::infer` with a one-row batch, which gives the same
    // bits but reads every weight.
    let started = Instant::now();
    let mut predictor = Predictor::new(&net);
    let prepare = started.elapsed().as_secs_f64();
    for i in 0..200 {
        predictor.predict(test.x.row(i))?;
    }
    let (passes, one_clean) = contention::timed_clean_runs(3, 12, || -> Result<()> {
        for i in 0..n {
            predictor.predict(test.x.row(i))?;
        }
        Ok(())
    })?;
    let per_sample: Vec<f64> = passes.iter().map(|s| s / n as f64).collect();
    let mut one = Pass::new(net.sizes(), 1);
    let mut x = Matrix::zeros(1, test.x.cols());
    let mut infer_one = |i: usize| -> Result<()> {
        x.as_mut_slice().copy_from_slice(test.x.row(i));
        net.infer(&x, &mut one)?;
        Ok(())
    };
    for i in 0..200 {
        infer_one(i)?;
    }
    let (passes, _) = contention::timed_clean_runs(3, 12, || (0..n).try_for_each(&mut infer_one))?;
    let per_sample_infer: Vec<f64> = passes.iter().map(|s| s / n as f64).collect();
    let (full_med, one_med) = (median(&full), median(&per_sample));
    let flops = 2.0 * weights(w.sizes);
    Ok(InferenceTiming {
        workload: "W4",
        name: "inference",
        sizes: w.sizes,
        batch_size: n,
        batch_full_s_median: full_med,
        batch_full_s_all: full,
        batch_full_clean: full_clean,
        batch1_clean: one_clean,
        batch_full_samples_per_s: n as f64 / full_med,
        batch_full_gflops: flops * n as f64 / full_med / 1e9,
        batch1_latency_us_median: one_med * 1e6,
        batch1_latency_us_all: per_sample.iter().map(|s| s * 1e6).collect(),
        batch1_gflops: flops / one_med / 1e9,
        batch1_prepare_us: prepare * 1e6,
        batch1_infer_latency_us_median: median(&per_sample_infer) * 1e6,
        batch1_infer_latency_us_all: per_sample_infer.iter().map(|s| s * 1e6).collect(),
        waited_for_quiet_s,
    })
}
