//! `nabla._core`: the Python bindings of the nabla library (PyO3 + rust-numpy).
//!
//! Numpy arrays in, numpy arrays out; every decision stays in the library (and in
//! [`sklearn`], which reads scikit-learn's parameters into the library's types). The
//! Python package `nabla` wraps these in scikit-learn estimators and the tutorial's
//! `Network`. The GIL is released while training and predicting, and Ctrl-C stops a fit
//! between mini-batches.

mod sklearn;

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use nabla::explain::explain;
use nabla::grad_check::{numerical_gradients, worst_disagreement, DEFAULT_STEP};
use nabla::model_file::{Model, Task};
use nabla::noise::{Fractal, Simplex};
use nabla::{
    Dataset, Error, Gradients, Matrix, Network, Optimizer, OptimizerKind, Pass, Scalar, Setting,
    TrainEvent, Training,
};
use numpy::ndarray::{Array1, Array2};
use numpy::{
    Element, IntoPyArray, PyArray2, PyArrayMethods, PyReadonlyArray2, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyOSError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple};

use crate::sklearn::{resolve, sklearn_name, SkParams, Stop, Target};

/// A library error as a Python exception: `OSError` for files, `ValueError` otherwise,
/// with the whole chain of causes in the message and settings named by `name_of`.
fn to_py(e: Error, name_of: &dyn Fn(Setting) -> String) -> PyErr {
    let mut message = e.render(name_of);
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        message += &format!(": {s}");
        source = s.source();
    }
    match e {
        Error::Io { .. } => PyOSError::new_err(message),
        _ => PyValueError::new_err(message),
    }
}

fn py_err(e: Error) -> PyErr {
    to_py(e, &|s| s.name().to_string())
}

fn sk_err(e: Error) -> PyErr {
    to_py(e, &sklearn_name)
}

/// The thread count `set_threads` asked for (0: the library's default).
static THREADS: AtomicUsize = AtomicUsize::new(0);

/// Runs `f` with the thread count of `set_threads`, if any.
fn scoped<R>(f: impl FnOnce() -> R) -> R {
    match THREADS.load(Ordering::Relaxed) {
        0 => f(),
        n => nabla::parallel::with_threads(n, f),
    }
}

/// Runs `f` with `threads` threads when given (a call's own count: the estimators'
/// `threads`), else as [`scoped`].
fn scoped_with<R>(threads: Option<usize>, f: impl FnOnce() -> R) -> R {
    match threads {
        Some(n) if n > 0 => nabla::parallel::with_threads(n, f),
        _ => scoped(f),
    }
}

/// An optimizer that can move between threads with its model.
type SendOptimizer<T> = Box<dyn Optimizer<T> + Send + Sync>;

/// [`OptimizerKind::build`]: optimizers kept inside a Python object between
/// `partial_fit` calls (`Send` and `Sync`).
fn build_optimizer<T: Scalar>(kind: OptimizerKind) -> SendOptimizer<T> {
    kind.build::<T>()
}

/// A model in either precision, with the optimizer state `partial_fit` carries on.
enum Inner {
    F32(Model<f32>, Option<(OptimizerKind, SendOptimizer<f32>)>),
    F64(Model<f64>, Option<(OptimizerKind, SendOptimizer<f64>)>),
}

macro_rules! with_model {
    ($inner:expr, $m:ident => $body:expr) => {
        match $inner {
            Inner::F32($m, _) => $body,
            Inner::F64($m, _) => $body,
        }
    };
}

fn matrix_from<T: Scalar + Element>(x: &PyReadonlyArray2<'_, T>) -> PyResult<Matrix<T>> {
    let [rows, cols] = [x.shape()[0], x.shape()[1]];
    let data = match x.as_slice() {
        // C-contiguous: read in place, copied once into the library's aligned storage.
        Ok(slice) => slice.to_vec(),
        Err(_) => x.as_array().iter().copied().collect(),
    };
    Matrix::from_vec(rows, cols, data).map_err(py_err)
}

fn to_numpy<'py, T: Scalar + Element>(py: Python<'py>, m: &Matrix<T>) -> Bound<'py, PyArray2<T>> {
    Array2::from_shape_vec(m.shape(), m.as_slice().to_vec())
        .expect("a matrix's slice holds rows × cols values")
        .into_pyarray(py)
}

fn vec_to_numpy<'py, T: Element>(py: Python<'py>, v: Vec<T>) -> Bound<'py, PyAny> {
    Array1::from_vec(v).into_pyarray(py).into_any()
}

/// The dtype a safetensors model holds, from its first weight ("f32" or "f64").
fn stored_dtype(bytes: &[u8]) -> &'static str {
    let header = bytes
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")) as usize)
        .and_then(|n| bytes.get(8..8usize.checked_add(n)?))
        .and_then(|h| serde_json::from_slice::<serde_json::Value>(h).ok());
    match header
        .as_ref()
        .and_then(|h| h.get("layers.0.weight"))
        .and_then(|t| t.get("dtype"))
        .and_then(|d| d.as_str())
    {
        Some("F64") => "f64",
        _ => "f32",
    }
}

fn parse_dtype(dtype: &str) -> PyResult<&'static str> {
    match dtype {
        "float32" | "f32" => Ok("f32"),
        "float64" | "f64" => Ok("f64"),
        other => Err(PyValueError::new_err(format!(
            "invalid dtype: expected 'float32' or 'float64', got '{other}'"
        ))),
    }
}

/// What a fit reports back, as JSON for the Python side.
fn training_json(training: &Training, stop_reason: Option<&str>) -> String {
    let mut value = serde_json::to_value(training).expect("a training report serializes");
    value["stop_reason"] = stop_reason.into();
    value.to_string()
}

/// Trains `model` (warm: from its current weights) as the resolved parameters say.
#[allow(clippy::too_many_arguments)]
fn fit_model<T: Scalar + Element>(
    py: Python<'_>,
    model: &mut Model<T>,
    state: &mut Option<(OptimizerKind, SendOptimizer<T>)>,
    x: Matrix<T>,
    y: Matrix<T>,
    labels: Option<Vec<usize>>,
    resolved: sklearn::Resolved,
    incremental: bool,
    callback: Option<Py<PyAny>>,
    threads: Option<usize>,
) -> PyResult<String> {
    let mut data = Dataset::new(x, y).map_err(py_err)?;
    data.labels = labels;
    data.check().map_err(py_err)?;
    let kind = resolved.config.optimizer;
    let keep = incremental && state.as_ref().is_some_and(|(k, _)| *k == kind);
    if !keep {
        *state = Some((kind, build_optimizer::<T>(kind)));
    }
    let (_, optimizer) = state.as_mut().expect("set above");
    let config = resolved.config;
    let stop = resolved.stop;
    let network = &mut model.network;
    // The loss of an epoch as scikit-learn reports it: the mean over the epoch's
    // mini-batches of the cost each saw before its step, weighted by their sizes (the
    // library's per-epoch pass over the whole training set is skipped: evaluate_train is
    // off). The training set is what early stopping's validation split leaves.
    let n = data.len();
    let held = (n as f64 * config.validation).round() as usize;
    let n_train = n.saturating_sub(held).max(1);
    let m = if config.optimizer.full_batch() {
        n_train
    } else {
        config.batch_size.clamp(1, n_train)
    };
    let (result, interrupted, stop_reason) = py.detach(|| {
        scoped_with(threads, || {
            let mut interrupted: Option<PyErr> = None;
            let mut stop_reason = None;
            let (mut best, mut count) = (f64::INFINITY, 0usize);
            let (mut epoch_sum, mut losses) = (0.0f64, Vec::new());
            let result =
                nabla::train_with(network, optimizer.as_mut(), &data, None, &config, |event| {
                    match event {
                        TrainEvent::Batch {
                            done, total, cost, ..
                        } => {
                            let size = if done < total {
                                m
                            } else {
                                n_train.saturating_sub((total - 1) * m).max(1)
                            };
                            epoch_sum += cost * size as f64;
                            if let Err(e) = Python::attach(|py| py.check_signals()) {
                                interrupted = Some(e);
                                return ControlFlow::Break(());
                            }
                        }
                        TrainEvent::Epoch(report) => {
                            let c0 = report.train_cost.unwrap_or(epoch_sum / n_train as f64);
                            epoch_sum = 0.0;
                            losses.push(c0);
                            if let Some(cb) = &callback {
                                let mut report = report.clone();
                                report.train_cost = Some(c0);
                                let json =
                                    serde_json::to_string(&report).expect("reports serialize");
                                if let Err(e) = Python::attach(|py| cb.call1(py, (json,)).map(drop))
                                {
                                    interrupted = Some(e);
                                    return ControlFlow::Break(());
                                }
                            }
                            let loss = c0 + report.regularization;
                            match stop {
                                Stop::NoImprovement { tol, patience } => {
                                    count = if loss > best - tol { count + 1 } else { 0 };
                                    best = best.min(loss);
                                    if count > patience {
                                        stop_reason = Some("no-improvement");
                                        return ControlFlow::Break(());
                                    }
                                }
                                Stop::RateFloor(floor) if report.learning_rate <= floor => {
                                    stop_reason = Some("learning-rate-floor");
                                    return ControlFlow::Break(());
                                }
                                _ => {}
                            }
                        }
                    }
                    ControlFlow::Continue(())
                });
            let result = result.map(|mut training| {
                for (report, c0) in training.history.iter_mut().zip(losses) {
                    report.train_cost = Some(c0);
                }
                training
            });
            (result, interrupted, stop_reason)
        })
    });
    if let Some(e) = interrupted {
        return Err(e);
    }
    let training = result.map_err(sk_err)?;
    Ok(training_json(&training, stop_reason))
}

/// A nabla model: a network with its task, class names and metadata, in float32 or
/// float64. Pickles as the bytes of its model file.
#[pyclass(module = "nabla._core", name = "Model")]
struct PyModel {
    inner: Inner,
}

fn non_negative_layer(l: usize, last: usize) -> PyResult<()> {
    if l == 0 || l > last {
        return Err(PyValueError::new_err(format!(
            "invalid layer {l}: layers with weights are 1, …, {last} (layer 0 is the input)"
        )));
    }
    Ok(())
}

fn pass_dict<'py, T: Scalar + Element>(
    py: Python<'py>,
    pass: &Pass<T>,
    with_errors: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let list = |ms: &[Matrix<T>], from: usize| -> PyResult<Bound<'py, PyList>> {
        let items: Vec<Bound<'py, PyAny>> = (0..ms.len())
            .map(|l| {
                if l < from {
                    py.None().into_bound(py)
                } else {
                    to_numpy(py, &ms[l]).into_any()
                }
            })
            .collect();
        PyList::new(py, items)
    };
    d.set_item("z", list(&pass.z, 1)?)?;
    d.set_item("a", list(&pass.a, 0)?)?;
    if with_errors {
        d.set_item("e", list(&pass.e, 1)?)?;
    }
    Ok(d)
}

fn gradients_into<'py, T: Scalar + Element>(
    py: Python<'py>,
    d: &Bound<'py, PyDict>,
    grads: &Gradients<T>,
) -> PyResult<()> {
    let mut w = vec![py.None().into_bound(py)];
    let mut b = vec![py.None().into_bound(py)];
    for l in 1..grads.nabla_w.len() {
        w.push(to_numpy(py, &grads.nabla_w[l]).into_any());
        b.push(vec_to_numpy(py, grads.nabla_b[l].clone()));
    }
    d.set_item("nabla_w", PyList::new(py, w)?)?;
    d.set_item("nabla_b", PyList::new(py, b)?)?;
    Ok(())
}

fn explain_json(net: &Network<f64>, x: &[f64], y: &[f64]) -> Result<String, Error> {
    let explanation = explain(net, x, y)?;
    let mut object = serde_json::to_value(&explanation).expect("explanations serialize");
    // As `nabla explain --format json`: the gradients again under the model file's names.
    let mut gradients = serde_json::Map::new();
    for l in 1..=explanation.last() {
        for (symbol, tensor) in [("dc/dW", "weight"), ("dc/db", "bias")] {
            if let Some(step) = explanation.step(symbol, l) {
                gradients.insert(
                    format!("layers.{}.{tensor}", l - 1),
                    serde_json::to_value(&step.value).expect("values serialize"),
                );
            }
        }
    }
    object["gradients"] = gradients.into();
    object["source"] = serde_json::json!({ "python": true });
    Ok(object.to_string())
}

impl PyModel {
    fn network_f64(&self) -> Network<f64> {
        match &self.inner {
            Inner::F32(m, _) => m.network.cast(),
            Inner::F64(m, _) => m.network.clone(),
        }
    }
    fn from_model_f32(m: Model<f32>) -> Self {
        PyModel {
            inner: Inner::F32(m, None),
        }
    }
    fn from_model_f64(m: Model<f64>) -> Self {
        PyModel {
            inner: Inner::F64(m, None),
        }
    }
}

/// The model's outputs for raw inputs: its input scaling (if any), then FF.
fn predict_model<T: Scalar>(model: &Model<T>, mut x: Matrix<T>) -> Result<Matrix<T>, Error> {
    if let Some(scaling) = &model.scaling {
        scaling.apply(&mut x)?;
    }
    model.network.predict(&x)
}

fn parse_task(task: &str) -> PyResult<Task> {
    task.parse::<Task>().map_err(py_err)
}

#[pymethods]
impl PyModel {
    /// A new network with weights drawn by `init` from `seed`.
    #[staticmethod]
    #[pyo3(signature = (sizes, hidden, output, cost, init, seed, dtype, task))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        sizes: Vec<usize>,
        hidden: &str,
        output: &str,
        cost: &str,
        init: &str,
        seed: u64,
        dtype: &str,
        task: &str,
    ) -> PyResult<Self> {
        let arch = nabla::Architecture::new(
            &sizes,
            hidden.parse().map_err(py_err)?,
            output.parse().map_err(py_err)?,
            cost.parse().map_err(py_err)?,
        )
        .map_err(py_err)?;
        let init: nabla::Init = init.parse().map_err(py_err)?;
        let task = parse_task(task)?;
        Ok(match parse_dtype(dtype)? {
            "f32" => Self::from_model_f32(Model::new(
                Network::new(arch, init, seed).map_err(py_err)?,
                task,
            )),
            _ => Self::from_model_f64(Model::new(
                Network::new(arch, init, seed).map_err(py_err)?,
                task,
            )),
        })
    }

    /// The tutorial's running example: (model, x, y) (see `nabla explain --demo`).
    #[staticmethod]
    fn running_example() -> (Self, Vec<f64>, Vec<f64>) {
        let (net, x, y) = nabla::explain::running_example();
        (
            Self::from_model_f64(Model::new(net, Task::Regression)),
            x,
            y,
        )
    }

    /// A model for scikit-learn's parameters (a JSON object) and the data's shape.
    #[staticmethod]
    fn for_sklearn(
        params: &str,
        target: &str,
        n: usize,
        features: usize,
        outputs: usize,
        dtype: &str,
    ) -> PyResult<Self> {
        let (p, target) = read_params(params, target)?;
        let r = resolve(&p, target, n, features, outputs).map_err(sk_err)?;
        let task = if target == Target::Continuous {
            Task::Regression
        } else {
            Task::Classification
        };
        let seed = r.config.seed;
        let arch = r.architecture;
        Ok(match parse_dtype(dtype)? {
            "f32" => Self::from_model_f32(Model::new(
                Network::new(arch, r.init, seed).map_err(sk_err)?,
                task,
            )),
            _ => Self::from_model_f64(Model::new(
                Network::new(arch, r.init, seed).map_err(sk_err)?,
                task,
            )),
        })
    }

    /// Trains on x (n × n_0) and y (n × n_L) from the current weights, as scikit-learn's
    /// parameters say; `labels` (class indices) make the validation split stratified.
    /// `incremental` keeps the optimizer's state from the previous call (`partial_fit`).
    /// `threads` (> 0) is this call's thread count (else that of `set_threads`, else all cores).
    /// Returns the training report as JSON.
    #[pyo3(signature = (x, y, params, target, labels=None, incremental=false, callback=None, threads=None))]
    #[allow(clippy::too_many_arguments)]
    fn fit_sklearn(
        &mut self,
        py: Python<'_>,
        x: &Bound<'_, PyAny>,
        y: &Bound<'_, PyAny>,
        params: &str,
        target: &str,
        labels: Option<Vec<usize>>,
        incremental: bool,
        callback: Option<Py<PyAny>>,
        threads: Option<usize>,
    ) -> PyResult<String> {
        let (p, target) = read_params(params, target)?;
        let sizes = with_model!(&self.inner, m => m.network.sizes().to_vec());
        let n = x.getattr("shape")?.get_item(0)?.extract::<usize>()?;
        let r = resolve(&p, target, n, sizes[0], sizes[sizes.len() - 1]).map_err(sk_err)?;
        if r.architecture.sizes != sizes {
            return Err(PyValueError::new_err(format!(
                "the data needs layer sizes {:?}, the model has {:?}",
                r.architecture.sizes, sizes
            )));
        }
        match &mut self.inner {
            Inner::F32(m, state) => {
                let (x, y) = (read::<f32>(x)?, read::<f32>(y)?);
                fit_model(
                    py,
                    m,
                    state,
                    x,
                    y,
                    labels,
                    r,
                    incremental,
                    callback,
                    threads,
                )
            }
            Inner::F64(m, state) => {
                let (x, y) = (read::<f64>(x)?, read::<f64>(y)?);
                fit_model(
                    py,
                    m,
                    state,
                    x,
                    y,
                    labels,
                    r,
                    incremental,
                    callback,
                    threads,
                )
            }
        }
    }

    /// The outputs a^[L] for a batch x (m × n_0), in the model's dtype, after the model
    /// file's input scaling if it has one; `threads` as in `fit_sklearn`.
    #[pyo3(signature = (x, threads=None))]
    fn predict<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        threads: Option<usize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        match &self.inner {
            Inner::F32(m, _) => {
                let x = read::<f32>(x)?;
                let out = py
                    .detach(|| scoped_with(threads, || predict_model(m, x)))
                    .map_err(py_err)?;
                Ok(to_numpy(py, &out).into_any())
            }
            Inner::F64(m, _) => {
                let x = read::<f64>(x)?;
                let out = py
                    .detach(|| scoped_with(threads, || predict_model(m, x)))
                    .map_err(py_err)?;
                Ok(to_numpy(py, &out).into_any())
            }
        }
    }

    /// FF of a batch: {"z": [None, z1, …], "a": [x, a1, …]}.
    fn forward<'py>(&self, py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyDict>> {
        match &self.inner {
            Inner::F32(m, _) => {
                let x = read::<f32>(x)?;
                let mut pass = Pass::new(m.network.sizes(), x.rows());
                m.network.forward(&x, &mut pass).map_err(py_err)?;
                pass_dict(py, &pass, false)
            }
            Inner::F64(m, _) => {
                let x = read::<f64>(x)?;
                let mut pass = Pass::new(m.network.sizes(), x.rows());
                m.network.forward(&x, &mut pass).map_err(py_err)?;
                pass_dict(py, &pass, false)
            }
        }
    }

    /// FF and BP1–BP4 of a batch: z, a, e per layer, nabla_w, nabla_b and the mean cost.
    fn backprop<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        y: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyDict>> {
        macro_rules! go {
            ($t:ty, $m:expr) => {{
                let (x, y) = (read::<$t>(x)?, read::<$t>(y)?);
                let mut pass = Pass::new($m.network.sizes(), x.rows());
                let mut grads = Gradients::zeros($m.network.sizes());
                let cost = $m
                    .network
                    .backprop(&x, &y, &mut pass, &mut grads)
                    .map_err(py_err)?;
                let d = pass_dict(py, &pass, true)?;
                gradients_into(py, &d, &grads)?;
                d.set_item("cost", f64::from(cost))?;
                Ok(d)
            }};
        }
        match &self.inner {
            Inner::F32(m, _) => go!(f32, m),
            Inner::F64(m, _) => go!(f64, m),
        }
    }

    /// `∂C/∂W^[l]`, `∂C/∂b^[l]` by central differences (in float64), with the worst
    /// disagreement with backpropagation.
    #[pyo3(signature = (x, y, h=DEFAULT_STEP))]
    fn grad_check<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        y: &Bound<'py, PyAny>,
        h: f64,
    ) -> PyResult<Bound<'py, PyDict>> {
        let net = self.network_f64();
        let (x, y) = (read::<f64>(x)?, read::<f64>(y)?);
        let numerical = py
            .detach(|| numerical_gradients(&net, &x, &y, h))
            .map_err(py_err)?;
        let mut pass = Pass::new(net.sizes(), x.rows());
        let mut grads = Gradients::zeros(net.sizes());
        net.backprop(&x, &y, &mut pass, &mut grads)
            .map_err(py_err)?;
        let (error, l, j, k) = worst_disagreement(&grads, &numerical, 1e-8);
        let d = PyDict::new(py);
        gradients_into(py, &d, &numerical)?;
        let bp = PyDict::new(py);
        gradients_into(py, &bp, &grads)?;
        d.set_item("backprop", bp)?;
        d.set_item("max_relative_error", error)?;
        d.set_item("worst", (l, j, k))?;
        Ok(d)
    }

    /// What `nabla explain --format json` prints for one example, as JSON text.
    fn explain(&self, x: Vec<f64>, y: Vec<f64>) -> PyResult<String> {
        explain_json(&self.network_f64(), &x, &y).map_err(py_err)
    }

    /// `W^[l]` (n_l × n_(l-1)), a copy.
    fn w<'py>(&self, py: Python<'py>, l: usize) -> PyResult<Bound<'py, PyAny>> {
        with_model!(&self.inner, m => {
            non_negative_layer(l, m.network.last())?;
            Ok(to_numpy(py, m.network.w(l)).into_any())
        })
    }

    /// `b^[l]` (n_l), a copy.
    fn b<'py>(&self, py: Python<'py>, l: usize) -> PyResult<Bound<'py, PyAny>> {
        with_model!(&self.inner, m => {
            non_negative_layer(l, m.network.last())?;
            Ok(vec_to_numpy(py, m.network.b(l).to_vec()))
        })
    }

    /// Replaces `W^[l]` and `b^[l]` (shapes and finiteness checked).
    fn set_layer(&mut self, l: usize, w: &Bound<'_, PyAny>, b: &Bound<'_, PyAny>) -> PyResult<()> {
        macro_rules! go {
            ($t:ty, $m:expr) => {{
                let net = &$m.network;
                non_negative_layer(l, net.last())?;
                let w = read::<$t>(w)?;
                let b: Vec<$t> = b.extract()?;
                let mut weights: Vec<Matrix<$t>> =
                    (1..=net.last()).map(|i| net.w(i).clone()).collect();
                let mut biases: Vec<Vec<$t>> =
                    (1..=net.last()).map(|i| net.b(i).to_vec()).collect();
                weights[l - 1] = w;
                biases[l - 1] = b;
                $m.network = Network::from_parameters(net.architecture().clone(), weights, biases)
                    .map_err(py_err)?;
                Ok(())
            }};
        }
        match &mut self.inner {
            Inner::F32(m, _) => go!(f32, m),
            Inner::F64(m, _) => go!(f64, m),
        }
    }

    /// "float32" or "float64".
    #[getter]
    fn dtype(&self) -> &'static str {
        match self.inner {
            Inner::F32(..) => "float32",
            Inner::F64(..) => "float64",
        }
    }

    /// The same model in another dtype.
    fn cast(&self, dtype: &str) -> PyResult<Self> {
        Ok(match (parse_dtype(dtype)?, &self.inner) {
            ("f32", Inner::F32(m, _)) => Self::from_model_f32(m.clone()),
            ("f32", Inner::F64(m, _)) => Self::from_model_f32(m.cast()),
            (_, Inner::F32(m, _)) => Self::from_model_f64(m.cast()),
            (_, Inner::F64(m, _)) => Self::from_model_f64(m.clone()),
        })
    }

    /// n_0, n_1, …, n_L.
    #[getter]
    fn sizes(&self) -> Vec<usize> {
        with_model!(&self.inner, m => m.network.sizes().to_vec())
    }

    /// The architecture: {"sizes", "hidden", "output", "cost"}.
    #[getter]
    fn architecture(&self) -> (Vec<usize>, String, String, String) {
        with_model!(&self.inner, m => {
            let a = m.network.architecture();
            (a.sizes.clone(), a.hidden.to_string(), a.output.to_string(), a.cost.to_string())
        })
    }

    /// "classification" or "regression".
    #[getter]
    fn task(&self) -> String {
        with_model!(&self.inner, m => m.task.to_string())
    }

    /// The class names (classification).
    #[getter]
    fn classes(&self) -> Vec<String> {
        with_model!(&self.inner, m => m.classes.clone())
    }

    #[setter]
    fn set_classes(&mut self, classes: Vec<String>) {
        with_model!(&mut self.inner, m => m.classes = classes)
    }

    /// The input column names, if known.
    #[getter]
    fn features(&self) -> Option<Vec<String>> {
        with_model!(&self.inner, m => m.features.clone())
    }

    #[setter]
    fn set_features(&mut self, features: Option<Vec<String>>) {
        with_model!(&mut self.inner, m => m.features = features)
    }

    /// Whether the model file asks for input scaling (applied by `nabla predict`).
    #[getter]
    fn scaling(&self) -> Option<(Vec<f64>, Vec<f64>)> {
        with_model!(&self.inner, m => m.scaling.as_ref().map(|s| (s.offset.clone(), s.factor.clone())))
    }

    /// Sets (or, with None, removes) the input scaling `x' = (x − offset) · factor`.
    #[setter]
    fn set_scaling(&mut self, scaling: Option<(Vec<f64>, Vec<f64>)>) -> PyResult<()> {
        with_model!(&mut self.inner, m => {
            if let Some((offset, factor)) = &scaling {
                let n0 = m.network.sizes()[0];
                if offset.len() != n0 || factor.len() != n0 {
                    return Err(PyValueError::new_err(format!(
                        "invalid scaling: the network has {n0} inputs, got {} offsets and {} factors",
                        offset.len(),
                        factor.len()
                    )));
                }
                if offset.iter().chain(factor).any(|v| !v.is_finite()) {
                    return Err(PyValueError::new_err("invalid scaling: offsets and factors must be finite"));
                }
            }
            m.scaling = scaling.map(|(offset, factor)| nabla::data::Scaling { offset, factor });
            Ok(())
        })
    }

    /// Extra metadata (string → string).
    #[getter]
    fn extra(&self) -> std::collections::BTreeMap<String, String> {
        with_model!(&self.inner, m => m.extra.clone())
    }

    fn set_extra(&mut self, key: String, value: String) {
        with_model!(&mut self.inner, m => { m.extra.insert(key, value); })
    }

    /// The safetensors bytes of the model file.
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = with_model!(&self.inner, m => m.to_bytes().map_err(py_err)?);
        Ok(PyBytes::new(py, &bytes))
    }

    /// A model from the bytes of a model file, in the dtype it was stored in.
    #[staticmethod]
    fn from_bytes(bytes: &[u8]) -> PyResult<Self> {
        let path = PathBuf::from("<bytes>");
        Ok(match stored_dtype(bytes) {
            "f64" => Self::from_model_f64(Model::from_bytes(bytes, &path).map_err(py_err)?),
            _ => Self::from_model_f32(Model::from_bytes(bytes, &path).map_err(py_err)?),
        })
    }

    /// Writes the model file (as `nabla train --save` does).
    fn save(&self, path: PathBuf) -> PyResult<()> {
        with_model!(&self.inner, m => m.save(&path).map_err(py_err))
    }

    /// Reads a model file written by the CLI or by `save`.
    #[staticmethod]
    fn load(path: PathBuf) -> PyResult<Self> {
        let bytes = std::fs::read(&path).map_err(|e| py_err(Error::io(&path, e)))?;
        let path: &Path = &path;
        Ok(match stored_dtype(&bytes) {
            "f64" => Self::from_model_f64(Model::from_bytes(&bytes, path).map_err(py_err)?),
            _ => Self::from_model_f32(Model::from_bytes(&bytes, path).map_err(py_err)?),
        })
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>,))> {
        let py = slf.py();
        let from_bytes = py.get_type::<PyModel>().getattr("from_bytes")?;
        Ok((from_bytes, (slf.borrow().to_bytes(py)?,)))
    }

    fn __repr__(&self) -> String {
        with_model!(&self.inner, m => {
            let a = m.network.architecture();
            format!(
                "Model(sizes={:?}, hidden='{}', output='{}', cost='{}', task='{}', dtype='{}')",
                a.sizes, a.hidden, a.output, a.cost, m.task, self.dtype()
            )
        })
    }
}

fn read_params(params: &str, target: &str) -> PyResult<(SkParams, Target)> {
    let p: SkParams = serde_json::from_str(params)
        .map_err(|e| PyTypeError::new_err(format!("invalid estimator parameters: {e}")))?;
    sklearn::check_own(&p).map_err(PyValueError::new_err)?;
    let target: Target = serde_json::from_value(serde_json::Value::String(target.into()))
        .map_err(|_| PyValueError::new_err(format!("unknown target kind '{target}'")))?;
    Ok((p, target))
}

/// A 2-D numpy array of T (the Python side converts dtypes and layouts).
fn read<T: Scalar + Element>(x: &Bound<'_, PyAny>) -> PyResult<Matrix<T>> {
    let array = x.cast::<PyArray2<T>>().map_err(|_| {
        PyTypeError::new_err(format!(
            "expected a 2-D numpy array of {}",
            if T::NAME == "f32" {
                "float32"
            } else {
                "float64"
            }
        ))
    })?;
    matrix_from(&array.readonly())
}

/// Simplex noise at the rows of `points` (m × N), with `octaves` of fractal noise.
#[pyfunction]
#[pyo3(signature = (points, seed=0, octaves=1, lacunarity=2.0, gain=0.5, frequency=1.0))]
fn simplex<'py>(
    py: Python<'py>,
    points: PyReadonlyArray2<'py, f64>,
    seed: u64,
    octaves: u32,
    lacunarity: f64,
    gain: f64,
    frequency: f64,
) -> PyResult<Bound<'py, PyAny>> {
    let dims = points.shape()[1];
    let flat: Vec<f64> = match points.as_slice() {
        Ok(s) => s.to_vec(),
        Err(_) => points.as_array().iter().copied().collect(),
    };
    let noise = Simplex::new(dims, seed).map_err(|e| py_err(e.into()))?;
    let m = points.shape()[0];
    let out = py
        .detach(|| -> Result<Vec<f64>, Error> {
            let mut out = vec![0.0; m];
            if octaves == 1 && frequency == 1.0 {
                noise.sample_many(&flat, &mut out)?;
            } else {
                let fractal = Fractal {
                    octaves,
                    lacunarity,
                    gain,
                    frequency,
                };
                fractal.validate()?;
                for (i, o) in out.iter_mut().enumerate() {
                    *o = noise.fractal(&flat[i * dims..(i + 1) * dims], &fractal)?;
                }
            }
            Ok(out)
        })
        .map_err(py_err)?;
    Ok(vec_to_numpy(py, out))
}

/// The embedded MNIST subset: (x_train, y_train, x_test, y_test), pixels in [0, 1].
#[pyfunction]
fn mnist(py: Python<'_>) -> PyResult<Bound<'_, PyTuple>> {
    let (train, test) = nabla::data::idx::embedded_mnist::<f32>().map_err(py_err)?;
    let labels = |d: &Dataset<f32>| -> Vec<i64> {
        d.labels
            .as_ref()
            .map(|l| l.iter().map(|&c| c as i64).collect())
            .unwrap_or_default()
    };
    PyTuple::new(
        py,
        [
            to_numpy(py, &train.x).into_any(),
            vec_to_numpy(py, labels(&train)),
            to_numpy(py, &test.x).into_any(),
            vec_to_numpy(py, labels(&test)),
        ],
    )
}

/// Sets the number of threads the library uses for the calls from Python (0: its default).
#[pyfunction]
fn set_threads(n: usize) {
    THREADS.store(n, Ordering::Relaxed);
}

/// The number of threads the library's matrix products use.
#[pyfunction]
fn threads() -> usize {
    scoped(nabla::parallel::threads)
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyModel>()?;
    m.add_function(wrap_pyfunction!(simplex, m)?)?;
    m.add_function(wrap_pyfunction!(mnist, m)?)?;
    m.add_function(wrap_pyfunction!(set_threads, m)?)?;
    m.add_function(wrap_pyfunction!(threads, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
