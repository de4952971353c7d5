"""Writes data/examples/diabetes-{train,test}.csv from scikit-learn's diabetes data.

The data (442 patients, 10 baseline variables, a measure of disease progression a year
later) is Efron et al.'s, bundled with scikit-learn (BSD-3-Clause). The raw, unscaled
features are written; every fifth patient goes to the test file.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install scikit-learn
    /tmp/venv/bin/python scripts/make_diabetes.py
"""

from pathlib import Path

from sklearn.datasets import load_diabetes

out = Path(__file__).resolve().parent.parent / "data" / "examples"
data = load_diabetes(scaled=False)
names = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]
header = ",".join(names + ["progression"]) + "\n"
train, test = [header], [header]
for i, (x, y) in enumerate(zip(data.data, data.target)):
    row = ",".join(f"{v:g}" for v in x) + f",{y:g}\n"
    (test if i % 5 == 4 else train).append(row)
(out / "diabetes-train.csv").write_text("".join(train))
(out / "diabetes-test.csv").write_text("".join(test))
print(f"{len(train) - 1} train, {len(test) - 1} test rows")
