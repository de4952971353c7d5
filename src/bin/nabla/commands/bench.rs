//! `nabla bench`: the peer workloads W1–W4 timed by [`nabla::bench`], as a table or as
//! the JSON that `scripts/compare.sh` reads.

use std::time::Duration;

use anyhow::{bail, Context};
use nabla::bench::{Options, Stage, WORKLOADS};
use nabla::data::idx::embedded_mnist;
use serde_json::Value;

use crate::cli::BenchArgs;
use crate::output;

pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    if args.epochs == 0 {
        bail!("invalid --epochs: must be at least 1");
    }
    if !(args.quiet_wait.is_finite() && (0.0..=3600.0).contains(&args.quiet_wait)) {
        bail!("invalid --quiet-wait: must be 0 to 3600 seconds");
    }
    let workloads: Vec<String> = args
        .workloads
        .split(',')
        .map(|w| w.trim().to_ascii_uppercase())
        .filter(|w| !w.is_empty())
        .collect();
    for w in &workloads {
        if !WORKLOADS.contains(&w.as_str()) {
            bail!("invalid --workloads: unknown workload '{w}' (expected W1, W2, W3, W4)");
        }
    }
    let options = Options {
        workloads,
        epochs: args.epochs,
        quiet_wait: Duration::from_secs_f64(args.quiet_wait),
    };
    let (train, test) = embedded_mnist::<f32>().context("cannot load the embedded MNIST subset")?;
    let threads = args.threads.unwrap_or_else(nabla::parallel::threads);
    let report = nabla::parallel::with_threads(threads, || {
        nabla::bench::run(&options, &train, &test, |stage| {
            if args.json {
                return;
            }
            match stage {
                Stage::Training(w) => output::note(format!(
                    "{} {}: {} epochs ({} warm-up) ...",
                    w.id,
                    w.name,
                    args.epochs + 1,
                    1
                )),
                Stage::Inference => output::note("W4 inference ..."),
            }
        })
    })?;
    let report = serde_json::to_value(&report)?;
    if args.json {
        output::line(serde_json::to_string_pretty(&report)?)?;
    } else {
        print_table(&report)?;
    }
    Ok(())
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
