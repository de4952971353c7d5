#!/usr/bin/env python3
"""Writes data/examples/moons-{train,test}.csv: two interleaved half-moons with noise,
labels 'upper' and 'lower'. Pure standard library; fixed seed, so the files are reproducible."""
import math, random, pathlib

def moons(n, rng):
    rows = []
    for i in range(n):
        t = rng.uniform(0, math.pi)
        if i % 2 == 0:
            x, y, label = math.cos(t), math.sin(t), "upper"
        else:
            x, y, label = 1 - math.cos(t), 0.5 - math.sin(t), "lower"
        rows.append((x + rng.gauss(0, 0.15), y + rng.gauss(0, 0.15), label))
    return rows

rng = random.Random(7)
out = pathlib.Path(__file__).resolve().parent.parent / "data" / "examples"
out.mkdir(parents=True, exist_ok=True)
for name, n in (("moons-train.csv", 600), ("moons-test.csv", 200)):
    with open(out / name, "w") as f:
        f.write("x0,x1,label\n")
        for x, y, label in moons(n, rng):
            f.write(f"{x:.4f},{y:.4f},{label}\n")
