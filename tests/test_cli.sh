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
    if [ "$got" -eq "$code" ] && { [ -z "$want" ] || grep -qF -- "$want" "$T/err"; } && { [ "$code" -eq 0 ] || [ "$lines" -eq 1 ]; }; then
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
expect 2 "unknown option" "unknown option '--bogus'" "$B" sample --preset study --dataset blobs3 --bogus
expect 2 "missing value" "--samples needs a value" "$B" sample --preset study --dataset blobs3 --samples
expect 2 "bad number" "--samples: 'ten' is not an integer" "$B" sample --preset study --dataset blobs3 --samples ten
expect 2 "bad choice" "--sampler: 'gibss' is not one of" "$B" sample --dataset blobs3 --sampler gibss
# kernel settings: options built from every kernel's table, checked against the chosen one
"$B" sample --help > "$T/help"
for k in rw langevin mala hmc nuts gibbs slice; do
    grep -q "^  $k " "$T/help" || bad "sample --help lists sampler $k"
done
grep -q -- "--max-depth N .*nuts: tree depth limit.*\[10\]" "$T/help" && grep -q -- "--step X .*rw/langevin" "$T/help" &&
    ok "sample --help lists the samplers and their settings from the registry" || bad "sample --help's samplers: $(cat "$T/help")"
expect 2 "a setting of another sampler is refused" "--max-depth is not a setting of --sampler langevin (its settings: --step, --step-eta, --lr, --langevin-prob)" "$B" sample --preset study --dataset blobs3 --max-depth 12 --out "$T/x"
expect 2 "a sampler without settings says so" "--lr is not a setting of --sampler mala (it has none)" "$B" sample --dataset blobs3 --sampler mala --lr 0.1 --out "$T/x"
expect 2 "a setting out of its table's range" "--max-depth: 21 is out of range 1..20" "$B" sample --dataset blobs3 --sampler nuts --max-depth 21 --out "$T/x"
expect 2 "a real setting out of range" "--langevin-prob: must be in [0,1], got 2" "$B" sample --preset study --dataset blobs3 --langevin-prob 2 --out "$T/x"
expect 2 "gibbs on a network is refused before the folder is made" "gibbs samples only the linear regression" "$B" sample --dataset mackey-glass --task regression --sampler gibbs --out "$T/gibbs-nn"
[ ! -e "$T/gibbs-nn" ] && ok "no folder for a refused sampler" || bad "a folder was made for a refused sampler"
# --noise-step gibbs: refused without a metric or without a noise variance, one line, no folder
expect 2 "--noise-step gibbs refuses a sampler without a metric" "--noise-step gibbs needs a sampler with a metric (mala, hmc or nuts), not rw" "$B" sample --dataset mackey-glass --task regression --model linear --sampler rw --noise-step gibbs --out "$T/ns"
expect 2 "--noise-step gibbs refuses a classification" "--noise-step gibbs needs a regression with Gaussian noise" "$B" sample --dataset blobs3 --task classification --sampler nuts --noise-step gibbs --out "$T/ns"
expect 2 "--noise-step takes none or gibbs" "--noise-step" "$B" sample --dataset mackey-glass --sampler nuts --noise-step metropolis --out "$T/ns"
[ ! -e "$T/ns" ] && ok "no folder for a refused noise step" || bad "a folder was made for a refused noise step"
expect 0 "--noise-step gibbs with nuts and --init map run" "" "$B" sample --dataset mackey-glass --task regression --model linear --sampler nuts --noise-step gibbs --init map --samples 60 --chains 2 --out "$T/ns-map"
grep -q '"init":.*"map' "$T/ns-map/config.json" && grep -q '"noise_step":.*"gibbs"' "$T/ns-map/config.json" &&
    grep -q '"start_optimum"' "$T/ns-map/metrics.json" && grep -q "chain 2 starts at a local optimum: log density" "$T/err" &&
    ok "MAP starts and the noise step recorded in config.json, metrics.json and the log" || bad "MAP starts not recorded: $(cat "$T/err")"
# a setting of 0 is a setting (langevin_prob 0: random walk only), not "use the default"
expect 0 "--langevin-prob 0 runs" "" "$B" sample --preset study --dataset mackey-glass --langevin-prob 0 --samples 40 --chains 1 --quiet --out "$T/lp0"
grep -q '"langevin_prob":[[:space:]]*0[,}]' "$T/lp0/config.json" && grep -q "#         langevin_prob = 0$" "$T/lp0/chain-1.csv" &&
    ok "--langevin-prob 0 reaches config.json and the CSV header" || bad "--langevin-prob 0 lost: $(grep langevin_prob "$T/lp0/config.json" "$T/lp0/chain-1.csv")"
# a kernel with its own sampler column (slice: n_evals__) writes it and reads it back
expect 0 "slice sampler run" "" "$B" sample --dataset mackey-glass --model linear --sampler slice --samples 60 --chains 2 --quiet --out "$T/slice"
grep -q "^lp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__,n_evals__,W1.1.1" "$T/slice/chain-1.csv" &&
    grep -q "#         width = 1" "$T/slice/chain-1.csv" && grep -q '"max_steps"' "$T/slice/config.json" &&
    ok "the kernel's column and settings in the chain CSV and config.json" || bad "slice's column or settings missing: $(head -40 "$T/slice/chain-1.csv")"
expect 0 "summary reads a run with a kernel's own column" "" "$B" summary "$T/slice"
grep -q "^W1.1.1 " "$T/out" && ok "summary of the slice run lists the parameters" || bad "summary of the slice run: $(cat "$T/out")"
# the activations the options take, named from the library's table
expect 2 "--activation lists only hidden activations" "--activation: 'softmax' is not one of sigmoid|tanh|relu" "$B" sample --preset study --dataset blobs3 --activation softmax --out "$T/x"
expect 2 "--activation refuses identity" "--activation: 'identity' is not one of sigmoid|tanh|relu" "$B" sample --preset study --dataset blobs3 --activation identity --out "$T/x"
expect 2 "--output takes identity or sigmoid" "--output: 'relu' is not one of identity|sigmoid" "$B" sample --preset study --dataset blobs3 --output relu --out "$T/x"
# a file name with a line break in it is shown with '?', so the error stays one line
expect 2 "a line break in a file name stays out of the message" "no?such.csv: cannot open" "$B" diagnose "$T/no
such.csv"
# every command of 'bnnmc --help' (main.c's table) answers its own --help
"$B" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { exit }' >"$T/cmds"
n=0
while read -r c; do
    "$B" "$c" --help >"$T/out" 2>"$T/err" && grep -q "usage: bnnmc $c" "$T/out" && n=$((n + 1)) || bad "bnnmc $c --help: $(cat "$T/err")"
done <"$T/cmds"
[ "$n" -eq 12 ] && [ "$(wc -l <"$T/cmds")" -eq 12 ] && ok "bnnmc --help lists 12 commands, each with its --help" || bad "bnnmc --help lists $(wc -l <"$T/cmds") commands, $n with a --help"
# a write that fails part-way (here the file size limit) leaves no half file under the
# final name: datasets --write writes atomically, as every run-folder file is written
mkdir "$T/lim"
(trap '' XFSZ; ulimit -f 4; exec "$B" datasets --write mackey-glass "$T/lim") 2>"$T/err"
code=$?
[ $code -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "lim/train.txt: cannot write" "$T/err" && [ -z "$(ls "$T/lim")" ] \
    && ok "datasets --write leaves no half-written file" || bad "datasets --write under a size limit: exit $code, files: $(ls "$T/lim"), $(cat "$T/err")"
# the chain files, written on two threads: a failure is one line naming a chain's file, and
# no chain file (nor its temporary) is left, whole or half
mkdir "$T/lim2"
(trap '' XFSZ; ulimit -f 40; exec "$B" sample --dataset mackey-glass --model nn --chains 3 --samples 400 \
    --threads 2 --quiet --checkpoint-every 0 --out "$T/lim2/run") 2>"$T/err"
code=$?
[ $code -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "run/chain-[123].csv: cannot write: File too large" "$T/err" \
    && [ -z "$(ls "$T/lim2/run" | grep chain)" ] \
    && ok "chain files that cannot be written: exit 1, one line, none left" || bad "chain files under a size limit: exit $code, files: $(ls "$T/lim2/run"), $(cat "$T/err")"
expect 2 "no data" "--train FILE or --dataset NAME is required" "$B" sample
expect 2 "unknown dataset" "unknown data set 'nope'" "$B" sample --preset study --dataset nope --out "$T/x"
printf '1 2 3\n4 x 6\n' >"$T/bad.txt"
expect 2 "bad data file names file:line:col" "$T/bad.txt:2:2: 'x' is not a number" "$B" sample --preset study --train "$T/bad.txt" --out "$T/x"
printf '1 2 3\n4 5 6\n' >"$T/tr.txt"
printf '1 2\n' >"$T/te.txt"
expect 2 "test columns differ" "te.txt:1:1: 2 columns, but the training data" "$B" sample --preset study --train "$T/tr.txt" --test "$T/te.txt" --out "$T/x"
expect 2 "missing file" "nothere.txt: cannot open" "$B" sample --preset study --train "$T/nothere.txt" --out "$T/x"
printf '0.1 0\n0.2 1\n0.3 2.5\n' >"$T/cls.txt"
expect 2 "non-integer class with --task classification" "cls.txt:3:2: class label 2.5 is not an integer" "$B" sample --preset study --train "$T/cls.txt" --task classification --out "$T/x"
expect 2 "--out is required" "--out DIR is required" "$B" sample --preset study --dataset blobs3

# a whole run folder on a small built-in problem
R="$T/run"
expect 0 "sample writes a run" "complete run written" "$B" sample --preset study --dataset blobs3 --samples 400 --chains 3 --out "$R"
grep -q '^1200/1200 iterations (100%) .* accepted .* took' "$T/err" && ok "progress: a plain final line when stderr is not a terminal" || bad "progress line: $(cat "$T/err")"
for f in config.json chain-1.csv chain-2.csv chain-3.csv metrics.json pred-train.csv pred-test.csv; do
    [ -s "$R/$f" ] && ok "run folder has $f" || bad "run folder lacks $f"
done
grep -q '"status":[[:space:]]*"complete"' "$R/config.json" && ok "config.json says complete" || bad "config.json status"
grep -q '^# method = sample' "$R/chain-1.csv" && head -30 "$R/chain-1.csv" | grep -q '^lp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__,W1.1.1,' \
    && ok "chain CSV in CmdStan layout" || bad "chain CSV layout"
rows=$(grep -vc '^#' "$R/chain-1.csv")
# 200 kept draws + the header
[ "$rows" -eq 201 ] && ok "chain CSV holds the 200 kept draws" || bad "chain CSV holds $rows non-comment lines"
grep -q 'Elapsed Time' "$R/chain-1.csv" && ok "chain CSV ends with elapsed time" || bad "no elapsed time"
grep -q '"accuracy_mean"' "$R/metrics.json" && grep -q '"acceptance"' "$R/metrics.json" && ok "metrics.json keys" || bad "metrics.json keys"
[ "$(wc -l <"$R/pred-test.csv")" -eq 46 ] && head -1 "$R/pred-test.csv" | grep -q '^row,observed,p0,p1,p2,predicted,rhat,ess_bulk$' \
    && ok "pred-test.csv: header and 45 rows" || bad "pred-test.csv shape"

grep -q '"pred_rhat_max"' "$R/metrics.json" && grep -q '"pred_ess_bulk_min"' "$R/metrics.json" && ok "metrics.json has predictive R-hat and ESS" || bad "no predictive diagnostics"
head -1 "$R/summary.csv" | grep -q '^name,mean,sd,q5,q50,q95,mcse_mean,ess_bulk,ess_tail,rhat,rhat_gr$' && \
    [ "$(wc -l <"$R/summary.csv")" -eq 85 ] && sed -n 2p "$R/summary.csv" | grep -q '^lp__,' \
    && ok "summary.csv: header, lp__ and 83 parameters" || bad "summary.csv shape"
"$B" summary "$R" >"$T/out" 2>"$T/err"
code=$?
[ $code -eq 0 ] && grep -q '^verdict: [0-9]* of 83 parameters have R-hat > 1.01' "$T/out" && grep -q "predictions: R-hat max" "$T/out" \
    && grep -q "not identifiable" "$T/out" && ok "summary prints the table, predictive R-hat and the verdict" || bad "summary: exit $code, $(cat "$T/err")"
"$B" summary "$R" --json >"$T/s.json" && grep -q '"parameters_rhat_above_1_01"' "$T/s.json" && ok "summary --json" || bad "summary --json"
"$B" diagnose "$R"/chain-*.csv --csv >"$T/d.csv" 2>"$T/err"
code=$?
# both files hold the header and 84 rows (lp__ and 83 parameters), the same names
[ $code -eq 0 ] && [ "$(wc -l <"$T/d.csv")" -eq 85 ] && [ "$(wc -l <"$R/summary.csv")" -eq 85 ] \
    && [ "$(cut -d, -f1 "$T/d.csv" | sort)" = "$(cut -d, -f1 "$R/summary.csv" | sort)" ] && ok "diagnose --csv covers the same rows as summary.csv" || bad "diagnose --csv: exit $code, $(cat "$T/err")"
# every one of the 84 rows of diagnose's output found in summary.csv with the same R-hat
awk -F, 'NR==FNR { if (FNR > 1) r[$1] = $10; next } FNR > 1 { if (!($1 in r)) { bad++; next } d = $10 - r[$1]; if (d < 0) d = -d; if (d > m) m = d; n++ }
    END { exit !(n == 84 && bad == 0 && m < 1e-6) }' "$R/summary.csv" "$T/d.csv" && ok "diagnose's R-hat from the CSV equals summary.csv's" || bad "diagnose R-hat differs"
printf '# comment\nlp__,a\n1,2\n3,x\n' >"$T/badchain.csv"
expect 2 "diagnose names the bad field" "badchain.csv:4:2: 'x' is not a number" "$B" diagnose "$T/badchain.csv"
expect 2 "summary of a folder with no run" "is $T/nope a run folder?" "$B" summary "$T/nope"

expect 2 "--out refuses to overwrite a run" "already holds a run; use --force" "$B" sample --preset study --dataset blobs3 --samples 400 --out "$R"
"$B" sample --preset study --dataset blobs3 --samples 400 --chains 2 --out "$R" --force --quiet 2>"$T/err"
code=$?
[ $code -eq 0 ] && [ -s "$R/chain-2.csv" ] && grep -q '"chains":[[:space:]]*2,' "$R/config.json" && ok "--force overwrites" || bad "--force: exit $code, $(cat "$T/err")"
[ -s "$R/chain-2.csv" ] && [ ! -e "$R/chain-3.csv" ] && ok "--force removed the old run's chain-3.csv" || bad "stale chain-3.csv left"

# same seed, same files, whatever the thread count
"$B" sample --preset study --dataset mackey-glass --samples 300 --chains 3 --threads 1 --out "$T/t1" --quiet 2>/dev/null
"$B" sample --preset study --dataset mackey-glass --samples 300 --chains 3 --threads 3 --out "$T/t3" --quiet 2>/dev/null
same=1
for c in 1 2 3; do
    grep -v -e Elapsed -e seconds "$T/t1/chain-$c.csv" >"$T/a"
    grep -v -e Elapsed -e seconds "$T/t3/chain-$c.csv" >"$T/b"
    # 150 kept draws and the header, identical
    [ "$(grep -vc '^#' "$T/a")" -eq 151 ] && cmp -s "$T/a" "$T/b" || same=0
done
[ -s "$T/t1/pred-test.csv" ] || same=0
cmp -s "$T/t1/pred-test.csv" "$T/t3/pred-test.csv" || same=0
[ $same -eq 1 ] && ok "--threads 1 and 3 give identical draws and predictions" || bad "draws depend on --threads"

# parallel tempering: bitwise the same draws on 1 and 2 threads (the replicas run in turn
# inside a chain), its base's settings reach it, one-line errors for a bad base or count
"$B" sample --dataset mackey-glass --sampler pt --replicas 3 --max-depth 5 --samples 200 --chains 2 --threads 1 --out "$T/p1" --quiet 2>/dev/null
"$B" sample --dataset mackey-glass --sampler pt --replicas 3 --max-depth 5 --samples 200 --chains 2 --threads 2 --out "$T/p2" --quiet 2>/dev/null
same=1
for c in 1 2; do
    grep -v -e Elapsed -e seconds "$T/p1/chain-$c.csv" >"$T/a"
    grep -v -e Elapsed -e seconds "$T/p2/chain-$c.csv" >"$T/b"
    [ "$(grep -vc '^#' "$T/a")" -eq 101 ] && cmp -s "$T/a" "$T/b" || same=0
done
grep -q "^lp__,.*,energy__,swap_1__,swap_2__,W1" "$T/p1/chain-1.csv" || same=0
grep -q "max_depth = 5" "$T/p1/chain-1.csv" || same=0
grep -q '"base":[[:space:]]*"nuts"' "$T/p1/config.json" || same=0
[ $same -eq 1 ] && ok "pt: --threads 1 and 2 give identical draws; swap columns, base and --max-depth recorded" || bad "pt: draws depend on --threads or settings not recorded"
"$B" summary "$T/p1" | grep -q "swap acceptance per neighbour pair (replicas 1-2, 2-3, ...): [0-9.]* [0-9.]*$" && ok "summary shows pt's swap rates" || bad "summary: no swap rates"
expect 2 "pt: unknown base" "--base: 'nutz' is not one of rw|" "$B" sample --dataset blobs3 --sampler pt --base nutz --out "$T/pe"
expect 2 "pt: replicas out of range" "--replicas" "$B" sample --dataset blobs3 --sampler pt --replicas 1 --out "$T/pe"
expect 2 "pt: replicas out of range (high)" "--replicas" "$B" sample --dataset blobs3 --sampler pt --replicas 33 --out "$T/pe"
expect 2 "pt: a setting of neither pt nor its base" "--step is a setting neither of --sampler pt nor of its --base nuts" "$B" sample --dataset blobs3 --sampler pt --step 0.1 --out "$T/pe"
expect 2 "pt: --base gibbs refused" "gibbs" "$B" sample --dataset mackey-glass --task regression --sampler pt --base gibbs --out "$T/pe"
expect 2 "pt: --t-max below 1.01" "--t-max" "$B" sample --dataset blobs3 --sampler pt --t-max 1 --out "$T/pe"

# predict on new rows, with and without the target column
"$B" sample --preset study --dataset mackey-glass --samples 400 --chains 2 --out "$T/mg" --quiet 2>/dev/null
printf '0.1 0.2 0.3 0.4\n0.5 0.6 0.7 0.8\n' >"$T/new.txt"
"$B" predict "$T/mg" --data "$T/new.txt" >"$T/p.csv" 2>"$T/err"
[ $? -eq 0 ] && [ "$(wc -l <"$T/p.csv")" -eq 3 ] && head -1 "$T/p.csv" | grep -q '^row,observed,mean,sd,q2.5,q50,q97.5,rhat,ess_bulk$' \
    && sed -n 2p "$T/p.csv" | grep -q '^1,NA,' && ok "predict on rows without a target" || bad "predict without target: $(cat "$T/err")"
printf '0.1 0.2 0.3 0.4 0.5\n' >"$T/new5.txt"
"$B" predict "$T/mg" --data "$T/new5.txt" --out "$T/p5.csv" 2>"$T/err"
[ $? -eq 0 ] && grep -q "RMSE" "$T/err" && sed -n 2p "$T/p5.csv" | grep -q '^1,0.5,' && ok "predict with a target reports RMSE" || bad "predict with target: $(cat "$T/err")"
printf '0.1 0.2\n' >"$T/new2.txt"
expect 2 "predict refuses the wrong column count" "new2.txt:1:1: 2 columns; the run's model takes 4 inputs" "$B" predict "$T/mg" --data "$T/new2.txt"
expect 2 "predict needs a run folder" "is $T/nope a run folder?" "$B" predict "$T/nope" --data "$T/new.txt"
# predict from the stored draws agrees with the run's own predictions of the test rows
mkdir -p "$T/mgdata"
"$B" datasets --write mackey-glass "$T/mgdata"
"$B" predict "$T/mg" --data "$T/mgdata/test.txt" >"$T/pt.csv" 2>/dev/null
paste -d, "$T/pt.csv" "$T/mg/pred-test.csv" | awk -F, 'NR > 1 { d = $3 - $12; if (d < 0) d = -d; if (d > m) m = d; n++ }
    END { exit !(n == 196 && m < 1e-6) }' && ok "predict on the test file reproduces the run's predictive means" \
    || bad "predict disagrees with pred-test.csv"

# a run stopped by Ctrl-C leaves files that say they are partial. A long run, thinned: kept
# whole, 5e6 draws per chain of 62 parameters would need 2.7 GB, which --max-memory's
# estimate counts and refuses (bnn_run reserves the draws up front; only their pages go
# untouched until the draws arrive)
"$B" sample --preset study --dataset mackey-glass --samples 5000000 --thin 1000 --chains 2 --out "$T/part" --quiet 2>"$T/err" &
pid=$!
sleep 1
kill -INT $pid
wait $pid
code=$?
[ $code -eq 1 ] && grep -q '"status":[[:space:]]*"partial' "$T/part/config.json" && head -1 "$T/part/chain-1.csv" | grep -q '^# bnnmc_status = partial' \
    && grep -q '"status":[[:space:]]*"partial' "$T/part/metrics.json" && ok "Ctrl-C leaves a run marked partial" || bad "partial run: exit $code, $(cat "$T/err")"

# --init: one row of starting values (constrained: tau2 > 0) for every chain
printf '0.1 0.2 0.3 0.4 0.5 0.25\n' >"$T/init.txt"
"$B" sample --preset study --dataset mackey-glass --model linear --output identity --init "$T/init.txt" --samples 4 --burn-in 1 --chains 2 --step 1e-12 --step-eta 1e-12 --out "$T/init" --quiet 2>"$T/err"
# with a step of 1e-12 the chains cannot move: every kept draw is the starting point
awk -F, '!/^#/ && $1 != "lp__" && NF > 7 { if (($8 - 0.1)^2 + ($12 - 0.5)^2 + ($13 - 0.25)^2 > 1e-18) bad++ ; n++ } END { exit !(n == 3 && bad == 0) }' "$T/init/chain-2.csv" \
    && grep -q "init.txt" "$T/init/config.json" && ok "--init starts every chain at the given values" || bad "--init: $(cat "$T/err")"
printf '0.1 0.2 0.3\n' >"$T/init3.txt"
expect 2 "--init with the wrong count" "3 values per row, the model has 6 parameters" "$B" sample --preset study --dataset mackey-glass --model linear --init "$T/init3.txt" --out "$T/x" --quiet
printf '0.1 0.2 0.3 0.4 0.5 -1\n' >"$T/initneg.txt"
expect 2 "--init with tau2 <= 0" "initneg.txt:1:6: tau2 must be positive" "$B" sample --preset study --dataset mackey-glass --model linear --init "$T/initneg.txt" --out "$T/x" --quiet

# the adaptive samplers write real sampler columns and CmdStan's adaptation block
"$B" sample --dataset mackey-glass --model linear --output identity --sampler nuts --samples 600 --chains 2 --out "$T/nuts" --quiet 2>"$T/err"
grep -q '^# Adaptation terminated$' "$T/nuts/chain-1.csv" && grep -q '^# Step size = ' "$T/nuts/chain-1.csv" \
    && grep -A1 '^# Diagonal elements of inverse mass matrix:$' "$T/nuts/chain-1.csv" | tail -1 | grep -q '^# [0-9.e-]*, ' \
    && ok "nuts: CSV has the adaptation block" || bad "nuts adaptation block: $(cat "$T/err")"
awk -F, '!/^#/ && NR > 1 && $1 != "lp__" { if ($4 > 0) deep++; if ($5 > 1) lf++; n++ } END { exit !(n == 300 && deep == n && lf > 0) }' "$T/nuts/chain-1.csv" \
    && ok "nuts: treedepth__ and n_leapfrog__ carry real values" || bad "nuts sampler columns"
grep -q '^#     algorithm = hmc$' "$T/nuts/chain-1.csv" && grep -q '^#       engine = nuts$' "$T/nuts/chain-1.csv" && ok "nuts: CmdStan's algorithm/engine lines" || bad "algorithm lines"
"$B" summary "$T/nuts" >"$T/out" && grep -q "^E-BFMI per chain:" "$T/out" && ok "summary reports E-BFMI for nuts" || bad "summary E-BFMI"
grep -q "^bnnmc summary of .*, sampler nuts$" "$T/out" && ok "summary names the sampler nuts (not CmdStan's 'hmc')" || bad "summary sampler name: $(head -1 "$T/out")"
"$B" sample --dataset mackey-glass --model linear --sampler gibbs --samples 400 --out "$T/gibbs" --quiet 2>"$T/err"
code=$?
[ $code -eq 0 ] && [ "$(grep -vc '^#' "$T/gibbs/chain-1.csv")" -eq 201 ] && ok "gibbs on the linear regression" || bad "gibbs: exit $code, $(cat "$T/err")"
expect 2 "gibbs refuses a network" "gibbs samples only the linear regression" "$B" sample --dataset mackey-glass --sampler gibbs --samples 400 --out "$T/gibbs-nn" --quiet
expect 2 "bad --target-accept" "--target-accept: must be in (0, 1)" "$B" sample --dataset blobs3 --sampler nuts --target-accept 1.5 --out "$T/x"
# --metric: a bad name and a sampler without a dense metric are one-line usage errors; a
# dense run records its metric in config.json and writes CmdStan's dense_e block (one row
# of dim values per parameter), which summary reads back
expect 2 "bad --metric" "--metric: 'foo' is not one of diag|dense" "$B" sample --dataset blobs3 --sampler nuts --metric foo --out "$T/x"
expect 2 "--metric dense needs hmc or nuts" "--metric dense: --sampler langevin has no dense metric" "$B" sample --preset study --dataset blobs3 --metric dense --out "$T/x"
"$B" sample --dataset blobs3 --model linear --sampler nuts --metric dense --samples 300 --chains 2 --out "$T/dense" --quiet 2>"$T/err"
code=$?
dim=$(grep -m1 '^lp__' "$T/dense/chain-1.csv" | tr ',' '\n' | grep -vc '__$')
rows=$(sed -n '/^# Elements of inverse mass matrix:/,/^[^#]/p' "$T/dense/chain-1.csv" | grep -c '^# [-0-9]')
[ $code -eq 0 ] && grep -q '"metric":[[:space:]]*"dense"' "$T/dense/config.json" && grep -q '^#       metric = dense_e$' "$T/dense/chain-1.csv" && [ "$rows" -eq "$dim" ] && ok "nuts --metric dense: config.json, metric = dense_e, a $rows x $dim inverse metric" || bad "dense run: exit $code, $rows rows for $dim parameters, $(cat "$T/err")"
"$B" summary "$T/dense" >/dev/null 2>"$T/err" && ok "summary reads a dense run" || bad "summary of a dense run: $(cat "$T/err")"
sed '/^# Elements of inverse mass matrix:/{n;d}' "$T/dense/chain-1.csv" > "$T/c1" && cp "$T/c1" "$T/dense/chain-1.csv"
expect 2 "a dense metric cut short is refused" "inverse mass matrix" "$B" summary "$T/dense"

# run until converged: stops on target (a linear model converges in its first round), on
# time (an ESS target no run reaches), a complete folder both ways; bad values refused
expect 2 "--max-time must be positive" "--max-time: must be a positive number of seconds" "$B" sample --preset study --dataset mackey-glass --max-time 0 --out "$T/mt"
expect 2 "--target-rhat must exceed 1" "--target-rhat: must be a number above 1" "$B" sample --preset study --dataset mackey-glass --max-time 5 --target-rhat 1 --out "$T/mt"
"$B" sample --dataset mackey-glass --model linear --sampler nuts --samples 1000 --chains 4 --max-time 120 --target-ess 100 --out "$T/mt-conv" --quiet 2>"$T/err"
code=$?
[ $code -eq 0 ] && grep -q '"converged":[[:space:]]*true' "$T/mt-conv/metrics.json" && grep -q '"rounds":[[:space:]]*1,' "$T/mt-conv/metrics.json" && grep -q '"max_time":[[:space:]]*120' "$T/mt-conv/config.json" && ok "--max-time stops on target after the first round" || bad "--max-time on target: exit $code, $(cat "$T/err") $(grep -E 'converged|rounds' "$T/mt-conv/metrics.json")"
start=$(date +%s)
"$B" sample --dataset mackey-glass --model linear --sampler nuts --samples 200 --chains 2 --max-time 3 --target-ess 1e12 --out "$T/mt-time" --quiet 2>"$T/err"
code=$?
took=$(( $(date +%s) - start ))
rounds=$(sed -n 's/.*"rounds":[[:space:]]*\([0-9]*\).*/\1/p' "$T/mt-time/metrics.json")
kept=$(sed -n 's/.*"draws_per_chain":[[:space:]]*\([0-9]*\).*/\1/p' "$T/mt-time/metrics.json")
rows=$(grep -vc '^#\|^lp__' "$T/mt-time/chain-2.csv")
[ $code -eq 0 ] && grep -q '"converged":[[:space:]]*false' "$T/mt-time/metrics.json" && [ "${rounds:-0}" -gt 2 ] && [ "$took" -le 10 ] && [ "${kept:-0}" -gt 100 ] && [ "$rows" -eq "$kept" ] && grep -q "num_samples = $kept\$" "$T/mt-time/chain-2.csv" && "$B" summary "$T/mt-time" >/dev/null 2>&1 && ok "--max-time stops on time: $rounds rounds, $kept draws per chain in every chain's CSV, in ${took}s" || bad "--max-time on time: exit $code, ${took}s, rounds $rounds, kept $kept, rows $rows, $(cat "$T/err")"

# --max-time on a network under nuts: depth 12 below 1,200 training rows, 13 below 4,800, 14
# from there where the model is centred, 13 where not (--center no, a classification
# network) unless --max-depth is given; 10 otherwise
depth() { sed -n 's/^#[[:space:]]*max_depth = \([0-9]*\)$/\1/p' "$1/chain-1.csv"; }
"$B" sample --dataset mackey-glass --samples 6 --chains 1 --max-time 1 --out "$T/d12" --quiet 2>"$T/err"
"$B" sample --dataset friedman1:1199 --hidden 2 --samples 2 --chains 1 --max-time 1 --out "$T/d12b" --quiet 2>>"$T/err"
"$B" sample --dataset friedman1:1200 --hidden 2 --samples 2 --chains 1 --max-time 1 --out "$T/d13r" --quiet 2>>"$T/err"
"$B" sample --dataset friedman1:4800 --hidden 2 --samples 2 --chains 1 --max-time 1 --out "$T/d14r" --quiet 2>>"$T/err"
"$B" sample --dataset friedman1:4800 --hidden 2 --samples 2 --chains 1 --max-time 1 --center no --out "$T/d13c" --quiet 2>>"$T/err"
"$B" sample --dataset moons2 --hidden 2 --samples 2 --chains 1 --max-time 1 --out "$T/d13k" --quiet 2>>"$T/err"
"$B" sample --dataset mackey-glass --samples 6 --chains 1 --max-time 1 --center no --out "$T/d13" --quiet 2>>"$T/err"
"$B" sample --dataset mackey-glass --samples 6 --chains 1 --max-time 1 --max-depth 5 --out "$T/d5" --quiet 2>>"$T/err"
"$B" sample --dataset mackey-glass --samples 6 --chains 1 --out "$T/d10" --quiet 2>>"$T/err"
"$B" sample --dataset mackey-glass --model linear --samples 6 --chains 1 --max-time 1 --out "$T/dlin" --quiet 2>>"$T/err"
depths="$(depth "$T/d12") $(depth "$T/d12b") $(depth "$T/d13r") $(depth "$T/d14r") $(depth "$T/d13c") $(depth "$T/d13k") $(depth "$T/d13") $(depth "$T/d5") $(depth "$T/d10") $(depth "$T/dlin")"
[ "$depths" = "12 12 13 14 13 13 13 5 10 10" ] && grep -q '"max_depth":[[:space:]]*12' "$T/d12/config.json" \
    && ok "--max-time gives a centred network depth 12, 13 from 1,200 rows, 14 from 4,800 (13 uncentred: --center no, classification; recorded), not a given --max-depth, a run without it or a linear model" \
    || bad "--max-time's depth: $depths, $(cat "$T/err")"

# --max-time on a network under nuts without --samples: 200 warm-up + 200, rounds of 100;
# a given --samples keeps its rounds; a given --burn-in count (0 too) is kept, 200 after it;
# --thin K: 200 K and 100 K; no --max-time, or a linear model: 2000 / 1000
# cfg DIR KEY: a value of config.json (here and in the defaults below)
cfg() { sed -n "s/.*\"$2\":[[:space:]]*\"*\([^\",{]*\)\"*,*$/\1/p" "$1/config.json" | head -1; }
rt() { echo "$(cfg "$1" samples)/$(cfg "$1" burn_in)/$(cfg "$1" round)"; }
"$B" sample --dataset mackey-glass --chains 1 --max-time 1 --max-depth 2 --out "$T/r1" --quiet 2>"$T/err"
"$B" sample --dataset mackey-glass --chains 1 --max-time 1 --max-depth 2 --samples 60 --out "$T/r2" --quiet 2>>"$T/err"
"$B" sample --dataset mackey-glass --chains 1 --max-time 1 --max-depth 2 --burn-in 50 --out "$T/r3" --quiet 2>>"$T/err"
"$B" sample --dataset mackey-glass --chains 1 --max-depth 2 --samples 20 --out "$T/r4" --quiet 2>>"$T/err"
"$B" sample --dataset mackey-glass --model linear --chains 1 --max-time 1 --out "$T/r5" --quiet 2>>"$T/err"
"$B" sample --dataset mackey-glass --chains 1 --max-time 1 --max-depth 2 --burn-in 0 --out "$T/r6" --quiet 2>>"$T/err"
"$B" sample --dataset mackey-glass --chains 1 --max-time 1 --max-depth 2 --thin 3 --out "$T/r7" --quiet 2>>"$T/err"
[ "$(rt "$T/r1") $(rt "$T/r2") $(rt "$T/r3") $(rt "$T/r4") $(rt "$T/r5") $(rt "$T/r6") $(rt "$T/r7")" = "400/200/100 60/30/0 250/50/100 20/10/ 2000/1000/0 200/0/100 800/200/300" ] \
    && grep -q "num_warmup = 200\$" "$T/r1/chain-1.csv" \
    && ok "--max-time on a network: 400 iterations, 200 warm-up, rounds of 100 where not given" \
    || bad "--max-time's rounds: $(rt "$T/r1") $(rt "$T/r2") $(rt "$T/r3") $(rt "$T/r4") $(rt "$T/r5") $(rt "$T/r6") $(rt "$T/r7"), $(cat "$T/err")"

# --center: on by default for a one-hidden-layer regression network under nuts, hmc and mala
# (recorded in config.json), off for the others, a linear model, a classifier, --preset study
# and --center no; refused with the samplers that move in the model's own coordinates
tiny() {   # tiny KEY DIR ARGS...: config.json's KEY of a tiny run into $T/DIR
    k=$1 n=$2
    shift 2
    "$B" sample "$@" --samples 4 --chains 1 --out "$T/$n" --quiet 2>>"$T/err"
    cfg "$T/$n" "$k"
}
ctr() { n=$1; shift; tiny center "ctr-$n" "$@"; }   # ctr NAME ARGS...
: >"$T/err"
got="$(ctr nuts --dataset mackey-glass) $(ctr hmc --dataset mackey-glass --sampler hmc)"
got="$got $(ctr mala --dataset mackey-glass --sampler mala) $(ctr rw --dataset mackey-glass --sampler rw)"
got="$got $(ctr no --dataset mackey-glass --center no) $(ctr study --dataset mackey-glass --preset study --samples 4)"
got="$got $(ctr lin --dataset mackey-glass --model linear) $(ctr cls --dataset blobs3)"
got="$got $(ctr two --dataset mackey-glass --hidden 3,3) $(ctr rwy --dataset mackey-glass --sampler rw --center yes)"
[ "$got" = "true true true false false false false false false true" ] \
    && ok "--center: on for nuts, hmc, mala on a one-hidden-layer regression network; off for rw, --center no, the study, linear, classifier, two layers; rw --center yes on" \
    || bad "--center defaults: $got, $(cat "$T/err")"
expect 2 "--center yes refused with langevin" "--center yes: --sampler langevin moves in the model's own coordinates" "$B" sample --dataset mackey-glass --sampler langevin --center yes --out "$T/cx"
expect 2 "--center yes refused with sgld" "--center yes: --sampler sgld" "$B" sample --dataset mackey-glass --sampler sgld --center yes --out "$T/cx"
expect 2 "--center yes refused with pt over langevin" "--center yes: --sampler pt --base langevin moves" "$B" sample --dataset mackey-glass --sampler pt --base langevin --center yes --out "$T/cx"
expect 2 "--center takes yes or no" "--center: 'maybe' is not one of" "$B" sample --dataset mackey-glass --center maybe --out "$T/cx"
# --axes: off unless given; given, on for any network (a classifier, two layers), ignored
# by a linear model; refused where --center is
axs() { n=$1; shift; tiny axes "axs-$n" "$@"; }   # axs NAME ARGS...
: >"$T/err"
got="$(axs nuts --dataset mackey-glass) $(axs hmc --dataset mackey-glass --sampler hmc --axes yes)"
got="$got $(axs mala --dataset mackey-glass --sampler mala --axes yes) $(axs no --dataset mackey-glass --axes no)"
got="$got $(axs lin --dataset mackey-glass --model linear --axes yes) $(axs cls --dataset blobs3 --axes yes)"
got="$got $(axs two --dataset mackey-glass --hidden 3,3 --axes yes) $(axs rwy --dataset mackey-glass --sampler rw --axes yes)"
got="$got $(cfg "$T/axs-nuts" center)"
[ "$got" = "false true true false false true true true true" ] \
    && ok "--axes: off by default (the centred level still on); given, on for hmc, mala, rw, a classifier, two layers; ignored by a linear model" \
    || bad "--axes defaults: $got, $(cat "$T/err")"
expect 2 "--axes yes refused with langevin" "--axes yes: --sampler langevin moves in the model's own coordinates" "$B" sample --dataset mackey-glass --sampler langevin --axes yes --out "$T/cx"
expect 2 "--axes yes refused with sghmc" "--axes yes: --sampler sghmc" "$B" sample --dataset mackey-glass --sampler sghmc --axes yes --out "$T/cx"
expect 2 "--axes takes yes or no" "--axes: 'sideways' is not one of" "$B" sample --dataset mackey-glass --axes sideways --out "$T/cx"
# --precision: recorded as the density computed it: single by default for a network under
# nuts, hmc and mala, double for the other samplers and the study's preset, and where there
# is no single-precision kernel (a linear model, two hidden layers), where given refused
# (a processor without AVX2 has none: there, double throughout)
prc() { n=$1; shift; tiny precision "prc-$n" "$@"; }   # prc NAME ARGS...
if grep -qw avx2 /proc/cpuinfo; then
    : >"$T/err"
    got="$(prc def --dataset mackey-glass) $(prc hmc --dataset mackey-glass --sampler hmc)"
    got="$got $(prc cls --dataset blobs3) $(prc dbl --dataset mackey-glass --precision double)"
    got="$got $(prc rw --dataset mackey-glass --sampler rw) $(prc rws --dataset mackey-glass --sampler rw --precision single)"
    got="$got $(prc study --dataset mackey-glass --preset study --samples 4)"
    got="$got $(prc lin --dataset mackey-glass --model linear) $(prc two --dataset mackey-glass --hidden 3,3)"
    [ "$got" = "single single single double double single double double double" ] \
        && ok "--precision: single for nuts, hmc, a classifier; double where given, for rw (single where given), the study, a linear model, two layers" \
        || bad "--precision: $got, $(cat "$T/err")"
else
    got="$(prc def --dataset mackey-glass)"
    [ "$got" = double ] && ok "--precision: double by default on a processor without AVX2" || bad "--precision without AVX2: $got"
fi
expect 2 "--precision single refused for a linear model" "--precision single: only a network with one hidden layer" "$B" sample --dataset mackey-glass --model linear --precision single --out "$T/cx"
expect 2 "--precision single refused for two hidden layers" "--precision single: only a network with one hidden layer" "$B" sample --dataset mackey-glass --hidden 3,3 --precision single --out "$T/cx"
expect 2 "--precision single refused by sgld" "--precision single: --sampler sgld's minibatch gradients are computed in double" "$B" sample --dataset mackey-glass --sampler sgld --precision single --out "$T/cx"
expect 2 "--precision takes double or single" "--precision: 'half' is not one of" "$B" sample --dataset mackey-glass --precision half --out "$T/cx"
# a centred run through the folder: predict from its CSVs reproduces its
# own predictive means (that the draws are the model's parameters: tests/test_center.c)
"$B" sample --dataset mackey-glass --samples 200 --chains 2 --max-depth 6 --out "$T/cmg" --quiet 2>"$T/err"
mkdir -p "$T/cmgdata"
"$B" datasets --write mackey-glass "$T/cmgdata" 2>>"$T/err"
"$B" predict "$T/cmg" --data "$T/cmgdata/test.txt" >"$T/cpt.csv" 2>>"$T/err"
[ "$(cfg "$T/cmg" center)" = true ] && paste -d, "$T/cpt.csv" "$T/cmg/pred-test.csv" | awk -F, 'NR > 1 { d = $3 - $12; if (d < 0) d = -d; if (d > m) m = d; n++ }
    END { exit !(n == 196 && m < 1e-6) }' && ok "a centred run: predict from its CSVs reproduces its predictive means" \
    || bad "centred run: predict disagrees with pred-test.csv, $(cat "$T/err")"

# defaults: nuts, 2000 iterations, half warm-up, for every model; --preset study: the study's
# sampler (langevin for nn, rw for linear), its scales and 10000 iterations where not given
"$B" sample --dataset blobs3 --model linear --chains 1 --out "$T/def" --quiet 2>"$T/err"
[ "$(cfg "$T/def" sampler)/$(cfg "$T/def" samples)/$(cfg "$T/def" burn_in)/$(cfg "$T/def" preset)" = nuts/2000/1000/none ] \
    && ok "default: nuts, 2000 iterations, 1000 warm-up" || bad "defaults: $(cfg "$T/def" sampler)/$(cfg "$T/def" samples)/$(cfg "$T/def" burn_in)/$(cfg "$T/def" preset) $(cat "$T/err")"
"$B" sample --preset study --dataset mackey-glass --model linear --chains 1 --out "$T/st-lin" --quiet 2>"$T/err"
[ "$(cfg "$T/st-lin" sampler)/$(cfg "$T/st-lin" samples)/$(cfg "$T/st-lin" burn_in)/$(cfg "$T/st-lin" step)/$(cfg "$T/st-lin" preset)" = rw/10000/5000/0.02/study ] \
    && ok "--preset study, linear: rw, 10000 iterations, 5000 burn-in, step 0.02" || bad "--preset study linear: $(cfg "$T/st-lin" sampler)/$(cfg "$T/st-lin" samples)/$(cfg "$T/st-lin" burn_in)/$(cfg "$T/st-lin" step) $(cat "$T/err")"
"$B" sample --preset study --dataset mackey-glass --samples 40 --chains 1 --out "$T/st-nn" --quiet 2>"$T/err"
[ "$(cfg "$T/st-nn" sampler)/$(cfg "$T/st-nn" samples)/$(cfg "$T/st-nn" step)/$(cfg "$T/st-nn" step_eta)" = langevin/40/0.025/0.2 ] \
    && ok "--preset study, nn: langevin, --samples kept, steps 0.025 and 0.2" || bad "--preset study nn: $(cfg "$T/st-nn" sampler)/$(cfg "$T/st-nn" samples)/$(cfg "$T/st-nn" step)/$(cfg "$T/st-nn" step_eta) $(cat "$T/err")"
expect 2 "bad --preset" "--preset: 'stan' is not one of none|study" "$B" sample --dataset blobs3 --preset stan --out "$T/x"

# demo: the default sampler into DIR, the study's into DIR/study, side by side
"$B" demo --samples 200 --max-depth 5 --out "$T/demo" --quiet >"$T/out" 2>"$T/err"
code=$?
[ $code -eq 0 ] && grep -q "test  RMSE" "$T/out" && ok "demo runs and prints the test RMSE" || bad "demo: exit $code, $(cat "$T/err")"
grep -q "^  prediction R-hat max  *[0-9.]*  *[0-9.]*   (want < 1.01)$" "$T/out" && grep -q "^  sampler, iterations  *langevin, 10000 it  *nuts, 200 it$" "$T/out" \
    && [ "$(cfg "$T/demo/study" sampler)/$(cfg "$T/demo/study" preset)" = langevin/study ] && [ "$(cfg "$T/demo" sampler)" = nuts ] \
    && ok "demo: the study's sampler beside the default, two run folders" || bad "demo side by side: $(cat "$T/out")"
if [ -f "$DATA/iris/train.txt" ]; then
    expect 0 "sample infers classification on iris" "task classification inferred" "$B" sample --preset study --train "$DATA/iris/train.txt" --test "$DATA/iris/test.txt" --samples 200 --out "$T/iris"
    grep -q '"sha256":[[:space:]]*"[0-9a-f]\{64\}"' "$T/iris/config.json" && ok "config.json records the data's sha256" || bad "no sha256"
else
    echo "skip   the study's iris data: $DATA/iris/train.txt not found"
fi

# priors: --prior-var per layer or inf, negative nu1, each refusal one line, exit 2, no folder
expect 2 "--prior-var 25,x" "--prior-var: 'x' is not a number" "$B" sample --dataset mackey-glass --prior-var 25,x --out "$T/pv"
expect 2 "--prior-var negative" "--prior-var: must be positive or inf, got -1" "$B" sample --dataset mackey-glass --prior-var -1 --out "$T/pv"
expect 2 "--prior-var with an empty entry" "--prior-var: '25,,1' is not a list of variances" "$B" sample --dataset mackey-glass --prior-var 25,,1 --out "$T/pv"
expect 2 "--prior-var: a count that is not the architecture's" "--prior-var: 3 values, but the model has 2 weight layers" "$B" sample --dataset mackey-glass --prior-var 25,1,3 --out "$T/pv"
expect 2 "--prior-var: two values for the linear model" "--prior-var: 2 values, but the model has 1 weight layer " "$B" sample --dataset mackey-glass --model linear --prior-var 5,5 --out "$T/pv"
expect 2 "a flat prior on a hidden layer is refused" "a flat prior on layer 1, which feeds hidden units, is improper" "$B" sample --dataset mackey-glass --task regression --prior-var inf --out "$T/pv"
expect 2 "a flat output layer under a sigmoid output is refused" "a flat prior on the output layer of a sigmoid output is improper" "$B" sample --dataset mackey-glass --task regression --prior-var 25,inf --out "$T/pv"
expect 2 "nu1 below the propriety bound is refused" "nu1 = -200 makes the posterior improper: with a flat prior it must exceed" "$B" sample --dataset mackey-glass --model linear --task regression --prior-var inf --nu1 -200 --out "$T/pv"
expect 2 "nu1 below -n/2 with a Gaussian prior is refused" "with a Gaussian prior it must exceed" "$B" sample --dataset mackey-glass --task regression --model linear --nu1 -100000 --out "$T/pv"
expect 2 "negative nu2 is refused" "--nu2: must be >= 0, got -1" "$B" sample --dataset mackey-glass --nu2 -1 --out "$T/pv"
expect 2 "pt refuses a flat prior by name" "--sampler pt: a flat prior cannot be tempered" "$B" sample --dataset mackey-glass --task regression --model linear --prior-var inf --sampler pt --out "$T/pv"
[ ! -e "$T/pv" ] && ok "no folder for a refused prior" || bad "a folder was made for a refused prior"
mkdir -p "$T/mg" && "$B" datasets --write mackey-glass "$T/mg"
expect 0 "flat linear prior with the flat prior on sigma runs" "" "$B" sample --dataset mackey-glass --model linear --prior-var inf --nu1 -0.5 --nu2 0 --samples 200 --chains 2 --quiet --out "$T/flat"
grep -q '"prior_var":[[:space:]]*"inf"' "$T/flat/config.json" && grep -q '"prior_var_layers":[[:space:]]*\["inf"\]' "$T/flat/config.json" &&
    grep -q '"nu1":[[:space:]]*-0.5' "$T/flat/config.json" && ok "config.json records the flat prior as \"inf\" and nu1 -0.5" || bad "flat prior in config.json: $(grep -A3 prior_var "$T/flat/config.json")"
expect 0 "summary of a flat-prior run" "" "$B" summary "$T/flat"
expect 0 "predict of a flat-prior run" "" "$B" predict "$T/flat" --data "$T/mg/test.txt"
expect 0 "gibbs under a flat prior" "" "$B" sample --dataset mackey-glass --model linear --sampler gibbs --prior-var inf --samples 200 --chains 2 --quiet --out "$T/flat-gibbs"
expect 0 "per-layer prior with a flat identity output layer runs, with a warning" "warning: a flat prior on the output layer of a network is not proven proper" "$B" sample --dataset mackey-glass --prior-var 4,inf --output identity --samples 60 --chains 2 --max-depth 4 --out "$T/layers"
grep -q '"prior_var_layers":[[:space:]]*\[4,[[:space:]]*"inf"\]' "$T/layers/config.json" && ok "config.json records the per-layer variances" || bad "per-layer variances: $(grep -A2 prior_var_layers "$T/layers/config.json")"
expect 0 "predict of a per-layer run" "" "$B" predict "$T/layers" --data "$T/mg/test.txt"
# the variances are read back: a bad one in config.json is refused by name
cp -r "$T/layers" "$T/layers-bad"
sed 's/"prior_var_layers":[^]]*]/"prior_var_layers": [4, "x"]/' "$T/layers/config.json" >"$T/layers-bad/config.json"
expect 2 "config.json's per-layer variances are read back and checked" "model.prior_var_layers[1] is not a positive number or \"inf\"" "$B" summary "$T/layers-bad"
sed 's/"prior_var_layers":[^]]*]/"prior_var_layers": [4, "inf", 1]/' "$T/layers/config.json" >"$T/layers-bad/config.json"
expect 2 "config.json's per-layer count is checked" "model.prior_var_layers has 3 entries, want 2" "$B" summary "$T/layers-bad"
sed 's/"prior_var_layers":[^]]*]/"prior_var_layers": ["inf", 4]/' "$T/layers/config.json" >"$T/layers-bad/config.json"
expect 2 "config.json's priors go through the model's checks" "a flat prior on layer 1, which feeds hidden units" "$B" summary "$T/layers-bad"
expect 0 "a flat prior on a classification warns" "warning: a flat prior on the output layer is proper only when the classes are not separable" "$B" sample --dataset blobs3 --model linear --prior-var inf --samples 60 --chains 1 --max-depth 4 --out "$T/flat-cls"

# --output sigmoid for classification: the study's softmax of sigmoid outputs, round trip
expect 0 "--output sigmoid classification runs" "" "$B" sample --dataset blobs3 --output sigmoid --samples 80 --chains 2 --max-depth 4 --quiet --out "$T/sig"
grep -q '"output":[[:space:]]*"sigmoid"' "$T/sig/config.json" && ok "config.json records the sigmoid classification output" || bad "sigmoid output: $(grep output "$T/sig/config.json")"
mkdir -p "$T/b3" && "$B" datasets --write blobs3 "$T/b3"
"$B" predict "$T/sig" --data "$T/b3/test.txt" >"$T/sig-pred.csv" 2>"$T/err"
cmp -s "$T/sig-pred.csv" "$T/sig/pred-test.csv" && ok "predict rebuilds the sigmoid output from config.json: its probabilities are the run's" ||
    bad "predict of a sigmoid-output run differs from pred-test.csv: $(diff "$T/sig-pred.csv" "$T/sig/pred-test.csv" | head -3)"
expect 0 "summary of a sigmoid-output run" "" "$B" summary "$T/sig"
"$B" sample --dataset blobs3 --preset study --samples 60 --chains 1 --quiet --out "$T/st-cls" 2>"$T/err"
"$B" sample --dataset blobs3 --preset study --model linear --samples 60 --chains 1 --quiet --out "$T/st-cls-lin" 2>>"$T/err"
grep -q '"output":[[:space:]]*"sigmoid"' "$T/st-cls/config.json" && grep -q '"output":[[:space:]]*"softmax"' "$T/st-cls-lin/config.json" &&
    ok "--preset study classification: sigmoid outputs for the network, softmax of raw outputs for the linear model" || bad "--preset study classification outputs: $(cat "$T/err")"
expect 0 "--output identity on a classification is the standard softmax" "" "$B" sample --dataset blobs3 --output identity --samples 40 --chains 1 --max-depth 3 --quiet --out "$T/cls-id"
grep -q '"output":[[:space:]]*"softmax"' "$T/cls-id/config.json" && ok "--output identity classification recorded as softmax" || bad "--output identity classification: $(grep output "$T/cls-id/config.json")"

# the minibatch samplers: approximate, and said so wherever a run folder is read
grep -q "^  sgld .*APPROXIMATE" "$T/help" && grep -q "^  sghmc .*APPROXIMATE" "$T/help" &&
    ok "sample --help marks sgld and sghmc APPROXIMATE" || bad "sample --help: sgld/sghmc not marked approximate"
expect 2 "--batch above the training rows is refused" "--batch 301: more than the 300 training rows" "$B" sample --dataset mackey-glass --task regression --sampler sgld --batch 301 --out "$T/sg-bad"
expect 2 "--batch 0 is refused" "--batch" "$B" sample --dataset mackey-glass --sampler sgld --batch 0 --out "$T/sg-bad"
expect 2 "--beta-hat not below --friction is refused" "--beta-hat 0.2 must be below --friction 0.1" "$B" sample --dataset mackey-glass --task regression --sampler sghmc --beta-hat 0.2 --out "$T/sg-bad"
expect 2 "a setting of sghmc is refused for sgld" "--friction is not a setting of --sampler sgld" "$B" sample --dataset mackey-glass --sampler sgld --friction 0.2 --out "$T/sg-bad"
expect 2 "pt refuses a minibatch base (its batch form is not tempered)" "pt: the base kernel cannot be sgld" "$B" sample --dataset mackey-glass --task regression --sampler pt --base sgld --samples 400 --out "$T/sg-bad"
[ ! -e "$T/sg-bad" ] && ok "refused minibatch runs leave no folder" || bad "a refused minibatch run left $T/sg-bad"
mkdir -p "$T/mg" && "$B" datasets --write mackey-glass "$T/mg"
for k in sgld sghmc; do
    expect 0 "$k runs" "" "$B" sample --dataset mackey-glass --sampler $k --batch 50 --samples 400 --chains 2 --quiet --out "$T/$k"
    grep -q '"approximate":[[:space:]]*true' "$T/$k/config.json" && grep -q '"approximation":[[:space:]]*true' "$T/$k/metrics.json" &&
        ok "$k: config.json and metrics.json say approximate" || bad "$k: no approximate flag in config.json/metrics.json"
    "$B" summary "$T/$k" >"$T/out" 2>&1
    grep -q "sampler $k (APPROXIMATE)" "$T/out" && grep -q "is APPROXIMATE" "$T/out" && ok "$k: summary says approximate" || bad "$k: summary: $(head -1 "$T/out")"
    "$B" summary "$T/$k" --json | grep -q '"approximation":[[:space:]]*true' && ok "$k: summary --json says approximation" || bad "$k: summary --json"
    "$B" loo "$T/$k" >/dev/null 2>"$T/err"
    grep -q "APPROXIMATE minibatch sampler" "$T/err" && ok "$k: loo notes the approximation" || bad "$k: loo: $(cat "$T/err")"
    "$B" predict "$T/$k" --data "$T/mg/test.txt" >/dev/null 2>"$T/err"
    grep -q "APPROXIMATE minibatch sampler" "$T/err" && ok "$k: predict notes the approximation" || bad "$k: predict: $(cat "$T/err")"
done
echo "test_cli: $pass passed, $fail failed"
[ "$pass" -gt 0 ] && [ "$fail" -eq 0 ]
