#!/bin/sh
# vi_vs_mcmc.sh — the study's question, "how does variational inference compare with MCMC on
# these networks?", on its four data sets and its network (10 sigmoid units, prior variance
# 25, nu1 = nu2 = 0): ADVI mean-field and full-rank (`bnnmc variational`, CmdStan's defaults)
# against NUTS run until its test predictions converge or MAX_SECONDS pass
# (`bnnmc sample --max-time`). Prints per data set and method: test metric of the
# posterior-mean prediction (RMSE or accuracy %), mean and std over draws, 95% interval
# coverage (regression), test log predictive density per row, PSIS-LOO elpd (with its SE and
# the rows with Pareto k > 0.7), seconds, and whether NUTS converged / ADVI's ELBO met its
# tolerance. Columns: of_mean the metric of the posterior-mean prediction, draws_mean and
# draws_sd its mean and std over draws. A benchmark, not a test: minutes; on a quiet machine.
# usage: [BNNMC=path] [SEED=S] bench/vi_vs_mcmc.sh [DATA_DIR] [MAX_SECONDS] [DATASETS]
#   MAX_SECONDS: NUTS's --max-time (default 300); DATASETS: comma list of sunspot, abalone,
#   iris, ionosphere (default all four)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
data=${1:-$root/../shared/data}
max=${2:-300}
sets=${3:-sunspot,abalone,iris,ionosphere}
seed=${SEED:-1}
B=${BNNMC:-$root/build/bnnmc}
out=$(mktemp -d /tmp/bnnmc-vi-vs-mcmc-XXXXXX)
trap 'rm -rf "$out"' EXIT

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

printf '%-10s %-9s %9s %9s %8s %6s %7s %9s %7s %5s %8s %s\n' data method of_mean \
    draws_mean draws_sd cover lpd elpd_loo se 'k>0.7' seconds converged
for ds in $(echo "$sets" | tr ',' ' '); do
    args="--train $data/$ds/train.txt --test $data/$ds/test.txt --seed $seed --quiet"
    for method in nuts meanfield fullrank; do
        dir="$out/$ds-$method"
        if [ "$method" = nuts ]; then
            # shellcheck disable=SC2086
            set -- "$B" sample $args --chains 4 --max-time "$max" --out "$dir"
        else
            # shellcheck disable=SC2086
            set -- "$B" variational $args --algorithm "$method" --out "$dir"
        fi
        if ! "$@" >"$dir.log" 2>&1; then
            echo "$ds $method: failed: $(tail -1 "$dir.log")"
            continue
        fi
        m=$dir/metrics.json
        if ! "$B" loo "$dir" --json >"$dir.loo" 2>>"$dir.log"; then
            echo "$ds $method: loo failed: $(tail -1 "$dir.log")"
            continue
        fi
        if grep -q '"task":[[:space:]]*"classification"' "$m"; then
            mean=$(num "$m" test accuracy_of_mean)
            draws=$(num "$m" test accuracy_mean)
            sd=$(num "$m" test accuracy_std)
            cover=-
        else
            mean=$(num "$m" test rmse_of_mean)
            draws=$(num "$m" test rmse_mean)
            sd=$(num "$m" test rmse_std)
            cover=$(printf '%.3f' "$(num "$m" test coverage95)")
        fi
        printf '%-10s %-9s %9.4f %9.4f %8.4f %6s %7.3f %9.1f %7.1f %5s %8.1f %s\n' "$ds" "$method" \
            "$mean" "$draws" "$sd" "$cover" "$(num "$m" test lpd)" "$(num "$dir.loo" "" elpd_loo)" \
            "$(num "$dir.loo" "" se_elpd_loo)" "$(k_high "$dir.loo")" \
            "$(num "$m" "" seconds_total)" "$(num "$m" "" converged)"
    done
done
