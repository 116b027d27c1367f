#!/bin/sh
# study_table.sh — reproduces the table of Chandra & Simmons (2024) with the study's
# settings: linear model and network on sunspot, abalone, iris, ionosphere, 5 chains x
# 10000 iterations, 50% burn-in. Prints our train/test metric (mean and std over kept
# draws), acceptance and seconds beside the published numbers, then the total wall time.
#
# usage: bench/study_table.sh [DATA_DIR] [BNNMC]   (defaults ../shared/data, build/bnnmc)
# Extra sample options may be passed in BNNMC_OPTS (for example "--samples 2000").
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
DATA=${1:-$here/../shared/data}
B=${2:-$here/build/bnnmc}
OUT=$(mktemp -d /tmp/bnnmc-study-XXXXXX)
trap 'rm -rf "$OUT"' EXIT
command -v jq >/dev/null || { echo "study_table.sh needs jq (apt-get install jq)" >&2; exit 2; }
[ -x "$B" ] || { echo "no $B: run 'make' first" >&2; exit 2; }

# published: model data train(std) test(std)   (Chandra & Simmons 2024; ../shared/data/README.md)
published() {
    case "$1/$2" in
    linear/sunspot) echo "0.025 (0.013)|0.022 (0.012)" ;;
    linear/abalone) echo "0.085 (0.007)|0.086 (0.007)" ;;
    linear/iris) echo "90.39 (2.83)|90.84 (3.04)" ;;
    linear/ionosphere) echo "89.06 (1.34)|85.32 (2.39)" ;;
    nn/sunspot) echo "0.027 (0.005)|0.026 (0.005)" ;;
    nn/abalone) echo "0.080 (0.002)|0.080 (0.002)" ;;
    nn/iris) echo "97.38 (0.66)|98.12 (1.66)" ;;
    nn/ionosphere) echo "99.63 (0.36)|92.67 (1.89)" ;;
    esac
}

printf '%-7s %-11s %-18s %-18s %-16s %-16s %-6s %7s\n' model data "train (ours)" "test (ours)" \
    "train (study)" "test (study)" accept seconds
t0=$(date +%s.%N)
for model in linear nn; do
    for d in sunspot abalone iris ionosphere; do
        s0=$(date +%s.%N)
        # shellcheck disable=SC2086
        "$B" sample --preset study --train "$DATA/$d/train.txt" --test "$DATA/$d/test.txt" --model $model \
            --chains 5 --samples 10000 --burn-in 0.5 --quiet --out "$OUT/$model-$d" ${BNNMC_OPTS:-} 2>/dev/null
        s1=$(date +%s.%N)
        m="$OUT/$model-$d/metrics.json"
        if [ "$(jq -r .task "$m")" = regression ]; then
            fmt='"\(.train.rmse_mean*10000|round/10000) (\(.train.rmse_std*10000|round/10000))|\(.test.rmse_mean*10000|round/10000) (\(.test.rmse_std*10000|round/10000))"'
        else
            fmt='"\(.train.accuracy_mean*100|round/100) (\(.train.accuracy_std*100|round/100))|\(.test.accuracy_mean*100|round/100) (\(.test.accuracy_std*100|round/100))"'
        fi
        ours=$(jq -r "$fmt" "$m")
        acc=$(jq -r '[.acceptance[]] | add / length * 1000 | round / 1000' "$m")
        pub=$(published $model $d)
        printf '%-7s %-11s %-18s %-18s %-16s %-16s %-6s %7.2f\n' $model $d \
            "${ours%%|*}" "${ours##*|}" "${pub%%|*}" "${pub##*|}" "$acc" \
            "$(echo "$s1 - $s0" | bc)"
    done
done
t1=$(date +%s.%N)
printf 'total wall time: %.1f s (the study'"'"'s Python: about 97 minutes on one core)\n' "$(echo "$t1 - $t0" | bc)"

# convergence at the study's settings: parameters (summary.csv) and test predictions
printf '\n%-7s %-11s %10s %10s %10s %12s %12s %13s %10s\n' model data "max rhat" "mean GR" \
    "study GR" "pred rhat max" "pred median" "pred >1.01" "min ESS"
for model in linear nn; do
    for d in sunspot abalone iris ionosphere; do
        r="$OUT/$model-$d"
        par=$(awk -F, 'NR > 2 { if ($10 > mx) mx = $10; gr += $11; n++; if (min == "" || $8 < min) min = $8 }
            END { printf "%.2f %.2f %.0f", mx, gr / n, min }' "$r/summary.csv")
        pred=$(jq -r '.test | "\(.pred_rhat_max*100|round/100) \(.pred_rhat_median*1000|round/1000) \(.pred_rhat_share_above_1_01*100|round)%"' "$r/metrics.json")
        case "$model/$d" in
        linear/sunspot) gr=57.2 ;; linear/abalone) gr=11.4 ;; linear/iris) gr=4.4 ;; linear/ionosphere) gr=2.7 ;;
        nn/sunspot) gr=189 ;; nn/abalone) gr=265 ;; nn/iris) gr=36.9 ;; nn/ionosphere) gr=24.9 ;;
        esac
        set -- $par $pred
        printf '%-7s %-11s %10s %10s %10s %12s %12s %13s %10s\n' $model $d "$1" "$2" "$gr" "$4" "$5" "$6" "$3"
    done
done
