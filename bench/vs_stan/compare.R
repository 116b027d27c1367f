# compare.R — bnnmc's NUTS against Stan's (rstan) on the same models and data, side by side.
#
# usage: Rscript compare.R DATA_DIR BNNMC [CASES]
#   CASES: comma-separated among nn-sunspot, nn-iris, nn-abalone, linear-sunspot
#          (default nn-sunspot,nn-iris,linear-sunspot)
# Both run 4 chains x (1000 warmup + 1000 draws) on 2 cores. For each: sampling seconds
# (summed over chains: core-seconds), gradient evaluations per second per core (leapfrog
# steps over the chains' warmup + sampling time), minimum bulk ESS over parameters and over
# test predictions, ESS per core-second, maximum R-hat of the parameters and of the test
# predictions, divergences; then the ratios bnnmc / Stan. Where Stan's chains do not converge
# (R-hat > 1.01), one more bnnmc row ("bnnmc xS"): warm-up and draws S times longer, S the
# ratio of the two runs' total core-seconds, i.e. what bnnmc does in Stan's time.
suppressMessages({
  library(rstan)
  library(posterior)
})
rstan_options(boost_lib = "/usr/include")   # Debian's r-cran-bh lacks what rstan 2.21 needs
args <- commandArgs(trailingOnly = TRUE)
data_dir <- if (length(args) >= 1) args[1] else "../shared/data"
bnnmc <- if (length(args) >= 2) args[2] else "build/bnnmc"
cases <- if (length(args) >= 3) strsplit(args[3], ",")[[1]] else c("nn-sunspot", "nn-iris", "linear-sunspot")
here <- dirname(normalizePath(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE))))
out_root <- tempfile("bnnmc-vs-stan-")
dir.create(out_root)

read_split <- function(name) {
  tr <- as.matrix(read.table(file.path(data_dir, name, "train.txt")))
  te <- as.matrix(read.table(file.path(data_dir, name, "test.txt")))
  list(train = tr, test = te, p = ncol(tr) - 1)
}

stan_case <- function(model, name) {
  d <- read_split(name)
  X <- d$train[, 1:d$p, drop = FALSE]; y <- d$train[, d$p + 1]
  Xt <- d$test[, 1:d$p, drop = FALSE]; yt <- d$test[, d$p + 1]
  if (model == "linear") {
    file <- "linear_regression.stan"
    data <- list(N = nrow(X), P = d$p, X = X, y = y, Nt = nrow(Xt), Xt = Xt, prior_var = 5)
    pred <- "f_test"
  } else if (name %in% c("iris", "ionosphere")) {
    file <- "bnn_classification.stan"
    K <- length(unique(y))
    data <- list(N = nrow(X), P = d$p, H = 10, K = K, X = X, y = as.integer(y) + 1L,
                 Nt = nrow(Xt), Xt = Xt, yt = as.integer(yt) + 1L, prior_var = 25)
    pred <- "p_true"
  } else {
    file <- "bnn_regression.stan"
    data <- list(N = nrow(X), P = d$p, H = 10, X = X, y = y, Nt = nrow(Xt), Xt = Xt, prior_var = 25)
    pred <- "f_test"
  }
  sm <- stan_model(file.path(here, file))
  fit <- sampling(sm, data = data, chains = 4, cores = 2, iter = 2000, warmup = 1000, seed = 1,
                  refresh = 0)
  arr <- as.array(fit)
  pars <- dimnames(arr)[[3]]
  is_pred <- startsWith(pars, paste0(pred, "["))
  is_par <- !is_pred & pars != "lp__"
  sp <- get_sampler_params(fit, inc_warmup = TRUE)
  el <- get_elapsed_time(fit)
  leap <- sapply(sp, function(s) sum(s[, "n_leapfrog__"]))
  div <- sum(sapply(get_sampler_params(fit, inc_warmup = FALSE), function(s) sum(s[, "divergent__"])))
  depth_hits <- sum(sapply(get_sampler_params(fit, inc_warmup = FALSE), function(s) sum(s[, "treedepth__"] >= 10)))
  stepsize <- mean(sapply(get_sampler_params(fit, inc_warmup = FALSE), function(s) s[1, "stepsize__"]))
  sum_stats <- function(idx) {
    r <- apply(arr[, , idx, drop = FALSE], 3, function(x) c(rhat(x), ess_bulk(x)))
    c(max(r[1, ], na.rm = TRUE), min(r[2, ], na.rm = TRUE))
  }
  ps <- sum_stats(is_par)
  pp <- sum_stats(is_pred)
  list(seconds = sum(el[, "sample"]), total = sum(el), grad_per_s = sum(leap) / sum(el),
       ess = ps[2], pess = pp[2], rhat = ps[1], prhat = pp[1], div = div,
       depth_hits = depth_hits, stepsize = stepsize)
}

bnnmc_case <- function(model, name, scale = 1) {
  out <- file.path(out_root, paste0(model, "-", name, "-x", scale))
  cmd <- c("sample", "--train", file.path(data_dir, name, "train.txt"), "--test",
           file.path(data_dir, name, "test.txt"), "--model", model, "--sampler", "nuts",
           "--chains", "4", "--threads", "2", "--samples", 2000 * scale, "--burn-in", 1000 * scale,
           "--seed", "1", "--quiet", "--out", out)
  if (model == "linear") cmd <- c(cmd, "--output", "identity")
  status <- system2(bnnmc, cmd)
  if (status != 0) stop("bnnmc failed: ", paste(cmd, collapse = " "))
  files <- sort(Sys.glob(file.path(out, "chain-*.csv")))
  leap <- 0; secs_w <- 0; secs_s <- 0; div <- 0; hits <- 0; step <- 0
  for (f in files) {
    lines <- readLines(f)
    d <- read.csv(text = lines[!startsWith(lines, "#")])
    leap <- leap + sum(d$n_leapfrog__)
    div <- div + sum(d$divergent__)
    hits <- hits + sum(d$treedepth__ >= 10)
    step <- step + d$stepsize__[1] / length(files)
    secs_w <- secs_w + as.numeric(sub(".*Elapsed Time: *([0-9.]+).*", "\\1", grep("Warm-up", lines, value = TRUE)))
    secs_s <- secs_s + as.numeric(sub("^# *([0-9.]+) seconds \\(Sampling\\).*", "\\1", grep("(Sampling)", lines, value = TRUE, fixed = TRUE)))
  }
  s <- read.csv(file.path(out, "summary.csv"))
  s <- s[s$name != "lp__", ]
  m <- jsonlite_free_read(file.path(out, "metrics.json"))
  # gradient evaluations: the kept draws' leapfrog steps over the sampling time (bnnmc keeps
  # no warm-up draws, so warm-up steps are not counted)
  list(seconds = secs_s, total = secs_w + secs_s, grad_per_s = leap / secs_s,
       ess = min(s$ess_bulk, na.rm = TRUE), pess = m$pred_ess_bulk_min,
       rhat = max(s$rhat, na.rm = TRUE), prhat = m$pred_rhat_max, div = div,
       depth_hits = hits, stepsize = step)
}

# metrics.json's test block, read without a JSON package (the keys are flat numbers)
jsonlite_free_read <- function(path) {
  txt <- paste(readLines(path), collapse = "\n")
  test <- sub('.*"test":[[:space:]]*\\{([^}]*)\\}.*', "\\1", txt)
  num <- function(key) as.numeric(sub(paste0('.*"', key, '":[[:space:]]*([-0-9.eE+]+).*'), "\\1", test))
  list(pred_ess_bulk_min = num("pred_ess_bulk_min"), pred_rhat_max = num("pred_rhat_max"))
}

fmt <- function(x, d = 2) formatC(x, format = "g", digits = 4)
cat(sprintf("%-15s %-9s %9s %11s %9s %9s %9s %9s %7s %8s %5s %6s %9s\n", "case", "tool",
            "samp s", "grad/s/core", "min ESS", "pred ESS", "ESS/s", "pESS/s", "max R^", "pred R^",
            "div", "depth", "step"))
for (case in cases) {
  parts <- strsplit(case, "-")[[1]]
  r <- list(stan = stan_case(parts[1], parts[2]), bnnmc = bnnmc_case(parts[1], parts[2]))
  # Where Stan's chains have not converged (R-hat > 1.01), also what bnnmc does in Stan's
  # time: warm-up and draws scaled by the ratio of the two runs' total core-seconds.
  if (r$stan$rhat > 1.01 || r$stan$prhat > 1.01) {
    scale <- max(1, floor(r$stan$total / r$bnnmc$total))
    r[[paste0("bnnmc x", scale)]] <- bnnmc_case(parts[1], parts[2], scale)
  }
  for (tool in names(r)) {
    x <- r[[tool]]
    cat(sprintf("%-15s %-9s %9.1f %11.0f %9.0f %9.0f %9.3g %9.3g %7.3f %8.3f %5d %6d %9.3g\n", case,
                tool, x$seconds, x$grad_per_s, x$ess, x$pess, x$ess / x$seconds, x$pess / x$seconds,
                x$rhat, x$prhat, as.integer(x$div), as.integer(x$depth_hits), x$stepsize))
  }
  a <- r$bnnmc; b <- r$stan
  cat(sprintf("%-15s %-9s %9s %10.1fx %9s %9s %8.1fx %8.1fx\n", case, "ratio", "",
              a$grad_per_s / b$grad_per_s, "", "", (a$ess / a$seconds) / (b$ess / b$seconds),
              (a$pess / a$seconds) / (b$pess / b$seconds)))
}
unlink(out_root, recursive = TRUE)
