#!/usr/bin/env bash
# nabla against its CPU peers (numpy, JAX, PyTorch, scikit-learn) on the workloads W1-W4 of
# ../shared/bench, measured in the same run on this machine, and printed as ratios.
#
# Usage: scripts/compare.sh [THREADS...]          (default: 1 2; "all": every program's
#                                                   own default, all cores, nothing pinned)
# Env:   WORKLOADS=W1,W2,W3,W4   EPOCHS=5 (nabla's timed epochs)
#        ONLY="numpy jax torch sklearn"   (peers to try; those not installed are skipped)
#        JAX_VARIANTS=jax,jax-scan  TORCH_VARIANTS=torch  SKLEARN_VARIANTS=sklearn
#        PY=/tmp/peers-venv/bin/python   PEERS_DIR=../shared/bench
#        QUICK=1 (peers: warm-up + 3 timed epochs, no accuracy runs; QUICK=0 for the full runs)
#        OUT=DIR (keep the JSON files there; default: a temporary folder)
# Peers are optional: with none installed, only nabla's numbers are printed.
# Setup of the peers (once): see ../shared/bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
THREADS=${*:-1 2}
WORKLOADS=${WORKLOADS:-W1,W2,W3,W4}
EPOCHS=${EPOCHS:-5}
ONLY=${ONLY:-"numpy jax torch sklearn"}
PY=${PY:-/tmp/peers-venv/bin/python}
PEERS_DIR=$(cd "${PEERS_DIR:-$ROOT/../shared/bench}" 2>/dev/null && pwd || true)
QUICK=${QUICK:-1}
OUT=${OUT:-$(mktemp -d /tmp/nabla-compare.XXXXXX)}
mkdir -p "$OUT/peers"
export JAX_VARIANTS=${JAX_VARIANTS:-jax,jax-scan}
export TORCH_VARIANTS=${TORCH_VARIANTS:-torch}
export SKLEARN_VARIANTS=${SKLEARN_VARIANTS:-sklearn}
export PEERS_RESULTS_DIR=$OUT/peers
export PEERS_MAX_QUIET_WAIT=${PEERS_MAX_QUIET_WAIT:-30}

cargo build --release --quiet
NABLA=$ROOT/target/release/nabla

# pin THREADS CMD...: the same pinning as ../shared/bench/run_peers.sh (1 thread: core 0).
pin() {
  local t=$1; shift
  # "all": every program with its own defaults (nabla: all cores; peers: as many threads as
  # cores), nothing pinned, no thread variables set.
  if [ "$t" = all ]; then
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE PEER_THREADS="$(nproc)" "$@"
    return
  fi
  local cores=0,1
  [ "$t" = 1 ] && cores=0
  if command -v taskset > /dev/null; then
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS="$t" OPENBLAS_NUM_THREADS="$t" \
      MKL_NUM_THREADS="$t" PEER_THREADS="$t" taskset -c "$cores" "$@"
  else
    env OMP_NUM_THREADS="$t" OPENBLAS_NUM_THREADS="$t" MKL_NUM_THREADS="$t" PEER_THREADS="$t" "$@"
  fi
}

# One workload at a time, nabla first and then every peer on the same workload, so that the
# host's slow and quick phases (minutes long on a shared machine) hit nabla and its peers alike.
for t in $THREADS; do
  for w in ${WORKLOADS//,/ }; do
    echo "== $w, $t thread(s): nabla" >&2
    threads_flag=(--threads "$t")
    [ "$t" = all ] && threads_flag=()
    pin "$t" "$NABLA" bench --json "${threads_flag[@]}" --workloads "$w" --epochs "$EPOCHS" \
      --quiet-wait "$PEERS_MAX_QUIET_WAIT" \
      > "$OUT/nabla_t${t}_$w.json"
    if [ -z "$PEERS_DIR" ] || [ ! -x "$PY" ]; then
      continue
    fi
    for peer in $ONLY; do
      case $peer in
        numpy) module=numpy ;; jax) module=jax ;; torch) module=torch ;; sklearn) module=sklearn ;;
        *) echo "unknown peer $peer" >&2; continue ;;
      esac
      if ! "$PY" -c "import $module" 2> /dev/null; then
        echo "   $peer: not installed in $PY, skipped" >&2
        continue
      fi
      echo "== $w, $t thread(s): $peer" >&2
      quick=()
      [ "$QUICK" = 1 ] && quick=(--quick)
      peer_threads=$t
      [ "$t" = all ] && peer_threads=$(nproc)
      (cd "$PEERS_DIR" && pin "$t" "$PY" "peer_$peer.py" --threads "$peer_threads" --workloads "$w" \
        "${quick[@]}") > "$OUT/peers/${peer}_${w}_t$t.log" 2>&1 ||
        echo "   $peer failed (see $OUT/peers/${peer}_${w}_t$t.log)" >&2
    done
  done
done

NPROC=$(nproc) python3 - "$OUT" $THREADS << 'EOF'
import glob, json, os, sys
out, threads = sys.argv[1], sys.argv[2:]
def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None
rows = []
for t in threads:
    results = []
    for path in sorted(glob.glob(os.path.join(out, f"nabla_t{t}_*.json"))):
        nabla = load(path)
        if nabla:
            results += nabla["results"]
    for r in results:
        w = r["workload"]
        metrics = ([("batch 2000 ms", "batch_full_s_median", 1e3), ("batch 1 us", "batch1_latency_us_median", 1)]
                   if w == "W4" else [("s/epoch", "epoch_s_median", 1)])
        for label, key, scale in metrics:
            mine = r[key] * scale
            rows.append((w, t, label, "nabla", mine, 1.0))
            peer_t = os.environ["NPROC"] if t == "all" else t
            for path in sorted(glob.glob(os.path.join(out, "peers", f"*_{w}_t{peer_t}*.json"))):
                p = load(path)
                if not p or key not in p or p[key] is None:
                    continue
                theirs = p[key] * scale
                rows.append((w, t, label, p.get("peer", os.path.basename(path)), theirs, theirs / mine))
print(f"{'work':<5}{'thr':>4}  {'metric':<14}{'who':<15}{'value':>12}{'peer/nabla':>12}")
for w, t, label, who, v, ratio in rows:
    print(f"{w:<5}{t:>4}  {label:<14}{who:<15}{v:>12.4f}{ratio:>11.2f}x")
print(f"\n(peer/nabla > 1: nabla is faster by that factor.) JSON files: {out}")
EOF
