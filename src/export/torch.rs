//! A model as PyTorch's `nn.Sequential`: a safetensors state dict whose keys are the
//! module's (`0.weight`, `0.bias` for the first `nn.Linear`, `2.weight`, `2.bias` for the
//! second, each followed by its activation module), and the Python that rebuilds the
//! module around it, the input scaling included.
//!
//! The safetensors metadata is the model file's (`layers`, `hidden`, `output`, `cost`,
//! `task`, `classes`, `features`, `targets`, `scaling`, …), so that [`crate::import`] gets
//! the whole model back from the state dict alone.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::matrix::Scalar;
use crate::model_file::{dtype_of, layer_tensors, serialize_safetensors, Model};
use crate::setting::Setting;

/// The `nn.Sequential` index of layer l's `nn.Linear` (l = 1, …, L): each layer is two
/// modules, the `Linear` and its activation.
pub fn linear_index(l: usize) -> usize {
    2 * (l - 1)
}

/// The safetensors bytes of `model`'s state dict, under `nn.Sequential` keys.
///
/// # Errors
/// Only if the model's metadata does not serialize.
pub fn to_bytes<T: Scalar>(model: &Model<T>) -> Result<Vec<u8>> {
    let net = &model.network;
    let tensors = layer_tensors::<T>(net.sizes(), |l| (net.w(l).as_slice(), net.b(l)))
        .into_iter()
        .enumerate()
        .map(|(t, (_, shape, bytes))| {
            // layer_tensors gives weight, bias for each layer in turn
            let l = t / 2 + 1;
            let kind = if t % 2 == 0 { "weight" } else { "bias" };
            (format!("{}.{kind}", linear_index(l)), shape, bytes)
        })
        .collect::<Vec<_>>();
    let metadata = super::model_metadata(model)?;
    Ok(serialize_safetensors(dtype_of::<T>(), &tensors, &metadata))
}

/// The PyTorch module of activation g.
pub fn module(g: Activation) -> &'static str {
    match g {
        Activation::Sigmoid => "nn.Sigmoid()",
        Activation::Tanh => "nn.Tanh()",
        Activation::Relu => "nn.ReLU()",
        Activation::LeakyRelu => "nn.LeakyReLU(0.01)",
        Activation::Identity => "nn.Identity()",
        Activation::Softmax => "nn.Softmax(dim=-1)",
    }
}

/// The Python that rebuilds `model` from the state dict `file_name` (a name beside the
/// script): `load()` returns an `nn.Module` that takes raw features (in the model's
/// dtype) and gives what `nabla predict` gives.
pub fn python<T: Scalar>(model: &Model<T>, file_name: &str) -> String {
    let net = &model.network;
    let sizes = net.sizes();
    let dtype = if T::NAME == "f64" {
        "torch.float64"
    } else {
        "torch.float32"
    };
    let mut layers = String::new();
    for l in 1..=net.last() {
        writeln!(
            layers,
            "        nn.Linear({}, {}), {},",
            sizes[l - 1],
            sizes[l],
            module(net.g(l))
        )
        .expect("writing to a String");
    }
    let file_name = file_name.replace('\\', "\\\\").replace('"', "\\\"");
    format!(
        r#"# Rebuilds the nabla model in {file_name} as a PyTorch module (written by `nabla export`).
#   net = load()                      # an nn.Module; net.meta holds the model's metadata
#   y = net(torch.tensor(rows, dtype={dtype}))  # raw features in, what `nabla predict` gives out
import json
import os

import torch
from torch import nn
from safetensors import safe_open
from safetensors.torch import load_file

HERE = os.path.dirname(os.path.abspath(__file__))


class Scaling(nn.Module):
    """nabla's input scaling x' = (x - offset) * factor, in float64 as nabla computes it."""

    def __init__(self, offset, factor, dtype):
        super().__init__()
        self.register_buffer("offset", torch.tensor(offset, dtype=torch.float64))
        self.register_buffer("factor", torch.tensor(factor, dtype=torch.float64))
        self.dtype = dtype

    def forward(self, x):
        return ((x.to(torch.float64) - self.offset) * self.factor).to(self.dtype)


class Unscaling(nn.Module):
    """The inverse of nabla's target scaling, y = y' / factor + offset, in float64."""

    def __init__(self, offset, factor, dtype):
        super().__init__()
        self.register_buffer("offset", torch.tensor(offset, dtype=torch.float64))
        self.register_buffer("factor", torch.tensor(factor, dtype=torch.float64))
        self.dtype = dtype

    def forward(self, y):
        return (y.to(torch.float64) / self.factor + self.offset).to(self.dtype)


def load(path=os.path.join(HERE, "{file_name}")):
    net = nn.Sequential(
{layers}    ).to({dtype})
    net.load_state_dict(load_file(path))
    with safe_open(path, "pt") as f:
        meta = f.metadata()
    scaling = json.loads(meta["scaling"]) if "scaling" in meta else None
    if scaling is not None:
        net = nn.Sequential(Scaling(scaling["offset"], scaling["factor"], {dtype}), net)
    targets = json.loads(meta["target_scaling"]) if "target_scaling" in meta else None
    if targets is not None:
        net = nn.Sequential(net, Unscaling(targets["offset"], targets["factor"], {dtype}))
    net.meta = meta
    return net.eval()
"#
    )
}

/// Writes the state dict of `model` to `path` and the Python that rebuilds it beside it
/// (`path` with the extension `.py`), each atomically; returns both paths.
///
/// # Errors
/// [`Error::InvalidConfig`] naming [`Setting::Out`] when `path` ends in `.py`;
/// [`Error::Io`] when a file cannot be written.
pub fn save<T: Scalar>(model: &Model<T>, path: &Path) -> Result<Vec<PathBuf>> {
    let script = python_path(path)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let bytes = to_bytes(model)?;
    let text = python(model, &name);
    crate::atomic::write(path, &bytes)?;
    crate::atomic::write(&script, text.as_bytes())?;
    Ok(vec![path.to_path_buf(), script])
}

/// Where [`save`] writes the Python for a state dict at `path`.
///
/// # Errors
/// [`Error::InvalidConfig`] naming [`Setting::Out`] when `path` itself ends in `.py`.
pub fn python_path(path: &Path) -> Result<PathBuf> {
    if path.extension().is_some_and(|e| e == "py") {
        return Err(Error::config(
            Setting::Out,
            format!(
                "{} ends in .py, the name of the Python written beside the state dict (use .safetensors)",
                path.display()
            ),
        ));
    }
    Ok(path.with_extension("py"))
}
