//! Turning a file on disk (CSV or IDX) into a [`Dataset`], either to train a new model
//! (choosing classes, features and the input scaling) or to use an existing one (with the
//! model's classes, feature columns and scaling).

use std::path::{Path, PathBuf};

use crate::data::csv::{abbreviate, class_position, one_line};
use crate::data::encoding::Encoding;
use crate::data::frame::Progress;
pub use crate::data::tabular::{ModelData, ModelReadOptions, TableNote, TableSettings};
use crate::data::{idx, tabular, Dataset, Scaling};
use crate::error::{Error, Result};
use crate::matrix::{Matrix, Scalar};
use crate::model_file::{Model, Task};
use crate::setting::Setting;

/// A data file read for training a new model.
#[derive(Clone, Debug)]
pub struct TrainingData {
    /// The examples (unscaled).
    pub data: Dataset<f64>,
    /// Classification or regression.
    pub task: Task,
    /// Whether the task was inferred rather than given.
    pub task_inferred: bool,
    /// The class names, in output order (classification).
    pub classes: Vec<String>,
    /// Feature column names (CSV).
    pub features: Option<Vec<String>>,
    /// Target column names (CSV).
    pub targets: Option<Vec<String>>,
    /// Whether the file was IDX (pixels already in [0, 1]).
    pub is_idx: bool,
    /// `(height, width)` of IDX images.
    pub image_shape: Option<(usize, usize)>,
    /// How the CSV columns became inputs (stored in the model unless it is plain numbers).
    pub encoding: Option<Encoding>,
    /// What to tell the user about the table.
    pub notes: Vec<TableNote>,
}

/// Reads a training file for a model in f32, the default precision: as [`read_training_in`]
/// with `T = f32`, so a CSV value beyond f32's range (such as 1e39) is an error naming its
/// line and column.
///
/// # Errors
/// As [`read_training_in`].
pub fn read_training(
    path: &Path,
    targets: Option<&[String]>,
    task: Option<Task>,
) -> Result<TrainingData> {
    read_training_in::<f32>(path, targets, task)
}

/// Reads a training file for a model in precision `T`. For CSV, `targets` names the target
/// columns (default: the last column) and `task` may be inferred: text labels or integer
/// labels mean classification, anything else regression. Every CSV number must be a finite
/// value of `T` (the data stays in f64 until it is scaled, but must fit `T` either way).
///
/// # Errors
/// Any [`Error::Io`], [`Error::Csv`] or [`Error::Idx`] naming the file, line and column;
/// [`Error::InvalidConfig`] for `--target` naming a column twice.
pub fn read_training_in<T: Scalar>(
    path: &Path,
    targets: Option<&[String]>,
    task: Option<Task>,
) -> Result<TrainingData> {
    read_training_ignoring::<T>(path, targets, &[], task)
}

/// As [`read_training_in`], with the CSV columns named in `ignore` left out of the features
/// (an ID, a free-text note): `--ignore`.
///
/// # Errors
/// As [`read_training_in`], and [`Error::InvalidConfig`] for `--ignore` naming a column
/// twice, a target, or anything in an IDX file; [`Error::Csv`] for a column not in the file.
pub fn read_training_ignoring<T: Scalar>(
    path: &Path,
    targets: Option<&[String]>,
    ignore: &[String],
    task: Option<Task>,
) -> Result<TrainingData> {
    read_training_table::<T>(path, targets, ignore, task, &TableSettings::default(), None)
}

/// As [`read_training_ignoring`], with the table settings (delimiter, missing values,
/// imputation, categories; see [`super::tabular`]) and a progress callback for the load.
/// `path` may be `-` (standard input) or a `.gz` file.
///
/// # Errors
/// As [`read_training_ignoring`]; [`Error::Csv`] listing every column with missing values
/// when no imputation is given, every text column that cannot be categories, and an
/// unseen category; [`Error::InvalidConfig`] for a `categorical` column that is a target.
pub fn read_training_table<T: Scalar>(
    path: &Path,
    targets: Option<&[String]>,
    ignore: &[String],
    task: Option<Task>,
    settings: &TableSettings,
    progress: Option<Progress<'_>>,
) -> Result<TrainingData> {
    reject_duplicate_targets(targets)?;
    if let Some(twice) = ignore
        .iter()
        .enumerate()
        .find_map(|(i, name)| ignore[..i].contains(name).then_some(name))
    {
        return Err(Error::config(
            Setting::Ignore,
            format!("column '{}' given twice", one_line(twice)),
        ));
    }
    if idx::is_idx_path(path) {
        if !ignore.is_empty() {
            return Err(Error::config(
                Setting::Ignore,
                "applies to the columns of a CSV file, not to an IDX file",
            ));
        }
        if task == Some(Task::Regression) {
            return Err(Error::config(
                Setting::Task,
                "IDX files hold class labels: use classification",
            ));
        }
        let data: Dataset<f64> = idx::load(path)?;
        let classes = (0..data.outputs()).map(|c| c.to_string()).collect();
        return Ok(TrainingData {
            data,
            task: Task::Classification,
            task_inferred: task.is_none(),
            classes,
            features: None,
            targets: None,
            is_idx: true,
            image_shape: Some(idx::image_shape(path)?),
            encoding: None,
            notes: Vec::new(),
        });
    }
    let t = tabular::read_training_table::<T>(path, targets, ignore, task, settings, progress)?;
    Ok(TrainingData {
        data: t.data,
        task: t.task,
        task_inferred: t.task_inferred,
        classes: t.classes,
        features: Some(t.features),
        targets: Some(t.targets),
        is_idx: false,
        image_shape: None,
        encoding: (!t.encoding.is_plain()).then_some(t.encoding),
        notes: t.notes,
    })
}

/// `--target y1,y1` would use one column as two targets and make another one a feature.
fn reject_duplicate_targets(targets: Option<&[String]>) -> Result<()> {
    let names = targets.unwrap_or_default();
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            return Err(Error::config(
                Setting::Target,
                format!("column '{}' given twice", one_line(name)),
            ));
        }
    }
    Ok(())
}

/// The most distinct whole-number labels a target column may have and still be taken for
/// class labels when `--task` is not given: more (prices, counts) means regression.
pub const MAX_INFERRED_CLASSES: usize = 50;

/// Text labels, or a single column of whole numbers (`3`, `03`, `3.0`) with at most
/// [`MAX_INFERRED_CLASSES`] distinct values, mean classification; anything else regression.
pub(crate) fn infer_from_labels(labels: &[&str]) -> Task {
    let numeric = labels.iter().all(|s| s.trim().parse::<f64>().is_ok());
    if !numeric {
        return Task::Classification;
    }
    let whole: Option<Vec<i64>> = labels
        .iter()
        .map(|s| crate::data::csv::integer_value(s))
        .collect();
    match whole {
        Some(mut values) => {
            values.sort_unstable();
            values.dedup();
            if values.len() <= MAX_INFERRED_CLASSES {
                Task::Classification
            } else {
                Task::Regression
            }
        }
        None => Task::Regression,
    }
}

/// Reads data for an existing model: the model's feature columns (by name when it has
/// them), its scaling applied, and targets when `need_targets` (labels mapped to the
/// model's classes). Returns the data set in the model's precision. Without `need_targets`
/// an IDX images file is read alone (no labels file needed) and the targets are zeros.
///
/// # Errors
/// [`Error::Csv`] for a missing column, an unknown class label or a value beyond `T`'s
/// range, [`Error::Idx`] naming the labels file and the 1-based image for an IDX label that
/// is not one of the model's classes, [`Error::Shape`] when the number of features or
/// targets does not fit the model, and the readers' errors.
pub fn read_for_model<T: Scalar>(
    path: &Path,
    model: &Model<T>,
    targets: Option<&[String]>,
    need_targets: bool,
) -> Result<Dataset<T>> {
    Ok(read_for_model_with(
        path,
        model,
        targets,
        need_targets,
        &ModelReadOptions::default(),
        None,
    )?
    .data)
}

/// As [`read_for_model`], with the options of the prediction commands (delimiter, unseen
/// categories, columns to keep) and a progress callback. A CSV `path` may be `-` (standard
/// input) or a `.gz` file; the model's [`Encoding`] (its categories and filled-in values)
/// turns the columns into inputs. Rows without a label are left out when `need_targets`
/// (and said in [`ModelData::notes`]).
///
/// # Errors
/// As [`read_for_model`], and [`Error::Csv`] naming file, line and column for a category
/// the model has not seen (unless it is ignored) and for a missing value the model has no
/// value to fill in.
pub fn read_for_model_with<T: Scalar>(
    path: &Path,
    model: &Model<T>,
    targets: Option<&[String]>,
    need_targets: bool,
    options: &ModelReadOptions,
    progress: Option<Progress<'_>>,
) -> Result<ModelData<T>> {
    reject_duplicate_targets(targets)?;
    let net = &model.network;
    let (n_in, n_out) = (net.sizes()[0], net.sizes()[net.last()]);
    let mut kept = Vec::new();
    let mut notes = Vec::new();
    let mut data: Dataset<f64> = if idx::is_idx_path(path) && !need_targets {
        let x: Matrix<f64> = idx::load_images(path)?;
        let y = Matrix::zeros(x.rows(), n_out);
        Dataset::new(x, y)?
    } else if idx::is_idx_path(path) {
        if model.task != Task::Classification {
            return Err(Error::config(
                Setting::Data,
                "IDX files hold class labels, but the model does regression",
            ));
        }
        let d: Dataset<f64> = idx::load(path)?;
        let labels = d.labels.clone().unwrap_or_default();
        // An IDX label is a digit: it stands for the model's class of that name.
        let classes = &model.classes;
        let mut indices = Vec::with_capacity(labels.len());
        for (i, &label) in labels.iter().enumerate() {
            let index = if classes.is_empty() {
                Some(label).filter(|&c| c < n_out)
            } else {
                class_position(classes, &label.to_string())
            };
            let Some(index) = index else {
                let known = if classes.is_empty() {
                    format!("0..{}", n_out - 1)
                } else {
                    one_line(&abbreviate(classes))
                };
                return Err(Error::Idx {
                    path: idx::labels_path_for(path)?,
                    message: format!(
                        "label {label} of image {} is not a class the model knows ({known})",
                        i + 1
                    ),
                });
            };
            indices.push(index);
        }
        Dataset::classification(d.x, indices, n_out)?
    } else {
        let (data, k, n) =
            tabular::read_table_for_model(path, model, targets, need_targets, options, progress)?;
        kept = k;
        notes = n;
        data
    };
    if data.features() != n_in {
        return Err(Error::shape(
            format!("{}", path.display()),
            format!("{n_in} inputs (the model's n_0)"),
            format!("{} inputs", data.features()),
        ));
    }
    if let Some(s) = &model.scaling {
        s.apply(&mut data.x)?;
    }
    Ok(ModelData {
        data: data.cast(),
        kept,
        notes,
    })
}

/// Fits the default scaling for training data: standardisation for CSV, none for IDX.
pub fn default_scaling(training: &TrainingData) -> Option<Scaling> {
    if training.is_idx {
        None
    } else {
        Some(Scaling::standardize(&training.data.x))
    }
}

/// A display name for the embedded data set.
pub fn embedded_name() -> PathBuf {
    PathBuf::from("<embedded MNIST subset>")
}
