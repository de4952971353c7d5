//! `nabla bench`: the peer workloads W1–W4 of ../shared/bench, timed the way the peers
//! time them (a warm-up epoch, then the median of the timed epochs; W4: median of 11
//! batch-2000 passes and the mean batch-1 latency, median of 3 passes over the 2000 test
//! images), so that `scripts/compare.sh` can put nabla beside numpy, JAX and PyTorch.
//! Batch 1 is timed through a `Predictor` (`batch1_latency_us_*`, what the script
//! compares) and through `Network::infer` (`batch1_infer_latency_us_*`).

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use nabla::data::idx::embedded_mnist;
use nabla::{
    evaluate, Activation, Architecture, Cost, Dataset, Init, Matrix, Network, OptimizerKind, Pass,
    Predictor, TrainConfig, TrainEvent,
};
use serde_json::{json, Value};

use super::contention;
use crate::cli::BenchArgs;
use crate::output;

/// One training workload of ../shared/bench/README.md.
struct Workload {
    id: &'static str,
    name: &'static str,
    sizes: &'static [usize],
    hidden: Activation,
    output: Activation,
    cost: Cost,
    init: Init,
    optimizer: OptimizerKind,
    learning_rate: f64,
    batch_size: usize,
}

const TRAINING: [Workload; 3] = [
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

/// Multiply-adds ×2 per sample: 6 × weights for training (forward, dA, dW), 2 × weights
/// for inference, as the peers count them (../shared/bench/common.py).
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

pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    if args.epochs == 0 {
        bail!("invalid --epochs: must be at least 1");
    }
    if !(args.quiet_wait.is_finite() && (0.0..=3600.0).contains(&args.quiet_wait)) {
        bail!("invalid --quiet-wait: must be 0 to 3600 seconds");
    }
    let quiet_wait = Duration::from_secs_f64(args.quiet_wait);
    let threads = args.threads.unwrap_or_else(nabla::matrix::threads).max(1);
    nabla::matrix::set_threads(threads);
    let wanted: Vec<String> = args
        .workloads
        .split(',')
        .map(|w| w.trim().to_ascii_uppercase())
        .filter(|w| !w.is_empty())
        .collect();
    for w in &wanted {
        if !["W1", "W2", "W3", "W4"].contains(&w.as_str()) {
            bail!("invalid --workloads: unknown workload '{w}' (expected W1, W2, W3, W4)");
        }
    }
    let (train, test) = embedded_mnist::<f32>().context("cannot load the embedded MNIST subset")?;
    let mut results = Vec::new();
    for w in TRAINING.iter().filter(|w| wanted.iter().any(|x| x == w.id)) {
        if !args.json {
            output::note(format!(
                "{} {}: {} epochs ({} warm-up) ...",
                w.id,
                w.name,
                args.epochs + 1,
                1
            ));
        }
        let waited = contention::wait_quiet(quiet_wait);
        let mut result = bench_training(w, &train, &test, args.epochs)?;
        result["waited_for_quiet_s"] = json!(waited);
        results.push(result);
    }
    if wanted.iter().any(|x| x == "W4") {
        if !args.json {
            output::note("W4 inference ...");
        }
        let waited = contention::wait_quiet(quiet_wait);
        let mut result = bench_inference(&test)?;
        result["waited_for_quiet_s"] = json!(waited);
        results.push(result);
    }
    let report = json!({
        "nabla": env!("CARGO_PKG_VERSION"),
        "threads": threads,
        "timed_epochs": args.epochs,
        "train_examples": train.len(),
        "results": results,
    });
    if args.json {
        output::line(serde_json::to_string_pretty(&report)?)?;
    } else {
        print_table(&report)?;
    }
    Ok(())
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
) -> anyhow::Result<Value> {
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
    Ok(json!({
        "workload": w.id,
        "name": w.name,
        "sizes": w.sizes,
        "batch_size": w.batch_size,
        "warmup_epoch_s": seconds[0],
        "epoch_s_all": timed,
        "epoch_s_every_run": &seconds[1..],
        "timed_epochs_clean": all_clean,
        "epochs_run": seconds.len(),
        "epoch_s_median": med,
        "epoch_s_min": timed.iter().copied().fold(f64::INFINITY, f64::min),
        "samples_per_s": n / med,
        "gflops": 6.0 * weights(w.sizes) * n / med / 1e9,
        "test_accuracy": accuracy,
    }))
}

/// Trains with `config`, adding each epoch's (training-pass seconds, clean, foreign cores)
/// to `runs`; stops early once `runs` holds a warm-up and `epochs` clean epochs.
fn train_timed(
    net: &mut Network<f32>,
    train: &Dataset<f32>,
    config: &TrainConfig,
    epochs: usize,
    runs: &mut Vec<(f64, bool, f64)>,
) -> anyhow::Result<()> {
    let mut before = contention::Snapshot::now();
    nabla::train(net, train, None, config, |event| {
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
fn bench_inference(test: &Dataset<f32>) -> anyhow::Result<Value> {
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
    let (full, full_clean) = contention::timed_clean_runs(11, 60, || {
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
    let (passes, one_clean) = contention::timed_clean_runs(3, 12, || {
        for i in 0..n {
            predictor.predict(test.x.row(i))?;
        }
        Ok(())
    })?;
    let per_sample: Vec<f64> = passes.iter().map(|s| s / n as f64).collect();
    let mut one = Pass::new(net.sizes(), 1);
    let mut x = Matrix::zeros(1, test.x.cols());
    let mut infer_one = |i: usize| -> anyhow::Result<()> {
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
    Ok(json!({
        "workload": "W4",
        "name": "inference",
        "sizes": w.sizes,
        "batch_size": n,
        "batch_full_s_median": full_med,
        "batch_full_s_all": full,
        "batch_full_clean": full_clean,
        "batch1_clean": one_clean,
        "batch_full_samples_per_s": n as f64 / full_med,
        "batch_full_gflops": flops * n as f64 / full_med / 1e9,
        "batch1_latency_us_median": one_med * 1e6,
        "batch1_latency_us_all": per_sample.iter().map(|s| s * 1e6).collect::<Vec<_>>(),
        // The dense product's flops over the time, as the peers count them (the predictor
        // skips the zero inputs' share, so this is not what the core computed).
        "batch1_gflops": flops / one_med / 1e9,
        "batch1_prepare_us": prepare * 1e6,
        "batch1_infer_latency_us_median": median(&per_sample_infer) * 1e6,
        "batch1_infer_latency_us_all": per_sample_infer.iter().map(|s| s * 1e6).collect::<Vec<_>>(),
    }))
}

fn print_table(report: &Value) -> anyhow::Result<()> {
    output::line(format!(
        "nabla bench: {} thread(s), f32, embedded MNIST ({} training images), median of {} epochs after 1 warm-up",
        report["threads"], report["train_examples"], report["timed_epochs"]
    ))?;
    output::line(format!(
        "{:<4} {:<20} {:>6} {:>12} {:>12} {:>10} {:>9} {:>9}",
        "id", "network", "batch", "s/epoch", "min s", "samples/s", "GFLOP/s", "test acc"
    ))?;
    let empty = Vec::new();
    for r in report["results"].as_array().unwrap_or(&empty) {
        let sizes = r["sizes"]
            .as_array()
            .map(|s| {
                s.iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default();
        let f = |k: &str| r[k].as_f64().unwrap_or(f64::NAN);
        if r["workload"] == "W4" {
            output::line(format!(
                "{:<4} {:<20} {:>6} {:>9.3} ms {:>12} {:>10.0} {:>9.1} {:>9}",
                "W4",
                format!("[{sizes}]"),
                r["batch_size"],
                f("batch_full_s_median") * 1e3,
                "",
                f("batch_full_samples_per_s"),
                f("batch_full_gflops"),
                ""
            ))?;
            output::line(format!(
                "{:<4} {:<20} {:>6} {:>9.2} µs {:>12} {:>10.0} {:>9} {:>9}",
                "W4",
                format!("[{sizes}]"),
                1,
                f("batch1_latency_us_median"),
                "(predictor)",
                1e6 / f("batch1_latency_us_median"),
                "",
                ""
            ))?;
            output::line(format!(
                "{:<4} {:<20} {:>6} {:>9.2} µs {:>12} {:>10.0} {:>9} {:>9}",
                "W4",
                format!("[{sizes}]"),
                1,
                f("batch1_infer_latency_us_median"),
                "(infer)",
                1e6 / f("batch1_infer_latency_us_median"),
                "",
                ""
            ))?;
        } else {
            output::line(format!(
                "{:<4} {:<20} {:>6} {:>12.4} {:>12.4} {:>10.0} {:>9.1} {:>9}",
                r["workload"].as_str().unwrap_or("?"),
                format!("[{sizes}]"),
                r["batch_size"],
                f("epoch_s_median"),
                f("epoch_s_min"),
                f("samples_per_s"),
                f("gflops"),
                output::percent(f("test_accuracy"))
            ))?;
        }
    }
    Ok(())
}
