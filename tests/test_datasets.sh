#!/bin/sh
# test_datasets.sh — `bnnmc datasets --write`, friedman1:N above all: the rows follow
# Friedman's formula, the same seed gives the same bytes, bad arguments are one-line errors
# naming the option, and a write that fails or is killed leaves no file that looks whole.
# usage: test_datasets.sh BNNMC
B=$1
T=$(mktemp -d /tmp/bnnmc-datasets-XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok     $1"; }
bad() { fail=$((fail + 1)); echo "NOT OK $1"; }

# expect CODE "DESCRIPTION" "STDERR-SUBSTRING" cmd...: the exit code, and one line naming it
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

"$B" datasets | grep -q '^friedman1 .*regression' && ok "datasets lists friedman1" || bad "datasets list"
"$B" datasets --help | grep -q '(y+6)/42' && ok "datasets --help says how the target is scaled" || bad "datasets --help"

# The rows against the formula. With n = 10000 rows, 42 t - 6 - f(x) must be the N(0,1)
# noise: its mean within 0.05 (5 standard errors of 0.01) and its variance within 0.07 of 1
# (5 of sqrt(2/n) = 0.014), each input's mean within 0.015 of 1/2 (5 of 0.0029) and in
# [0,1). The smallest errors caught: a shift of 0.05 in y (a coefficient off by 1% of its
# term's range), a noise sd off by 3.5%, a scale other than (y+6)/42, an input not uniform.
mkdir "$T/f"
"$B" datasets --write friedman1:10000 "$T/f" --test 300 --seed 5 2>"$T/err" \
    && [ "$(wc -l <"$T/f/train.txt")" -eq 10000 ] && [ "$(wc -l <"$T/f/test.txt")" -eq 300 ] \
    && ok "--write friedman1:10000 --test 300: 10000 and 300 rows" || bad "friedman1 write: $(cat "$T/err")"
awk 'BEGIN { pi = atan2(0, -1) }
     NF != 11 { badnf++ }
     { f = 10 * sin(pi * $1 * $2) + 20 * ($3 - 0.5)^2 + 10 * $4 + 5 * $5
       r = 42 * $11 - 6 - f; s += r; ss += r * r; n++
       for (j = 1; j <= 10; j++) { m[j] += $j; if ($j < 0 || $j >= 1) out++ } }
     END { mean = s / n; var = ss / n - mean^2; worst = 0
           for (j = 1; j <= 10; j++) { d = m[j] / n - 0.5; if (d < 0) d = -d; if (d > worst) worst = d }
           printf "noise mean %.4f var %.4f, input means within %.4f of 1/2\n", mean, var, worst
           exit !(badnf == 0 && out == 0 && mean < 0.05 && mean > -0.05 && var > 0.93 && var < 1.07 && worst < 0.015) }' \
    "$T/f/train.txt" >"$T/stat" && ok "friedman1 rows follow the formula: $(cat "$T/stat")" || bad "friedman1 rows: $(cat "$T/stat")"
awk '{ if ($11 <= 0 || $11 >= 1) out++ } END { exit out > 0 }' "$T/f/train.txt" "$T/f/test.txt" \
    && ok "every friedman1 target lies in (0,1)" || bad "a target outside (0,1)"

# determinism: the seed alone decides the bytes; the streams of train and test are apart
mkdir "$T/g" "$T/h" "$T/i" "$T/j"
"$B" datasets --write friedman1:10000 "$T/g" --test 300 --seed 5 && cmp -s "$T/f/train.txt" "$T/g/train.txt" \
    && cmp -s "$T/f/test.txt" "$T/g/test.txt" && ok "the same seed writes the same bytes" || bad "same seed, other bytes"
"$B" datasets --write friedman1:10000 "$T/h" --test 300 --seed 6 && ! cmp -s "$T/f/train.txt" "$T/h/train.txt" \
    && ! cmp -s "$T/f/test.txt" "$T/h/test.txt" && ok "another seed writes other rows" || bad "--seed changes nothing"
"$B" datasets --write friedman1:2500 "$T/i" --test 0 --seed 5 && [ ! -e "$T/i/test.txt" ] \
    && head -2500 "$T/f/train.txt" | cmp -s - "$T/i/train.txt" \
    && ok "friedman1:2500 is the first 2500 rows of friedman1:10000; --test 0 writes no test.txt" || bad "friedman1 prefix"
! cmp -s "$T/f/test.txt" "$(head -300 "$T/f/train.txt" >"$T/head300"; echo "$T/head300")" \
    && ok "the test rows are not the training rows" || bad "test rows repeat the training rows"
"$B" datasets --write mackey-glass "$T/j" --seed 5 && "$B" datasets --write mackey-glass "$T/j" --seed 5 2>/dev/null \
    && [ "$(wc -l <"$T/j/train.txt")" -eq 300 ] && ok "--seed on another built-in; writing twice replaces the files" || bad "mackey-glass --seed"

# what --write writes is what sample --dataset generates: two linear runs on each give the
# same draws (the %.17g text reads back as the same doubles)
mkdir "$T/k"
"$B" datasets --write friedman1:400 "$T/k"
"$B" sample --dataset friedman1:400 --model linear --samples 60 --chains 2 --out "$T/rd" --quiet 2>"$T/err" \
    && "$B" sample --train "$T/k/train.txt" --test "$T/k/test.txt" --model linear --samples 60 --chains 2 --out "$T/rf" --quiet 2>>"$T/err" \
    && grep -v '^#' "$T/rd/chain-2.csv" >"$T/a" && grep -v '^#' "$T/rf/chain-2.csv" >"$T/b" && cmp -s "$T/a" "$T/b" \
    && cmp -s "$T/rd/pred-test.csv" "$T/rf/pred-test.csv" \
    && grep -q '"rows":[[:space:]]*1000' "$T/rd/config.json" \
    && ok "sample --dataset friedman1:400 = sample on the written files (draws and test predictions)" \
    || bad "sample --dataset friedman1 vs the files: $(cat "$T/err")"

# bad arguments: one line naming the option, exit 2, nothing written
mkdir "$T/e"
expect 2 "friedman1:0" "friedman1:N needs a row count N in 1..1000000000" "$B" datasets --write friedman1:0 "$T/e"
expect 2 "friedman1:abc" "data set 'friedman1:abc'" "$B" datasets --write friedman1:abc "$T/e"
expect 2 "friedman1:-5" "friedman1:N needs a row count" "$B" datasets --write friedman1:-5 "$T/e"
expect 2 "friedman1:1e3" "friedman1:N needs a row count" "$B" datasets --write friedman1:1e3 "$T/e"
expect 2 "friedman1: too many rows" "friedman1:N needs a row count" "$B" datasets --write friedman1:1000000001 "$T/e"
expect 2 "unknown data set" "unknown data set 'nope'" "$B" datasets --write nope "$T/e"
expect 2 "--seed not a number" "--seed: 'x' is not an integer" "$B" datasets --write friedman1:10 "$T/e" --seed x
expect 2 "--seed negative" "--seed: -1 is out of range" "$B" datasets --write friedman1:10 "$T/e" --seed -1
expect 2 "--test negative" "--test: -1 is out of range" "$B" datasets --write friedman1:10 "$T/e" --test -1
expect 2 "--test on a data set with its own split" "--test: only friedman1 takes a test size" "$B" datasets --write blobs3 "$T/e" --test 5
expect 2 "--write without DIR" "--write needs a data set NAME and a folder DIR" "$B" datasets --write friedman1:10
expect 2 "two folders" "unexpected argument" "$B" datasets --write friedman1:10 "$T/e" "$T/e"
expect 2 "--seed without --write" "--seed needs --write NAME DIR" "$B" datasets --seed 3
expect 2 "sample --dataset friedman1:x" "friedman1:N needs a row count" "$B" sample --dataset friedman1:x --out "$T/e/run"
[ -z "$(ls "$T/e")" ] && ok "no bad argument wrote anything" || bad "files after bad arguments: $(ls "$T/e")"

# atomicity: a missing folder is refused and made by nobody
expect 2 "a missing folder" "is not a folder (create it first)" "$B" datasets --write friedman1:10 "$T/missing"
[ ! -e "$T/missing" ] && ok "a missing folder is not created" || bad "a missing folder appeared"
# a read-only folder (root writes anyway: skipped as root)
if [ "$(id -u)" -ne 0 ]; then
    mkdir "$T/ro" && chmod 555 "$T/ro"
    expect 1 "a read-only folder" "train.txt: cannot write" "$B" datasets --write friedman1:10 "$T/ro"
    [ -z "$(ls "$T/ro")" ] && ok "a read-only folder is left empty" || bad "files in a read-only folder"
else
    ok "a read-only folder: skipped (running as root, which writes anyway)"
fi
# the test file fails past the training file (the file size limit lets a 10-row train.txt
# through, not 20000 test rows): neither file, nor a temporary one, is left
mkdir "$T/lim"
(trap '' XFSZ; ulimit -f 256; exec "$B" datasets --write friedman1:10 "$T/lim" --test 20000) 2>"$T/err"
code=$?
[ $code -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "lim/test.txt: cannot write" "$T/err" && [ -z "$(ls "$T/lim")" ] \
    && ok "a failed test.txt leaves neither file" || bad "write under a size limit: exit $code, files: $(ls "$T/lim"), $(cat "$T/err")"
# killed mid-write (-9): no train.txt, only a temporary file that says what it is
mkdir "$T/kill"
"$B" datasets --write friedman1:20000000 "$T/kill" &
pid=$!
n=0
while [ ! -s "$T/kill/train.txt.tmp" ] && [ $n -lt 100 ]; do sleep 0.05; n=$((n + 1)); done
sleep 0.3
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
[ ! -e "$T/kill/train.txt" ] && [ ! -e "$T/kill/test.txt" ] && [ -s "$T/kill/train.txt.tmp" ] \
    && ok "a write killed mid-file leaves only train.txt.tmp" || bad "killed write: $(ls -l "$T/kill")"

echo "test_datasets: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
