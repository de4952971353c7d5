#!/usr/bin/env bash
# The Python package's tests, from a fresh machine: a venv under the repository (.venv-test,
# ignored by git), `pip install ./python` (maturin builds the extension with cargo into
# python/target, so later runs rebuild only what changed), then pytest on python/tests.
# Needs python3 (>= 3.9) with venv, cargo, and PyPI. Exits non-zero when anything fails.
#
# Usage: scripts/test-python.sh [PYTEST ARGS...]     (default: -q)
# NABLA_TEST_VENV=DIR picks another venv directory.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${NABLA_TEST_VENV:-.venv-test}
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
py="$venv/bin/python"
# onnx and onnxruntime: python/tests/test_onnx.py checks `nabla export --format onnx` with them.
# dask[distributed]: the GridSearchCV-on-a-LocalCluster test. PyTorch is not installed (its
# wheel pulls GBs of CUDA libraries): the to_torch tests skip, saying so, unless it is there.
# selenium: python/tests/test_playground.py drives Debian's chromium through chromedriver.
"$py" -m pip install --quiet --disable-pip-version-check ./python pytest scikit-learn pandas \
  onnx onnxruntime "dask[distributed]" selenium
[ $# -eq 0 ] && set -- -q
exec "$py" -m pytest -p no:cacheprovider python/tests "$@"
