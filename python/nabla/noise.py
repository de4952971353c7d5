"""Simplex noise from the library (``nabla::noise``)."""

from __future__ import annotations

import numpy as np

from . import _core

__all__ = ["simplex"]


def simplex(points, seed=0, *, octaves=1, lacunarity=2.0, gain=0.5, frequency=1.0):
    """N-dimensional simplex noise at each row of `points`.

    Parameters
    ----------
    points : array-like of shape (m, N) or (N,)
        Points in R^N, one per row (1 <= N <= the library's maximum).
    seed : int, default=0
        Seed of the field.
    octaves, lacunarity, gain, frequency : fractal sum settings
        With the defaults (1 octave, frequency 1): plain noise.

    Returns
    -------
    values : ndarray of shape (m,) or float
        Noise values in about [-1, 1].
    """
    pts = np.asarray(points, dtype=np.float64)
    single = pts.ndim == 1
    if single:
        pts = pts.reshape(1, -1)
    if pts.ndim != 2:
        raise ValueError(f"points must be an (m, N) array, got {pts.ndim} dimensions")
    values = _core.simplex(np.ascontiguousarray(pts), int(seed), int(octaves), float(lacunarity), float(gain), float(frequency))
    return float(values[0]) if single else values
