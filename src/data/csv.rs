//! CSV files with a header row: numeric feature columns and one or more target columns.
//! Every error names the file, the 1-based line and the column.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::matrix::Matrix;

/// A CSV file read into memory as text cells, with the line number of each row.
#[derive(Clone, Debug)]
pub struct Table {
    /// The file it came from.
    pub path: PathBuf,
    /// Column names from the header row.
    pub headers: Vec<String>,
    /// Data rows (cells as text).
    pub rows: Vec<Vec<String>>,
    /// The 1-based line of each data row.
    pub lines: Vec<usize>,
}

impl Table {
    /// Reads a CSV file with a header row.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read; [`Error::Csv`] for an empty file, a file
    /// with a header only, duplicate or empty column names, or a row with the wrong number
    /// of fields.
    pub fn read(path: &Path) -> Result<Table> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Self::parse(&bytes, path)
    }

    /// Parses CSV text; `path` is only used in error messages.
    ///
    /// # Errors
    /// As [`Table::read`].
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Table> {
        let err = |line: usize, column: Option<String>, message: String| Error::Csv {
            path: path.to_path_buf(),
            line,
            column,
            message,
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(bytes);
        let mut records = reader.records();
        let header = match records.next() {
            None => {
                return Err(err(
                    1,
                    None,
                    "empty file: expected a header row naming the columns".into(),
                ))
            }
            Some(Err(e)) => return Err(err(1, None, format!("cannot parse the header: {e}"))),
            Some(Ok(h)) => h,
        };
        let headers: Vec<String> = header.iter().map(str::to_string).collect();
        if headers.iter().all(String::is_empty) {
            return Err(err(1, None, "empty header row".into()));
        }
        for (i, h) in headers.iter().enumerate() {
            if h.is_empty() {
                return Err(err(1, None, format!("column {} has no name", i + 1)));
            }
            if headers[..i].contains(h) {
                return Err(err(1, Some(h.clone()), "duplicate column name".into()));
            }
        }
        let mut rows = Vec::new();
        let mut lines = Vec::new();
        for record in records {
            let record = record.map_err(|e| {
                let line = e.position().map_or(0, |p| p.line() as usize);
                err(line, None, format!("cannot parse: {e}"))
            })?;
            let line = record
                .position()
                .map_or(rows.len() + 2, |p| p.line() as usize);
            if record.len() == 1 && record.get(0) == Some("") {
                continue; // a blank line
            }
            if record.len() != headers.len() {
                return Err(err(
                    line,
                    None,
                    format!(
                        "{} fields, but the header has {} columns",
                        record.len(),
                        headers.len()
                    ),
                ));
            }
            rows.push(record.iter().map(str::to_string).collect());
            lines.push(line);
        }
        if rows.is_empty() {
            return Err(err(1, None, "no data rows after the header".into()));
        }
        Ok(Table {
            path: path.to_path_buf(),
            headers,
            rows,
            lines,
        })
    }

    /// The index of the column called `name`.
    ///
    /// # Errors
    /// [`Error::Csv`] (line 1) listing the columns there are.
    pub fn column_index(&self, name: &str) -> Result<usize> {
        self.headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| Error::Csv {
                path: self.path.clone(),
                line: 1,
                column: Some(name.to_string()),
                message: format!("no such column (columns: {})", self.headers.join(", ")),
            })
    }

    /// The columns `indices` as numbers, one row per data row.
    ///
    /// # Errors
    /// [`Error::Csv`] naming line and column for a value that is not a finite number.
    pub fn numeric(&self, indices: &[usize]) -> Result<Matrix<f64>> {
        let mut data = Vec::with_capacity(self.rows.len() * indices.len());
        for (row, &line) in self.rows.iter().zip(&self.lines) {
            for &c in indices {
                let cell = &row[c];
                let value: f64 = cell.parse().map_err(|_| Error::Csv {
                    path: self.path.clone(),
                    line,
                    column: Some(self.headers[c].clone()),
                    message: format!("'{cell}' is not a number"),
                })?;
                if !value.is_finite() {
                    return Err(Error::Csv {
                        path: self.path.clone(),
                        line,
                        column: Some(self.headers[c].clone()),
                        message: format!("non-finite value '{cell}'"),
                    });
                }
                data.push(value);
            }
        }
        Matrix::from_vec(self.rows.len(), indices.len(), data)
    }

    /// The text of column `index` in every data row.
    pub fn strings(&self, index: usize) -> Vec<&str> {
        self.rows.iter().map(|r| r[index].as_str()).collect()
    }

    /// Maps each data row's label in column `index` to its position in `classes`.
    ///
    /// # Errors
    /// [`Error::Csv`] naming line and column for a label not in `classes`.
    pub fn class_indices(&self, index: usize, classes: &[String]) -> Result<Vec<usize>> {
        self.rows
            .iter()
            .zip(&self.lines)
            .map(|(row, &line)| {
                let label = &row[index];
                classes
                    .iter()
                    .position(|c| c == label || same_number(c, label))
                    .ok_or_else(|| Error::Csv {
                        path: self.path.clone(),
                        line,
                        column: Some(self.headers[index].clone()),
                        message: format!(
                            "class '{label}' is not one the model knows ({})",
                            abbreviate(classes)
                        ),
                    })
            })
            .collect()
    }
}

/// The sorted distinct labels of a column: numerically if every label is an integer,
/// otherwise as text.
pub fn classes_of(labels: &[&str]) -> Vec<String> {
    let mut distinct: Vec<String> = labels.iter().map(|s| s.to_string()).collect();
    distinct.sort();
    distinct.dedup();
    if distinct.iter().all(|s| s.parse::<i64>().is_ok()) {
        distinct.sort_by_key(|s| s.parse::<i64>().expect("checked above"));
        distinct.dedup_by(|a, b| a.parse::<i64>().ok() == b.parse::<i64>().ok());
    }
    distinct
}

/// "3" and "3.0" and "03" name the same integer class.
fn same_number(a: &str, b: &str) -> bool {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x == y && x.fract() == 0.0,
        _ => false,
    }
}

fn abbreviate(classes: &[String]) -> String {
    if classes.len() <= 12 {
        classes.join(", ")
    } else {
        format!(
            "{}, … ({} classes)",
            classes[..10].join(", "),
            classes.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Table> {
        Table::parse(text.as_bytes(), Path::new("t.csv"))
    }

    #[test]
    fn integer_classes_sort_as_numbers_and_text_classes_as_text() {
        assert_eq!(classes_of(&["10", "2", "1", "2"]), vec!["1", "2", "10"]);
        assert_eq!(
            classes_of(&["dog", "cat", "ant"]),
            vec!["ant", "cat", "dog"]
        );
    }

    #[test]
    fn errors_name_the_line_and_column() {
        let err = parse("a,b\n1,2\n3\n").unwrap_err().to_string();
        assert_eq!(err, "t.csv:3: 1 fields, but the header has 2 columns");
        let t = parse("a,b\n1,2\n3,x\n").unwrap();
        let err = t.numeric(&[0, 1]).unwrap_err().to_string();
        assert_eq!(err, "t.csv:3: column 'b': 'x' is not a number");
        let t = parse("a,b\n1,NaN\n").unwrap();
        assert!(t
            .numeric(&[1])
            .unwrap_err()
            .to_string()
            .contains("non-finite value 'NaN'"));
        assert!(parse("")
            .unwrap_err()
            .to_string()
            .contains("t.csv:1: empty file"));
        assert!(parse("a,b\n")
            .unwrap_err()
            .to_string()
            .contains("no data rows"));
        assert!(t
            .column_index("y")
            .unwrap_err()
            .to_string()
            .contains("column 'y': no such column (columns: a, b)"));
    }
}
