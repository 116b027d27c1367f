#!/bin/sh
# compare_runs.sh — the guard rail of a speed-up of a run's post-processing: the study
# table's eight runs (bench/study_table.sh's settings) with a reference binary and a new
# one, every file of each run folder compared byte for byte. Times are the only content
# allowed to differ, so they are removed first: the chain CSVs' "Elapsed Time" comment
# lines, every "seconds*" (and time-share) field of metrics.json and config.json, and the
# run folder's path. The checkpoint/ folder (resumption state) is not compared. Exit 1
# when any file differs (naming it), 0 when all are identical.
#
# usage: scripts/compare_runs.sh REF_BNNMC NEW_BNNMC [DATA_DIR]
# Extra sample options in BNNMC_OPTS (the suite-sized check: BNNMC_OPTS="--samples 1000").
set -eu
A=${1:-}
B=${2:-}
here=$(cd "$(dirname "$0")/.." && pwd)
DATA=${3:-$here/../shared/data}
[ -x "$A" ] && [ -x "$B" ] || { echo "usage: $0 REF_BNNMC NEW_BNNMC [DATA_DIR]" >&2; exit 2; }
command -v jq >/dev/null || { echo "$0 needs jq" >&2; exit 2; }
tmp=$(mktemp -d /tmp/bnnmc-compare-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# the file with its times (and the run folder's name) removed, on stdout
scrub() {
    case "$1" in
    *.json) jq -S 'walk(if type == "object" then with_entries(select((.key | test("seconds|share_of_chain_time|^out$|elapsed")) | not)) else . end)' "$1" | sed "s#$2#RUN#g" ;;
    */chain-*.csv) sed -e '/Elapsed Time/,$d' "$1" ;;
    *) cat "$1" ;;
    esac
}

bad=0 n=0
for model in linear nn; do
    for d in sunspot abalone iris ionosphere; do
        for side in ref new; do
            bin=$A; [ $side = new ] && bin=$B
            # shellcheck disable=SC2086
            "$bin" sample --preset study --train "$DATA/$d/train.txt" --test "$DATA/$d/test.txt" \
                --model $model --chains 5 --samples 10000 --burn-in 0.5 --quiet \
                --out "$tmp/$side/$model-$d" ${BNNMC_OPTS:-} 2>/dev/null
        done
        files=$( (cd "$tmp/ref/$model-$d" && ls; cd "$tmp/new/$model-$d" && ls) | sort -u)
        for f in $files; do
            n=$((n + 1))
            r=$tmp/ref/$model-$d/$f; w=$tmp/new/$model-$d/$f
            [ -d "$r" ] && [ -d "$w" ] && continue   # checkpoint/: resumption state, not results
            if [ ! -f "$r" ] || [ ! -f "$w" ]; then
                echo "DIFFERS $model-$d/$f: only in one run"; bad=1; continue
            fi
            scrub "$r" "$tmp/ref/$model-$d" > "$tmp/a"
            scrub "$w" "$tmp/new/$model-$d" > "$tmp/b"
            if cmp -s "$tmp/a" "$tmp/b"; then :; else echo "DIFFERS $model-$d/$f"; bad=1; fi
        done
    done
done
[ $bad = 0 ] && echo "compare_runs: all $n files identical (times removed)"
exit $bad
