"""nabla with the rest of the ecosystem: joblib's workers, dask.distributed, PyTorch."""

import sys

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.preprocessing import StandardScaler

import nabla
from nabla import MLPClassifier, MLPRegressor
from nabla.neural_network import _environment_threads

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TORCH_MISSING = (
    "PyTorch is not installed: to_torch()'s comparisons need it (scripts/test-python.sh does not "
    "install it, its wheel pulls GBs of CUDA libraries); `pip install torch` into the test venv to run them"
)


def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.25, random_state=0)


# -- threads under joblib ------------------------------------------------------------


def test_threads_default_in_loky_workers_is_their_share_of_the_cores(monkeypatch):
    # joblib's loky workers get OMP_NUM_THREADS = cpu_count // n_jobs (unless the parent has it).
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("NABLA_THREADS", raising=False)
    with joblib.parallel_config(backend="loky", n_jobs=2):
        counts = joblib.Parallel()(joblib.delayed(_environment_threads)() for _ in range(2))
    assert counts == [max(joblib.cpu_count() // 2, 1)] * 2
    # ... which is what an estimator's threads=None then means (a function of the environment).
    monkeypatch.setenv("OMP_NUM_THREADS", str(counts[0]))
    assert MLPClassifier()._threads() == counts[0]


# -- dask.distributed ----------------------------------------------------------------


def test_grid_search_on_a_dask_cluster_equals_the_serial_search():
    distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed (pip install 'dask[distributed]')")
    Xtr, Xte, ytr, yte = digits()
    Xtr, ytr = Xtr[:600], ytr[:600]
    grid = {"alpha": [1e-4, 1e-1], "hidden_layer_sizes": [(16,), (32,)]}
    base = MLPClassifier(max_iter=15, random_state=0)
    serial = GridSearchCV(base, grid, cv=3, n_jobs=1).fit(Xtr, ytr)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster):
            with joblib.parallel_backend("dask"):
                on_dask = GridSearchCV(base, grid, cv=3, n_jobs=-1).fit(Xtr, ytr)
    assert on_dask.best_params_ == serial.best_params_
    for key in ("mean_test_score", "split0_test_score", "split1_test_score", "split2_test_score"):
        np.testing.assert_array_equal(on_dask.cv_results_[key], serial.cv_results_[key])
    np.testing.assert_array_equal(on_dask.predict_proba(Xte), serial.predict_proba(Xte))


# -- to_torch ------------------------------------------------------------------------


def test_to_torch_without_torch_says_so(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` fails
    monkeypatch.delitem(sys.modules, "nabla._torch", raising=False)
    Xtr, Xte, ytr, yte = digits()
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(Xtr, ytr)
    with pytest.raises(ImportError, match="to_torch\\(\\) needs PyTorch"):
        clf.to_torch()
    with pytest.raises(ImportError, match="pip install torch"):
        nabla.Network([2, 3, 1]).to_torch()


@pytest.mark.parametrize("activation", ["logistic", "tanh", "relu", "identity"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_to_torch_multiclass_equals_predict_proba(activation, dtype):
    torch = pytest.importorskip("torch", reason=TORCH_MISSING)
    Xtr, Xte, ytr, yte = digits()
    clf = MLPClassifier(hidden_layer_sizes=(16, 8), activation=activation, max_iter=5, random_state=0, dtype=dtype).fit(Xtr, ytr)
    module = clf.to_torch()
    assert isinstance(module, torch.nn.Sequential)
    assert isinstance(module[-1], torch.nn.Softmax)
    with torch.no_grad():
        out = module(torch.as_tensor(Xte.astype(dtype))).numpy()
    rtol = 1e-4 if dtype == "float32" else 1e-10
    np.testing.assert_allclose(out, clf.predict_proba(Xte), rtol=rtol, atol=rtol * 1e-2)
    np.testing.assert_array_equal(clf.classes_[out.argmax(axis=1)], clf.predict(Xte))


def test_to_torch_binary_and_regression():
    torch = pytest.importorskip("torch", reason=TORCH_MISSING)
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0).fit(X, y)
    with torch.no_grad():
        p = clf.to_torch()(torch.as_tensor(X)).numpy()
    np.testing.assert_allclose(p[:, 0], clf.predict_proba(X)[:, 1], rtol=1e-10, atol=1e-12)

    X, y = load_diabetes(return_X_y=True)
    reg = MLPRegressor(hidden_layer_sizes=(8,), activation="tanh", learning_rate_init=0.01, max_iter=20, random_state=0).fit(X, y)
    module = reg.to_torch()
    assert not isinstance(module[-1], (torch.nn.Sigmoid, torch.nn.Softmax))  # identity: nothing after the last Linear
    with torch.no_grad():
        out = module(torch.as_tensor(X)).numpy()
    np.testing.assert_allclose(out[:, 0], reg.predict(X), rtol=1e-10, atol=1e-9)


def test_network_to_torch_with_leaky_relu_and_input_scaling(tmp_path):
    torch = pytest.importorskip("torch", reason=TORCH_MISSING)
    net = nabla.Network([3, 5, 2], activation="leaky-relu", output="softmax", cost="cross-entropy", init="he", seed=4)
    module = net.to_torch()
    assert [type(m).__name__ for m in module] == ["Linear", "LeakyReLU", "Linear", "Softmax"]
    assert module[1].negative_slope == 0.01
    x = np.random.RandomState(0).randn(7, 3)
    with torch.no_grad():
        np.testing.assert_allclose(module(torch.as_tensor(x)).numpy(), net.predict(x), rtol=1e-12)
    # A model with input scaling (as `nabla train` writes) starts with the standardisation.
    offset, factor = [1.0, 2.0, 3.0], [0.5, 0.25, 2.0]
    net._model.scaling = (offset, factor)
    module = net.to_torch()
    assert [type(m).__name__ for m in module] == ["Standardize", "Linear", "LeakyReLU", "Linear", "Softmax"]
    with torch.no_grad():
        np.testing.assert_allclose(module(torch.as_tensor(x)).numpy(), net.predict(x), rtol=1e-12)
    scaled = (x - np.array(offset)) * np.array(factor)
    net._model.scaling = None
    np.testing.assert_allclose(module(torch.as_tensor(x)).detach().numpy(), net.predict(scaled), rtol=1e-12)


def test_model_scaling_setter_checks_lengths():
    net = nabla.Network([3, 2])
    with pytest.raises(ValueError, match="3 inputs"):
        net._model.scaling = ([0.0], [1.0])
    net._model.scaling = ([0.0, 1.0, 2.0], [1.0, 1.0, 1.0])
    np.testing.assert_allclose(net.predict(np.ones((1, 3))), nabla.Network([3, 2]).predict(np.array([[1.0, 0.0, -1.0]])))
