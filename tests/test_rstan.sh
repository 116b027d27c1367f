#!/bin/sh
# test_rstan.sh — a run folder written by bnnmc is read by rstan::read_stan_csv, and the
# R-hat, bulk ESS and tail ESS that rstan::monitor computes on it agree with summary.csv;
# --save-warmup's rows are read by rstan as warm-up.
#
# Two levels. (1) Exact: the draws rstan reads are the ones in the CSV, and R's posterior
# package computes on them the R-hat, bulk/tail ESS and mean of summary.csv to 1e-6.
# (2) rstan::monitor (rstan 2.21) agrees as closely as its own definitions allow: it rounds
# ESS to integers and back-transforms ranks with (r - 1/2)/S where posterior and bnnmc use
# Blom's (r - 3/8)/(S + 1/4), so R-hat is compared at 1% and ESS at 2% (+-1).
# Skipped (exit 77, which CTest reports as skipped) when R or rstan is not installed.
# usage: test_rstan.sh BNNMC
B=$1
command -v Rscript >/dev/null 2>&1 || { echo "skip: Rscript not installed"; exit 77; }
Rscript -e 'quit(status = !requireNamespace("rstan", quietly = TRUE))' >/dev/null 2>&1 ||
    { echo "skip: R package rstan not installed"; exit 77; }
T=$(mktemp -d /tmp/bnnmc-rstan-XXXXXX)
trap 'rm -rf "$T"' EXIT
status=0
for args in "--dataset blobs3 --samples 2000" "--dataset mackey-glass --samples 3000 --model linear --step 0.005"; do
    # shellcheck disable=SC2086
    "$B" sample --preset study $args --chains 4 --out "$T/run" --force --quiet 2>/dev/null || { echo "NOT OK sample $args"; exit 1; }
    Rscript - "$T/run" "$args" <<'REOF' || status=1
args <- commandArgs(trailingOnly = TRUE)
dir <- args[1]
suppressMessages(library(rstan))
files <- sort(Sys.glob(file.path(dir, "chain-*.csv")))
fit <- rstan::read_stan_csv(files)
mon <- rstan::monitor(fit, warmup = 0, print = FALSE)
mon <- data.frame(Rhat = mon[, "Rhat"], Bulk_ESS = mon[, "Bulk_ESS"], Tail_ESS = mon[, "Tail_ESS"],
                  mean = mon[, "mean"], row.names = dimnames(mon)[[1]])
ours <- read.csv(file.path(dir, "summary.csv"), stringsAsFactors = FALSE)
# bnnmc's W1.2.3 is Stan's array element W1[2,3]
stan_name <- function(n) {
  p <- strsplit(n, ".", fixed = TRUE)[[1]]
  if (length(p) == 1) n else sprintf("%s[%s]", p[1], paste(p[-1], collapse = ","))
}
rownames(ours) <- vapply(ours$name, stan_name, "")
common <- intersect(rownames(ours), rownames(mon))
arr <- as.array(fit)   # iterations x chains x parameters
ref <- t(vapply(common, function(p) {
  x <- arr[, , p]
  c(posterior::rhat(x), posterior::ess_bulk(x), posterior::ess_tail(x), mean(x))
}, numeric(4)))
rel <- function(a, b) max(abs(a - b) / pmax(abs(b), 1e-12))
exact <- c(rel(ours[common, "rhat"], ref[, 1]), rel(ours[common, "ess_bulk"], ref[, 2]),
           rel(ours[common, "ess_tail"], ref[, 3]), rel(ours[common, "mean"], ref[, 4]))
ok1 <- length(common) == nrow(ours) && all(exact < 1e-6)
cat(sprintf("%s rstan::read_stan_csv read %d chains x %d draws, %d of %d parameters; posterior on them vs summary.csv: max rel diff rhat %.1e, ess_bulk %.1e, ess_tail %.1e, mean %.1e (%s)\n",
            if (ok1) "ok    " else "NOT OK", dim(arr)[2], dim(arr)[1], length(common), nrow(ours),
            exact[1], exact[2], exact[3], exact[4], args[2]))
d_rhat <- rel(ours[common, "rhat"], mon[common, "Rhat"])
d_bulk <- max(abs(ours[common, "ess_bulk"] - mon[common, "Bulk_ESS"]) - 1 - 0.02 * mon[common, "Bulk_ESS"])
d_tail <- max(abs(ours[common, "ess_tail"] - mon[common, "Tail_ESS"]) - 1 - 0.02 * mon[common, "Tail_ESS"])
ok2 <- d_rhat < 0.01 && d_bulk <= 0 && d_tail <= 0
cat(sprintf("%s rstan::monitor vs summary.csv: max rel diff rhat %.1e; ESS within 2%% +- 1 (%s)\n",
            if (ok2) "ok    " else "NOT OK", d_rhat, args[2]))
quit(status = if (ok1 && ok2) 0 else 1)
REOF
done
# --save-warmup: rstan reads the warm-up rows as warm-up (ceil(num_warmup / thin) per chain),
# its draws are the run's draws, and the warm-up rows are the first iterations of the chain
"$B" sample --dataset mackey-glass --model linear --samples 700 --burn-in 300 --thin 4 --chains 2 \
    --save-warmup --out "$T/warm" --quiet 2>/dev/null || { echo "NOT OK sample --save-warmup"; exit 1; }
Rscript - "$T/warm" <<'REOF' || status=1
dir <- commandArgs(trailingOnly = TRUE)[1]
suppressMessages(library(rstan))
files <- sort(Sys.glob(file.path(dir, "chain-*.csv")))
fit <- rstan::read_stan_csv(files)
w <- fit@sim$warmup2
arr <- as.array(fit)
ours <- read.csv(file.path(dir, "summary.csv"), stringsAsFactors = FALSE)
all_rows <- rstan::extract(fit, pars = "lp__", permuted = FALSE, inc_warmup = TRUE)
ok <- all(w == 75) && dim(arr)[1] == 100 && dim(all_rows)[1] == 175 &&
      abs(mean(arr[, , "lp__"]) - ours$mean[ours$name == "lp__"]) < 1e-9 * abs(mean(arr[, , "lp__"]))
cat(sprintf("%s rstan reads --save-warmup: %s warm-up rows per chain (want 75 = ceil(300 / 4)), %d draws (want 100), lp__ mean as summary.csv\n",
            if (ok) "ok    " else "NOT OK", paste(w, collapse = ","), dim(arr)[1]))
quit(status = if (ok) 0 else 1)
REOF
exit $status
