//! Model files: [safetensors](https://huggingface.co/docs/safetensors), readable by any
//! safetensors reader (Python's `safetensors`, PyTorch's `load_state_dict` with matching
//! names, candle, …).
//!
//! | tensor               | shape            | holds                                              |
//! |----------------------|------------------|----------------------------------------------------|
//! | `layers.{i}.weight`  | [n_(i+1), n_i]   | `W^[i+1]`: row j, column k is `w_jk^[i+1]`          |
//! | `layers.{i}.bias`    | [n_(i+1)]        | `b^[i+1]`                                          |
//!
//! with i = l − 1 = 0, …, L − 1 (PyTorch's `nn.Sequential` numbering), dtype F32 or F64,
//! little-endian. The metadata (string → string) holds:
//!
//! | key        | example                         | meaning                                        |
//! |------------|---------------------------------|------------------------------------------------|
//! | `format`   | `nabla/1`                       | this layout, version 1                         |
//! | `layers`   | `784,30,10`                     | `n_0, …, n_L`                                  |
//! | `hidden`   | `sigmoid`                       | g of layers 1 … L−1                            |
//! | `output`   | `softmax`                       | g of layer L                                   |
//! | `cost`     | `cross-entropy`                 | `c_x`                                          |
//! | `task`     | `classification`                | or `regression`                                |
//! | `classes`  | `["cat","dog"]`                 | JSON: the class of each output (classification)|
//! | `features` | `["x0","x1"]`                   | JSON: input column names (absent for `init`)   |
//! | `targets`  | `["label"]`                     | JSON: target column names                      |
//! | `scaling`  | `{"offset":[…],"factor":[…]}`   | JSON: `x' = (x − offset) · factor`, or absent  |
//! | `target_scaling` | `{"offset":[…],"factor":[…]}` | JSON: regression targets `y' = (y − offset) · factor`: the network's outputs are y', undone by [`Model::unscale_outputs`]; or absent |
//! | `training` | `{"epochs":30,…}`               | JSON: the run's [`Summary`](crate::Summary) (docs/summary.md), without its seconds |
//! | `encoding` | `{"columns":[…],"na_values":[…]}` | JSON: how CSV columns become inputs: numbers with the value a missing cell gets, categories one-hot (`features` then names `column=category`); absent for plain numbers |
//! | `resume`   | `{"run":{"epochs":30,…},…}`     | JSON: where the run stands ([`Resume`]): epochs, streams, schedule, optimizer |
//!
//! With `resume`, the optimizer's buffers are tensors `optimizer.{name}` (1-D, the model's
//! dtype; e.g. `optimizer.velocity.0` for `W^[1]`'s momentum, see
//! [`crate::OptimizerState`]), so that `from` continues the run exactly.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use safetensors::tensor::{Dtype, SafeTensors};
use serde::{Deserialize, Serialize};

use crate::activation::Activation;
use crate::cost::Cost;
use crate::data::encoding::Encoding;
use crate::data::Scaling;
use crate::error::{Error, Result};
use crate::matrix::{Matrix, Scalar};
use crate::network::{Architecture, Network};
use crate::optimizer::{OptimizerKind, OptimizerState};
use crate::setting::Setting;
use crate::train::RunState;

/// What a model file keeps of a training run so that `from` continues it exactly.
#[derive(Clone, Debug, PartialEq)]
pub struct Resume<T> {
    /// Epochs, streams and schedule.
    pub run: RunState,
    /// The optimizer whose state this is.
    pub optimizer: OptimizerKind,
    /// Its state.
    pub state: OptimizerState<T>,
}

/// The `resume` metadata: the run, the optimizer, its step count and buffer names.
#[derive(Serialize, Deserialize)]
struct ResumeMeta {
    run: RunState,
    optimizer: OptimizerKind,
    steps: u64,
    buffers: Vec<String>,
}

/// The format tag written to and required in the metadata.
pub const FORMAT: &str = "nabla/1";

/// What the outputs mean.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Task {
    /// One output per class; the prediction is the largest output.
    Classification,
    /// The outputs are the targets themselves.
    Regression,
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Task::Classification => "classification",
            Task::Regression => "regression",
        })
    }
}

impl FromStr for Task {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "classification" | "classify" => Ok(Task::Classification),
            "regression" | "regress" => Ok(Task::Regression),
            _ => Err(Error::config(
                Setting::Task,
                format!("unknown task '{s}' (expected classification or regression)"),
            )),
        }
    }
}

/// A network with what is needed to use it on raw data.
#[derive(Clone, Debug, PartialEq)]
pub struct Model<T = f32> {
    /// The network.
    pub network: Network<T>,
    /// Classification or regression.
    pub task: Task,
    /// The class of each output (classification).
    pub classes: Vec<String>,
    /// Input column names, when the model was trained on named columns.
    pub features: Option<Vec<String>>,
    /// Target column names.
    pub targets: Option<Vec<String>>,
    /// Input scaling applied before the network.
    pub scaling: Option<Scaling>,
    /// Regression: the standardisation of the targets the network learnt (its outputs are
    /// `y' = (y − offset) · factor`; [`Model::unscale_outputs`] undoes it).
    pub target_scaling: Option<Scaling>,
    /// Where the training run stands, for `from` to continue it exactly.
    pub resume: Option<Resume<T>>,
    /// Other metadata (e.g. `training`), kept as it was read.
    pub extra: BTreeMap<String, String>,
    /// How CSV columns become inputs (categories, filled-in missing values), when it is
    /// more than reading numbers.
    pub encoding: Option<Encoding>,
}

impl<T: Scalar> Model<T> {
    /// A model around a network, with classes `0..n_L` for classification.
    pub fn new(network: Network<T>, task: Task) -> Self {
        let n_out = network.sizes()[network.last()];
        let classes = match task {
            Task::Classification => (0..n_out).map(|c| c.to_string()).collect(),
            Task::Regression => Vec::new(),
        };
        Model {
            network,
            task,
            classes,
            features: None,
            targets: None,
            scaling: None,
            target_scaling: None,
            resume: None,
            extra: BTreeMap::new(),
            encoding: None,
        }
    }

    /// Undoes the target standardisation on a batch of outputs `a^[L]` (one example per
    /// row), giving values in the targets' own units; nothing to undo without one.
    ///
    /// # Errors
    /// [`Error::Shape`] when `a` does not have n_L columns.
    pub fn unscale_outputs(&self, a: &mut Matrix<T>) -> Result<()> {
        match &self.target_scaling {
            Some(s) => s.unapply(a),
            None => Ok(()),
        }
    }

    /// Standardises a data set's regression targets as the network learnt them (the
    /// inverse of [`Model::unscale_outputs`]); nothing to do without a target scaling.
    ///
    /// # Errors
    /// [`Error::Shape`] when the data has another number of targets.
    pub fn scale_targets(&self, data: &mut crate::data::Dataset<T>) -> Result<()> {
        match &self.target_scaling {
            Some(s) if data.labels.is_none() => s.apply(&mut data.y),
            _ => Ok(()),
        }
    }

    /// The predictions for raw examples x (one per row, the model's features): the input
    /// scaling, the forward pass, and the outputs in the targets' own units (regression) or
    /// the output activations (classification).
    ///
    /// # Errors
    /// [`Error::Shape`] when x does not have n_0 columns; a non-finite input.
    pub fn predict(&self, x: &Matrix<T>) -> Result<Matrix<T>> {
        let mut a = match &self.scaling {
            Some(s) => {
                let mut x = x.clone();
                s.apply(&mut x)?;
                self.network.predict(&x)?
            }
            None => self.network.predict(x)?,
        };
        self.unscale_outputs(&mut a)?;
        Ok(a)
    }

    /// [`crate::evaluate`] on data read for this model (inputs scaled, targets in their own
    /// units): the cost C on the standardised targets the network learnt, RMSE, MAE and R²
    /// in the targets' units.
    ///
    /// # Errors
    /// As [`crate::evaluate`].
    pub fn evaluate(&self, data: &crate::data::Dataset<T>) -> Result<crate::Evaluation> {
        match &self.target_scaling {
            Some(s) if data.labels.is_none() => {
                let mut scaled = data.clone();
                s.apply(&mut scaled.y)?;
                crate::metrics::evaluate_in_units(&self.network, &scaled, Some(s))
            }
            _ => crate::evaluate(&self.network, data),
        }
    }

    /// The same model in another precision.
    pub fn cast<U: Scalar>(&self) -> Model<U> {
        Model {
            network: self.network.cast(),
            task: self.task,
            classes: self.classes.clone(),
            features: self.features.clone(),
            targets: self.targets.clone(),
            scaling: self.scaling.clone(),
            target_scaling: self.target_scaling.clone(),
            resume: self.resume.as_ref().map(|r| Resume {
                run: r.run.clone(),
                optimizer: r.optimizer,
                state: OptimizerState {
                    steps: r.state.steps,
                    buffers: r
                        .state
                        .buffers
                        .iter()
                        .map(|(n, b)| {
                            (
                                n.clone(),
                                b.iter()
                                    .map(|&v| U::c(v.to_f64().unwrap_or(f64::NAN)))
                                    .collect(),
                            )
                        })
                        .collect(),
                },
            }),
            extra: self.extra.clone(),
            encoding: self.encoding.clone(),
        }
    }

    /// The safetensors bytes of this model.
    ///
    /// # Errors
    /// Only if the serializer fails (it does not for well-formed networks).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let net = &self.network;
        let mut buffers = layer_tensors::<T>(net.sizes(), |l| (net.w(l).as_slice(), net.b(l)));
        let arch = net.architecture();
        let mut meta: BTreeMap<String, String> = self.extra.clone();
        meta.insert("format".into(), FORMAT.into());
        meta.insert(
            "layers".into(),
            arch.sizes
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(","),
        );
        meta.insert("hidden".into(), arch.hidden.to_string());
        meta.insert("output".into(), arch.output.to_string());
        meta.insert("cost".into(), arch.cost.to_string());
        meta.insert("task".into(), self.task.to_string());
        meta.insert("dtype".into(), T::NAME.into());
        if self.task == Task::Classification {
            meta.insert(
                "classes".into(),
                serde_json::to_string(&self.classes).expect("strings serialize"),
            );
        }
        if let Some(f) = &self.features {
            meta.insert(
                "features".into(),
                serde_json::to_string(f).expect("strings serialize"),
            );
        }
        if let Some(t) = &self.targets {
            meta.insert(
                "targets".into(),
                serde_json::to_string(t).expect("strings serialize"),
            );
        }
        if let Some(s) = &self.scaling {
            meta.insert(
                "scaling".into(),
                serde_json::to_string(s).expect("numbers serialize"),
            );
        }
        if let Some(s) = &self.target_scaling {
            meta.insert(
                "target_scaling".into(),
                serde_json::to_string(s).expect("numbers serialize"),
            );
        }
        if let Some(r) = &self.resume {
            let resume = ResumeMeta {
                run: r.run.clone(),
                optimizer: r.optimizer,
                steps: r.state.steps,
                buffers: r.state.buffers.iter().map(|(n, _)| n.clone()).collect(),
            };
            meta.insert(
                "resume".into(),
                serde_json::to_string(&resume).expect("a resume state serializes"),
            );
            for (name, b) in &r.state.buffers {
                buffers.push((format!("optimizer.{name}"), vec![b.len()], le_bytes(b)));
            }
        }
        if let Some(e) = &self.encoding {
            meta.insert(
                "encoding".into(),
                serde_json::to_string(e).expect("an encoding serializes"),
            );
        }
        Ok(serialize_safetensors(dtype_of::<T>(), &buffers, &meta))
    }

    /// Writes the model to `path` atomically (temporary file + rename).
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be written.
    pub fn save(&self, path: &Path) -> Result<()> {
        let bytes = self.to_bytes()?;
        // What is written must read back: the checks of `load` (finite parameters, as many
        // class and feature names as outputs and inputs, a finite scaling) run first, and
        // an inconsistent model writes nothing.
        if let Err(e) = Self::from_bytes(&bytes, path) {
            let why = match e {
                Error::ModelFile { message, .. } => message,
                other => other.to_string(),
            };
            return Err(Error::config(
                Setting::Model,
                format!("cannot be saved to {}: {why}", path.display()),
            ));
        }
        crate::atomic::write(path, &bytes)
    }

    /// Reads a model file (F32 or F64 tensors, converted to T).
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read; [`Error::ModelFile`] when it is not a
    /// complete nabla safetensors file.
    pub fn load(path: &Path) -> Result<Model<T>> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Self::from_bytes(&bytes, path)
    }

    /// Parses model bytes; `path` is only used in error messages.
    ///
    /// # Errors
    /// As [`Model::load`].
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Model<T>> {
        let bad = |message: String| Error::ModelFile {
            path: path.to_path_buf(),
            message,
        };
        let (_, header) = SafeTensors::read_metadata(bytes)
            .map_err(|e| bad(format!("not a safetensors file ({e})")))?;
        let tensors = SafeTensors::deserialize(bytes)
            .map_err(|e| bad(format!("not a safetensors file ({e})")))?;
        let meta = header.metadata().clone().unwrap_or_default();
        let get = |key: &str| {
            meta.get(key)
                .cloned()
                .ok_or_else(|| bad(format!("metadata has no '{key}'")))
        };
        let format = get("format")?;
        if format != FORMAT {
            return Err(bad(format!("format '{format}', expected '{FORMAT}'")));
        }
        let sizes: Vec<usize> = get("layers")?
            .split(',')
            .map(|s| {
                s.trim()
                    .parse::<usize>()
                    .map_err(|_| bad(format!("bad layer size '{s}'")))
            })
            .collect::<Result<_>>()?;
        let parse_meta = |key: &str| -> Result<String> { get(key) };
        let hidden: Activation = parse_meta("hidden")?
            .parse()
            .map_err(|e: Error| bad(e.to_string()))?;
        let output: Activation = parse_meta("output")?
            .parse()
            .map_err(|e: Error| bad(e.to_string()))?;
        let cost: Cost = parse_meta("cost")?
            .parse()
            .map_err(|e: Error| bad(e.to_string()))?;
        let task: Task = parse_meta("task")?
            .parse()
            .map_err(|e: Error| bad(e.to_string()))?;
        let arch =
            Architecture::new(&sizes, hidden, output, cost).map_err(|e| bad(e.to_string()))?;
        let mut weights = Vec::new();
        let mut biases = Vec::new();
        for l in 1..sizes.len() {
            let i = l - 1;
            let w = read_tensor::<T>(
                &tensors,
                &format!("layers.{i}.weight"),
                &[sizes[l], sizes[l - 1]],
            )
            .map_err(bad)?;
            let b = read_tensor::<T>(&tensors, &format!("layers.{i}.bias"), &[sizes[l]])
                .map_err(bad)?;
            weights.push(Matrix::from_vec(sizes[l], sizes[l - 1], w)?);
            biases.push(b);
        }
        let network =
            Network::from_parameters(arch, weights, biases).map_err(|e| bad(e.to_string()))?;
        let json = |key: &str| -> Result<Option<Vec<String>>> {
            meta.get(key)
                .map(|v| {
                    serde_json::from_str(v).map_err(|e| bad(format!("bad '{key}' metadata: {e}")))
                })
                .transpose()
        };
        let classes = json("classes")?.unwrap_or_default();
        let n_out = sizes[sizes.len() - 1];
        if task == Task::Classification && classes.len() != n_out {
            return Err(bad(format!(
                "{} classes for {n_out} outputs",
                classes.len()
            )));
        }
        let features = json("features")?;
        if features.as_ref().is_some_and(|f| f.len() != sizes[0]) {
            return Err(bad(format!(
                "{} feature names for {} inputs",
                features.as_ref().map_or(0, Vec::len),
                sizes[0]
            )));
        }
        let scaling: Option<Scaling> = meta
            .get("scaling")
            .map(|v| {
                serde_json::from_str(v).map_err(|e| bad(format!("bad 'scaling' metadata: {e}")))
            })
            .transpose()?;
        if let Some(s) = &scaling {
            if s.offset.len() != sizes[0]
                || s.factor.len() != sizes[0]
                || s.offset.iter().chain(&s.factor).any(|v| !v.is_finite())
            {
                return Err(bad("scaling does not match the inputs".into()));
            }
        }
        let target_scaling: Option<Scaling> = meta
            .get("target_scaling")
            .map(|v| {
                serde_json::from_str(v)
                    .map_err(|e| bad(format!("bad 'target_scaling' metadata: {e}")))
            })
            .transpose()?;
        if let Some(s) = &target_scaling {
            if s.offset.len() != n_out
                || s.factor.len() != n_out
                || s.offset.iter().chain(&s.factor).any(|v| !v.is_finite())
                || s.factor.contains(&0.0)
            {
                return Err(bad("target_scaling does not match the outputs".into()));
            }
        }
        let resume = match meta.get("resume") {
            Some(text) => {
                let r: ResumeMeta = serde_json::from_str(text)
                    .map_err(|e| bad(format!("bad 'resume' metadata: {e}")))?;
                let mut buffers = Vec::with_capacity(r.buffers.len());
                for name in r.buffers {
                    let tensor = format!("optimizer.{name}");
                    let len = tensors
                        .tensor(&tensor)
                        .map_err(|_| bad(format!("tensor '{tensor}' is missing")))?
                        .shape()
                        .iter()
                        .product::<usize>();
                    let values = read_tensor::<T>(&tensors, &tensor, &[len]).map_err(bad)?;
                    buffers.push((name, values));
                }
                Some(Resume {
                    run: r.run,
                    optimizer: r.optimizer,
                    state: OptimizerState {
                        steps: r.steps,
                        buffers,
                    },
                })
            }
            None => None,
        };
        let known = [
            "format",
            "layers",
            "hidden",
            "output",
            "cost",
            "task",
            "dtype",
            "classes",
            "features",
            "targets",
            "scaling",
            "target_scaling",
            "resume",
            "encoding",
        ];
        let extra = meta
            .iter()
            .filter(|(k, _)| !known.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let encoding: Option<Encoding> = meta
            .get("encoding")
            .map(|v| {
                serde_json::from_str(v).map_err(|e| bad(format!("bad 'encoding' metadata: {e}")))
            })
            .transpose()?;
        if let Some(e) = &encoding {
            if e.width() != sizes[0] {
                return Err(bad(format!(
                    "the encoding gives {} inputs for {}",
                    e.width(),
                    sizes[0]
                )));
            }
        }
        Ok(Model {
            network,
            task,
            classes,
            features,
            targets: json("targets")?,
            scaling,
            target_scaling,
            resume,
            extra,
            encoding,
        })
    }
}

/// The stored dtype of a model file ("f32" or "f64"), from its first tensor.
///
/// # Errors
/// As [`Model::load`].
pub fn stored_precision(path: &Path) -> Result<&'static str> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let tensors = SafeTensors::deserialize(&bytes).map_err(|e| Error::ModelFile {
        path: path.to_path_buf(),
        message: format!("not a safetensors file ({e})"),
    })?;
    match tensors.tensor("layers.0.weight").map(|t| t.dtype()) {
        Ok(Dtype::F64) => Ok("f64"),
        _ => Ok("f32"),
    }
}

/// The safetensors bytes of named tensors `(name, shape, little-endian data)` of one dtype.
///
/// Written here rather than by `safetensors::serialize`, whose metadata is a `HashMap`
/// and so comes out in a different order on every run: with sorted keys (a `BTreeMap`,
/// and serde_json's sorted maps) the same model always gives the same bytes. The layout
/// is the format's: an 8-byte little-endian header length, the JSON header padded with
/// spaces to a multiple of 8, then the tensors' bytes back to back in header order.
pub fn serialize_safetensors(
    dtype: Dtype,
    tensors: &[(String, Vec<usize>, Vec<u8>)],
    metadata: &BTreeMap<String, String>,
) -> Vec<u8> {
    let dtype_name = match dtype {
        Dtype::F64 => "F64",
        _ => "F32",
    };
    let mut header = serde_json::Map::new();
    header.insert(
        "__metadata__".into(),
        serde_json::to_value(metadata).expect("strings serialize"),
    );
    let mut offset = 0usize;
    for (name, shape, bytes) in tensors {
        let end = offset + bytes.len();
        header.insert(name.clone(), serde_json::json!({ "dtype": dtype_name, "shape": shape, "data_offsets": [offset, end] }));
        offset = end;
    }
    let mut json =
        serde_json::to_vec(&serde_json::Value::Object(header)).expect("a JSON object serializes");
    while !json.len().is_multiple_of(8) {
        json.push(b' ');
    }
    let mut out = Vec::with_capacity(8 + json.len() + offset);
    out.extend((json.len() as u64).to_le_bytes());
    out.extend(json);
    for (_, _, bytes) in tensors {
        out.extend(bytes);
    }
    out
}

/// The safetensors dtype of T.
pub fn dtype_of<T: Scalar>() -> Dtype {
    if T::NAME == "f64" {
        Dtype::F64
    } else {
        Dtype::F32
    }
}

/// The tensors `layers.{i}.weight` ([n_(i+1), n_i]) and `layers.{i}.bias` ([n_(i+1)]),
/// i = l − 1, as `(name, shape, little-endian bytes)` for [`serialize_safetensors`], from
/// `parameters(l) = (W-shaped values, b-shaped values)` of each layer l = 1, …, L: the
/// weights of a model, or its gradients.
pub fn layer_tensors<'a, T: Scalar>(
    sizes: &[usize],
    parameters: impl Fn(usize) -> (&'a [T], &'a [T]),
) -> Vec<(String, Vec<usize>, Vec<u8>)> {
    let mut tensors = Vec::with_capacity(2 * sizes.len());
    for l in 1..sizes.len() {
        let (w, b) = parameters(l);
        tensors.push((
            format!("layers.{}.weight", l - 1),
            vec![sizes[l], sizes[l - 1]],
            le_bytes(w),
        ));
        tensors.push((
            format!("layers.{}.bias", l - 1),
            vec![sizes[l]],
            le_bytes(b),
        ));
    }
    tensors
}

fn le_bytes<T: Scalar>(values: &[T]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * 8);
    for v in values {
        if T::NAME == "f64" {
            out.extend(v.to_f64().expect("f64").to_le_bytes());
        } else {
            out.extend(v.to_f32().expect("f32").to_le_bytes());
        }
    }
    out
}

fn read_tensor<T: Scalar>(
    tensors: &SafeTensors<'_>,
    name: &str,
    shape: &[usize],
) -> std::result::Result<Vec<T>, String> {
    let t = tensors
        .tensor(name)
        .map_err(|_| format!("tensor '{name}' is missing"))?;
    if t.shape() != shape {
        return Err(format!(
            "tensor '{name}' has shape {:?}, expected {shape:?}",
            t.shape()
        ));
    }
    let data = t.data();
    let values: Vec<T> = match t.dtype() {
        Dtype::F32 => data
            .chunks_exact(4)
            .map(|c| T::c(f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]]))))
            .collect(),
        Dtype::F64 => data
            .chunks_exact(8)
            .map(|c| T::c(f64::from_le_bytes(c.try_into().expect("8 bytes"))))
            .collect(),
        other => {
            return Err(format!(
                "tensor '{name}' has dtype {other:?}, expected F32 or F64"
            ))
        }
    };
    Ok(values)
}
