#!/usr/bin/env python3
"""Writes scikit-learn-sized tabular problems to data/examples/ and scikit-learn's own
results on them to data/examples/sklearn-reference.json, the reference that
tests/it/sklearn_parity.rs holds nabla to.

    pip install scikit-learn && python3 scripts/make_tabular.py

Classification: make_classification(n_samples=3000, n_features=20, n_informative=10,
n_classes=3, random_state=0), split 2400/600. Regression: make_regression(n_samples=3000,
n_features=10, noise=10, random_state=0) with a non-linear target, split 2400/600.
Both scikit-learn models are MLPs with hidden_layer_sizes=(64,) and every other parameter
at its default (adam, lr 1e-3, alpha 1e-4, batch 200, 200 epochs), random_state=0."""
import json, pathlib
import numpy as np
from sklearn.datasets import make_classification, make_regression
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.metrics import accuracy_score, r2_score, mean_squared_error

out = pathlib.Path(__file__).resolve().parent.parent / "data" / "examples"
out.mkdir(parents=True, exist_ok=True)

def write(name, x, y, target):
    with open(out / name, "w") as f:
        f.write(",".join([f"f{i}" for i in range(x.shape[1])] + [target]) + "\n")
        for row, t in zip(x, y):
            f.write(",".join(f"{v:.6f}" for v in row) + f",{t if isinstance(t, (int, np.integer)) else f'{t:.6f}'}\n")

x, y = make_classification(n_samples=3000, n_features=20, n_informative=10, n_redundant=5, n_classes=3, random_state=0)
write("tabular-classification-train.csv", x[:2400], y[:2400], "class")
write("tabular-classification-test.csv", x[2400:], y[2400:], "class")
clf = MLPClassifier(hidden_layer_sizes=(64,), random_state=0).fit(x[:2400], y[:2400])
accuracy = accuracy_score(y[2400:], clf.predict(x[2400:]))

x, y = make_regression(n_samples=3000, n_features=10, n_informative=8, noise=10.0, random_state=0)
y = np.tanh(y / 100.0) * 3.0 + 0.5 * np.sin(x[:, 0] * 2)  # non-linear, in a few units
write("tabular-regression-train.csv", x[:2400], y[:2400], "y")
write("tabular-regression-test.csv", x[2400:], y[2400:], "y")
reg = MLPRegressor(hidden_layer_sizes=(64,), random_state=0, max_iter=200).fit(x[:2400], y[:2400])
pred = reg.predict(x[2400:])
reference = {
    "sklearn_version": __import__("sklearn").__version__,
    "classification_test_accuracy": accuracy,
    "regression_test_r2": r2_score(y[2400:], pred),
    "regression_test_rmse": float(np.sqrt(mean_squared_error(y[2400:], pred))),
}
(out / "sklearn-reference.json").write_text(json.dumps(reference, indent=2) + "\n")
print(json.dumps(reference, indent=2))
