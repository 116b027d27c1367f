#!/bin/sh
# test_memory.sh — sample --max-memory: a small limit thins the stored predictive draws (and
# only those: the chain CSVs keep every draw), the predictions are exactly those of the
# draws kept, summary and metrics.json say so, a run that cannot fit is refused before
# sampling, and --max-time's rounds stop when another would not fit.
# usage: test_memory.sh BNNMC
B=$1
T=$(mktemp -d /tmp/bnnmc-memory-XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok     $1"; }
bad() { fail=$((fail + 1)); echo "NOT OK $1"; }

expect() {
    code=$1 desc=$2 want=$3
    shift 3
    "$@" >"$T/out" 2>"$T/err"
    got=$?
    lines=$(wc -l <"$T/err")
    if [ "$got" -eq "$code" ] && grep -qF -- "$want" "$T/err" && [ "$lines" -eq 1 ]; then
        ok "$desc"
    else
        bad "$desc: exit $got (want $code), stderr: $(cat "$T/err")"
    fi
}
# the number at key in DIR/metrics.json (the first such key)
num() { sed -n "s/.*\"$2\":[[:space:]]*\([0-9.e+-]*\).*/\1/p" "$1/metrics.json" | head -1; }
rows() { grep -v '^#' "$1" | grep -vc '^lp__'; }

# The study's network on mackey-glass: 4 chains x 2000 kept draws of 62 parameters, 496 rows
# to predict. The estimate is about 46 MB kept whole; under 30M the stored predictive draws
# are thinned (to one in 4 by bnnmc's estimate), under 1G they are not.
RUN="--dataset mackey-glass --task regression --preset study --samples 4000 --chains 4"
"$B" sample $RUN --max-memory 1G --out "$T/all" --quiet 2>"$T/err" || bad "the run under 1G: $(cat "$T/err")"
"$B" sample $RUN --max-memory 30M --out "$T/small" 2>"$T/err-small" || bad "the run under 30M: $(cat "$T/err-small")"
thin=$(num "$T/small" pred_thin)
kept=$(num "$T/small" pred_draws_per_chain)
[ "$(num "$T/all" pred_thin)" = 1 ] && [ "$(num "$T/all" pred_draws_per_chain)" = 2000 ] \
    && ok "under 1G nothing is thinned (metrics.json: pred_thin 1, 2000 predictive draws per chain)" || bad "under 1G: $(grep -A5 memory "$T/all/metrics.json")"
[ "${thin:-0}" -ge 2 ] && [ "$kept" -eq $(( (2000 + thin - 1) / thin )) ] \
    && [ "$(num "$T/small" limit_bytes)" = 31457280 ] \
    && awk -v e="$(num "$T/small" estimate_bytes)" 'BEGIN { exit !(e > 0 && e <= 31457280) }' \
    && ok "under 30M: one predictive draw in $thin kept ($kept of 2000 per chain), the limit and an estimate under it in metrics.json" \
    || bad "under 30M: $(grep -A5 memory "$T/small/metrics.json")"
grep -q "the predictions will store one draw in $thin of each chain ($kept of 2000)" "$T/err-small" \
    && ok "the thinning is announced before sampling" || bad "no announcement: $(cat "$T/err-small")"
# the CSVs keep every draw: the same 2000 rows per chain as the run under 1G, byte for byte,
# and the same summary of the parameters
same=1
for c in 1 2 3 4; do
    [ "$(rows "$T/small/chain-$c.csv")" -eq 2000 ] || same=0
    grep -v '^#' "$T/small/chain-$c.csv" >"$T/a"
    grep -v '^#' "$T/all/chain-$c.csv" >"$T/b"
    cmp -s "$T/a" "$T/b" || same=0
done
[ $same -eq 1 ] && cmp -s "$T/small/summary.csv" "$T/all/summary.csv" \
    && ok "the chain CSVs keep all 2000 draws per chain, equal to the unthinned run's; summary.csv equal" || bad "the thinned run's CSVs differ"
# the predictions are exactly those of the draws kept: the run that keeps every thin-th
# iteration in its chains (--thin, the same chains) predicts the same bytes. Any other
# choice of draws, or a diagnostic on the wrong ones, changes them.
"$B" sample $RUN --thin "$thin" --max-memory 1G --out "$T/thinned" --quiet 2>"$T/err" \
    && cmp -s "$T/small/pred-train.csv" "$T/thinned/pred-train.csv" && cmp -s "$T/small/pred-test.csv" "$T/thinned/pred-test.csv" \
    && ok "the predictions under 30M equal those of --thin $thin, bitwise (means, quantiles, R-hat, ESS)" \
    || bad "the thinned predictions are not those of the kept draws: $(cat "$T/err")"
! cmp -s "$T/small/pred-test.csv" "$T/all/pred-test.csv" && ok "and differ from the predictions of every draw" || bad "thinning changed nothing"
"$B" summary "$T/small" >"$T/sum" && grep -q "memory: the predictions (and their R-hat and ESS) are of one draw in $thin of each chain" "$T/sum" \
    && grep -q "$kept of 2000, to stay under --max-memory 30 MB" "$T/sum" \
    && ok "summary says the predictions are of one draw in $thin" || bad "summary: $(grep -A2 memory "$T/sum")"
"$B" summary "$T/all" | grep -q "memory:" && bad "summary of an unthinned run speaks of memory" || ok "summary is silent when nothing was thinned"
"$B" summary "$T/small" --json | grep -q '"pred_thin":' && ok "summary --json carries the memory block" || bad "summary --json"

# refusal before sampling: 4 chains x 2000 draws need about 26 MB even with 4 predictive
# draws per chain; under 20M the run is refused, one line naming --max-memory, and no
# folder is made
expect 2 "a run that cannot fit is refused" "--max-memory 20.0 MB: the run needs about" "$B" sample $RUN --max-memory 20M --out "$T/refused"
grep -q "the draws 4.1 MB: 4 chains x 2000 x 62 parameters" "$T/err" && ok "the refusal says what takes the memory" || bad "refusal: $(cat "$T/err")"
[ ! -e "$T/refused" ] && ok "a refused run leaves no folder" || bad "a refused run made $(ls "$T/refused")"
# the draws themselves count: 2 chains of 5e6 kept draws (the Ctrl-C test's run unthinned)
expect 2 "5e6 draws per chain are refused under the default 2G" "the draws 2.51 GB: 2 chains x 2500000 x 62 parameters" \
    "$B" sample $RUN --chains 2 --samples 5000000 --out "$T/huge"

# bad sizes: one line naming the option
for s in abc 0 12Q -5M 100 1.5X 5MM; do
    expect 2 "--max-memory $s" "--max-memory: '$s' is not a size of at least 1M" "$B" sample $RUN --max-memory "$s" --out "$T/x"
done
"$B" sample --dataset blobs3 --model linear --samples 40 --chains 2 --max-memory 1.5G --out "$T/g15" --quiet 2>"$T/err" \
    && [ "$(num "$T/g15" limit_bytes)" = 1610612736 ] && ok "--max-memory 1.5G is 1610612736 bytes" || bad "1.5G: $(cat "$T/err")"
"$B" sample --dataset blobs3 --model linear --samples 40 --chains 2 --max-memory 64MB --out "$T/mb" --quiet 2>"$T/err" \
    && [ "$(num "$T/mb" limit_bytes)" = 67108864 ] && ok "--max-memory 64MB is 67108864 bytes" || bad "64MB: $(cat "$T/err")"

# --max-time: the rounds go on while another fits; under 17M they stop for memory, long
# before the 60 s limit, not converged, and say so
start=$(date +%s)
"$B" sample --dataset mackey-glass --model linear --sampler nuts --samples 200 --chains 2 --max-time 60 \
    --target-ess 1e12 --max-memory 17M --out "$T/rounds" 2>"$T/err"
code=$?
took=$(( $(date +%s) - start ))
[ $code -eq 0 ] && [ "$took" -lt 30 ] && grep -q '"rounds_stopped":[[:space:]]*true' "$T/rounds/metrics.json" \
    && grep -q '"converged":[[:space:]]*false' "$T/rounds/metrics.json" && grep -q "another round's draws would not fit under --max-memory" "$T/err" \
    && awk -v e="$(num "$T/rounds" estimate_bytes)" 'BEGIN { exit !(e <= 17825792) }' \
    && "$B" summary "$T/rounds" | grep -q "the rounds of --max-time stopped before convergence" \
    && ok "--max-time under 17M: $(num "$T/rounds" rounds) rounds, then stopped for memory in ${took}s, not converged" \
    || bad "--max-time under 17M: exit $code, ${took}s, $(tail -2 "$T/err")"

# predict --max-memory: the run under 1G read back, its 8000 draws predicting the 196 test
# rows under 24M: thinned, and byte for byte the predictions of the --thin run with the same
# step; under 20M refused (one line)
mkdir "$T/mg" && "$B" datasets --write mackey-glass "$T/mg" >/dev/null
"$B" predict "$T/all" --data "$T/mg/test.txt" --max-memory 24M >"$T/p-small.csv" 2>"$T/err"
pthin=$(sed -n 's/.*one draw in \([0-9]*\) of each chain.*/\1/p' "$T/err")
"$B" sample $RUN --thin "${pthin:-1}" --max-memory 1G --out "$T/pthin" --quiet 2>/dev/null \
    && "$B" predict "$T/pthin" --data "$T/mg/test.txt" >"$T/p-thin.csv" 2>/dev/null \
    && [ "${pthin:-1}" -ge 2 ] && cmp -s "$T/p-small.csv" "$T/p-thin.csv" \
    && ok "predict under 24M: one draw in $pthin, the predictions of --thin $pthin bitwise" || bad "predict --max-memory: $(cat "$T/err")"
expect 2 "predict refuses what cannot fit" "--max-memory 20.0 MB: predicting 196 rows needs about" "$B" predict "$T/all" --data "$T/mg/test.txt" --max-memory 20M
expect 2 "predict --max-memory x" "--max-memory: 'x' is not a size" "$B" predict "$T/all" --data "$T/mg/test.txt" --max-memory x

# loo's log-likelihood matrix a block of rows at a time (64 MB at most): 3000 rows x 4000
# draws (96 MB) go in two blocks, and give bitwise the JSON of the whole matrix (kept whole
# for --log-lik). A row dropped or counted twice at the seam changes elpd_loo.
"$B" sample --dataset friedman1:3000 --model linear --output identity --out "$T/loo" --quiet 2>"$T/err" \
    && "$B" loo "$T/loo" --json >"$T/blocks.json" 2>"$T/err" && "$B" loo "$T/loo" --json --log-lik "$T/ll.csv" >"$T/whole.json" 2>>"$T/err" \
    && cmp -s "$T/blocks.json" "$T/whole.json" && grep -q '"n":[[:space:]]*3000' "$T/blocks.json" \
    && ok "loo in blocks of rows equals loo of the whole matrix, bitwise (3000 rows x 4000 draws)" || bad "loo in blocks: $(cat "$T/err")"

echo "test_memory: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
