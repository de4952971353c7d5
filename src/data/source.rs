//! Turning a file on disk (CSV or IDX) into a [`Dataset`], either to train a new model
//! (choosing classes, features and the input scaling) or to use an existing one (with the
//! model's classes, feature columns and scaling).

use std::path::{Path, PathBuf};

use crate::data::csv::{abbreviate, class_position, classes_of, one_line, Table};
use crate::data::{idx, Dataset, Scaling};
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
        });
    }
    let table = Table::read(path)?;
    let target_names: Vec<String> = match targets {
        Some(t) if !t.is_empty() => t.to_vec(),
        _ => vec![table.headers.last().expect("a table has a header").clone()],
    };
    let target_idx: Vec<usize> = target_names
        .iter()
        .map(|n| table.column_index(n))
        .collect::<Result<_>>()?;
    let ignore_idx: Vec<usize> = ignore
        .iter()
        .map(|n| table.column_index(n))
        .collect::<Result<_>>()?;
    if let Some(&both) = ignore_idx.iter().find(|i| target_idx.contains(i)) {
        return Err(Error::config(
            Setting::Ignore,
            format!(
                "column '{}' is a target (see {})",
                one_line(&table.headers[both]),
                Setting::Target.mention()
            ),
        ));
    }
    let feature_idx: Vec<usize> = (0..table.headers.len())
        .filter(|i| !target_idx.contains(i) && !ignore_idx.contains(i))
        .collect();
    if feature_idx.is_empty() {
        return Err(Error::Csv {
            path: path.into(),
            line: 1,
            column: None,
            message: "no feature columns left besides the target".into(),
        });
    }
    let features: Vec<String> = feature_idx
        .iter()
        .map(|&i| table.headers[i].clone())
        .collect();
    let x = table.numeric_in::<T>(&feature_idx)?;
    let (task, task_inferred) = match task {
        Some(t) => (t, false),
        None => (infer_task(&table, &target_idx), true),
    };
    match task {
        Task::Classification => {
            let label_column = single_label_column(&target_idx)?;
            let labels = table.strings(label_column);
            if let Some(row) = labels.iter().position(|label| label.trim().is_empty()) {
                return Err(Error::Csv {
                    path: path.into(),
                    line: table.lines[row],
                    column: Some(one_line(&target_names[0])),
                    message: "the class label is empty".into(),
                });
            }
            let classes = classes_of(&labels);
            if classes.len() < 2 {
                return Err(Error::Csv {
                    path: path.into(),
                    line: 1,
                    column: Some(one_line(&target_names[0])),
                    message: format!("only one class ('{}') in the labels", one_line(&classes[0])),
                });
            }
            let indices = table.class_indices(label_column, &classes)?;
            let data = Dataset::classification(x, indices, classes.len())?;
            Ok(TrainingData {
                data,
                task,
                task_inferred,
                classes,
                features: Some(features),
                targets: Some(target_names),
                is_idx: false,
                image_shape: None,
            })
        }
        Task::Regression => {
            let y = table.numeric_in::<T>(&target_idx)?;
            let data = Dataset::new(x, y)?;
            Ok(TrainingData {
                data,
                task,
                task_inferred,
                classes: Vec::new(),
                features: Some(features),
                targets: Some(target_names),
                is_idx: false,
                image_shape: None,
            })
        }
    }
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

/// Classification reads its labels from exactly one column.
fn single_label_column(target_idx: &[usize]) -> Result<usize> {
    match target_idx {
        [one] => Ok(*one),
        _ => Err(Error::config(
            Setting::Target,
            format!(
                "classification takes one label column, got {}",
                target_idx.len()
            ),
        )),
    }
}

/// The most distinct whole-number labels a target column may have and still be taken for
/// class labels when `--task` is not given: more (prices, counts) means regression.
pub const MAX_INFERRED_CLASSES: usize = 50;

/// Text labels, or a single column of whole numbers (`3`, `03`, `3.0`) with at most
/// [`MAX_INFERRED_CLASSES`] distinct values, mean classification; anything else regression.
fn infer_task(table: &Table, target_idx: &[usize]) -> Task {
    if target_idx.len() != 1 {
        return Task::Regression;
    }
    // Empty cells say nothing about the task (they are reported as missing values later).
    let labels: Vec<&str> = table
        .strings(target_idx[0])
        .into_iter()
        .filter(|s| !s.trim().is_empty())
        .collect();
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
    reject_duplicate_targets(targets)?;
    let net = &model.network;
    let (n_in, n_out) = (net.sizes()[0], net.sizes()[net.last()]);
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
        let table = Table::read(path)?;
        let target_names: Option<Vec<String>> = match (targets, &model.targets) {
            (Some(t), _) if !t.is_empty() => Some(t.to_vec()),
            (_, Some(t)) => Some(t.clone()),
            _ => None,
        };
        let feature_idx: Vec<usize> = match &model.features {
            Some(names) => names
                .iter()
                .map(|n| table.column_index(n))
                .collect::<Result<_>>()?,
            None => {
                // Without names, targets are --target or the last column; for prediction a
                // file with exactly n_0 columns has no target column at all.
                let excluded: Vec<usize> = match &target_names {
                    Some(t) => t
                        .iter()
                        .map(|n| table.column_index(n))
                        .collect::<Result<_>>()?,
                    None if !need_targets && table.headers.len() == n_in => Vec::new(),
                    None => vec![table.headers.len() - 1],
                };
                (0..table.headers.len())
                    .filter(|i| !excluded.contains(i))
                    .collect()
            }
        };
        if feature_idx.len() != n_in {
            return Err(Error::shape(
                format!("{}", path.display()),
                format!("{n_in} feature columns (the model's n_0)"),
                format!("{} feature columns", feature_idx.len()),
            ));
        }
        let x = table.numeric_in::<T>(&feature_idx)?;
        if !need_targets {
            let y = Matrix::zeros(x.rows(), n_out);
            Dataset::new(x, y)?
        } else {
            let target_names = target_names
                .unwrap_or_else(|| vec![table.headers.last().expect("a header").clone()]);
            let target_idx: Vec<usize> = target_names
                .iter()
                .map(|n| table.column_index(n))
                .collect::<Result<_>>()?;
            match model.task {
                Task::Classification => {
                    let label_column = single_label_column(&target_idx)?;
                    let labels = table.class_indices(label_column, &model.classes)?;
                    Dataset::classification(x, labels, n_out)?
                }
                Task::Regression => {
                    if target_idx.len() != n_out {
                        return Err(Error::config(
                            Setting::Target,
                            format!(
                                "{} target column(s) ({}) but the model has {n_out} output(s)",
                                target_idx.len(),
                                target_names.join(", ")
                            ),
                        ));
                    }
                    Dataset::new(x, table.numeric_in::<T>(&target_idx)?)?
                }
            }
        }
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
    Ok(data.cast())
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
