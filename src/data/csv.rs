//! CSV files with a header row: numeric feature columns and one or more target columns.
//! Every error names the file, the 1-based line and the column.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::matrix::{Matrix, Scalar};

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
        let mut records = split_records(bytes, path)?.into_iter();
        // Lines of spaces before the header are blank lines, as they are between rows.
        let header = match records.find(|r| !fields_blank(&r.fields, &r.quoted)) {
            None => {
                return Err(err(
                    1,
                    None,
                    "empty file: expected a header row naming the columns".into(),
                ))
            }
            Some(h) => h,
        };
        let headers = text_fields(header.fields, &header.quoted, header.line, None, path)?;
        if headers.iter().all(String::is_empty) {
            return Err(err(header.line, None, "empty header row".into()));
        }
        for (i, h) in headers.iter().enumerate() {
            if h.is_empty() {
                return Err(err(
                    header.line,
                    None,
                    format!("column {} has no name", i + 1),
                ));
            }
            if headers[..i].contains(h) {
                return Err(err(
                    header.line,
                    Some(one_line(h)),
                    "duplicate column name".into(),
                ));
            }
        }
        if headers.len() == 1 && !bytes.contains(&b',') {
            if let Some(separator) = [';', '\t', '|']
                .into_iter()
                .find(|&c| headers[0].contains(c))
            {
                return Err(err(
                    header.line,
                    None,
                    format!(
                        "the header has a single column '{}': fields are separated by commas; \
                         this file seems to use {:?}",
                        one_line(&headers[0]),
                        separator
                    ),
                ));
            }
        }
        let mut rows = Vec::new();
        let mut lines = Vec::new();
        for record in records {
            let line = record.line;
            let spaces_only = fields_blank(&record.fields, &record.quoted);
            let fields = text_fields(record.fields, &record.quoted, line, Some(&headers), path)?;
            if spaces_only && headers.len() > 1 {
                continue; // a line of spaces, which cannot be a row of several columns
            }
            if fields.len() != headers.len() {
                return Err(err(
                    line,
                    None,
                    format!(
                        "{} fields, but the header has {} columns",
                        fields.len(),
                        headers.len()
                    ),
                ));
            }
            rows.push(fields);
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
                column: Some(one_line(name)),
                message: format!(
                    "no such column (columns: {})",
                    one_line(&self.headers.join(", "))
                ),
            })
    }

    /// The columns `indices` as numbers, one row per data row.
    ///
    /// # Errors
    /// [`Error::Csv`] naming line and column for a value that is not a finite number.
    pub fn numeric(&self, indices: &[usize]) -> Result<Matrix<f64>> {
        self.numeric_within(indices, f64::MAX, "f64")
    }

    /// The columns `indices` as numbers that the precision `T` can hold: as
    /// [`Table::numeric`], and a value beyond `T`'s range (such as 1e39 for f32) is an error
    /// too, whether or not the data will be scaled.
    ///
    /// # Errors
    /// [`Error::Csv`] naming line and column for a value that is not a finite number of `T`.
    pub fn numeric_in<T: Scalar>(&self, indices: &[usize]) -> Result<Matrix<f64>> {
        let largest = T::max_value().to_f64().unwrap_or(f64::MAX);
        self.numeric_within(indices, largest, T::NAME)
    }

    fn numeric_within(
        &self,
        indices: &[usize],
        largest: f64,
        precision: &str,
    ) -> Result<Matrix<f64>> {
        let mut data = Vec::with_capacity(self.rows.len() * indices.len());
        for (row, &line) in self.rows.iter().zip(&self.lines) {
            for &c in indices {
                let cell = &row[c];
                let value: f64 = cell.trim().parse().map_err(|_| Error::Csv {
                    path: self.path.clone(),
                    line,
                    column: Some(one_line(&self.headers[c])),
                    message: format!("'{}' is not a number", crate::data::frame::echo(cell)),
                })?;
                if !value.is_finite() {
                    return Err(Error::Csv {
                        path: self.path.clone(),
                        line,
                        column: Some(one_line(&self.headers[c])),
                        message: format!("non-finite value '{}'", crate::data::frame::echo(cell)),
                    });
                }
                if value.abs() > largest {
                    return Err(Error::Csv {
                        path: self.path.clone(),
                        line,
                        column: Some(one_line(&self.headers[c])),
                        message: format!(
                            "'{}' is beyond the range of {precision} (largest magnitude {largest:e})",
                            crate::data::frame::echo(cell)
                        ),
                    });
                }
                data.push(value);
            }
        }
        Matrix::from_vec(self.rows.len(), indices.len(), data)
    }

    /// The text of column `index` in every data row.
    ///
    /// # Panics
    /// If `index` is not a column of the table (as the other column accessors).
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
                class_position(classes, label).ok_or_else(|| Error::Csv {
                    path: self.path.clone(),
                    line,
                    column: Some(one_line(&self.headers[index])),
                    message: format!(
                        "class '{}' is not one the model knows ({})",
                        one_line(label),
                        one_line(&abbreviate(classes))
                    ),
                })
            })
            .collect()
    }
}

/// One record of the file before its fields are checked: the raw bytes of each field, whether
/// each was quoted, and the physical 1-based line on which the record starts.
struct RawRecord {
    fields: Vec<Vec<u8>>,
    /// Whether each field was quoted (its text is then kept as it is, spaces included).
    quoted: Vec<bool>,
    line: usize,
}

/// Splits CSV bytes into records (our own splitter, not the `csv` crate's reader: its
/// `Position::line` gives the line of a blank line for the record after it and lags after
/// `\r\n`, BurntSushi/rust-csv issues 208 and 395, and every error here names a line):
/// fields separated by commas, records by `\n`, `\r\n` or `\r`; a field that starts with `"` (after spaces) runs to the next lone `"`, with `""`
/// standing for one quote, and may hold commas and line breaks; spaces around the quotes
/// are dropped, those inside kept. Lines with nothing on them are skipped. Line numbers count every physical line break, blank lines and line breaks
/// inside quoted fields included.
fn split_records(bytes: &[u8], path: &Path) -> Result<Vec<RawRecord>> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut records = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < bytes.len() {
        // A line with nothing on it is skipped (its break still counts).
        if bytes[i] == b'\n' || bytes[i] == b'\r' {
            i += line_break_length(bytes, i);
            line += 1;
            continue;
        }
        let start_line = line;
        let mut fields = Vec::new();
        let mut quoted = Vec::new();
        let mut field = Vec::new();
        loop {
            // At the start of a field: is it quoted?
            let blank = bytes[i..]
                .iter()
                .take_while(|&&b| b == b' ' || b == b'\t')
                .count();
            let is_quoted = bytes.get(i + blank) == Some(&b'"');
            if is_quoted {
                let quote_line = line;
                i += blank + 1;
                loop {
                    match bytes.get(i) {
                        None => {
                            return Err(Error::Csv {
                                path: path.to_path_buf(),
                                line: quote_line,
                                column: None,
                                message: format!(
                                    "a quoted field (field {}) is never closed: \
                                     the file ends before its closing '\"'",
                                    fields.len() + 1
                                ),
                            })
                        }
                        Some(b'"') if bytes.get(i + 1) == Some(&b'"') => {
                            field.push(b'"');
                            i += 2;
                        }
                        Some(b'"') => {
                            i += 1;
                            break;
                        }
                        Some(b'\n' | b'\r') => {
                            let n = line_break_length(bytes, i);
                            field.extend_from_slice(&bytes[i..i + n]);
                            i += n;
                            line += 1;
                        }
                        Some(&b) => {
                            field.push(b);
                            i += 1;
                        }
                    }
                }
            }
            // Unquoted text (or what follows a closing quote) up to the next comma or line end.
            let tail = field.len();
            while let Some(&b) = bytes.get(i) {
                if b == b',' || b == b'\n' || b == b'\r' {
                    break;
                }
                field.push(b);
                i += 1;
            }
            if is_quoted && field[tail..].iter().all(|&b| b == b' ' || b == b'\t') {
                field.truncate(tail); // spaces after the closing quote
            }
            fields.push(std::mem::take(&mut field));
            quoted.push(is_quoted);
            match bytes.get(i) {
                Some(b',') => i += 1,
                Some(_) => {
                    i += line_break_length(bytes, i);
                    line += 1;
                    break;
                }
                None => break,
            }
        }
        records.push(RawRecord {
            fields,
            quoted,
            line: start_line,
        });
    }
    Ok(records)
}

/// The length of the line break at `bytes[i]` (`\r\n` is one break of two bytes).
fn line_break_length(bytes: &[u8], i: usize) -> usize {
    if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
        2
    } else {
        1
    }
}

/// Whether a record is one unquoted field of spaces (or nothing): a line of spaces.
fn fields_blank(fields: &[Vec<u8>], quoted: &[bool]) -> bool {
    matches!((fields, quoted), ([field], [false]) if field.iter().all(|&b| b == b' ' || b == b'\t'))
}

/// The fields of a record as text, unquoted ones trimmed; invalid UTF-8 is an error naming
/// the line and, for a data row, the column.
fn text_fields(
    fields: Vec<Vec<u8>>,
    quoted: &[bool],
    line: usize,
    headers: Option<&[String]>,
    path: &Path,
) -> Result<Vec<String>> {
    fields
        .into_iter()
        .enumerate()
        .map(|(j, bytes)| match String::from_utf8(bytes) {
            Ok(text) if quoted[j] => Ok(text),
            Ok(text) => Ok(text.trim().to_string()),
            Err(e) => Err(Error::Csv {
                path: path.to_path_buf(),
                line,
                column: headers.and_then(|h| h.get(j)).map(|c| one_line(c)),
                message: format!(
                    "invalid UTF-8 in field {} (byte {} of the field)",
                    j + 1,
                    e.utf8_error().valid_up_to() + 1
                ),
            }),
        })
        .collect()
}

/// Text for a one-line error message: line breaks, tabs and other control characters are
/// written as escapes (`\n`), so that a quoted multi-line field stays on one line.
pub fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    out
}

/// The sorted distinct labels of a column. When every label is a whole number ("1", "01",
/// "+1", "1.0", "1e0"), labels are compared as integers, sorted numerically and named by their
/// plain integer form ("1"); otherwise they are compared and sorted as text.
pub fn classes_of(labels: &[&str]) -> Vec<String> {
    let integers: Option<Vec<i64>> = labels.iter().map(|s| integer_value(s)).collect();
    if let Some(mut integers) = integers {
        integers.sort_unstable();
        integers.dedup();
        return integers.iter().map(i64::to_string).collect();
    }
    let mut distinct: Vec<String> = labels.iter().map(|s| s.to_string()).collect();
    distinct.sort();
    distinct.dedup();
    distinct
}

/// The integer a label stands for, when it is a whole number an f64 holds exactly.
pub(crate) fn integer_value(label: &str) -> Option<i64> {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    let label = label.trim();
    label.parse::<i64>().ok().or_else(|| {
        label
            .parse::<f64>()
            .ok()
            .filter(|v| v.fract() == 0.0 && v.abs() <= EXACT)
            .map(|v| v as i64)
    })
}

/// The position of `label` among `classes`: the class of that name, or else the class that
/// names the same integer ("3" for "3.0" or "03").
pub fn class_position(classes: &[String], label: &str) -> Option<usize> {
    classes
        .iter()
        .position(|c| c == label)
        .or_else(|| classes.iter().position(|c| same_number(c, label)))
}

/// "3" and "3.0" and "03" name the same integer class.
fn same_number(a: &str, b: &str) -> bool {
    matches!((integer_value(a), integer_value(b)), (Some(x), Some(y)) if x == y)
}

/// The class names for a message: all of them, or the first ten and the count.
pub(crate) fn abbreviate(classes: &[String]) -> String {
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
    fn lines_are_physical_lines_after_blank_lines_crlf_and_quoted_line_breaks() {
        let t = parse("a,b\n1,2\n\n\n3,4\n").unwrap();
        assert_eq!(t.lines, vec![2, 5]);
        let t = parse("a,b\r\n1,2\r\n\r\n3,4\r\n").unwrap();
        assert_eq!(t.lines, vec![2, 4]);
        let t = parse("a,b\r1,2\r\r3,4").unwrap();
        assert_eq!(t.lines, vec![2, 4]);
        let t = parse("a,b\n\"x\r\ny\",2\n  \n3,4\n").unwrap();
        assert_eq!(t.lines, vec![2, 5]);
        assert_eq!(t.rows[0], vec!["x\r\ny", "2"]);
    }

    #[test]
    fn quotes_commas_spaces_and_a_byte_order_mark_read_as_the_csv_crate_did() {
        let t = parse("\u{feff}a , \"b\"\n \"1,5\" ,\"say \"\"hi\"\"\"\n2,\n").unwrap();
        assert_eq!(t.headers, vec!["a", "b"]);
        assert_eq!(t.rows, vec![vec!["1,5", "say \"hi\""], vec!["2", ""]]);
    }

    #[test]
    fn an_unterminated_quote_is_an_error_at_the_line_where_it_opens() {
        let err = parse("a,b\n1,2\n3,\"4\n5,6\n").unwrap_err().to_string();
        assert!(err.starts_with("t.csv:3: "), "{err}");
        assert!(
            err.contains("field 2") && err.contains("never closed"),
            "{err}"
        );
    }

    #[test]
    fn integer_labels_in_any_spelling_are_one_class() {
        assert_eq!(classes_of(&["01", "1", "1.0", "2", "+2"]), vec!["1", "2"]);
        assert_eq!(classes_of(&["1", "1.5"]), vec!["1", "1.5"]);
        let classes = classes_of(&["1", "01", "1.0"]);
        assert_eq!(class_position(&classes, "1e0"), Some(0));
        // With text classes, the exact name wins over a numeric match.
        let text = vec!["01".to_string(), "1".to_string(), "cat".to_string()];
        assert_eq!(class_position(&text, "1"), Some(1));
    }

    #[test]
    fn values_beyond_the_precision_s_range_name_line_and_column() {
        let t = parse("a,b\n1,2\n3,-1e39\n").unwrap();
        let err = t.numeric_in::<f32>(&[0, 1]).unwrap_err().to_string();
        assert!(
            err.starts_with("t.csv:3: column 'b': '-1e39' is beyond the range of f32"),
            "{err}"
        );
        assert!(t.numeric_in::<f64>(&[0, 1]).is_ok());
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
