#!/usr/bin/env python3
"""Writes data/examples/messy.csv and data/examples/messy-new.csv: a table as other tools
leave them, for README "Your own table" and tests/it/tables.rs.

    python3 scripts/make_messy.py

- a first column without a name (the index that pandas' df.to_csv() writes),
- an ID column (customer_id) and a free-text column (note): to leave out with --ignore,
- two categorical text columns (plan, region), one-hot encoded by nabla,
- numeric columns with missing values spelled '', NA, N/A, NaN, null and ?,
- the label (churned: yes/no), missing on a few rows.

messy-new.csv has the same columns without the label, and one row with a region that
messy.csv never has ("north-east"), for --unknown-category. Standard library only."""
import csv, math, pathlib, random

out = pathlib.Path(__file__).resolve().parent.parent / "data" / "examples"
rng = random.Random(14)
PLANS = ["basic", "plus", "pro"]
REGIONS = ["north", "south", "east", "west"]
WORDS = ["called", "twice", "about", "billing", "happy", "with", "support", "asked", "for",
         "a", "discount", "moved", "house", "new", "phone", "late", "payment", "no", "issues"]
MISSING = ["", "NA", "N/A", "NaN", "null", "?"]


def row(i, region=None):
    plan = rng.choice(PLANS)
    region = region or rng.choice(REGIONS)
    age = rng.randint(18, 80)
    income = round(rng.lognormvariate(10.5, 0.4), 2)
    visits = rng.randint(0, 30)
    # Churn: few visits, the basic plan and the south make it likelier.
    z = 1.5 - 0.18 * visits + {"basic": 1.2, "plus": 0.0, "pro": -1.2}[plan] \
        + (0.8 if region == "south" else 0.0) + 0.01 * (age - 45)
    churned = "yes" if rng.random() < 1 / (1 + math.exp(-z)) else "no"
    note = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 7)))
    if rng.random() < 0.3:
        note = note.replace(" ", ", ", 1)  # a comma: the field is quoted
    cells = {"customer_id": f"C{10000 + i}", "plan": plan, "region": region, "age": age,
             "income": income, "visits": visits, "note": note, "churned": churned}
    for key in ["age", "income", "visits"]:
        if rng.random() < 0.06:
            cells[key] = rng.choice(MISSING)
    if rng.random() < 0.03:
        cells["churned"] = rng.choice(["", "NA"])
    return cells


def write(name, rows, columns):
    with open(out / name, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow([""] + columns)
        for i, r in enumerate(rows):
            w.writerow([i] + [r[c] for c in columns])


columns = ["customer_id", "plan", "region", "age", "income", "visits", "note", "churned"]
write("messy.csv", [row(i) for i in range(400)], columns)
new = [row(1000 + i) for i in range(5)] + [row(1005, region="north-east")]
write("messy-new.csv", new, columns[:-1])
