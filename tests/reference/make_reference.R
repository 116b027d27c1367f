# make_reference.R — reference diagnostics from R's posterior package (and coda for the
# Gelman-Rubin PSRF) on fixed draw matrices. Writes, for each case, CASE.draws (one line
# per draw: the M chains' values, space separated) and reference.csv (one row per case).
# The C test tests/test_diagnostics.c reads both and compares at relative error 1e-6.
#
# Run from this folder: Rscript make_reference.R   (Debian: r-cran-posterior, r-cran-coda)
suppressMessages({
  library(posterior)
  library(coda)
})
set.seed(20240402)

ar1 <- function(n, m, phi, shift = rep(0, m)) {
  x <- matrix(0, n, m)
  for (j in 1:m) {
    x[1, j] <- rnorm(1) / sqrt(1 - phi^2)
    for (i in 2:n) x[i, j] <- phi * x[i - 1, j] + rnorm(1)
    x[, j] <- x[, j] + shift[j]
  }
  x
}

cases <- list(
  normal = matrix(rnorm(4 * 1000), 1000, 4),
  ar1_strong = ar1(2000, 4, 0.95),
  ar1_antithetic = ar1(500, 3, -0.6),
  shifted_means = ar1(800, 4, 0.5, shift = c(0, 0, 0.5, 1.5)),
  heavy_tail = matrix(rt(4 * 1000, df = 2), 1000, 4),
  odd_draws = ar1(777, 5, 0.7),
  ties = matrix(round(rnorm(4 * 600), 1), 600, 4),
  two_chains_short = ar1(51, 2, 0.3),
  one_chain = ar1(1001, 1, 0.8)
)

rows <- list()
for (name in names(cases)) {
  x <- cases[[name]]
  write.table(format(x, digits = 17), file = paste0(name, ".draws"), quote = FALSE,
              row.names = FALSE, col.names = FALSE)
  xr <- as.matrix(read.table(paste0(name, ".draws")))   # exactly what C reads back
  gr <- if (ncol(xr) > 1) {
    gelman.diag(mcmc.list(lapply(1:ncol(xr), function(j) mcmc(xr[, j]))),
                autoburnin = FALSE, multivariate = FALSE)$psrf[1, 1]
  } else NA
  q <- quantile(xr, c(0.05, 0.5, 0.95))
  mq <- mcse_quantile(xr, c(0.05, 0.5, 0.95))
  rows[[name]] <- data.frame(
    case = name, chains = ncol(xr), draws = nrow(xr),
    mean = mean(xr), sd = sd(xr), q5 = q[[1]], q50 = q[[2]], q95 = q[[3]],
    mcse_mean = mcse_mean(xr), mcse_sd = mcse_sd(xr),
    mcse_q5 = mq[[1]], mcse_q50 = mq[[2]], mcse_q95 = mq[[3]],
    ess_bulk = ess_bulk(xr), ess_tail = ess_tail(xr), ess_basic = ess_basic(xr),
    rhat = rhat(xr), rhat_basic = rhat_basic(xr), rhat_gr = gr)
}
out <- do.call(rbind, rows)
write.csv(format(out, digits = 17), "reference.csv", row.names = FALSE, quote = FALSE)
cat(sprintf("posterior %s, coda %s: wrote %d cases\n", packageVersion("posterior"),
            packageVersion("coda"), nrow(out)))
