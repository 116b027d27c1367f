#!/bin/sh
# test_loo.sh — PSIS-LOO, WAIC and loo_compare against R's loo (2.5.1), every figure to 1e-6
# relative (with an absolute floor of 1e-12 for figures that are exactly 0, such as the
# best model's elpd_diff).
#
# (a) Fixed matrices, written by R with set.seed: several S, n and chain counts; rows with
#     autocorrelated draws (r_eff far from 1), a heavy tail (k > 0.7), a light one (k < 0.5),
#     a constant row and one of alternating draws (r_eff's edge, and a constant tail), and a
#     matrix of 20 draws whose tails are too short to fit (k = Inf). The library's figures
#     (tests/loo_matrix.c) against loo(ll, r_eff = relative_eff(exp(ll), chain_id)),
#     waic(ll) and loo_compare(...): estimates, SEs, every pointwise elpd, p_loo, mcse, k,
#     n_eff, r_eff.
# (b) Real runs: small linear and network regressions and a softmax classification;
#     `bnnmc loo --log-lik`'s matrix given to R, whose loo must equal `bnnmc loo --json`,
#     and for the linear models the matrix itself recomputed by R from the draws; `bnnmc compare` of two runs
#     against loo_compare; the errors of both commands.
# Skipped (exit 77, which CTest reports as skipped) when R or its loo package is missing.
# usage: test_loo.sh BNNMC LOO_MATRIX
B=$1
LM=$2
command -v Rscript >/dev/null 2>&1 || { echo "skip: Rscript not installed"; exit 77; }
Rscript -e 'quit(status = !(requireNamespace("loo", quietly = TRUE) && requireNamespace("jsonlite", quietly = TRUE)))' >/dev/null 2>&1 ||
    { echo "skip: R packages loo and jsonlite not installed"; exit 77; }
T=$(mktemp -d /tmp/bnnmc-loo-XXXXXX)
trap 'rm -rf "$T"' EXIT
status=0

# ---- (a) fixed matrices
Rscript - "$T" <<'REOF' || { echo "NOT OK writing the matrices"; exit 1; }
dir <- commandArgs(trailingOnly = TRUE)[1]
set.seed(20240314)
# chains x draws each of n observations: AR(1) draws around per-observation means
ar_matrix <- function(M, N, n, phi, sd) {
  ll <- matrix(0, M * N, n)
  for (i in seq_len(n)) {
    mu <- -runif(1, 0.5, 3)
    for (m in seq_len(M)) {
      e <- as.numeric(stats::filter(rnorm(N, 0, sd * sqrt(1 - phi^2)), phi, method = "recursive"))
      ll[(m - 1) * N + seq_len(N), i] <- mu + e
    }
  }
  ll
}
write_ll <- function(ll, M, name) {
  N <- nrow(ll) / M
  out <- cbind(rep(seq_len(M), each = N), rep(seq_len(N), M), ll)
  lines <- c(paste(c("chain", "draw", seq_len(ncol(ll))), collapse = ","),
             apply(out, 1, function(r) paste(c(sprintf("%d", r[1:2]), sprintf("%.17g", r[-(1:2)])), collapse = ",")))
  writeLines(lines, file.path(dir, name))
}
# A: 4 chains x 250, 30 observations; row 1 heavy-tailed (ratios ~ U^-1.3: k near 1.3),
# row 2 light (k < 0.5), row 3 constant, row 4 alternating (anticorrelated: r_eff's edge)
A <- ar_matrix(4, 250, 30, 0.6, 0.8)
A[, 1] <- 1.3 * log(runif(1000))
A[, 2] <- rnorm(1000, -1, 0.05)
A[, 3] <- -2.5
A[, 4] <- -1 + rep(c(0.3, -0.3), 500) + rnorm(1000, 0, 1e-3)
write_ll(A, 4, "A.csv")
# B, C: the same 30 observations as A under other "models", for loo_compare
write_ll(ar_matrix(4, 250, 30, 0.3, 1.2), 4, "B.csv")
write_ll(ar_matrix(4, 250, 30, 0.9, 0.5), 4, "C.csv")
# D: one chain of 200, 5 observations, strong autocorrelation; E: 2 chains x 50, 8
# observations; F: 2 chains x 10 (tails of 4 draws: too short to fit, k = Inf)
write_ll(ar_matrix(1, 200, 5, 0.95, 1), 1, "D.csv")
E <- ar_matrix(2, 50, 8, 0.2, 2)
E[, 8] <- 2 * log(runif(100))
write_ll(E, 2, "E.csv")
write_ll(ar_matrix(2, 10, 6, 0.1, 1), 2, "F.csv")
REOF
"$LM" "$T/A.csv" "$T/B.csv" "$T/C.csv" > "$T/ABC.txt" 2>"$T/err" || { echo "NOT OK loo_matrix A B C: $(cat "$T/err")"; exit 1; }
for f in D E F; do
    "$LM" "$T/$f.csv" > "$T/$f.txt" 2>"$T/err" || { echo "NOT OK loo_matrix $f: $(cat "$T/err")"; exit 1; }
done

cat > "$T/check.R" <<'REOF'
suppressMessages(library(loo))
tol <- 1e-6
fails <- 0
# |ours - R| <= tol |R| + 1e-12, Inf equal to Inf
close <- function(ours, ref) {
  ok <- (is.infinite(ref) & ours == ref) | (is.finite(ref) & abs(ours - ref) <= tol * abs(ref) + 1e-12)
  ok[is.na(ref) & is.na(ours)] <- TRUE
  !is.na(ok) & ok
}
worst <- 0   # the largest relative difference seen, for the report
check <- function(what, ours, ref) {
  ok <- length(ours) == length(ref) && all(close(ours, ref))
  fin <- length(ours) == length(ref) & is.finite(ref) & ref != 0
  if (any(fin)) worst <<- max(worst, abs(ours[fin] - ref[fin]) / abs(ref[fin]))
  if (!ok) {
    fails <<- fails + 1
    bad <- if (length(ours) == length(ref)) which(!close(ours, ref))[1] else 0
    cat(sprintf("NOT OK %s: element %d: ours %.17g, R %.17g\n", what, bad,
                if (bad) ours[bad] else NA, if (bad) ref[bad] else NA))
  }
  ok
}
# the figures of one model in R, from its log-likelihood matrix and chain ids
r_figures <- function(ll, chain) {
  r_eff <- relative_eff(exp(ll), chain_id = chain)
  l <- suppressWarnings(loo(ll, r_eff = r_eff))
  w <- suppressWarnings(waic(ll))
  est <- l$estimates
  west <- w$estimates
  list(loo = l,
       est = c(elpd_loo = est["elpd_loo", 1], se_elpd_loo = est["elpd_loo", 2],
               p_loo = est["p_loo", 1], se_p_loo = est["p_loo", 2],
               looic = est["looic", 1], se_looic = est["looic", 2],
               mcse_elpd_loo = mcse_loo(l),
               elpd_waic = west["elpd_waic", 1], se_elpd_waic = west["elpd_waic", 2],
               p_waic = west["p_waic", 1], se_p_waic = west["p_waic", 2],
               waic = west["waic", 1], se_waic = west["waic", 2]),
       pw = list(elpd_loo_i = l$pointwise[, "elpd_loo"], p_loo_i = l$pointwise[, "p_loo"],
                 mcse_elpd_loo_i = l$pointwise[, "mcse_elpd_loo"],
                 pareto_k = l$diagnostics$pareto_k, n_eff = l$diagnostics$n_eff, r_eff = r_eff,
                 elpd_waic_i = w$pointwise[, "elpd_waic"], p_waic_i = w$pointwise[, "p_waic"]))
}
read_ll <- function(path) {
  x <- as.matrix(read.csv(path, check.names = FALSE, colClasses = "numeric"))
  list(chain = x[, 1], ll = x[, -(1:2), drop = FALSE])
}
REOF

cat > "$T/matrices.R" <<'REOF'
args <- commandArgs(trailingOnly = TRUE)
source(args[1])
out <- readLines(args[2])
files <- args[-(1:2)]
blocks <- split(out, cumsum(grepl("^file ", out)))
val <- function(lines, key) {
  l <- lines[startsWith(lines, paste0(key, " "))]
  as.numeric(strsplit(sub("^[^ ]+ ", "", l), " ")[[1]])
}
figs <- list()
for (j in seq_along(files)) {
  x <- read_ll(files[j])
  f <- r_figures(x$ll, x$chain)
  figs[[j]] <- f
  lines <- blocks[[j]]
  name <- basename(files[j])
  before <- fails
  for (k in names(f$est)) check(paste(name, k), val(lines, k), unname(f$est[k]))
  for (k in names(f$pw)) check(paste(name, k), val(lines, k), unname(f$pw[[k]]))
  k <- f$pw$pareto_k
  cat(sprintf("%s %s: %d x %d, %d chains: elpd_loo %.4f (R %.4f), k in [%.2f, %.2f], %d above 0.7, r_eff in [%.2f, %.2f]\n",
              if (fails == before) "ok    " else "NOT OK", name, nrow(x$ll), ncol(x$ll), length(unique(x$chain)), val(lines, "elpd_loo"),
              f$est["elpd_loo"], min(k), max(k), sum(k > 0.7), min(f$pw$r_eff), max(f$pw$r_eff)))
}
if (length(files) > 1) {
  lc <- loo_compare(lapply(figs, `[[`, "loo"))
  ord <- as.integer(sub("model", "", rownames(lc)))
  all <- out[!startsWith(out, "file ")]
  ok <- check("compare order", val(all, "order"), ord)
  ok <- check("compare elpd_diff", val(all, "elpd_diff"), unname(lc[, "elpd_diff"])) && ok
  ok <- check("compare se_diff", val(all, "se_diff"), unname(lc[, "se_diff"])) && ok
  cat(sprintf("%s loo_compare of %d: order %s, elpd_diff %s\n", if (ok) "ok    " else "NOT OK", length(files),
              paste(ord, collapse = " "), paste(sprintf("%.3f", lc[, "elpd_diff"]), collapse = " ")))
}
cat(sprintf("       largest relative difference from R: %.1e\n", worst))
quit(status = fails > 0)
REOF
Rscript "$T/matrices.R" "$T/check.R" "$T/ABC.txt" "$T/A.csv" "$T/B.csv" "$T/C.csv" || status=1
for f in D E F; do
    Rscript "$T/matrices.R" "$T/check.R" "$T/$f.txt" "$T/$f.csv" || status=1
done

# ---- (b) real runs: a linear and a network regression on the same data, a classification
run() {   # name, sample options...
    name=$1
    shift
    # shellcheck disable=SC2068
    "$B" sample $@ --chains 4 --out "$T/$name" --force --quiet 2>"$T/err" || { echo "NOT OK sample $*: $(cat "$T/err")"; exit 1; }
    "$B" loo "$T/$name" --json --log-lik "$T/$name-ll.csv" >"$T/$name.json" 2>"$T/$name.warn" ||
        { echo "NOT OK bnnmc loo $name: $(cat "$T/$name.warn")"; exit 1; }
}
run lin --dataset mackey-glass --model linear --samples 1000
run nn --dataset mackey-glass --preset study --samples 2000
run cls --dataset blobs3 --model linear --samples 1000
"$B" compare "$T/lin" "$T/nn" --json >"$T/compare.json" 2>"$T/err" || { echo "NOT OK bnnmc compare: $(cat "$T/err")"; exit 1; }
mkdir "$T/mg" "$T/blobs" && "$B" datasets --write mackey-glass "$T/mg" >/dev/null &&
    "$B" datasets --write blobs3 "$T/blobs" >/dev/null || { echo "NOT OK datasets --write"; exit 1; }

cat > "$T/runs.R" <<'REOF'
args <- commandArgs(trailingOnly = TRUE)
source(args[1])
T <- args[2]
suppressMessages(library(jsonlite))
nullna <- function(x) if (is.null(x)) NA_real_ else as.numeric(x)
figs <- list()
for (name in c("lin", "nn", "cls")) {
  x <- read_ll(file.path(T, paste0(name, "-ll.csv")))
  j <- fromJSON(file.path(T, paste0(name, ".json")))
  f <- r_figures(x$ll, x$chain)
  figs[[name]] <- f
  before <- fails
  check(paste(name, "n, draws"), c(j$n, j$draws), c(ncol(x$ll), nrow(x$ll)))
  for (k in names(f$est)) check(paste(name, k), nullna(j[[k]]), unname(f$est[k]))
  check(paste(name, "pareto_k"), nullna(j$pareto_k), f$pw$pareto_k)
  check(paste(name, "elpd_loo_pointwise"), nullna(j$elpd_loo_pointwise), f$pw$elpd_loo_i)
  k <- f$pw$pareto_k
  # the warning says how many rows have k > 0.7, as loo's does
  warn <- readLines(file.path(T, paste0(name, ".warn")))
  high <- sum(k > 0.7)
  said <- if (high) any(grepl(sprintf(" %d of %d Pareto k values are above 0.7", high, length(k)), warn, fixed = TRUE)) else !any(grepl("above 0.7", warn))
  if (!said) { fails <- fails + 1; cat("NOT OK", name, "warning:", warn, "\n") }
  cat(sprintf("%s run %s: %d draws x %d rows: elpd_loo %.2f (R %.2f), p_loo %.2f, %d k above 0.7\n",
              if (fails == before) "ok    " else "NOT OK", name, nrow(x$ll), ncol(x$ll), j$elpd_loo,
              f$est["elpd_loo"], j$p_loo, high))
}
# the linear runs' matrices, computed in R from their draws: the Gaussian log density of
# each row (regression), the log softmax probability of its class (classification)
draws_of <- function(name) {
  files <- sort(Sys.glob(file.path(T, name, "chain-*.csv")))
  do.call(rbind, lapply(files, function(f) read.csv(f, comment.char = "#")))
}
tr <- as.matrix(read.table(file.path(T, "mg", "train.txt")))
dr <- draws_of("lin")
X <- tr[, -ncol(tr)]
W <- as.matrix(dr[, grep("^W1", names(dr))])
mu <- W %*% t(X) + dr$b1.1
ll_reg <- dnorm(matrix(tr[, ncol(tr)], nrow(mu), ncol(mu), byrow = TRUE), mu, sqrt(dr$tau2), log = TRUE)
tr <- as.matrix(read.table(file.path(T, "blobs", "train.txt")))
dr <- draws_of("cls")
X <- tr[, -ncol(tr)]
y <- tr[, ncol(tr)]
K <- 3
ll_cls <- t(apply(dr, 1, function(d) {
  W <- matrix(unlist(d[sprintf("W1.%d.%d", rep(1:4, each = K), rep(1:K, 4))]), 4, K, byrow = TRUE)
  z <- X %*% W + matrix(unlist(d[sprintf("b1.%d", 1:K)]), nrow(X), K, byrow = TRUE)
  z[cbind(seq_along(y), y + 1)] - apply(z, 1, function(r) max(r) + log(sum(exp(r - max(r)))))
}))
for (case in list(list("lin", ll_reg, "dnorm(y | x w + b, tau)"), list("cls", ll_cls, "log softmax(x W + b)[y]"))) {
  ours <- read_ll(file.path(T, paste0(case[[1]], "-ll.csv")))$ll
  ref <- case[[2]]
  err <- if (all(dim(ours) == dim(ref))) max(abs(ours - ref) / pmax(1, abs(ref))) else Inf
  if (err < 1e-9) cat(sprintf("ok     %s: --log-lik is %s of each row and draw (max rel. diff %.1e)\n", case[[1]], case[[3]], err)) else {
    fails <- fails + 1; cat(sprintf("NOT OK %s: --log-lik differs from %s by %.1e\n", case[[1]], case[[3]], err)) }
}
# bnnmc compare against loo_compare
j <- fromJSON(file.path(T, "compare.json"))
lc <- loo_compare(list(lin = figs$lin$loo, nn = figs$nn$loo))
ok <- identical(basename(j$names), rownames(lc))
ok <- check("compare elpd_diff", j$elpd_diff, unname(lc[, "elpd_diff"])) && ok
ok <- check("compare se_diff", j$se_diff, unname(lc[, "se_diff"])) && ok
ok <- check("compare elpd_loo", j$elpd_loo, unname(lc[, "elpd_loo"])) && ok
ok <- check("compare se_elpd_loo", j$se_elpd_loo, unname(lc[, "se_elpd_loo"])) && ok
if (!ok) fails <- fails + 1
cat(sprintf("%s bnnmc compare lin nn = loo_compare: %s first, elpd_diff %.2f (se %.2f)\n",
            if (ok) "ok    " else "NOT OK", rownames(lc)[1], lc[2, "elpd_diff"], lc[2, "se_diff"]))
cat(sprintf("       largest relative difference from R: %.1e\n", worst))
quit(status = fails > 0)
REOF
Rscript "$T/runs.R" "$T/check.R" "$T" || status=1

# same results whatever the thread count
"$B" loo "$T/nn" --json --threads 1 >"$T/t1.json" 2>/dev/null && "$B" loo "$T/nn" --json --threads 3 >"$T/t3.json" 2>/dev/null &&
    cmp -s "$T/t1.json" "$T/t3.json" && echo "ok     loo --threads 1 and 3: the same bytes" ||
    { echo "NOT OK loo --threads 1 and 3 differ"; status=1; }

# ---- errors: one line, exit 2 (1 for a file that cannot be written), no file left
expect() {   # status, pattern, what, command...
    want=$1 pat=$2 what=$3
    shift 3
    "$@" >/dev/null 2>"$T/err"
    got=$?
    if [ "$got" = "$want" ] && [ "$(wc -l <"$T/err")" = 1 ] && grep -q "$pat" "$T/err"; then
        echo "ok     $what: $(cat "$T/err")"
    else
        echo "NOT OK $what: exit $got, stderr: $(cat "$T/err")"
        status=1
    fi
}
expect 2 "not comparable" "compare refuses other training data" "$B" compare "$T/lin" "$T/cls"
expect 2 "at least two" "compare needs two runs" "$B" compare "$T/lin"
expect 2 "config.json" "loo of a folder that is no run" "$B" loo "$T/mg"
expect 2 "one run folder" "loo takes one folder" "$B" loo "$T/lin" "$T/nn"
expect 2 "unknown option" "loo: unknown option" "$B" loo "$T/lin" --bogus
expect 1 "$T/no/ll.csv" "loo --log-lik into a missing folder" "$B" loo "$T/lin" --log-lik "$T/no/ll.csv"
[ ! -e "$T/no" ] || { echo "NOT OK a file was left"; status=1; }
cp "$T/mg/train.txt" "$T/train.txt"
"$B" sample --train "$T/train.txt" --model linear --samples 200 --chains 2 --out "$T/file" --quiet 2>/dev/null ||
    { echo "NOT OK sample --train"; status=1; }
"$B" loo "$T/file" --json >"$T/file.json" 2>/dev/null && grep -q '"elpd_loo"' "$T/file.json" &&
    echo "ok     loo of a run on a data file" || { echo "NOT OK loo of a run on a data file"; status=1; }
echo "0.5 0.5 0.5 0.5 0.5" >>"$T/train.txt"
expect 2 "changed since the run" "loo refuses changed training data" "$B" loo "$T/file"

[ "$status" = 0 ] && echo "test_loo: passed" || echo "test_loo: FAILED"
exit $status
