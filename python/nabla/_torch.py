"""A nabla model as a ``torch.nn.Sequential`` (imported by ``to_torch`` only: needs PyTorch)."""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["Standardize", "sequential"]

# nabla's activation names (and scikit-learn's 'logistic') -> a module, or None for identity.
_ACTIVATIONS = {
    "sigmoid": lambda: torch.nn.Sigmoid(),
    "logistic": lambda: torch.nn.Sigmoid(),
    "tanh": lambda: torch.nn.Tanh(),
    "relu": lambda: torch.nn.ReLU(),
    "leaky-relu": lambda: torch.nn.LeakyReLU(0.01),
    "identity": lambda: None,
    "softmax": lambda: torch.nn.Softmax(dim=-1),
}


class Standardize(torch.nn.Module):
    """The model file's input scaling: ``x' = (x − offset) · factor``, per feature."""

    def __init__(self, offset, factor, dtype=torch.float64):
        super().__init__()
        self.register_buffer("offset", torch.as_tensor(np.asarray(offset, dtype=np.float64), dtype=dtype))
        self.register_buffer("factor", torch.as_tensor(np.asarray(factor, dtype=np.float64), dtype=dtype))

    def forward(self, x):
        return (x - self.offset) * self.factor

    def extra_repr(self):
        return f"features={self.offset.shape[0]}"


def _activation(name):
    try:
        return _ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(f"no PyTorch module for the activation {name!r}") from None


def sequential(model):
    """A ``torch.nn.Sequential`` computing what ``model.predict`` computes (a ``_core.Model``)."""
    dtype = {"float32": torch.float32, "float64": torch.float64}[model.dtype]
    sizes, hidden, output, _cost = model.architecture
    modules = []
    if model.scaling is not None:
        offset, factor = model.scaling
        modules.append(Standardize(offset, factor, dtype=dtype))
    last = len(sizes) - 1
    for l in range(1, last + 1):
        linear = torch.nn.Linear(sizes[l - 1], sizes[l], dtype=dtype)
        with torch.no_grad():
            # W^[l] is n_l × n_(l-1): torch's (out_features, in_features) layout.
            linear.weight.copy_(torch.as_tensor(np.ascontiguousarray(model.w(l))))
            linear.bias.copy_(torch.as_tensor(np.ascontiguousarray(model.b(l))))
        modules.append(linear)
        g = _activation(hidden if l < last else output)
        if g is not None:
            modules.append(g)
    return torch.nn.Sequential(*modules)
