#!/bin/sh
# test_variational.sh — `bnnmc variational` and its run folder: CmdStan's variational CSV
# layout (comment lines, header, the mean row then the draws), the mean row against the draws
# (a meanfield fit on the linear regression: each column's draw mean within 4 standard errors
# of the mean row, eta's on the log scale, as tau2 = exp(mean eta)), the mean row equal to
# metrics.json's q.mean, bitwise the same files for --threads 1 and 2, the readers (summary,
# predict, plot, loo, compare) accepting the folder and saying it holds an approximation,
# the folder refused once cut short, resume/extend refused, bad options one line and exit 2,
# and rstan's read_stan_csv reading chain-1.csv (when R and rstan are installed).
# usage: test_variational.sh BNNMC
B=$1
T=$(mktemp -d /tmp/bnnmc-vi-XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok     $1"; }
bad() { fail=$((fail + 1)); echo "NOT OK $1"; }

# expect CODE "DESCRIPTION" "STDERR-SUBSTRING" cmd...: exit CODE, one line on stderr
expect() {
    code=$1 desc=$2 want=$3
    shift 3
    "$@" >"$T/out" 2>"$T/err"
    got=$?
    if [ "$got" -eq "$code" ] && grep -qF -- "$want" "$T/err" && [ "$(wc -l <"$T/err")" -eq 1 ]; then
        ok "$desc"
    else
        bad "$desc: exit $got (want $code), stderr: $(cat "$T/err")"
    fi
}

# ---- a meanfield fit of the linear regression, many draws
V="$T/mf"
"$B" variational --dataset mackey-glass --model linear --output-samples 4000 --seed 3 \
    --threads 1 --out "$V" 2>"$T/progress"
[ $? -eq 0 ] && [ -s "$V/chain-1.csv" ] && [ -s "$V/summary.csv" ] && [ -s "$V/pred-test.csv" ] &&
    [ -s "$V/pred-train.csv" ] && ok "variational meanfield writes the run folder" ||
    bad "variational meanfield: $(tail -1 "$T/progress")"
grep -q "^  iter             ELBO   delta_ELBO_mean   delta_ELBO_med   notes" "$T/progress" &&
    grep -q "^Begin eta adaptation" "$T/progress" && grep -q "^COMPLETED" "$T/progress" &&
    ok "progress: CmdStan's ELBO table on stderr" || bad "no ELBO table on stderr"
"$B" variational --dataset mackey-glass --model linear --output-samples 10 --out "$T/q" --quiet 2>"$T/err"
[ ! -s "$T/err" ] && ok "--quiet: nothing on stderr" || bad "--quiet printed: $(head -2 "$T/err")"

# the comment lines CmdStan writes for method = variational
C="$V/chain-1.csv"
miss=""
for l in "# method = variational" "#   variational" "#     algorithm = meanfield (Default)" \
    "#       meanfield" "#     iter = 10000 (Default)" "#     grad_samples = 1 (Default)" \
    "#     elbo_samples = 100 (Default)" "#     eta = 1 (Default)" "#     adapt" \
    "#       engaged = 1 (Default)" "#       iter = 50 (Default)" \
    "#     tol_rel_obj = 0.01 (Default)" "#     eval_elbo = 100 (Default)" \
    "#     output_samples = 4000" "# id = 1" "#   seed = 3" "# model = bnnmc_linear_regression"; do
    grep -qxF -- "$l" "$C" || miss="$miss [$l]"
done
[ -z "$miss" ] && ok "chain-1.csv: CmdStan's variational comment lines" || bad "chain-1.csv lacks:$miss"

# header: CmdStan's three columns, then the parameters named as sample's CSVs name them
"$B" sample --dataset mackey-glass --model linear --sampler rw --samples 20 --chains 2 \
    --out "$T/s" --quiet 2>/dev/null
hs=$(grep -v '^#' "$T/s/chain-1.csv" | head -1 | cut -d, -f8-)
hv=$(grep -v '^#' "$C" | head -1)
[ -n "$hs" ] && [ "$hv" = "lp__,log_p__,log_g__,$hs" ] && ok "header: lp__,log_p__,log_g__ then sample's parameter names ($hs)" ||
    bad "header '$hv', sample's parameters '$hs'"

# after the header: the adaptation's two lines with metrics.json's eta, then the mean row
eta=$(sed -n 's/^[[:space:]]*"eta":[[:space:]]*\([-0-9.e+]*\),*$/\1/p' "$V/metrics.json")
awk -v eta="$eta" '!/^#/ && !h { h = NR; next } h && NR == h + 1 { a = $0 } h && NR == h + 2 { b = $0 }
    END { exit !(a == "# Stepsize adaptation complete." && b == "# eta = " eta + 0) }' "$C" &&
    [ -n "$eta" ] && ok "'# Stepsize adaptation complete.' and '# eta = $eta' follow the header" ||
    bad "no adaptation lines with eta $eta after the header"
rows=$(grep -vc '^#' "$C")
[ "$rows" -eq 4002 ] && tail -1 "$C" | grep -qx "# COMPLETED." && ok "header, the mean row and 4000 draws; '# COMPLETED.' last" ||
    bad "chain-1.csv has $rows lines that are not comments (want 4002) or no last line"

# the mean row: lp__ = log_p__ = log_g__ = 0, metrics.json's q.mean exactly (tau2 its exp)
sed -n '/"q":/,/"sd":/s/^[[:space:]]*"mean":[[:space:]]*\[\(.*\)\],*$/\1/p' "$V/metrics.json" | tr -d ' \t' >"$T/qmean"
awk -F, -v qm="$(cat "$T/qmean")" '!/^#/ { n++ } n == 2 {
        k = split(qm, m, ",")
        good = k == NF - 3 && $1 == 0 && $2 == 0 && $3 == 0
        for (j = 1; j < k; j++) good = good && $(j + 3) == m[j] + 0
        t = exp(m[k]); good = good && ($NF - t) / t < 1e-14 && (t - $NF) / t < 1e-14
        exit !good }' "$C" && [ -s "$T/qmean" ] && ok "first row = the mean of q (metrics.json's q.mean; tau2 = exp(mean eta)); lp__, log_p__, log_g__ 0" ||
    bad "first row is not metrics.json's q.mean"

# the mean row against the draws: column means within 4 standard errors (sd / sqrt(4000));
# tau2's draws are exp(eta): their log's mean against log of the mean row
# (the column count is the mean row's: in END, NF is the last line's, a comment; a tau2
# that is not positive fails by itself, as mawk's NaN compares true with anything)
awk -F, '!/^#/ { n++ } !/^#/ && n >= 2 && !($NF > 0) { bad++ }
    n == 2 { nf = NF; for (j = 4; j <= nf; j++) mu[j] = (j == nf) ? log($j) : $j; next }
    n > 2 && !/^#/ { d++; for (j = 4; j <= nf; j++) { x = (j == nf) ? log($j) : $j; s[j] += x; ss[j] += x * x }
            lp0 += $1 != 0; lpbad += !($2 < 0 || $2 > 0); lg += $3 }
    END { worst = 0
          for (j = 4; j <= nf; j++) { m = s[j] / d; sd = sqrt(ss[j] / d - m * m); z = (m - mu[j]) / (sd / sqrt(d))
                                      if (z < 0) z = -z; if (!(z <= worst)) worst = z }
          printf "%.2f over %d columns\n", worst, nf - 3
          exit !(d == 4000 && nf == 9 && bad == 0 && worst < 4 && lp0 == 0 && lpbad == 0 && lg < 0) }' "$C" >"$T/z" &&
    ok "mean row vs the 4000 draws: worst |z| $(cat "$T/z") < 4; draws' lp__ 0, log_p__ set, log_g__ < 0" ||
    bad "mean row vs draws: worst |z| $(cat "$T/z") (or tau2 <= 0, or lp__/log_p__/log_g__ wrong)"

# config.json and metrics.json say what the folder holds
grep -q '"method":[[:space:]]*"variational"' "$V/config.json" &&
    grep -q '"approximation":[[:space:]]*true' "$V/config.json" &&
    grep -q '"algorithm":[[:space:]]*"meanfield"' "$V/config.json" &&
    grep -q '"eta_used":' "$V/config.json" && grep -q '"tol_rel_obj":[[:space:]]*0.01' "$V/config.json" &&
    grep -q '"status":[[:space:]]*"complete"' "$V/config.json" &&
    grep -q '"method":[[:space:]]*"variational"' "$V/metrics.json" &&
    grep -q '"elbo":[[:space:]]*-*[0-9]' "$V/metrics.json" && ! grep -q '"acceptance"' "$V/metrics.json" &&
    ok "config.json and metrics.json: method variational, approximation, settings, the ELBO" ||
    bad "config.json or metrics.json do not say what the folder holds"

# same seed, same bytes, whatever --threads
"$B" variational --dataset mackey-glass --model linear --output-samples 4000 --seed 3 \
    --threads 2 --out "$T/mf2" --quiet
cmp -s "$C" "$T/mf2/chain-1.csv" && cmp -s "$V/pred-test.csv" "$T/mf2/pred-test.csv" &&
    cmp -s "$V/summary.csv" "$T/mf2/summary.csv" && ok "--threads 1 and 2: byte-identical chain-1.csv, pred-test.csv, summary.csv" ||
    bad "the files depend on --threads"

# ---- full-rank on a classification
F="$T/fr"
"$B" variational --dataset blobs3 --model linear --algorithm fullrank --output-samples 500 \
    --out "$F" --quiet &&
    grep -qxF "#     algorithm = fullrank" "$F/chain-1.csv" && grep -qxF "#       fullrank" "$F/chain-1.csv" &&
    grep -q '"algorithm":[[:space:]]*"fullrank"' "$F/config.json" && [ -s "$F/pred-test.csv" ] &&
    ok "variational fullrank on a classification" || bad "variational fullrank"

# --no-adapt: eta as given, no adaptation lines (the mean row follows the header)
"$B" variational --dataset blobs3 --model linear --no-adapt --eta 0.5 --output-samples 20 \
    --out "$T/na" --quiet && grep -qxF "#       engaged = 0" "$T/na/chain-1.csv" &&
    grep -qxF "#     eta = 0.5" "$T/na/chain-1.csv" && ! grep -q "Stepsize adaptation" "$T/na/chain-1.csv" &&
    [ "$(grep -A1 '^lp__' "$T/na/chain-1.csv" | tail -1 | cut -d, -f1-3)" = "0,0,0" ] &&
    grep -q '"eta_used":[[:space:]]*0.5' "$T/na/config.json" &&
    ok "--no-adapt --eta 0.5: engaged = 0, eta 0.5, no adaptation lines, the mean row next" ||
    bad "--no-adapt: the CSV's settings or layout"

# ---- the readers take the folder and say it holds an approximation
"$B" summary "$V" >"$T/out" 2>"$T/err" && grep -q "variational approximation (ADVI meanfield)" "$T/out" &&
    grep -q "APPROXIMATION" "$T/out" && grep -q "^ELBO .* after [0-9]* iterations" "$T/out" &&
    ok "summary reads the folder and says it is a variational approximation" || bad "summary: $(cat "$T/err")"
"$B" summary "$V" --json >"$T/out" && grep -q '"method":[[:space:]]*"variational"' "$T/out" &&
    grep -q '"approximation":[[:space:]]*true' "$T/out" && ok "summary --json: method variational" || bad "summary --json"
awk 'BEGIN { srand(5); for (i = 0; i < 12; i++) printf "%.4f %.4f %.4f %.4f\n", rand(), rand(), rand(), rand() }' >"$T/rows.txt"
"$B" predict "$V" --data "$T/rows.txt" >"$T/out" 2>"$T/err" && [ "$(wc -l <"$T/out")" -eq 13 ] &&
    grep -q "holds a variational approximation (ADVI meanfield)" "$T/err" &&
    ok "predict reads the folder and says it is a variational approximation" || bad "predict: $(cat "$T/err")"
"$B" loo "$V" --json >"$T/out" 2>"$T/err" && grep -q '"elpd_loo"' "$T/out" &&
    grep -q "holds a variational approximation" "$T/err" && ok "loo reads the folder and says so" ||
    bad "loo: $(cat "$T/err")"
"$B" compare "$V" "$T/s" >"$T/out" 2>"$T/err" && grep -q "$V" "$T/out" &&
    grep -q "compare: note: $V holds a variational approximation" "$T/err" &&
    ok "compare takes a variational and a sampled run and says which is the approximation" ||
    bad "compare: $(cat "$T/err")"
if command -v gnuplot >/dev/null 2>&1; then
    "$B" plot "$V" >"$T/out" 2>"$T/err" && [ -s "$V/plots/trace.png" ] &&
        grep -q "holds a variational approximation" "$T/err" && ok "plot draws the folder and says so" ||
        bad "plot: $(cat "$T/err")"
else
    echo "skip   plot (gnuplot not installed)"
fi

# ---- strict readers: a cut file is refused
cp -r "$V" "$T/cut"
head -n -1 "$V/chain-1.csv" >"$T/cut/chain-1.csv"
expect 2 "summary refuses chain-1.csv without its last line" "no '# COMPLETED.' line at its end" "$B" summary "$T/cut"
head -n -2 "$V/chain-1.csv" >"$T/cut/chain-1.csv"
expect 2 "summary refuses chain-1.csv with a draw missing" "3999 draws, but" "$B" summary "$T/cut"
sed 's/^# method = variational$/# method = sample/' "$V/chain-1.csv" >"$T/cut/chain-1.csv"
expect 2 "summary refuses a chain-1.csv that is not variational in a variational folder" "method = sample, but" "$B" summary "$T/cut"

# ---- resume and extend refuse the folder
expect 2 "resume refuses a variational folder" "holds a variational approximation" "$B" resume "$V"
expect 2 "extend refuses a variational folder" "holds a variational approximation" "$B" extend "$V" --draws 10

# ---- bad options: one line naming the option, exit 2, no folder
expect 2 "--algorithm foo" "--algorithm: 'foo' is not one of meanfield|fullrank" "$B" variational --dataset blobs3 --out "$T/b" --algorithm foo
expect 2 "--iter 0" "--iter: 0 is out of range" "$B" variational --dataset blobs3 --out "$T/b" --iter 0
expect 2 "--output-samples 0" "--output-samples: 0 is out of range" "$B" variational --dataset blobs3 --out "$T/b" --output-samples 0
expect 2 "--eta -1" "--eta: must be a positive number" "$B" variational --dataset blobs3 --out "$T/b" --eta -1
expect 2 "--tol-rel-obj 0" "--tol-rel-obj: must be a positive number" "$B" variational --dataset blobs3 --out "$T/b" --tol-rel-obj 0
expect 2 "--adapt-iter 0" "--adapt-iter: 0 is out of range" "$B" variational --dataset blobs3 --out "$T/b" --adapt-iter 0
expect 2 "a sampler's option is not one of variational's" "unknown option '--samples'" "$B" variational --dataset blobs3 --out "$T/b" --samples 10
expect 2 "--out is required" "--out DIR is required" "$B" variational --dataset blobs3
expect 2 "an existing run is kept" "bnnmc variational: --out: $V already holds a run" "$B" variational --dataset blobs3 --out "$V"
[ ! -e "$T/b" ] && ok "no folder made by a refused command" || bad "a refused command made $T/b"
"$B" variational --help >"$T/out" && grep -q "APPROXIMATION" "$T/out" && grep -q -- "--output-samples N" "$T/out" &&
    grep -q -- "--no-adapt" "$T/out" && ! grep -q -- "--sampler" "$T/out" &&
    ok "variational --help: says it is an approximation, its own options" || bad "variational --help"

# ---- rstan reads chain-1.csv as CmdStan's: the mean row left out, the draws as written
if command -v Rscript >/dev/null 2>&1 && Rscript -e 'quit(status = !requireNamespace("rstan", quietly = TRUE))' >/dev/null 2>&1; then
    Rscript -e 'suppressMessages(library(rstan)); a <- commandArgs(TRUE)
        f <- suppressWarnings(read_stan_csv(a[1])); m <- as.matrix(f)
        x <- read.csv(a[1], comment.char = "#")
        ok <- nrow(m) == 4000 && identical(unname(m[, "tau2"]), x$tau2[-1]) &&
              identical(unname(m[, "b1[1]"]), x$b1.1[-1]) && f@stan_args[[1]]$method == "variational"
        quit(status = !ok)' "$C" >/dev/null 2>&1 &&
        ok "rstan::read_stan_csv reads chain-1.csv: 4000 draws, the mean row left out" || bad "rstan cannot read chain-1.csv"
else
    echo "skip   rstan (R or rstan not installed)"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
