#!/usr/bin/env bash
# Two or more builds of nabla, run alternately on one workload, so that every build sees the
# same phases of a noisy host; prints each build's best and all its values, sorted.
# This is how the changes in BENCHMARKS.md were decided (best round, 4-6 rounds).
#
# Usage: scripts/alternate.sh ROUNDS WORKLOAD THREADS BINARY...
#   e.g. cp target/release/nabla /tmp/nabla_old; (change, build)
#        scripts/alternate.sh 5 W3 1 /tmp/nabla_old target/release/nabla
# Training workloads report seconds per epoch (2 timed epochs); W4 reports the batch-2000
# time in ms and the batch-1 latency in µs.
set -euo pipefail
rounds=$1 workload=$2 threads=$3
shift 3
cores=0
[ "$threads" != 1 ] && cores=0-$((threads - 1))
for _ in $(seq "$rounds"); do
  for binary in "$@"; do
    out=$(taskset -c "$cores" "$binary" bench --workloads "$workload" --epochs 2 \
      --threads "$threads" 2> /dev/null | grep -E "^$workload")
    if [ "$workload" = W4 ]; then
      echo "$binary $(echo "$out" | head -1 | awk '{print $4}')/$(echo "$out" | tail -1 | awk '{print $4}')"
    else
      echo "$binary $(echo "$out" | awk '{print $5}')"
    fi
  done
done | sort -k1,1 -k2,2g | awk '
  { all[$1] = all[$1] " " $2; if (!($1 in best)) best[$1] = $2 }
  END { for (b in best) print b, "best", best[b], "all", all[b] }'
