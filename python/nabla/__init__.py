"""nabla: fully-connected networks trained by backpropagation, from Python.

A thin layer over the nabla Rust library:

* :class:`MLPClassifier`, :class:`MLPRegressor`: scikit-learn estimators;
* :class:`Network`: the tutorial's W^[l], b^[l], forward pass, backprop, explain;
* :mod:`nabla.noise`, :mod:`nabla.datasets`: simplex noise and the embedded MNIST;
* ``to_torch()`` on both: the network as a ``torch.nn.Sequential`` (PyTorch imported then).
"""

from . import datasets, noise
from ._core import __version__, set_threads, threads
from .network import Network
from .neural_network import MLPClassifier, MLPRegressor, load

__all__ = ["MLPClassifier", "MLPRegressor", "Network", "load", "noise", "datasets", "set_threads", "threads", "__version__"]
