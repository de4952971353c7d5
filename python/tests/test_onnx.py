"""`nabla export --format onnx` against `nabla predict`, through onnx and onnxruntime.

Every model is trained for one epoch by the `nabla` binary (NABLA_BIN, default
target/release/nabla, run from the repository root) and exported; the ONNX file must pass
`onnx.checker.check_model(full_check=True)`, and onnxruntime's outputs on the raw features
must match what `nabla predict` prints, for every hidden activation, output activation and
cost, in f32 and f64, with and without input scaling, at batch 1 and batch 1000.

Tolerance: relative 1e-6 in f32 and 1e-12 in f64, relative to the largest output
magnitude over the 1000 examples. Sums in another order (nabla's GEMM and
onnxruntime's) and another exp or tanh move the last digits of z; an output near 0, where
large terms cancel or a ReLU or sigmoid cuts z off, keeps that absolute error, not a
relative one.

PyPI packages: onnx, onnxruntime, numpy, pytest (torch optional: the PyTorch test is
skipped without it).
"""

import csv
import io
import os
import random
import subprocess

import numpy as np
import onnx
import onnxruntime as ort
import pytest

NABLA = os.environ.get("NABLA_BIN", "target/release/nabla")
HIDDEN = ["sigmoid", "tanh", "relu", "leaky-relu", "identity"]
RTOL = {"f32": 1e-6, "f64": 1e-12}
DTYPE = {"f32": np.float32, "f64": np.float64}
ROWS = 1000


def nabla(*args):
    done = subprocess.run([NABLA, *map(str, args)], capture_output=True, text=True)
    assert done.returncode == 0, f"nabla {' '.join(map(str, args))}: {done.stderr}"
    return done.stdout


def write_data(path, rows, classify, seed):
    """Features off 0 and of different spreads, so that the scaling matters (but of a
    size that trains without it too)."""
    rng = random.Random(seed)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["x0", "x1", "x2", "x3"] + (["label"] if classify else ["y0", "y1"]))
        for i in range(rows):
            x = [rng.gauss(1, 0.5), rng.gauss(-2, 1), rng.gauss(0, 0.1), rng.uniform(0, 1)]
            if classify:
                label = "abc"[i % 3] if i < 3 else "abc"[int(x[0] > 1) + int(x[3] > 0.5)]
                w.writerow([f"{v:.5f}" for v in x] + [label])
            else:
                w.writerow([f"{v:.5f}" for v in x] + [f"{x[0] - x[2]:.5f}", f"{x[1] / 2:.5f}"])


def combinations():
    """(hidden, output, cost, task) for every activation, output and cost nabla takes."""
    out = []
    for hidden in HIDDEN:
        for output in ["sigmoid", "softmax"]:
            for cost in ["quadratic", "cross-entropy"]:
                out.append((hidden, output, cost, "classification"))
        for output in ["tanh", "relu", "leaky-relu", "identity"]:
            out.append((hidden, output, "quadratic", "regression"))
    return out


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    files = {}
    for task, classify in [("classification", True), ("regression", False)]:
        files[task] = d / f"{task}.csv"
        write_data(files[task], ROWS, classify, seed=len(task))
        files[task + "-1"] = d / f"{task}-1.csv"
        with open(files[task]) as f:
            lines = f.readlines()
        files[task + "-1"].write_text(lines[0] + lines[7])
    return files


def predictions(model, data, task):
    """What `nabla predict` prints, as an array of the outputs (the class column dropped)."""
    rows = list(csv.reader(io.StringIO(nabla("predict", "--model", model, "--data", data))))
    skip = 1 if task == "classification" else 0
    return np.array([[float(v) for v in r[skip:]] for r in rows[1:]])


def features(data, dtype):
    with open(data) as f:
        rows = list(csv.reader(f))[1:]
    return np.array([[float(v) for v in r[:4]] for r in rows]).astype(dtype)


def assert_close(got, want, rtol, what, scale=None):
    """|got - want| <= rtol * the largest |output| in `scale` (default: in `want`)."""
    assert got.shape == want.shape, what
    scale = np.abs(want if scale is None else scale).max()
    err = np.abs(got.astype(np.float64) - want) / (scale if scale > 0 else 1.0)
    assert err.max() <= rtol, f"{what}: relative error {err.max():.3g} > {rtol:g}"


@pytest.mark.parametrize("precision", ["f32", "f64"])
@pytest.mark.parametrize("scaling", [True, False], ids=["scaled", "unscaled"])
@pytest.mark.parametrize("hidden,output,cost,task", combinations())
def test_onnxruntime_gives_what_nabla_predict_gives(
    tmp_path, data, hidden, output, cost, task, scaling, precision
):
    model = tmp_path / "m.safetensors"
    args = ["train", "--data", data[task], "--hidden", "6,4", "--activation", hidden]
    args += ["--output", output, "--cost", cost, "--task", task, "--epochs", "1"]
    args += ["--precision", precision, "--quiet", "--json", "--out", model]
    if task == "regression":
        args += ["--target", "y0,y1", "--lr", "0.001"]
    if not scaling:
        args.append("--no-scaling")
        if task == "regression":
            args.append("--no-target-scaling")
    nabla(*args)
    onnx_path = tmp_path / "m.onnx"
    nabla("export", "--model", model, "--format", "onnx", "--out", onnx_path)

    m = onnx.load(str(onnx_path))
    onnx.checker.check_model(m, full_check=True)
    ops = [n.op_type for n in m.graph.node]
    assert ops.count("Gemm") == 3, ops
    assert ("Sub" in ops) == scaling, ops
    # Regression outputs are mapped back to the targets' units inside the graph.
    assert ("Add" in ops) == (scaling and task == "regression"), ops
    meta = {p.key: p.value for p in m.metadata_props}
    assert meta["features"] == '["x0","x1","x2","x3"]'
    assert meta["task"] == task
    if task == "classification":
        assert meta["classes"] == '["a","b","c"]'
    else:
        assert meta["targets"] == '["y0","y1"]'

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    everything = predictions(model, data[task], task)
    for rows in ["", "-1"]:
        csv_path = data[task + rows]
        want = predictions(model, csv_path, task)
        assert len(want) == (1 if rows else ROWS)
        (got,) = session.run(None, {"x": features(csv_path, DTYPE[precision])})
        assert got.dtype == DTYPE[precision]
        assert_close(got, want, RTOL[precision], f"batch {len(want)}", scale=everything)


def test_the_batch_dimension_is_dynamic_and_the_types_follow_the_precision(tmp_path):
    for precision, elem in [("f32", onnx.TensorProto.FLOAT), ("f64", onnx.TensorProto.DOUBLE)]:
        model = tmp_path / f"{precision}.safetensors"
        nabla("init", "--layers", "4,3,2", "--precision", precision, "--out", model)
        path = tmp_path / f"{precision}.onnx"
        nabla("export", "--model", model, "--format", "onnx", "--out", path)
        m = onnx.load(str(path))
        (x,) = m.graph.input
        (y,) = m.graph.output
        assert x.type.tensor_type.elem_type == elem
        assert y.type.tensor_type.elem_type == elem
        assert x.type.tensor_type.shape.dim[0].dim_param == "batch"
        assert x.type.tensor_type.shape.dim[1].dim_value == 4
        assert y.type.tensor_type.shape.dim[1].dim_value == 2
        assert max(o.version for o in m.opset_import if o.domain in ("", "ai.onnx")) >= 13


def test_the_torch_module_gives_what_nabla_predict_gives(tmp_path, data):
    model = tmp_path / "m.safetensors"
    nabla("train", "--data", data["classification"], "--hidden", "6", "--activation", "tanh",
          "--epochs", "1", "--quiet", "--json", "--out", model)
    state = tmp_path / "torch.safetensors"
    nabla("export", "--model", model, "--format", "torch", "--out", state)
    script = tmp_path / "torch.py"
    compile(script.read_text(), str(script), "exec")  # valid Python, torch or not
    torch = pytest.importorskip("torch", reason="torch is not installed (pip install torch)")
    namespace = {"__file__": str(script)}
    exec(compile(script.read_text(), str(script), "exec"), namespace)
    net = namespace["load"]()
    x = torch.tensor(features(data["classification"], np.float64)).to(torch.float32)
    got = net(x).detach().numpy()
    want = predictions(model, data["classification"], "classification")
    assert_close(got, want, 1e-5, "torch")
