#!/usr/bin/env python3
"""Single-GEMM throughput of PyTorch (MKL/oneDNN) and numpy (OpenBLAS) at nabla's layer
shapes, in the layouts nabla uses (FF: X W^T, BP4: E^T A, BP2: E W), for BENCHMARKS.md.

Usage: taskset -c 0 /tmp/peers-venv/bin/python scripts/gemm_peers.py [threads]
Compare with `cargo bench --bench kernels -- products` (same shapes, same layouts).
"""
import sys
import time

import numpy as np

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
try:
    import torch

    torch.set_num_threads(threads)
except ImportError:
    torch = None

# (name, batch m, n_in, n_out)
SHAPES = [
    ("W2 layer 1", 64, 784, 256),
    ("W3 layer 1", 256, 784, 1024),
    ("W3 layer 2", 256, 1024, 1024),
    ("W4 layer 1", 2000, 784, 256),
]


def best_time(f, flops):
    for _ in range(3):
        f()
    reps = max(3, int(2e9 / flops))
    best = float("inf")
    for _ in range(7):
        t = time.perf_counter()
        for _ in range(reps):
            f()
        best = min(best, (time.perf_counter() - t) / reps)
    return best


def main():
    rng = np.random.default_rng(0)
    print(f"threads {threads}; GFLOP/s = 2 m n_in n_out / best of 7 samples")
    print(f"{'shape':<12} {'m x n_in x n_out':<18} {'product':<8} {'torch':>8} {'numpy':>8}")
    for name, m, n_in, n_out in SHAPES:
        x = rng.standard_normal((m, n_in), dtype=np.float32)
        w = rng.standard_normal((n_out, n_in), dtype=np.float32)
        e = rng.standard_normal((m, n_out), dtype=np.float32)
        flops = 2.0 * m * n_in * n_out
        products = {
            "ff": (lambda: x @ w.T, lambda: tx @ tw.T),
            "bp4": (lambda: e.T @ x, lambda: te.T @ tx),
            "bp2": (lambda: e @ w, lambda: te @ tw),
        }
        if torch is not None:
            tx, tw, te = (torch.from_numpy(a) for a in (x, w, e))
        for product, (numpy_f, torch_f) in products.items():
            t_np = best_time(numpy_f, flops)
            t_torch = best_time(torch_f, flops) if torch is not None else float("nan")
            print(
                f"{name:<12} {f'{m}x{n_in}x{n_out}':<18} {product:<8} "
                f"{flops / t_torch / 1e9:8.1f} {flops / t_np / 1e9:8.1f}"
            )


if __name__ == "__main__":
    main()
