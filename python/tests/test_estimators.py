"""The estimators against scikit-learn's, and their behaviour as scikit-learn estimators."""

import os
import pickle
import signal
import threading
import time
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.preprocessing import StandardScaler

import nabla
from nabla import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def split(X, y):
    return train_test_split(X, y, test_size=0.25, random_state=0)


def digits():
    X, y = load_digits(return_X_y=True)
    return split(X / 16.0, y)


def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return split(StandardScaler().fit_transform(X), y)


def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return split(StandardScaler().fit_transform(X), y)


# -- parity with scikit-learn (same settings; scores over three seeds, within noise) ------


def mean_score(cls, data, seeds=(0, 1, 2), **params):
    Xtr, Xte, ytr, yte = data
    return np.mean([cls(random_state=s, **params).fit(Xtr, ytr).score(Xte, yte) for s in seeds])


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_digits_parity(solver):
    params = dict(hidden_layer_sizes=(64,), max_iter=40, solver=solver)
    if solver == "sgd":
        params["learning_rate_init"] = 0.05
    ours = mean_score(MLPClassifier, digits(), **params)
    theirs = mean_score(SkMLPClassifier, digits(), **params)
    assert ours > theirs - 0.03, (ours, theirs)
    assert ours > 0.9


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_breast_cancer_parity(solver):
    params = dict(hidden_layer_sizes=(32,), max_iter=100, solver=solver)
    ours = mean_score(MLPClassifier, cancer(), **params)
    theirs = mean_score(SkMLPClassifier, cancer(), **params)
    assert ours > theirs - 0.03, (ours, theirs)


def test_diabetes_parity():
    params = dict(hidden_layer_sizes=(32,), max_iter=300, learning_rate_init=0.01)
    ours = mean_score(MLPRegressor, diabetes(), **params)
    theirs = mean_score(SkMLPRegressor, diabetes(), **params)
    assert ours > theirs - 0.05, (ours, theirs)
    assert ours > 0.25


# -- fitted attributes in scikit-learn's layout ----------------------------------------


def test_attributes_match_sklearn_layout():
    Xtr, Xte, ytr, yte = digits()
    ours = MLPClassifier(hidden_layer_sizes=(20, 15), max_iter=5, random_state=0).fit(Xtr, ytr)
    theirs = SkMLPClassifier(hidden_layer_sizes=(20, 15), max_iter=5, random_state=0).fit(Xtr, ytr)
    assert [c.shape for c in ours.coefs_] == [c.shape for c in theirs.coefs_]
    assert [b.shape for b in ours.intercepts_] == [b.shape for b in theirs.intercepts_]
    for name in ("n_layers_", "n_outputs_", "out_activation_", "n_iter_", "n_features_in_", "t_"):
        assert getattr(ours, name) == getattr(theirs, name), name
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    assert len(ours.loss_curve_) == 5 and ours.best_loss_ == min(ours.loss_curve_)
    # coefs_[i] is W^[i+1] transposed: predictions from them agree with predict_proba.
    a = Xte
    for l, (W, b) in enumerate(zip(ours.coefs_, ours.intercepts_)):
        z = a @ W + b
        a = np.maximum(z, 0) if l < len(ours.coefs_) - 1 else np.exp(z - z.max(1, keepdims=True))
    a /= a.sum(1, keepdims=True)
    np.testing.assert_allclose(a, ours.predict_proba(Xte), rtol=1e-10, atol=1e-12)


def test_binary_and_string_labels():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    names = np.where(y == 1, "benign", "malignant")
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=50, random_state=0).fit(X, names)
    assert clf.out_activation_ == "logistic" and clf.n_outputs_ == 1
    assert set(clf.predict(X)) <= {"benign", "malignant"}
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(1), 1)
    assert clf.score(X, names) > 0.9


def test_multilabel():
    rng = np.random.RandomState(0)
    X = rng.randn(200, 4)
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] + X[:, 2] > 0, X[:, 3] > 0.5]).astype(int)
    clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=200, random_state=0).fit(X, Y)
    assert clf.out_activation_ == "logistic" and clf.predict(X).shape == Y.shape
    assert clf.score(X, Y) > 0.6


def test_multioutput_regression_and_float32():
    rng = np.random.RandomState(0)
    X = rng.randn(300, 3).astype(np.float32)
    Y = np.column_stack([X.sum(1), X[:, 0] - X[:, 1]])
    reg = MLPRegressor(hidden_layer_sizes=(16,), max_iter=200, learning_rate_init=0.01, random_state=0).fit(X, Y)
    assert reg.predict(X).shape == (300, 2)
    assert reg.predict(X).dtype == np.float32
    assert reg.score(X, Y) > 0.9
    reg = MLPRegressor(max_iter=2, dtype="float64").fit(X, Y[:, 0])
    assert reg.predict(X).dtype == np.float64 and reg.predict(X).shape == (300,)
    assert reg.set_params(dtype="float32").fit(X.astype(np.float64), Y[:, 0]).predict(X).dtype == np.float32


def test_early_stopping_and_verbose(capsys):
    Xtr, Xte, ytr, yte = digits()
    clf = MLPClassifier(early_stopping=True, n_iter_no_change=3, max_iter=200, random_state=0, verbose=True).fit(Xtr, ytr)
    assert clf.best_loss_ is None
    assert len(clf.validation_scores_) == clf.n_iter_ < 200
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert "Iteration 1, loss = " in capsys.readouterr().out


def test_tol_stops_training():
    Xtr, Xte, ytr, yte = cancer()
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=2000, tol=1e-2, random_state=0).fit(Xtr, ytr)
    assert clf.n_iter_ < 2000


def test_convergence_warning():
    Xtr, Xte, ytr, yte = cancer()
    with pytest.warns(ConvergenceWarning):
        MLPClassifier(max_iter=2, random_state=0).fit(Xtr, ytr)


def test_same_seed_same_model_and_warm_start():
    Xtr, Xte, ytr, yte = digits()
    a = MLPClassifier(hidden_layer_sizes=(10,), max_iter=5, random_state=3).fit(Xtr, ytr)
    b = MLPClassifier(hidden_layer_sizes=(10,), max_iter=5, random_state=3).fit(Xtr, ytr)
    np.testing.assert_array_equal(a.predict_proba(Xte), b.predict_proba(Xte))
    w = MLPClassifier(hidden_layer_sizes=(10,), max_iter=5, random_state=3, warm_start=True).fit(Xtr, ytr)
    w.fit(Xtr, ytr)
    assert w.n_iter_ == 10 and len(w.loss_curve_) == 10
    assert w.loss_curve_[-1] < a.loss_curve_[-1]


def test_partial_fit():
    Xtr, Xte, ytr, yte = digits()
    clf = MLPClassifier(hidden_layer_sizes=(32,), random_state=0)
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(Xtr, ytr)
    for _ in range(20):
        clf.partial_fit(Xtr, ytr, classes=np.arange(10))
    assert clf.n_iter_ == 20 and clf.score(Xte, yte) > 0.85
    reg = MLPRegressor(random_state=0)
    Xd, _, yd, _ = diabetes()
    reg.partial_fit(Xd, yd).partial_fit(Xd, yd)
    assert reg.n_iter_ == 2
    assert not hasattr(MLPClassifier(solver="lbfgs"), "partial_fit")


@pytest.mark.parametrize("solver", ["momentum", "nesterov", "rmsprop", "adamw", "rprop"])
def test_nabla_solvers(solver):
    Xtr, Xte, ytr, yte = cancer()
    clf = MLPClassifier(hidden_layer_sizes=(16,), solver=solver, max_iter=60, random_state=0)
    assert clf.fit(Xtr, ytr).score(Xte, yte) > 0.85


@pytest.mark.parametrize("schedule", ["invscaling", "adaptive"])
def test_sgd_schedules(schedule):
    Xtr, Xte, ytr, yte = cancer()
    clf = MLPClassifier(hidden_layer_sizes=(16,), solver="sgd", learning_rate=schedule, learning_rate_init=0.1, max_iter=100, random_state=0)
    assert clf.fit(Xtr, ytr).score(Xte, yte) > 0.85


# -- pickling, model files, model selection --------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pickle_round_trip_bit_equal(dtype):
    Xtr, Xte, ytr, yte = digits()
    clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=10, random_state=0, dtype=dtype).fit(Xtr, ytr)
    back = pickle.loads(pickle.dumps(clf))
    assert back.predict_proba(Xte).tobytes() == clf.predict_proba(Xte).tobytes()
    for c1, c2 in zip(clf.coefs_, back.coefs_):
        assert c1.tobytes() == c2.tobytes()
    assert back.get_params() == clf.get_params()
    assert back.loss_curve_ == clf.loss_curve_
    Xd, Xde, yd, yde = diabetes()
    reg = MLPRegressor(max_iter=10, random_state=0, dtype=dtype).fit(Xd, yd)
    assert pickle.loads(pickle.dumps(reg)).predict(Xde).tobytes() == reg.predict(Xde).tobytes()


def test_save_load(tmp_path):
    Xtr, Xte, ytr, yte = digits()
    names = np.array(list("abcdefghij"))
    clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=10, random_state=0).fit(Xtr, names[ytr])
    path = tmp_path / "digits.safetensors"
    clf.save(path)
    back = MLPClassifier.load(path)
    assert back.predict_proba(Xte).tobytes() == clf.predict_proba(Xte).tobytes()
    np.testing.assert_array_equal(back.predict(Xte), clf.predict(Xte))
    assert back.get_params() == clf.get_params()
    assert isinstance(nabla.load(path), MLPClassifier)
    with pytest.raises(ValueError, match="classification"):
        MLPRegressor.load(path)
    with pytest.raises(OSError):
        nabla.load(tmp_path / "missing.safetensors")
    (tmp_path / "junk").write_bytes(b"not a model")
    with pytest.raises(ValueError, match="not a valid nabla model file"):
        nabla.load(tmp_path / "junk")


def test_grid_search_and_cross_val_score_parallel():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    scores = cross_val_score(MLPClassifier(hidden_layer_sizes=(8,), learning_rate_init=0.01, max_iter=200, random_state=0), X, y, cv=3, n_jobs=2)
    assert scores.mean() > 0.8
    grid = GridSearchCV(
        MLPClassifier(learning_rate_init=0.01, max_iter=200, random_state=0),
        {"hidden_layer_sizes": [(4,), (16,)], "alpha": [1e-4, 1e-2]},
        cv=3,
        n_jobs=2,
    ).fit(X, y)
    assert grid.best_score_ > 0.8
    Xd, _, yd, _ = diabetes()
    assert cross_val_score(MLPRegressor(max_iter=50, learning_rate_init=0.01, random_state=0), Xd, yd, cv=3, n_jobs=2).mean() > 0


def test_pandas_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = load_iris(return_X_y=True, as_frame=True)
    clf = MLPClassifier(max_iter=20, random_state=0).fit(X, y)
    assert list(clf.feature_names_in_) == list(X.columns)


# -- bad input -------------------------------------------------------------------------


def test_bad_input():
    Xtr, Xte, ytr, yte = cancer()
    with pytest.raises(NotFittedError):
        MLPClassifier().predict(Xte)
    with pytest.raises(NotFittedError):
        MLPRegressor().predict(Xte)
    bad = Xtr.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        MLPClassifier(max_iter=2).fit(bad, ytr)
    clf = MLPClassifier(max_iter=2, random_state=0).fit(Xtr, ytr)
    with pytest.raises(ValueError, match="NaN"):
        clf.predict(bad)
    with pytest.raises(ValueError, match="features"):
        clf.predict(Xte[:, :5])
    with pytest.raises(ValueError):
        MLPClassifier(max_iter=2).fit(Xtr, ytr[:-1])
    with pytest.raises(ValueError, match="2 classes"):
        MLPClassifier(max_iter=2).fit(Xtr, np.zeros(len(Xtr)))
    with pytest.raises(ValueError, match="Unknown label type"):
        MLPClassifier(max_iter=2).fit(Xtr, np.linspace(0, 1, len(Xtr)))


@pytest.mark.parametrize(
    "params, name",
    [
        ({"hidden_layer_sizes": (0,)}, "hidden_layer_sizes"),
        ({"activation": "softplus"}, "activation"),
        ({"solver": "newton"}, "solver"),
        ({"alpha": -1.0}, "alpha"),
        ({"batch_size": 0}, "batch_size"),
        ({"learning_rate": "cyclic"}, "learning_rate"),
        ({"learning_rate_init": 0.0}, "learning_rate_init"),
        ({"max_iter": 0}, "max_iter"),
        ({"momentum": 1.5, "solver": "sgd"}, "momentum"),
        ({"beta_1": 1.0}, "beta_1"),
        ({"beta_2": -0.1}, "beta_2"),
        ({"epsilon": 0.0}, "epsilon"),
        ({"early_stopping": True, "validation_fraction": 1.0}, "validation_fraction"),
        ({"n_iter_no_change": 0}, "n_iter_no_change"),
        ({"tol": -1.0}, "tol"),
        ({"cost": "hinge"}, "cost"),
        ({"dtype": "float16"}, "dtype"),
        ({"random_state": -1}, "random_state"),
        ({"alpha": "big"}, "alpha"),
        ({"threads": 0}, "threads"),
    ],
)
def test_bad_parameters_name_the_parameter(params, name):
    Xtr, Xte, ytr, yte = cancer()
    with pytest.raises(ValueError, match=f"invalid {name}"):
        MLPClassifier(**{"max_iter": 2, **params}).fit(Xtr, ytr)


def test_ctrl_c_stops_fit_between_batches():
    rng = np.random.RandomState(0)
    X = rng.randn(4000, 50)
    y = (X[:, 0] > 0).astype(int)
    clf = MLPClassifier(hidden_layer_sizes=(64,), batch_size=10, max_iter=10_000, tol=0.0, n_iter_no_change=10**6, random_state=0)
    timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    start = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    assert time.perf_counter() - start < 30
    timer.cancel()


def test_threads_parameter():
    Xtr, Xte, ytr, yte = digits()
    before = nabla.threads()
    one = MLPClassifier(hidden_layer_sizes=(16,), max_iter=3, random_state=0, threads=1).fit(Xtr, ytr)
    two = MLPClassifier(hidden_layer_sizes=(16,), max_iter=3, random_state=0, threads=2).fit(Xtr, ytr)
    np.testing.assert_allclose(one.predict_proba(Xte), two.predict_proba(Xte), rtol=1e-9)
    assert nabla.threads() == before  # an estimator's threads is its own calls' count only


def test_threads_default_follows_the_environment(monkeypatch):
    clf = MLPClassifier()
    monkeypatch.delenv("NABLA_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert clf._threads() is None  # set_threads's count, else all cores
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert clf._threads() == 3
    monkeypatch.setenv("NABLA_THREADS", "2")
    assert clf._threads() == 2
    monkeypatch.setenv("NABLA_THREADS", "junk")
    assert clf._threads() == 3
    assert MLPClassifier(threads=5)._threads() == 5
    # Without either: 1 for a network too small for the library to split its products.
    monkeypatch.delenv("NABLA_THREADS")
    monkeypatch.delenv("OMP_NUM_THREADS")
    Xtr, Xte, ytr, yte = digits()
    small = MLPClassifier(hidden_layer_sizes=(16,), max_iter=1).fit(Xtr, ytr)
    assert small._threads(rows=200) == 1
    assert small._threads(rows=10**6) is None
    assert MLPClassifier(hidden_layer_sizes=(16,), max_iter=1, threads=2).fit(Xtr, ytr)._threads(rows=200) == 2


def test_predict_in_chunks_equals_predict_at_once():
    Xtr, Xte, ytr, yte = digits()
    X = np.vstack([Xtr] * 3)  # more rows than one chunk of predict
    clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=3, random_state=0).fit(Xtr, ytr)
    np.testing.assert_allclose(clf.predict_proba(X), clf._model.predict(np.ascontiguousarray(X), None), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("alpha", [0.1, 1.0, 3.0])
def test_alpha_regularises_as_much_as_scikit_learns(alpha):
    # scikit-learn divides alpha by the mini-batch size, so the same alpha must shrink the
    # weights about as much here: Σw² within a factor 1.3 of scikit-learn's (measured:
    # within 15%; it was ~3× larger when alpha was divided by the training-set size).
    X, y = load_digits(return_X_y=True)
    X = X / 16
    kw = dict(hidden_layer_sizes=(32,), alpha=alpha, max_iter=40, batch_size=32,
              tol=0.0, n_iter_no_change=1000, random_state=0)
    ours = MLPClassifier(**kw).fit(X, y)
    theirs = SkMLPClassifier(**kw).fit(X, y)
    mine = sum(float(np.sum(w ** 2)) for w in ours.coefs_)
    ref = sum(float(np.sum(w ** 2)) for w in theirs.coefs_)
    assert 1 / 1.3 < mine / ref < 1.3, (mine, ref)
