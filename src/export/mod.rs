//! Using a model elsewhere: [ONNX](https://onnx.ai) for any runtime (feature `onnx`), and
//! PyTorch's `nn.Sequential` as a safetensors state dict plus the Python that rebuilds the
//! module ([`torch`]). [`crate::import`] reads such a state dict back.
//!
//! Both forms take raw features and give what [`crate::Network::predict`] gives on the
//! model's scaled inputs: the model's input scaling travels with them (as graph nodes in
//! ONNX, as a module in the Python).

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::matrix::Scalar;
use crate::model_file::Model;
use crate::setting::Setting;

#[cfg(feature = "onnx")]
pub mod onnx;
pub mod torch;

/// What [`export`] writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// An ONNX model (opset 13): one `Gemm` per layer and its activation, the input
    /// scaling first. Needs the `onnx` feature.
    Onnx,
    /// A safetensors file with `nn.Sequential` keys (`0.weight`, `0.bias`, `2.weight`, …)
    /// and, beside it, the Python (`.py`) that rebuilds the module.
    Torch,
}

impl Format {
    /// Both formats, in the order the CLI lists them.
    pub const ALL: [Format; 2] = [Format::Onnx, Format::Torch];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Format::Onnx => "onnx",
            Format::Torch => "torch",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "onnx" => Ok(Format::Onnx),
            "torch" | "pytorch" | "safetensors" => Ok(Format::Torch),
            _ => Err(Error::config(
                Setting::Format,
                format!("unknown format '{s}' (expected onnx or torch)"),
            )),
        }
    }
}

/// Writes `model` to `out` in `format`, each file atomically; returns the files written
/// (for torch: `out` and the Python beside it, `out` with the extension `.py`).
///
/// # Errors
/// [`Error::InvalidConfig`] naming [`Setting::Format`] for ONNX without the `onnx`
/// feature, [`Setting::Out`] for a torch `out` that ends in `.py` (the Python would
/// overwrite it); [`Error::Io`] when a file cannot be written.
pub fn export<T: Scalar>(model: &Model<T>, format: Format, out: &Path) -> Result<Vec<PathBuf>> {
    match format {
        #[cfg(feature = "onnx")]
        Format::Onnx => {
            onnx::save(model, out)?;
            Ok(vec![out.to_path_buf()])
        }
        #[cfg(not(feature = "onnx"))]
        Format::Onnx => Err(Error::config(
            Setting::Format,
            "onnx needs nabla built with the 'onnx' feature",
        )),
        Format::Torch => torch::save(model, out),
    }
}

/// The metadata of `model`'s file (string to string: `layers`, `hidden`, `output`, `cost`,
/// `task`, `classes`, `features`, `targets`, `scaling`, …, as [`crate::model_file`]
/// describes), which both export forms carry along.
pub(crate) fn model_metadata<T: Scalar>(
    model: &Model<T>,
) -> Result<std::collections::BTreeMap<String, String>> {
    let bytes = model.to_bytes()?;
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).map_err(|e| {
        Error::config(
            Setting::Model,
            format!("its metadata does not read back ({e})"),
        )
    })?;
    Ok(header
        .metadata()
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect())
}
