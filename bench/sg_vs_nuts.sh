#!/bin/sh
# sg_vs_nuts.sh — how far the minibatch samplers (sgld, sghmc: APPROXIMATE) are from
# full-batch NUTS on a medium data set: Friedman's (1991) first function, 10 U(0,1) inputs,
# y = 10 sin(pi x1 x2) + 20 (x3 - 0.5)^2 + 10 x4 + 5 x5 + N(0, 1), scaled by (y + 6)/42 into
# (0, 1) for the network's sigmoid output; 20000 training rows and 2000 test rows, generated
# here (awk, fixed seeds). The model: bnnmc's network (10 sigmoid units, prior variance 25).
# Prints per method: test RMSE of the posterior-mean prediction, its mean and sd over draws,
# 95% interval coverage, test log predictive density per row, PSIS-LOO elpd of the training
# rows (`bnnmc loo`) with its SE and the rows with Pareto k > 0.7, draws, seconds.
# NUTS at 20000 rows is slow (a full gradient per leapfrog step): it runs NUTS_SAMPLES
# iterations (half warm-up) of 2 chains, once. A benchmark, not a test: minutes.
# usage: [BNNMC=path] [NUTS_SAMPLES=300] [SG_SAMPLES=40000] bench/sg_vs_nuts.sh [METHODS]
#   METHODS: comma list of sgld, sghmc, nuts (default all three)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
methods=${1:-sgld,sghmc,nuts}
B=${BNNMC:-$root/build/bnnmc}
nuts_samples=${NUTS_SAMPLES:-300}
sg_samples=${SG_SAMPLES:-40000}
out=${OUT:-$(mktemp -d /tmp/bnnmc-sg-vs-nuts-XXXXXX)}
mkdir -p "$out"

friedman1() {   # friedman1 ROWS SEED > FILE
    awk -v n="$1" -v seed="$2" 'BEGIN {
        srand(seed); pi = atan2(0, -1)
        print "x1,x2,x3,x4,x5,x6,x7,x8,x9,x10,y"
        for (i = 0; i < n; i++) {
            line = ""
            for (j = 1; j <= 10; j++) { x[j] = rand(); line = line sprintf("%.6f,", x[j]) }
            # Box-Muller: one N(0, 1) from two uniforms (1 - rand() is in (0, 1])
            e = sqrt(-2 * log(1 - rand())) * cos(2 * pi * rand())
            y = 10 * sin(pi * x[1] * x[2]) + 20 * (x[3] - 0.5)^2 + 10 * x[4] + 5 * x[5] + e
            print line sprintf("%.6f", (y + 6) / 42)
        }
    }'
}
[ -f "$out/train.csv" ] || friedman1 20000 1 >"$out/train.csv"
[ -f "$out/test.csv" ] || friedman1 2000 2 >"$out/test.csv"

num() {   # num FILE BLOCK KEY: a number of a JSON file's BLOCK ("" for top level)
    if [ -n "$2" ]; then
        sed -n "/\"$2\":/,/}/p" "$1" | sed -n "s/.*\"$3\":[[:space:]]*\([-0-9.eE+a-z]*\).*/\1/p" | head -1
    else
        sed -n "s/^\t\"$3\":[[:space:]]*\([-0-9.eE+a-z]*\).*/\1/p" "$1" | head -1
    fi
}
k_high() {   # rows with Pareto k > 0.7 in a `bnnmc loo --json` file
    tr -d ' \t\n' <"$1" | sed -n 's/.*"pareto_k":\[\([^]]*\)\].*/\1/p' | tr ',' '\n' |
        awk '$1 > 0.7 || $1 == "null" { c++ } END { print c + 0 }'
}

echo "friedman1: 20000 training rows, 2000 test rows; network 10 sigmoid units; data in $out"
printf '%-6s %9s %9s %8s %6s %7s %10s %7s %5s %6s %8s  %s\n' method of_mean draws_mean \
    draws_sd cover lpd elpd_loo se 'k>0.7' draws seconds settings
args="--train $out/train.csv --test $out/test.csv --seed 1 --quiet --force --checkpoint-every 0"
for method in $(echo "$methods" | tr ',' ' '); do
    dir="$out/$method"
    case $method in
    nuts) set -- --sampler nuts --samples "$nuts_samples" --chains 2 --threads 2 ;;
    # 1000 kept draws (4 x 250): the LOO matrix of 20000 rows stays at 160 MB
    *) set -- --sampler "$method" --batch 100 --samples "$sg_samples" --burn-in 0.5 \
           --thin $((sg_samples / 2 / 250)) --chains 4 --threads 2 ;;
    esac
    settings="$*"
    t0=$(date +%s.%N)
    # shellcheck disable=SC2086
    if ! "$B" sample $args "$@" --out "$dir" >"$dir.log" 2>&1; then
        echo "$method: failed: $(tail -1 "$dir.log")"
        continue
    fi
    t1=$(date +%s.%N)
    if ! "$B" loo "$dir" --json >"$dir.loo" 2>>"$dir.log"; then
        echo "$method: loo failed: $(tail -1 "$dir.log")"
        continue
    fi
    m=$dir/metrics.json
    printf '%-6s %9.5f %9.5f %8.5f %6.3f %7.3f %10.1f %7.1f %5s %6s %8.1f  %s\n' "$method" \
        "$(num "$m" test rmse_of_mean)" "$(num "$m" test rmse_mean)" "$(num "$m" test rmse_std)" \
        "$(num "$m" test coverage95)" "$(num "$m" test lpd)" \
        "$(num "$dir.loo" "" elpd_loo)" "$(num "$dir.loo" "" se_elpd_loo)" "$(k_high "$dir.loo")" \
        "$(($(num "$m" "" chains) * $(num "$m" "" draws_per_chain)))" \
        "$(echo "$t1 - $t0" | bc)" "$settings"
done
