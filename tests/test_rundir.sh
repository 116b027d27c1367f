#!/bin/sh
# test_rundir.sh — summary, plot and predict read a run folder whole or refuse it: a missing
# file, truncated or invalid JSON, JSON of the wrong shape (a missing key, a wrong type), a cut
# or malformed chain, pred or summary CSV each give exit 2, one line on stderr naming the
# file, and no output. A run stopped by Ctrl-C (marked partial) is whole and is read.
# usage: test_rundir.sh BNNMC
B=$1
T=$(mktemp -d /tmp/bnnmc-rundir-XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok     $1"; }
bad() { fail=$((fail + 1)); echo "NOT OK $1"; }

# a small complete run, and rows to predict
R="$T/run"
mkdir "$T/data"
if ! "$B" sample --preset study --dataset blobs3 --samples 40 --chains 2 --out "$R" --quiet 2>"$T/err" ||
    ! "$B" datasets --write blobs3 "$T/data" || [ ! -s "$T/data/test.txt" ]; then
    echo "NOT OK cannot make the run folder to damage: $(cat "$T/err")"
    exit 1
fi

# run CMD on DIR: stdout to $T/out, stderr to $T/err, the exit status in $got
run() {
    if [ "$1" = predict ]; then
        "$B" predict "$2" --data "$T/data/test.txt" >"$T/out" 2>"$T/err"
    else
        "$B" "$1" "$2" >"$T/out" 2>"$T/err"
    fi
    got=$?
}

# the undamaged copy is read by every command (so a refusal below is the damage's doing)
rm -rf "$T/d"
cp -r "$R" "$T/d"
for cmd in summary predict; do
    run $cmd "$T/d"
    [ $got -eq 0 ] && [ -s "$T/out" ] && ok "$cmd reads the undamaged run" || bad "$cmd on the undamaged run: exit $got, $(cat "$T/err")"
done

# fresh: a new copy of the run in $T/d to damage
fresh() {
    rm -rf "$T/d"
    cp -r "$R" "$T/d"
}

# refused "DESCRIPTION" FILE: every command exits 2 on $T/d with one line naming $T/d/FILE,
# prints nothing on stdout, and plot writes no plots/
refused() {
    for cmd in summary plot predict; do
        run $cmd "$T/d"
        lines=$(wc -l <"$T/err")
        if [ $got -eq 2 ] && [ "$lines" -eq 1 ] && grep -qF -- "$T/d/$2" "$T/err" && [ ! -s "$T/out" ] &&
            { [ $cmd != plot ] || [ ! -e "$T/d/plots" ]; }; then
            ok "$cmd refuses $1"
        else
            bad "$cmd on $1: exit $got (want 2), $lines lines: $(cat "$T/err")"
        fi
    done
}

# cut FILE BYTES: keeps the first BYTES bytes of $T/d/FILE
cut_to() { head -c "$2" "$R/$1" >"$T/d/$1"; }
size() { wc -c <"$R/$1"; }

for f in config.json metrics.json; do
    fresh; rm "$T/d/$f"; refused "a missing $f" "$f"
    fresh; cut_to $f 0; refused "an empty $f" "$f"
    fresh; cut_to $f $(($(size $f) / 2)); refused "$f cut in half" "$f"
    fresh; cut_to $f $(($(size $f) - 3)); refused "$f without its last bytes" "$f"
    fresh; printf 'not json\n' >"$T/d/$f"; refused "$f that is not JSON" "$f"
    fresh; printf '[1, 2]\n' >"$T/d/$f"; refused "$f that is an array" "$f"
    fresh; printf '{"a": 1} {}\n' >"$T/d/$f"; refused "$f with text after the JSON" "$f"
done

# jq edits: ONE key removed or given the wrong type
if command -v jq >/dev/null 2>&1; then
    edit() {   # edit FILE JQ-FILTER: writes the edited JSON into $T/d/FILE
        fresh
        jq "$2" "$R/$1" >"$T/d/$1" || bad "jq $2"
        refused "$1 with jq '$2'" "$1"
    }
    edit config.json 'del(.status)'
    edit config.json '.status = "running"'
    edit config.json 'del(.model)'
    edit config.json 'del(.model.inputs)'
    edit config.json '.model.inputs = "4"'
    edit config.json '.model.inputs = 4.5'
    edit config.json '.model.classes = 4'
    edit config.json '.model.hidden = 10'
    edit config.json '.model.hidden = ["10"]'
    edit config.json '.model.activation = "softplus"'
    edit config.json '.model.prior_var = -1'
    edit config.json 'del(.model.parameters)'
    edit config.json '.model.parameters = 84'
    edit config.json 'del(.sampler.chains)'
    edit config.json '.sampler.chains = 3'
    edit config.json 'del(.data.test)'
    edit metrics.json 'del(.task)'
    edit metrics.json '.task = "regression"'
    edit metrics.json 'del(.chains)'
    edit metrics.json '.chains = "2"'
    edit metrics.json 'del(.draws_per_chain)'
    edit metrics.json '.draws_per_chain = 19'
    edit metrics.json 'del(.acceptance)'
    edit metrics.json '.acceptance = [0.5]'
    edit metrics.json '.acceptance = [0.5, "x"]'
    edit metrics.json 'del(.train)'
    edit metrics.json 'del(.test)'
    edit metrics.json '.test = 45'
    edit metrics.json 'del(.test.rows)'
    edit metrics.json '.test.rows = 44'
    edit metrics.json 'del(.test.accuracy_mean)'
    edit metrics.json '.test.accuracy_mean = "high"'
    edit metrics.json 'del(.train.pred_rhat_max)'
else
    echo "skip   jq is not installed: the missing-key and wrong-type cases"
fi

# chain CSVs
f=chain-2.csv
fresh; rm "$T/d/$f"; refused "a missing $f" $f
fresh; cut_to $f 0; refused "an empty $f" $f
fresh; cut_to $f $(($(size $f) / 2)); refused "$f cut in a row" $f
fresh; head -n 40 "$R/$f" >"$T/d/$f"; refused "$f cut after a row" $f
fresh; sed '/(Total)/,$d' "$R/$f" >"$T/d/$f"; refused "$f without its Elapsed Time lines" $f
fresh; awk -F, -v OFS=, '!/^#/ && ++n == 5 { $3 = "abc" } 1' "$R/$f" >"$T/d/$f"; refused "$f with a word for a number" $f
fresh; awk -F, -v OFS=, '!/^#/ && ++n == 5 { NF = NF - 1 } 1' "$R/$f" >"$T/d/$f"; refused "$f with a short row" $f
fresh; sed 's/^lp__,/lp__,extra,/' "$R/$f" >"$T/d/$f"; refused "$f with an extra column" $f
fresh; sed '1i # bnnmc_status = partial' "$R/$f" >"$T/d/$f"; refused "$f marked partial in a complete run" $f

# pred CSVs and summary.csv
for f in pred-train.csv pred-test.csv summary.csv; do
    fresh; rm "$T/d/$f"; refused "a missing $f" $f
    fresh; cut_to $f 0; refused "an empty $f" $f
    fresh; cut_to $f $(($(size $f) / 2)); refused "$f cut in a row" $f
    fresh; head -n 10 "$R/$f" >"$T/d/$f"; refused "$f cut after a row" $f
    fresh; awk -F, -v OFS=, 'NR == 4 { $3 = "x" } 1' "$R/$f" >"$T/d/$f"; refused "$f with a word for a number" $f
    fresh; awk -F, -v OFS=, 'NR == 4 { NF = NF - 1 } 1' "$R/$f" >"$T/d/$f"; refused "$f with a short row" $f
    fresh; sed '1s/,/;/' "$R/$f" >"$T/d/$f"; refused "$f with another header" $f
done
f=pred-test.csv
fresh; awk -F, -v OFS=, 'NR == 4 { $6 = 7 } 1' "$R/$f" >"$T/d/$f"; refused "$f predicting class 7 of 3" $f
fresh; awk -F, -v OFS=, 'NR == 4 { $2 = 1.5 } 1' "$R/$f" >"$T/d/$f"; refused "$f observing class 1.5" $f
fresh; awk -F, -v OFS=, 'NR == 4 { $3 = 2 } 1' "$R/$f" >"$T/d/$f"; refused "$f with a probability of 2" $f
fresh; awk -F, -v OFS=, 'NR == 4 { $1 = 9 } 1' "$R/$f" >"$T/d/$f"; refused "$f with rows out of order" $f
f=summary.csv
fresh; sed '3s/^[^,]*,/nope,/' "$R/$f" >"$T/d/$f"; refused "$f naming a parameter the chains lack" $f

# a regression run's chain with tau2 <= 0: predict refuses it, naming the file, draw and
# column (it took log tau2 = NaN and predicted NaN)
L="$T/lin"
mkdir "$T/mg"
if "$B" sample --preset study --dataset mackey-glass --model linear --samples 40 --chains 2 --out "$L" --quiet 2>"$T/err" &&
    "$B" datasets --write mackey-glass "$T/mg"; then
    awk -F, -v OFS=, '!/^#/ && ++n == 4 { $NF = -1 } 1' "$L/chain-2.csv" >"$T/c" && mv "$T/c" "$L/chain-2.csv"
    "$B" predict "$L" --data "$T/mg/test.txt" >"$T/out" 2>"$T/err"
    got=$?
    [ $got -eq 2 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && [ ! -s "$T/out" ] &&
        grep -qF "$L/chain-2.csv: draw 3, column 13 (tau2): tau2 must be positive" "$T/err" \
        && ok "predict refuses a draw with tau2 <= 0" || bad "predict on tau2 = -1: exit $got, $(cat "$T/err")"
else
    bad "cannot make the regression run: $(cat "$T/err")"
fi

# a run stopped by Ctrl-C is marked partial, and is whole: every command reads it
P="$T/part"
"$B" sample --preset study --dataset blobs3 --samples 5000000 --burn-in 0 --thin 10 --chains 2 --out "$P" --quiet 2>"$T/err" &
pid=$!
i=0
while [ ! -s "$P/config.json" ] && [ $i -lt 300 ]; do
    sleep 0.1
    i=$((i + 1))
done
sleep 1   # sampling: it keeps a draw every 10 iterations
kill -INT $pid
wait $pid
code=$?
[ $code -eq 1 ] && grep -q '"status":[[:space:]]*"partial' "$P/config.json" && grep -q '"status":[[:space:]]*"partial' "$P/metrics.json" \
    && ok "Ctrl-C leaves a run marked partial" || bad "partial run: exit $code, $(cat "$T/err")"
draws=$(grep -vc '^#' "$P/chain-1.csv")
[ "$draws" -gt 5 ] && ok "the partial run kept draws" || bad "the partial run kept $draws draws"
run summary "$P"
[ $got -eq 0 ] && grep -q "(a PARTIAL run: stopped early)" "$T/out" && grep -q '^verdict: ' "$T/out" \
    && ok "summary reads the partial run" || bad "summary on the partial run: exit $got, $(cat "$T/err")"
run predict "$P"
[ $got -eq 0 ] && [ "$(wc -l <"$T/out")" -eq 46 ] && grep -q "note: the run in $P is partial" "$T/err" \
    && ok "predict reads the partial run" || bad "predict on the partial run: exit $got, $(cat "$T/err")"
if command -v gnuplot >/dev/null 2>&1; then
    run plot "$P"
    [ $got -eq 0 ] && [ -s "$P/plots/trace.png" ] && [ -s "$P/plots/rhat.svg" ] \
        && ok "plot reads the partial run" || bad "plot on the partial run: exit $got, $(cat "$T/err")"
else
    echo "skip   gnuplot is not installed: plot of the partial run"
fi

echo "test_rundir: $pass passed, $fail failed"
[ "$pass" -gt 0 ] && [ "$fail" -eq 0 ]
