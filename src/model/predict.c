/* predict.c — the posterior predictive distribution over kept draws, and its metrics.
 *
 * Two passes. Over draws (threads take contiguous draw ranges): batched forward passes,
 * ROW_CHUNK rows at a time; the per-draw metric and the float matrix draw_pred[row][draw].
 * Over rows (threads take contiguous row ranges): means, sds, quantiles, log predictive densities.
 * Every number is computed by one thread from inputs fixed in advance, in a fixed order,
 * so the result is the same for any thread count. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sf_exp.h>

#include "model_internal.h"

typedef struct {
    const bnn_model *m;
    const bnn_draws *dr;
    const bnn_table *t;
    bnn_prediction *p;
    const double *tau2;       /* S noise variances (regression) */
    const double *tau;        /* their square roots */
    const double *prec;       /* 1 / tau2 */
    const double *lnorm;      /* -log(2 pi tau2) / 2 */
    double tau2_mean;         /* mean of tau2, summed in draw order */
    uint64_t seed;
    double *row_cover;        /* per row 1/0 coverage (regression) */
    double *row_lpd;          /* per row log predictive density */
} job;

/* Draws per batched forward pass, and rows per pass: the scratch of a pass (outputs and
 * activations of ROW_CHUNK rows x DRAW_BLOCK draws, a few MB) stays the same however many
 * rows the table has. Both are constants, so every value comes from the same products
 * whatever the thread count. */
enum { DRAW_BLOCK = 32, ROW_CHUNK = 4096 };

/* Rows r0 .. r0 + n of t as a table of their own (no copy). */
static bnn_table row_view(const bnn_table *t, size_t r0, size_t n)
{
    bnn_table v = *t;
    v.n = n;
    v.x = t->x + r0 * t->p;
    v.y = t->y + r0;
    v.line = t->line + r0;
    return v;
}

static size_t chunk_rows(size_t n)
{
    return n < ROW_CHUNK ? n : ROW_CHUNK;
}

static bnn_status draw_pass(void *arg, size_t lo, size_t hi)
{
    job *j = arg;
    bnn_status st = BNN_OK;
    const bnn_model *m = j->m;
    bnn_prediction *p = j->p;
    size_t n = p->n, K = (size_t)p->K, S = p->S, dim = j->dr->dim, R = chunk_rows(n);
    size_t nk = j->dr->n_kept;
    double *out = malloc(R * K * DRAW_BLOCK * sizeof *out);
    double *work = malloc((bnn_model_predict_batch_work(m, R, DRAW_BLOCK) + 1) * sizeof *work);
    double *acc = malloc(DRAW_BLOCK * sizeof *acc);   /* per distinct draw: SSE or right answers */
    double *theta = malloc(DRAW_BLOCK * dim * sizeof *theta + 1);
    size_t first[DRAW_BLOCK + 1];
    if (!out || !work || !acc || !theta) {
        st = BNN_ENOMEM;
        goto done;
    }
    for (size_t s = lo; s < hi;) {
        /* up to DRAW_BLOCK distinct draws, each standing for the run of draws equal to it
         * that it starts (draws first[b] .. first[b + 1] - 1, all of one chain): a sampler
         * that rejects a proposal repeats its draw, and a draw's predictions are a
         * function of it alone (every product the same whatever its place in the batch) */
        size_t B = 0;
        while (B < DRAW_BLOCK && s < hi) {
            const double *th = j->dr->theta + s * dim;
            first[B] = s;
            memcpy(theta + B * dim, th, dim * sizeof *theta);
            for (s++; s < hi && s % nk != 0; s++)
                if (memcmp(j->dr->theta + s * dim, th, dim * sizeof *th) != 0)
                    break;
            B++;
        }
        first[B] = s;
        memset(acc, 0, DRAW_BLOCK * sizeof *acc);
        /* rows in order within each draw: the same sums as one pass over every row */
        for (size_t r0 = 0; r0 < n; r0 += R) {
            size_t nr = n - r0 < R ? n - r0 : R;
            bnn_table view = row_view(j->t, r0, nr);
            bnn_model_predict_batch(m, theta, dim, B, &view, out, work);
            /* row by row, the block's draws side by side: draw_pred[row][draw] is written
             * a run at a time (a draw at a time it was a cache miss per value) */
            for (size_t i = 0; i < nr; i++) {
                if (p->task == BNN_TASK_REGRESSION) {
                    const double *oi = out + i * B;
                    float *dst = p->draw_pred + (r0 + i) * S;
                    double y = p->has_y ? p->y[r0 + i] : 0;
                    for (size_t b = 0; b < B; b++) {
                        double f = oi[b];
                        for (size_t t = first[b]; t < first[b + 1]; t++)
                            dst[t] = (float)f;
                        if (p->has_y)
                            acc[b] += (y - f) * (y - f);
                    }
                } else {
                    for (size_t b = 0; b < B; b++) {
                        const double *pi = out + i * B * K + b * K;
                        size_t best = 0;
                        for (size_t k = 1; k < K; k++)
                            best = pi[k] > pi[best] ? k : best;
                        acc[b] += p->has_y && (int)best == (int)p->y[r0 + i];
                        for (size_t k = 0; k < K; k++) {
                            float *dst = p->draw_pred + ((r0 + i) * K + k) * S;
                            for (size_t t = first[b]; t < first[b + 1]; t++)
                                dst[t] = (float)pi[k];
                        }
                    }
                }
            }
        }
        for (size_t b = 0; b < B; b++) {
            double metric = p->task == BNN_TASK_REGRESSION ? sqrt(acc[b] / (double)n)
                                                           : 100.0 * acc[b] / (double)n;
            for (size_t t = first[b]; t < first[b + 1]; t++)
                p->draw_metric[t] = metric;
        }
    }
done:
    free(acc);
    free(out);
    free(work);
    free(theta);
    return st;
}

/* R's type 7 quantile of x[lo..hi) (unordered, permuted in place) at probability q, where
 * the whole array has n values: the order statistics floor(h) and floor(h)+1 of
 * h = (n - 1) q. The caller guarantees both indices lie in [lo, hi). */
static double quantile7(double *x, size_t n, size_t lo, size_t hi, double q)
{
    double h = (double)(n - 1) * q;
    size_t k = (size_t)floor(h);
    bnn_select_kth(x + lo, hi - lo, k - lo);
    if (k + 1 >= n)
        return x[k];
    double next = x[k + 1];
    for (size_t i = k + 2; i < hi; i++)
        next = x[i] < next ? x[i] : next;
    return x[k] + (h - (double)k) * (next - x[k]);
}

/* R's type-7 quantiles at 2.5%, 50% and 97.5% of x (n values, permuted): by counting
 * (bnn_order_stats), or by selection where it declines. Either gives each order statistic
 * exactly, so the quantiles are the same. gather: n doubles; hist: BNN_ORDER_BUCKETS. */
static void quantiles(double *x, size_t n, double *gather, uint32_t *hist, double *q025,
                      double *q50, double *q975)
{
    const double prob[3] = {0.025, 0.5, 0.975};
    double h[3], v[6];
    size_t k[3], rank[6];
    int nr = 0;
    for (int q = 0; q < 3; q++) {
        h[q] = (double)(n - 1) * prob[q];
        k[q] = (size_t)floor(h[q]);
        rank[nr++] = k[q];
        if (k[q] + 1 < n)
            rank[nr++] = k[q] + 1;
    }
    if (bnn_order_stats(x, n, rank, nr, v, gather, hist) != 0) {
        /* the median first; then, with enough draws that both order statistics of a tail
         * quantile lie on its side of the median, each tail within its half */
        size_t k50 = (size_t)floor((double)(n - 1) * 0.5);
        int halves = n >= 100;
        *q50 = quantile7(x, n, 0, n, 0.5);
        *q025 = quantile7(x, n, 0, halves ? k50 + 1 : n, 0.025);
        *q975 = quantile7(x, n, halves ? k50 : 0, n, 0.975);
        return;
    }
    double *out[3] = {q025, q50, q975};
    for (int q = 0, j = 0; q < 3; q++) {
        double xk = v[j++];
        if (k[q] + 1 >= n) {
            *out[q] = xk;
            continue;
        }
        double next = v[j++];
        *out[q] = xk + (h[q] - (double)k[q]) * (next - xk);
    }
}

static bnn_status row_pass(void *arg, size_t lo, size_t hi)
{
    job *j = arg;
    bnn_status st = BNN_OK;
    bnn_prediction *p = j->p;
    size_t S = p->S, K = (size_t)p->K;
    double *buf = malloc(S * sizeof *buf), *gather = malloc(S * sizeof *gather);
    uint32_t *hist = malloc(BNN_ORDER_BUCKETS * sizeof *hist);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!buf || !gather || !hist || !rng) {
        st = BNN_ENOMEM;
        goto done;
    }
    for (size_t i = lo; i < hi; i++) {
        if (p->task == BNN_TASK_REGRESSION) {
            const float *f = p->draw_pred + i * S;
            double mf = 0, mt = j->tau2_mean;
            for (size_t s = 0; s < S; s++)
                mf += f[s];
            mf /= (double)S;
            double vf = 0;
            for (size_t s = 0; s < S; s++)
                vf += (f[s] - mf) * (f[s] - mf);
            vf = S > 1 ? vf / (double)(S - 1) : 0;
            p->mean[i] = mf;
            p->sd[i] = sqrt(vf + mt);
            uint64_t h = bnn_chain_seed(j->seed, (int)(i & 0x7fffffff), 7);
            gsl_rng_set(rng, (unsigned long)((h ^ (h >> 32)) & 0xffffffffUL));
            for (size_t s = 0; s < S; s++)
                buf[s] = f[s] + j->tau[s] * gsl_ran_gaussian_ziggurat(rng, 1.0);
            quantiles(buf, S, gather, hist, &p->q025[i], &p->q50[i], &p->q975[i]);
            if (p->has_y) {
                double y = p->y[i];
                j->row_cover[i] = y >= p->q025[i] && y <= p->q975[i];
                /* log mean_s N(y | f_s, tau2_s), by log-sum-exp */
                double mx = -INFINITY;
                for (size_t s = 0; s < S; s++) {
                    double r = y - f[s];
                    buf[s] = j->lnorm[s] - 0.5 * r * r * j->prec[s];
                    mx = buf[s] > mx ? buf[s] : mx;
                }
                /* a run of one draw repeats its terms (the study's samplers reject most
                 * proposals): the same argument, the same exp */
                double acc = 0, last = NAN, e = 0;
                for (size_t s = 0; s < S; s++) {
                    double v = buf[s] - mx;
                    if (v != last) {
                        e = exp(v);
                        last = v;
                    }
                    acc += e;
                }
                j->row_lpd[i] = mx + log(acc / (double)S);
            }
        } else {
            double *mp = p->mean + i * K;
            for (size_t k = 0; k < K; k++) {
                const float *pk = p->draw_pred + (i * K + k) * S;
                double a = 0;
                for (size_t s = 0; s < S; s++)
                    a += pk[s];
                mp[k] = a / (double)S;
            }
            size_t best = 0;
            for (size_t k = 1; k < K; k++)
                best = mp[k] > mp[best] ? k : best;
            p->cls[i] = (int)best;
            if (p->has_y)
                j->row_lpd[i] = log(mp[(int)p->y[i]]);
        }
    }
done:
    free(buf);
    free(gather);
    free(hist);
    if (rng)
        gsl_rng_free(rng);
    return st;
}

/* Per row: R-hat and bulk ESS of the row's diagnostic quantity over M chains x N draws. */
static bnn_status diag_pass(void *arg, size_t lo, size_t hi)
{
    job *j = arg;
    bnn_prediction *p = j->p;
    size_t S = p->S, K = (size_t)p->K;
    double *x = malloc(S * sizeof *x);
    bnn_diag_work *w = bnn_diag_work_new((size_t)j->dr->chains, j->dr->n_kept);
    bnn_status st = x && w ? BNN_OK : BNN_ENOMEM;
    for (size_t i = lo; i < hi && !st; i++) {
        size_t k = 0;
        if (p->task == BNN_TASK_CLASSIFICATION)
            k = p->has_y ? (size_t)p->y[i] : (size_t)p->cls[i];
        const float *f = p->draw_pred + (i * K + k) * S;
        for (size_t s = 0; s < S; s++)
            x[s] = f[s];
        st = bnn_rhat_ess_bulk_work(w, x, &p->row_rhat[i], &p->row_ess_bulk[i]);
    }
    free(x);
    bnn_diag_work_free(w);
    return st;
}

/* max, median, share above 1.01 of the rows' R-hat (NaN rows, constant predictions,
 * ignored), and the smallest bulk ESS. */
static void diag_summary(bnn_prediction *p)
{
    double *r = malloc(p->n * sizeof *r);
    size_t k = 0, above = 0;
    double ess_min = INFINITY;
    p->rhat_max = p->rhat_median = p->rhat_share_above = p->ess_bulk_min = NAN;
    if (!r)
        return;
    for (size_t i = 0; i < p->n; i++) {
        if (isnan(p->row_rhat[i]))
            continue;
        r[k++] = p->row_rhat[i];
        above += p->row_rhat[i] > 1.01;
        if (p->row_ess_bulk[i] < ess_min)
            ess_min = p->row_ess_bulk[i];
    }
    p->ess_bulk_min = isinf(ess_min) ? NAN : ess_min;
    if (k && bnn_sort(r, k) == 0) {
        p->rhat_max = r[k - 1];
        p->rhat_median = bnn_quantile_sorted(r, k, 0.5);
        p->rhat_share_above = (double)above / (double)k;
    }
    free(r);
}

void bnn_prediction_free(bnn_prediction *p)
{
    if (!p)
        return;
    free(p->row_rhat);
    free(p->row_ess_bulk);
    free(p->mean);
    free(p->sd);
    free(p->q025);
    free(p->q50);
    free(p->q975);
    free(p->cls);
    free(p->draw_metric);
    free(p->draw_pred);
    free(p);
}

bnn_status bnn_predict(const bnn_model *m, const bnn_draws *dr, const bnn_table *t,
                       int has_y, uint64_t seed, int threads, bnn_prediction **out,
                       bnn_error *err)
{
    *out = NULL;
    bnn_gsl_setup();
    const bnn_model_spec *sp = bnn_model_get_spec(m);
    if (t->p != (size_t)sp->n_inputs)
        return bnn_fail(err, BNN_EINVAL, "%s: %zu inputs, the model expects %d", t->source,
                        t->p, sp->n_inputs);
    if (dr->dim != bnn_model_dim(m))
        return bnn_fail(err, BNN_EINVAL, "predict: draws have %zu parameters, the model %zu",
                        dr->dim, bnn_model_dim(m));
    size_t S = (size_t)dr->chains * dr->n_kept;
    if (S == 0 || t->n == 0)
        return bnn_fail(err, BNN_EINVAL, "predict: no draws or no rows");
    if (threads < 1)
        threads = 1;
    bnn_prediction *p = calloc(1, sizeof *p);
    if (!p)
        return bnn_fail(err, BNN_ENOMEM, "predict: out of memory");
    p->task = sp->task;
    p->n = t->n;
    p->K = p->task == BNN_TASK_CLASSIFICATION ? sp->n_classes : 1;
    p->S = S;
    p->has_y = has_y;
    p->y = t->y;
    size_t n = t->n, K = (size_t)p->K;
    int reg = p->task == BNN_TASK_REGRESSION;
    p->mean = malloc(n * K * sizeof(double));
    p->draw_metric = malloc(S * sizeof(double));
    p->draw_pred = malloc(n * K * S * sizeof(float));
    if (reg) {
        p->sd = malloc(n * sizeof(double));
        p->q025 = malloc(n * sizeof(double));
        p->q50 = malloc(n * sizeof(double));
        p->q975 = malloc(n * sizeof(double));
    } else {
        p->cls = malloc(n * sizeof(int));
    }
    double *tau2 = reg ? malloc(4 * S * sizeof *tau2) : NULL;
    double *cover = calloc(n, sizeof *cover), *lpd = calloc(n, sizeof *lpd);
    p->row_rhat = malloc(n * sizeof(double));
    p->row_ess_bulk = malloc(n * sizeof(double));
    bnn_status st = BNN_OK;
    if (!p->mean || !p->draw_metric || !p->draw_pred || (reg && (!p->sd || !p->q025 ||
        !p->q50 || !p->q975 || !tau2)) || (!reg && !p->cls) || !cover || !lpd || !p->row_rhat || !p->row_ess_bulk) {
        st = bnn_fail(err, BNN_ENOMEM, "predict: out of memory for %zu rows x %zu draws", n, S);
        goto done;
    }
    double *tau = reg ? tau2 + S : NULL, *prec = reg ? tau2 + 2 * S : NULL;
    double *lnorm = reg ? tau2 + 3 * S : NULL;
    size_t eta_at = reg ? bnn_model_eta_index(m) : 0;
    for (size_t s = 0; reg && s < S; s++) {
        double eta = dr->theta[s * dr->dim + eta_at];
        tau2[s] = exp(eta);
        tau[s] = exp(0.5 * eta);
        prec[s] = exp(-eta);
        lnorm[s] = -0.5 * (log(2 * M_PI) + eta);
    }
    double tau2_sum = 0;
    for (size_t s = 0; reg && s < S; s++)
        tau2_sum += tau2[s];
    job ctx = {m, dr, t, p, tau2, tau, prec, lnorm, tau2_sum / (double)S, seed, cover, lpd};
    int blas = bnn_blas_threads(1);   /* the pool's threads are the parallelism here */
    st = bnn_parallel_for(S, threads, draw_pass, &ctx);
    bnn_blas_threads(blas);
    if (st || (st = bnn_parallel_for(n, threads, row_pass, &ctx)) != BNN_OK ||
        (st = bnn_parallel_for(n, threads, diag_pass, &ctx)) != BNN_OK) {
        bnn_fail(err, st, "predict: out of memory");
        goto done;
    }
    diag_summary(p);
    double a = 0, b = 0;
    for (size_t s = 0; s < S; s++)
        a += p->draw_metric[s];
    p->metric_mean = a / (double)S;
    for (size_t s = 0; s < S; s++)
        b += (p->draw_metric[s] - p->metric_mean) * (p->draw_metric[s] - p->metric_mean);
    p->metric_std = S > 1 ? sqrt(b / (double)(S - 1)) : 0;
    p->metric_of_mean = p->coverage95 = p->lpd = NAN;
    if (has_y) {
        double e = 0, c = 0, l = 0;
        for (size_t i = 0; i < n; i++) {
            if (reg)
                e += (t->y[i] - p->mean[i]) * (t->y[i] - p->mean[i]);
            else
                e += p->cls[i] == (int)t->y[i];
            c += cover[i];
            l += lpd[i];
        }
        p->metric_of_mean = reg ? sqrt(e / (double)n) : 100.0 * e / (double)n;
        p->coverage95 = reg ? c / (double)n : NAN;
        p->lpd = l / (double)n;
    } else {
        p->metric_mean = p->metric_std = NAN;
    }
done:
    free(tau2);
    free(cover);
    free(lpd);
    if (st) {
        bnn_prediction_free(p);
        return st;
    }
    *out = p;
    return BNN_OK;
}

/* ------------------------------------------------------------ pointwise log-likelihood */

typedef struct {
    const bnn_model *m;
    const double *theta;
    size_t S;
    const bnn_table *t;
    double *ll;               /* n x S */
} loglik_job;

/* Blocks lo..hi of DRAW_BLOCK draws (block b holds draws b DRAW_BLOCK ...: fixed by S, not
 * by the threads, so every value comes from the same batched products whatever their
 * number). */
static bnn_status loglik_blocks(void *arg, size_t lo, size_t hi)
{
    loglik_job *j = arg;
    const bnn_model *m = j->m;
    const bnn_table *t = j->t;
    size_t n = t->n, S = j->S, dim = bnn_model_dim(m);
    size_t K = (size_t)bnn_model_n_outputs(m);
    int reg = bnn_model_get_spec(m)->task == BNN_TASK_REGRESSION;
    size_t eta_at = reg ? bnn_model_eta_index(m) : 0;
    size_t R = chunk_rows(n);
    double *out = malloc(R * K * DRAW_BLOCK * sizeof *out);
    double *work = malloc((bnn_model_predict_batch_work(m, R, DRAW_BLOCK) + 1) * sizeof *work);
    bnn_status st = BNN_OK;
    if (!out || !work) {
        st = BNN_ENOMEM;
        goto done;
    }
    for (size_t blk = lo; blk < hi; blk++) {
        size_t s0 = blk * DRAW_BLOCK, B = S - s0 < DRAW_BLOCK ? S - s0 : DRAW_BLOCK;
        const double *th = j->theta + s0 * dim;
        for (size_t r0 = 0; r0 < n; r0 += R) {
            size_t nr = n - r0 < R ? n - r0 : R;
            bnn_table view = row_view(t, r0, nr);
            bnn_model_logits_batch(m, th, dim, B, &view, out, work);
            for (size_t b = 0; b < B; b++) {
                double *ll = j->ll + r0 * S + s0 + b;
                const double *y = t->y + r0;
                if (reg) {
                    /* log N(y | f, tau^2), tau^2 = exp(eta), as the model's density */
                    double eta = th[b * dim + eta_at], prec = exp(-eta);
                    double lnorm = -0.5 * (log(2 * M_PI) + eta);
                    for (size_t i = 0; i < nr; i++) {
                        double r = y[i] - out[i * B + b];
                        ll[i * S] = lnorm - 0.5 * r * r * prec;
                    }
                } else {
                    /* log-softmax at the label: (z_y - max) - log sum exp(z - max) */
                    for (size_t i = 0; i < nr; i++) {
                        const double *z = out + (i * B + b) * K;
                        double mx = z[0], s = 0;
                        for (size_t k = 1; k < K; k++)
                            mx = z[k] > mx ? z[k] : mx;
                        for (size_t k = 0; k < K; k++)
                            s += exp(z[k] - mx);
                        ll[i * S] = (z[(size_t)y[i]] - mx) - log(s);
                    }
                }
            }
        }
    }
done:
    free(out);
    free(work);
    return st;
}

bnn_status bnn_model_loglik(const bnn_model *m, const double *theta, size_t S,
                            const bnn_table *t, int threads, double *ll, bnn_error *err)
{
    const bnn_model_spec *sp = bnn_model_get_spec(m);
    if (t->p != (size_t)sp->n_inputs)
        return bnn_fail(err, BNN_EINVAL, "%s: %zu inputs, the model expects %d", t->source,
                        t->p, sp->n_inputs);
    if (sp->task == BNN_TASK_CLASSIFICATION)
        for (size_t i = 0; i < t->n; i++) {
            double y = t->y[i];
            if (!(y >= 0 && y < sp->n_classes && y == floor(y)))
                return bnn_fail(err, BNN_EINVAL, "%s:%zu: label %g is not a class 0..%d",
                                t->source, t->line[i] ? t->line[i] : i + 1, y,
                                sp->n_classes - 1);
        }
    if (S == 0 || t->n == 0)
        return BNN_OK;
    loglik_job j = {m, theta, S, t, ll};
    size_t blocks = (S + DRAW_BLOCK - 1) / DRAW_BLOCK;
    int blas = bnn_blas_threads(1);   /* the pool's threads are the parallelism here */
    bnn_status st = bnn_parallel_for(blocks, threads < 1 ? 1 : threads, loglik_blocks, &j);
    bnn_blas_threads(blas);
    return st ? bnn_fail(err, st, "loglik: out of memory") : BNN_OK;
}
