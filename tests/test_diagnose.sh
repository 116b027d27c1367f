#!/bin/sh
# test_diagnose.sh — `bnnmc diagnose` on CmdStan-format CSV files:
#  1. warm-up rows (save_warmup = 1) are left out: CmdStan's layout built from a bnnmc run
#     (warm-up rows before '# Adaptation terminated', thinning, no adaptation block), and a
#     real rstan run compared with R's posterior package on the post-warm-up draws;
#  2. chains of unequal length: a warning naming the files, then the shortest length;
#  3. malformed input: exit 2 and ONE stderr line naming the file (and line);
#  4. leniency: a last row cut short, no final newline, CRLF, NaN/inf draws, 20000 columns.
# The rstan part needs R with rstan and posterior; without them everything else runs and the
# test exits 77 (skipped) if it passed, so a missing R never passes as a checked rstan part.
# usage: test_diagnose.sh BNNMC
B=$1
T=$(mktemp -d /tmp/bnnmc-diag-XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok     $1"; }
bad() { fail=$((fail + 1)); echo "NOT OK $1"; }

# refuse DESC WANT FILE...: exit 2, nothing on stdout, exactly one stderr line holding WANT
# (the file, and line where there is one).
refuse() {
    desc=$1 want=$2
    shift 2
    "$B" diagnose "$@" >"$T/out" 2>"$T/err"
    got=$?
    lines=$(wc -l <"$T/err")
    if [ "$got" -eq 2 ] && [ "$lines" -eq 1 ] && [ ! -s "$T/out" ] && grep -qF -- "$want" "$T/err"; then
        ok "$desc: $(cat "$T/err")"
    else
        bad "$desc: exit $got (want 2), $lines stderr lines (want 1) holding '$want': $(head -c 600 "$T/err")"
    fi
}

# number KEY FILE: a number of diagnose --json's top level ("" when absent)
number() { sed -n "s/^	\"$1\":	*\([-0-9.e+]*\),*$/\1/p" "$2"; }

# data rows of a chain CSV, and everything but them
rows() { grep -v '^#' "$1" | tail -n +2; }

"$B" sample --dataset blobs3 --model linear --sampler nuts --samples 400 --chains 2 --seed 3 \
    --out "$T/run" --quiet 2>/dev/null || { echo "NOT OK bnnmc sample"; exit 1; }
C1=$T/run/chain-1.csv C2=$T/run/chain-2.csv
[ "$(rows "$C1" | wc -l)" -eq 200 ] || { echo "NOT OK the run's chain-1.csv has not 200 draws"; exit 1; }
"$B" diagnose "$C1" "$C2" --csv >"$T/base.csv" 2>"$T/err" && "$B" diagnose "$C1" "$C2" --json >"$T/base.json" &&
    "$B" diagnose "$C1" "$C2" >"$T/base.txt" && [ ! -s "$T/err" ] && [ "$(wc -l <"$T/base.csv")" -gt 10 ] &&
    [ "$(number draws_per_chain "$T/base.json")" = 200 ] && grep -q 'E-BFMI per chain' "$T/base.txt" ||
    { echo "NOT OK diagnose on the run's own chains: $(cat "$T/err")"; exit 1; }
head -1 "$T/base.csv" | grep -q '^name,mean,sd,q5,q50,q95,mcse_mean,ess_bulk,ess_tail,rhat,rhat_gr$' &&
    ok "diagnose --csv prints summary.csv's columns" || bad "diagnose --csv header: $(head -1 "$T/base.csv")"

# ---------------------------------------------------------------- 1. warm-up, CmdStan's layout
# with_warmup SRC OUT NUM_WARMUP THIN ROWS MARKER: SRC with a header saying num_warmup,
# save_warmup = 1 and thin, ROWS warm-up rows (far-off values, every one divergent) after the
# column names, and the adaptation block kept (MARKER 1) or removed (0, as without adaptation).
with_warmup() {
    rows "$1" | head -n "$5" | awk -F, -v OFS=, '{ for (i = 1; i <= NF; i++) $i += 1000; $6 = 1; print }' >"$T/warm.rows"
    awk -v nw="$3" -v th="$4" -v marker="$6" '
        FILENAME == ARGV[1] { w[++n] = $0; next }
        !hdr && /^#/ {
            sub(/num_warmup = [0-9]+/, "num_warmup = " nw); sub(/save_warmup = 0 \(Default\)/, "save_warmup = 1")
            sub(/thin = [0-9]+/, "thin = " th); print; next }
        !hdr { hdr = 1; print; for (i = 1; i <= n; i++) print w[i]; next }
        !marker && /^# (Adaptation terminated|Step size|Diagonal elements)/ { if ($0 ~ /Diagonal/) skip = 1; next }
        skip { skip = 0; next }
        { print }' "$T/warm.rows" "$1" >"$2"
}
same_as_base() {   # DESC FILE1 FILE2: diagnose gives the run's own results, 200 draws, no divergence
    "$B" diagnose "$2" "$3" --csv >"$T/w.csv" 2>"$T/err" && "$B" diagnose "$2" "$3" --json >"$T/w.json" 2>>"$T/err"
    st=$?
    if [ $st -eq 0 ] && cmp -s "$T/w.csv" "$T/base.csv" && [ "$(number draws_per_chain "$T/w.json")" = 200 ] &&
        [ "$(number divergent "$T/w.json")" = "$(number divergent "$T/base.json")" ] && [ ! -s "$T/err" ]; then
        ok "$1"
    else
        bad "$1: exit $st, $(number draws_per_chain "$T/w.json") draws per chain (want 200), $(number divergent "$T/w.json") divergent (want $(number divergent "$T/base.json")), same statistics: $(cmp -s "$T/w.csv" "$T/base.csv" && echo yes || echo no); $(head -c 300 "$T/err")"
    fi
}
with_warmup "$C1" "$T/w1.csv" 50 1 50 1
with_warmup "$C2" "$T/w2.csv" 50 1 50 1
grep -q 'save_warmup = 1' "$T/w1.csv" && [ "$(rows "$T/w1.csv" | wc -l)" -eq 250 ] || bad "fixture with warm-up rows not built"
same_as_base "CmdStan layout, save_warmup = 1: the 50 warm-up rows are left out" "$T/w1.csv" "$T/w2.csv"
with_warmup "$C1" "$T/w1.csv" 100 3 34 1
with_warmup "$C2" "$T/w2.csv" 100 3 34 1
same_as_base "num_warmup 100, thin 3: ceil(100/3) = 34 warm-up rows left out" "$T/w1.csv" "$T/w2.csv"
with_warmup "$C1" "$T/w1.csv" 100 3 34 0
with_warmup "$C2" "$T/w2.csv" 100 3 34 0
grep -q 'Adaptation terminated' "$T/w1.csv" && bad "fixture without adaptation block not built"
same_as_base "no adaptation block (adapt engaged = 0): the header's count, 34 rows, left out" "$T/w1.csv" "$T/w2.csv"
"$B" diagnose "$T/w1.csv" "$T/w2.csv" >"$T/w.txt" 2>/dev/null
grep -q '68 warm-up rows' "$T/w.txt" && ok "the text says how many warm-up rows were left out" || bad "no warm-up count in: $(head -1 "$T/w.txt")"
with_warmup "$C1" "$T/w1.csv" 50 1 0 0
with_warmup "$C2" "$T/w2.csv" 50 1 0 0
sed -i 's/algorithm = hmc/algorithm = fixed_param/' "$T/w1.csv" "$T/w2.csv"
grep -q 'algorithm = fixed_param' "$T/w1.csv" && [ "$(rows "$T/w1.csv" | wc -l)" -eq 200 ] || bad "fixed_param fixture not built"
same_as_base "fixed_param with save_warmup = 1: no warm-up rows (CmdStan runs none)" "$T/w1.csv" "$T/w2.csv"
printf 'accept_stat__,x__,y__\n1,2,3\n4,5,6\n7,8,9\n1,2,3\n' >"$T/nopar.csv"
refuse "only sampler columns" "nopar.csv: no parameter columns" "$T/nopar.csv"
with_warmup "$C1" "$T/w1.csv" 50 1 40 1
line=$(grep -n 'Adaptation terminated' "$T/w1.csv" | cut -d: -f1)
refuse "40 rows before '# Adaptation terminated' where the header means 50" "w1.csv:$line: 40 rows come before" "$T/w1.csv" "$C2"
with_warmup "$C1" "$T/w1.csv" 1000 1 30 0
refuse "stopped during warm-up (no draws after it)" "w1.csv" "$T/w1.csv" "$C2"
grep -q 'warm-up' "$T/err" && ok "... and the message says the rows were warm-up" || bad "message does not mention warm-up: $(cat "$T/err")"
printf '# num_warmup = 9223372036854775807\n# save_warmup = 1\n# thin = 2\nlp__,a\n1,2\n3,4\n5,6\n7,8\n9,1\n' >"$T/bigwarm.csv"
refuse "num_warmup = 2^63 - 1 (no overflow): every row is warm-up" "bigwarm.csv: 0 draws after its 5 warm-up rows" "$T/bigwarm.csv"

# ---------------------------------------------------------------- 2. chains of unequal length
awk '/^#/ || !hdr { if (!/^#/) hdr = 1; print; next } ++n <= 150' "$C2" >"$T/c2short.csv"
"$B" diagnose "$C1" "$T/c2short.csv" --json >"$T/u.json" 2>"$T/err"
st=$?
[ $st -eq 0 ] && [ "$(number draws_per_chain "$T/u.json")" = 150 ] && [ "$(wc -l <"$T/err")" -eq 1 ] &&
    grep -F "$C1" "$T/err" | grep -F "c2short.csv" | grep -q '200.*150\|150.*200' &&
    ok "unequal chains: one warning naming both files and counts, 150 draws used: $(cat "$T/err")" ||
    bad "unequal chains: exit $st, $(number draws_per_chain "$T/u.json") draws, stderr: $(cat "$T/err")"

# ---------------------------------------------------------------- 3. malformed input
: >"$T/empty.csv"
refuse "empty file" "empty.csv: empty file" "$T/empty.csv"
printf '# a = 1\n#\n\n# b = 2\n' >"$T/comments.csv"
refuse "comment lines only" "comments.csv: only comment lines" "$T/comments.csv"
printf '# x = 1\nlp__,a\n' >"$T/headeronly.csv"
refuse "a header without draws" "headeronly.csv" "$T/headeronly.csv"
printf '# x = 1\nlp__,a\n' >"$T/h2.csv"
refuse "a header without draws, two chains" "h2.csv" "$C1" "$T/h2.csv"
printf 'lp__,a,b\n1,2,3\n4,5\n7,8,9\n' >"$T/short.csv"
refuse "a short row" "short.csv:3:3: 2 values, the header has 3 columns" "$T/short.csv"
printf 'lp__,a,b\n1,2,3\n4,5,6\n7,8\n' >"$T/shortlast.csv"
refuse "a short last row ending in a newline" "shortlast.csv:4:3: 2 values" "$T/shortlast.csv"
printf 'lp__,a,b\n1,2,3\n4,5,6,7\n' >"$T/long.csv"
refuse "a long row" "long.csv:3:4: more values than the header's 3 columns" "$T/long.csv"
printf 'lp__,a,b\n1,2,3\n4,5,6,\n' >"$T/trailing.csv"
refuse "a trailing comma" "trailing.csv:3:4: more values" "$T/trailing.csv"
printf 'lp__,a,b\n1,2,3\n4,abc,6\n' >"$T/nonnum.csv"
refuse "a non-numeric field" "nonnum.csv:3:2: 'abc' is not a number" "$T/nonnum.csv"
printf 'lp__,a,b\n1,2,3\n4,,6\n' >"$T/emptyfield.csv"
refuse "an empty field" "emptyfield.csv:3:2: '' is not a number" "$T/emptyfield.csv"
printf '\211PNG\r\n\032\n\000\000\000\rIHDR\000\000\001\000' >"$T/binary.csv"
refuse "binary garbage (a PNG's first bytes)" "binary.csv:1:1: column name" "$T/binary.csv"
printf 'lp__,a\n1,2\n\000\001\002,\377\n' >"$T/nul.csv"
refuse "a NUL byte" "nul.csv:3: a NUL byte" "$T/nul.csv"
printf 'lp__,a\n1,2\n3,4\n\377\376\375\374\373\372' >"$T/garbage.csv"
refuse "a garbage last line without newline is not a cut-short row" "garbage.csv:4:1: '??????' is not a number" "$T/garbage.csv"
awk 'BEGIN { for (i = 0; i < 3000; i++) printf "%c", 1 + (i * 7919) % 254; }' >"$T/noise.csv"
refuse "bytes without structure" "noise.csv:" "$T/noise.csv"
printf 'lp__,a,b,a\n1,2,3,4\n5,6,7,8\n' >"$T/dup.csv"
refuse "duplicate column names" "dup.csv:1:4: column name 'a' repeats column 2's" "$T/dup.csv"
printf 'lp__,a b\n1,2\n' >"$T/space.csv"
refuse "a space in a column name" "space.csv:1:2: column name" "$T/space.csv"
printf '1,2,3\n4,5,6\n' >"$T/nohdr.csv"
refuse "no header (first line all numbers)" "nohdr.csv:1: the first line that is not a comment holds numbers" "$T/nohdr.csv"
printf 'lp__,a,b\n1,2,3\n4,5,6\n7,8,9\n1,2,3\n' >"$T/ab.csv"
printf 'lp__,a,c\n1,2,3\n4,5,6\n7,8,9\n1,2,3\n' >"$T/ac.csv"
printf 'lp__,a\n1,2\n4,5\n7,8\n1,2\n' >"$T/a.csv"
refuse "chains with different column names" "ac.csv: column 3 is 'c'" "$T/ab.csv" "$T/ac.csv"
refuse "chains with different column counts" "a.csv: 2 columns" "$T/ab.csv" "$T/a.csv"
refuse "a missing file" "nope.csv: cannot open" "$T/nope.csv"
printf 'lp__,a\n1,2\n3,4\n5,' >"$T/cutfew.csv"
refuse "a cut-short last row and too few draws: the error alone" "cutfew.csv: 2 draws: too few" "$T/cutfew.csv"

# ---------------------------------------------------------------- 4. leniency
# body FILE: the chain without its closing comment lines (as a run that was stopped leaves it)
body() { awk '/^#/ && seen { exit } !/^#/ { n++ } n > 1 { seen = 1 } { print }' "$1"; }
body "$C1" >"$T/cut1.csv"
[ "$(rows "$T/cut1.csv" | wc -l)" -eq 200 ] && ! grep -q Elapsed "$T/cut1.csv" || bad "body() fixture"
rows "$C1" | head -1 | cut -c1-40 | tr -d '\n' >>"$T/cut1.csv"
lastline=$(wc -l <"$T/cut1.csv")
"$B" diagnose "$T/cut1.csv" "$C2" --csv >"$T/l.csv" 2>"$T/err"
st=$?
[ $st -eq 0 ] && cmp -s "$T/l.csv" "$T/base.csv" && [ "$(wc -l <"$T/err")" -eq 1 ] &&
    grep -qF "cut1.csv:$((lastline + 1)): the last row stops after" "$T/err" &&
    ok "a last row cut short is left out, with one warning: $(cat "$T/err")" ||
    bad "last row cut short: exit $st, same results $(cmp -s "$T/l.csv" "$T/base.csv" && echo yes || echo no), stderr: $(cat "$T/err")"
body "$C1" >"$T/cut2.csv"
rows "$C1" | head -1 | cut -d, -f1-9 | tr -d '\n' >>"$T/cut2.csv"
printf , >>"$T/cut2.csv"
"$B" diagnose "$T/cut2.csv" "$C2" --csv >"$T/l.csv" 2>"$T/err"
[ $? -eq 0 ] && cmp -s "$T/l.csv" "$T/base.csv" && grep -q "cut2.csv:.*left out" "$T/err" &&
    ok "a last row cut just after a comma is left out" || bad "cut after a comma: $(cat "$T/err")"
body "$C1" | awk '{ printf "%s%s", sep, $0; sep = "\n" }' >"$T/nonl.csv"
"$B" diagnose "$T/nonl.csv" "$C2" --csv >"$T/l.csv" 2>"$T/err"
[ $? -eq 0 ] && cmp -s "$T/l.csv" "$T/base.csv" && [ ! -s "$T/err" ] && [ "$(tail -c 1 "$T/nonl.csv" | od -An -c | tr -d ' ')" != '\n' ] &&
    ok "no final newline: every row read" || bad "no final newline: $(cat "$T/err")"
sed 's/$/\r/' "$C1" >"$T/crlf1.csv"
sed 's/$/\r/' "$C2" >"$T/crlf2.csv"
"$B" diagnose "$T/crlf1.csv" "$T/crlf2.csv" --csv >"$T/l.csv" 2>"$T/err"
[ $? -eq 0 ] && cmp -s "$T/l.csv" "$T/base.csv" && [ ! -s "$T/err" ] && ok "CRLF line endings" || bad "CRLF: $(cat "$T/err")"
p1=$(grep -v '^#' "$C1" | head -1 | cut -d, -f8)
p2=$(grep -v '^#' "$C1" | head -1 | cut -d, -f9)
awk -F, -v OFS=, '/^#/ { print; next } { n++ } n == 10 { $8 = "nan" } n == 20 { $9 = "inf" } n == 30 { $9 = "-inf" } { print }' "$C1" >"$T/nan.csv"
"$B" diagnose "$T/nan.csv" "$C2" --csv >"$T/l.csv" 2>"$T/err"
st=$?
grep -v -e "^$p1," -e "^$p2," "$T/l.csv" >"$T/l.rest"
grep -v -e "^$p1," -e "^$p2," "$T/base.csv" >"$T/b.rest"
[ $st -eq 0 ] && grep -q "^$p1,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA$" "$T/l.csv" && grep -q "^$p2,NA,NA,NA,NA,NA,NA,NA,NA,NA,NA$" "$T/l.csv" &&
    cmp -s "$T/l.rest" "$T/b.rest" && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -F "$p1" "$T/err" | grep -qF "$p2" &&
    ok "NaN and inf draws: those columns NA, the others unchanged, one note: $(cat "$T/err")" ||
    bad "NaN/inf draws: exit $st, stderr: $(head -c 400 "$T/err"); $(grep -e "^$p1," -e "^$p2," "$T/l.csv")"
"$B" diagnose "$T/nan.csv" "$C2" >/dev/null 2>&1 && "$B" diagnose "$T/nan.csv" "$C2" --json >/dev/null 2>&1 &&
    ok "NaN and inf draws: table and JSON too" || bad "NaN/inf draws: table or JSON fails"
awk 'BEGIN { srand(7); K = 20000
    for (c = 1; c <= 2; c++) {
        f = sprintf("'"$T"'/wide%d.csv", c)
        printf "lp__" >f; for (j = 1; j < K; j++) printf ",x.%d", j >f; printf "\n" >f
        for (i = 0; i < 100; i++) { printf "%.6f", -rand() >f; for (j = 1; j < K; j++) printf ",%.6f", rand() >f; printf "\n" >f }
        close(f) } }'
start=$(date +%s)
if [ -x /usr/bin/time ]; then
    /usr/bin/time -f %M -o "$T/rss" "$B" diagnose "$T/wide1.csv" "$T/wide2.csv" --csv >"$T/l.csv" 2>"$T/err"
else
    "$B" diagnose "$T/wide1.csv" "$T/wide2.csv" --csv >"$T/l.csv" 2>"$T/err"; echo 0 >"$T/rss"
fi
st=$?
secs=$(($(date +%s) - start))
rss=$(tail -1 "$T/rss")
[ $st -eq 0 ] && [ "$(wc -l <"$T/l.csv")" -eq 20001 ] && [ "$secs" -lt 120 ] && [ "$rss" -lt 2000000 ] &&
    ok "20000 columns: ${secs} s, max RSS ${rss} kB" || bad "20000 columns: exit $st, $(wc -l <"$T/l.csv") lines, ${secs} s, ${rss} kB: $(head -c 300 "$T/err")"

# ---------------------------------------------------------------- 1b. a real rstan run
have_r=1
command -v Rscript >/dev/null 2>&1 || have_r=0
[ $have_r -eq 1 ] && Rscript -e 'quit(status = !(requireNamespace("rstan", quietly = TRUE) && requireNamespace("posterior", quietly = TRUE) && requireNamespace("jsonlite", quietly = TRUE)))' >/dev/null 2>&1 || have_r=0
if [ $have_r -eq 1 ]; then
    Rscript - "$B" "$T" <<'REOF' >"$T/r.out" 2>"$T/r.err"
args <- commandArgs(trailingOnly = TRUE)
B <- args[1]; dir <- args[2]
suppressMessages(library(rstan))
# Debian's r-cran-bh leaves boost in /usr/include, where rstan does not look
bh <- system.file("include", "boost", package = "BH")
m <- stan_model(model_code = "parameters { vector[3] a; } model { a ~ normal(0, 1); }",
                boost_lib = if (nzchar(bh)) NULL else "/usr/include")
ok <- TRUE
check <- function(cond, what) {
  cat(sprintf("%s %s\n", if (isTRUE(cond)) "ok    " else "NOT OK", what))
  if (!isTRUE(cond)) ok <<- FALSE
}
run <- function(label, ...) {
  base <- file.path(dir, label)
  fit <- suppressWarnings(sampling(m, chains = 2, seed = 11, refresh = 0, save_warmup = TRUE,
                                   sample_file = paste0(base, ".csv"), ...))
  files <- sprintf("%s_%d.csv", base, 1:2)
  out <- suppressWarnings(system2(B, c("diagnose", "--json", files), stdout = TRUE, stderr = TRUE))
  txt <- suppressWarnings(system2(B, c("diagnose", files), stdout = TRUE, stderr = TRUE))
  j <- tryCatch(jsonlite::fromJSON(paste(out, collapse = "\n")), error = function(e) NULL)
  if (is.null(j)) { check(FALSE, sprintf("%s: diagnose --json: %s", label, paste(out, collapse = " "))); return() }
  for (k in c("draws_per_chain", "warmup_draws_left_out", "divergent", "max_treedepth_hits", "ebfmi"))
    if (is.null(j[[k]])) j[[k]] <- NA   # absent: the comparisons below fail, with the values shown
  arr <- as.array(fit)                           # post-warm-up draws: iterations x chains x names
  N <- dim(arr)[1]
  warm <- fit@sim$warmup2[1]
  csv <- lapply(files, function(f) read.csv(f, comment.char = "#"))
  post <- lapply(csv, function(d) d[(nrow(d) - N + 1):nrow(d), ])
  # the reference: the CSV's last N rows, which are the fit's post-warm-up draws (to the
  # CSV's 6 significant digits) after its warm-up rows
  close <- all(sapply(1:2, function(c) nrow(csv[[c]]) == warm + N &&
    all(abs(as.matrix(post[[c]][, c("a.1", "a.2", "a.3")]) - arr[, c, c("a[1]", "a[2]", "a[3]")]) <= 1e-5 * pmax(1, abs(arr[, c, 1:3])))))
  check(close, sprintf("%s: R reads %d warm-up rows, then the fit's %d draws per chain", label, warm, N))
  check(j$draws_per_chain == N && j$warmup_draws_left_out == 2 * warm,
        sprintf("%s: %g draws per chain (R: %d), %g warm-up rows left out (R: 2 x %d)", label,
                j$draws_per_chain, N, j$warmup_draws_left_out, warm))
  p <- j$parameters
  both <- function(n) cbind(post[[1]][[n]], post[[2]][[n]])
  ref <- t(vapply(p$name, function(n) c(posterior::ess_bulk(both(n)), posterior::rhat(both(n))), numeric(2)))
  rel <- function(a, b) max(abs(a - b) / abs(b))
  check(nrow(p) == 4 && rel(p$ess_bulk, ref[, 1]) < 1e-6 && rel(p$rhat, ref[, 2]) < 1e-6,
        sprintf("%s: bulk ESS %s (posterior: %s), R-hat %s (posterior: %s)", label,
                paste(round(p$ess_bulk), collapse = "/"), paste(round(ref[, 1]), collapse = "/"),
                paste(round(p$rhat, 4), collapse = "/"), paste(round(ref[, 2], 4), collapse = "/")))
  sampler <- function(d, col) if (col %in% names(d)) d[[col]] else 0
  div <- sum(sapply(post, sampler, "divergent__"))
  div_all <- sum(sapply(csv, sampler, "divergent__"))
  check(j$divergent == div, sprintf("%s: %g divergences (R: %g after warm-up, %g with it)", label, j$divergent, div, div_all))
  md <- fit@stan_args[[1]]$control$max_treedepth
  if (is.null(md)) md <- 10
  if (grepl("NUTS", fit@stan_args[[1]]$algorithm)) {
    hits <- sum(sapply(post, function(d) sum(d$treedepth__ >= md)))
    check(j$max_treedepth_hits == hits, sprintf("%s: %g transitions at max_treedepth %d (R: %g)", label, j$max_treedepth_hits, md, hits))
  }
  eb <- sapply(post, function(d) { x <- d$energy__; sum(diff(x)^2) / sum((x - mean(x))^2) })
  check(length(j$ebfmi) == 2 && rel(j$ebfmi, eb) < 1e-9 && any(grepl("E-BFMI per chain", txt)),
        sprintf("%s: E-BFMI %s (R: %s)", label, paste(round(j$ebfmi, 4), collapse = " "), paste(round(eb, 4), collapse = " ")))
}
run("nuts", iter = 400, warmup = 200, control = list(max_treedepth = 2))
run("thin", iter = 405, warmup = 201, thin = 3)
run("hmc", iter = 300, warmup = 150, algorithm = "HMC")
quit(status = if (ok) 0 else 1)
REOF
    st=$?
    cat "$T/r.out"
    n_ok=$(grep -c '^ok' "$T/r.out")
    if [ $st -eq 0 ] && [ "$n_ok" -ge 17 ]; then
        pass=$((pass + n_ok))
    else
        bad "rstan part (exit $st, $n_ok checks passed): $(tail -5 "$T/r.err")"
    fi
fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ] || exit 1
[ $have_r -eq 1 ] || { echo "skip: R with rstan, posterior and jsonlite not installed: the rstan part was not run"; exit 77; }
exit 0
