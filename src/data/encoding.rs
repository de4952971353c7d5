//! From a table's columns to the network's inputs: numbers as they are, missing values
//! filled in ([`Impute`]), text categories one-hot encoded. Learned on the training set and
//! stored in the model (metadata `encoding`), so that `predict`, `eval`, `explain` and
//! `grad` turn new rows into inputs the same way.
//!
//! Which text columns are categories: a feature column whose values are all text (missing
//! values aside) is a category column when it has at most [`MAX_CATEGORIES`] distinct
//! values and fewer distinct values than half its rows; otherwise it is an ID or free
//! text, and an error (leave it out with `ignore`, or force it with `categorical`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::data::frame::{echo, Cell, Frame};
use crate::error::{Error, Result};
use crate::setting::Setting;

/// The most distinct values a text column may have to be taken for categories.
pub const MAX_CATEGORIES: usize = 20;

/// How missing feature values are filled in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Impute {
    /// The column's mean on the training set (categories: the most frequent).
    Mean,
    /// The column's median on the training set (categories: the most frequent).
    Median,
    /// The most frequent value on the training set.
    MostFrequent,
    /// Leave out the rows with a missing value (when training; new rows have nothing to
    /// fill them with, and a missing value there is an error).
    Drop,
}

impl Impute {
    /// The names, as the CLI and the TOML file take them.
    pub const NAMES: [&'static str; 4] = ["mean", "median", "most-frequent", "drop"];
}

impl fmt::Display for Impute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Impute::Mean => "mean",
            Impute::Median => "median",
            Impute::MostFrequent => "most-frequent",
            Impute::Drop => "drop",
        })
    }
}

impl FromStr for Impute {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "mean" => Ok(Impute::Mean),
            "median" => Ok(Impute::Median),
            "most-frequent" | "mode" => Ok(Impute::MostFrequent),
            "drop" => Ok(Impute::Drop),
            _ => Err(Error::config(
                Setting::Impute,
                format!(
                    "unknown way to fill in '{s}' (expected {})",
                    Impute::NAMES.join(", ")
                ),
            )),
        }
    }
}

/// What a category that training never saw becomes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnknownCategory {
    /// An error naming the file, line and column (the default).
    #[default]
    Error,
    /// All zeros in that column's one-hot inputs.
    Ignore,
}

impl fmt::Display for UnknownCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UnknownCategory::Error => "error",
            UnknownCategory::Ignore => "ignore",
        })
    }
}

impl FromStr for UnknownCategory {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "error" => Ok(UnknownCategory::Error),
            "ignore" => Ok(UnknownCategory::Ignore),
            _ => Err(Error::config(
                Setting::UnknownCategory,
                format!("unknown choice '{s}' (expected error or ignore)"),
            )),
        }
    }
}

/// One source column and the inputs it becomes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ColumnCode {
    /// A number, one input; a missing value becomes `fill`.
    Numeric {
        /// The column's name.
        name: String,
        /// The value a missing cell gets (none: a missing value is an error).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fill: Option<f64>,
    },
    /// One input per category: 1 for the row's category, 0 for the others.
    Categorical {
        /// The column's name.
        name: String,
        /// The categories, sorted; input k is `name=categories[k]`.
        categories: Vec<String>,
        /// The category a missing cell gets.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fill: Option<String>,
    },
}

impl ColumnCode {
    /// The column's name.
    pub fn name(&self) -> &str {
        match self {
            ColumnCode::Numeric { name, .. } | ColumnCode::Categorical { name, .. } => name,
        }
    }

    /// The inputs it becomes.
    pub fn width(&self) -> usize {
        match self {
            ColumnCode::Numeric { .. } => 1,
            ColumnCode::Categorical { categories, .. } => categories.len(),
        }
    }
}

/// The columns a model reads, in input order, and how new rows are read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Encoding {
    /// Source columns, in input order.
    pub columns: Vec<ColumnCode>,
    /// The cells that mean "missing".
    pub na_values: Vec<String>,
    /// How the training set's missing values were filled in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impute: Option<Impute>,
    /// What an unseen category becomes (the prediction commands may override it).
    #[serde(default)]
    pub unknown_category: UnknownCategory,
}

impl Encoding {
    /// The number of inputs, `n_0`.
    pub fn width(&self) -> usize {
        self.columns.iter().map(ColumnCode::width).sum()
    }

    /// The name of each input: a column's name, or `name=category`.
    pub fn feature_names(&self) -> Vec<String> {
        let mut names = Vec::with_capacity(self.width());
        for c in &self.columns {
            match c {
                ColumnCode::Numeric { name, .. } => names.push(name.clone()),
                ColumnCode::Categorical {
                    name, categories, ..
                } => names.extend(categories.iter().map(|k| format!("{name}={k}"))),
            }
        }
        names
    }

    /// Whether it does anything beyond reading numbers (categories, filled values, other
    /// missing-value spellings): only then is it stored in the model.
    pub fn is_plain(&self) -> bool {
        self.impute.is_none()
            && self
                .columns
                .iter()
                .all(|c| matches!(c, ColumnCode::Numeric { fill: None, .. }))
            && self.na_values == crate::data::frame::ReadOptions::default().na_values
            && self.unknown_category == UnknownCategory::Error
    }
}

/// What a column of the training set turned out to be.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Kind {
    Numeric,
    Categorical,
}

/// The text of a cell as a category (numbers in their shortest form: `3` for `3.0`).
pub(crate) fn category_text(cell: Cell<'_>) -> Option<String> {
    match cell {
        Cell::Number(v) => Some(v.to_string()),
        Cell::Text(t) => Some(t.to_string()),
        Cell::Missing => None,
    }
}

/// Fits the encoding of `columns` (frame indices, with their kinds) on the rows `keep`.
pub(crate) fn fit(
    frame: &Frame,
    columns: &[(usize, Kind)],
    keep: &[bool],
    impute: Option<Impute>,
) -> Vec<ColumnCode> {
    columns
        .iter()
        .map(|(c, kind)| {
            let name = frame.headers[*c].clone();
            let cells = frame
                .column(*c)
                .zip(keep)
                .filter(|(_, k)| **k)
                .map(|(x, _)| x);
            match kind {
                Kind::Numeric if matches!(impute, None | Some(Impute::Drop)) => {
                    ColumnCode::Numeric { name, fill: None }
                }
                Kind::Numeric => {
                    let mut values: Vec<f64> = cells
                        .filter_map(|x| match x {
                            Cell::Number(v) => Some(v),
                            _ => None,
                        })
                        .collect();
                    let fill = match impute {
                        None | Some(Impute::Drop) => None,
                        Some(_) if values.is_empty() => Some(0.0),
                        Some(Impute::Mean) => {
                            Some(values.iter().sum::<f64>() / values.len() as f64)
                        }
                        Some(Impute::Median) => {
                            values.sort_by(f64::total_cmp);
                            let n = values.len();
                            Some(if n % 2 == 1 {
                                values[n / 2]
                            } else {
                                (values[n / 2 - 1] + values[n / 2]) / 2.0
                            })
                        }
                        Some(Impute::MostFrequent) => {
                            values.sort_by(f64::total_cmp);
                            let mut best = (values[0], 0usize);
                            let mut run = (values[0], 0usize);
                            for &v in &values {
                                if v == run.0 {
                                    run.1 += 1;
                                } else {
                                    run = (v, 1);
                                }
                                if run.1 > best.1 {
                                    best = run;
                                }
                            }
                            Some(best.0)
                        }
                    };
                    ColumnCode::Numeric { name, fill }
                }
                Kind::Categorical => {
                    let mut counts: std::collections::BTreeMap<String, usize> =
                        std::collections::BTreeMap::new();
                    for cell in cells {
                        if let Some(t) = category_text(cell) {
                            *counts.entry(t).or_default() += 1;
                        }
                    }
                    let fill = match impute {
                        None | Some(Impute::Drop) => None,
                        Some(_) => counts
                            .iter()
                            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                            .map(|(k, _)| k.clone()),
                    };
                    let categories = sort_categories(counts.into_keys().collect());
                    ColumnCode::Categorical {
                        name,
                        categories,
                        fill,
                    }
                }
            }
        })
        .collect()
}

/// Categories in order: as numbers when they all are, else as text.
fn sort_categories(mut categories: Vec<String>) -> Vec<String> {
    let numbers: Option<Vec<f64>> = categories.iter().map(|c| c.parse().ok()).collect();
    if let Some(numbers) = numbers {
        let mut both: Vec<(f64, String)> = numbers.into_iter().zip(categories).collect();
        both.sort_by(|a, b| a.0.total_cmp(&b.0));
        return both.into_iter().map(|(_, c)| c).collect();
    }
    categories.sort();
    categories
}

/// Writes the inputs of frame row `i` into `out` (its [`Encoding::width`] values), from
/// `columns` (frame indices of each [`ColumnCode`]) and the row's raw values `raw`.
/// `largest` is the precision's largest magnitude (a number beyond it is an error).
#[allow(clippy::too_many_arguments)]
pub(crate) fn encode_row(
    frame: &Frame,
    codes: &[ColumnCode],
    columns: &[usize],
    i: usize,
    raw: &[f64],
    unknown: UnknownCategory,
    largest: (f64, &str),
    out: &mut [f64],
) -> Result<()> {
    let mut k = 0;
    let at = |c: usize, message: String| Error::Csv {
        path: frame.path.clone(),
        line: frame.lines[i],
        column: Some(crate::data::csv::one_line(&frame.headers[c])),
        message,
    };
    for (code, &c) in codes.iter().zip(columns) {
        let cell = frame.cell_with(raw[c], i, c);
        match code {
            ColumnCode::Numeric { fill, .. } => {
                let v = match cell {
                    Cell::Number(v) => v,
                    Cell::Missing => match fill {
                        Some(v) => *v,
                        None => return Err(at(c, missing_message())),
                    },
                    // A column kept as text (a `keep` column that is a feature too).
                    Cell::Text(t) => match t.trim().parse::<f64>() {
                        Ok(v) if v.is_finite() => v,
                        _ => return Err(at(c, not_a_number(t))),
                    },
                };
                if v.abs() > largest.0 {
                    return Err(at(
                        c,
                        format!(
                            "'{}' is beyond the range of {} (largest magnitude {:e})",
                            echo(&format!("{v:e}")),
                            largest.1,
                            largest.0
                        ),
                    ));
                }
                out[k] = v;
                k += 1;
            }
            ColumnCode::Categorical {
                categories, fill, ..
            } => {
                let slots = &mut out[k..k + categories.len()];
                slots.fill(0.0);
                let text = match category_text(cell) {
                    Some(t) => t,
                    None => match fill {
                        Some(f) => f.clone(),
                        None => return Err(at(c, missing_message())),
                    },
                };
                match categories.iter().position(|x| *x == text) {
                    Some(p) => slots[p] = 1.0,
                    None if unknown == UnknownCategory::Ignore => {}
                    None => {
                        return Err(at(
                            c,
                            format!(
                                "category '{}' was not seen in training (known: {}); give {} ignore to encode it as all zeros",
                                echo(&text),
                                echo_categories(categories),
                                Setting::UnknownCategory.mention()
                            ),
                        ))
                    }
                }
                k += categories.len();
            }
        }
    }
    Ok(())
}

/// "'x' is not a number", or "non-finite value 'inf'" for a number that is not finite.
pub(crate) fn not_a_number(text: &str) -> String {
    if text.trim().parse::<f64>().is_ok() {
        format!("non-finite value '{}'", echo(text))
    } else {
        format!("'{}' is not a number", echo(text))
    }
}

fn missing_message() -> String {
    format!(
        "missing value (not a number), and the model has no value to fill it in (train it with {})",
        Setting::Impute.mention()
    )
}

fn echo_categories(categories: &[String]) -> String {
    let list = if categories.len() <= 12 {
        categories.join(", ")
    } else {
        format!(
            "{}, … ({} categories)",
            categories[..10].join(", "),
            categories.len()
        )
    };
    crate::data::csv::one_line(&list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for name in Impute::NAMES {
            assert_eq!(name.parse::<Impute>().unwrap().to_string(), name);
        }
        assert!("zero".parse::<Impute>().is_err());
        assert_eq!(
            "ignore".parse::<UnknownCategory>().unwrap(),
            UnknownCategory::Ignore
        );
    }

    #[test]
    fn numeric_categories_sort_as_numbers() {
        assert_eq!(
            sort_categories(vec!["10".into(), "2".into(), "1".into()]),
            ["1", "2", "10"]
        );
        assert_eq!(sort_categories(vec!["b".into(), "a".into()]), ["a", "b"]);
    }
}
