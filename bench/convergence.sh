#!/bin/sh
# convergence.sh — time to convergence of the study's regression networks: runs
# `bnnmc sample --max-time` per data set and configuration and prints, per run, whether the
# test predictions converged (predictive R-hat max < 1.01 and bulk ESS >= 400), in how many
# seconds, R-hat max/median, ESS min, test RMSE of the posterior-mean prediction, 95%
# coverage. A benchmark, not a test: minutes per run; run it on a quiet machine.
# usage: [BNNMC=path] [SAMPLES=N] [SEED=S] bench/convergence.sh [DATA_DIR] [MAX_SECONDS] [DATASETS] [CONFIGS]
#   SAMPLES: the first round's iterations, half of them warm-up, later rounds adding half
#   as many each (default: the CLI's, for a network under nuts 200 warm-up + 200, rounds
#   of 100; for pt 2000). SEED: the runs' seed (default 1)
#   DATASETS: comma list of sunspot, abalone, mackey-glass (built in), iris, ionosphere
#   CONFIGS:  comma list of names below (default: all)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
data=${1:-$root/../shared/data}
max=${2:-600}
sets=${3:-sunspot,mackey-glass,abalone}
configs=${4:-default,depth10,depth12,depth14,dense,dense12,noise,noise12,map,pt}
first=${SAMPLES:-}
seed=${SEED:-1}
B=${BNNMC:-$root/build/bnnmc}
out=$(mktemp -d /tmp/bnnmc-convergence-XXXXXX)
trap 'rm -rf "$out"' EXIT

# configuration name -> sampler options (the study's network and priors throughout)
opts() {
    case $1 in
    default) echo "--sampler nuts" ;;   # a network under --max-time: depth 12 (13 from 1,200 rows)
    axes) echo "--sampler nuts --axes yes" ;;   # the centred level and the inputs' axes
    noaxes) echo "--sampler nuts --axes no" ;;   # the centred level alone (the default)
    nocenter) echo "--sampler nuts --center no --axes yes" ;;   # the inputs' axes alone (depth 13)
    plain) echo "--sampler nuts --center no --axes no" ;;   # the model's own coordinates (depth 13)
    single) echo "--sampler nuts --precision single" ;;   # the likelihood in single precision
    double) echo "--sampler nuts --precision double" ;;
    depth10) echo "--sampler nuts --max-depth 10" ;;
    depth11) echo "--sampler nuts --max-depth 11" ;;
    hmc) echo "--sampler hmc" ;;
    depth12) echo "--sampler nuts --max-depth 12" ;;
    depth13) echo "--sampler nuts --max-depth 13" ;;
    depth14) echo "--sampler nuts --max-depth 14" ;;
    dense) echo "--sampler nuts --metric dense" ;;
    dense12) echo "--sampler nuts --metric dense --max-depth 12" ;;
    noise) echo "--sampler nuts --noise-step gibbs" ;;
    noise12) echo "--sampler nuts --max-depth 12 --noise-step gibbs" ;;
    map) echo "--sampler nuts --init map" ;;
    map12) echo "--sampler nuts --max-depth 12 --init map" ;;
    pt) echo "--sampler pt --replicas 4 --t-max 20 --max-depth 10" ;;
    study) echo "--preset study" ;;
    *) echo "bench/convergence.sh: unknown configuration $1" >&2; exit 2 ;;
    esac
}

data_args() {
    case $1 in
    mackey-glass) echo "--dataset mackey-glass" ;;
    *) echo "--train $data/$1/train.txt --test $data/$1/test.txt" ;;
    esac
}

num() {   # num FILE BLOCK KEY: a number of metrics.json's BLOCK ("" for top level)
    if [ -n "$2" ]; then
        sed -n "/\"$2\":/,/}/p" "$1" | sed -n "s/.*\"$3\":[[:space:]]*\([-0-9.eE+a-z]*\).*/\1/p" | head -1
    else
        sed -n "s/^\t\"$3\":[[:space:]]*\([-0-9.eE+a-z]*\).*/\1/p" "$1" | head -1
    fi
}

printf '%-13s %-9s %5s %9s %8s %8s %7s %9s %6s %6s  %s\n' data config conv seconds rhat_max rhat_med ess_min rmse_mean cover rounds "sampler options"
for ds in $(echo "$sets" | tr ',' ' '); do
    for cf in $(echo "$configs" | tr ',' ' '); do
        o=$(opts "$cf")
        samples=${first:+--samples $first}
        case $cf in study) samples="" ;; esac
        dir="$out/$ds-$cf"
        # shellcheck disable=SC2086
        if ! "$B" sample $(data_args "$ds") $o $samples --chains 4 --seed "$seed" --max-time "$max" --quiet \
            --out "$dir" > "$dir.log" 2>&1; then
            echo "$ds $cf: failed: $(tail -1 "$dir.log")"
            continue
        fi
        m=$dir/metrics.json
        printf '%-13s %-9s %5s %9.1f %8.4f %8.4f %7.0f %9.5f %6.3f %6s  %s\n' "$ds" "$cf" \
            "$(num "$m" "" converged)" "$(num "$m" "" seconds_total)" "$(num "$m" test pred_rhat_max)" \
            "$(num "$m" test pred_rhat_median)" "$(num "$m" test pred_ess_bulk_min)" \
            "$(num "$m" test rmse_of_mean)" "$(num "$m" test coverage95)" "$(num "$m" "" rounds)" "$o"
    done
done
