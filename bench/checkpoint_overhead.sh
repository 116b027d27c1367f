#!/bin/sh
# checkpoint_overhead.sh — what checkpoints cost: the study's network on a data set, NUTS,
# 4 chains, run with checkpoints every S seconds for S in the list, and once without; prints
# each run's sampling seconds, checkpoints made, the seconds they took (measured inside the
# run: serialising, writing, fsync) and their share of the chains' time. A benchmark, not a
# test: run it on a quiet machine.
# usage: [BNNMC=path] bench/checkpoint_overhead.sh [DATA_DIR] [SET] [SAMPLES] [INTERVALS]
#   SET: sunspot (default), abalone, ...; SAMPLES: iterations per chain (default 2000);
#   INTERVALS: comma list of seconds (default 60,10,1)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
data=${1:-$root/../shared/data}
set=${2:-sunspot}
samples=${3:-2000}
intervals=${4:-60,10,1}
B=${BNNMC:-$root/build/bnnmc}
out=$(mktemp -d /tmp/bnnmc-ckpt-XXXXXX)
trap 'rm -rf "$out"' EXIT
num() { sed -n "/\"$2\":/,/}/p" "$1" | sed -n "s/.*\"$3\":[[:space:]]*\([-0-9.eE+]*\).*/\1/p" | head -1; }
top() { sed -n "s/^\t\"$2\":[[:space:]]*\([-0-9.eE+]*\).*/\1/p" "$1" | head -1; }
printf '%-6s %-10s %12s %11s %12s %12s %10s\n' data every_s sampling_s checkpoints ckpt_seconds share_pct size_MB
for every in 0 $(echo "$intervals" | tr ',' ' '); do
    dir="$out/run-$every"
    "$B" sample --train "$data/$set/train.txt" --test "$data/$set/test.txt" --samples "$samples" --chains 4 \
        --checkpoint-every "$every" --quiet --out "$dir" 2>/dev/null
    m=$dir/metrics.json
    if [ "$every" = 0 ]; then
        printf '%-6s %-10s %12.1f %11s %12s %12s %10s\n' "$set" none "$(top "$m" seconds_sampling)" - - - -
    else
        size=$(du -sm "$dir/checkpoint" | cut -f1)
        printf '%-6s %-10s %12.1f %11.0f %12.3f %12.4f %10s\n' "$set" "$every" "$(top "$m" seconds_sampling)" \
            "$(num "$m" checkpoints count)" "$(num "$m" checkpoints seconds)" \
            "$(echo "$(num "$m" checkpoints share_of_chain_time)" | awk '{ printf "%.4f", 100 * $1 }')" "$size"
    fi
done
