#!/usr/bin/env python3
"""nabla's estimators against scikit-learn's (and PyTorch's, when importable): score and fit time.

Four data sets, each split 75/25 (random_state=0): digits (pixels / 16), breast_cancer and
diabetes (X standardised on the training split; diabetes' y as is) and the MNIST subset
embedded in nabla (`nabla.datasets.mnist()`: its own 8000/2000 split). On each, scikit-learn's
MLPClassifier/MLPRegressor and nabla's are fitted with the same settings (hidden sizes,
solver adam, max_iter, batch size, alpha, learning_rate_init, tol=0 and a huge
n_iter_no_change, so both run every epoch), once per seed; the table gives the test score
(accuracy or R², mean ± sd over the seeds), the median fit time and scikit-learn's time over
nabla's. PyTorch (same network, Adam, the same L2 term as scikit-learn's, same epochs and
batches, float64 as the others; PyTorch's own initialisation) runs where `import torch` works and is skipped otherwise.

Usage: python scripts/bench_python.py [--seeds 3] [--sets digits,breast_cancer,diabetes,mnist]
                                      [--threads N] [--json FILE]
(`--threads N` is nabla's `threads` and also limits scikit-learn's BLAS and PyTorch to N
threads, through threadpoolctl and torch.set_num_threads; without it each library keeps its
default: all cores.)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.preprocessing import StandardScaler

import nabla

warnings.simplefilter("ignore", ConvergenceWarning)

# name: (loader, task, settings shared by every library)
SETTINGS = {
    "digits": dict(hidden_layer_sizes=(64,), max_iter=50, batch_size=200, alpha=1e-4, learning_rate_init=1e-3),
    "breast_cancer": dict(hidden_layer_sizes=(32,), max_iter=200, batch_size=200, alpha=1e-4, learning_rate_init=1e-3),
    "diabetes": dict(hidden_layer_sizes=(32,), max_iter=300, batch_size=200, alpha=1e-4, learning_rate_init=1e-2),
    "mnist": dict(hidden_layer_sizes=(100,), max_iter=20, batch_size=200, alpha=1e-4, learning_rate_init=1e-3),
}
COMMON = dict(solver="adam", tol=0.0, n_iter_no_change=1_000_000, shuffle=True)


def standardised(X_train, X_test):
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test)


def load(name):
    """(X_train, X_test, y_train, y_test, task) as float64."""
    if name == "digits":
        X, y = load_digits(return_X_y=True)
        Xtr, Xte, ytr, yte = train_test_split(X / 16.0, y, test_size=0.25, random_state=0)
        return Xtr, Xte, ytr, yte, "classification"
    if name == "breast_cancer":
        X, y = load_breast_cancer(return_X_y=True)
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0)
        return *standardised(Xtr, Xte), ytr, yte, "classification"
    if name == "diabetes":
        X, y = load_diabetes(return_X_y=True)
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0)
        return *standardised(Xtr, Xte), ytr, yte, "regression"
    if name == "mnist":
        (Xtr, ytr), (Xte, yte) = nabla.datasets.mnist()
        return Xtr.astype(np.float64), Xte.astype(np.float64), ytr, yte, "classification"
    raise SystemExit(f"unknown data set {name!r}")


def run_estimator(cls, data, seed, **params):
    Xtr, Xte, ytr, yte, _ = data
    est = cls(random_state=seed, **params)
    started = time.perf_counter()
    est.fit(Xtr, ytr)
    seconds = time.perf_counter() - started
    return est.score(Xte, yte), seconds, est.n_iter_


def run_torch(torch, data, seed, settings):
    """The same network and training in PyTorch (float64, Adam, scikit-learn's L2 term)."""
    Xtr, Xte, ytr, yte, task = data
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    classification = task == "classification"
    if classification:
        classes, y_index = np.unique(ytr, return_inverse=True)
        binary = len(classes) == 2
        outputs = 1 if binary else len(classes)
    else:
        outputs = 1
    sizes = [Xtr.shape[1], *settings["hidden_layer_sizes"], outputs]
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1], dtype=torch.float64))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    net = torch.nn.Sequential(*layers)
    optimizer = torch.optim.Adam(net.parameters(), lr=settings["learning_rate_init"], betas=(0.9, 0.999), eps=1e-8)
    alpha, m = settings["alpha"], settings["batch_size"]
    weights = [layer.weight for layer in net if isinstance(layer, torch.nn.Linear)]
    started = time.perf_counter()
    X = torch.from_numpy(np.ascontiguousarray(Xtr))
    if classification:
        Y = torch.from_numpy(y_index.astype(np.float64 if binary else np.int64))
        loss_fn = torch.nn.BCEWithLogitsLoss() if binary else torch.nn.CrossEntropyLoss()
    else:
        Y = torch.from_numpy(np.asarray(ytr, dtype=np.float64))
        loss_fn = lambda out, y: 0.5 * torch.mean((out - y) ** 2)  # noqa: E731 (scikit-learn's squared loss)
    n = X.shape[0]
    for _ in range(settings["max_iter"]):
        order = torch.randperm(n, generator=g)
        for start in range(0, n, m):
            idx = order[start : start + m]
            out = net(X[idx])
            if outputs == 1:
                out = out[:, 0]
            loss = loss_fn(out, Y[idx]) + 0.5 * alpha * sum((w * w).sum() for w in weights) / len(idx)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    seconds = time.perf_counter() - started
    with torch.no_grad():
        out = net(torch.from_numpy(np.ascontiguousarray(Xte))).numpy()
    if classification:
        pred = classes[(out[:, 0] > 0).astype(int)] if outputs == 1 else classes[np.argmax(out, axis=1)]
        score = float(np.mean(pred == yte))
    else:
        residual = ((yte - out[:, 0]) ** 2).sum()
        score = float(1 - residual / ((yte - yte.mean()) ** 2).sum())
    return score, seconds, settings["max_iter"]


def summary(runs):
    scores = [r[0] for r in runs]
    times = [r[1] for r in runs]
    sd = statistics.stdev(scores) if len(scores) > 1 else 0.0
    return {"score_mean": statistics.fmean(scores), "score_sd": sd, "fit_median_s": statistics.median(times), "scores": scores, "times": times, "epochs": [r[2] for r in runs]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--sets", default="digits,breast_cancer,diabetes,mnist")
    parser.add_argument("--threads", type=int, default=None, help="nabla's threads (default: its own default)")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()

    try:
        import torch
    except ImportError:
        torch = None
    print(f"python {platform.python_version()}, numpy {np.__version__}, scikit-learn {__import__('sklearn').__version__}, nabla {nabla.__version__}, cores {os.cpu_count()}")
    if torch is None:
        print("PyTorch: not importable here, skipped (pip install torch to add it)")
    else:
        print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"nabla threads={args.threads} ({nabla.threads()} in this process by default)")
    print(flush=True)

    if args.threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=args.threads)
        if torch is not None:
            torch.set_num_threads(args.threads)

    results = {}
    for name in args.sets.split(","):
        data = load(name)
        task = data[4]
        settings = SETTINGS[name]
        params = {**settings, **COMMON}
        Sk, Ours = (SkMLPClassifier, nabla.MLPClassifier) if task == "classification" else (SkMLPRegressor, nabla.MLPRegressor)
        seeds = range(args.seeds)
        row = {"n_train": len(data[0]), "features": data[0].shape[1], "settings": settings}
        # Alternate the libraries seed by seed, so that a slow phase of the host falls on both.
        sk_runs, ours_runs, torch_runs = [], [], []
        for seed in seeds:
            sk_runs.append(run_estimator(Sk, data, seed, **params))
            ours_runs.append(run_estimator(Ours, data, seed, threads=args.threads, **params))
            if torch is not None:
                torch_runs.append(run_torch(torch, data, seed, settings))
        row["sklearn"], row["nabla"] = summary(sk_runs), summary(ours_runs)
        if torch_runs:
            row["torch"] = summary(torch_runs)
        results[name] = row
        print(f"{name}: done ({row['n_train']} x {row['features']}, {settings})", file=sys.stderr, flush=True)

    metric = {"classification": "accuracy", "regression": "R²"}
    header = "| data (train n × features) | network, epochs | metric | scikit-learn | nabla |"
    line = "|---|---|---|---|---|"
    if torch is not None:
        header += " PyTorch |"
        line += "---|"
    header += " sklearn fit s | nabla fit s |"
    line += "---|---|"
    if torch is not None:
        header += " torch fit s |"
        line += "---|"
    header += " sklearn / nabla |"
    line += "---|"
    print(header)
    print(line)
    for name, row in results.items():
        task = "regression" if name == "diabetes" else "classification"
        s = row["settings"]
        cells = [
            f"{name} ({row['n_train']} × {row['features']})",
            f"{list(s['hidden_layer_sizes'])}, {s['max_iter']}",
            metric[task],
        ]
        libs = ["sklearn", "nabla"] + (["torch"] if "torch" in row else [])
        cells += [f"{row[k]['score_mean']:.4f} ± {row[k]['score_sd']:.4f}" for k in libs]
        cells += [f"{row[k]['fit_median_s']:.3f}" for k in libs]
        cells.append(f"{row['sklearn']['fit_median_s'] / row['nabla']['fit_median_s']:.1f}×")
        print("| " + " | ".join(cells) + " |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
