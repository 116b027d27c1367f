/* predict.c — the posterior predictive distribution over kept draws, and its metrics.
 *
 * Two passes. Over draws (threads take contiguous draw ranges): one batched forward pass
 * per draw; the per-draw metric and the float matrix draw_pred[row][draw]. Over rows
 * (threads take contiguous row ranges): means, sds, quantiles, log predictive densities.
 * Every number is computed by one thread from inputs fixed in advance, in a fixed order,
 * so the result is the same for any thread count. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sf_exp.h>

#include "internal.h"

typedef struct {
    const bnn_model *m;
    const bnn_draws *dr;
    const bnn_table *t;
    bnn_prediction *p;
    const double *tau2;       /* S noise variances (regression) */
    const double *tau;        /* their square roots */
    const double *prec;       /* 1 / tau2 */
    const double *lnorm;      /* -log(2 pi tau2) / 2 */
    uint64_t seed;
    size_t lo, hi;            /* range of draws or rows */
    bnn_status st;
    double *row_cover;        /* per row 1/0 coverage (regression) */
    double *row_lpd;          /* per row log predictive density */
} job;

enum { DRAW_BLOCK = 32 };

static void *draw_pass(void *arg)
{
    job *j = arg;
    const bnn_model *m = j->m;
    bnn_prediction *p = j->p;
    size_t n = p->n, K = (size_t)p->K, S = p->S, dim = j->dr->dim;
    double *out = malloc(n * K * DRAW_BLOCK * sizeof *out);
    double *work = malloc((bnn_model_predict_batch_work(m, n, DRAW_BLOCK) + 1) * sizeof *work);
    if (!out || !work) {
        j->st = BNN_ENOMEM;
        goto done;
    }
    for (size_t s0 = j->lo; s0 < j->hi; s0 += DRAW_BLOCK) {
        size_t B = j->hi - s0 < DRAW_BLOCK ? j->hi - s0 : DRAW_BLOCK;
        bnn_model_predict_batch(m, j->dr->theta + s0 * dim, dim, B, j->t, out, work);
        for (size_t b = 0; b < B; b++) {
            size_t s = s0 + b;
            if (p->task == BNN_TASK_REGRESSION) {
                double sse = 0;
                for (size_t i = 0; i < n; i++) {
                    double f = out[i * B + b];
                    p->draw_pred[i * S + s] = (float)f;
                    if (p->has_y)
                        sse += (p->y[i] - f) * (p->y[i] - f);
                }
                p->draw_metric[s] = sqrt(sse / (double)n);
            } else {
                size_t right = 0;
                for (size_t i = 0; i < n; i++) {
                    const double *pi = out + i * B * K + b * K;
                    size_t best = 0;
                    for (size_t k = 1; k < K; k++)
                        best = pi[k] > pi[best] ? k : best;
                    right += p->has_y && (int)best == (int)p->y[i];
                    for (size_t k = 0; k < K; k++)
                        p->draw_pred[(i * K + k) * S + s] = (float)pi[k];
                }
                p->draw_metric[s] = 100.0 * (double)right / (double)n;
            }
        }
    }
done:
    free(out);
    free(work);
    return NULL;
}

/* Hoare's selection: permutes x[0..n-1] so that x[k] is the k-th smallest, everything
 * before it <= x[k] and everything after >= x[k]. O(n) on average; no library offers it
 * and a full sort of every row's draws was the slowest step of a run. */
static void select_kth(double *x, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        /* median of three as the pivot keeps sorted input linear */
        size_t mid = lo + (hi - lo) / 2;
        double a = x[lo], b = x[mid], c = x[hi];
        double pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
        size_t i = lo, j = hi;
        while (i <= j) {
            while (x[i] < pivot)
                i++;
            while (x[j] > pivot)
                j--;
            if (i <= j) {
                double t = x[i];
                x[i] = x[j];
                x[j] = t;
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return;
    }
}

/* R's type 7 quantile of x[lo..hi) (unordered, permuted in place) at probability q, where
 * the whole array has n values: the order statistics floor(h) and floor(h)+1 of
 * h = (n - 1) q. The caller guarantees both indices lie in [lo, hi). */
static double quantile7(double *x, size_t n, size_t lo, size_t hi, double q)
{
    double h = (double)(n - 1) * q;
    size_t k = (size_t)floor(h);
    select_kth(x + lo, hi - lo, k - lo);
    if (k + 1 >= n)
        return x[k];
    double next = x[k + 1];
    for (size_t i = k + 2; i < hi; i++)
        next = x[i] < next ? x[i] : next;
    return x[k] + (h - (double)k) * (next - x[k]);
}

static void *row_pass(void *arg)
{
    job *j = arg;
    bnn_prediction *p = j->p;
    size_t S = p->S, K = (size_t)p->K;
    double *buf = malloc(S * sizeof *buf);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!buf || !rng) {
        j->st = BNN_ENOMEM;
        goto done;
    }
    for (size_t i = j->lo; i < j->hi; i++) {
        if (p->task == BNN_TASK_REGRESSION) {
            const float *f = p->draw_pred + i * S;
            double mf = 0, mt = 0;
            for (size_t s = 0; s < S; s++) {
                mf += f[s];
                mt += j->tau2[s];
            }
            mf /= (double)S;
            mt /= (double)S;
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
            /* the median first; then, with enough draws that both order statistics of a
             * tail quantile lie on its side of the median, each tail within its half */
            size_t k50 = (size_t)floor((double)(S - 1) * 0.5);
            int halves = S >= 100;
            p->q50[i] = quantile7(buf, S, 0, S, 0.5);
            p->q025[i] = quantile7(buf, S, 0, halves ? k50 + 1 : S, 0.025);
            p->q975[i] = quantile7(buf, S, halves ? k50 : 0, S, 0.975);
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
                double acc = 0;
                for (size_t s = 0; s < S; s++)
                    acc += exp(buf[s] - mx);
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
    if (rng)
        gsl_rng_free(rng);
    return NULL;
}

static bnn_status run_jobs(void *(*fn)(void *), job *jobs, size_t total, int threads)
{
    pthread_t tid[64];
    if (threads > 64)
        threads = 64;
    if ((size_t)threads > total)
        threads = total ? (int)total : 1;
    int started = 0;
    for (int t = 0; t < threads; t++) {
        jobs[t].lo = total * (size_t)t / (size_t)threads;
        jobs[t].hi = total * (size_t)(t + 1) / (size_t)threads;
    }
    for (int t = 1; t < threads; t++) {
        if (pthread_create(&tid[t], NULL, fn, &jobs[t]) != 0)
            break;
        started = t;
    }
    fn(&jobs[0]);
    for (int t = started + 1; t < threads; t++)   /* threads that did not start: run here */
        fn(&jobs[t]);
    for (int t = 1; t <= started; t++)
        pthread_join(tid[t], NULL);
    for (int t = 0; t < threads; t++)
        if (jobs[t].st)
            return jobs[t].st;
    return BNN_OK;
}

void bnn_prediction_free(bnn_prediction *p)
{
    if (!p)
        return;
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
    job *jobs = calloc(64, sizeof *jobs);
    bnn_status st = BNN_OK;
    if (!p->mean || !p->draw_metric || !p->draw_pred || (reg && (!p->sd || !p->q025 ||
        !p->q50 || !p->q975 || !tau2)) || (!reg && !p->cls) || !cover || !lpd || !jobs) {
        st = bnn_fail(err, BNN_ENOMEM, "predict: out of memory for %zu rows x %zu draws", n, S);
        goto done;
    }
    double *tau = reg ? tau2 + S : NULL, *prec = reg ? tau2 + 2 * S : NULL;
    double *lnorm = reg ? tau2 + 3 * S : NULL;
    for (size_t s = 0; reg && s < S; s++) {
        double eta = dr->theta[s * dr->dim + dr->dim - 1];
        tau2[s] = exp(eta);
        tau[s] = exp(0.5 * eta);
        prec[s] = exp(-eta);
        lnorm[s] = -0.5 * (log(2 * M_PI) + eta);
    }
    for (int k = 0; k < 64; k++)
        jobs[k] = (job){m, dr, t, p, tau2, tau, prec, lnorm, seed, 0, 0, BNN_OK, cover, lpd};
    if ((st = run_jobs(draw_pass, jobs, S, threads)) != BNN_OK ||
        (st = run_jobs(row_pass, jobs, n, threads)) != BNN_OK) {
        bnn_fail(err, st, "predict: out of memory");
        goto done;
    }
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
    free(jobs);
    if (st) {
        bnn_prediction_free(p);
        return st;
    }
    *out = p;
    return BNN_OK;
}
