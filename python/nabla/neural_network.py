"""scikit-learn estimators over the nabla library: :class:`MLPClassifier`, :class:`MLPRegressor`.

Parameters, defaults and fitted attributes follow ``sklearn.neural_network``. ``__init__``
stores the parameters unchanged; ``fit`` sends them to the library, which resolves them
against the data (layer sizes, batch size, optimizer, schedule, stopping rule) and trains
with the GIL released. Ctrl-C stops a fit between mini-batches.
"""

from __future__ import annotations

import json
import numbers
import os
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _core

__all__ = ["MLPClassifier", "MLPRegressor", "load"]

_OUT_ACTIVATION = {"sigmoid": "logistic", "softmax": "softmax", "identity": "identity"}
_HIDDEN_FROM_NABLA = {"sigmoid": "logistic"}
_DTYPES = {None: None, "float32": np.float32, "float64": np.float64, np.float32: np.float32, np.float64: np.float64}


# The library splits a product over threads from this many multiply-adds on
# (nabla::parallel::PARALLEL_MIN_MNK): below it for every layer, more threads only start
# (spinning) workers for the per-epoch bookkeeping.
_SPLIT_MIN_MULTIPLY_ADDS = 1 << 21
# Rows per call of predict (see _outputs).
_PREDICT_CHUNK = 256


def _environment_threads():
    """The thread count the environment asks for: ``NABLA_THREADS``, else ``OMP_NUM_THREADS``
    (which joblib's loky workers set to their share of the cores, and dask's workers to 1);
    None when neither holds a positive integer."""
    for name in ("NABLA_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "").strip()
        try:
            n = int(value)
        except ValueError:
            continue
        if n > 0:
            return n
    return None


def _check_solver(self):
    if self.solver == "lbfgs":
        raise AttributeError(f"partial_fit is only available for stochastic optimizers. {self.solver!r} is not stochastic.")
    return True


class _BaseMLP(BaseEstimator):
    """What the classifier and the regressor share."""

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        cost=None,
        dtype=None,
        threads=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.cost = cost
        self.dtype = dtype
        self.threads = threads

    # -- parameters to the library -------------------------------------------------

    def _params_json(self, seed, **override):
        """The parameters as the library reads them (JSON), with `seed` for `random_state`."""
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, numbers.Integral):
            sizes = [sizes]
        try:
            sizes = [int(h) for h in sizes]
        except TypeError as e:
            raise ValueError(f"invalid hidden_layer_sizes: expected an int or a sequence of ints, got {self.hidden_layer_sizes!r}") from e

        def number(name, kind=float):
            value = override.get(name, getattr(self, name))
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ValueError(f"invalid {name}: expected a number, got {value!r}")
            if kind is int and value != int(value):
                raise ValueError(f"invalid {name}: expected an integer, got {value!r}")
            return kind(value)

        def text(name, value=None):
            value = getattr(self, name) if value is None else value
            if not isinstance(value, str):
                raise ValueError(f"invalid {name}: expected a string, got {value!r}")
            return value

        batch_size = self.batch_size
        if not isinstance(batch_size, str):
            batch_size = number("batch_size", int)
        params = {
            "hidden_layer_sizes": sizes,
            "activation": text("activation"),
            "solver": text("solver"),
            "alpha": number("alpha"),
            "batch_size": batch_size,
            "learning_rate": text("learning_rate"),
            "learning_rate_init": number("learning_rate_init"),
            "power_t": number("power_t"),
            "max_iter": number("max_iter", int),
            "shuffle": bool(self.shuffle),
            "seed": int(seed),
            "tol": number("tol"),
            "momentum": number("momentum"),
            "nesterovs_momentum": bool(self.nesterovs_momentum),
            "early_stopping": bool(override.get("early_stopping", self.early_stopping)),
            "validation_fraction": number("validation_fraction"),
            "beta_1": number("beta_1"),
            "beta_2": number("beta_2"),
            "epsilon": number("epsilon"),
            "n_iter_no_change": number("n_iter_no_change", int),
            "max_fun": number("max_fun", int),
            "cost": None if self.cost is None else text("cost"),
        }
        return json.dumps(params)

    def _seed(self):
        if isinstance(self.random_state, numbers.Integral) and not isinstance(self.random_state, bool):
            if self.random_state < 0:
                raise ValueError(f"invalid random_state: expected an int >= 0, got {self.random_state}")
            return int(self.random_state)
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def _float_dtype(self, X_dtype):
        """The network's dtype for a new fit on X of dtype `X_dtype`."""
        if self.dtype not in _DTYPES:
            raise ValueError(f"invalid dtype: expected None, 'float32' or 'float64', got {self.dtype!r}")
        wanted = _DTYPES[self.dtype]
        if wanted is not None:
            return np.dtype(wanted)
        return np.dtype(np.float32) if X_dtype == np.float32 else np.dtype(np.float64)

    # -- fitting ---------------------------------------------------------------------

    def _validate_X(self, X, reset, y="no_validation", **kwargs):
        if isinstance(y, str) and y == "no_validation":
            return validate_data(self, X, reset=reset, dtype=(np.float64, np.float32), order="C", accept_sparse=False)
        return validate_data(
            self, X, y, reset=reset, dtype=(np.float64, np.float32), order="C", multi_output=True, accept_sparse=False, **kwargs
        )

    def _threads(self, rows=None):
        """The thread count of a fit or predict call whose mini-batches (or chunks) have `rows`
        rows; None: :func:`nabla.set_threads`'s count, else all cores."""
        if self.threads is not None:
            if isinstance(self.threads, bool) or not isinstance(self.threads, numbers.Integral) or self.threads < 1:
                raise ValueError(f"invalid threads: expected None or an int >= 1, got {self.threads!r}")
            return int(self.threads)
        n = _environment_threads()
        if n is not None:
            return n
        model = self.__dict__.get("_model")
        if rows is not None and model is not None:
            sizes = model.sizes
            if rows * sum(a * b for a, b in zip(sizes, sizes[1:])) < _SPLIT_MIN_MULTIPLY_ADDS:
                return 1
        return None

    def _fit(self, X, y, *, incremental, classes=None):
        first = not hasattr(self, "_model") or not (incremental or self.warm_start)
        X, y = self._validate_X(X, reset=first, y=y, **self._validate_y_kwargs())
        Y, target, labels = self._encode_targets(y, first=first, classes=classes, incremental=incremental)
        seed = self._seed()
        override = {"max_iter": 1, "early_stopping": False} if incremental else {}
        params = self._params_json(seed, **override)
        if first:
            for name in ("loss_curve_", "validation_scores_", "best_validation_score_", "best_loss_"):
                self.__dict__.pop(name, None)
            dtype = self._float_dtype(X.dtype)
            self._model = _core.Model.for_sklearn(params, target, X.shape[0], X.shape[1], Y.shape[1], dtype.name)
            self.loss_curve_ = []
            self.n_iter_ = 0
            self.t_ = 0
            if self.early_stopping and not incremental:
                self.validation_scores_ = []
        dtype = np.dtype(self._model.dtype)
        X = np.ascontiguousarray(X, dtype=dtype)
        Y = np.ascontiguousarray(Y, dtype=dtype)
        threads = self._threads(rows=self._batch_rows(X.shape[0]))
        callback = self._print_epoch if self.verbose else None
        report = json.loads(self._model.fit_sklearn(X, Y, params, target, labels, incremental, callback, threads))
        self._record(report, X.shape[0], incremental)
        return self

    def _batch_rows(self, n):
        """The rows of a mini-batch of a fit on n examples (all of them for full-batch solvers)."""
        if self.solver in ("lbfgs", "rprop"):
            return n
        if isinstance(self.batch_size, str):
            return min(200, n)
        return max(1, min(int(self.batch_size), n))

    def _print_epoch(self, report_json):
        report = json.loads(report_json)
        loss = (report.get("train_cost") or float("nan")) + report["regularization"]
        print(f"Iteration {self.n_iter_ + report['epoch']}, loss = {loss:.8f}")
        if report.get("validation") is not None:
            score = self._validation_score(report["validation"])
            print(f"Validation score: {score:f}")

    @staticmethod
    def _validation_score(evaluation):
        """The library's validation metric as scikit-learn's score: accuracy or R²."""
        for key in ("accuracy", "r2"):
            if evaluation.get(key) is not None:
                return evaluation[key]
        return -evaluation["cost"]

    def _record(self, report, n, incremental):
        history = report["history"]
        losses = [(h.get("train_cost") or float("nan")) + h["regularization"] for h in history]
        self.loss_curve_ = list(self.loss_curve_) + losses
        self.n_iter_ += len(history)
        self.t_ += len(history) * (n - report["validation_size"])
        sizes = self._model.sizes
        self.n_layers_ = len(sizes)
        self.n_outputs_ = sizes[-1]
        self.out_activation_ = _OUT_ACTIVATION.get(self._model.architecture[2], self._model.architecture[2])
        if self.early_stopping and not incremental:
            scores = [self._validation_score(h["validation"]) for h in history if h.get("validation")]
            self.validation_scores_ = list(getattr(self, "validation_scores_", None) or []) + scores
            self.best_validation_score_ = max(self.validation_scores_) if self.validation_scores_ else None
            self.best_loss_ = None
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
            self.best_loss_ = min(self.loss_curve_) if self.loss_curve_ else None
        if not incremental and report["stop_reason"] is None and not report["stopped_early"] and len(history) >= self.max_iter:
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the optimization hasn't converged yet.",
                ConvergenceWarning,
            )

    def fit(self, X, y):
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The targets (class labels in classification, real numbers in regression).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, incremental=False)

    # -- predicting ------------------------------------------------------------------

    def _outputs(self, X):
        check_is_fitted(self, "_model")
        X = self._validate_X(X, reset=False)
        X = np.ascontiguousarray(X, dtype=np.dtype(self._model.dtype))
        n, chunk = X.shape[0], _PREDICT_CHUNK
        threads = self._threads(rows=min(n, chunk))
        if n <= chunk:
            return self._model.predict(X, threads)
        # In chunks of rows: the library's products are faster on blocks that stay in cache
        # (MNIST's 8000 rows through 784-100-10: 0.05 s in chunks of 256, 0.19 s at once).
        return np.concatenate([self._model.predict(X[i : i + chunk], threads) for i in range(0, n, chunk)])

    # -- the network in scikit-learn's layout --------------------------------------------

    @property
    def coefs_(self):
        """list of ndarray: ``coefs_[i]`` is the n_in x n_out weight matrix of layer i + 1 (W^[i+1] transposed)."""
        model = self.__dict__.get("_model")
        if model is None:
            raise AttributeError("coefs_ exists after fit")
        return [np.ascontiguousarray(model.w(l).T) for l in range(1, len(model.sizes))]

    @property
    def intercepts_(self):
        """list of ndarray: ``intercepts_[i]`` is the bias vector of layer i + 1 (b^[i+1])."""
        model = self.__dict__.get("_model")
        if model is None:
            raise AttributeError("intercepts_ exists after fit")
        return [model.b(l) for l in range(1, len(model.sizes))]

    @property
    def network_(self):
        """:class:`nabla.Network`: the fitted network, for the tutorial's methods (a copy)."""
        from .network import Network

        check_is_fitted(self, "_model")
        return Network._wrap(_core.Model.from_bytes(self._model.to_bytes()))

    def to_torch(self):
        """The fitted network as a ``torch.nn.Sequential`` (needs PyTorch, imported only here).

        One ``Linear`` per layer (``weight`` is ``coefs_[i].T``, ``bias`` ``intercepts_[i]``),
        each followed by its activation: logistic → ``Sigmoid``, tanh → ``Tanh``, relu →
        ``ReLU``, leaky-relu → ``LeakyReLU(0.01)``, softmax → ``Softmax(dim=-1)``, identity →
        nothing. A model read from a file with input scaling (as ``nabla train`` writes) starts
        with a module computing ``(x − offset) · factor``. Parameters are copies, in the
        model's dtype (float32 or float64).

        The module's output is the network's: :meth:`MLPClassifier.predict_proba` for several
        classes (the probability of ``classes_[1]`` alone for two, and of each label for
        multilabel), :meth:`MLPRegressor.predict` as a column.

        Returns
        -------
        module : torch.nn.Sequential

        Raises
        ------
        ImportError
            When PyTorch is not installed.
        """
        from .network import _to_torch

        check_is_fitted(self, "_model")
        return _to_torch(self._model)

    # -- model files -----------------------------------------------------------------

    def save(self, path):
        """Write the fitted model as a nabla model file (safetensors), readable by the CLI.

        Parameters
        ----------
        path : str or os.PathLike
            Where to write it (atomically).
        """
        check_is_fitted(self, "_model")
        model = _core.Model.from_bytes(self._model.to_bytes())
        if hasattr(self, "feature_names_in_"):
            model.features = [str(f) for f in self.feature_names_in_]
        state = {"estimator": type(self).__name__, "params": _jsonable(self.get_params()), "n_iter_": self.n_iter_}
        if hasattr(self, "classes_"):
            state["classes"] = _jsonable(self.classes_.tolist())
        model.set_extra("python", json.dumps(state))
        model.save(str(path))

    @classmethod
    def load(cls, path):
        """Read a nabla model file (written by :meth:`save` or by ``nabla train --save``).

        Parameters
        ----------
        path : str or os.PathLike
            The model file.

        Returns
        -------
        estimator : MLPClassifier or MLPRegressor
            A fitted estimator holding that network.
        """
        return _from_model(_core.Model.load(str(path)), cls)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.target_tags.multi_output = True
        return tags


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items() if isinstance(v, (str, int, float, bool, list, tuple, type(None), np.generic))}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _from_model(model, cls=None):
    """A fitted estimator around a loaded model."""
    extra = model.extra
    state = json.loads(extra["python"]) if "python" in extra else {}
    task = model.task
    if cls is None:
        cls = MLPClassifier if task == "classification" else MLPRegressor
    if (task == "classification") != (cls is MLPClassifier):
        raise ValueError(f"the model file holds a {task} model, not one for {cls.__name__}")
    sizes, hidden, output, cost = model.architecture
    params = dict(state.get("params", {}))
    if not params:
        params = {"hidden_layer_sizes": tuple(sizes[1:-1]), "activation": _HIDDEN_FROM_NABLA.get(hidden, hidden), "cost": cost}
    est = cls(**{k: v for k, v in params.items() if k in cls._get_param_names()})
    if isinstance(est.hidden_layer_sizes, list):
        est.hidden_layer_sizes = tuple(est.hidden_layer_sizes)
    est._model = model
    est.n_features_in_ = sizes[0]
    if model.features is not None and "python" in extra:
        est.feature_names_in_ = np.asarray(model.features, dtype=object)
    est.n_layers_ = len(sizes)
    est.n_outputs_ = sizes[-1]
    est.out_activation_ = _OUT_ACTIVATION.get(output, output)
    est.n_iter_ = state.get("n_iter_", 0)
    est.t_ = 0
    est.loss_curve_ = []
    est.best_loss_ = None
    if task == "classification":
        classes = state.get("classes")
        if classes is None:
            classes = model.classes
            try:
                classes = [int(c) for c in classes]
            except ValueError:
                pass
        est.classes_ = np.asarray(classes)
        est._multilabel = output == "sigmoid" and sizes[-1] > 1
    return est


def load(path):
    """Read a nabla model file into a fitted :class:`MLPClassifier` or :class:`MLPRegressor`.

    Parameters
    ----------
    path : str or os.PathLike
        A model file written by ``estimator.save`` or by ``nabla train --save``.

    Returns
    -------
    estimator : MLPClassifier or MLPRegressor
        Which one the file's task says.
    """
    return _from_model(_core.Model.load(str(path)))


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier trained by backpropagation (nabla's library).

    Same parameters as :class:`sklearn.neural_network.MLPClassifier`, plus:

    Parameters
    ----------
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The i-th element is the number of neurons in the i-th hidden layer.
    activation : {'identity', 'logistic', 'tanh', 'relu'}, default='relu'
        g of the hidden layers (nabla's ``leaky-relu`` too).
    solver : {'lbfgs', 'sgd', 'adam', 'momentum', 'nesterov', 'rmsprop', 'adamw', 'rprop'}, default='adam'
        The optimizer. ``sgd`` with ``momentum > 0`` is (Nesterov's) momentum as in scikit-learn.
    alpha : float, default=1e-4
        L2 strength, as scikit-learn's: adds (alpha / 2m) Σw² to each mini-batch's cost,
        m its size (nabla's L2 λ = alpha · n / m over n training examples).
    batch_size : int or 'auto', default='auto'
        Mini-batch size; 'auto' is min(200, n_samples).
    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        Learning-rate schedule (solver='sgd' only).
    learning_rate_init : float, default=1e-3
        Initial learning rate η₀.
    power_t : float, default=0.5
        Exponent of 'invscaling'.
    max_iter : int, default=200
        Epochs (for 'lbfgs': iterations).
    shuffle : bool, default=True
        Shuffle the examples each epoch.
    random_state : int, RandomState instance or None, default=None
        Seed of the initial weights, shuffling and validation split.
    tol : float, default=1e-4
        Training stops when the loss has not improved by tol for n_iter_no_change epochs.
    verbose : bool, default=False
        Print the loss after each epoch.
    warm_start : bool, default=False
        Continue from the previous fit's weights.
    momentum : float, default=0.9
        μ of solver='sgd' (and 'momentum'/'nesterov').
    nesterovs_momentum : bool, default=True
        Nesterov's form of momentum for solver='sgd'.
    early_stopping : bool, default=False
        Hold out validation_fraction of the data and stop when its cost has not improved
        for n_iter_no_change epochs, keeping the best weights.
    validation_fraction : float, default=0.1
        The held-out share with early_stopping (stratified by class).
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam's β₁, β₂ and ε.
    n_iter_no_change : int, default=10
        Epochs without improvement before stopping.
    max_fun : int, default=15000
        With 'lbfgs': at most this many iterations.
    cost : {'cross-entropy', 'quadratic'} or None, default=None
        nabla's cost; None is cross-entropy (scikit-learn's log-loss).
    dtype : {'float32', 'float64'} or None, default=None
        Precision of the network; None follows X (float32 stays float32, else float64).
    threads : int or None, default=None
        Threads of the library's matrix products in ``fit`` and ``predict``. None: the
        ``NABLA_THREADS`` environment variable, else ``OMP_NUM_THREADS`` (set by joblib's loky
        workers to their share of the cores, cpu_count // n_jobs, and by dask's workers to
        1, so ``GridSearchCV(n_jobs=k)`` does not run k x all cores); else 1 for a small
        network, whose products on a mini-batch (batch size x Σ n_(l-1) n_l multiply-adds)
        are below 2**21, the size from which the library splits a product over threads;
        else the count of :func:`nabla.set_threads`, else all cores.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    loss_curve_ : list of float
        The training loss (cost plus L2 term) after each epoch.
    best_loss_ : float or None
        The smallest value of loss_curve_ (None with early_stopping).
    validation_scores_ : list of float or None
        Validation accuracy after each epoch (with early_stopping).
    best_validation_score_ : float or None
        The best of validation_scores_.
    t_ : int
        Training examples seen.
    coefs_ : list of ndarray
        ``coefs_[i]`` is layer i+1's n_in x n_out weight matrix (W^[i+1] transposed).
    intercepts_ : list of ndarray
        ``intercepts_[i]`` is layer i+1's bias vector.
    n_features_in_ : int
        Number of input features.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Input column names, when X has string column names.
    n_iter_ : int
        Epochs run.
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int
        Number of outputs.
    out_activation_ : str
        'logistic' or 'softmax'.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from nabla import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=300, random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.9
    True
    """

    def _validate_y_kwargs(self):
        return {}

    def _encode_targets(self, y, *, first, classes, incremental):
        y_type = type_of_target(y, input_name="y")
        if y_type not in ("binary", "multiclass", "multilabel-indicator"):
            raise ValueError(f"Unknown label type: {y_type!r}: MLPClassifier needs class labels (binary, multiclass or multilabel)")
        if y.ndim == 2 and y.shape[1] == 1 and y_type != "multilabel-indicator":
            y = y.ravel()
        if first:
            if incremental and classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            binarizer = LabelBinarizer()
            binarizer.fit(classes if classes is not None and y_type != "multilabel-indicator" else y)
            if len(binarizer.classes_) < 2:
                raise ValueError(f"MLPClassifier needs at least 2 classes in y, got 1 class: {binarizer.classes_[0]!r}")
            self._label_binarizer = binarizer
            self.classes_ = binarizer.classes_
            self._multilabel = binarizer.y_type_ == "multilabel-indicator"
        else:
            if incremental and classes is not None and not np.array_equal(np.sort(np.asarray(classes)), np.sort(self.classes_)):
                raise ValueError(f"`classes={list(classes)}` is not the same as on the last call to partial_fit, was: {list(self.classes_)}")
            if not self._multilabel:
                unseen = np.setdiff1d(unique_labels(y), self.classes_)
                if len(unseen):
                    what = "partial_fit" if incremental else "fit (warm_start)"
                    raise ValueError(f"y has classes not in classes_ of the first call to {what}: {unseen.tolist()}")
        Y = self._label_binarizer.transform(y)
        if self._multilabel:
            return Y, "multilabel", None
        if Y.shape[1] == 1:
            return Y, "binary", None
        labels = np.searchsorted(self.classes_, y).astype(np.int64).tolist()
        return Y, "multiclass", labels

    @available_if(_check_solver)
    def partial_fit(self, X, y, classes=None):
        """One epoch of training on (X, y), keeping the optimizer's state between calls.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,)
            The class labels.
        classes : array-like of shape (n_classes,), default=None
            All classes; required on the first call.

        Returns
        -------
        self : object
            The estimator.
        """
        return self._fit(X, y, incremental=True, classes=classes)

    def predict_proba(self, X):
        """Probability of each class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        out = self._outputs(X)
        if out.shape[1] == 1:
            return np.hstack([1 - out, out])
        return out

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            The log-probabilities.
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The predicted classes (multilabel: an indicator matrix).
        """
        out = self._outputs(X)
        if getattr(self, "_multilabel", False):
            return (out > 0.5).astype(int)
        if out.shape[1] == 1:
            return self.classes_[(out[:, 0] > 0.5).astype(int)]
        return self.classes_[np.argmax(out, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor trained by backpropagation (nabla's library).

    The same parameters as :class:`MLPClassifier` (and
    :class:`sklearn.neural_network.MLPRegressor`); the output layer is linear and the cost
    is nabla's quadratic cost ½‖y − a‖² (per example, averaged), scikit-learn's squared
    error for one output.

    Attributes
    ----------
    loss_curve_ : list of float
        The training loss after each epoch.
    best_loss_ : float or None
        The smallest loss (None with early_stopping).
    validation_scores_ : list of float or None
        Validation R² after each epoch (with early_stopping).
    best_validation_score_ : float or None
        The best of validation_scores_.
    t_ : int
        Training examples seen.
    coefs_, intercepts_ : list of ndarray
        Weights (n_in x n_out) and biases of each layer, scikit-learn's layout.
    n_features_in_, feature_names_in_, n_iter_, n_layers_, n_outputs_, out_activation_
        As in scikit-learn.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.preprocessing import StandardScaler
    >>> from nabla import MLPRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> reg = MLPRegressor(hidden_layer_sizes=(32,), learning_rate_init=0.01, max_iter=500, random_state=0).fit(X, y)
    >>> reg.score(X, y) > 0.4
    True
    """

    def _validate_y_kwargs(self):
        return {"y_numeric": True}

    def _encode_targets(self, y, *, first, classes, incremental):
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        if not first and Y.shape[1] != self._model.sizes[-1]:
            raise ValueError(f"y has {Y.shape[1]} outputs, the fitted model has {self._model.sizes[-1]}")
        self._y_ndim = y.ndim if first else getattr(self, "_y_ndim", y.ndim)
        return Y, "continuous", None

    @available_if(_check_solver)
    def partial_fit(self, X, y):
        """One epoch of training on (X, y), keeping the optimizer's state between calls.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The targets.

        Returns
        -------
        self : object
            The estimator.
        """
        return self._fit(X, y, incremental=True)

    def predict(self, X):
        """Predict with the network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predicted values.
        """
        out = self._outputs(X)
        if out.shape[1] == 1:
            return out.ravel()
        return out
