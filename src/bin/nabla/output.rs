//! What goes to the terminal: stdout carries results only; progress and notes go to stderr.

use std::io::{IsTerminal, Write};

use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar on stderr, hidden when stderr is not a terminal or when asked.
pub fn progress_bar(total: u64, hidden: bool) -> ProgressBar {
    if hidden || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {msg}  {elapsed} elapsed, ETA {eta}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar
}

/// Tables smaller than this load without a progress bar.
const LOAD_BAR_BYTES: u64 = 32 << 20;

/// A progress bar for a table that loads, shown once a large file (or 32 MiB of standard
/// input) is being read; in bytes, on stderr.
pub struct LoadBar {
    bar: std::cell::RefCell<Option<ProgressBar>>,
    hidden: bool,
}

impl LoadBar {
    pub fn new(hidden: bool) -> Self {
        LoadBar {
            bar: std::cell::RefCell::new(None),
            hidden: hidden || !std::io::stderr().is_terminal(),
        }
    }

    /// `done` of `total` bytes read (`total` 0 when unknown).
    pub fn update(&self, done: u64, total: u64) {
        if self.hidden || total.max(done) < LOAD_BAR_BYTES {
            return;
        }
        let mut bar = self.bar.borrow_mut();
        let bar = bar.get_or_insert_with(|| {
            let (bar, template) = if total > 0 {
                (
                    ProgressBar::new(total),
                    "loading [{bar:30}] {bytes}/{total_bytes} {elapsed}",
                )
            } else {
                (ProgressBar::no_length(), "loading {bytes} {elapsed}")
            };
            bar.set_style(
                ProgressStyle::with_template(template)
                    .expect("a valid template")
                    .progress_chars("=> "),
            );
            bar
        });
        bar.set_position(done);
    }

    /// Clears the bar.
    pub fn finish(&self) {
        if let Some(bar) = self.bar.borrow_mut().take() {
            bar.finish_and_clear();
        }
    }
}

/// The words for a note about a table.
pub fn table_note(note: &nabla::data::source::TableNote) -> String {
    use nabla::data::source::TableNote as N;
    let list = |columns: &[(String, usize)], unit: &str| {
        columns
            .iter()
            .map(|(c, n)| format!("{c} ({n} {unit})"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match note {
        N::IndexColumn => {
            "the first column has no name (an index, as pandas writes it): left out".into()
        }
        N::Delimiter(d) => {
            format!("fields are separated by {d:?} (detected; set --delimiter to choose)")
        }
        N::MissingLabels { columns, rows } => format!(
            "left out {rows} row{} without a value in {} (a missing label is never a class)",
            if *rows == 1 { "" } else { "s" },
            columns.join(", ")
        ),
        N::Categorical(columns) => format!(
            "one-hot encoded: {} (set --categorical to choose)",
            list(columns, "categories")
        ),
        N::Imputed(how, columns) => format!(
            "filled in missing values (--impute {how}): {}",
            list(columns, "cells")
        ),
        N::DroppedRows(rows) => format!(
            "left out {rows} row{} with missing values (--impute drop)",
            if *rows == 1 { "" } else { "s" }
        ),
    }
}

/// Writes a line to stdout, returning I/O errors (a closed pipe included) to the caller.
pub fn line(text: impl AsRef<str>) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_ref().as_bytes())?;
    out.write_all(b"\n")
}

/// Prints a warning on stderr.
pub fn warning(text: impl AsRef<str>) {
    eprintln!("nabla: warning: {}", text.as_ref());
}

/// Prints a note on stderr.
pub fn note(text: impl AsRef<str>) {
    eprintln!("nabla: {}", text.as_ref());
}

/// A number as written by a person: `0.5`, `3`, `0.0001`, and `1e30` rather than 31
/// digits (shortest form that reads back exactly).
pub fn number(v: f64) -> String {
    if v != 0.0 && !(1e-4..1e6).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        v.to_string()
    }
}

/// A cost or error with `decimals` decimals, or in scientific notation when it is too large
/// for them (a diverging run's 1e25 would print 26 digits).
pub fn fixed(v: f64, decimals: usize) -> String {
    if v.is_finite() && v.abs() >= 1e6 {
        format!("{v:.4e}")
    } else {
        format!("{v:.decimals$}")
    }
}

/// Formats a fraction as a percentage with two decimals.
pub fn percent(v: f64) -> String {
    format!("{:.2}%", 100.0 * v)
}

/// Prints a confusion matrix (rows: true class, columns: predicted) with class names.
pub fn confusion_matrix(
    classes: &[String],
    confusion: &[Vec<usize>],
    n: usize,
) -> std::io::Result<()> {
    line("confusion matrix (rows: true class, columns: predicted)")?;
    // Names with line breaks or tabs are escaped so the table keeps one line per class.
    let classes: Vec<String> = classes
        .iter()
        .map(|c| nabla::data::csv::one_line(c))
        .collect();
    let width = classes
        .iter()
        .map(String::len)
        .max()
        .unwrap_or(1)
        .max(n.to_string().len())
        .max(4);
    let mut header = format!("{:>width$}", "");
    for c in &classes {
        header += &format!(" {c:>width$}");
    }
    line(header)?;
    for (c, row) in classes.iter().zip(confusion) {
        let mut text = format!("{c:>width$}");
        for v in row {
            text += &format!(" {v:>width$}");
        }
        line(text)?;
    }
    Ok(())
}

/// The errors of each target of a regression with several targets, `(name, RMSE, MAE, R²)`
/// (names as the model gives them, else `y0`, `y1`, …); nothing for a single target.
pub fn per_target(
    eval: &nabla::Evaluation,
    targets: Option<&[String]>,
) -> Vec<(String, f64, f64, f64)> {
    let (Some(rmse), Some(mae), Some(r2)) = (
        &eval.rmse_per_target,
        &eval.mae_per_target,
        &eval.r2_per_target,
    ) else {
        return Vec::new();
    };
    if rmse.len() < 2 {
        return Vec::new();
    }
    (0..rmse.len())
        .map(|j| {
            let name = targets
                .and_then(|t| t.get(j).cloned())
                .unwrap_or_else(|| format!("y{j}"));
            (nabla::data::csv::one_line(&name), rmse[j], mae[j], r2[j])
        })
        .collect()
}
