//! `nabla train`: fill a [`TrainSpec`] from the flags (over `--config`), let the library
//! prepare and train it, and show the run.

use std::io::Write;
use std::ops::ControlFlow;
use std::path::PathBuf;

use anyhow::{bail, Context};
use nabla::spec::{Note, Precision, Prepared, Summary};
use nabla::{EpochReport, Scalar, Task, TrainEvent, TrainSpec};

use crate::cli::TrainArgs;
use crate::commands::check_writable;
use crate::{config_file, flags, output};

/// Where the run's results go.
struct Outputs {
    out: Option<PathBuf>,
    plot: Option<PathBuf>,
    log: Option<PathBuf>,
    json: bool,
    quiet: bool,
}

pub fn run(args: &TrainArgs, threads: Option<usize>) -> anyhow::Result<()> {
    let file = match &args.config {
        Some(path) => config_file::read(path)?,
        None => config_file::ConfigFile::default(),
    };
    let mut spec = file.spec.overlaid(&args.spec());
    spec.threads = spec.threads.or(threads);
    let outputs = Outputs {
        out: args.out.clone().or(file.out),
        plot: args.plot.clone().or(file.plot),
        log: args.log.clone().or(file.log),
        json: args.json,
        quiet: args.quiet,
    };
    match nabla::spec::precision_of(&spec)? {
        Precision::F32 => run_in::<f32>(&spec, &outputs),
        Precision::F64 => run_in::<f64>(&spec, &outputs),
    }
}

fn run_in<T: Scalar>(spec: &TrainSpec, outputs: &Outputs) -> anyhow::Result<()> {
    let loading = output::LoadBar::new(outputs.json || outputs.quiet);
    let prepared = nabla::spec::prepare_with_progress::<T>(spec, &mut |done, total| {
        loading.update(done, total)
    });
    loading.finish();
    let mut prepared = prepared?;
    prepared.set_checkpoint(outputs.out.clone())?;
    // Fail on an output that cannot be written before spending time on training.
    for (flag, path) in [
        ("--out", &outputs.out),
        ("--plot", &outputs.plot),
        ("--log", &outputs.log),
    ] {
        if let Some(path) = path {
            check_writable(flag, path)?;
        }
    }
    if let Some(plot) = &outputs.plot {
        let extension = plot.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !matches!(extension.to_ascii_lowercase().as_str(), "svg" | "png") {
            bail!(
                "invalid --plot: {} must end in .svg or .png",
                plot.display()
            );
        }
    }
    // --quiet: errors and warnings only; --json: the JSON object on stdout, notes on stderr.
    let talk = !outputs.quiet;
    if talk && !outputs.json {
        for note in &prepared.notes {
            output::note(note_text(note));
        }
        output::note(header(&prepared));
    }
    let mut summary = train(&mut prepared, outputs)?;
    summary.render_warnings(&flags::flag);
    for warning in &summary.warnings {
        output::warning(&warning.message);
    }
    let model = &prepared.model;
    if talk && !outputs.json {
        if let Some(best) = summary.best_epoch {
            let all = if summary.stopped_early {
                ""
            } else {
                "; ran all epochs"
            };
            output::note(format!(
                "early stopping: restored the weights of epoch {best} (lowest validation cost){all}"
            ));
        }
        // A closed stdout loses the summary, not the model saved below.
        match print_summary(&summary, &model.classes) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            other => other?,
        }
    }
    match &outputs.out {
        Some(out) => {
            model.save(out).context("cannot save the model")?;
            if talk && !outputs.json {
                output::note(format!("saved {}", out.display()));
            }
        }
        None if talk && !outputs.json => {
            output::note("the model was not saved (give --out FILE to keep it)")
        }
        None => {}
    }
    // The plot after the model: a plot that cannot be written loses no training.
    if let Some(plot) = &outputs.plot {
        nabla::plot::training_curves(&summary.history, model.task, plot)
            .context("cannot write the --plot file")?;
    }
    if outputs.json {
        let mut object = serde_json::to_value(&summary)?;
        object["model"] = serde_json::json!(outputs.out);
        output::line(serde_json::to_string(&object)?)?;
    }
    Ok(())
}

/// Trains with a progress bar, the per-epoch lines and the `--log` file.
fn train<T: Scalar>(prepared: &mut Prepared<T>, outputs: &Outputs) -> anyhow::Result<Summary> {
    let epochs = prepared.resolved.config.epochs;
    let task = prepared.model.task;
    let per_epoch = batches(prepared) as u64;
    // One bar for the whole run (so that its ETA is the run's), on stderr.
    let bar = output::progress_bar(per_epoch * epochs as u64, outputs.quiet);
    let mut first_epoch = None;
    let (mut cost_sum, mut cost_count) = (0.0, 0usize);
    let mut log = match &outputs.log {
        Some(path) => Some(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create --log file {}", path.display()))?,
        )),
        None => None,
    };
    let mut printing_error: Option<std::io::Error> = None;
    let mut stdout_closed = false;
    let summary = prepared.train(|event| {
        match event {
            TrainEvent::Batch {
                epoch, done, cost, ..
            } => {
                // Epochs of a continued run are numbered on from the model's.
                let first = *first_epoch.get_or_insert(epoch);
                if done == 1 {
                    bar.set_prefix(format!("epoch {}/{epochs}", epoch - first + 1));
                    (cost_sum, cost_count) = (0.0, 0);
                }
                cost_sum += cost;
                cost_count += 1;
                bar.set_message(format!(
                    "cost {}",
                    output::fixed(cost_sum / cost_count as f64, 5)
                ));
                bar.set_position((epoch - first) as u64 * per_epoch + done as u64);
            }
            TrainEvent::Epoch(report) => {
                if let Some(log) = log.as_mut() {
                    let line = serde_json::to_string(report).expect("a report serializes");
                    if let Err(e) = writeln!(log, "{line}") {
                        printing_error = Some(e);
                        return ControlFlow::Break(());
                    }
                }
                if !outputs.json && !outputs.quiet && !stdout_closed {
                    match bar.suspend(|| output::line(epoch_line(report, epochs, task))) {
                        // `nabla train … | head`: the reader has gone, the training (and
                        // the model it saves) goes on, silently.
                        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                            stdout_closed = true
                        }
                        Err(e) => {
                            printing_error = Some(e);
                            return ControlFlow::Break(());
                        }
                        Ok(()) => {}
                    }
                }
            }
        }
        ControlFlow::Continue(())
    })?;
    bar.finish_and_clear();
    if let Some(e) = printing_error {
        return Err(e.into());
    }
    if let Some(mut log) = log {
        log.flush()?;
    }
    Ok(summary)
}

/// Mini-batches per epoch.
fn batches<T: Scalar>(prepared: &Prepared<T>) -> usize {
    let config = &prepared.resolved.config;
    let n = prepared.train.len();
    let m = if config.optimizer.full_batch() {
        n
    } else {
        config.batch_size
    };
    n.div_ceil(m.clamp(1, n.max(1)))
}

fn note_text(note: &Note) -> String {
    match note {
        Note::TaskInferred(task) => {
            format!("task: {task} (inferred from the target column; set --task to choose)")
        }
        Note::Table(note) => output::table_note(note),
        Note::KeptFromModel(groups) => {
            let kept: Vec<String> = groups
                .iter()
                .map(|group| {
                    let parts: Vec<String> = group
                        .iter()
                        .map(|(setting, value)| format!("{} {value}", flags::flag(*setting)))
                        .collect();
                    parts.join(" ")
                })
                .collect();
            format!(
                "continuing with the model's own {} (give them to change them)",
                kept.join(", ")
            )
        }
    }
}

/// "training [784, 30, 10] (sigmoid hidden, …) on data (n examples), eta …, …".
fn header<T: Scalar>(prepared: &Prepared<T>) -> String {
    let net = &prepared.model.network;
    let config = &prepared.resolved.config;
    let hidden = if net.last() > 1 {
        format!("{} hidden", net.g(1))
    } else {
        "no hidden layer".to_string()
    };
    let batch = if config.optimizer.full_batch() {
        "full batch".to_string()
    } else {
        format!("mini-batch {}", config.batch_size)
    };
    let sizes: Vec<String> = net.sizes().iter().map(usize::to_string).collect();
    let test = prepared
        .test
        .as_ref()
        .map_or(String::new(), |t| format!(", {} test", t.len()));
    let targets = if prepared.model.target_scaling.is_some() {
        ", targets standardised (costs in standard deviations², RMSE/MAE/R² in the targets' units)"
    } else {
        ""
    };
    format!(
        "training [{}] ({hidden}, {} output, {} cost, {}) on {} ({} examples{test}{targets}), eta {}, {batch}, {} epoch{}",
        sizes.join(", "),
        net.g(net.last()),
        net.cost(),
        T::NAME,
        prepared.data_name.display(),
        prepared.train.len(),
        output::number(config.learning_rate),
        config.epochs,
        if config.epochs == 1 { "" } else { "s" }
    )
}

/// The end of a run, on the test set: accuracy (after early stopping), macro F1 and the
/// confusion matrix for classification; RMSE, MAE and R² for regression.
fn print_summary(summary: &Summary, classes: &[String]) -> std::io::Result<()> {
    let Some(test) = &summary.test else {
        return Ok(());
    };
    match summary.task {
        Task::Classification => {
            if let (Some(accuracy), Some(_)) = (test.accuracy, summary.best_epoch) {
                let accuracy = output::percent(accuracy);
                output::line(format!("test accuracy {accuracy} (restored weights)"))?;
            }
            if let (Some(f1), Some(confusion)) = (test.macro_f1, &test.confusion) {
                output::line(format!("test macro F1 {f1:.4}"))?;
                if confusion.len() <= 20 {
                    output::confusion_matrix(classes, confusion, test.n)?;
                }
            }
        }
        Task::Regression => {
            if let (Some(rmse), Some(mae), Some(r2)) = (test.rmse, test.mae, test.r2) {
                output::line(format!("test RMSE {rmse:.5}  MAE {mae:.5}  R² {r2:.4}"))?;
            }
            for (name, rmse, mae, r2) in output::per_target(test, summary.targets.as_deref()) {
                output::line(format!(
                    "  {name}: RMSE {rmse:.5}  MAE {mae:.5}  R² {r2:.4}"
                ))?;
            }
        }
    }
    Ok(())
}

fn epoch_line(report: &EpochReport, epochs: usize, task: Task) -> String {
    let width = epochs.to_string().len();
    let mut line = format!("epoch {:>width$}/{epochs}", report.epoch);
    if let Some(c) = report.train_cost {
        line += &format!("  train cost {}", output::fixed(c, 5));
        if report.regularization > 0.0 {
            line += &format!(" (+{} reg.)", output::fixed(report.regularization, 5));
        }
    }
    if let Some(v) = &report.validation {
        line += &format!("  val cost {}", output::fixed(v.cost, 5));
        if let Some(a) = v.accuracy {
            line += &format!("  val accuracy {}", output::percent(a));
        }
    }
    if let Some(t) = &report.test {
        line += &format!("  test cost {}", output::fixed(t.cost, 5));
        line += &match task {
            Task::Classification => {
                let accuracy = output::percent(t.accuracy.unwrap_or(f64::NAN));
                format!("  test accuracy {accuracy}")
            }
            Task::Regression => {
                let rmse = output::fixed(t.rmse.unwrap_or(f64::NAN), 5);
                format!("  test RMSE {rmse}")
            }
        };
    }
    line + &format!("  {:.3} s", report.seconds)
}
