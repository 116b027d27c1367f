/* loo.c — PSIS-LOO, WAIC and loo_compare from a log-likelihood matrix, computed as R's loo
 * 2.5.1 computes them (Vehtari, Gelman & Gabry 2017; Zhang & Stephens 2009). Every step
 * names the R function it follows; the order of operations is R's where it can change a
 * rounding, so the figures agree with R's to near machine precision.
 *
 * Per observation i (its S draws of log p(y_i | theta_s)):
 *   r_eff    relative_eff(exp(ll_i), chain_id)
 *   PSIS     log ratios -ll_i; the largest M = ceil(min(0.2 S, 3 sqrt(S / r_eff))) are
 *            replaced by the quantiles of a generalised Pareto fitted to them (gpdfit, with
 *            the weakly informative prior on k), then truncated at the largest raw ratio
 *   elpd     logSumExp(ll_i + normalised log weights); p_loo = lpd - elpd
 *   WAIC     lpd - var(ll_i)
 * No model knowledge: the matrix comes from anywhere. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "../core/core.h"

/* matrixStats::logSumExp: the first largest value plus log1p of the sum of the others'
 * exp(x - max). */
static double log_sum_exp(const double *x, size_t n)
{
    size_t imax = 0;
    for (size_t i = 1; i < n; i++)
        if (x[i] > x[imax])
            imax = i;
    double mx = x[imax];
    if (n == 1 || !isfinite(mx))
        return mx;
    double s = 0;
    for (size_t i = 0; i < n; i++)
        if (i != imax)
            s += exp(x[i] - mx);
    return mx + log1p(s);
}

/* R's mean: the long double sum over n, then one correction pass. */
static double mean_r(const double *x, size_t n)
{
    long double s = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    s /= (long double)n;
    if (isfinite((double)s)) {
        long double t = 0;
        for (size_t i = 0; i < n; i++)
            t += x[i] - s;
        s += t / (long double)n;
    }
    return (double)s;
}

/* Sample variance (n - 1 denominator), two passes, as var() and matrixStats::colVars. */
static double var_r(const double *x, size_t n)
{
    if (n < 2)
        return NAN;
    double mu = mean_r(x, n);
    long double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (long double)(x[i] - mu) * (x[i] - mu);
    return (double)(s / (long double)(n - 1));
}

/* ------------------------------------------------------------ generalised Pareto fit */

/* loo's lx: the profile log-likelihood (per point) of theta = -a for the sample x. */
static double gpd_lx(double theta, const double *x, size_t n, double *buf)
{
    double a = -theta;
    for (size_t i = 0; i < n; i++)
        buf[i] = log1p(a * x[i]);
    double k = mean_r(buf, n);
    return log(a / k) - k - 1;
}

/* loo's gpdfit(x, wip = TRUE, min_grid_pts = 30, sort_x = FALSE) of n >= 1 values sorted
 * ascending: Zhang & Stephens' posterior-mean estimate of theta = k / sigma over a grid of
 * 30 + floor(sqrt(n)) points, then k pulled towards 0.5 as by a prior worth 10 points
 * (adjust_k_wip). *k is Inf where the fit is NaN. buf holds 3 M + n values, M = 30 +
 * floor(sqrt(n)) (theta, l, w, then gpd_lx's scratch). */
static void gpdfit(const double *x, size_t n, double *k, double *sigma, double *buf)
{
    const double prior = 3;
    size_t M = 30 + (size_t)floor(sqrt((double)n));
    double *theta = buf, *l = buf + M, *w = buf + 2 * M, *scratch = buf + 3 * M;
    double xstar = x[(size_t)floor((double)n / 4 + 0.5) - 1];
    for (size_t j = 0; j < M; j++) {
        double jj = (double)(j + 1);
        theta[j] = 1 / x[n - 1] + (1 - sqrt((double)M / (jj - 0.5))) / prior / xstar;
        l[j] = (double)n * gpd_lx(theta[j], x, n, scratch);
    }
    double lse = log_sum_exp(l, M);
    long double th = 0;
    for (size_t j = 0; j < M; j++) {
        w[j] = exp(l[j] - lse);
        th += (long double)(theta[j] * w[j]);
    }
    double theta_hat = (double)th;
    for (size_t i = 0; i < n; i++)
        scratch[i] = log1p(-theta_hat * x[i]);
    double kk = mean_r(scratch, n);
    *sigma = -kk / theta_hat;
    /* adjust_k_wip: k n / (n + a) + a 0.5 / (n + a), a = 10 */
    double np = (double)n + 10;
    kk = kk * (double)n / np + 10 * 0.5 / np;
    *k = isnan(kk) ? INFINITY : kk;
}

/* loo's qgpd: the quantile of the generalised Pareto at p. */
static double qgpd(double p, double k, double sigma)
{
    if (isnan(sigma) || sigma <= 0)
        return NAN;
    return sigma * expm1(-k * log1p(-p)) / k;
}

/* ------------------------------------------------------------ one observation */

typedef struct {
    const double *ll;
    size_t n, M, N, S;
    bnn_loo *l;
    const double *zn;        /* mcse_elpd's 1000 normal quantiles */
} loo_job;

enum { MCSE_DRAWS = 1000 };

/* loo's do_psis_i: lw (S) receives the smoothed, truncated log weights of log ratios lr,
 * *khat the tail's k. idx, sorted (S each) and buf (gpdfit's) are scratch. 0, or -1 when
 * out of memory. */
static int psis_i(const double *lr, size_t S, size_t tail_len, double *lw, size_t *idx,
                  double *sorted, double *buf, double *khat)
{
    double mx = lr[0];
    for (size_t s = 1; s < S; s++)
        mx = lr[s] > mx ? lr[s] : mx;
    for (size_t s = 0; s < S; s++)
        lw[s] = lr[s] - mx;
    *khat = INFINITY;
    if (tail_len >= 5) {   /* enough_tail_samples */
        if (bnn_argsort(lw, S, idx) != 0)
            return -1;
        for (size_t s = 0; s < S; s++)
            sorted[s] = lw[idx[s]];
        const double *tail = sorted + S - tail_len;
        /* loo warns and leaves a constant tail alone */
        if (fabs(tail[tail_len - 1] - tail[0]) >= 2.220446049250313e-16 / 100) {
            /* psis_smooth_tail */
            double cutoff = sorted[S - tail_len - 1], exp_cutoff = exp(cutoff);
            double *xt = buf, *fitbuf = buf + tail_len;
            for (size_t j = 0; j < tail_len; j++)
                xt[j] = exp(tail[j]) - exp_cutoff;
            double k, sigma;
            gpdfit(xt, tail_len, &k, &sigma, fitbuf);
            *khat = k;
            if (isfinite(k))
                for (size_t j = 0; j < tail_len; j++) {
                    double p = ((double)(j + 1) - 0.5) / (double)tail_len;
                    lw[idx[S - tail_len + j]] = log(qgpd(p, k, sigma) + exp_cutoff);
                }
        }
    }
    for (size_t s = 0; s < S; s++) {
        if (lw[s] > 0)
            lw[s] = 0;
        lw[s] += mx;
    }
    return 0;
}

/* loo's mcse_elpd for one observation: the sd of log(E_epd + sd_epd z) over 1000 normal
 * quantiles z (positive values only), divided by sqrt(r_eff). Deterministic. */
static double mcse_elpd_i(const double *ll, const double *lw_norm, size_t S, double elpd,
                          double r_eff, const double *zn, double *buf)
{
    double e_epd = exp(elpd);
    long double v = 0;
    for (size_t s = 0; s < S; s++) {
        double w = exp(lw_norm[s]), d = exp(ll[s]) - e_epd;
        v += (long double)(w * w * (d * d));
    }
    double sd = sqrt((double)v);
    size_t k = 0;
    for (size_t r = 0; r < MCSE_DRAWS; r++) {
        double z = e_epd + sd * zn[r];
        if (z > 0)
            buf[k++] = log(z);
    }
    return sqrt(var_r(buf, k) / r_eff);
}

static bnn_status loo_range(void *arg, size_t lo, size_t hi)
{
    loo_job *j = arg;
    size_t S = j->S;
    bnn_loo *l = j->l;
    size_t fit_len = 2 * S + 3 * (30 + (size_t)sqrt((double)S) + 1) + MCSE_DRAWS;
    double *a = malloc((4 * S + fit_len) * sizeof *a);
    size_t *idx = malloc(S * sizeof *idx);
    bnn_status st = BNN_OK;
    if (!a || !idx) {
        st = BNN_ENOMEM;
        goto done;
    }
    double *lr = a, *lw = a + S, *sorted = a + 2 * S, *tmp = a + 3 * S, *buf = a + 4 * S;
    for (size_t i = lo; i < hi; i++) {
        const double *ll = j->ll + i * S;
        /* relative_eff(exp(ll), chain_id) */
        for (size_t s = 0; s < S; s++)
            tmp[s] = exp(ll[s]);
        double r_eff = bnn_relative_eff(tmp, j->M, j->N);   /* NaN: out of memory */
        if (isnan(r_eff)) {
            st = BNN_ENOMEM;
            goto done;
        }
        /* n_pareto */
        double tl = fmin(0.2 * (double)S, 3 * sqrt((double)S / r_eff));
        size_t tail_len = (size_t)ceil(tl);
        for (size_t s = 0; s < S; s++)
            lr[s] = -ll[s];
        double k;
        if (psis_i(lr, S, tail_len, lw, idx, sorted, buf, &k) != 0) {
            st = BNN_ENOMEM;
            goto done;
        }
        /* weights(normalize = TRUE, log = TRUE) and pointwise_loo_calcs */
        double norm = log_sum_exp(lw, S);
        long double w2 = 0;
        for (size_t s = 0; s < S; s++) {
            lw[s] -= norm;
            double w = exp(lw[s]);
            w2 += (long double)w * w;
            tmp[s] = ll[s] + lw[s];
        }
        double elpd = log_sum_exp(tmp, S);
        double lpd = log_sum_exp(ll, S) - log((double)S);
        l->r_eff[i] = r_eff;
        l->pareto_k[i] = k;
        l->n_eff[i] = 1 / (double)w2 * r_eff;
        l->elpd_loo_i[i] = elpd;
        l->p_loo_i[i] = lpd - elpd;
        l->mcse_elpd_loo_i[i] = mcse_elpd_i(ll, lw, S, elpd, r_eff, j->zn, buf);
        /* waic.matrix */
        l->p_waic_i[i] = var_r(ll, S);
        l->elpd_waic_i[i] = lpd - l->p_waic_i[i];
    }
done:
    free(a);
    free(idx);
    return st;
}

/* table_of_estimates: the sum of x (n) into *est and sqrt(n var(x)) into *se; scale
 * multiplies both (looic = -2 elpd_loo pointwise). */
static void estimate(const double *x, size_t n, double scale, double *buf, double *est,
                     double *se)
{
    long double s = 0;
    for (size_t i = 0; i < n; i++) {
        buf[i] = scale * x[i];
        s += buf[i];
    }
    *est = (double)s;
    *se = sqrt((double)n * var_r(buf, n));
}

void bnn_loo_free(bnn_loo *l)
{
    if (!l)
        return;
    free(l->elpd_loo_i);
    free(l);
}

/* The totals of l from its pointwise values, as R's loo sums them. */
static bnn_status totals(bnn_loo *l)
{
    size_t n = l->n;
    double *buf = malloc(n * sizeof *buf);
    if (!buf)
        return BNN_ENOMEM;
    estimate(l->elpd_loo_i, n, 1, buf, &l->elpd_loo, &l->se_elpd_loo);
    estimate(l->p_loo_i, n, 1, buf, &l->p_loo, &l->se_p_loo);
    estimate(l->elpd_loo_i, n, -2, buf, &l->looic, &l->se_looic);
    estimate(l->elpd_waic_i, n, 1, buf, &l->elpd_waic, &l->se_elpd_waic);
    estimate(l->p_waic_i, n, 1, buf, &l->p_waic, &l->se_p_waic);
    estimate(l->elpd_waic_i, n, -2, buf, &l->waic, &l->se_waic);
    /* mcse_loo: NA once some k > 0.7 */
    long double mc = 0;
    int high = 0;
    for (size_t i = 0; i < n; i++) {
        mc += (long double)l->mcse_elpd_loo_i[i] * l->mcse_elpd_loo_i[i];
        high |= l->pareto_k[i] > 0.7;
    }
    l->mcse_elpd_loo = high ? NAN : sqrt((double)mc);
    free(buf);
    return BNN_OK;
}

bnn_status bnn_loo_compute(const double *ll, size_t n, size_t M, size_t N, int threads,
                           bnn_loo **out, bnn_error *err)
{
    *out = NULL;
    size_t S = M * N;
    if (n == 0 || S < 2)
        return bnn_fail(err, BNN_EINVAL, "loo: %zu observations x %zu draws: need at least "
                        "one observation and two draws", n, S);
    for (size_t i = 0; i < n; i++)
        for (size_t s = 0; s < S; s++)
            if (!isfinite(ll[i * S + s]))
                return bnn_fail(err, BNN_EINVAL, "loo: the log-likelihood of observation %zu "
                                "under draw %zu is %g; every value must be finite", i + 1, s + 1,
                                ll[i * S + s]);
    bnn_gsl_setup();
    bnn_loo *l = calloc(1, sizeof *l);
    double *a = malloc((8 * n + MCSE_DRAWS) * sizeof *a);
    if (!l || !a) {
        free(l);
        free(a);
        return bnn_fail(err, BNN_ENOMEM, "loo: out of memory");
    }
    l->n = n;
    l->S = S;
    l->elpd_loo_i = a;
    l->p_loo_i = a + n;
    l->mcse_elpd_loo_i = a + 2 * n;
    l->pareto_k = a + 3 * n;
    l->n_eff = a + 4 * n;
    l->r_eff = a + 5 * n;
    l->elpd_waic_i = a + 6 * n;
    l->p_waic_i = a + 7 * n;
    double *zn = a + 8 * n;
    /* mcse_elpd's z: qnorm((r - c) / (S - 2c + 1)), c = 3/8, r = 1..1000 */
    for (size_t r = 0; r < MCSE_DRAWS; r++)
        zn[r] = gsl_cdf_ugaussian_Pinv(((double)(r + 1) - 0.375) /
                                       ((double)MCSE_DRAWS - 2 * 0.375 + 1));
    loo_job job = {ll, n, M, N, S, l, zn};
    bnn_status st = bnn_parallel_for(n, threads < 1 ? 1 : threads, loo_range, &job);
    if (st || totals(l) != BNN_OK) {
        bnn_loo_free(l);
        return bnn_fail(err, BNN_ENOMEM, "loo: out of memory");
    }
    *out = l;
    return BNN_OK;
}

bnn_status bnn_loo_merge(const bnn_loo *const *parts, size_t k, bnn_loo **out, bnn_error *err)
{
    *out = NULL;
    size_t n = 0;
    for (size_t j = 0; j < k; j++) {
        if (j && parts[j]->S != parts[0]->S)
            return bnn_fail(err, BNN_EINVAL, "loo: parts of %zu and %zu draws", parts[0]->S,
                            parts[j]->S);
        n += parts[j]->n;
    }
    if (k == 0 || n == 0)
        return bnn_fail(err, BNN_EINVAL, "loo: nothing to merge");
    bnn_loo *l = calloc(1, sizeof *l);
    double *a = malloc(8 * n * sizeof *a);
    if (!l || !a) {
        free(l);
        free(a);
        return bnn_fail(err, BNN_ENOMEM, "loo: out of memory");
    }
    l->n = n;
    l->S = parts[0]->S;
    double **dst[8] = {&l->elpd_loo_i, &l->p_loo_i, &l->mcse_elpd_loo_i, &l->pareto_k,
                       &l->n_eff, &l->r_eff, &l->elpd_waic_i, &l->p_waic_i};
    for (int f = 0; f < 8; f++)
        *dst[f] = a + (size_t)f * n;
    size_t at = 0;
    for (size_t j = 0; j < k; j++) {
        const bnn_loo *p = parts[j];
        const double *src[8] = {p->elpd_loo_i, p->p_loo_i, p->mcse_elpd_loo_i, p->pareto_k,
                                p->n_eff, p->r_eff, p->elpd_waic_i, p->p_waic_i};
        for (int f = 0; f < 8; f++)
            memcpy(*dst[f] + at, src[f], p->n * sizeof(double));
        at += p->n;
    }
    if (totals(l) != BNN_OK) {
        bnn_loo_free(l);
        return bnn_fail(err, BNN_ENOMEM, "loo: out of memory");
    }
    *out = l;
    return BNN_OK;
}

bnn_status bnn_loo_compare(const bnn_loo *const *loos, size_t K, size_t *order,
                           double *elpd_diff, double *se_diff, bnn_error *err)
{
    if (K < 2)
        return bnn_fail(err, BNN_EINVAL, "loo_compare: needs at least two models, got %zu", K);
    size_t n = loos[0]->n;
    for (size_t m = 1; m < K; m++)
        if (loos[m]->n != n)
            return bnn_fail(err, BNN_EINVAL, "loo_compare: model %zu has %zu observations, "
                            "model 1 has %zu", m + 1, loos[m]->n, n);
    /* loo_compare_order: by elpd_loo, decreasing; a stable insertion sort keeps ties in
     * input order as R's order() does */
    for (size_t m = 0; m < K; m++) {
        size_t j = m;
        while (j > 0 && loos[order[j - 1]]->elpd_loo < loos[m]->elpd_loo) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = m;
    }
    double *d = malloc(n * sizeof *d);
    if (!d)
        return bnn_fail(err, BNN_ENOMEM, "loo_compare: out of memory");
    const bnn_loo *best = loos[order[0]];
    for (size_t j = 0; j < K; j++) {
        const bnn_loo *b = loos[order[j]];
        long double s = 0;
        for (size_t i = 0; i < n; i++) {
            d[i] = b->elpd_loo_i[i] - best->elpd_loo_i[i];   /* elpd_diffs */
            s += d[i];
        }
        elpd_diff[j] = (double)s;
        se_diff[j] = sqrt((double)n) * sqrt(var_r(d, n));   /* se_elpd_diff */
    }
    free(d);
    return BNN_OK;
}
