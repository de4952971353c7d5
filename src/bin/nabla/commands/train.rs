//! `nabla train`: a new network or one continued from a model file, on CSV, IDX or the
//! embedded MNIST subset.

use std::ops::ControlFlow;
use std::path::PathBuf;

use anyhow::{bail, Context};
use nabla::data::idx::embedded_mnist;
use nabla::data::source::{default_scaling, embedded_name, read_for_model, read_training_ignoring};
use nabla::model_file::{Model, Task};
use nabla::{
    Activation, Architecture, Cost, Dataset, EpochReport, Init, Network, OptimizerKind, Scalar,
    Schedule, TrainConfig, TrainEvent,
};
use serde_json::json;

use crate::cli::{Precision, TrainArgs};
use crate::commands::{check_writable, load_model, precision_of};
use crate::output;

pub fn run(args: &TrainArgs) -> anyhow::Result<()> {
    let precision = match (&args.precision, &args.from) {
        (Some(p), _) => *p,
        (None, Some(from)) => precision_of(from)?,
        (None, None) => Precision::F32,
    };
    match precision {
        Precision::F32 => run_in::<f32>(args),
        Precision::F64 => run_in::<f64>(args),
    }
}

/// The model to train and its data, ready to go.
struct Prepared<T> {
    model: Model<T>,
    train: Dataset<T>,
    test: Option<Dataset<T>>,
    data_name: PathBuf,
    /// The learning rate of plain SGD for this kind of data, when --lr is not given.
    learning_rate: Option<f64>,
    /// Set when the task was guessed from the target column (told to the user once all checks pass).
    task_inferred: bool,
    /// `(height, width)` when the inputs are images (IDX, MNIST).
    image_shape: Option<(usize, usize)>,
}

fn run_in<T: Scalar>(args: &TrainArgs) -> anyhow::Result<()> {
    let prepared = match &args.from {
        Some(from) => continue_from::<T>(args, from)?,
        None => new_model::<T>(args)?,
    };
    let Prepared {
        mut model,
        train,
        test,
        data_name,
        learning_rate,
        task_inferred,
        image_shape,
    } = prepared;
    let mut config = config_from_args(args, learning_rate)?;
    if args.from.is_some() {
        keep_stored_settings(args, &model, &mut config);
    }
    if let Some(max) = args.augment_shift {
        let Some((height, width)) = image_shape else {
            bail!("invalid --augment-shift: shifting needs image data (an IDX file or the embedded MNIST subset)");
        };
        config.augment_shift = Some(nabla::augment::Shift { width, height, max });
    }
    config.validate()?;
    if config.dropout > 0.0 && model.network.last() < 2 {
        bail!("invalid --dropout: the network has no hidden layer to drop neurons from");
    }
    // Fail on an output that cannot be written before spending time on training.
    for (flag, path) in [
        ("--out", &args.out),
        ("--plot", &args.plot),
        ("--log", &args.log),
    ] {
        if let Some(path) = path {
            check_writable(flag, path)?;
        }
    }
    if let Some(plot) = &args.plot {
        let extension = plot
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        if !matches!(extension.as_str(), "svg" | "png") {
            bail!(
                "invalid --plot: {} must end in .svg or .png",
                plot.display()
            );
        }
    }

    let net = &model.network;
    if task_inferred && !args.json {
        output::note(format!(
            "task: {} (inferred from the target column; set --task to choose)",
            model.task
        ));
    }
    if !args.json {
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
        output::note(format!(
            "training [{}] ({hidden}, {} output, {} cost, {}) on {} ({} examples{}), eta {}, {batch}, {} epoch{}",
            net.sizes().iter().map(usize::to_string).collect::<Vec<_>>().join(", "),
            net.g(net.last()),
            net.cost(),
            T::NAME,
            data_name.display(),
            train.len(),
            test.as_ref().map_or(String::new(), |t| format!(", {} test", t.len())),
            output::number(config.learning_rate),
            args.epochs,
            if args.epochs == 1 { "" } else { "s" }
        ));
    }
    let batch_size = if config.optimizer.full_batch() {
        train.len()
    } else {
        config.batch_size
    };
    let batches = train.len().div_ceil(batch_size.clamp(1, train.len()));
    let bar = output::progress_bar(batches as u64, args.json || args.quiet);
    let mut printing_error: Option<std::io::Error> = None;
    let mut stdout_closed = false;
    let mut log = match &args.log {
        Some(path) => Some(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create --log file {}", path.display()))?,
        )),
        None => None,
    };
    let training = nabla::train(
        &mut model.network,
        &train,
        test.as_ref(),
        &config,
        |event| {
            match event {
                TrainEvent::Batch { epoch, done, .. } => {
                    if done == 1 {
                        bar.set_prefix(format!("epoch {epoch}/{}", args.epochs));
                    }
                    bar.set_position(done as u64);
                }
                TrainEvent::Epoch(report) => {
                    bar.set_position(0);
                    if let Some(log) = log.as_mut() {
                        use std::io::Write;
                        let line = serde_json::to_string(report).expect("a report serializes");
                        if let Err(e) = writeln!(log, "{line}") {
                            printing_error = Some(e);
                            return ControlFlow::Break(());
                        }
                    }
                    if !args.json && !stdout_closed {
                        match bar
                            .suspend(|| output::line(epoch_line(report, args.epochs, model.task)))
                        {
                            // `nabla train … | head`: the reader has gone, the training
                            // (and the model it saves) goes on, silently.
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
        },
    )?;
    bar.finish_and_clear();
    if let Some(e) = printing_error {
        return Err(e.into());
    }
    if let Some(mut log) = log {
        use std::io::Write;
        log.flush()?;
    }
    let reports = &training.history;
    // The test metrics of the model as it ends (and is saved): after early stopping that is
    // the restored epoch's network, not the last epoch's.
    let test_eval = match (&test, training.best_epoch) {
        (Some(test), Some(_)) => Some(nabla::evaluate(&model.network, test)?),
        _ => reports.last().and_then(|r| r.test.clone()),
    };
    if !args.json {
        if let Some(best) = training.best_epoch {
            output::note(format!(
                "early stopping: restored the weights of epoch {best} (lowest validation cost){}",
                if training.stopped_early {
                    ""
                } else {
                    "; ran all epochs"
                }
            ));
        }
    }
    // The end of a run: on the test set, accuracy (after early stopping), macro F1 and the
    // confusion matrix for classification; RMSE, MAE and R² for regression.
    let summary = || -> std::io::Result<()> {
        let Some(test) = test_eval.as_ref().filter(|_| !args.json && !stdout_closed) else {
            return Ok(());
        };
        match model.task {
            Task::Classification => {
                if let (Some(accuracy), Some(_)) = (test.accuracy, training.best_epoch) {
                    output::line(format!(
                        "test accuracy {} (restored weights)",
                        output::percent(accuracy)
                    ))?;
                }
                if let (Some(f1), Some(confusion)) = (test.macro_f1, &test.confusion) {
                    output::line(format!("test macro F1 {f1:.4}"))?;
                    if confusion.len() <= 20 {
                        output::confusion_matrix(&model.classes, confusion, test.n)?;
                    }
                }
            }
            Task::Regression => {
                if let (Some(rmse), Some(mae), Some(r2)) = (test.rmse, test.mae, test.r2) {
                    output::line(format!("test RMSE {rmse:.5}  MAE {mae:.5}  R² {r2:.4}"))?;
                }
            }
        }
        Ok(())
    };
    match summary() {
        // A closed stdout loses the summary, not the model saved below.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other?,
    }

    model.extra.insert(
        "training".into(),
        serde_json::to_string(&json!({ "data": data_name, "config": config, "from": args.from }))?,
    );
    if let Some(out) = &args.out {
        model.save(out).context("cannot save the model")?;
        if !args.json {
            output::note(format!("saved {}", out.display()));
        }
    }
    // The plot after the model: a plot that cannot be written loses no training.
    if let Some(plot) = &args.plot {
        write_plot(reports, model.task, plot)?;
    }
    let train_eval = nabla::evaluate(&model.network, &train)?;
    if args.json {
        let test_eval = test_eval.as_ref();
        let mut object = json!({
            "epochs": reports.len(),
            "train_cost": train_eval.cost,
            "test_cost": test_eval.map(|t| t.cost),
            "train_seconds": reports.iter().map(|r| r.seconds).sum::<f64>(),
            "epoch_seconds": reports.iter().map(|r| r.seconds).collect::<Vec<_>>(),
            "history": reports,
            "best_epoch": training.best_epoch,
            "stopped_early": training.stopped_early,
            "validation_cost": reports.iter().find(|r| Some(r.epoch) == training.best_epoch.or(reports.last().map(|r| r.epoch))).and_then(|r| r.validation.as_ref()).map(|v| v.cost),
            "test_macro_f1": test_eval.and_then(|t| t.macro_f1),
            "task": model.task,
            "precision": T::NAME,
            "layers": model.network.sizes(),
            "model": args.out,
        });
        match model.task {
            Task::Classification => {
                object["train_accuracy"] = json!(train_eval.accuracy);
                object["test_accuracy"] = json!(test_eval.and_then(|t| t.accuracy));
            }
            Task::Regression => {
                object["train_rmse"] = json!(train_eval.rmse);
                object["train_mae"] = json!(train_eval.mae);
                object["train_r2"] = json!(train_eval.r2);
                object["test_rmse"] = json!(test_eval.and_then(|t| t.rmse));
                object["test_mae"] = json!(test_eval.and_then(|t| t.mae));
                object["test_r2"] = json!(test_eval.and_then(|t| t.r2));
            }
        }
        output::line(serde_json::to_string(&object)?)?;
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
        match task {
            Task::Classification => {
                line += &format!(
                    "  test accuracy {}",
                    output::percent(t.accuracy.unwrap_or(f64::NAN))
                )
            }
            Task::Regression => {
                line += &format!(
                    "  test RMSE {}",
                    output::fixed(t.rmse.unwrap_or(f64::NAN), 5)
                )
            }
        }
    }
    line + &format!("  {:.3} s", report.seconds)
}

fn new_model<T: Scalar>(args: &TrainArgs) -> anyhow::Result<Prepared<T>> {
    let Some(data_path) = &args.data else {
        return nielsen_mnist(args);
    };
    let ignore = args.ignore.as_deref().unwrap_or_default();
    let training =
        read_training_ignoring::<T>(data_path, args.target.as_deref(), ignore, args.task)?;
    let (n_in, n_out) = (training.data.features(), training.data.outputs());
    let (arch, default_lr) = architecture(args, n_in, n_out, training.task, training.is_idx)?;
    let network: Network<T> = Network::new(arch, args.init.unwrap_or_default(), args.seed)?;
    let mut model = Model::new(network, training.task);
    model.classes = training.classes.clone();
    model.features = training.features.clone();
    model.targets = training.targets.clone();
    model.scaling = if args.no_scaling {
        None
    } else {
        default_scaling(&training)
    };
    let mut train = training.data;
    if let Some(s) = &model.scaling {
        s.apply(&mut train.x)?;
    }
    let test = args
        .test
        .as_ref()
        .map(|p| read_for_model(p, &model, args.target.as_deref(), true))
        .transpose()?;
    let task_inferred = training.task_inferred && !training.is_idx;
    Ok(Prepared {
        model,
        train: train.cast(),
        test,
        data_name: data_path.clone(),
        learning_rate: Some(default_lr),
        task_inferred,
        image_shape: training.image_shape,
    })
}

/// No --data: Nielsen's chapter-1 network on the embedded MNIST subset.
fn nielsen_mnist<T: Scalar>(args: &TrainArgs) -> anyhow::Result<Prepared<T>> {
    if args.target.is_some() || args.task == Some(Task::Regression) {
        bail!("invalid --target/--task: the embedded MNIST subset is a classification set (give --data for your own)");
    }
    let (train, test) = embedded_mnist::<T>()?;
    let (arch, default_lr) = architecture(args, 784, 10, Task::Classification, true)?;
    let network: Network<T> = Network::new(arch, args.init.unwrap_or(Init::Nielsen), args.seed)?;
    let model = Model::new(network, Task::Classification);
    let test = match &args.test {
        Some(p) => read_for_model(p, &model, None, true)?,
        None => test,
    };
    Ok(Prepared {
        model,
        train,
        test: Some(test),
        data_name: embedded_name(),
        learning_rate: Some(default_lr),
        task_inferred: false,
        image_shape: Some((28, 28)),
    })
}

fn continue_from<T: Scalar>(
    args: &TrainArgs,
    from: &std::path::Path,
) -> anyhow::Result<Prepared<T>> {
    let model: Model<T> = load_model(from)?;
    let arch = model.network.architecture().clone();
    let conflict = |flag: &str, given: String, has: String| -> anyhow::Result<()> {
        if given != has {
            bail!("invalid --from: {flag} {given} conflicts with {}'s {has} (the model's architecture wins; drop the flag)", from.display());
        }
        Ok(())
    };
    let join = |v: &[usize]| v.iter().map(usize::to_string).collect::<Vec<_>>().join(",");
    if let Some(layers) = &args.layers {
        conflict("--layers", join(layers), join(&arch.sizes))?;
    }
    if let Some(hidden) = &args.hidden {
        conflict(
            "--hidden",
            join(hidden),
            join(&arch.sizes[1..arch.sizes.len() - 1]),
        )?;
    }
    if let Some(g) = args.activation {
        conflict("--activation", g.to_string(), arch.hidden.to_string())?;
    }
    if let Some(g) = args.output {
        conflict("--output", g.to_string(), arch.output.to_string())?;
    }
    if let Some(c) = args.cost {
        conflict("--cost", c.to_string(), arch.cost.to_string())?;
    }
    if let Some(t) = args.task {
        conflict("--task", t.to_string(), model.task.to_string())?;
    }
    if let (Some(given), Some(has)) = (&args.target, &model.targets) {
        conflict("--target", given.join(","), has.join(","))?;
    }
    if args.init.is_some() {
        bail!("invalid --from: --init does not apply to a model that already has weights");
    }
    if args.no_scaling {
        bail!("invalid --from: --no-scaling conflicts with {}'s feature scaling, which is kept (drop the flag)", from.display());
    }
    let (train, test, data_name, image_shape) = match &args.data {
        Some(path) => {
            let train = read_for_model(path, &model, args.target.as_deref(), true)?;
            let test = args
                .test
                .as_ref()
                .map(|p| read_for_model(p, &model, args.target.as_deref(), true))
                .transpose()?;
            let shape = if nabla::data::idx::is_idx_path(path) {
                Some(nabla::data::idx::image_shape(path)?)
            } else {
                None
            };
            (train, test, path.clone(), shape)
        }
        None => {
            let (train, test) = embedded_mnist::<T>()?;
            if model.network.sizes()[0] != 784 {
                bail!(
                    "invalid --from: {} takes {} inputs, not MNIST's 784 (give --data)",
                    from.display(),
                    model.network.sizes()[0]
                );
            }
            let test = match &args.test {
                Some(p) => read_for_model(p, &model, None, true)?,
                None => test,
            };
            (train, Some(test), embedded_name(), Some((28, 28)))
        }
    };
    let default_lr = match (model.task, arch.cost) {
        (Task::Regression, _) => 0.05,
        (_, Cost::CrossEntropy) => 0.5,
        _ => 3.0,
    };
    Ok(Prepared {
        model,
        train,
        test,
        data_name,
        learning_rate: Some(default_lr),
        task_inferred: false,
        image_shape,
    })
}

fn write_plot(reports: &[EpochReport], task: Task, path: &std::path::Path) -> anyhow::Result<()> {
    nabla::plot::training_curves(reports, task, path).context("cannot write the --plot file")
}

/// The library's training configuration from the flags (after --preset and --config have
/// been expanded into flags).
/// Continuing a trained model (`--from`): its stored optimizer, learning rate and
/// mini-batch size, where the command line gives none (its moments are not stored, so
/// Adam and momentum start them afresh). Says so, unless --json or --quiet.
fn keep_stored_settings<T: Scalar>(args: &TrainArgs, model: &Model<T>, config: &mut TrainConfig) {
    let stored = model
        .extra
        .get("training")
        .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
        .and_then(|record| serde_json::from_value::<TrainConfig>(record["config"].clone()).ok());
    let Some(stored) = stored else {
        return;
    };
    let mut kept = Vec::new();
    if args.optimizer.is_none() && args.momentum.is_none() {
        config.optimizer = stored.optimizer;
        kept.push(optimizer_flags(stored.optimizer));
    }
    if args.lr.is_none() {
        config.learning_rate = stored.learning_rate;
        kept.push(format!("--lr {}", output::number(stored.learning_rate)));
    }
    if args.batch_size.is_none() && !config.optimizer.full_batch() {
        config.batch_size = stored.batch_size;
        kept.push(format!("--batch-size {}", stored.batch_size));
    }
    if !kept.is_empty() && !args.json && !args.quiet {
        output::note(format!(
            "continuing with the model's own {} (give them to change them)",
            kept.join(", ")
        ));
    }
}

/// The flags that give this optimizer: `--optimizer NAME` and its settings that differ
/// from the defaults `NAME` stands for.
fn optimizer_flags(kind: OptimizerKind) -> String {
    let mut flags = format!("--optimizer {kind}");
    let defaults: OptimizerKind = kind.to_string().parse().unwrap_or(kind);
    for ((flag, value), (_, default)) in kind.settings().into_iter().zip(defaults.settings()) {
        if value != default {
            flags.push_str(&format!(" {flag} {}", output::number(value)));
        }
    }
    flags
}

/// `--batch-size` when not given: Nielsen's m = 10.
const DEFAULT_BATCH_SIZE: usize = 10;

fn config_from_args(args: &TrainArgs, mode_default_lr: Option<f64>) -> anyhow::Result<TrainConfig> {
    let mut optimizer = match (args.optimizer, args.momentum) {
        (Some(o), _) => o,
        (None, Some(_)) => "momentum".parse()?,
        (None, None) => OptimizerKind::Sgd,
    };
    match &mut optimizer {
        OptimizerKind::Momentum { mu, nesterov } => {
            *mu = args.momentum.unwrap_or(*mu);
            // `--optimizer nesterov` is Nesterov's form already; `--nesterov` asks for it.
            *nesterov |= args.nesterov;
        }
        OptimizerKind::RmsProp { alpha, eps } => {
            *alpha = args.alpha.unwrap_or(*alpha);
            *eps = args.eps.unwrap_or(*eps);
        }
        OptimizerKind::Adam { beta1, beta2, eps } => {
            *beta1 = args.beta1.unwrap_or(*beta1);
            *beta2 = args.beta2.unwrap_or(*beta2);
            *eps = args.eps.unwrap_or(*eps);
        }
        OptimizerKind::AdamW {
            beta1,
            beta2,
            eps,
            weight_decay,
        } => {
            *beta1 = args.beta1.unwrap_or(*beta1);
            *beta2 = args.beta2.unwrap_or(*beta2);
            *eps = args.eps.unwrap_or(*eps);
            *weight_decay = args.weight_decay.unwrap_or(*weight_decay);
        }
        OptimizerKind::Lbfgs { history } => *history = args.history.unwrap_or(*history),
        OptimizerKind::Sgd | OptimizerKind::Rprop => {}
    }
    let given = |flag: &str, present: bool| {
        if present {
            bail!("invalid {flag}: does not apply to --optimizer {optimizer}")
        }
        Ok(())
    };
    if !matches!(optimizer, OptimizerKind::Momentum { .. }) {
        given("--momentum", args.momentum.is_some())?;
        given("--nesterov", args.nesterov)?;
    }
    if !matches!(
        optimizer,
        OptimizerKind::Adam { .. } | OptimizerKind::AdamW { .. }
    ) {
        given("--beta1", args.beta1.is_some())?;
        given("--beta2", args.beta2.is_some())?;
    }
    if !matches!(optimizer, OptimizerKind::AdamW { .. }) {
        given("--weight-decay", args.weight_decay.is_some())?;
    }
    if !matches!(optimizer, OptimizerKind::RmsProp { .. }) {
        given("--alpha", args.alpha.is_some())?;
    }
    if !matches!(optimizer, OptimizerKind::Lbfgs { .. }) {
        given("--history", args.history.is_some())?;
    }
    if optimizer.full_batch() {
        given("--batch-size", args.batch_size.is_some())?;
    }
    let mut schedule = args.schedule.unwrap_or_default();
    match &mut schedule {
        Schedule::Step { step, gamma } => {
            *step = args.step_size.unwrap_or(*step);
            *gamma = args.gamma.unwrap_or(*gamma);
        }
        Schedule::Exponential { gamma } => *gamma = args.gamma.unwrap_or(*gamma),
        Schedule::Cosine { warmup, eta_min } => {
            *warmup = args.warmup.unwrap_or(*warmup);
            *eta_min = args.eta_min.unwrap_or(*eta_min);
        }
        Schedule::InvScaling { power } => *power = args.power_t.unwrap_or(*power),
        Schedule::Plateau {
            factor, patience, ..
        } => {
            *factor = args.factor.unwrap_or(*factor);
            *patience = args.plateau_patience.unwrap_or(*patience);
        }
        Schedule::Constant => {}
    }
    // A schedule's setting given with another schedule would be silently ignored.
    let schedule_flag = |flag: &str, present: bool, applies: bool| {
        if present && !applies {
            bail!("invalid {flag}: does not apply to --schedule {schedule}")
        }
        Ok(())
    };
    use Schedule as S;
    let gamma = matches!(schedule, S::Step { .. } | S::Exponential { .. });
    schedule_flag("--gamma", args.gamma.is_some(), gamma)?;
    let step = matches!(schedule, S::Step { .. });
    schedule_flag("--step-size", args.step_size.is_some(), step)?;
    let cosine = matches!(schedule, S::Cosine { .. });
    schedule_flag("--warmup", args.warmup.is_some(), cosine)?;
    schedule_flag("--eta-min", args.eta_min.is_some(), cosine)?;
    let inv = matches!(schedule, S::InvScaling { .. });
    schedule_flag("--power-t", args.power_t.is_some(), inv)?;
    let plateau = matches!(schedule, S::Plateau { .. });
    schedule_flag("--factor", args.factor.is_some(), plateau)?;
    schedule_flag(
        "--plateau-patience",
        args.plateau_patience.is_some(),
        plateau,
    )?;
    // With momentum μ, steps add up to η/(1 − μ) along a steady gradient: the default η is
    // the data's plain-SGD default times (1 − μ), the same effective rate (0.05 for μ = 0.9
    // on CSV classification, where 0.5 would diverge).
    let momentum_factor = match optimizer {
        OptimizerKind::Momentum { mu, .. } => 1.0 - mu,
        _ => 1.0,
    };
    let learning_rate = args
        .lr
        .or(optimizer.default_learning_rate())
        .or(mode_default_lr.map(|eta| (eta * momentum_factor * 1e12).round() / 1e12))
        .unwrap_or(0.5);
    Ok(TrainConfig {
        epochs: args.epochs,
        batch_size: args.batch_size.unwrap_or(DEFAULT_BATCH_SIZE),
        learning_rate,
        seed: args.seed,
        shuffle: !args.no_shuffle,
        optimizer,
        schedule,
        l2: args.l2.unwrap_or(0.0),
        l1: args.l1.unwrap_or(0.0),
        dropout: args.dropout.unwrap_or(0.0),
        clip_norm: args.clip_norm,
        validation: args.validation.unwrap_or(0.0),
        patience: args.patience,
        augment_shift: None,
        evaluate_train: true,
    })
}

/// The network to build from the flags, for data with `n_in` features and `n_out` outputs,
/// and the learning rate plain SGD gets when --lr is not given. Defaults: one hidden layer
/// of 30 sigmoid neurons; images (MNIST) get Nielsen's sigmoid output with the quadratic
/// cost (eta 3.0), other classification softmax + cross-entropy (0.5), regression identity +
/// quadratic (0.05); an explicit --cost cross-entropy for classification implies softmax.
fn architecture(
    args: &TrainArgs,
    n_in: usize,
    n_out: usize,
    task: Task,
    images: bool,
) -> anyhow::Result<(Architecture, f64)> {
    let sizes = match (&args.layers, &args.hidden) {
        (Some(layers), _) => {
            check_layers(layers, n_in, n_out, task).map_err(|e| match &args.preset {
                // The sizes may be the preset's, which the user never typed.
                Some(preset) => anyhow::anyhow!(
                    "{e} (--preset {preset} is made for MNIST: 784 inputs, 10 classes; give --hidden for other data)"
                ),
                None => e,
            })?;
            layers.clone()
        }
        (None, hidden) => [
            vec![n_in],
            hidden.clone().unwrap_or_else(|| vec![30]),
            vec![n_out],
        ]
        .concat(),
    };
    let (default_output, default_cost, default_lr) = match task {
        Task::Classification if images => (Activation::Sigmoid, Cost::Quadratic, 3.0),
        Task::Classification => (Activation::Softmax, Cost::CrossEntropy, 0.5),
        Task::Regression => (Activation::Identity, Cost::Quadratic, 0.05),
    };
    let cost = args.cost.unwrap_or(default_cost);
    let output = args.output.unwrap_or(
        if cost == Cost::CrossEntropy && task == Task::Classification {
            Activation::Softmax
        } else {
            default_output
        },
    );
    let arch = Architecture::new(
        &sizes,
        args.activation.unwrap_or(Activation::Sigmoid),
        output,
        cost,
    )?;
    Ok((arch, default_lr))
}

fn check_layers(layers: &[usize], n_in: usize, n_out: usize, task: Task) -> anyhow::Result<()> {
    if layers.len() < 2 {
        bail!("invalid --layers: need at least an input and an output size");
    }
    if layers[0] != n_in {
        bail!(
            "invalid --layers: n_0 = {} but the data has {n_in} features",
            layers[0]
        );
    }
    let last = layers[layers.len() - 1];
    if last != n_out {
        let what = if task == Task::Classification {
            "classes"
        } else {
            "target columns"
        };
        bail!("invalid --layers: n_L = {last} but the data has {n_out} {what}");
    }
    Ok(())
}
