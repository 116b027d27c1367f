/* chains.c — runs M chains on T threads, keeps their draws, reports progress.
 *
 * Invariant: chain c's draws depend only on (config, c). Its random stream is seeded from
 * a hash of (seed, c); threads only decide which chain runs where and when, and each
 * chain writes only its own slice of the output. So any thread count gives bitwise the
 * same draws. Progress is read by the calling thread from per-chain atomic counters. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "sampler.h"

typedef struct {
    const bnn_density *d;
    const bnn_run_config *cfg;
    bnn_draws *dr;
    const double *init;                 /* chains x dim */
    atomic_int next_chain;
    atomic_size_t *iter_done;           /* per chain */
    atomic_size_t *accepted;            /* per chain */
    size_t *kept;                       /* per chain */
    bnn_status *status;                 /* per chain */
    bnn_error *errs;                    /* per chain: why it failed */
} run_shared;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* SplitMix64: decorrelates the seeds of neighbouring chains. */
static uint64_t mix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

uint64_t bnn_chain_seed(uint64_t seed, int chain, int stream)
{
    return mix64(mix64(seed) ^ mix64(((uint64_t)chain << 8) | (uint64_t)stream));
}

static int stop_requested(const bnn_run_config *cfg)
{
    return cfg->stop && *cfg->stop;
}

static void run_chain(run_shared *sh, int ci)
{
    const bnn_run_config *cfg = sh->cfg;
    const bnn_density *d = sh->d;
    bnn_draws *dr = sh->dr;
    bnn_chain c;
    /* mt19937 seeds from 32 bits: fold the 64-bit hash */
    uint64_t h = bnn_chain_seed(cfg->seed, ci, 0);
    bnn_status st = bnn_chain_init(&c, d, cfg, (unsigned long)((h ^ (h >> 32)) & 0xffffffffUL),
                                   sh->init + (size_t)ci * d->dim, &sh->errs[ci]);
    if (st) {
        sh->status[ci] = st;
        return;
    }
    size_t kept = 0, acc_post = 0, prop_post = 0;
    double t0 = now(), t_burn = t0;
    for (size_t it = 0; it < cfg->n_iter; it++) {
        if (stop_requested(cfg)) {
            sh->status[ci] = BNN_EINTR;
            break;
        }
        bnn_step_info info;
        int a = bnn_chain_step(&c, &info);
        if (it < cfg->n_burn && (st = bnn_chain_adapt(&c, it, &info, &sh->errs[ci])) != BNN_OK) {
            sh->status[ci] = st;
            break;
        }
        if (it >= cfg->n_burn) {
            acc_post += (size_t)a;
            prop_post++;
            if ((it - cfg->n_burn) % cfg->thin == 0) {
                size_t k = (size_t)ci * dr->n_kept + kept;
                memcpy(dr->theta + k * d->dim, c.theta, d->dim * sizeof(double));
                dr->lp[k] = c.lp;
                dr->accept_stat[k] = info.accept_stat;
                dr->stepsize[k] = info.stepsize;
                dr->treedepth[k] = info.treedepth;
                dr->n_leapfrog[k] = info.n_leapfrog;
                dr->divergent[k] = info.divergent;
                dr->energy[k] = info.energy;
                kept++;
            }
        }
        if (it + 1 == cfg->n_burn)
            t_burn = now();
        atomic_store_explicit(&sh->iter_done[ci], it + 1, memory_order_relaxed);
        if (a)
            atomic_fetch_add_explicit(&sh->accepted[ci], 1, memory_order_relaxed);
    }
    double t1 = now();
    if (cfg->n_burn == 0)
        t_burn = t0;
    dr->seconds_warmup[ci] = t_burn - t0;
    dr->seconds_sampling[ci] = t1 - t_burn;
    dr->accept_rate[ci] = prop_post ? (double)acc_post / (double)prop_post : NAN;
    dr->step_final[ci] = c.eps;
    memcpy(dr->inv_metric + (size_t)ci * d->dim, c.inv_metric, d->dim * sizeof(double));
    sh->kept[ci] = kept;
    bnn_chain_free(&c);
}

static void *worker(void *arg)
{
    run_shared *sh = arg;
    for (;;) {
        int ci = atomic_fetch_add(&sh->next_chain, 1);
        if (ci >= sh->cfg->chains)
            break;
        run_chain(sh, ci);
    }
    return NULL;
}

void bnn_run_config_default(bnn_run_config *c)
{
    memset(c, 0, sizeof *c);
    c->sampler = BNN_SAMPLER_LANGEVIN;
    c->n_iter = 10000;
    c->n_burn = 5000;
    c->thin = 1;
    c->chains = 4;
    c->threads = 1;
    c->seed = 1;
    c->step = 0.025;
    c->step_eta = 0.2;
    c->lr = 0.01;
    c->langevin_prob = 0.5;
    c->progress_interval = 1.0;
    c->target_accept = 0;
    c->adapt_metric = 1;
    c->adapt = 1;
    c->max_depth = 10;
    c->int_time = 2 * M_PI;
}

static const char *const sampler_names[] = {"rw", "langevin", "mala", "hmc", "nuts", "gibbs"};

const char *bnn_sampler_name(bnn_sampler s)
{
    if ((int)s < 0 || (size_t)s >= sizeof sampler_names / sizeof sampler_names[0])
        return "?";
    return sampler_names[s];
}

int bnn_sampler_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof sampler_names / sizeof sampler_names[0]; i++)
        if (strcmp(name, sampler_names[i]) == 0)
            return (int)i;
    return -1;
}

void bnn_draws_free(bnn_draws *dr)
{
    if (!dr)
        return;
    free(dr->theta);
    free(dr->lp);
    free(dr->accept_stat);
    free(dr->stepsize);
    free(dr->treedepth);
    free(dr->n_leapfrog);
    free(dr->divergent);
    free(dr->energy);
    free(dr->step_final);
    free(dr->inv_metric);
    free(dr->accept_rate);
    free(dr->seconds_warmup);
    free(dr->seconds_sampling);
    free(dr);
}

static bnn_status check_config(const bnn_density *d, const bnn_run_config *c, bnn_error *err)
{
    if (!d || !d->logp || d->dim == 0)
        return bnn_fail(err, BNN_EINVAL, "run: the density has no dimension or no logp");
    if (d->n_weights > d->dim)
        return bnn_fail(err, BNN_EINVAL, "run: n_weights %zu > dim %zu", d->n_weights, d->dim);
    if ((int)c->sampler < 0 || c->sampler > BNN_SAMPLER_GIBBS)
        return bnn_fail(err, BNN_EINVAL, "run: unknown sampler %d", (int)c->sampler);
    if (c->sampler == BNN_SAMPLER_GIBBS) {
        const bnn_model_spec *sp = c->model ? bnn_model_get_spec(c->model) : NULL;
        if (!sp || d->ctx != (const void *)c->model)
            return bnn_fail(err, BNN_EINVAL, "run: gibbs needs the model whose density it samples");
        if (sp->task != BNN_TASK_REGRESSION || sp->n_hidden != 0 || sp->output_act != BNN_ACT_IDENTITY)
            return bnn_fail(err, BNN_EINVAL, "gibbs samples only the linear regression (--model "
                            "linear, identity output): it needs conjugate conditionals");
    }
    if (!(c->stepsize >= 0) || !isfinite(c->stepsize))
        return bnn_fail(err, BNN_EINVAL, "run: step size %g is not a finite number >= 0", c->stepsize);
    if (c->target_accept < 0 || c->target_accept >= 1)
        return bnn_fail(err, BNN_EINVAL, "run: target acceptance %g is not in (0, 1)", c->target_accept);
    if ((c->sampler == BNN_SAMPLER_NUTS && (c->max_depth < 1 || c->max_depth > 20)) ||
        (c->sampler == BNN_SAMPLER_HMC && !(c->int_time > 0)))
        return bnn_fail(err, BNN_EINVAL, "run: max depth must be 1..20 and the integration time "
                        "positive");
    if (c->n_iter < 1 || c->n_burn >= c->n_iter || c->thin < 1)
        return bnn_fail(err, BNN_EINVAL, "run: need burn-in (%zu) < iterations (%zu) and thin "
                        ">= 1", c->n_burn, c->n_iter);
    if (c->chains < 1 || c->threads < 1)
        return bnn_fail(err, BNN_EINVAL, "run: need at least one chain and one thread");
    if (!(c->step > 0) || !(c->step_eta > 0) || !(c->lr > 0) || !(c->langevin_prob >= 0) ||
        !(c->langevin_prob <= 1))
        return bnn_fail(err, BNN_EINVAL, "run: step, step-eta and lr must be positive and the "
                        "Langevin probability in [0, 1]");
    return BNN_OK;
}

bnn_status bnn_run(const bnn_density *d, const bnn_run_config *cfg, bnn_draws **out,
                   bnn_error *err)
{
    *out = NULL;
    bnn_status st = check_config(d, cfg, err);
    if (st)
        return st;
    bnn_gsl_setup();
    /* chains are the unit of parallelism: BLAS on one thread inside each while they run,
     * and the caller's setting back at the end */
    int blas_threads = openblas_get_num_threads();
    int M = cfg->chains;
    size_t dim = d->dim;
    size_t n_kept = (cfg->n_iter - cfg->n_burn + cfg->thin - 1) / cfg->thin;
    bnn_draws *dr = calloc(1, sizeof *dr);
    run_shared sh = {0};
    double *init = NULL;
    pthread_t *tid = NULL;
    if (!dr)
        return bnn_fail(err, BNN_ENOMEM, "run: out of memory");
    dr->chains = M;
    dr->dim = dim;
    dr->n_kept = n_kept;
    dr->n_burn = cfg->n_burn;
    dr->thin = cfg->thin;
    dr->theta = malloc((size_t)M * n_kept * dim * sizeof(double));
    dr->lp = malloc((size_t)M * n_kept * sizeof(double));
    dr->accept_stat = malloc((size_t)M * n_kept * sizeof(double));
    dr->stepsize = malloc((size_t)M * n_kept * sizeof(double));
    dr->energy = malloc((size_t)M * n_kept * sizeof(double));
    dr->treedepth = malloc((size_t)M * n_kept * sizeof(int));
    dr->n_leapfrog = malloc((size_t)M * n_kept * sizeof(int));
    dr->divergent = malloc((size_t)M * n_kept * sizeof(int));
    dr->step_final = calloc((size_t)M, sizeof(double));
    dr->inv_metric = calloc((size_t)M * dim, sizeof(double));
    dr->adapted = cfg->n_burn > 0 && cfg->adapt && (cfg->sampler == BNN_SAMPLER_MALA ||
                                      cfg->sampler == BNN_SAMPLER_HMC || cfg->sampler == BNN_SAMPLER_NUTS);
    dr->accept_rate = calloc((size_t)M, sizeof(double));
    dr->seconds_warmup = calloc((size_t)M, sizeof(double));
    dr->seconds_sampling = calloc((size_t)M, sizeof(double));
    sh.iter_done = calloc((size_t)M, sizeof *sh.iter_done);
    sh.accepted = calloc((size_t)M, sizeof *sh.accepted);
    sh.kept = calloc((size_t)M, sizeof *sh.kept);
    sh.status = calloc((size_t)M, sizeof *sh.status);
    sh.errs = calloc((size_t)M, sizeof *sh.errs);
    int T = cfg->threads < M ? cfg->threads : M;
    tid = calloc((size_t)T, sizeof *tid);
    if (!dr->theta || !dr->lp || !dr->accept_stat || !dr->stepsize || !dr->energy ||
        !dr->treedepth || !dr->n_leapfrog || !dr->divergent || !dr->step_final ||
        !dr->inv_metric || !dr->accept_rate || !dr->seconds_warmup ||
        !dr->seconds_sampling || !sh.iter_done || !sh.accepted || !sh.kept || !sh.status || !sh.errs || !tid) {
        st = bnn_fail(err, BNN_ENOMEM, "run: out of memory for %d chains x %zu draws x %zu "
                      "parameters", M, n_kept, dim);
        goto done;
    }
    if (!cfg->init) {
        /* Stan's default: uniform(-2, 2) on the unconstrained scale, from its own stream */
        init = malloc((size_t)M * dim * sizeof *init);
        if (!init) {
            st = bnn_fail(err, BNN_ENOMEM, "run: out of memory");
            goto done;
        }
        for (int c = 0; c < M; c++) {
            uint64_t s = bnn_chain_seed(cfg->seed, c, 1);
            for (size_t j = 0; j < dim; j++) {
                s = mix64(s);
                init[(size_t)c * dim + j] = -2.0 + 4.0 * (double)(s >> 11) * 0x1.0p-53;
            }
        }
    }
    sh.d = d;
    sh.cfg = cfg;
    sh.dr = dr;
    sh.init = cfg->init ? cfg->init : init;
    atomic_init(&sh.next_chain, 0);
    openblas_set_num_threads(1);
    double t0 = now();
    int started = 0;
    for (; started < T; started++)
        if (pthread_create(&tid[started], NULL, worker, &sh) != 0)
            break;
    if (started == 0) {
        worker(&sh);   /* no thread could start: run here */
    } else if (cfg->progress) {
        size_t total = (size_t)M * cfg->n_iter;
        for (;;) {
            struct timespec nap = {0, 50 * 1000 * 1000};
            double next = now() + (cfg->progress_interval > 0 ? cfg->progress_interval : 1.0);
            size_t done_iter = 0;
            while (now() < next) {
                nanosleep(&nap, NULL);
                done_iter = 0;
                for (int c = 0; c < M; c++)
                    done_iter += atomic_load_explicit(&sh.iter_done[c], memory_order_relaxed);
                if (done_iter == total || atomic_load(&sh.next_chain) >= M + started)
                    break;
            }
            bnn_progress p = {done_iter, total, 0, now() - t0};
            for (int c = 0; c < M; c++)
                p.accepted += atomic_load_explicit(&sh.accepted[c], memory_order_relaxed);
            if (done_iter == total || atomic_load(&sh.next_chain) >= M + started) {
                cfg->progress(cfg->progress_user, &p);
                break;
            }
            cfg->progress(cfg->progress_user, &p);
        }
    }
    for (int i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    size_t min_kept = n_kept, min_iter = cfg->n_iter;
    for (int c = 0; c < M; c++) {
        if (sh.status[c] && sh.status[c] != BNN_EINTR && !st)
            st = bnn_fail(err, sh.status[c], "run: chain %d failed: %s", c + 1,
                          sh.errs[c].msg[0] ? sh.errs[c].msg : bnn_status_str(sh.status[c]));
        if (sh.kept[c] < min_kept)
            min_kept = sh.kept[c];
        size_t it = atomic_load(&sh.iter_done[c]);
        if (it < min_iter)
            min_iter = it;
    }
    if (!st && min_iter < cfg->n_iter)
        st = bnn_fail(err, BNN_EINTR, "run: stopped after %zu of %zu iterations per chain",
                      min_iter, cfg->n_iter);
    if (min_kept < n_kept) {
        /* every chain keeps the same count: compact chain slices to min_kept */
        for (int c = 1; c < M; c++) {
            memmove(dr->theta + (size_t)c * min_kept * dim,
                    dr->theta + (size_t)c * n_kept * dim, min_kept * dim * sizeof(double));
            memmove(dr->lp + (size_t)c * min_kept, dr->lp + (size_t)c * n_kept,
                    min_kept * sizeof(double));
            size_t to = (size_t)c * min_kept, from = (size_t)c * n_kept;
            memmove(dr->accept_stat + to, dr->accept_stat + from, min_kept * sizeof(double));
            memmove(dr->stepsize + to, dr->stepsize + from, min_kept * sizeof(double));
            memmove(dr->energy + to, dr->energy + from, min_kept * sizeof(double));
            memmove(dr->treedepth + to, dr->treedepth + from, min_kept * sizeof(int));
            memmove(dr->n_leapfrog + to, dr->n_leapfrog + from, min_kept * sizeof(int));
            memmove(dr->divergent + to, dr->divergent + from, min_kept * sizeof(int));
        }
        dr->n_kept = min_kept;
    }
    dr->n_iter_done = min_iter;
done:
    openblas_set_num_threads(blas_threads);
    free(init);
    free(tid);
    free(sh.iter_done);
    free(sh.accepted);
    free(sh.kept);
    free(sh.status);
    free(sh.errs);
    if (st && st != BNN_EINTR) {
        bnn_draws_free(dr);
        return st;
    }
    *out = dr;
    return st;
}
