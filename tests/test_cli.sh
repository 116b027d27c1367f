#!/bin/sh
# test_cli.sh — the command line's contract: help, exit codes, one-line errors naming places.
# usage: test_cli.sh BNNMC [DATA_DIR]
B=$1
DATA=${2:-../shared/data}
T=$(mktemp -d /tmp/bnnmc-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok     $1"; }
bad() { fail=$((fail + 1)); echo "NOT OK $1"; }

# expect CODE "DESCRIPTION" "STDERR-SUBSTRING" cmd...
expect() {
    code=$1 desc=$2 want=$3
    shift 3
    "$@" >"$T/out" 2>"$T/err"
    got=$?
    lines=$(wc -l <"$T/err")
    if [ "$got" -eq "$code" ] && grep -qF -- "$want" "$T/err" && { [ "$code" -eq 0 ] || [ "$lines" -eq 1 ]; }; then
        ok "$desc"
    else
        bad "$desc: exit $got (want $code), stderr: $(cat "$T/err")"
    fi
}

"$B" --help | grep -q "usage: bnnmc COMMAND" && ok "bnnmc --help" || bad "bnnmc --help"
"$B" sample --help | grep -q -- "--langevin-prob" && ok "sample --help lists options" || bad "sample --help"
"$B" datasets | grep -q "mackey-glass" && ok "datasets lists mackey-glass" || bad "datasets"
expect 2 "no command" "no command given" "$B"
expect 2 "unknown command" "unknown command 'frobnicate'" "$B" frobnicate
expect 2 "unknown option" "unknown option '--bogus'" "$B" sample --dataset blobs3 --bogus
expect 2 "missing value" "--samples needs a value" "$B" sample --dataset blobs3 --samples
expect 2 "bad number" "--samples: 'ten' is not an integer" "$B" sample --dataset blobs3 --samples ten
expect 2 "bad choice" "--sampler: 'gibss' is not one of" "$B" sample --dataset blobs3 --sampler gibss
expect 2 "no data" "--train FILE or --dataset NAME is required" "$B" sample
expect 2 "unknown dataset" "unknown data set 'nope'" "$B" sample --dataset nope
printf '1 2 3\n4 x 6\n' >"$T/bad.txt"
expect 2 "bad data file names file:line:col" "$T/bad.txt:2:2: 'x' is not a number" "$B" sample --train "$T/bad.txt"
printf '1 2 3\n4 5 6\n' >"$T/tr.txt"
printf '1 2\n' >"$T/te.txt"
expect 2 "test columns differ" "te.txt:1:1: 2 columns, but the training data" "$B" sample --train "$T/tr.txt" --test "$T/te.txt"
expect 2 "missing file" "nothere.txt: cannot open" "$B" sample --train "$T/nothere.txt"
printf '0.1 0\n0.2 1\n0.3 2.5\n' >"$T/cls.txt"
expect 2 "non-integer class with --task classification" "cls.txt:3:2: class label 2.5 is not an integer" "$B" sample --train "$T/cls.txt" --task classification
expect 0 "sample on a built-in data set" "" "$B" sample --dataset mackey-glass
grep -q "log p(theta0 | data)" "$T/out" && ok "sample prints the log density" || bad "sample prints the log density"
if [ -f "$DATA/iris/train.txt" ]; then
    expect 0 "sample infers classification on iris" "task classification inferred" "$B" sample --train "$DATA/iris/train.txt" --test "$DATA/iris/test.txt"
fi
echo "test_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
