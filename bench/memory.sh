#!/bin/sh
# memory.sh — peak resident memory (GNU time's maximum RSS) of real runs beside bnnmc's own
# estimate (metrics.json's memory block) and the thinning it chose: the study's table (four
# data sets, linear model and network, --preset study, 5 chains x 10000 iterations, as
# bench/study_table.sh runs them) under the default --max-memory 2G, then a friedman1 run
# of 10^6 training rows under the default and under --max-memory 512M.
#
# usage: bench/memory.sh [DATA_DIR] [BNNMC]   (defaults ../shared/data, build/bnnmc)
# Needs /usr/bin/time (apt-get install time) and jq. Takes about 25 minutes (most of it
# the network on 10^6 rows); MEMORY_SKIP_STUDY=1 or MEMORY_SKIP_NN=1 leave parts out.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
DATA=${1:-$here/../shared/data}
B=${2:-$here/build/bnnmc}
OUT=$(mktemp -d /tmp/bnnmc-memory-XXXXXX)
trap 'rm -rf "$OUT"' EXIT
[ -x /usr/bin/time ] || { echo "memory.sh needs GNU time (apt-get install time)" >&2; exit 2; }
command -v jq >/dev/null || { echo "memory.sh needs jq (apt-get install jq)" >&2; exit 2; }

printf '%-34s %9s %9s %9s %6s %10s %8s\n' run limit "peak RSS" estimate thin "pred draws" seconds
# run NAME LIMIT sample-options...: one line of the table
run() {
    name=$1 lim=$2
    shift 2
    /usr/bin/time -f '%M %e' -o "$OUT/time" "$B" sample "$@" --max-memory "$lim" --quiet \
        --out "$OUT/$name" 2>"$OUT/err" || { echo "$name: $(tail -1 "$OUT/err")"; return; }
    set -- $(cat "$OUT/time")
    m="$OUT/$name/metrics.json"
    printf '%-34s %9s %6.0f MB %6.0f MB %6s %10s %8s\n' "$name" "$lim" "$(echo "$1 / 1024" | bc -l)" \
        "$(jq '.memory.estimate_bytes / 1048576' "$m")" "$(jq .memory.pred_thin "$m")" \
        "$(jq '.memory.pred_draws_per_chain * .chains' "$m")" "$2"
    rm -rf "$OUT/$name"
}

if [ "${MEMORY_SKIP_STUDY:-0}" != 1 ]; then
    for model in linear nn; do
        for d in sunspot abalone iris ionosphere; do
            run "$model $d (study)" 2G --preset study --train "$DATA/$d/train.txt" \
                --test "$DATA/$d/test.txt" --model $model --chains 5 --samples 10000 --burn-in 0.5
        done
    done
fi

# friedman1, 10^6 training rows and 1000 test rows. The linear model (nuts, 2 chains of
# 1000 iterations: 1000 stored predictive draws of 10^6 rows are 4 GB kept whole) under
# 2G and 512M; the study's network (langevin, 2 chains of 400 iterations, 1.6 GB kept
# whole) under 2G and 512M, which refuses it (its chains' work arrays alone: 473 MB)
run "linear friedman1:1000000" 2G --dataset friedman1:1000000 --model linear --output identity --chains 2 --samples 1000
run "linear friedman1:1000000" 512M --dataset friedman1:1000000 --model linear --output identity --chains 2 --samples 1000
if [ "${MEMORY_SKIP_NN:-0}" != 1 ]; then
    run "nn friedman1:1000000" 2G --dataset friedman1:1000000 --preset study --chains 2 --samples 400
fi
run "nn friedman1:1000000" 512M --dataset friedman1:1000000 --preset study --chains 2 --samples 400
echo "(peak RSS by GNU time; the estimate is bnnmc's before sampling, at the draws kept)"
