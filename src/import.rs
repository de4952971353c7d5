//! A PyTorch `nn.Sequential` of `nn.Linear` layers, saved as a safetensors state dict
//! (`safetensors.torch.save_file(net.state_dict(), "state.safetensors")`), as a nabla
//! [`Model`], so that `explain`, `grad`, `eval` and `predict` work on it.
//!
//! The keys are `N.weight` ([out, in]) and `N.bias` ([out]) with any indices N (the
//! activation modules between the `Linear`s hold no tensors); the layers go in the order
//! of N, and each layer's inputs must be the previous layer's outputs. What the tensors do
//! not say (activations, cost, task, names) comes from [`TorchImport`], else from the
//! file's metadata where [`crate::export::torch`] wrote it.

use std::collections::BTreeMap;
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors};

use crate::activation::Activation;
use crate::cost::Cost;
use crate::error::{Error, Result};
use crate::matrix::Scalar;
use crate::model_file::{serialize_safetensors, Model, Task, FORMAT};
use crate::setting::Setting;

/// What the state dict does not hold. `None` takes the file's metadata (a file written by
/// `nabla export --format torch`), and without it is an error for the activations and the
/// cost; the task is then classification, with classes `0..n_L`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TorchImport {
    /// g of the hidden layers.
    pub activation: Option<Activation>,
    /// g of the output layer.
    pub output: Option<Activation>,
    /// The cost.
    pub cost: Option<Cost>,
    /// Classification or regression.
    pub task: Option<Task>,
    /// The input column names, one per input.
    pub features: Option<Vec<String>>,
    /// The class names, one per output (classification).
    pub classes: Option<Vec<String>>,
    /// The target column names (regression).
    pub targets: Option<Vec<String>>,
}

/// One `nn.Linear` of the state dict: its index N and the shape of `N.weight`.
struct Linear {
    index: u64,
    out: usize,
    inp: usize,
}

/// The precision of a state dict's tensors: "f32" or "f64".
///
/// # Errors
/// As [`from_torch`].
pub fn torch_precision(bytes: &[u8], path: &Path) -> Result<&'static str> {
    let tensors = SafeTensors::deserialize(bytes)
        .map_err(|e| bad(path, format!("not a safetensors file ({e})")))?;
    let mut dtypes = tensors.tensors().into_iter().map(|(n, t)| (n, t.dtype()));
    match dtypes.next() {
        Some((_, Dtype::F64)) => Ok("f64"),
        _ => Ok("f32"),
    }
}

/// Reads a state dict file as a model in precision T (see the module's documentation).
///
/// # Errors
/// As [`from_torch`], and [`Error::Io`] when the file cannot be read.
pub fn load_torch<T: Scalar>(path: &Path, spec: &TorchImport) -> Result<Model<T>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    from_torch(&bytes, path, spec)
}

/// Parses the bytes of a state dict as a model in precision T; `path` names the file in
/// errors.
///
/// # Errors
/// [`Error::InvalidConfig`] naming [`Setting::Torch`] when the file is not safetensors,
/// holds a tensor that is not a `Linear`'s weight or bias, a dtype other than F32 and
/// F64, or shapes that do not chain (the message names the tensors); naming
/// [`Setting::Activation`], [`Setting::Output`] or [`Setting::Cost`] when one is neither
/// given nor in the file, or [`Setting::Features`], [`Setting::Classes`],
/// [`Setting::Targets`] when the count does not fit the inputs or outputs.
pub fn from_torch<T: Scalar>(bytes: &[u8], path: &Path, spec: &TorchImport) -> Result<Model<T>> {
    let tensors = SafeTensors::deserialize(bytes)
        .map_err(|e| bad(path, format!("not a safetensors file ({e})")))?;
    let meta: BTreeMap<String, String> = SafeTensors::read_metadata(bytes)
        .map(|(_, h)| h.metadata().clone().unwrap_or_default())
        .unwrap_or_default()
        .into_iter()
        .collect();
    // N.weight and N.bias, by N.
    let mut weights: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    let mut biases: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    let mut dtype = None;
    let mut names: Vec<String> = tensors.names().into_iter().map(String::from).collect();
    names.sort();
    for name in &names {
        let t = tensors.tensor(name).expect("a listed tensor");
        let parsed = name
            .split_once('.')
            .and_then(|(n, kind)| Some((n.parse::<u64>().ok()?, kind)));
        let Some((index, kind)) = parsed.filter(|(_, k)| *k == "weight" || *k == "bias") else {
            return Err(bad(
                path,
                format!("tensor '{name}' is not an nn.Linear's N.weight or N.bias"),
            ));
        };
        if !matches!(t.dtype(), Dtype::F32 | Dtype::F64) {
            return Err(bad(
                path,
                format!(
                    "tensor '{name}' has dtype {:?}, expected F32 or F64",
                    t.dtype()
                ),
            ));
        }
        match dtype {
            None => dtype = Some((t.dtype(), name.clone())),
            Some((d, ref first)) if d != t.dtype() => {
                return Err(bad(
                    path,
                    format!(
                        "tensor '{name}' is {:?} but '{first}' is {d:?} (one dtype for all)",
                        t.dtype()
                    ),
                ))
            }
            _ => {}
        }
        let rank = if kind == "weight" { 2 } else { 1 };
        if t.shape().len() != rank {
            return Err(bad(
                path,
                format!(
                    "tensor '{name}' has shape {:?}, but an nn.Linear's {kind} has {rank} dimension(s)",
                    t.shape()
                ),
            ));
        }
        let map = if kind == "weight" {
            &mut weights
        } else {
            &mut biases
        };
        map.insert(index, t.shape().to_vec());
    }
    if weights.is_empty() {
        return Err(bad(path, "holds no N.weight tensor".into()));
    }
    if let Some(n) = biases.keys().find(|n| !weights.contains_key(n)) {
        return Err(bad(path, format!("tensor '{n}.bias' has no '{n}.weight'")));
    }
    let layers: Vec<Linear> = weights
        .iter()
        .map(|(&index, shape)| Linear {
            index,
            out: shape[0],
            inp: shape[1],
        })
        .collect();
    for layer in &layers {
        let n = layer.index;
        match biases.get(&n) {
            None => {
                return Err(bad(
                    path,
                    format!(
                        "tensor '{n}.weight' has no '{n}.bias' (nabla's layers all have biases)"
                    ),
                ))
            }
            Some(b) if b[0] != layer.out => {
                return Err(bad(
                    path,
                    format!(
                        "tensor '{n}.bias' has {} values but '{n}.weight' [{}, {}] has {} outputs",
                        b[0], layer.out, layer.inp, layer.out
                    ),
                ))
            }
            _ => {}
        }
    }
    for pair in layers.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if b.inp != a.out {
            return Err(bad(
                path,
                format!(
                    "shapes do not chain: '{}.weight' [{}, {}] gives {} outputs but '{}.weight' [{}, {}] takes {} inputs",
                    a.index, a.out, a.inp, a.out, b.index, b.out, b.inp, b.inp
                ),
            ));
        }
    }
    let mut sizes = vec![layers[0].inp];
    sizes.extend(layers.iter().map(|l| l.out));
    let (n_in, n_out) = (sizes[0], sizes[sizes.len() - 1]);

    // What the tensors do not say: the spec, else the metadata nabla's export wrote.
    let from_meta = |key: &str| meta.get(key).filter(|_| meta.contains_key("layers"));
    let named = |given: Option<Activation>, key: &str, setting: Setting, what: &str| match (
        given,
        from_meta(key),
    ) {
        (Some(g), _) => Ok(g.to_string()),
        (None, Some(g)) => Ok(g.clone()),
        (None, None) => Err(Error::config(
            setting,
            format!("{} does not say which {what}: give one", path.display()),
        )),
    };
    let hidden = named(
        spec.activation,
        "hidden",
        Setting::Activation,
        "activation its hidden layers use",
    )?;
    let output = named(
        spec.output,
        "output",
        Setting::Output,
        "activation its output layer uses",
    )?;
    let cost = match (spec.cost, from_meta("cost")) {
        (Some(c), _) => c.to_string(),
        (None, Some(c)) => c.clone(),
        (None, None) => {
            return Err(Error::config(
                Setting::Cost,
                format!(
                    "{} does not say which cost the model was trained with: give one",
                    path.display()
                ),
            ))
        }
    };
    let task = match (spec.task, from_meta("task")) {
        (Some(t), _) => t,
        (None, Some(t)) => t.parse()?,
        (None, None) if spec.classes.is_some() => Task::Classification,
        (None, None) if spec.targets.is_some() => Task::Regression,
        (None, None) => Task::Classification,
    };
    let json_list = |given: &Option<Vec<String>>, key: &str| -> Option<String> {
        match given {
            Some(list) => Some(serde_json::to_string(list).expect("strings serialize")),
            None => from_meta(key).cloned(),
        }
    };
    let count = |given: &Option<Vec<String>>, setting: Setting, what: &str, n: usize| match given {
        Some(list) if list.len() != n => Err(Error::config(
            setting,
            format!(
                "{} {what} for the {n} {} of {}",
                list.len(),
                if setting == Setting::Features {
                    "inputs"
                } else {
                    "outputs"
                },
                path.display()
            ),
        )),
        _ => Ok(()),
    };
    count(&spec.features, Setting::Features, "names", n_in)?;
    count(&spec.classes, Setting::Classes, "classes", n_out)?;
    count(&spec.targets, Setting::Targets, "names", n_out)?;
    if task == Task::Regression && spec.classes.is_some() {
        return Err(Error::config(
            Setting::Classes,
            format!(
                "name the outputs of a classification model; for regression use {}",
                Setting::Targets.mention()
            ),
        ));
    }

    // The tensors renamed to the model file's and read as one, with every check of a
    // model file (finite values, a cost that fits the output, names that fit).
    let mut out_meta = BTreeMap::new();
    out_meta.insert("format".to_string(), FORMAT.to_string());
    out_meta.insert(
        "layers".to_string(),
        sizes
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(","),
    );
    let hidden: Activation = hidden
        .parse()
        .map_err(|e: Error| Error::config(Setting::Activation, e.to_string()))?;
    let output: Activation = output
        .parse()
        .map_err(|e: Error| Error::config(Setting::Output, e.to_string()))?;
    let cost: Cost = cost.parse()?;
    crate::network::Architecture::new(&sizes, hidden, output, cost)?;
    out_meta.insert("hidden".to_string(), hidden.to_string());
    out_meta.insert("output".to_string(), output.to_string());
    out_meta.insert("cost".to_string(), cost.to_string());
    out_meta.insert("task".to_string(), task.to_string());
    let classes = match task {
        Task::Classification => Some(json_list(&spec.classes, "classes").unwrap_or_else(|| {
            serde_json::to_string(&(0..n_out).map(|c| c.to_string()).collect::<Vec<_>>())
                .expect("strings serialize")
        })),
        Task::Regression => None,
    };
    for (key, value) in [
        ("classes", classes),
        ("features", json_list(&spec.features, "features")),
        ("targets", json_list(&spec.targets, "targets")),
    ] {
        if let Some(v) = value {
            out_meta.insert(key.to_string(), v);
        }
    }
    // The rest of a nabla export's metadata (the scaling, the training record) comes back
    // as it was.
    if meta.contains_key("layers") {
        for (key, value) in &meta {
            if !out_meta.contains_key(key) && key != "dtype" {
                out_meta.insert(key.clone(), value.clone());
            }
        }
    }
    let (dtype, _) = dtype.expect("at least one tensor");
    let mut renamed = Vec::new();
    for (l, layer) in layers.iter().enumerate() {
        for kind in ["weight", "bias"] {
            let t = tensors
                .tensor(&format!("{}.{kind}", layer.index))
                .expect("checked above");
            renamed.push((
                format!("layers.{l}.{kind}"),
                t.shape().to_vec(),
                t.data().to_vec(),
            ));
        }
    }
    let bytes = serialize_safetensors(dtype, &renamed, &out_meta);
    Model::<T>::from_bytes(&bytes, path).map_err(|e| match e {
        Error::ModelFile { message, .. } => bad(path, message),
        other => other,
    })
}

/// An error about the state dict file.
fn bad(path: &Path, message: String) -> Error {
    Error::config(Setting::Torch, format!("{}: {message}", path.display()))
}
