"""The tutorial's network from Python: W^[l], b^[l], FF, BP1–BP4, explain, gradient check."""

from __future__ import annotations

import json

import numpy as np

from . import _core

__all__ = ["Network"]


class Network:
    """A fully-connected network in the tutorial's notation.

    ``W(l)`` is the n_l x n_(l-1) matrix of layer l (row j, column k is w_jk^[l]), ``b(l)``
    its biases; layer 0 is the input. Batches hold one example per row.

    Parameters
    ----------
    sizes : sequence of int
        n_0, n_1, ..., n_L.
    activation : str, default='sigmoid'
        g of the hidden layers: sigmoid, tanh, relu, leaky-relu or identity.
    output : str or None, default=None
        g of the output layer (also softmax); None is the same as `activation`.
    cost : {'quadratic', 'cross-entropy'}, default='quadratic'
        The cost c_x.
    init : {'nielsen', 'xavier', 'he'}, default='nielsen'
        How the weights are drawn.
    seed : int, default=1
        Seed of the weights.
    dtype : {'float64', 'float32'}, default='float64'
        Precision.

    Examples
    --------
    >>> import numpy as np, nabla
    >>> net = nabla.Network([2, 3, 1], activation="sigmoid", seed=3)
    >>> net.W(1).shape
    (3, 2)
    >>> g = net.backprop(np.array([[0.0, 1.0]]), np.array([[1.0]]))
    >>> g["nabla_w"][1].shape
    (3, 2)
    """

    def __init__(self, sizes, activation="sigmoid", output=None, cost="quadratic", init="nielsen", seed=1, dtype="float64"):
        output = activation if output is None else output
        self._model = _core.Model.new([int(n) for n in sizes], activation, output, cost, init, int(seed), str(np.dtype(dtype)), "regression")

    @classmethod
    def _wrap(cls, model):
        net = cls.__new__(cls)
        net._model = model
        return net

    @classmethod
    def running_example(cls):
        """The tutorial's running example: ``(net, x, y)`` (2-2-2 sigmoid, quadratic cost).

        Returns
        -------
        net : Network
            W^[1] = [[.15, .20], [.25, .30]], b^[1] = (.35, .35), W^[2] = [[.40, .45], [.50, .55]], b^[2] = (.60, .60).
        x, y : ndarray of shape (2,)
            x = (0.05, 0.10), y = (0.01, 0.99).
        """
        model, x, y = _core.Model.running_example()
        return cls._wrap(model), np.array(x), np.array(y)

    @classmethod
    def load(cls, path):
        """Read a nabla model file (any task); its input scaling is not applied here."""
        return cls._wrap(_core.Model.load(str(path)))

    def save(self, path):
        """Write the network as a nabla model file."""
        self._model.save(str(path))

    # -- what the network is -------------------------------------------------------

    @property
    def sizes(self):
        """list of int: n_0, ..., n_L."""
        return self._model.sizes

    @property
    def L(self):
        """int: the number of layers with weights."""
        return len(self.sizes) - 1

    @property
    def dtype(self):
        """numpy.dtype: the precision."""
        return np.dtype(self._model.dtype)

    @property
    def architecture(self):
        """dict: sizes, hidden and output activations, cost."""
        sizes, hidden, output, cost = self._model.architecture
        return {"sizes": sizes, "activation": hidden, "output": output, "cost": cost}

    def W(self, l):
        """W^[l], the n_l x n_(l-1) weight matrix of layer l (a copy)."""
        return self._model.w(int(l))

    def b(self, l):
        """b^[l], the biases of layer l (a copy)."""
        return self._model.b(int(l))

    def set_layer(self, l, W, b):
        """Replace W^[l] and b^[l] (shapes and finiteness are checked)."""
        W = np.ascontiguousarray(W, dtype=self.dtype)
        if W.ndim != 2:
            raise ValueError(f"W^[{l}] must be 2-D, got {W.ndim} dimensions")
        self._model.set_layer(int(l), W, [float(v) for v in np.ravel(b)])

    # -- the equations -------------------------------------------------------------

    def _batch(self, x):
        x = np.asarray(x, dtype=self.dtype)
        single = x.ndim == 1
        if single:
            x = x.reshape(1, -1)
        if x.ndim != 2:
            raise ValueError(f"x must be 1-D (one example) or 2-D (one example per row), got {x.ndim} dimensions")
        return np.ascontiguousarray(x), single

    @staticmethod
    def _unbatch(d, single):
        if not single:
            return d
        out = {}
        for k, v in d.items():
            if isinstance(v, list):
                out[k] = [None if m is None else (m[0] if m.ndim == 2 and k not in ("nabla_w",) else m) for m in v]
            else:
                out[k] = v
        return out

    def forward(self, x):
        """FF: ``z^[l] = W^[l] a^[l-1] + b^[l]``, ``a^[l] = g(z^[l])``.

        Parameters
        ----------
        x : array-like of shape (n_0,) or (m, n_0)
            One example, or one per row.

        Returns
        -------
        pass : dict
            ``{"z": [None, z1, ..., zL], "a": [x, a1, ..., aL]}`` (indexed by layer).
        """
        x, single = self._batch(x)
        return self._unbatch(self._model.forward(x), single)

    def predict(self, x):
        """a^[L] for x (one example, or one per row)."""
        x, single = self._batch(x)
        out = self._model.predict(x)
        return out[0] if single else out

    def backprop(self, x, y):
        """FF and BP1–BP4 on a batch: every z, a, e and the gradients of C, the mean cost.

        Parameters
        ----------
        x : array-like of shape (n_0,) or (m, n_0)
            Inputs.
        y : array-like of shape (n_L,) or (m, n_L)
            Targets.

        Returns
        -------
        result : dict
            ``z``, ``a``, ``e`` (lists indexed by layer), ``nabla_w`` and ``nabla_b`` (∂C/∂W^[l]
            and ∂C/∂b^[l], index 0 is None) and ``cost`` (C).
        """
        x, single = self._batch(x)
        y, _ = self._batch(y)
        return self._unbatch(self._model.backprop(x, y), single)

    def grad_check(self, x, y, h=2e-3):
        """∂C/∂W and ∂C/∂b by central differences (float64), against backpropagation.

        Returns
        -------
        result : dict
            ``nabla_w``, ``nabla_b`` (numerical), ``backprop`` (the same from BP1–BP4),
            ``max_relative_error`` and ``worst`` = (l, j, k or None).
        """
        x = np.ascontiguousarray(np.atleast_2d(np.asarray(x, dtype=np.float64)))
        y = np.ascontiguousarray(np.atleast_2d(np.asarray(y, dtype=np.float64)))
        return self._model.grad_check(x, y, float(h))

    def explain(self, x, y):
        """One example through the network, equation by equation, as ``nabla explain --format json``.

        Parameters
        ----------
        x : array-like of shape (n_0,)
            The example.
        y : array-like of shape (n_L,)
            Its target.

        Returns
        -------
        explanation : dict
            ``architecture``, ``x``, ``y``, ``cost``, ``steps`` (FF, BP1–BP4), ``checks``
            (against central differences) and ``gradients`` by tensor name.
        """
        x = [float(v) for v in np.ravel(np.asarray(x, dtype=np.float64))]
        y = [float(v) for v in np.ravel(np.asarray(y, dtype=np.float64))]
        return json.loads(self._model.explain(x, y))

    def to_torch(self):
        """The network as a ``torch.nn.Sequential`` (needs PyTorch, imported only here).

        One ``Linear`` per layer (``weight`` is W^[l], ``bias`` b^[l]), each followed by its
        activation: sigmoid → ``Sigmoid``, tanh → ``Tanh``, relu → ``ReLU``, leaky-relu →
        ``LeakyReLU(0.01)``, softmax → ``Softmax(dim=-1)``, identity → nothing. A model file
        with input scaling starts with a module computing ``(x − offset) · factor``, so the
        result computes what :meth:`predict` does. Parameters are copies, in the network's dtype.

        Raises
        ------
        ImportError
            When PyTorch is not installed.
        """
        return _to_torch(self._model)

    def __reduce__(self):
        return (_restore, (self._model.to_bytes(),))

    def __repr__(self):
        a = self.architecture
        lines = [f"Network(sizes={a['sizes']}, activation='{a['activation']}', output='{a['output']}', cost='{a['cost']}', dtype='{self.dtype}')"]
        for l in range(1, self.L + 1):
            lines.append(f"  layer {l}: W^[{l}] {self.sizes[l]}x{self.sizes[l - 1]}, b^[{l}] {self.sizes[l]}")
        return "\n".join(lines)


def _to_torch(model):
    """``nabla._torch.sequential(model)``, importing PyTorch only now."""
    try:
        from . import _torch
    except ImportError as e:
        raise ImportError(
            "to_torch() needs PyTorch, which is not installed here: `pip install torch` "
            "(CPU-only wheels: https://pytorch.org/get-started/locally/)"
        ) from e
    return _torch.sequential(model)


def _restore(data):
    return Network._wrap(_core.Model.from_bytes(data))
