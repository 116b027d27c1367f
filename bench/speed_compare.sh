#!/bin/sh
# speed_compare.sh — two binaries side by side on the study table's eight runs
# (bench/study_table.sh's settings), the two taking turns run by run so that both see the
# same load. Per run and for the whole table: median over REPEATS of the wall seconds, the
# CPU seconds (user + system) and the post-processing seconds (metrics.json's seconds_total
# less seconds_sampling: chain files, predictions with their diagnostics, summary).
#
# usage: bench/speed_compare.sh REF_BNNMC NEW_BNNMC [DATA_DIR] [REPEATS]   (REPEATS 3)
# Extra sample options in BNNMC_OPTS. Whether the outputs agree: scripts/compare_runs.sh.
set -eu
A=${1:-}
B=${2:-}
here=$(cd "$(dirname "$0")/.." && pwd)
DATA=${3:-$here/../shared/data}
R=${4:-3}
[ -x "$A" ] && [ -x "$B" ] || { echo "usage: $0 REF_BNNMC NEW_BNNMC [DATA_DIR] [REPEATS]" >&2; exit 2; }
command -v jq >/dev/null || { echo "$0 needs jq" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "$0 needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
tmp=$(mktemp -d /tmp/bnnmc-speed-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# one run: appends "config side wall cpu post" to $tmp/t
one() {
    bin=$A; [ "$4" = new ] && bin=$B
    # shellcheck disable=SC2086
    /usr/bin/time -f "%e %U %S" -o "$tmp/time" "$bin" sample --preset study \
        --train "$DATA/$2/train.txt" --test "$DATA/$2/test.txt" --model "$1" --chains 5 \
        --samples 10000 --burn-in 0.5 --quiet --force --out "$tmp/run" ${BNNMC_OPTS:-} 2>/dev/null
    post=$(jq '.seconds_total - .seconds_sampling' "$tmp/run/metrics.json")
    awk -v c="$1-$2" -v s="$4" -v p="$post" -v r="$3" '{ printf "%s %s %s %.3f %s %s\n", c, s, $1, $2 + $3, p, r }' \
        "$tmp/time" >> "$tmp/t"
}

: > "$tmp/t"
for rep in $(seq "$R"); do
    for model in linear nn; do
        for d in sunspot abalone iris ionosphere; do
            # alternate which binary goes first
            if [ $((rep % 2)) = 1 ]; then one $model $d $rep ref; one $model $d $rep new
            else one $model $d $rep new; one $model $d $rep ref; fi
        done
    done
done
# the whole table, per repeat and side
awk '{ k = $6 " " $2; w[k] += $3; c[k] += $4; p[k] += $5 }
    END { for (k in w) { split(k, a, " "); printf "TOTAL %s %.3f %.3f %.3f %s\n", a[2], w[k], c[k], p[k], a[1] } }' \
    "$tmp/t" > "$tmp/tot"
cat "$tmp/tot" >> "$tmp/t"

med() {   # median of the numbers on stdin
    sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
printf 'medians of %s repeats (seconds; the machine may be shared: both binaries saw the same load)\n' "$R"
printf '%-18s %9s %9s %9s %9s %9s %9s\n' run "wall ref" "wall new" "cpu ref" "cpu new" "post ref" "post new"
for c in $(awk '{ print $1 }' "$tmp/t" | awk '!seen[$0]++'); do
    line=$(printf '%-18s' "$c")
    for col in 3 4 5; do
        for s in ref new; do
            v=$(awk -v c="$c" -v s="$s" -v k=$col '$1 == c && $2 == s { print $k }' "$tmp/t" | med)
            line="$line $(printf '%9.2f' "$v")"
        done
    done
    echo "$line"
done
