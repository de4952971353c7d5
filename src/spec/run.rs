//! A [`TrainSpec`] run end to end: its files read, its model built or continued, trained,
//! and summed up in a [`Summary`].

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::data::frame::ReadOptions;
use crate::data::source::{
    default_scaling, read_for_model, read_for_model_with, read_training_table, ModelReadOptions,
    TableNote, TableSettings,
};
use crate::data::{Dataset, Scaling};
use crate::error::{Error, Result};
use crate::matrix::Scalar;
use crate::metrics::{evaluate_in_units, Evaluation};
use crate::model_file::{Model, Resume, Task};
use crate::network::Network;
use crate::optimizer::OptimizerKind;
use crate::setting::Setting;
use crate::spec::{resolve, DataShape, Precision, Resolved, TrainSpec};
use crate::train::{
    train_run, EpochEnd, EpochReport, RunState, TrainConfig, TrainEvent, Warning, WarningKind,
};

/// Something a front end may want to tell the user before training starts.
#[derive(Clone, Debug, PartialEq)]
pub enum Note {
    /// The task was inferred from the target column.
    TaskInferred(Task),
    /// Continuing a model with its own stored settings where the spec gives none: groups of
    /// (setting, value), one group per setting (an optimizer with its own settings).
    KeptFromModel(Vec<Vec<(Setting, String)>>),
    /// Something about a CSV table: an index column left out, a detected delimiter, rows
    /// without a label, columns one-hot encoded, missing values filled in.
    Table(TableNote),
}

/// A run ready to train: the model (new or continued), its data, the resolved settings.
#[derive(Debug)]
pub struct Prepared<T: Scalar> {
    /// The model to train.
    pub model: Model<T>,
    /// The training set (scaled as the model scales its inputs).
    pub train: Dataset<T>,
    /// The test set, if any.
    pub test: Option<Dataset<T>>,
    /// The training data's name (a path, or the embedded set's name).
    pub data_name: PathBuf,
    /// Every setting, resolved.
    pub resolved: Resolved,
    /// What to tell the user.
    pub notes: Vec<Note>,
    /// Where to save the model every [`TrainSpec::checkpoint_every`] epochs (the file a
    /// front end saves the trained model to).
    pub checkpoint: Option<PathBuf>,
    /// Whether η was given (or kept from the model) rather than the default.
    lr_given: bool,
}

/// The precision a spec runs in: its own, else the `from` model's, else f32.
///
/// # Errors
/// The model file's errors.
pub fn precision_of(spec: &TrainSpec) -> Result<Precision> {
    if let Some(p) = spec.precision {
        return Ok(p);
    }
    match &spec.from {
        Some(from) => Ok(match crate::model_file::stored_precision(from)? {
            "f64" => Precision::F64,
            _ => Precision::F32,
        }),
        None => Ok(Precision::F32),
    }
}

/// Reads the spec's data and builds (or loads, with `from`) its model, in precision `T`
/// (see [`precision_of`]).
///
/// # Errors
/// [`TrainSpec::check`]'s and [`resolve`]'s errors; the readers' errors naming file, line
/// and column; for `from`, [`Error::InvalidConfig`] naming [`Setting::From`] when an
/// architecture setting conflicts with the model's.
pub fn prepare<T: Scalar>(spec: &TrainSpec) -> Result<Prepared<T>> {
    prepare_with_progress(spec, &mut |_, _| {})
}

/// As [`prepare`], calling `progress(bytes read, total bytes)` while the training table
/// loads (the total is 0 when unknown: standard input).
///
/// # Errors
/// As [`prepare`].
pub fn prepare_with_progress<T: Scalar>(
    spec: &TrainSpec,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Prepared<T>> {
    spec.check()?;
    let given = spec.expanded();
    if given.data.as_deref() == Some(Path::new("-"))
        && given.test.as_deref() == Some(Path::new("-"))
    {
        return Err(Error::config(
            Setting::Test,
            format!(
                "standard input ('-') can be read once: it is already {}",
                Setting::Data.mention()
            ),
        ));
    }
    match &spec.from {
        Some(from) => continue_from(spec, from),
        None => new_model(spec, progress),
    }
}

/// The table settings of a spec.
pub fn table_settings(spec: &TrainSpec) -> Result<TableSettings> {
    let mut read = ReadOptions::default();
    if let Some(d) = spec.delimiter {
        read.delimiter = Some(super::check_delimiter(d)?);
    }
    if let Some(na) = &spec.na_values {
        read.na_values = na.clone();
    }
    Ok(TableSettings {
        read,
        categorical: spec.categorical.clone().unwrap_or_default(),
        impute: spec.impute,
        unknown_category: spec.unknown_category.unwrap_or_default(),
    })
}

fn new_model<T: Scalar>(
    spec: &TrainSpec,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Prepared<T>> {
    let Some(data_path) = &spec.data else {
        return embedded_mnist(spec);
    };
    let given = spec.expanded();
    let ignore = given.ignore.as_deref().unwrap_or_default();
    let settings = table_settings(&given)?;
    let training = read_training_table::<T>(
        data_path,
        given.target.as_deref(),
        ignore,
        given.task,
        &settings,
        Some(progress),
    )?;
    let shape = DataShape {
        features: training.data.features(),
        outputs: training.data.outputs(),
        task: training.task,
        images: training.image_shape,
        embedded: false,
    };
    let resolved = resolve(spec, &shape, None)?;
    let network: Network<T> = Network::new(
        resolved.architecture.clone(),
        resolved.init,
        resolved.config.seed,
    )?;
    let mut model = Model::new(network, training.task);
    model.classes = training.classes.clone();
    model.features = training.features.clone();
    model.targets = training.targets.clone();
    model.encoding = training.encoding.clone();
    model.scaling = if resolved.scaling {
        default_scaling(&training)
    } else {
        None
    };
    let mut train = training.data;
    if let Some(s) = &model.scaling {
        s.apply(&mut train.x)?;
    }
    if resolved.target_scaling {
        let s = Scaling::standardize(&train.y);
        s.apply(&mut train.y)?;
        model.target_scaling = Some(s);
    }
    let mut resolved = resolved;
    resolved.config.target_scaling = model.target_scaling.clone();
    let test = given
        .test
        .as_ref()
        .map(|p| test_for_model(p, &model, given.target.as_deref()))
        .transpose()?;
    let mut notes = Vec::new();
    if training.task_inferred && !training.is_idx {
        notes.push(Note::TaskInferred(training.task));
    }
    notes.extend(training.notes.iter().cloned().map(Note::Table));
    Ok(Prepared {
        model,
        train: train.cast(),
        test,
        data_name: data_path.clone(),
        resolved,
        notes,
        checkpoint: None,
        lr_given: given.lr.is_some(),
    })
}

/// A data file read for `model`, its targets standardised as the network learns them.
fn test_for_model<T: Scalar>(
    path: &Path,
    model: &Model<T>,
    target: Option<&[String]>,
) -> Result<Dataset<T>> {
    let mut data = read_for_model(path, model, target, true)?;
    model.scale_targets(&mut data)?;
    Ok(data)
}

/// No data file: Nielsen's chapter-1 setting on the embedded MNIST subset.
#[cfg(feature = "mnist")]
fn embedded_mnist<T: Scalar>(spec: &TrainSpec) -> Result<Prepared<T>> {
    let given = spec.expanded();
    if given.target.is_some() || given.task == Some(Task::Regression) {
        return Err(Error::config(
            Setting::Target,
            format!(
                "the embedded MNIST subset is a classification set (give {} for your own)",
                Setting::Data.mention()
            ),
        ));
    }
    let (train, test) = crate::data::idx::embedded_mnist::<T>()?;
    let shape = DataShape {
        features: 784,
        outputs: 10,
        task: Task::Classification,
        images: Some((28, 28)),
        embedded: true,
    };
    let resolved = resolve(spec, &shape, None)?;
    let network: Network<T> = Network::new(
        resolved.architecture.clone(),
        resolved.init,
        resolved.config.seed,
    )?;
    let model = Model::new(network, Task::Classification);
    let test = match &given.test {
        Some(p) => read_for_model(p, &model, None, true)?,
        None => test,
    };
    Ok(Prepared {
        model,
        train,
        test: Some(test),
        data_name: crate::data::source::embedded_name(),
        resolved,
        notes: Vec::new(),
        checkpoint: None,
        lr_given: given.lr.is_some(),
    })
}

#[cfg(not(feature = "mnist"))]
fn embedded_mnist<T: Scalar>(_spec: &TrainSpec) -> Result<Prepared<T>> {
    Err(Error::config(
        Setting::Data,
        "no data given, and this build has no embedded MNIST subset (feature \"mnist\")",
    ))
}

fn continue_from<T: Scalar>(spec: &TrainSpec, from: &Path) -> Result<Prepared<T>> {
    let given = spec.expanded();
    let model: Model<T> = Model::<T>::load(from)?;
    check_compatible(&given, &model, from)?;
    let (train, test, data_name, images) = match &given.data {
        Some(path) => {
            let options = ModelReadOptions {
                delimiter: table_settings(&given)?.read.delimiter,
                ..ModelReadOptions::default()
            };
            let read = |p: &Path| -> Result<Dataset<T>> {
                let mut data =
                    read_for_model_with(p, &model, given.target.as_deref(), true, &options, None)?
                        .data;
                model.scale_targets(&mut data)?;
                Ok(data)
            };
            let train = read(path)?;
            let test = given.test.as_deref().map(read).transpose()?;
            let shape = if crate::data::idx::is_idx_path(path) {
                Some(crate::data::idx::image_shape(path)?)
            } else {
                None
            };
            (train, test, path.clone(), shape)
        }
        None => continue_on_mnist(&given, &model, from)?,
    };
    let net = &model.network;
    let shape = DataShape {
        features: net.sizes()[0],
        outputs: net.sizes()[net.last()],
        task: model.task,
        images,
        embedded: given.data.is_none(),
    };
    let (kept_spec, kept) = keep_stored_settings(&given, &model);
    let mut resolved = resolve(&kept_spec, &shape, Some(net.architecture()))?;
    resolved.scaling = model.scaling.is_some();
    resolved.spec.scaling = Some(resolved.scaling);
    resolved.target_scaling = model.target_scaling.is_some();
    if model.task == Task::Regression {
        resolved.spec.target_scaling = Some(resolved.target_scaling);
    }
    resolved.config.target_scaling = model.target_scaling.clone();
    resolved.spec.from = Some(from.to_path_buf());
    let notes = if kept.is_empty() {
        Vec::new()
    } else {
        vec![Note::KeptFromModel(kept)]
    };
    let lr_given = kept_spec.expanded().lr.is_some();
    Ok(Prepared {
        model,
        train,
        test,
        data_name,
        resolved,
        notes,
        checkpoint: None,
        lr_given,
    })
}

type Continued<T> = (
    Dataset<T>,
    Option<Dataset<T>>,
    PathBuf,
    Option<(usize, usize)>,
);

#[cfg(feature = "mnist")]
fn continue_on_mnist<T: Scalar>(
    given: &TrainSpec,
    model: &Model<T>,
    from: &Path,
) -> Result<Continued<T>> {
    let (train, test) = crate::data::idx::embedded_mnist::<T>()?;
    if model.network.sizes()[0] != 784 {
        return Err(Error::config(
            Setting::From,
            format!(
                "{} takes {} inputs, not MNIST's 784 (give {})",
                from.display(),
                model.network.sizes()[0],
                Setting::Data.mention()
            ),
        ));
    }
    let test = match &given.test {
        Some(p) => read_for_model(p, model, None, true)?,
        None => test,
    };
    Ok((
        train,
        Some(test),
        crate::data::source::embedded_name(),
        Some((28, 28)),
    ))
}

#[cfg(not(feature = "mnist"))]
fn continue_on_mnist<T: Scalar>(
    _given: &TrainSpec,
    _model: &Model<T>,
    _from: &Path,
) -> Result<Continued<T>> {
    embedded_mnist::<T>(&TrainSpec::default()).map(|_| unreachable!("no embedded data"))
}

/// `from`: the model's architecture wins, and a setting that contradicts it is an error.
fn check_compatible<T: Scalar>(given: &TrainSpec, model: &Model<T>, from: &Path) -> Result<()> {
    let arch = model.network.architecture();
    let conflict = |setting: Setting, given: String, has: String| -> Result<()> {
        if given != has {
            return Err(Error::config(
                Setting::From,
                format!(
                    "{} {given} conflicts with {}'s {has} (the model's architecture wins; drop the setting)",
                    setting.mention(),
                    from.display()
                ),
            ));
        }
        Ok(())
    };
    let join = |v: &[usize]| v.iter().map(usize::to_string).collect::<Vec<_>>().join(",");
    if let Some(layers) = &given.layers {
        conflict(Setting::Layers, join(layers), join(&arch.sizes))?;
    }
    if let Some(hidden) = &given.hidden {
        let has = join(&arch.sizes[1..arch.sizes.len() - 1]);
        conflict(Setting::Hidden, join(hidden), has)?;
    }
    if let Some(g) = given.activation {
        conflict(Setting::Activation, g.to_string(), arch.hidden.to_string())?;
    }
    if let Some(g) = given.output {
        conflict(Setting::Output, g.to_string(), arch.output.to_string())?;
    }
    if let Some(c) = given.cost {
        conflict(Setting::Cost, c.to_string(), arch.cost.to_string())?;
    }
    if let Some(t) = given.task {
        conflict(Setting::Task, t.to_string(), model.task.to_string())?;
    }
    if let (Some(given), Some(has)) = (&given.target, &model.targets) {
        conflict(Setting::Target, given.join(","), has.join(","))?;
    }
    for (setting, given) in [
        (Setting::NaValues, given.na_values.is_some()),
        (Setting::Impute, given.impute.is_some()),
        (Setting::Categorical, given.categorical.is_some()),
        (Setting::UnknownCategory, given.unknown_category.is_some()),
    ] {
        if given {
            return Err(Error::config(
                Setting::From,
                format!(
                    "{} does not apply to a model that already reads its columns its own way ({} keeps its encoding; drop the setting)",
                    setting.mention(),
                    from.display()
                ),
            ));
        }
    }
    if given.init.is_some() {
        return Err(Error::config(
            Setting::From,
            format!(
                "{} does not apply to a model that already has weights",
                Setting::Init.mention()
            ),
        ));
    }
    if given.target_scaling == Some(false) && model.target_scaling.is_some() {
        return Err(Error::config(
            Setting::From,
            format!(
                "{} conflicts with {}'s target scaling, which is kept (drop the setting)",
                Setting::TargetScaling.mention(),
                from.display()
            ),
        ));
    }
    if given.scaling == Some(false) && model.scaling.is_some() {
        return Err(Error::config(
            Setting::From,
            format!(
                "{} conflicts with {}'s feature scaling, which is kept (drop the setting)",
                Setting::Scaling.mention(),
                from.display()
            ),
        ));
    }
    Ok(())
}

/// Continuing a trained model: its stored optimizer, learning rate and mini-batch size
/// where the spec gives none. Returns the spec with them filled in, and what was kept.
fn keep_stored_settings<T: Scalar>(
    given: &TrainSpec,
    model: &Model<T>,
) -> (TrainSpec, Vec<Vec<(Setting, String)>>) {
    let mut spec = given.clone();
    let stored = model
        .extra
        .get("training")
        .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
        .and_then(|record| serde_json::from_value::<TrainConfig>(record["config"].clone()).ok());
    let Some(stored) = stored else {
        return (spec, Vec::new());
    };
    // The run goes on with its own streams (see `crate::train_from`).
    spec.seed = given.seed.or(Some(stored.seed));
    let mut kept = Vec::new();
    if given.optimizer.is_none() && given.momentum.is_none() {
        spec.optimizer = Some(stored.optimizer);
        let mut group = vec![(Setting::Optimizer, stored.optimizer.to_string())];
        let defaults: OptimizerKind = stored
            .optimizer
            .to_string()
            .parse()
            .unwrap_or(stored.optimizer);
        for ((setting, value), (_, default)) in stored
            .optimizer
            .settings()
            .into_iter()
            .zip(defaults.settings())
        {
            if value != default {
                group.push((setting, number(value)));
            }
        }
        kept.push(group);
    }
    if given.lr.is_none() {
        spec.lr = Some(stored.learning_rate);
        kept.push(vec![(Setting::LearningRate, number(stored.learning_rate))]);
    }
    let full_batch = spec.optimizer.is_some_and(|o| o.full_batch());
    if given.batch_size.is_none() && !full_batch {
        spec.batch_size = Some(stored.batch_size);
        kept.push(vec![(Setting::BatchSize, stored.batch_size.to_string())]);
    }
    (spec, kept)
}

/// A number as a user would type it: the shortest text that reads back to the same f64.
fn number(v: f64) -> String {
    format!("{v}")
}

/// The outcome of a training run: one schema for what the CLI prints, `--json` emits and
/// a model's training record (`training` in its metadata) stores. Documented field by
/// field in `docs/summary.md`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Epochs run.
    pub epochs: usize,
    /// C₀ on the training set at the end.
    pub train_cost: f64,
    /// C on the test set at the end.
    pub test_cost: Option<f64>,
    /// Seconds of training passes (evaluation excluded).
    pub train_seconds: f64,
    /// Each epoch's training seconds.
    pub epoch_seconds: Vec<f64>,
    /// One report per epoch.
    pub history: Vec<EpochReport>,
    /// With early stopping: the epoch whose weights the model holds.
    pub best_epoch: Option<usize>,
    /// Whether early stopping ended the run before its last epoch.
    pub stopped_early: bool,
    /// The validation cost of the epoch the model holds.
    pub validation_cost: Option<f64>,
    /// Classification: accuracy on the training set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_accuracy: Option<f64>,
    /// Classification: accuracy on the test set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_accuracy: Option<f64>,
    /// Classification: macro F1 on the test set.
    pub test_macro_f1: Option<f64>,
    /// Regression: RMSE on the training set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_rmse: Option<f64>,
    /// Regression: MAE on the training set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_mae: Option<f64>,
    /// Regression: R² on the training set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_r2: Option<f64>,
    /// Regression: RMSE on the test set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_rmse: Option<f64>,
    /// Regression: MAE on the test set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_mae: Option<f64>,
    /// Regression: R² on the test set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_r2: Option<f64>,
    /// Regression: RMSE of each target on the training set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_rmse_per_target: Option<Vec<f64>>,
    /// Regression: RMSE of each target on the test set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_rmse_per_target: Option<Vec<f64>>,
    /// Regression: MAE of each target on the test set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_mae_per_target: Option<Vec<f64>>,
    /// Regression: R² of each target on the test set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_r2_per_target: Option<Vec<f64>>,
    /// Regression: the targets' names, in the order of the per-target metrics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<String>>,
    /// What went wrong in a run that still finished (each said once); their messages
    /// mention settings ([`Setting::mention`]) until a front end renders them.
    #[serde(default)]
    pub warnings: Vec<Warning>,
    /// Classification or regression.
    pub task: Task,
    /// f32 or f64.
    pub precision: Precision,
    /// `n_0, …, n_L`.
    pub layers: Vec<usize>,
    /// The training data.
    pub data: PathBuf,
    /// The model continued, if any.
    pub from: Option<PathBuf>,
    /// The library's training configuration.
    pub config: TrainConfig,
    /// Every setting of the run, resolved.
    pub spec: TrainSpec,
    /// The test evaluation at the end (confusion matrix included), for a front end to show.
    #[serde(skip)]
    pub test: Option<Evaluation>,
}

impl Summary {
    /// The training record a model stores: the summary without what changes from one run
    /// of the same settings to the next (the seconds, the thread count), so that the same
    /// run saves the same bytes.
    pub fn record(&self) -> String {
        let mut record = serde_json::to_value(self).expect("a summary serializes");
        let object = record.as_object_mut().expect("a summary is an object");
        object.remove("train_seconds");
        object.remove("epoch_seconds");
        if let Some(history) = object.get_mut("history").and_then(|h| h.as_array_mut()) {
            for report in history {
                report.as_object_mut().map(|r| r.remove("seconds"));
            }
        }
        if let Some(spec) = object.get_mut("spec").and_then(|s| s.as_object_mut()) {
            spec.remove("threads");
        }
        if let Some(warnings) = object.get_mut("warnings").and_then(|w| w.as_array_mut()) {
            for w in warnings {
                if let Some(m) = w.get_mut("message") {
                    let text = m.as_str().unwrap_or_default();
                    *m = crate::setting::render(text, &|s| s.name().to_string()).into();
                }
            }
        }
        record.to_string()
    }

    /// The warnings' messages with each setting named by `name_of` (a front end's names).
    pub fn render_warnings(&mut self, name_of: &dyn Fn(Setting) -> String) {
        for w in &mut self.warnings {
            w.message = crate::setting::render(&w.message, name_of);
        }
    }
}

/// The warnings a finished run deserves besides divergence: a cost that hardly moved, an
/// accuracy no better than answering the most common class, one class for every example.
fn warnings_after(history: &[EpochReport], end: &Evaluation) -> Vec<Warning> {
    let mut warnings = Vec::new();
    let costs: Vec<f64> = history.iter().filter_map(|r| r.train_cost).collect();
    if let (true, Some(first), Some(last)) = (costs.len() >= 3, costs.first(), costs.last()) {
        if (first - last).abs() <= FLAT * first.abs() {
            warnings.push(Warning::new(
                WarningKind::CostFlat,
                format!(
                    "the training cost hardly moved ({first:.6} in epoch {} to {last:.6} in epoch {}): the network is not learning; try another {} or {}",
                    history[0].epoch,
                    history[history.len() - 1].epoch,
                    Setting::LearningRate.mention(),
                    Setting::Init.mention()
                ),
            ));
        }
    }
    if let (Some(confusion), Some(accuracy)) = (&end.confusion, end.accuracy) {
        let actual: Vec<usize> = confusion.iter().map(|row| row.iter().sum()).collect();
        let predicted: Vec<usize> = (0..confusion.len())
            .map(|c| confusion.iter().map(|row| row[c]).sum())
            .collect();
        let n: usize = actual.iter().sum();
        let majority = actual.iter().copied().max().unwrap_or(0) as f64 / n.max(1) as f64;
        let classes_present = actual.iter().filter(|&&c| c > 0).count();
        let classes_predicted = predicted.iter().filter(|&&c| c > 0).count();
        if classes_present > 1 && classes_predicted == 1 {
            warnings.push(Warning::new(
                WarningKind::SingleClass,
                format!(
                    "every example was given the same class: the network is not learning; try a smaller {} or another {}",
                    Setting::LearningRate.mention(),
                    Setting::Init.mention()
                ),
            ));
        } else if classes_present > 1 && accuracy <= majority + CHANCE_MARGIN {
            warnings.push(Warning::new(
                WarningKind::ChanceAccuracy,
                format!(
                    "accuracy {:.2}% is at chance level (always answering the most common class gives {:.2}%); try another {} or more {}",
                    100.0 * accuracy,
                    100.0 * majority,
                    Setting::LearningRate.mention(),
                    Setting::Epochs.mention()
                ),
            ));
        }
    }
    warnings
}

/// A training cost that moved by less than this fraction over a run is flat.
const FLAT: f64 = 1e-4;
/// An accuracy within this of the most common class's share is at chance level.
const CHANCE_MARGIN: f64 = 0.01;

impl<T: Scalar> Prepared<T> {
    /// Sets the file to save checkpoints to (the file the trained model goes to).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming [`Setting::CheckpointEvery`] when the spec asks for
    /// checkpoints and there is no file.
    pub fn set_checkpoint(&mut self, path: Option<PathBuf>) -> Result<()> {
        self.checkpoint = path;
        if self.resolved.spec.checkpoint_every.is_some() && self.checkpoint.is_none() {
            return Err(Error::config(
                Setting::CheckpointEvery,
                format!(
                    "needs a file to save the model to ({})",
                    Setting::Out.mention()
                ),
            ));
        }
        Ok(())
    }

    /// Trains the model in place on [`Resolved::threads`] threads, calling `on_event`
    /// after each mini-batch and epoch (`Break` stops after the current one), and records
    /// the [`Summary`] in the model's metadata (`training`).
    ///
    /// # Errors
    /// [`crate::train()`]'s errors.
    pub fn train(
        &mut self,
        on_event: impl FnMut(TrainEvent<'_>) -> ControlFlow<()>,
    ) -> Result<Summary> {
        self.set_checkpoint(self.checkpoint.clone())?;
        let config = &self.resolved.config;
        let checkpoint_every = self.resolved.spec.checkpoint_every;
        config.validate()?;
        // The optimizer and the run where the model's last run left them, when it was
        // the same optimizer.
        let mut optimizer = config.optimizer.build::<T>();
        let mut state = RunState::default();
        if let Some(resume) = self.model.resume.take() {
            state = resume.run;
            if resume.optimizer == config.optimizer {
                optimizer.set_state(resume.state);
            }
        }
        let template = (checkpoint_every.is_some()).then(|| {
            let mut m = self.model.clone();
            let record = serde_json::json!({
                "checkpoint": true,
                "config": config,
                "spec": self.resolved.spec,
            });
            m.extra.insert("training".into(), record.to_string());
            m
        });
        let path = self.checkpoint.clone();
        let optimizer_kind = config.optimizer;
        let at_epoch_end = |end: &EpochEnd<'_, T>| -> Result<()> {
            let (Some(every), Some(template), Some(path)) = (checkpoint_every, &template, &path)
            else {
                return Ok(());
            };
            if !end.state.epochs.is_multiple_of(every) {
                return Ok(());
            }
            let mut model = template.clone();
            match end.best {
                // Early stopping: the best weights so far (no state to go on from).
                Some(best) => model.network = best.clone(),
                None => {
                    model.network = end.net.clone();
                    model.resume = Some(Resume {
                        run: end.state.clone(),
                        optimizer: optimizer_kind,
                        state: end.optimizer.state(),
                    });
                }
            }
            model.save(path)
        };
        let training = crate::parallel::with_threads(self.resolved.threads, || {
            train_run(
                &mut self.model.network,
                optimizer.as_mut(),
                &self.train,
                self.test.as_ref(),
                config,
                &mut state,
                on_event,
                at_epoch_end,
            )
        })?;
        let diverged = training
            .warnings
            .iter()
            .any(|w| w.kind == WarningKind::Diverged);
        let restored = training
            .best_epoch
            .is_some_and(|best| Some(best) != training.history.last().map(|r| r.epoch));
        self.model.resume = (!diverged && !restored).then(|| Resume {
            run: training.state.clone(),
            optimizer: config.optimizer,
            state: optimizer.state(),
        });
        let reports = &training.history;
        let units = config.target_scaling.as_ref();
        // The test metrics of the model as it ends (and is saved): after early stopping
        // (or divergence) that is the restored epoch's network, not the last epoch's.
        let test = match (&self.test, training.best_epoch.is_some() || diverged) {
            (Some(test), true) => Some(evaluate_in_units(&self.model.network, test, units)?),
            _ => reports.last().and_then(|r| r.test.clone()),
        };
        let train = evaluate_in_units(&self.model.network, &self.train, units)?;
        let mut warnings: Vec<Warning> = training
            .warnings
            .iter()
            .map(|w| match &w.diverged {
                Some((epoch, why)) => {
                    Warning::diverged(*epoch, why, config.learning_rate, self.lr_given)
                }
                None => w.clone(),
            })
            .collect();
        if !diverged {
            warnings.extend(warnings_after(reports, test.as_ref().unwrap_or(&train)));
        }
        let held = training.best_epoch.or(reports.last().map(|r| r.epoch));
        let classification = self.model.task == Task::Classification;
        let class = |v: Option<f64>| if classification { v } else { None };
        let regress = |v: Option<f64>| if classification { None } else { v };
        let t = test.as_ref();
        let summary = Summary {
            epochs: reports.len(),
            train_cost: train.cost,
            test_cost: t.map(|t| t.cost),
            train_seconds: reports.iter().map(|r| r.seconds).sum(),
            epoch_seconds: reports.iter().map(|r| r.seconds).collect(),
            history: reports.clone(),
            best_epoch: training.best_epoch,
            stopped_early: training.stopped_early,
            validation_cost: reports
                .iter()
                .find(|r| Some(r.epoch) == held)
                .and_then(|r| r.validation.as_ref())
                .map(|v| v.cost),
            train_accuracy: class(train.accuracy),
            test_accuracy: class(t.and_then(|t| t.accuracy)),
            test_macro_f1: t.and_then(|t| t.macro_f1),
            train_rmse: regress(train.rmse),
            train_mae: regress(train.mae),
            train_r2: regress(train.r2),
            test_rmse: regress(t.and_then(|t| t.rmse)),
            test_mae: regress(t.and_then(|t| t.mae)),
            test_r2: regress(t.and_then(|t| t.r2)),
            train_rmse_per_target: train.rmse_per_target.clone().filter(|_| !classification),
            test_rmse_per_target: t.and_then(|t| t.rmse_per_target.clone()),
            test_mae_per_target: t.and_then(|t| t.mae_per_target.clone()),
            test_r2_per_target: t.and_then(|t| t.r2_per_target.clone()),
            targets: if classification {
                None
            } else {
                self.model.targets.clone()
            },
            warnings,
            task: self.model.task,
            precision: self.resolved.precision,
            layers: self.model.network.sizes().to_vec(),
            data: self.data_name.clone(),
            from: self.resolved.spec.from.clone(),
            config: self.resolved.config.clone(),
            spec: self.resolved.spec.clone(),
            test,
        };
        self.model.extra.insert("training".into(), summary.record());
        Ok(summary)
    }
}
