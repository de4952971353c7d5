//! Helpers for the command-line tests: the `nabla` binary, small generated data files, the
//! error contract, and an independent safetensors reader and writer.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use tempfile::TempDir;

/// The `nabla` binary under test.
pub fn nabla() -> assert_cmd::Command {
    assert_cmd::cargo::cargo_bin_cmd!("nabla")
}

/// A fresh temporary folder.
pub fn temp() -> TempDir {
    tempfile::tempdir().expect("a temporary folder")
}

/// Writes `contents` to `dir/name` and returns the path.
pub fn write_file(dir: &TempDir, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, contents).expect("writing a test file");
    path
}

/// A small deterministic generator (64-bit LCG), so the data needs no extra crates.
pub struct Lcg(u64);

impl Lcg {
    pub fn new(seed: u64) -> Self {
        Lcg(seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407))
    }
    /// Uniform in [-1, 1).
    pub fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
}

/// The label of a classification row: the letter of the largest feature ('a', 'b' or 'c').
pub fn label_of(x: [f64; 3]) -> &'static str {
    let mut best = 0;
    for j in 1..3 {
        if x[j] > x[best] {
            best = j;
        }
    }
    ["a", "b", "c"][best]
}

/// The text of a classification CSV: `x0,x1,x2,label`, labels 'a', 'b', 'c' by the largest
/// feature; every class appears (the first three rows are one of each).
pub fn classification_text(rows: usize, seed: u64) -> String {
    let mut rng = Lcg::new(seed);
    let mut text = String::from("x0,x1,x2,label\n");
    for i in 0..rows {
        let mut x = [rng.next(), rng.next(), rng.next()];
        if i < 3 {
            x[i] += 2.0;
        }
        text += &format!("{:.4},{:.4},{:.4},{}\n", x[0], x[1], x[2], label_of(x));
    }
    text
}

/// Writes a classification CSV (see [`classification_text`]).
pub fn classification_csv(dir: &TempDir, name: &str, rows: usize, seed: u64) -> PathBuf {
    write_file(dir, name, classification_text(rows, seed))
}

/// Writes a regression CSV: `x0,x1,x2,y` with `y = 2 x0 - x1 + 0.5 x2`.
pub fn regression_csv(dir: &TempDir, name: &str, rows: usize, seed: u64) -> PathBuf {
    let mut rng = Lcg::new(seed);
    let mut text = String::from("x0,x1,x2,y\n");
    for _ in 0..rows {
        let x = [rng.next(), rng.next(), rng.next()];
        text += &format!(
            "{:.4},{:.4},{:.4},{:.6}\n",
            x[0],
            x[1],
            x[2],
            2.0 * x[0] - x[1] + 0.5 * x[2]
        );
    }
    write_file(dir, name, text)
}

/// The path as a string argument.
pub fn s(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temporary path")
}

/// Stdout of a successful run parsed as one JSON object.
pub fn json_of(assert: &assert_cmd::assert::Assert) -> serde_json::Value {
    let out = stdout_of(assert);
    serde_json::from_str(out.trim())
        .unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}): {out}"))
}

/// What a finished command printed on stderr, as text.
pub fn stderr_of(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

/// Runs `cmd` and checks the error contract: exit code 2, exactly one line on stderr starting
/// with `nabla: error:`, no panic, and every one of `needles` in that line. Returns the line.
pub fn assert_error(cmd: &mut assert_cmd::Command, needles: &[&str]) -> String {
    let output = cmd.output().expect("running nabla");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "exit code; stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "panicked: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one line on stderr, got: {stderr}");
    assert!(lines[0].starts_with("nabla: error:"), "stderr: {stderr}");
    for needle in needles {
        assert!(
            lines[0].contains(needle),
            "stderr should name '{needle}': {stderr}"
        );
    }
    lines[0].to_string()
}

/// Runs `cmd` and checks a clap usage error: exit code 2, no panic, one `nabla: error:`
/// line on stderr naming `flag`, nothing on stdout.
pub fn assert_usage_error(cmd: &mut assert_cmd::Command, flag: &str) -> String {
    let output = cmd.output().expect("running nabla");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "exit code; stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "panicked: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line on stderr: {stderr}");
    assert!(stderr.starts_with("nabla: error:"), "stderr: {stderr}");
    assert!(stderr.contains(flag), "stderr should name {flag}: {stderr}");
    assert!(
        output.stdout.is_empty(),
        "nothing on stdout: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    stderr
}

/// One tensor as read independently of nabla: dtype, shape and values (as f64).
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    pub values: Vec<f64>,
}

/// A safetensors file read with the safetensors crate: its tensors and metadata.
#[derive(Clone, Debug)]
pub struct StFile {
    pub tensors: HashMap<String, Tensor>,
    pub metadata: HashMap<String, String>,
}

/// Reads a safetensors file (F32 or F64 tensors) with the safetensors crate.
pub fn read_st(path: &Path) -> StFile {
    let bytes = std::fs::read(path).expect("reading the model file");
    let metadata = SafeTensors::read_metadata(&bytes)
        .expect("a safetensors header")
        .1
        .metadata()
        .clone()
        .unwrap_or_default();
    let st = SafeTensors::deserialize(&bytes).expect("a safetensors file");
    let mut tensors = HashMap::new();
    for (name, view) in st.tensors() {
        let values = match view.dtype() {
            Dtype::F32 => view
                .data()
                .chunks_exact(4)
                .map(|c| f64::from(f32::from_le_bytes(c.try_into().unwrap())))
                .collect(),
            Dtype::F64 => view
                .data()
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                .collect(),
            other => panic!("unexpected dtype {other:?}"),
        };
        tensors.insert(
            name,
            Tensor {
                dtype: view.dtype(),
                shape: view.shape().to_vec(),
                values,
            },
        );
    }
    StFile { tensors, metadata }
}

/// Writes tensors (each in its own dtype) and metadata with the safetensors crate.
pub fn write_st(path: &Path, file: &StFile) {
    let buffers: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = file
        .tensors
        .iter()
        .map(|(name, t)| {
            let bytes = match t.dtype {
                Dtype::F32 => t
                    .values
                    .iter()
                    .flat_map(|&v| (v as f32).to_le_bytes())
                    .collect(),
                Dtype::F64 => t.values.iter().flat_map(|&v| v.to_le_bytes()).collect(),
                other => panic!("unexpected dtype {other:?}"),
            };
            (name.clone(), t.dtype, t.shape.clone(), bytes)
        })
        .collect();
    let views: Vec<(String, TensorView<'_>)> = buffers
        .iter()
        .map(|(n, d, s, b)| {
            (
                n.clone(),
                TensorView::new(*d, s.clone(), b).expect("shape and bytes agree"),
            )
        })
        .collect();
    let bytes = safetensors::serialize(views, Some(file.metadata.clone())).expect("serializing");
    std::fs::write(path, bytes).expect("writing the model file");
}

/// Writes a raw (not gzipped) IDX images file `…-images-idx3-ubyte` and its labels file.
pub fn write_idx(
    dir: &TempDir,
    prefix: &str,
    rows: usize,
    cols: usize,
    images: &[Vec<u8>],
    labels: &[u8],
) -> PathBuf {
    let mut img = Vec::new();
    img.extend(0x0000_0803u32.to_be_bytes());
    img.extend((images.len() as u32).to_be_bytes());
    img.extend((rows as u32).to_be_bytes());
    img.extend((cols as u32).to_be_bytes());
    for image in images {
        assert_eq!(image.len(), rows * cols);
        img.extend(image);
    }
    let mut lab = Vec::new();
    lab.extend(0x0000_0801u32.to_be_bytes());
    lab.extend((labels.len() as u32).to_be_bytes());
    lab.extend(labels);
    write_file(dir, &format!("{prefix}-labels-idx1-ubyte"), lab);
    write_file(dir, &format!("{prefix}-images-idx3-ubyte"), img)
}

/// `nabla init` of a classification model `[3,5,3]` (or `layers`) into `dir/name`.
pub fn init_model(dir: &TempDir, name: &str, args: &[&str]) -> PathBuf {
    let path = dir.path().join(name);
    nabla()
        .arg("init")
        .args(args)
        .arg("--out")
        .arg(&path)
        .assert()
        .success();
    path
}

/// `nabla train --data <data> <extra> --out <dir>/out.safetensors`, expected to fail with
/// one error line holding `needles`; checks no model file appears.
pub fn train_fails(dir: &TempDir, data: &Path, extra: &[&str], needles: &[&str]) -> String {
    let out = dir.path().join("out.safetensors");
    let line = assert_error(
        nabla()
            .args([
                "train",
                "--data",
                s(data),
                "--epochs",
                "1",
                "--out",
                s(&out),
            ])
            .args(extra),
        needles,
    );
    assert!(!out.exists(), "no model file after an error");
    line
}

/// Trains a small classification model on `data` and saves it to `dir/name`.
pub fn train_model(dir: &TempDir, name: &str, data: &Path, extra: &[&str]) -> PathBuf {
    let path = dir.path().join(name);
    nabla()
        .args([
            "train",
            "--data",
            s(data),
            "--hidden",
            "5",
            "--epochs",
            "3",
            "--quiet",
            "--json",
            "--out",
        ])
        .arg(&path)
        .args(extra)
        .assert()
        .success();
    path
}

/// The raw text of the value under `key` at the top level of the JSON object `text`.
///
/// Numbers are compared bit for bit by parsing this text with Rust's correctly rounded
/// `str::parse::<f64>`, not through `serde_json::Value` (serde_json's default float parser
/// can be one ulp off).
pub fn raw<'a>(text: &'a str, key: &str) -> &'a str {
    let b = text.as_bytes();
    let skip_ws = |mut i: usize| {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        i
    };
    let end_of_string = |mut i: usize| {
        // i is just past the opening quote; returns the index of the closing quote
        while b[i] != b'"' {
            if b[i] == b'\\' {
                i += 1;
            }
            i += 1;
        }
        i
    };
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let start = i + 1;
                let close = end_of_string(start);
                i = skip_ws(close + 1);
                if depth == 1 && &text[start..close] == key && i < b.len() && b[i] == b':' {
                    let from = skip_ws(i + 1);
                    let mut j = from;
                    let mut d = 0usize;
                    while j < b.len() {
                        match b[j] {
                            b'"' => j = end_of_string(j + 1),
                            b'{' | b'[' => d += 1,
                            b'}' | b']' if d == 0 => break,
                            b'}' | b']' => {
                                d -= 1;
                                if d == 0 {
                                    j += 1;
                                    break;
                                }
                            }
                            b',' if d == 0 => break,
                            _ => {}
                        }
                        j += 1;
                    }
                    return text[from..j].trim();
                }
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    panic!("no top-level key '{key}' in {text}")
}

/// Every number in a raw JSON value (arrays flattened, row by row; keys and other words
/// skipped), parsed exactly.
pub fn exact_numbers(raw_value: &str) -> Vec<f64> {
    raw_value
        .split(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c)))
        .filter(|t| {
            t.trim_start_matches('-')
                .starts_with(|c: char| c.is_ascii_digit())
        })
        .map(|t| {
            t.parse::<f64>()
                .unwrap_or_else(|e| panic!("'{t}' is not a number: {e}"))
        })
        .collect()
}

/// The number under top-level `key` in the JSON object `text`, parsed exactly.
pub fn exact(text: &str, key: &str) -> f64 {
    let v = exact_numbers(raw(text, key));
    assert_eq!(v.len(), 1, "'{key}' is not one number in {text}");
    v[0]
}

/// Stdout of a successful run as text.
pub fn stdout_of(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stdout).into_owned()
}
