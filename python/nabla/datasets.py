"""Data sets shipped inside the library."""

from __future__ import annotations

from . import _core

__all__ = ["mnist"]


def mnist():
    """The MNIST subset embedded in the library (the CLI's ``--data mnist``).

    Returns
    -------
    (X_train, y_train), (X_test, y_test) : tuples of ndarray
        Images as float32 rows of 784 pixels in [0, 1], labels as int64 digits.
    """
    x_train, y_train, x_test, y_test = _core.mnist()
    return (x_train, y_train), (x_test, y_test)
