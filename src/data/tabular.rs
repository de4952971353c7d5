//! CSV tables into data sets: for training (columns classified, missing values filled in or
//! rows dropped, categories one-hot encoded, the [`Encoding`] learned) and for an existing
//! model (its encoding applied to new rows).

use std::path::Path;

use crate::data::csv::{abbreviate, class_position, classes_of, one_line};
use crate::data::encoding::{
    self, ColumnCode, Encoding, Impute, Kind, UnknownCategory, MAX_CATEGORIES,
};
use crate::data::frame::{self, echo, Cell, Frame, Progress, ReadOptions};
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::matrix::{Matrix, Scalar};
use crate::model_file::{Model, Task};
use crate::setting::Setting;

/// How to read a training table (the table settings of a [`crate::TrainSpec`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TableSettings {
    /// Delimiter and missing-value spellings.
    pub read: ReadOptions,
    /// Columns to one-hot encode whatever they hold.
    pub categorical: Vec<String>,
    /// How to fill in missing feature values (none: they are an error).
    pub impute: Option<Impute>,
    /// What an unseen category becomes when the model is used.
    pub unknown_category: UnknownCategory,
}

/// Something about a table that a front end may tell the user.
#[derive(Clone, Debug, PartialEq)]
pub enum TableNote {
    /// The first column had no name (a pandas index) and was left out.
    IndexColumn,
    /// The delimiter was detected from the header.
    Delimiter(char),
    /// Rows without a label (a missing target value) were left out.
    MissingLabels {
        /// The target column(s).
        columns: Vec<String>,
        /// Rows left out.
        rows: usize,
    },
    /// Text columns one-hot encoded: each with its number of categories.
    Categorical(Vec<(String, usize)>),
    /// Missing values filled in: how, and each column with its number of filled cells.
    Imputed(Impute, Vec<(String, usize)>),
    /// Rows left out for a missing feature value (`impute` drop).
    DroppedRows(usize),
}

/// A training table read.
pub(crate) struct TableTraining {
    pub data: Dataset<f64>,
    pub task: Task,
    pub task_inferred: bool,
    pub classes: Vec<String>,
    pub features: Vec<String>,
    pub targets: Vec<String>,
    pub encoding: Encoding,
    pub notes: Vec<TableNote>,
}

fn csv_error(frame: &Frame, line: usize, column: Option<&str>, message: String) -> Error {
    Error::Csv {
        path: frame.path.clone(),
        line,
        column: column.map(echo),
        message,
    }
}

/// Reads a training table (see the module docs).
pub(crate) fn read_training_table<T: Scalar>(
    path: &Path,
    targets: Option<&[String]>,
    ignore: &[String],
    task: Option<Task>,
    settings: &TableSettings,
    progress: Option<Progress<'_>>,
) -> Result<TableTraining> {
    let given: Option<Vec<String>> = targets.filter(|t| !t.is_empty()).map(<[_]>::to_vec);
    let mut read = settings.read.clone();
    match &given {
        Some(t) => read.text_columns.extend(t.iter().cloned()),
        None => read.last_column_as_text = true,
    }
    let mut frame = frame::read(path, &read, progress)?;
    let mut notes = Vec::new();
    if frame.index_column {
        notes.push(TableNote::IndexColumn);
    }
    if frame.delimiter_detected {
        notes.push(TableNote::Delimiter(frame.delimiter as char));
    }
    let target_names =
        given.unwrap_or_else(|| vec![frame.headers.last().expect("a header").clone()]);
    let target_idx: Vec<usize> = target_names
        .iter()
        .map(|n| frame.column_index(n))
        .collect::<Result<_>>()?;
    let ignore_idx: Vec<usize> = ignore
        .iter()
        .map(|n| frame.column_index(n))
        .collect::<Result<_>>()?;
    if let Some(&both) = ignore_idx.iter().find(|i| target_idx.contains(i)) {
        return Err(Error::config(
            Setting::Ignore,
            format!(
                "column '{}' is a target (see {})",
                one_line(&frame.headers[both]),
                Setting::Target.mention()
            ),
        ));
    }
    let mut forced = Vec::new();
    for name in &settings.categorical {
        let c = frame.column_index(name)?;
        if target_idx.contains(&c) || ignore_idx.contains(&c) {
            return Err(Error::config(
                Setting::Categorical,
                format!(
                    "column '{}' is not a feature (it is given to {})",
                    one_line(name),
                    if target_idx.contains(&c) {
                        Setting::Target.mention()
                    } else {
                        Setting::Ignore.mention()
                    }
                ),
            ));
        }
        forced.push(c);
    }
    let feature_idx: Vec<usize> = (0..frame.cols())
        .filter(|i| !target_idx.contains(i) && !ignore_idx.contains(i))
        .collect();
    if feature_idx.is_empty() {
        return Err(csv_error(
            &frame,
            1,
            None,
            "no feature columns left besides the target".into(),
        ));
    }
    let kinds = classify(&frame, &feature_idx, &forced)?;
    let categorical: Vec<(String, usize)> = kinds
        .iter()
        .filter(|(_, k)| *k == Kind::Categorical)
        .map(|(c, _)| (frame.headers[*c].clone(), frame_distinct(&frame, *c)))
        .collect();
    if !categorical.is_empty() {
        notes.push(TableNote::Categorical(categorical));
    }
    // Rows without a label are left out, whatever the task.
    let n = frame.rows();
    let mut keep = vec![true; n];
    drop_unlabelled(&frame, &target_idx, &target_names, &mut keep, &mut notes);
    // Missing feature values: an error, or filled in, or their rows dropped.
    let feature_columns: Vec<usize> = kinds.iter().map(|(c, _)| *c).collect();
    let missing: Vec<(usize, usize, usize)> = frame
        .missing_counts(&feature_columns, &keep)
        .into_iter()
        .zip(&feature_columns)
        .filter(|((count, _), _)| *count > 0)
        .map(|((count, first), &c)| (c, count, first))
        .collect(); // (column, count, first row)
    if !missing.is_empty() {
        match settings.impute {
            None => {
                let first = missing.iter().map(|m| m.2).min().expect("one column");
                let list: Vec<String> = missing
                    .iter()
                    .map(|&(c, count, row)| {
                        format!(
                            "'{}' ({count}, first on line {})",
                            echo(&frame.headers[c]),
                            frame.lines[row]
                        )
                    })
                    .collect();
                return Err(csv_error(
                    &frame,
                    frame.lines[first],
                    None,
                    format!(
                        "missing values in {} column{}: {}; choose how to fill them in with {} mean, median, most-frequent or drop (missing values are spelled: {})",
                        missing.len(),
                        if missing.len() == 1 { "" } else { "s" },
                        list.join(", "),
                        Setting::Impute.mention(),
                        spellings(&read.na_values)
                    ),
                ));
            }
            Some(Impute::Drop) => {
                let mut dropped = 0;
                for &(c, ..) in &missing {
                    for (i, cell) in frame.column(c).enumerate() {
                        if keep[i] && cell == Cell::Missing {
                            keep[i] = false;
                            dropped += 1;
                        }
                    }
                }
                notes.push(TableNote::DroppedRows(dropped));
            }
            Some(how) => notes.push(TableNote::Imputed(
                how,
                missing
                    .iter()
                    .map(|&(c, count, _)| (frame.headers[c].clone(), count))
                    .collect(),
            )),
        }
    }
    let kept: Vec<usize> = (0..n).filter(|&i| keep[i]).collect();
    if kept.is_empty() {
        return Err(csv_error(
            &frame,
            1,
            None,
            "no rows left: every row has a missing value".into(),
        ));
    }
    let (task, task_inferred) = match task {
        Some(t) => (t, false),
        None => (infer_task(&frame, &target_idx, &keep), true),
    };
    // The targets, before the raw matrix makes way for the inputs.
    let (labels, classes, y) = match task {
        Task::Classification => {
            let column = single_label_column(&target_idx)?;
            let (ids, distinct) = label_ids(&frame, column, &keep);
            let classes = classes_of(&distinct);
            if classes.len() < 2 {
                return Err(csv_error(
                    &frame,
                    1,
                    Some(&target_names[0]),
                    format!("only one class ('{}') in the labels", echo(&classes[0])),
                ));
            }
            let (_, _, pool) = frame.text_cells(column);
            let index_of: Vec<usize> = pool
                .iter()
                .map(|t| class_position(&classes, t).unwrap_or(0))
                .collect();
            let labels: Vec<usize> = ids.iter().map(|&id| index_of[id as usize]).collect();
            (Some(labels), classes, None)
        }
        Task::Regression => (
            None,
            Vec::new(),
            Some(target_matrix::<T>(&frame, &target_idx, &kept)?),
        ),
    };
    let columns: Vec<usize> = kinds.iter().map(|(c, _)| *c).collect();
    let codes = encoding::fit(&frame, &kinds, &keep, settings.impute);
    let encoding = Encoding {
        columns: codes,
        na_values: read.na_values.clone(),
        impute: settings.impute,
        unknown_category: settings.unknown_category,
    };
    let x = build_inputs::<T>(
        &mut frame,
        &encoding.columns,
        &columns,
        &keep,
        UnknownCategory::Error,
    )?;
    let data = match (labels, y) {
        (Some(labels), _) => Dataset::classification(x, labels, classes.len())?,
        (None, Some(y)) => Dataset::new(x, y)?,
        (None, None) => unreachable!("a task gives labels or targets"),
    };
    Ok(TableTraining {
        data,
        task,
        task_inferred,
        classes,
        features: encoding.feature_names(),
        targets: target_names,
        encoding,
        notes,
    })
}

/// Leaves out (`keep[i] = false`) the rows with a missing label in any target column, and
/// says how many there were.
fn drop_unlabelled(
    frame: &Frame,
    target_idx: &[usize],
    target_names: &[String],
    keep: &mut [bool],
    notes: &mut Vec<TableNote>,
) {
    let mut unlabelled = 0;
    for &t in target_idx {
        for (i, cell) in frame.column(t).enumerate() {
            if cell == Cell::Missing && keep[i] {
                keep[i] = false;
                unlabelled += 1;
            }
        }
    }
    if unlabelled > 0 {
        notes.push(TableNote::MissingLabels {
            columns: target_names.to_vec(),
            rows: unlabelled,
        });
    }
}

fn frame_distinct(frame: &Frame, c: usize) -> usize {
    let mut seen = std::collections::BTreeSet::new();
    for cell in frame.column(c) {
        if let Some(t) = encoding::category_text(cell) {
            seen.insert(t);
        }
    }
    seen.len()
}

fn spellings(na: &[String]) -> String {
    na.iter()
        .map(|s| format!("'{}'", echo(s)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Each feature column's kind: numbers; text with few distinct values (categories); a
/// column forced to be categorical. Every column that is neither (IDs, free text, numbers
/// with words among them) is reported at once.
fn classify(frame: &Frame, features: &[usize], forced: &[usize]) -> Result<Vec<(usize, Kind)>> {
    let mut kinds = Vec::with_capacity(features.len());
    let mut mixed: Vec<(usize, usize, String)> = Vec::new(); // (column, row, text)
    let mut free: Vec<(usize, usize)> = Vec::new(); // (column, distinct)
    for &c in features {
        if forced.contains(&c) {
            kinds.push((c, Kind::Categorical));
            continue;
        }
        let (texts, distinct) = frame.text_counts(c);
        if texts == 0 {
            kinds.push((c, Kind::Numeric));
            continue;
        }
        let present = frame
            .column(c)
            .filter(|cell| *cell != Cell::Missing)
            .count();
        if texts < present {
            let (row, text) = frame
                .column(c)
                .enumerate()
                .find_map(|(i, cell)| match cell {
                    Cell::Text(t) => Some((i, t.to_string())),
                    _ => None,
                })
                .expect("a text cell");
            mixed.push((c, row, text));
        } else if distinct <= MAX_CATEGORIES && 2 * distinct < present {
            kinds.push((c, Kind::Categorical));
        } else {
            free.push((c, distinct));
        }
    }
    if mixed.len() == 1 && free.is_empty() {
        let (c, row, text) = &mixed[0];
        return Err(csv_error(
            frame,
            frame.lines[*row],
            Some(&frame.headers[*c]),
            encoding::not_a_number(text),
        ));
    }
    if mixed.is_empty() && free.is_empty() {
        return Ok(kinds);
    }
    let mut parts = Vec::new();
    if !free.is_empty() {
        let names: Vec<String> = free
            .iter()
            .map(|(c, d)| format!("'{}' ({d} distinct values)", echo(&frame.headers[*c])))
            .collect();
        let plain: Vec<&str> = free
            .iter()
            .map(|(c, _)| frame.headers[*c].as_str())
            .collect();
        parts.push(format!(
            "text columns with too many distinct values to be categories (an ID, free text): {}; leave them out with {} {} (or force categories with {})",
            names.join(", "),
            Setting::Ignore.mention(),
            echo(&plain.join(",")),
            Setting::Categorical.mention()
        ));
    }
    if !mixed.is_empty() {
        let names: Vec<String> = mixed
            .iter()
            .map(|(c, row, text)| {
                format!(
                    "'{}' ({} on line {})",
                    echo(&frame.headers[*c]),
                    encoding::not_a_number(text),
                    frame.lines[*row]
                )
            })
            .collect();
        parts.push(format!(
            "number columns with text in them: {}",
            names.join(", ")
        ));
    }
    let line = free
        .iter()
        .map(|_| frame.lines[0])
        .chain(mixed.iter().map(|(_, row, _)| frame.lines[*row]))
        .min()
        .unwrap_or(1);
    Err(csv_error(frame, line, None, parts.join("; ")))
}

/// Text labels, or a single column of whole numbers with at most
/// [`super::source::MAX_INFERRED_CLASSES`] distinct values, mean classification.
fn infer_task(frame: &Frame, target_idx: &[usize], keep: &[bool]) -> Task {
    if target_idx.len() != 1 {
        return Task::Regression;
    }
    let (_, distinct) = label_ids(frame, target_idx[0], keep);
    let labels: Vec<&str> = distinct
        .into_iter()
        .filter(|s| !s.trim().is_empty())
        .collect();
    super::source::infer_from_labels(&labels)
}

/// The label of each row `keep` in a column kept as text, as an id into the column's
/// distinct texts, and the distinct texts those rows hold (labels are compared once per
/// distinct text, not once per row).
fn label_ids<'f>(frame: &'f Frame, c: usize, keep: &[bool]) -> (Vec<u32>, Vec<&'f str>) {
    let (rows, ids, pool) = frame.text_cells(c);
    let ids: Vec<u32> = rows
        .iter()
        .zip(ids)
        .filter(|(r, _)| keep[**r])
        .map(|(_, id)| *id)
        .collect();
    let mut present = vec![false; pool.len()];
    for &id in &ids {
        present[id as usize] = true;
    }
    let distinct = pool
        .iter()
        .zip(&present)
        .filter(|(_, p)| **p)
        .map(|(t, _)| t.as_str())
        .collect();
    (ids, distinct)
}

/// The regression targets of rows `kept` (cells kept as text) as numbers of `T`'s range.
fn target_matrix<T: Scalar>(
    frame: &Frame,
    target_idx: &[usize],
    kept: &[usize],
) -> Result<Matrix<f64>> {
    let largest = T::max_value().to_f64().unwrap_or(f64::MAX);
    let mut y = Vec::with_capacity(kept.len() * target_idx.len());
    for &i in kept {
        for &c in target_idx {
            let at = |message: String| {
                csv_error(frame, frame.lines[i], Some(&frame.headers[c]), message)
            };
            let v = match frame.cell(i, c) {
                Cell::Number(v) => v,
                Cell::Text(t) => match t.trim().parse::<f64>() {
                    Ok(v) if v.is_finite() => v,
                    _ => return Err(at(encoding::not_a_number(t))),
                },
                Cell::Missing => unreachable!("rows without a label are left out"),
            };
            if v.abs() > largest {
                return Err(at(format!(
                    "'{}' is beyond the range of {} (largest magnitude {largest:e})",
                    echo(&frame.cell_text(i, c)),
                    T::NAME
                )));
            }
            y.push(v);
        }
    }
    Matrix::from_vec(kept.len(), target_idx.len(), y)
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

/// The inputs of rows `keep`, built in the raw matrix's place when they are no wider (a
/// table of numbers is never held twice).
fn build_inputs<T: Scalar>(
    frame: &mut Frame,
    codes: &[ColumnCode],
    columns: &[usize],
    keep: &[bool],
    unknown: UnknownCategory,
) -> Result<Matrix<f64>> {
    let width: usize = codes.iter().map(ColumnCode::width).sum();
    let cols = frame.cols();
    let rows = keep.iter().filter(|k| **k).count();
    let largest = (T::max_value().to_f64().unwrap_or(f64::MAX), T::NAME);
    let mut values = frame.take_values();
    let mut raw = vec![0.0; cols];
    let mut row = vec![0.0; width];
    let in_place = width <= cols;
    let all_numeric = codes
        .iter()
        .all(|c| matches!(c, ColumnCode::Numeric { .. }));
    let mut out = if in_place {
        Vec::new()
    } else {
        Vec::with_capacity(rows * width)
    };
    for (r, (i, _)) in keep.iter().enumerate().filter(|(_, k)| **k).enumerate() {
        raw.copy_from_slice(&values[i * cols..(i + 1) * cols]);
        // Numbers only, none missing: a copy (the common case of a big table).
        let plain = all_numeric && columns.iter().all(|&c| raw[c].abs() <= largest.0);
        if plain {
            for (slot, &c) in row.iter_mut().zip(columns) {
                *slot = raw[c];
            }
        } else {
            encoding::encode_row(frame, codes, columns, i, &raw, unknown, largest, &mut row)?;
        }
        if in_place {
            values[r * width..(r + 1) * width].copy_from_slice(&row);
        } else {
            out.extend_from_slice(&row);
        }
    }
    if in_place {
        values.truncate(rows * width);
        values.shrink_to_fit();
        Matrix::from_vec(rows, width, values)
    } else {
        drop(values);
        Matrix::from_vec(rows, width, out)
    }
}

/// Data read for an existing model, with what the front end may need beside it.
#[derive(Debug)]
pub struct ModelData<T: Scalar> {
    /// The examples, in the model's precision and scaling.
    pub data: Dataset<T>,
    /// The text of each column asked for in `keep`, one entry per example.
    pub kept: Vec<Vec<String>>,
    /// What to tell the user.
    pub notes: Vec<TableNote>,
}

/// How to read a table for an existing model.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ModelReadOptions {
    /// The delimiter (default: detected).
    pub delimiter: Option<u8>,
    /// What an unseen category becomes (default: the model's choice).
    pub unknown_category: Option<UnknownCategory>,
    /// Columns to copy as they are (an ID) into [`ModelData::kept`].
    pub keep: Vec<String>,
}

/// The examples (unscaled), the kept columns' text, the notes.
type TableForModel = (Dataset<f64>, Vec<Vec<String>>, Vec<TableNote>);

/// Reads a CSV table for `model` (see [`super::source::read_for_model_with`]).
pub(crate) fn read_table_for_model<T: Scalar>(
    path: &Path,
    model: &Model<T>,
    targets: Option<&[String]>,
    need_targets: bool,
    options: &ModelReadOptions,
    progress: Option<Progress<'_>>,
) -> Result<TableForModel> {
    let net = &model.network;
    let (n_in, n_out) = (net.sizes()[0], net.sizes()[net.last()]);
    let target_names: Option<Vec<String>> = match (targets, &model.targets) {
        (Some(t), _) if !t.is_empty() => Some(t.to_vec()),
        (_, Some(t)) => Some(t.clone()),
        _ => None,
    };
    let mut read = ReadOptions {
        delimiter: options.delimiter,
        ..ReadOptions::default()
    };
    if let Some(e) = &model.encoding {
        read.na_values = e.na_values.clone();
    }
    read.text_columns = options.keep.clone();
    if need_targets {
        match &target_names {
            Some(t) => read.text_columns.extend(t.iter().cloned()),
            None => read.last_column_as_text = true,
        }
    }
    let mut frame = frame::read(path, &read, progress)?;
    let mut notes = Vec::new();
    if frame.index_column {
        notes.push(TableNote::IndexColumn);
    }
    if frame.delimiter_detected {
        notes.push(TableNote::Delimiter(frame.delimiter as char));
    }
    let keep_idx: Vec<usize> = options
        .keep
        .iter()
        .map(|n| frame.column_index(n))
        .collect::<Result<_>>()?;
    let (codes, columns): (Vec<ColumnCode>, Vec<usize>) = match (&model.encoding, &model.features) {
        (Some(e), _) => {
            let columns = e
                .columns
                .iter()
                .map(|c| frame.column_index(c.name()))
                .collect::<Result<_>>()?;
            (e.columns.clone(), columns)
        }
        (None, features) => {
            let columns: Vec<usize> = match features {
                Some(names) => names
                    .iter()
                    .map(|n| frame.column_index(n))
                    .collect::<Result<_>>()?,
                None => {
                    // Without names, targets are --target or the last column; for prediction
                    // a file with exactly n_0 columns has no target column at all.
                    let excluded: Vec<usize> = match &target_names {
                        Some(t) => t
                            .iter()
                            .map(|n| frame.column_index(n))
                            .collect::<Result<_>>()?,
                        None if !need_targets && frame.cols() == n_in => Vec::new(),
                        None => vec![frame.cols() - 1],
                    };
                    (0..frame.cols())
                        .filter(|i| !excluded.contains(i))
                        .collect()
                }
            };
            let codes = columns
                .iter()
                .map(|&c| ColumnCode::Numeric {
                    name: frame.headers[c].clone(),
                    fill: None,
                })
                .collect();
            (codes, columns)
        }
    };
    let width: usize = codes.iter().map(ColumnCode::width).sum();
    if width != n_in {
        return Err(Error::shape(
            format!("{}", path.display()),
            format!("{n_in} feature columns (the model's n_0)"),
            format!("{width} feature columns"),
        ));
    }
    let n = frame.rows();
    let mut keep = vec![true; n];
    let mut labels = None;
    let mut y = None;
    if need_targets {
        let target_names =
            target_names.unwrap_or_else(|| vec![frame.headers.last().expect("a header").clone()]);
        let target_idx: Vec<usize> = target_names
            .iter()
            .map(|n| frame.column_index(n))
            .collect::<Result<_>>()?;
        drop_unlabelled(&frame, &target_idx, &target_names, &mut keep, &mut notes);
        let kept: Vec<usize> = (0..n).filter(|&i| keep[i]).collect();
        if kept.is_empty() {
            return Err(csv_error(
                &frame,
                1,
                None,
                "no rows left: every row has a missing label".into(),
            ));
        }
        match model.task {
            Task::Classification => {
                let column = single_label_column(&target_idx)?;
                let (rows, ids, pool) = frame.text_cells(column);
                let index_of: Vec<Option<usize>> = pool
                    .iter()
                    .map(|t| class_position(&model.classes, t))
                    .collect();
                let mut indices = Vec::with_capacity(kept.len());
                for (&i, &id) in rows.iter().zip(ids).filter(|(r, _)| keep[**r]) {
                    let Some(index) = index_of[id as usize] else {
                        let label = &pool[id as usize];
                        return Err(csv_error(
                            &frame,
                            frame.lines[i],
                            Some(&frame.headers[column]),
                            format!(
                                "class '{}' is not one the model knows ({})",
                                echo(label),
                                one_line(&abbreviate(&model.classes))
                            ),
                        ));
                    };
                    indices.push(index);
                }
                labels = Some(indices);
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
                y = Some(target_matrix::<T>(&frame, &target_idx, &kept)?);
            }
        }
    }
    let kept_text: Vec<Vec<String>> = keep_idx
        .iter()
        .map(|&c| {
            (0..n)
                .filter(|&i| keep[i])
                .map(|i| frame.cell_text(i, c))
                .collect()
        })
        .collect();
    let unknown = options
        .unknown_category
        .or(model.encoding.as_ref().map(|e| e.unknown_category))
        .unwrap_or_default();
    let x = build_inputs::<T>(&mut frame, &codes, &columns, &keep, unknown)?;
    let data = match (labels, y) {
        (Some(labels), _) => Dataset::classification(x, labels, n_out)?,
        (None, Some(y)) => Dataset::new(x, y)?,
        (None, None) => {
            let rows = x.rows();
            Dataset::new(x, Matrix::zeros(rows, n_out))?
        }
    };
    Ok((data, kept_text, notes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Result<Vec<(usize, Kind)>> {
        let frame = frame::parse(text.as_bytes(), Path::new("t.csv"), &ReadOptions::default())?;
        let features: Vec<usize> = (0..frame.cols()).collect();
        classify(&frame, &features, &[])
    }

    /// A column of `rows` rows cycling through `distinct` words.
    fn words(rows: usize, distinct: usize) -> String {
        let mut text = String::from("w\n");
        for i in 0..rows {
            text += &format!("w{}\n", i % distinct);
        }
        text
    }

    #[test]
    fn text_columns_are_categories_up_to_20_values_and_under_half_the_rows() {
        assert_eq!(kinds(&words(41, 20)).unwrap(), [(0, Kind::Categorical)]);
        assert!(kinds(&words(100, 21)).is_err(), "21 distinct values");
        assert!(
            kinds(&words(40, 20)).is_err(),
            "20 distinct of 40 rows is half"
        );
        assert_eq!(kinds("n\n1\n2\nNA\n").unwrap(), [(0, Kind::Numeric)]);
    }
}
