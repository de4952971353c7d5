//! CSV tables as other tools write them, read in one pass over the bytes straight into a
//! numeric matrix: no `String` per cell, only per text cell (a category, a note, an ID).
//!
//! - The input is a file, a gzip file (`.gz`), or standard input (`-`), read line by line
//!   through a buffer, so that the whole file is never in memory at once.
//! - Fields are separated by [`ReadOptions::delimiter`], or, when it is not given, by
//!   commas, unless the header holds no comma but a `;` or a tab (then that, as Excel in
//!   many locales and `to_csv(sep="\t")` write).
//! - A first column with an empty name (what pandas' `df.to_csv()` writes for its index)
//!   is an index: left out, and said in [`Frame::index_column`].
//! - Cells equal (after trimming) to one of [`ReadOptions::na_values`] are missing values.
//! - Numbers are parsed from the bytes with `fast-float2`; cells that are not numbers are
//!   kept as text, per column, each distinct text once.
//!
//! Quoting and line numbers follow [`super::csv`]'s splitter: a field that starts with `"`
//! runs to the next lone `"` (`""` is one quote) and may hold delimiters and line breaks;
//! line numbers count every physical line.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::data::csv::one_line;
use crate::error::{Error, Result};

/// The cells read as missing values unless [`ReadOptions::na_values`] says otherwise:
/// the empty cell, `NA`, `N/A`, `NaN`, `nan`, `null` and `?` (pandas' most common ones).
pub const DEFAULT_NA_VALUES: [&str; 7] = ["", "NA", "N/A", "NaN", "nan", "null", "?"];

/// The most characters of a cell's text that an error message echoes; longer values are
/// cut and end in `…`.
pub const ECHO_CHARS: usize = 60;

/// How to read a table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadOptions {
    /// The byte between fields; `None` to detect it (see the module docs).
    pub delimiter: Option<u8>,
    /// The cells that mean "missing".
    pub na_values: Vec<String>,
    /// Columns whose cells are kept as text as written, numbers too (labels, IDs to copy).
    pub text_columns: Vec<String>,
    /// Whether the last column is kept as text too (the default target).
    pub last_column_as_text: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            delimiter: None,
            na_values: DEFAULT_NA_VALUES.iter().map(|s| s.to_string()).collect(),
            text_columns: Vec::new(),
            last_column_as_text: false,
        }
    }
}

/// Progress while a table loads: `(bytes read, total bytes)`, the total 0 when unknown
/// (standard input). For a `.gz` file both count compressed bytes.
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64);

/// The text cells of one column: the row of each, and its text (each distinct text stored
/// once).
#[derive(Clone, Debug, Default)]
struct TextCells {
    rows: Vec<usize>,
    ids: Vec<u32>,
    pool: Vec<String>,
    index: HashMap<String, u32>,
}

/// One cell of a [`Frame`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cell<'a> {
    /// A finite number.
    Number(f64),
    /// A missing value (one of the NA spellings).
    Missing,
    /// Anything else: a word, a code, a non-finite number such as `inf`.
    Text(&'a str),
}

/// A table read into memory: a row-major matrix of numbers (NaN where a cell is missing or
/// text) and the text cells beside it.
#[derive(Clone, Debug)]
pub struct Frame {
    /// The file's name for messages (`<stdin>` for standard input).
    pub path: PathBuf,
    /// Column names (the index column left out).
    pub headers: Vec<String>,
    /// The 1-based line of each data row.
    pub lines: Vec<usize>,
    /// Whether a first column without a name was left out as an index.
    pub index_column: bool,
    /// The delimiter used.
    pub delimiter: u8,
    /// Whether the delimiter was detected rather than given or a comma.
    pub delimiter_detected: bool,
    values: Vec<f64>,
    text: Vec<TextCells>,
}

/// Reads a table from `path` (`-` for standard input; `.gz` is decompressed), calling
/// `progress` as it goes.
///
/// # Errors
/// [`Error::Io`] when the input cannot be read; [`Error::Csv`] naming the line (and column)
/// for an empty file, a bad header, a row with the wrong number of fields, an unclosed
/// quote, invalid UTF-8.
pub fn read(path: &Path, options: &ReadOptions, progress: Option<Progress<'_>>) -> Result<Frame> {
    let stdin = path.as_os_str() == "-";
    let (raw, total): (Box<dyn Read>, u64) = if stdin {
        (Box::new(std::io::stdin().lock()), 0)
    } else {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let total = file.metadata().map(|m| m.len()).unwrap_or(0);
        (Box::new(file), total)
    };
    let counted = Counting {
        inner: raw,
        done: 0,
        reported: 0,
        total,
        progress,
    };
    let gz = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"));
    let name = if stdin {
        PathBuf::from("<stdin>")
    } else {
        path.to_path_buf()
    };
    let io_path = name.clone();
    let reader: Box<dyn BufRead> = if gz {
        Box::new(BufReader::with_capacity(
            1 << 20,
            flate2::read::MultiGzDecoder::new(BufReader::with_capacity(1 << 16, counted)),
        ))
    } else {
        Box::new(BufReader::with_capacity(1 << 20, counted))
    };
    let mut splitter = Splitter::new(reader, io_path);
    let frame = build(&mut splitter, name, options)?;
    Ok(frame)
}

/// Parses a table from bytes in memory; `path` names it in messages.
///
/// # Errors
/// As [`read`].
pub fn parse(bytes: &[u8], path: &Path, options: &ReadOptions) -> Result<Frame> {
    let mut splitter = Splitter::new(bytes, path.to_path_buf());
    build(&mut splitter, path.to_path_buf(), options)
}

/// A reader that counts the bytes through it and reports them about every 4 MiB.
struct Counting<'a> {
    inner: Box<dyn Read + 'a>,
    done: u64,
    reported: u64,
    total: u64,
    progress: Option<Progress<'a>>,
}

impl Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.done += n as u64;
        if let Some(progress) = self.progress.as_mut() {
            if n == 0 || self.done - self.reported >= 1 << 22 {
                self.reported = self.done;
                progress(self.done, self.total);
            }
        }
        Ok(n)
    }
}

/// Splits records from a buffered reader, one physical line at a time (more for a quoted
/// field with line breaks).
struct Splitter<R: BufRead> {
    reader: R,
    path: PathBuf,
    buf: Vec<u8>,
    pos: usize,
    eof: bool,
    line: usize,
    delimiter: u8,
    /// The current record's quoted fields' bytes, back to back, and each field's (start,
    /// end, quoted): in `scratch` when quoted, else in `buf`.
    scratch: Vec<u8>,
    fields: Vec<(usize, usize, bool)>,
    record_line: usize,
}

enum Outcome {
    Record { next: usize, line: usize },
    Blank { next: usize, line: usize },
    NeedMore,
    Unclosed { line: usize, field: usize },
}

impl<R: BufRead> Splitter<R> {
    fn new(reader: R, path: PathBuf) -> Self {
        Splitter {
            reader,
            path,
            buf: Vec::new(),
            pos: 0,
            eof: false,
            line: 1,
            delimiter: b',',
            scratch: Vec::new(),
            fields: Vec::new(),
            record_line: 1,
        }
    }

    /// Appends the next physical line to the buffer; false at the end of the input.
    fn fill(&mut self) -> Result<bool> {
        if self.eof {
            return Ok(false);
        }
        let n = self
            .reader
            .read_until(b'\n', &mut self.buf)
            .map_err(|e| Error::io(&self.path, e))?;
        if n == 0 {
            self.eof = true;
        }
        Ok(n > 0)
    }

    /// The next record into `scratch` and `fields` (blank lines skipped); false at the end.
    fn next_record(&mut self) -> Result<bool> {
        loop {
            if self.pos >= self.buf.len() {
                self.buf.clear();
                self.pos = 0;
                if !self.fill()? {
                    return Ok(false);
                }
                if self.line == 1 && self.buf.starts_with(b"\xef\xbb\xbf") {
                    self.pos = 3;
                }
            }
            match self.parse_at() {
                Outcome::Record { next, line } => {
                    self.record_line = self.line;
                    self.pos = next;
                    self.line = line;
                    return Ok(true);
                }
                Outcome::Blank { next, line } => {
                    self.pos = next;
                    self.line = line;
                }
                Outcome::NeedMore => {
                    if !self.fill()? {
                        self.eof = true;
                    }
                }
                Outcome::Unclosed { line, field } => {
                    return Err(Error::Csv {
                        path: self.path.clone(),
                        line,
                        column: None,
                        message: format!(
                            "a quoted field (field {field}) is never closed: \
                             the file ends before its closing '\"'"
                        ),
                    })
                }
            }
        }
    }

    /// Parses one record from `buf[pos..]` (see `csv::split_records` for the rules).
    fn parse_at(&mut self) -> Outcome {
        let bytes = &self.buf[..];
        let d = self.delimiter;
        let mut i = self.pos;
        let mut line = self.line;
        if bytes[i] == b'\n' || bytes[i] == b'\r' {
            let n = break_length(bytes, i);
            if n == 0 {
                return Outcome::NeedMore;
            }
            return Outcome::Blank {
                next: i + n,
                line: line + 1,
            };
        }
        let blank = |b: u8| b == b' ' || (b == b'\t' && d != b'\t');
        self.scratch.clear();
        self.fields.clear();
        loop {
            let start = self.scratch.len();
            let lead = bytes[i..].iter().take_while(|&&b| blank(b)).count();
            let quoted = bytes.get(i + lead) == Some(&b'"');
            if quoted {
                let quote_line = line;
                i += lead + 1;
                loop {
                    match bytes.get(i) {
                        None if self.eof => {
                            return Outcome::Unclosed {
                                line: quote_line,
                                field: self.fields.len() + 1,
                            }
                        }
                        None => return Outcome::NeedMore,
                        Some(b'"') if i + 1 == bytes.len() && !self.eof => {
                            return Outcome::NeedMore
                        }
                        Some(b'"') if bytes.get(i + 1) == Some(&b'"') => {
                            self.scratch.push(b'"');
                            i += 2;
                        }
                        Some(b'"') => {
                            i += 1;
                            break;
                        }
                        Some(b'\n' | b'\r') => {
                            let n = break_length(bytes, i);
                            if n == 0 {
                                return Outcome::NeedMore;
                            }
                            self.scratch.extend_from_slice(&bytes[i..i + n]);
                            i += n;
                            line += 1;
                        }
                        Some(&b) => {
                            self.scratch.push(b);
                            i += 1;
                        }
                    }
                }
            }
            let rest = &bytes[i..];
            let len = rest
                .iter()
                .position(|&b| b == d || b == b'\n' || b == b'\r')
                .unwrap_or(rest.len());
            if quoted {
                // What follows the closing quote (spaces are dropped) joins the field.
                let tail = &rest[..len];
                if !tail.iter().all(|&b| blank(b) || b == b'\t') {
                    self.scratch.extend_from_slice(tail);
                }
                self.fields.push((start, self.scratch.len(), true));
            } else {
                // An unquoted field is read where it lies in the buffer, without a copy.
                self.fields.push((i, i + len, false));
            }
            i += len;
            match bytes.get(i) {
                Some(&b) if b == d => i += 1,
                Some(_) => {
                    let n = break_length(bytes, i);
                    if n == 0 {
                        return Outcome::NeedMore;
                    }
                    i += n;
                    line += 1;
                    break;
                }
                None if self.eof => break,
                None => return Outcome::NeedMore,
            }
        }
        Outcome::Record { next: i, line }
    }

    fn field(&self, j: usize) -> (&[u8], bool) {
        let (a, b, quoted) = self.fields[j];
        if quoted {
            (&self.scratch[a..b], true)
        } else {
            (&self.buf[a..b], false)
        }
    }

    /// Whether the record is one unquoted field of spaces (or nothing): a line of spaces.
    fn blank_record(&self) -> bool {
        match self.fields.as_slice() {
            [(a, b, false)] => self.buf[*a..*b].iter().all(|&c| c == b' ' || c == b'\t'),
            _ => false,
        }
    }

    /// Field `j` as text (trimmed unless quoted); invalid UTF-8 is an error naming the
    /// line and, when given, the column.
    fn text(&self, j: usize, column: Option<&str>) -> Result<&str> {
        let (bytes, quoted) = self.field(j);
        match std::str::from_utf8(bytes) {
            Ok(text) if quoted => Ok(text),
            Ok(text) => Ok(text.trim()),
            Err(e) => Err(Error::Csv {
                path: self.path.clone(),
                line: self.record_line,
                column: column.map(echo),
                message: format!(
                    "invalid UTF-8 in field {} (byte {} of the field)",
                    j + 1,
                    e.valid_up_to() + 1
                ),
            }),
        }
    }
}

/// The length of the line break at `bytes[i]`; 0 when a `\r` ends the buffer before the
/// input does (a `\n` may follow).
fn break_length(bytes: &[u8], i: usize) -> usize {
    match (bytes[i], bytes.get(i + 1)) {
        (b'\r', Some(b'\n')) => 2,
        (b'\r', None) => 1, // read_until stops at '\n' only: a lone '\r' ends the input
        _ => 1,
    }
}

/// Stores a text cell of row `row`.
fn intern(t: &mut TextCells, cell: &str, row: usize) {
    // Few distinct texts (labels, categories): a look along them beats hashing.
    let near = if t.pool.len() <= 16 {
        t.pool.iter().position(|p| p == cell).map(|k| k as u32)
    } else {
        t.index.get(cell).copied()
    };
    let id = match near {
        Some(id) => id,
        None => {
            let id = u32::try_from(t.pool.len()).expect("fewer than 2^32 texts");
            t.pool.push(cell.to_string());
            t.index.insert(cell.to_string(), id);
            id
        }
    };
    t.rows.push(row);
    t.ids.push(id);
}

/// One row of unquoted fields at `buf[pos..]`, numbers parsed where they lie: pushes the
/// numbers (NaN for text and text columns) onto `values` and the text fields' (column,
/// start, end) onto `texts`, and returns where the next line starts. `None` for anything
/// else (quotes, blanks before a field, a field count that is not `width`, a line of
/// spaces): the caller then takes the general path.
#[allow(clippy::too_many_arguments)]
fn fast_row(
    buf: &[u8],
    pos: usize,
    d: u8,
    width: usize,
    skip: usize,
    as_text: &[bool],
    values: &mut Vec<f64>,
    texts: &mut Vec<(usize, usize, usize)>,
) -> Option<usize> {
    let mut i = pos;
    for j in 0..width {
        let last = j + 1 == width;
        let first = *buf.get(i)?;
        if first == b'"' || first == b' ' || first == b'\t' {
            return None;
        }
        let end = |k: usize| -> bool {
            match buf.get(k) {
                Some(&b) if b == d => !last,
                Some(b'\n' | b'\r') | None => last,
                Some(_) => false,
            }
        };
        let number = j >= skip && !as_text[j - skip];
        if number {
            if let Ok((v, n)) = fast_float2::parse_partial::<f64, _>(&buf[i..]) {
                if n > 0 && v.is_finite() && end(i + n) {
                    values.push(v);
                    i += n + 1;
                    continue;
                }
            }
        }
        let len = buf[i..]
            .iter()
            .position(|&b| b == d || b == b'\n' || b == b'\r')
            .unwrap_or(buf.len() - i);
        if !end(i + len)
            || buf[i..i + len]
                .last()
                .is_some_and(|&b| b == b' ' || b == b'\t')
        {
            return None;
        }
        if j >= skip {
            values.push(f64::NAN);
            texts.push((j - skip, i, i + len));
        }
        i += len + 1;
    }
    // i is one past the last field's terminator: a '\r' may be followed by its '\n'.
    let terminator = i - 1;
    match buf.get(terminator) {
        Some(b'\r') if buf.get(terminator + 1) == Some(&b'\n') => Some(terminator + 2),
        Some(_) => Some(i),
        None => Some(buf.len()),
    }
}

fn build<R: BufRead>(s: &mut Splitter<R>, name: PathBuf, options: &ReadOptions) -> Result<Frame> {
    let err = |line: usize, column: Option<String>, message: String| Error::Csv {
        path: name.clone(),
        line,
        column,
        message,
    };
    if let Some(d) = options.delimiter {
        s.delimiter = d;
    }
    // The header: the first record that is not a line of spaces.
    let (start, start_line) = loop {
        let at = (s.pos, s.line, s.buf.len());
        if !s.next_record()? {
            return Err(err(
                1,
                None,
                "empty file: expected a header row naming the columns".into(),
            ));
        }
        if !s.blank_record() {
            // Where the header began, to read it again with another delimiter.
            let begin = if at.0 >= at.2 { 0 } else { at.0 };
            break (begin, s.record_line);
        }
    };
    let mut delimiter_detected = false;
    if options.delimiter.is_none() && s.fields.len() == 1 {
        let (raw, _) = s.field(0);
        if let Some(d) = [b';', b'\t'].into_iter().find(|d| raw.contains(d)) {
            s.delimiter = d;
            s.pos = start + usize::from(start == 0 && s.buf.starts_with(b"\xef\xbb\xbf")) * 3;
            s.line = start_line;
            let again = s.parse_at();
            if let Outcome::Record { next, line } = again {
                s.pos = next;
                s.line = line;
                delimiter_detected = true;
            }
        }
    }
    let line = s.record_line;
    let mut headers = Vec::with_capacity(s.fields.len());
    for j in 0..s.fields.len() {
        headers.push(s.text(j, None)?.to_string());
    }
    if headers.iter().all(String::is_empty) {
        return Err(err(line, None, "empty header row".into()));
    }
    let index_column = headers.len() > 1 && headers[0].is_empty();
    for (i, h) in headers.iter().enumerate().skip(usize::from(index_column)) {
        if h.is_empty() {
            return Err(err(line, None, format!("column {} has no name", i + 1)));
        }
        if headers[..i].contains(h) {
            return Err(err(line, Some(one_line(h)), "duplicate column name".into()));
        }
    }
    if headers.len() == 1 && options.delimiter.is_none() {
        if let Some(separator) = ['|'].into_iter().find(|&c| headers[0].contains(c)) {
            return Err(err(
                line,
                None,
                format!(
                    "the header has a single column '{}': fields are separated by commas; \
                     this file seems to use {:?} (give {})",
                    echo(&headers[0]),
                    separator,
                    crate::setting::Setting::Delimiter.mention()
                ),
            ));
        }
    }
    let width = headers.len();
    let skip = usize::from(index_column);
    let names: Vec<String> = headers[skip..].to_vec();
    let cols = names.len();
    let na: Vec<&str> = options.na_values.iter().map(|s| s.trim()).collect();
    // Spellings of "missing" that read as numbers (-999) are looked for before numbers are.
    let numeric_na = na
        .iter()
        .any(|n| n.parse::<f64>().is_ok_and(f64::is_finite));
    let as_text: Vec<bool> = (0..cols)
        .map(|c| {
            options.text_columns.contains(&names[c])
                || (options.last_column_as_text && c + 1 == cols)
        })
        .collect();
    let mut values: Vec<f64> = Vec::new();
    let mut text: Vec<TextCells> = vec![TextCells::default(); cols];
    let mut lines = Vec::new();
    let mut row = 0usize;
    let mut texts: Vec<(usize, usize, usize)> = Vec::with_capacity(cols);
    loop {
        // The fast path: a line of unquoted fields, numbers parsed where they lie.
        if s.pos >= s.buf.len() && !s.eof {
            s.buf.clear();
            s.pos = 0;
            s.fill()?;
        }
        if !numeric_na && s.pos < s.buf.len() {
            let before = values.len();
            texts.clear();
            if let Some(next) = fast_row(
                &s.buf,
                s.pos,
                s.delimiter,
                width,
                skip,
                &as_text,
                &mut values,
                &mut texts,
            ) {
                let mut ok = true;
                for &(c, a, b) in &texts {
                    let Ok(cell) = std::str::from_utf8(&s.buf[a..b]) else {
                        ok = false;
                        break;
                    };
                    let cell = cell.trim();
                    if na.contains(&cell) {
                        continue;
                    }
                    intern(&mut text[c], cell, row);
                }
                if ok {
                    lines.push(s.line);
                    s.line += 1;
                    s.pos = next;
                    row += 1;
                    continue;
                }
            }
            values.truncate(before);
        }
        if !s.next_record()? {
            break;
        }
        if width > 1 && s.blank_record() {
            continue; // a line of spaces, which cannot be a row of several columns
        }
        if s.fields.len() != width {
            return Err(err(
                s.record_line,
                None,
                format!(
                    "{} fields, but the header has {width} columns",
                    s.fields.len()
                ),
            ));
        }
        for c in 0..cols {
            let j = c + skip;
            let (bytes, _) = s.field(j);
            if !as_text[c] {
                let trimmed = bytes.trim_ascii();
                if numeric_na && na.iter().any(|n| n.as_bytes() == trimmed) {
                    values.push(f64::NAN);
                    continue;
                }
                if let Ok(v) = fast_float2::parse::<f64, _>(trimmed) {
                    if v.is_finite() {
                        values.push(v);
                        continue;
                    }
                }
            }
            let cell = s.text(j, Some(&names[c]))?;
            values.push(f64::NAN);
            if na.contains(&cell.trim()) {
                continue;
            }
            intern(&mut text[c], cell, row);
        }
        lines.push(s.record_line);
        row += 1;
    }
    if row == 0 {
        return Err(err(1, None, "no data rows after the header".into()));
    }
    values.shrink_to_fit();
    Ok(Frame {
        path: name,
        headers: names,
        lines,
        index_column,
        delimiter: s.delimiter,
        delimiter_detected,
        values,
        text,
    })
}

impl Frame {
    /// Data rows.
    pub fn rows(&self) -> usize {
        self.lines.len()
    }

    /// Columns (the index column left out).
    pub fn cols(&self) -> usize {
        self.headers.len()
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
                    echo_list(&self.headers.join(", "))
                ),
            })
    }

    /// The cell in row `i`, column `c`.
    pub fn cell(&self, i: usize, c: usize) -> Cell<'_> {
        let v = self.values[i * self.cols() + c];
        if !v.is_nan() {
            return Cell::Number(v);
        }
        let t = &self.text[c];
        match t.rows.binary_search(&i) {
            Ok(k) => Cell::Text(&t.pool[t.ids[k] as usize]),
            Err(_) => Cell::Missing,
        }
    }

    /// The cell in row `i`, column `c`, whose value in the raw matrix is `v` (for a matrix
    /// taken out with [`Frame::take_values`]).
    pub fn cell_with(&self, v: f64, i: usize, c: usize) -> Cell<'_> {
        if !v.is_nan() {
            return Cell::Number(v);
        }
        let t = &self.text[c];
        match t.rows.binary_search(&i) {
            Ok(k) => Cell::Text(&t.pool[t.ids[k] as usize]),
            Err(_) => Cell::Missing,
        }
    }

    /// The cells of column `c`, row by row.
    pub fn column(&self, c: usize) -> impl Iterator<Item = Cell<'_>> + '_ {
        let t = &self.text[c];
        // Text cells come in row order: the next one is the only one to look at.
        let mut next = 0;
        (0..self.rows()).map(move |i| {
            let v = self.values[i * self.cols() + c];
            if !v.is_nan() {
                return Cell::Number(v);
            }
            if t.rows.get(next) == Some(&i) {
                next += 1;
                return Cell::Text(&t.pool[t.ids[next - 1] as usize]);
            }
            Cell::Missing
        })
    }

    /// For each of `columns`, how many of the rows `keep` have a missing value there, and
    /// the first such row (`usize::MAX` when none): one pass over the rows.
    pub fn missing_counts(&self, columns: &[usize], keep: &[bool]) -> Vec<(usize, usize)> {
        let cols = self.cols();
        let mut counts = vec![(0, usize::MAX); columns.len()];
        for (i, row) in self.values.chunks_exact(cols).enumerate() {
            if !keep[i] {
                continue;
            }
            for (k, &c) in columns.iter().enumerate() {
                if row[c].is_nan() && self.text[c].rows.binary_search(&i).is_err() {
                    counts[k].0 += 1;
                    counts[k].1 = counts[k].1.min(i);
                }
            }
        }
        counts
    }

    /// The text cells of column `c`: their rows (ascending), the id of each text, and the
    /// distinct texts by id.
    pub fn text_cells(&self, c: usize) -> (&[usize], &[u32], &[String]) {
        let t = &self.text[c];
        (&t.rows, &t.ids, &t.pool)
    }

    /// How many cells of column `c` are text, and how many distinct texts there are.
    pub fn text_counts(&self, c: usize) -> (usize, usize) {
        (self.text[c].rows.len(), self.text[c].pool.len())
    }

    /// Takes the raw matrix out (rows × cols, NaN for missing and text cells), to build
    /// the inputs in its place; [`Frame::cell_with`] still reads the text cells.
    pub fn take_values(&mut self) -> Vec<f64> {
        std::mem::take(&mut self.values)
    }

    /// The text of a cell as a user wrote it (a number in its shortest form).
    pub fn cell_text(&self, i: usize, c: usize) -> String {
        match self.cell(i, c) {
            Cell::Number(v) => v.to_string(),
            Cell::Missing => String::new(),
            Cell::Text(t) => t.to_string(),
        }
    }
}

/// A cell's text for an error message: on one line, and cut to [`ECHO_CHARS`] characters
/// with `…` when longer (a 10-million-digit value is not echoed whole).
pub fn echo(text: &str) -> String {
    let line = one_line(text);
    if line.chars().count() <= ECHO_CHARS {
        return line;
    }
    let mut short: String = line.chars().take(ECHO_CHARS - 1).collect();
    short.push('…');
    short
}

/// A list for an error message, cut at 300 characters.
fn echo_list(text: &str) -> String {
    let line = one_line(text);
    if line.chars().count() <= 300 {
        return line;
    }
    let mut short: String = line.chars().take(299).collect();
    short.push('…');
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(text: &str) -> Result<Frame> {
        parse(text.as_bytes(), Path::new("t.csv"), &ReadOptions::default())
    }

    #[test]
    fn numbers_text_and_missing_cells_are_told_apart() {
        let f = frame("a,b,c\n1,x,NA\n2.5, y ,\n").unwrap();
        assert_eq!(f.headers, ["a", "b", "c"]);
        assert_eq!(f.cell(0, 0), Cell::Number(1.0));
        assert_eq!(f.cell(1, 1), Cell::Text("y"));
        assert_eq!(f.cell(0, 2), Cell::Missing);
        assert_eq!(f.cell(1, 2), Cell::Missing);
        let b: Vec<Cell> = f.column(1).collect();
        assert_eq!(b, [Cell::Text("x"), Cell::Text("y")]);
        assert_eq!(f.text_counts(1), (2, 2));
    }

    #[test]
    fn lines_quotes_and_line_breaks_match_the_text_splitter() {
        let f = frame("a,b\n\"x\r\ny\",2\n  \n3,4\n").unwrap();
        assert_eq!(f.lines, vec![2, 5]);
        assert_eq!(f.cell(0, 0), Cell::Text("x\r\ny"));
        let f = frame("a,b\r1,2\r\r3,4").unwrap();
        assert_eq!(f.lines, vec![2, 4]);
        let f = frame("\u{feff}a , \"b\"\n \"1,5\" ,\"say \"\"hi\"\"\"\n2,\n").unwrap();
        assert_eq!(f.headers, ["a", "b"]);
        assert_eq!(f.cell(0, 0), Cell::Text("1,5"));
        assert_eq!(f.cell(0, 1), Cell::Text("say \"hi\""));
        let err = frame("a,b\n1,2\n3,\"4\n5,6\n").unwrap_err().to_string();
        assert!(
            err.starts_with("t.csv:3: ") && err.contains("never closed"),
            "{err}"
        );
    }

    #[test]
    fn a_pandas_index_and_other_delimiters_are_recognised() {
        let f = frame(",x,y\n0,1,2\n1,3,4\n").unwrap();
        assert!(f.index_column);
        assert_eq!(f.headers, ["x", "y"]);
        assert_eq!(f.cell(1, 0), Cell::Number(3.0));
        let f = frame("x;y\n1,5;2\n").unwrap();
        assert_eq!((f.delimiter, f.delimiter_detected), (b';', true));
        assert_eq!(f.cell(0, 0), Cell::Text("1,5"));
        let f = frame("x\ty\n1\t2\n").unwrap();
        assert_eq!(f.cell(0, 1), Cell::Number(2.0));
        let options = ReadOptions {
            delimiter: Some(b'|'),
            ..ReadOptions::default()
        };
        let f = parse(b"x|y\n1|2\n", Path::new("p.csv"), &options).unwrap();
        assert_eq!(f.cell(0, 1), Cell::Number(2.0));
    }

    #[test]
    fn long_values_are_echoed_short() {
        let long = "9".repeat(10_000);
        let e = echo(&long);
        assert_eq!(e.chars().count(), ECHO_CHARS);
        assert!(e.ends_with('…'));
        assert_eq!(echo("short"), "short");
    }

    #[test]
    fn errors_name_the_line() {
        let err = frame("a,b\n1,2\n3\n").unwrap_err().to_string();
        assert_eq!(err, "t.csv:3: 1 fields, but the header has 2 columns");
        assert!(frame("")
            .unwrap_err()
            .to_string()
            .contains("t.csv:1: empty file"));
        assert!(frame("a,b\n")
            .unwrap_err()
            .to_string()
            .contains("no data rows"));
    }
}
