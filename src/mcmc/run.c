/* run.c — runs M chains of a kernel on T threads, keeps their draws, reports progress; the
 * run's settings and their checks.
 *
 * Invariant: chain c's draws depend only on (config, c). Its random stream is seeded from
 * a hash of (seed, c); threads only decide which chain runs where and when, and each
 * chain writes only its own slice of the output. So any thread count gives bitwise the
 * same draws. Progress is read by the calling thread from per-chain atomic counters. */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "kernel.h"

typedef struct {
    const bnn_kernel *k;
    const bnn_density *d;
    const bnn_run_config *cfg;
    bnn_draws *dr;
    const double *init;                 /* chains x dim */
    double t0;                          /* when sampling started */
    atomic_size_t *iter_done;           /* per chain */
    atomic_size_t *accepted;            /* per chain */
    size_t *kept;                       /* per chain */
    bnn_status *status;                 /* per chain */
    bnn_error *errs;                    /* per chain: why it failed */
} run_shared;

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

/* The progress callback, from the calling thread, summed over chains. */
static void report(void *arg)
{
    run_shared *sh = arg;
    const bnn_run_config *cfg = sh->cfg;
    bnn_progress p = {0, (size_t)cfg->chains * cfg->n_iter, 0, bnn_now() - sh->t0};
    for (int c = 0; c < cfg->chains; c++) {
        p.iter_done += atomic_load_explicit(&sh->iter_done[c], memory_order_relaxed);
        p.accepted += atomic_load_explicit(&sh->accepted[c], memory_order_relaxed);
    }
    cfg->progress(cfg->progress_user, &p);
}

static void run_chain(void *arg, size_t i)
{
    run_shared *sh = arg;
    int ci = (int)i;
    const bnn_run_config *cfg = sh->cfg;
    const bnn_density *d = sh->d;
    bnn_draws *dr = sh->dr;
    bnn_chain c;
    /* mt19937 seeds from 32 bits: fold the 64-bit hash */
    uint64_t h = bnn_chain_seed(cfg->seed, ci, 0);
    bnn_status st = bnn_chain_init(&c, sh->k, d, cfg, (unsigned long)((h ^ (h >> 32)) & 0xffffffffUL),
                                   sh->init + (size_t)ci * d->dim, &sh->errs[ci]);
    if (st) {
        sh->status[ci] = st;
        return;
    }
    size_t kept = 0, acc_post = 0, prop_post = 0;
    double t0 = bnn_now(), t_burn = t0;
    for (size_t it = 0; it < cfg->n_iter; it++) {
        if (stop_requested(cfg)) {
            sh->status[ci] = BNN_EINTR;
            break;
        }
        bnn_step_info info = {0};
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
                for (size_t e = 0; e < dr->n_extra; e++)
                    dr->extra[k * dr->n_extra + e] = info.extra[e];
                kept++;
            }
        }
        if (it + 1 == cfg->n_burn)
            t_burn = bnn_now();
        atomic_store_explicit(&sh->iter_done[ci], it + 1, memory_order_relaxed);
        if (a)
            atomic_fetch_add_explicit(&sh->accepted[ci], 1, memory_order_relaxed);
    }
    double t1 = bnn_now();
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

void bnn_run_config_default(bnn_run_config *c)
{
    memset(c, 0, sizeof *c);
    c->sampler = "langevin";
    c->n_iter = 10000;
    c->n_burn = 5000;
    c->thin = 1;
    c->chains = 4;
    c->threads = 1;
    c->seed = 1;
    c->progress_interval = 1.0;
    c->target_accept = 0;
    c->adapt_metric = 1;
    c->adapt = 1;
}

bnn_status bnn_run_config_set(bnn_run_config *c, const char *name, double value)
{
    for (int i = 0; i < c->n_settings; i++)
        if (strcmp(c->settings[i].name, name) == 0) {
            c->settings[i].value = value;
            return BNN_OK;
        }
    if (c->n_settings >= BNN_MAX_SETTINGS)
        return BNN_EINVAL;
    c->settings[c->n_settings].name = name;
    c->settings[c->n_settings].value = value;
    c->n_settings++;
    return BNN_OK;
}

double bnn_run_config_get(const bnn_run_config *c, const bnn_kernel *k, const char *name)
{
    const bnn_option *o = bnn_kernel_option(k, name);
    if (!o)
        return NAN;
    for (int i = 0; i < c->n_settings; i++)
        if (strcmp(c->settings[i].name, name) == 0)
            return c->settings[i].value;
    if (o->type == BNN_OPT_KERNEL) {
        const bnn_kernel *def = o->def_kernel ? bnn_kernel_find(o->def_kernel) : NULL;
        return def ? (double)bnn_kernel_index(def) : NAN;
    }
    return o->def;
}

const bnn_kernel *bnn_run_config_subkernel(const bnn_run_config *c, const bnn_kernel *k)
{
    for (size_t i = 0; k->options && k->options[i].name; i++) {
        if (k->options[i].type != BNN_OPT_KERNEL)
            continue;
        double v = bnn_run_config_get(c, k, k->options[i].name);
        return v >= 0 && v == floor(v) && v < 1e6 ? bnn_kernel_at((size_t)v) : NULL;
    }
    return NULL;
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
    free(dr->extra);
    free(dr->step_final);
    free(dr->inv_metric);
    free(dr->accept_rate);
    free(dr->seconds_warmup);
    free(dr->seconds_sampling);
    free(dr);
}

/* Is value a valid setting o? */
static int option_ok(const bnn_option *o, double v)
{
    switch (o->type) {
    case BNN_OPT_POSITIVE: return v > 0 && isfinite(v);
    case BNN_OPT_INT: return v >= o->lo && v <= o->hi && v == floor(v);
    case BNN_OPT_KERNEL: return v >= 0 && v < 1e6 && v == floor(v) && bnn_kernel_at((size_t)v);
    default: return v >= o->lo && v <= o->hi;
    }
}

bnn_status bnn_run_check(const bnn_density *d, const bnn_run_config *c, bnn_error *err)
{
    if (!d || !d->logp || d->dim == 0)
        return bnn_fail(err, BNN_EINVAL, "run: the density has no dimension or no logp");
    if (d->n_weights > d->dim)
        return bnn_fail(err, BNN_EINVAL, "run: n_weights %zu > dim %zu", d->n_weights, d->dim);
    const bnn_kernel *k = c->sampler ? bnn_kernel_find(c->sampler) : NULL;
    if (!k) {
        char list[256] = "";
        for (size_t i = 0; bnn_kernel_at(i); i++) {
            strncat(list, i ? "|" : "", sizeof list - strlen(list) - 1);
            strncat(list, bnn_kernel_at(i)->name, sizeof list - strlen(list) - 1);
        }
        return bnn_fail(err, BNN_EINVAL, "run: unknown sampler '%s' (one of %s)",
                        c->sampler ? c->sampler : "(none)", list);
    }
    if (c->n_settings < 0 || c->n_settings > BNN_MAX_SETTINGS)
        return bnn_fail(err, BNN_EINVAL, "run: %d settings (0..%d)", c->n_settings, BNN_MAX_SETTINGS);
    /* a kernel with a BNN_OPT_KERNEL option (pt) takes the chosen kernel's settings too;
     * its own settings are checked first, so the choice itself is valid by then */
    for (int pass = 0; pass < 2; pass++)
    for (int i = 0; i < c->n_settings; i++) {
        const char *name = c->settings[i].name;
        const bnn_option *o = name ? bnn_kernel_option(k, name) : NULL;
        const bnn_kernel *sub = pass ? bnn_run_config_subkernel(c, k) : NULL;
        if (pass == 0 && !o)
            continue;
        if (pass == 1) {
            if (o)
                continue;
            o = sub && name ? bnn_kernel_option(sub, name) : NULL;
        }
        if (!o)
            return bnn_fail(err, BNN_EINVAL, "run: %s has no setting '%s'%s%s%s", k->name,
                            name ? name : "(null)", sub ? " (nor has its base " : "",
                            sub ? sub->name : "", sub ? ")" : "");
        if (o->type == BNN_OPT_KERNEL && !option_ok(o, c->settings[i].value))
            return bnn_fail(err, BNN_EINVAL, "run: %s's %s must be the index of a kernel of the "
                            "registry, not %g", k->name, o->name, c->settings[i].value);
        if (!option_ok(o, c->settings[i].value)) {
            if (o->type == BNN_OPT_POSITIVE)
                return bnn_fail(err, BNN_EINVAL, "run: %s's %s must be positive, not %g",
                                k->name, o->name, c->settings[i].value);
            return bnn_fail(err, BNN_EINVAL, "run: %s's %s must be %s in %g..%g, not %g",
                            k->name, o->name, o->type == BNN_OPT_INT ? "an integer" : "a number",
                            o->lo, o->hi, c->settings[i].value);
        }
    }
    /* the kernel's own tables must fit the chain's (a kernel definition's error) */
    size_t n_opt = 0, n_col = 0;
    while (k->options && k->options[n_opt].name)
        n_opt++;
    while (k->columns && k->columns[n_col])
        n_col++;
    if (k->ops->n_columns && k->ops->n_columns(c) > n_col)
        n_col = SIZE_MAX;   /* more columns asked than the table names */
    if (n_opt > BNN_MAX_OPTIONS || n_col > BNN_MAX_COLUMNS)
        return bnn_fail(err, BNN_EINVAL, "run: kernel %s has %zu options and %zu columns (at most "
                        "%d and %d)", k->name, n_opt, n_col, BNN_MAX_OPTIONS, BNN_MAX_COLUMNS);
    if (k->ops->check) {
        bnn_status st = k->ops->check(d, c, err);
        if (st)
            return st;
    }
    if (!(c->stepsize >= 0) || !isfinite(c->stepsize))
        return bnn_fail(err, BNN_EINVAL, "run: step size %g is not a finite number >= 0", c->stepsize);
    if (c->target_accept < 0 || c->target_accept >= 1)
        return bnn_fail(err, BNN_EINVAL, "run: target acceptance %g is not in (0, 1)", c->target_accept);
    if (c->n_iter < 1 || c->n_burn >= c->n_iter || c->thin < 1)
        return bnn_fail(err, BNN_EINVAL, "run: need burn-in (%zu) < iterations (%zu) and thin "
                        ">= 1", c->n_burn, c->n_iter);
    if (c->chains < 1 || c->threads < 1)
        return bnn_fail(err, BNN_EINVAL, "run: need at least one chain and one thread");
    return BNN_OK;
}

bnn_status bnn_run(const bnn_density *d, const bnn_run_config *cfg, bnn_draws **out,
                   bnn_error *err)
{
    *out = NULL;
    bnn_status st = bnn_run_check(d, cfg, err);
    if (st)
        return st;
    const bnn_kernel *k = bnn_kernel_find(cfg->sampler);
    size_t n_extra = 0;
    while (k->columns && k->columns[n_extra])
        n_extra++;
    if (k->ops->n_columns)   /* the columns this run writes (pt: one per replica pair) */
        n_extra = k->ops->n_columns(cfg);
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
    if (!dr)
        return bnn_fail(err, BNN_ENOMEM, "run: out of memory");
    dr->chains = M;
    dr->dim = dim;
    dr->n_kept = n_kept;
    dr->n_burn = cfg->n_burn;
    dr->kernel = k;
    dr->n_extra = n_extra;
    dr->thin = cfg->thin;
    dr->theta = malloc((size_t)M * n_kept * dim * sizeof(double));
    dr->lp = malloc((size_t)M * n_kept * sizeof(double));
    dr->accept_stat = malloc((size_t)M * n_kept * sizeof(double));
    dr->stepsize = malloc((size_t)M * n_kept * sizeof(double));
    dr->energy = malloc((size_t)M * n_kept * sizeof(double));
    dr->treedepth = malloc((size_t)M * n_kept * sizeof(int));
    dr->n_leapfrog = malloc((size_t)M * n_kept * sizeof(int));
    dr->divergent = malloc((size_t)M * n_kept * sizeof(int));
    dr->extra = malloc((size_t)M * n_kept * n_extra * sizeof(double) + 1);
    dr->step_final = calloc((size_t)M, sizeof(double));
    dr->inv_metric = calloc((size_t)M * dim, sizeof(double));
    dr->adapted = cfg->n_burn > 0 && cfg->adapt && k->adapts;
    dr->accept_rate = calloc((size_t)M, sizeof(double));
    dr->seconds_warmup = calloc((size_t)M, sizeof(double));
    dr->seconds_sampling = calloc((size_t)M, sizeof(double));
    sh.iter_done = calloc((size_t)M, sizeof *sh.iter_done);
    sh.accepted = calloc((size_t)M, sizeof *sh.accepted);
    sh.kept = calloc((size_t)M, sizeof *sh.kept);
    sh.status = calloc((size_t)M, sizeof *sh.status);
    sh.errs = calloc((size_t)M, sizeof *sh.errs);
    if (!dr->theta || !dr->lp || !dr->accept_stat || !dr->stepsize || !dr->energy ||
        !dr->treedepth || !dr->n_leapfrog || !dr->divergent || !dr->step_final ||
        !dr->inv_metric || !dr->accept_rate || !dr->seconds_warmup ||
        !dr->seconds_sampling || !sh.iter_done || !sh.accepted || !sh.kept || !sh.status || !sh.errs || !dr->extra) {
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
    sh.k = k;
    sh.d = d;
    sh.cfg = cfg;
    sh.dr = dr;
    sh.init = cfg->init ? cfg->init : init;
    openblas_set_num_threads(1);
    sh.t0 = bnn_now();
    bnn_pool_run((size_t)M, cfg->threads, run_chain, &sh, cfg->progress ? report : NULL, &sh,
                 cfg->progress_interval > 0 ? cfg->progress_interval : 1.0);
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
            memmove(dr->extra + to * n_extra, dr->extra + from * n_extra,
                    min_kept * n_extra * sizeof(double));
        }
        dr->n_kept = min_kept;
    }
    dr->n_iter_done = min_iter;
done:
    openblas_set_num_threads(blas_threads);
    free(init);
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
