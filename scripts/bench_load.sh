#!/bin/bash
# Loading a big table (BENCHMARKS.md): nabla against pandas and polars, wall time and
# maximum resident set size from /usr/bin/time -v.
#
#   python3 scripts/make_big_table.py /tmp/big.csv
#   python3 -m venv /tmp/pdvenv && /tmp/pdvenv/bin/pip install pandas polars
#   bash scripts/bench_load.sh target/release/nabla /tmp/big.csv /tmp/pdvenv/bin/python
set -e
N=$1; F=$2; PY=${3:-python3}
m() { /usr/bin/time -v "$@" 2>&1 >/dev/null | grep -E "Elapsed|Maximum resident" | sed 's/^\s*//' | tr '\n' ' '; echo; }
echo "nabla train --epochs 1 --threads 1:"; m "$N" train --data "$F" --epochs 1 --quiet --threads 1
echo "pandas read_csv:"; m "$PY" -c "import pandas as pd; df = pd.read_csv('$F'); print(df.shape)"
echo "pandas import only:"; m "$PY" -c "import pandas as pd"
echo "polars read_csv:"; m "$PY" -c "import polars as pl; df = pl.read_csv('$F'); print(df.shape)"
echo "in-process load times (3 runs):"
for i in 1 2 3; do
    "$PY" -c "
import time, pandas as pd, polars as pl
t = time.perf_counter(); pd.read_csv('$F'); a = time.perf_counter() - t
t = time.perf_counter(); pl.read_csv('$F'); b = time.perf_counter() - t
print(f'pandas {a:.3f} s, polars {b:.3f} s', end='; ')"
    "$(dirname "$N")/examples/load_table" "$F" | tr '\n' ' '; echo
done
