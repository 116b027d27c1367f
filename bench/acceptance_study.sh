#!/bin/sh
# acceptance_study.sh — the study's two open questions, with data: which sampler, and which
# acceptance rate to aim for, for the network on the four data sets, at equal wall time.
#
# For each data set and sampler configuration, a short run measures the iteration rate;
# then a run of 4 chains gets as many iterations (half burn-in) as fit in SECONDS of
# sampling, its kept draws thinned to at most 2000 per chain. Printed: test metric (RMSE or accuracy, mean over draws), acceptance, the
# smallest bulk ESS over the test predictions per second, and the predictive R-hat
# (max and median) — for a network the diagnostics that mean something.
#
# usage: bench/acceptance_study.sh [DATA_DIR] [SECONDS]   (defaults ../shared/data, 20)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
DATA=${1:-$here/../shared/data}
SECS=${2:-20}
B=$here/build/bnnmc
OUT=$(mktemp -d /tmp/bnnmc-accept-XXXXXX)
trap 'rm -rf "$OUT"' EXIT
command -v jq >/dev/null || { echo "needs jq" >&2; exit 2; }

configs="rw langevin mala:0.25 mala:0.574 mala:0.8 hmc:0.8 nuts:0.6 nuts:0.8 nuts:0.95"
printf '%-11s %-11s %8s %12s %7s %10s %9s %9s\n' data sampler iters "test metric" accept "pESS/s" "pR^ max" "pR^ med"
for d in sunspot abalone iris ionosphere; do
    for cfg in $configs; do
        s=${cfg%%:*}
        ta=""
        [ "$cfg" != "$s" ] && ta="--target-accept ${cfg#*:}"
        common="--train $DATA/$d/train.txt --test $DATA/$d/test.txt --sampler $s $ta --chains 4 --threads 2 --quiet --force"
        # shellcheck disable=SC2086
        "$B" sample $common --samples 200 --burn-in 100 --out "$OUT/cal" 2>/dev/null
        rate=$(jq '.chains * .draws_per_chain * 2 / .seconds_sampling' "$OUT/cal/metrics.json")
        # rate counts every chain's iterations on 2 threads: iterations per chain that fill
        # SECS of sampling; kept draws thinned to at most 2000 per chain, so that the
        # predictions and diagnostics stay cheap (thinning lowers no ESS that matters here)
        n=$(echo "$rate * $SECS / 4" | bc -l | awk '{ n = int($1); if (n < 200) n = 200; print n }')
        thin=$(( n / 2 / 2000 + 1 ))
        # shellcheck disable=SC2086
        "$B" sample $common --samples "$n" --thin "$thin" --out "$OUT/run" 2>/dev/null
        m="$OUT/run/metrics.json"
        printf '%-11s %-11s %8s %12s %7s %10s %9s %9s\n' "$d" "$cfg" "$n" \
            "$(jq -r '.test | (.rmse_mean // .accuracy_mean) * 10000 | round / 10000' "$m")" \
            "$(jq -r '[.acceptance[]] | add / length * 100 | round / 100' "$m")" \
            "$(jq -r '.test.pred_ess_bulk_min / .seconds_sampling * 100 | round / 100' "$m")" \
            "$(jq -r '.test.pred_rhat_max * 1000 | round / 1000' "$m")" \
            "$(jq -r '.test.pred_rhat_median * 1000 | round / 1000' "$m")"
    done
done
