#!/usr/bin/env python3
"""Writes the big-table benchmark file (BENCHMARKS.md, "Loading a big table"): 1,000,000
rows of 20 numeric features and an integer class label, 21 numeric columns, about 172 MB.

    python3 scripts/make_big_table.py /tmp/big.csv

Features are N(0, 1) with 5 decimals; the label (0, 1 or 2) is the sign pattern of
f0 + f1 and f2. Standard library only (about a minute)."""
import random, sys

path = sys.argv[1] if len(sys.argv) > 1 else "big.csv"
rng = random.Random(7)
with open(path, "w") as f:
    f.write(",".join([f"f{i}" for i in range(20)] + ["class"]) + "\n")
    lines = []
    for i in range(1_000_000):
        x = [rng.gauss(0.0, 1.0) for _ in range(20)]
        label = 0 if x[0] + x[1] < 0 else (1 if x[2] < 0 else 2)
        lines.append(",".join(f"{v:.5f}" for v in x) + f",{label}\n")
        if len(lines) == 10_000:
            f.writelines(lines)
            lines = []
    f.writelines(lines)
