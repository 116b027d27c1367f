/* diagnostics.c — convergence diagnostics over M chains x N draws (chain-major arrays).
 *
 * Effective sample size follows Vehtari, Gelman, Simpson, Carpenter & Buerkner (2021) and
 * R's posterior package: per-chain autocovariances by FFT (FFTW), the multi-chain
 * autocorrelation rho_t = 1 - (W - mean_m acov_m(t)) / var_plus, Geyer's initial positive
 * then initial monotone sequence, and the truncated sum with the antithetic improvement. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <pthread.h>

#include <fftw3.h>

#include "../core/core.h"

static size_t pow2_at_least(size_t n)
{
    size_t p = 1;
    while (p < n)
        p <<= 1;
    return p;
}

/* FFTW's planner is not reentrant; executing a plan is. The library makes the planner
 * thread-safe once (FFTW's own mechanism) so that chains of diagnostics may run on
 * several threads. */
static pthread_once_t fftw_once = PTHREAD_ONCE_INIT;

static void fftw_setup(void)
{
    fftw_make_planner_thread_safe();
}

/* One FFT length's buffers and plans. Making a plan costs as much as many executions (and
 * takes the planner's lock): a workspace makes its pair once, on first need, and executes
 * it on every later call. FFTW_ESTIMATE plans of one size on FFTW's aligned buffers are
 * the same plan each time, so reuse changes no value. */
typedef struct {
    size_t L;
    double *in;
    fftw_complex *out;
    fftw_plan fwd, inv;
} fft_ws;

static int fft_ws_make(fft_ws *f, size_t N)
{
    pthread_once(&fftw_once, fftw_setup);
    f->L = pow2_at_least(2 * N);
    f->in = fftw_alloc_real(f->L);
    f->out = fftw_alloc_complex(f->L / 2 + 1);
    f->fwd = f->inv = NULL;
    if (!f->in || !f->out)
        return -1;
    f->fwd = fftw_plan_dft_r2c_1d((int)f->L, f->in, f->out, FFTW_ESTIMATE);
    f->inv = fftw_plan_dft_c2r_1d((int)f->L, f->out, f->in, FFTW_ESTIMATE);
    return f->fwd && f->inv ? 0 : -1;
}

static void fft_ws_free(fft_ws *f)
{
    if (f->fwd)
        fftw_destroy_plan(f->fwd);
    if (f->inv)
        fftw_destroy_plan(f->inv);
    fftw_free(f->in);
    fftw_free(f->out);
    memset(f, 0, sizeof *f);
}

/* Biased autocovariance of each of the M chains (x, M x N) around its own mean,
 * acov[t] = (1/N) sum_i yc_i yc_{i+t}, averaged over chains into mean_acov[0..N-1]: one
 * real FFT per chain, zero-padded to a power of two >= 2N so the circular correlation is
 * the linear one. f: a workspace of this N, its plans made here when not yet. Returns 0, or
 * -1 when out of memory. */
static int mean_autocovariance_fft(const double *xc, size_t M, size_t N, double *mean_acov,
                                   fft_ws *f)
{
    if (!f->fwd && fft_ws_make(f, N) != 0) {
        fft_ws_free(f);
        return -1;
    }
    size_t L = f->L;
    double *in = f->in;
    fftw_complex *out = f->out;
    memset(mean_acov, 0, N * sizeof *mean_acov);
    for (size_t m = 0; m < M; m++) {
        memcpy(in, xc + m * N, N * sizeof *in);
        memset(in + N, 0, (L - N) * sizeof *in);
        fftw_execute(f->fwd);
        for (size_t k = 0; k <= L / 2; k++) {
            out[k][0] = out[k][0] * out[k][0] + out[k][1] * out[k][1];
            out[k][1] = 0;
        }
        fftw_execute(f->inv);   /* unnormalised: L times the correlation */
        for (size_t t = 0; t < N; t++)
            mean_acov[t] += in[t] / ((double)L * (double)N * (double)M);
    }
    return 0;
}

/* The chains' mean autocovariance by lag, computed on demand. Well-mixed chains stop
 * Geyer's sum after a few lags: those are computed directly, O(M N) each. Past
 * DIRECT_LAGS every lag comes from the FFT at once. Either way the value is the biased
 * autocovariance of each chain around its own mean, averaged over chains. */
enum { DIRECT_LAGS = 16 };

typedef struct {
    size_t M, N;
    double *xc;          /* centred chains */
    double *mean_acov;   /* lags known so far */
    size_t known;        /* lags 0..known-1 are in mean_acov */
    int failed;
    fft_ws *fft;
} acov_cache;

static double acov_at(acov_cache *c, size_t t)
{
    size_t M = c->M, N = c->N;
    if (t < c->known)
        return c->mean_acov[t];
    /* strongly autocorrelated chains will need many lags: go to the FFT at once */
    int slow = c->known > 1 && c->mean_acov[1] > 0.5 * c->mean_acov[0];
    if (t < DIRECT_LAGS && !slow) {
        for (size_t k = c->known; k <= t; k++) {
            double s = 0;
            for (size_t m = 0; m < M; m++) {
                const double *y = c->xc + m * N;
                double a = 0;
                for (size_t i = 0; i + k < N; i++)
                    a += y[i] * y[i + k];
                s += a / (double)N;
            }
            c->mean_acov[k] = s / (double)M;
        }
        c->known = t + 1;
        return c->mean_acov[t];
    }
    if (mean_autocovariance_fft(c->xc, M, N, c->mean_acov, c->fft) != 0) {
        c->failed = 1;
        return NAN;
    }
    c->known = N;
    return c->mean_acov[t];
}

/* The ESS of posterior's .ess, or with loo = 1 of loo's ess_rfun (relative_eff), which
 * differs in one place: when Geyer's sequence stops at once (max_t = 0: fewer than 6 draws
 * per chain, constant or strongly anticorrelated draws) R's sum(rho[1:max_t]) there is
 * rho_0 = 1, not an empty sum, so tau = -1 + 2 + 1 = 2 and the ESS is M N / 2. */
/* The ESS's scratch for M chains x N draws: centred chains, lags, Geyer's sequence, chain
 * means and the FFT (made on first need). */
typedef struct {
    size_t M, N;
    double *xc, *mean_acov, *rho, *cmean;
    fft_ws fft;
} ess_ws;

static int ess_ws_make(ess_ws *w, size_t M, size_t N)
{
    memset(w, 0, sizeof *w);
    w->M = M;
    w->N = N;
    w->xc = malloc(M * N * sizeof(double) + 1);
    w->mean_acov = malloc(N * sizeof(double) + 1);
    w->rho = malloc(N * sizeof(double) + 1);
    w->cmean = malloc(M * sizeof(double) + 1);
    return w->xc && w->mean_acov && w->rho && w->cmean ? 0 : -1;
}

static void ess_ws_free(ess_ws *w)
{
    free(w->xc);
    free(w->mean_acov);
    free(w->rho);
    free(w->cmean);
    fft_ws_free(&w->fft);
}

static double ess_geyer_ws(const double *x, size_t M, size_t N, int loo, ess_ws *w);

static double ess_geyer(const double *x, size_t M, size_t N, int loo)
{
    ess_ws w;
    double ess = NAN;
    if (ess_ws_make(&w, M, N) == 0)
        ess = ess_geyer_ws(x, M, N, loo, &w);
    ess_ws_free(&w);
    return ess;
}

/* ess_geyer in w's scratch, made for M x N. */
static double ess_geyer_ws(const double *x, size_t M, size_t N, int loo, ess_ws *w)
{
    if (M < 1 || N < 1 || (N < 3 && !loo))
        return NAN;
    if (N < 2)
        return 0.5 * (double)M;   /* loo: max_t = 0 (R itself fails on one draw a chain) */
    if (loo) {
        /* constant draws: R's mean is exactly the value, every autocovariance exactly 0
         * and rho_1 NaN, so max_t = 0 (a rounded mean here would leave noise instead) */
        size_t k = 1;
        while (k < M * N && x[k] == x[0])
            k++;
        if (k == M * N)
            return 0.5 * (double)(M * N);
    }
    acov_cache c = {M, N, w->xc, w->mean_acov, 0, 0, &w->fft};
    double *rho = w->rho, *cmean = w->cmean;
    double ess = NAN;
    memset(rho, 0, N * sizeof *rho);
    for (size_t m = 0; m < M; m++) {
        const double *xm = x + m * N;
        double s = 0;
        for (size_t i = 0; i < N; i++)
            s += xm[i];
        cmean[m] = s / (double)N;
        for (size_t i = 0; i < N; i++)
            c.xc[m * N + i] = xm[i] - cmean[m];
    }
    double mean_var = acov_at(&c, 0) * (double)N / (double)(N - 1);
    double var_plus = mean_var * (double)(N - 1) / (double)N;
    if (M > 1) {
        double a = 0, b = 0;
        for (size_t m = 0; m < M; m++)
            a += cmean[m];
        a /= (double)M;
        for (size_t m = 0; m < M; m++)
            b += (cmean[m] - a) * (cmean[m] - a);
        var_plus += b / (double)(M - 1);
    }
    if (!(var_plus > 0) || !isfinite(var_plus)) {
        /* constant draws: ESS undefined (posterior); loo's rho_1 is NaN there, max_t = 0 */
        ess = loo ? 0.5 * (double)(M * N) : NAN;
        goto done;
    }
#define RHO(t) (1.0 - (mean_var - acov_at(&c, (t))) / var_plus)
    /* Geyer's initial positive sequence */
    size_t t = 0;
    double even = 1.0, odd = RHO(1);
    rho[0] = even;
    rho[1] = odd;
    while (t + 5 < N && !isnan(even + odd) && even + odd > 0) {
        t += 2;
        even = RHO(t);
        odd = RHO(t + 1);
        if (even + odd >= 0) {
            rho[t] = even;
            rho[t + 1] = odd;
        }
    }
#undef RHO
    if (c.failed)
        goto done;
    size_t max_t = t;
    if (even > 0)
        rho[max_t] = even;
    /* Geyer's initial monotone sequence */
    t = 0;
    while (t + 4 <= max_t) {
        t += 2;
        if (rho[t] + rho[t + 1] > rho[t - 2] + rho[t - 1]) {
            rho[t] = (rho[t - 2] + rho[t - 1]) / 2;
            rho[t + 1] = rho[t];
        }
    }
    double tau = -1.0;
    for (size_t k = 0; k < max_t; k++)
        tau += 2.0 * rho[k];
    if (loo && max_t == 0)
        tau += 2.0 * rho[0];
    tau += rho[max_t];
    double total = (double)(M * N);
    tau = fmax(tau, 1.0 / log10(total));
    ess = total / tau;
done:
    return ess;
}

double bnn_ess(const double *x, size_t M, size_t N)
{
    return ess_geyer(x, M, N, 0);
}

double bnn_relative_eff(const double *x, size_t M, size_t N)
{
    return ess_geyer(x, M, N, 1) / (double)(M * N);
}

/* ------------------------------------------------------------ helpers */


/* posterior's should_return_NA: any non-finite value, or max - min below machine eps. */
static int degenerate(const double *x, size_t n)
{
    double lo = x[0], hi = x[0];
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]))
            return 1;
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
    return fabs(hi - lo) < 2.220446049250313e-16;
}

/* .split_chains: each chain's first floor(N/2) and last floor(N/2) draws become two chains
 * (the middle draw of an odd N is dropped). out has 2M chains of H = N/2 draws. */
static void split_chains(const double *x, size_t M, size_t N, double *out)
{
    size_t H = N / 2, second = N - H;   /* R: x[ceiling(N/2 + 1):N] */
    for (size_t m = 0; m < M; m++) {
        memcpy(out + 2 * m * H, x + m * N, H * sizeof *out);
        memcpy(out + (2 * m + 1) * H, x + m * N + second, H * sizeof *out);
    }
}

/* posterior's .rhat on chains as given (M chains x N). */
static double rhat_chains(const double *x, size_t M, size_t N)
{
    if (N < 3 || degenerate(x, M * N))
        return NAN;
    double mm = 0, w = 0, b = 0;
    double *cm = malloc(M * sizeof *cm);
    if (!cm)
        return NAN;
    for (size_t m = 0; m < M; m++) {
        double s = 0;
        for (size_t i = 0; i < N; i++)
            s += x[m * N + i];
        cm[m] = s / (double)N;
        double v = 0;
        for (size_t i = 0; i < N; i++)
            v += (x[m * N + i] - cm[m]) * (x[m * N + i] - cm[m]);
        w += v / (double)(N - 1);
        mm += cm[m];
    }
    w /= (double)M;
    mm /= (double)M;
    for (size_t m = 0; m < M; m++)
        b += (cm[m] - mm) * (cm[m] - mm);
    b = M > 1 ? (double)N * b / (double)(M - 1) : NAN;
    free(cm);
    return sqrt((b / w + (double)N - 1) / (double)N);
}

/* ess_checked in w's scratch (made for M x N). */
static double ess_checked_ws(const double *x, size_t M, size_t N, ess_ws *w)
{
    if (N < 3 || degenerate(x, M * N))
        return NAN;
    return ess_geyer_ws(x, M, N, 0, w);
}

/* Brooks & Gelman's corrected PSRF as R's coda::gelman.diag (point estimate). */
static double gelman_rubin(const double *x, size_t M, size_t N)
{
    if (M < 2 || N < 2 || degenerate(x, M * N))
        return NAN;
    double *mean = malloc(2 * M * sizeof *mean), *s2 = mean + M;
    if (!mean)
        return NAN;
    for (size_t m = 0; m < M; m++) {
        double a = 0, v = 0;
        for (size_t i = 0; i < N; i++)
            a += x[m * N + i];
        a /= (double)N;
        for (size_t i = 0; i < N; i++)
            v += (x[m * N + i] - a) * (x[m * N + i] - a);
        mean[m] = a;
        s2[m] = v / (double)(N - 1);
    }
    double n = (double)N, k = (double)M;
    double w = 0, mu = 0, xb2 = 0;
    for (size_t m = 0; m < M; m++) {
        w += s2[m] / k;
        mu += mean[m] / k;
        xb2 += mean[m] * mean[m] / k;
    }
    double b = 0, var_s2 = 0;
    for (size_t m = 0; m < M; m++) {
        b += (mean[m] - mu) * (mean[m] - mu);
        var_s2 += (s2[m] - w) * (s2[m] - w);
    }
    b = n * b / (k - 1);
    var_s2 /= (k - 1);
    /* sample covariances of s2 with xbar^2 and with xbar, over chains */
    double cov_s2_x2 = 0, cov_s2_x = 0;
    for (size_t m = 0; m < M; m++) {
        cov_s2_x2 += (s2[m] - w) * (mean[m] * mean[m] - xb2);
        cov_s2_x += (s2[m] - w) * (mean[m] - mu);
    }
    cov_s2_x2 /= (k - 1);
    cov_s2_x /= (k - 1);
    free(mean);
    double var_w = var_s2 / k;
    double var_b = 2 * b * b / (k - 1);
    double cov_wb = (n / k) * (cov_s2_x2 - 2 * mu * cov_s2_x);
    double V = (n - 1) * w / n + (1 + 1 / k) * b / n;
    double var_V = ((n - 1) * (n - 1) * var_w + (1 + 1 / k) * (1 + 1 / k) * var_b +
                    2 * (n - 1) * (1 + 1 / k) * cov_wb) / (n * n);
    double df_V = 2 * V * V / var_V;
    double df_adj = (df_V + 3) / (df_V + 1);
    double r2 = (n - 1) / n + (1 + 1 / k) * (1 / n) * (b / w);
    return sqrt(df_adj * r2);
}

/* ESS of the indicator x <= q (posterior's .ess_quantile) on split chains. */
static double ess_indicator(const double *x, size_t M, size_t N, double q, double *buf,
                            double *split, ess_ws *w)
{
    for (size_t i = 0; i < M * N; i++)
        buf[i] = x[i] <= q ? 1.0 : 0.0;
    split_chains(buf, M, N, split);
    return ess_checked_ws(split, 2 * M, N / 2, w);
}

/* posterior's .mcse_quantile: the 68% Beta interval of the quantile's rank, mapped
 * through the sorted draws. */
/* The Beta(a, b) quantile at p. GSL's inversion can fail to converge for large a and b
 * (it then returns NaN, its abort handler being off); there the Beta is close to normal,
 * and its mean plus z sd is used. */
static double beta_quantile(double p, double a, double b)
{
    double q = gsl_cdf_beta_Pinv(p, a, b);
    if (isfinite(q))
        return q;
    double m = a / (a + b), v = a * b / ((a + b) * (a + b) * (a + b + 1));
    q = m + gsl_cdf_ugaussian_Pinv(p) * sqrt(v);
    return q < 0 ? 0 : (q > 1 ? 1 : q);
}

static double mcse_quantile(const double *sorted, size_t S, double prob, double ess)
{
    if (!isfinite(ess))
        return NAN;
    double a1 = beta_quantile(0.1586553, ess * prob + 1, ess * (1 - prob) + 1);
    double a2 = beta_quantile(0.8413447, ess * prob + 1, ess * (1 - prob) + 1);
    double f1 = floor(a1 * (double)S), f2 = ceil(a2 * (double)S);
    size_t i1 = f1 < 1 ? 1 : (size_t)f1, i2 = f2 > (double)S ? S : (size_t)f2;
    return (sorted[i2 - 1] - sorted[i1 - 1]) / 2;
}

/* The scratch of rank-normalised R-hat and bulk ESS over M chains x N draws (S = M N,
 * split into 2M chains of H = N/2: SS values). Ranks come from one radix sort of the split
 * draws: the folded values |x - median| are the sorted draws read outward from the median,
 * two runs already in order, merged in one pass. The normal score of an average rank r
 * depends on r and SS alone, so each is computed once, on first need, and kept. */
struct bnn_diag_work {
    size_t M, N, SS;
    double *split;      /* SS split draws */
    double *val;        /* SS values in ascending order (draws, then folded) */
    size_t *ord;        /* SS: where each sorted value came from */
    size_t *ord2;       /* SS: the folded order */
    uint64_t *keys;     /* 2 SS radix keys */
    size_t *itmp;       /* SS radix indices */
    double *zb, *zf;    /* SS normal scores, bulk and folded */
    double *ztab;       /* 2 SS - 1 scores by i + j (ranks i+1 .. j+1 tied), NaN: not yet */
    double *sel;        /* S: the median by selection when N is odd; the runs' values */
    ess_ws ess;         /* 2M x H */
};

void bnn_diag_work_free(bnn_diag_work *w)
{
    if (!w)
        return;
    free(w->split);
    free(w->val);
    free(w->ord);
    free(w->ord2);
    free(w->keys);
    free(w->itmp);
    free(w->zb);
    free(w->zf);
    free(w->ztab);
    free(w->sel);
    ess_ws_free(&w->ess);
    free(w);
}

bnn_diag_work *bnn_diag_work_new(size_t M, size_t N)
{
    bnn_diag_work *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    size_t S = M * N, H = N / 2, SS = 2 * M * H;
    w->M = M;
    w->N = N;
    w->SS = SS;
    w->split = malloc(SS * sizeof(double) + 1);
    w->val = malloc(SS * sizeof(double) + 1);
    w->ord = malloc(SS * sizeof(size_t) + 1);
    w->ord2 = malloc(SS * sizeof(size_t) + 1);
    w->keys = malloc(2 * SS * sizeof(uint64_t) + 1);
    w->itmp = malloc(SS * sizeof(size_t) + 1);
    w->zb = malloc(SS * sizeof(double) + 1);
    w->zf = malloc(SS * sizeof(double) + 1);
    w->ztab = malloc(2 * SS * sizeof(double) + 1);
    w->sel = malloc(S * sizeof(double) + 1);
    int bad = ess_ws_make(&w->ess, 2 * M, H) != 0;
    if (bad || !w->split || !w->val || !w->ord || !w->ord2 || !w->keys || !w->itmp || !w->zb ||
        !w->zf || !w->ztab || !w->sel) {
        bnn_diag_work_free(w);
        return NULL;
    }
    for (size_t i = 0; i + 1 < 2 * SS; i++)
        w->ztab[i] = NAN;
    return w;
}

/* z_scale over values already in order (val ascending, ord[k] the position of val[k]):
 * average ranks of ties, back-transformed with c = 3/8, the normal quantile, into z. */
/* The normal score of the values at sorted places i .. j (ties: the average of ranks
 * i+1 .. j+1) among n, c = 3/8, kept in ztab by i + j. */
static double z_of(double *ztab, size_t n, size_t i, size_t j)
{
    double zv = ztab[i + j];
    if (isnan(zv)) {
        double r = 0.5 * (double)(i + j) + 1.0;
        zv = ztab[i + j] = gsl_cdf_ugaussian_Pinv((r - 0.375) / ((double)n - 0.75 + 1.0));
    }
    return zv;
}

static void z_scale_sorted(const double *val, const size_t *ord, size_t n, double *ztab,
                           double *z)
{
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && val[j + 1] == val[i])
            j++;
        double zv = z_of(ztab, n, i, j);
        for (size_t k = i; k <= j; k++)
            z[ord[k]] = zv;
        i = j + 1;
    }
}

/* Runs of one value in x (a sampler that rejects a proposal repeats its draw: the study's
 * keep 2-5% of theirs): run r is x[rs[r] .. rs[r + 1]) of value rv[r], rs[R] = n. Returns R,
 * or 0 when there are more than most (ranking the draws themselves is then as fast). */
static size_t find_runs(const double *x, size_t n, size_t most, double *rv, size_t *rs)
{
    size_t R = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || x[i] != x[i - 1]) {
            if (R == most)
                return 0;
            rv[R] = x[i];
            rs[R++] = i;
        }
    rs[R] = n;
    return R;
}

/* Every value of the runs listed in order (by[a..b), one tie group of cnt values starting
 * at sorted place at) gets the group's normal score in z. */
static void fill_group(const size_t *by, size_t a, size_t b, const size_t *rs, size_t at,
                       size_t cnt, size_t n, double *ztab, double *z)
{
    double zv = z_of(ztab, n, at, at + cnt - 1);
    for (size_t t = a; t < b; t++)
        for (size_t k = rs[by[t]]; k < rs[by[t] + 1]; k++)
            z[k] = zv;
}

/* The folded values |v - med| of v[0..n) (ascending) in ascending order, into fv, with each
 * one's source (src[k] is v[k]'s) into fsrc: rounding is monotone, so |v - med| does not
 * decrease reading v upward from the first v >= med, nor downward from the last v < med;
 * the two are merged, the upper first on a tie. */
static void fold_sorted(const double *v, const size_t *src, size_t n, double med, double *fv,
                        size_t *fsrc)
{
    size_t up = 0;
    while (up < n && v[up] < med)
        up++;
    size_t down = up, t = 0;   /* down: one past the next below the median */
    while (down > 0 || up < n) {
        double lo = down > 0 ? fabs(v[down - 1] - med) : INFINITY;
        double hi = up < n ? fabs(v[up] - med) : INFINITY;
        if (up < n && (down == 0 || hi <= lo)) {
            fv[t] = hi;
            fsrc[t++] = src[up++];
        } else {
            fv[t] = lo;
            fsrc[t++] = src[--down];
        }
    }
}

/* rhat_ess_bulk_ws's normal scores (bulk zb and folded zf, and the median when med is NaN:
 * SS == S then) from the R runs of the split draws (rv, rs) instead of from the draws: the
 * runs sorted by value, each tie group of runs taking the score of its places, which are
 * the draws' places (the scores depend on the values' counts alone), so zb and zf are the
 * same numbers as z_scale_draws gives. */
static void z_scale_runs(bnn_diag_work *w, size_t R, const double *rv, const size_t *rs,
                         double *med)
{
    size_t SS = w->SS, S = w->M * w->N;
    size_t *ord = w->ord, *by = w->ord2;   /* runs ascending; runs by folded value */
    double *v = w->sel, *fv = w->split;    /* their values; folded (the split draws are
                                              in the runs now) */
    bnn_argsort_ws(rv, R, ord, w->keys, w->itmp);
    for (size_t k = 0; k < R; k++)
        v[k] = rv[ord[k]];
    size_t at = 0, kmed = (S - 1) / 2;
    double vk = NAN, vk1 = NAN;
    for (size_t a = 0; a < R;) {
        size_t b = a, cnt = 0;
        while (b < R && v[b] == v[a])
            cnt += rs[ord[b] + 1] - rs[ord[b]], b++;
        if (at <= kmed && kmed < at + cnt)
            vk = v[a];
        if (at <= kmed + 1 && kmed + 1 < at + cnt)
            vk1 = v[a];
        fill_group(ord, a, b, rs, at, cnt, SS, w->ztab, w->zb);
        at += cnt;
        a = b;
    }
    if (isnan(*med))   /* type 7 at 0.5 */
        *med = S % 2 == 0 ? 0.5 * (vk + vk1) : vk;
    fold_sorted(v, ord, R, *med, fv, by);
    at = 0;
    for (size_t a = 0; a < R;) {
        size_t b = a, cnt = 0;
        while (b < R && fv[b] == fv[a])
            cnt += rs[by[b] + 1] - rs[by[b]], b++;
        fill_group(by, a, b, rs, at, cnt, SS, w->ztab, w->zf);
        at += cnt;
        a = b;
    }
}

/* The same scores (and median) from one radix sort of the split draws: the bulk ranks, then
 * the folded values |x - median(x)| over the whole unsplit matrix as the sorted draws read
 * outward from the median. */
static void z_scale_draws(bnn_diag_work *w, const double *x, double *med)
{
    size_t SS = w->SS, S = w->M * w->N;
    double *split = w->split, *val = w->val;
    size_t *ord = w->ord;
    bnn_argsort_ws(split, SS, ord, w->keys, w->itmp);
    for (size_t k = 0; k < SS; k++)
        val[k] = split[ord[k]];
    z_scale_sorted(val, ord, SS, w->ztab, w->zb);
    if (isnan(*med)) {
        size_t k = (S - 1) / 2;
        if (SS == S) {   /* even N: the split draws are all the draws, sorted in val */
            *med = val[k];
            if (S % 2 == 0)   /* type 7 at 0.5: the mean of the two middle order statistics */
                *med = 0.5 * (*med + val[k + 1]);
        } else {   /* odd N: the middle draws are not in the split; by selection */
            double *sel = w->sel;
            memcpy(sel, x, S * sizeof *sel);
            bnn_select_kth(sel, S, k);
            *med = sel[k];
            if (S % 2 == 0) {
                double next = sel[k + 1];
                for (size_t i = k + 2; i < S; i++)
                    next = sel[i] < next ? sel[i] : next;
                *med = 0.5 * (*med + next);
            }
        }
    }
    /* the folded values in order (the split draws are in val now) */
    fold_sorted(val, ord, SS, *med, split, w->ord2);
    z_scale_sorted(split, w->ord2, SS, w->ztab, w->zf);
}

/* R-hat and bulk ESS given the median of x (NaN: find it here), in w's scratch. */
static bnn_status rhat_ess_bulk_ws(bnn_diag_work *w, const double *x, double med, double *rhat,
                                   double *ess_bulk)
{
    size_t M = w->M, N = w->N, S = M * N, H = N / 2, SS = w->SS;
    *rhat = *ess_bulk = NAN;
    if (N < 4 || degenerate(x, S))
        return BNN_OK;
    split_chains(x, M, N, w->split);
    /* runs: their values in val, their starts in itmp's upper half (the radix sort of R
     * runs needs 2 R keys and R indices: R <= SS / 4 leaves room); the runs path takes the
     * median from its counts, so with odd N (the middle draws not split) only when given */
    size_t most = SS / 4, *rs = w->itmp + most + 1;
    size_t R = SS == S || !isnan(med) ? find_runs(w->split, SS, most, w->val, rs) : 0;
    if (R)
        z_scale_runs(w, R, w->val, rs, &med);
    else
        z_scale_draws(w, x, &med);
    double rb = rhat_chains(w->zb, 2 * M, H);
    *ess_bulk = ess_checked_ws(w->zb, 2 * M, H, &w->ess);
    double rt = rhat_chains(w->zf, 2 * M, H);
    *rhat = isnan(rb) || isnan(rt) ? NAN : fmax(rb, rt);
    return BNN_OK;
}

bnn_status bnn_rhat_ess_bulk_work(bnn_diag_work *w, const double *x, double *rhat,
                                  double *ess_bulk)
{
    bnn_gsl_setup();
    return rhat_ess_bulk_ws(w, x, NAN, rhat, ess_bulk);
}

bnn_status bnn_rhat_ess_bulk(const double *x, size_t M, size_t N, double *rhat, double *ess_bulk)
{
    bnn_gsl_setup();
    bnn_diag_work *w = bnn_diag_work_new(M, N);
    if (!w) {
        *rhat = *ess_bulk = NAN;
        return BNN_ENOMEM;
    }
    bnn_status st = rhat_ess_bulk_ws(w, x, NAN, rhat, ess_bulk);
    bnn_diag_work_free(w);
    return st;
}

/* bnn_summarise in w's scratch (made for M x N). */
static bnn_status summarise_ws(bnn_diag_work *w, const double *x, size_t M, size_t N,
                               bnn_summary *o)
{
    size_t S = M * N, H = N / 2, SS = 2 * M * H;
    double nan = NAN;
    *o = (bnn_summary){nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan};
    if (S == 0)
        return BNN_OK;
    double *sorted = malloc((2 * S + SS) * sizeof *sorted), *buf = sorted + S, *split = buf + S;
    if (!sorted)
        return BNN_ENOMEM;
    double mean = 0, var = 0;
    for (size_t i = 0; i < S; i++)
        mean += x[i];
    mean /= (double)S;
    for (size_t i = 0; i < S; i++)
        var += (x[i] - mean) * (x[i] - mean);
    var = S > 1 ? var / (double)(S - 1) : NAN;
    o->mean = mean;
    o->sd = sqrt(var);
    memcpy(sorted, x, S * sizeof *sorted);
    if (bnn_sort(sorted, S) != 0) {
        free(sorted);
        return BNN_ENOMEM;
    }
    o->q5 = bnn_quantile_sorted(sorted, S, 0.05);
    o->q50 = bnn_quantile_sorted(sorted, S, 0.5);
    o->q95 = bnn_quantile_sorted(sorted, S, 0.95);
    bnn_status st = rhat_ess_bulk_ws(w, x, o->q50, &o->rhat, &o->ess_bulk);
    if (st) {
        free(sorted);
        return st;
    }
    if (N >= 4 && !degenerate(x, S)) {
        split_chains(x, M, N, split);
        o->rhat_basic = rhat_chains(split, 2 * M, H);
        o->ess_basic = ess_checked_ws(split, 2 * M, H, &w->ess);
        o->mcse_mean = o->sd / sqrt(o->ess_basic);
        /* mcse of sd as posterior's mcse_sd: a delta method on the centred squares */
        double evar = 0, m4 = 0;
        for (size_t i = 0; i < S; i++) {
            buf[i] = (x[i] - mean) * (x[i] - mean);
            evar += buf[i];
            m4 += buf[i] * buf[i];
        }
        evar /= (double)S;
        m4 /= (double)S;
        split_chains(buf, M, N, split);
        double ess_sq = ess_checked_ws(split, 2 * M, H, &w->ess);
        o->mcse_sd = sqrt((m4 - evar * evar) / ess_sq / evar / 4);
        double e5 = ess_indicator(x, M, N, o->q5, buf, split, &w->ess);
        double e50 = ess_indicator(x, M, N, o->q50, buf, split, &w->ess);
        double e95 = ess_indicator(x, M, N, o->q95, buf, split, &w->ess);
        o->ess_tail = isnan(e5) || isnan(e95) ? NAN : fmin(e5, e95);
        o->mcse_q5 = mcse_quantile(sorted, S, 0.05, e5);
        o->mcse_q50 = mcse_quantile(sorted, S, 0.5, e50);
        o->mcse_q95 = mcse_quantile(sorted, S, 0.95, e95);
    }
    o->rhat_gr = gelman_rubin(x, M, N);
    free(sorted);
    return BNN_OK;
}

bnn_status bnn_summarise(const double *x, size_t M, size_t N, bnn_summary *o)
{
    bnn_gsl_setup();
    bnn_diag_work *w = bnn_diag_work_new(M, N);
    if (!w)
        return BNN_ENOMEM;
    bnn_status st = summarise_ws(w, x, M, N, o);
    bnn_diag_work_free(w);
    return st;
}

typedef struct {
    const double *x;
    size_t M, N;
    bnn_summary *out;
} many_ctx;

static bnn_status summarise_range(void *arg, size_t lo, size_t hi)
{
    many_ctx *c = arg;
    bnn_gsl_setup();
    bnn_diag_work *w = bnn_diag_work_new(c->M, c->N);
    if (!w)
        return BNN_ENOMEM;
    bnn_status st = BNN_OK;
    for (size_t k = lo; k < hi && !st; k++)
        st = summarise_ws(w, c->x + k * c->M * c->N, c->M, c->N, &c->out[k]);
    bnn_diag_work_free(w);
    return st;
}

bnn_status bnn_summarise_many(const double *x, size_t K, size_t M, size_t N, int threads,
                              bnn_summary *out)
{
    many_ctx c = {x, M, N, out};
    return bnn_parallel_for(K, threads, summarise_range, &c);
}
