#!/usr/bin/env bash
# Every test of the repository, from a fresh machine: the Rust library and command line
# (`cargo test --release`), then the Python package (scripts/test-python.sh: a venv in
# .venv-test, `pip install ./python`, pytest on python/tests, which also checks exported
# ONNX models with onnxruntime through the `nabla` binary built here).
#
# Usage: scripts/test.sh            Exits non-zero when anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release
cargo build --release --quiet
NABLA_BIN="$PWD/target/release/nabla" scripts/test-python.sh
