/* run.c — runs M chains of a kernel on T threads, keeps their draws, reports progress; the
 * run's settings and their checks.
 *
 * Invariant: chain c's draws depend only on (config, c). Its random stream is seeded from
 * a hash of (seed, c); threads only decide which chain runs where and when, and each
 * chain writes only its own slice of the output. So any thread count gives bitwise the
 * same draws. Progress is read by the calling thread from per-chain atomic counters. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "kernel.h"

typedef struct {
    const bnn_kernel *k;
    const bnn_density *d;
    const bnn_run_config *cfg;
    int lo, M;                          /* the chains run here: lo .. lo + M - 1 of the run's
                                           (cfg->chain_lo, chain_hi); arrays are indexed by
                                           ci = chain - lo */
    bnn_draws *dr;                      /* strided by stride draws per chain */
    size_t stride;
    const double *init;                 /* M x dim: chain lo's start first */
    double t0;                          /* when the run started */
    double deadline;                    /* stop sampling then (bnn_now), 0 for never */
    size_t target;                      /* run every chain up to this iteration */
    bnn_chain *ch;                      /* per chain */
    int *live;                          /* per chain: initialised, not yet freed */
    atomic_size_t *iter_done;           /* per chain */
    atomic_size_t *accepted;            /* per chain */
    size_t *kept;                       /* per chain */
    size_t *kept_warm;                  /* per chain: warm-up rows kept (save_warmup) */
    size_t warm_cap;                    /* rows per chain in dr->warmup's arrays */
    size_t *acc_post, *prop_post;       /* per chain: acceptances after burn-in */
    bnn_status *status;                 /* per chain */
    bnn_error *errs;                    /* per chain: why it failed */
    /* checkpoints: the monitor bumps the epoch every checkpoint_seconds; a chain that sees
     * a new one saves itself after its current iteration */
    atomic_int failed;                  /* a chain failed: the others stop too */
    atomic_uint ckpt_epoch;
    unsigned *ckpt_seen;                /* per chain: the epoch of its last checkpoint */
    double ckpt_last;                   /* when the epoch last moved */
    /* slices: which chains a thread runs now, which are through this round */
    pthread_mutex_t sched;
    unsigned char *busy, *through;      /* per chain */
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

/* The monitor, on the calling thread: the progress callback, summed over chains, and the
 * checkpoints' clock. */
static void report(void *arg)
{
    run_shared *sh = arg;
    const bnn_run_config *cfg = sh->cfg;
    if (cfg->checkpoint && cfg->checkpoint_seconds > 0 &&
        bnn_now() - sh->ckpt_last >= cfg->checkpoint_seconds) {
        sh->ckpt_last = bnn_now();
        atomic_fetch_add_explicit(&sh->ckpt_epoch, 1, memory_order_relaxed);
    }
    if (!cfg->progress)
        return;
    bnn_progress p = {0, (size_t)sh->M * sh->target, 0, bnn_now() - sh->t0,
                      cfg->max_seconds};
    for (int c = 0; c < sh->M; c++) {
        p.iter_done += atomic_load_explicit(&sh->iter_done[c], memory_order_relaxed);
        p.accepted += atomic_load_explicit(&sh->accepted[c], memory_order_relaxed);
    }
    cfg->progress(cfg->progress_user, &p);
}

/* Kept draws up to iteration it (exclusive): the iterations after burn-in that thinning
 * keeps. */
static size_t kept_upto(const bnn_run_config *cfg, size_t it)
{
    return it <= cfg->n_burn ? 0 : (it - cfg->n_burn + cfg->thin - 1) / cfg->thin;
}

/* Warm-up rows kept up to iteration it (exclusive): iterations 0, thin, ... of burn-in. */
static size_t warm_upto(const bnn_run_config *cfg, size_t it)
{
    size_t w = it < cfg->n_burn ? it : cfg->n_burn;
    return (w + cfg->thin - 1) / cfg->thin;
}

/* Chain ci's draw of this iteration into row *kept of its slice (stride rows) of dr. */
static void keep_draw(bnn_draws *dr, size_t stride, size_t *kept, int ci, const bnn_chain *c,
                      const bnn_step_info *info)
{
    size_t dim = dr->dim;
    size_t k = (size_t)ci * stride + *kept;
    if (c->d->to_model)   /* the chain's scratch is free between its steps */
        c->d->to_model(c->d->ctx, c->work, c->theta, dr->theta + k * dim);
    else
        memcpy(dr->theta + k * dim, c->theta, dim * sizeof(double));
    dr->lp[k] = c->lp;
    dr->accept_stat[k] = info->accept_stat;
    dr->stepsize[k] = info->stepsize;
    dr->treedepth[k] = info->treedepth;
    dr->n_leapfrog[k] = info->n_leapfrog;
    dr->divergent[k] = info->divergent;
    dr->energy[k] = info->energy;
    for (size_t e = 0; e < dr->n_extra; e++)
        dr->extra[k * dr->n_extra + e] = info->extra[e];
    (*kept)++;
}

/* The kernel's own columns a run under cfg writes (pt: one per replica pair). */
static size_t n_columns(const bnn_kernel *k, const bnn_run_config *cfg)
{
    if (k->ops->n_columns)
        return k->ops->n_columns(cfg);
    size_t n = 0;
    while (k->columns && k->columns[n])
        n++;
    return n;
}

/* ------------------------------------------------------------ checkpoints */

/* A checkpoint's layout: this header, chain ci's counters, its kept draws (array by array,
 * as draw_arrays lists them), then its state (bnn_chain_save). */
#define CKPT_MAGIC "BNNCKPT1"
typedef struct {
    char magic[8];
    int chain;
    /* the density's coordinates when they are not the model's (to_model): its coords bits,
     * or 1 when it names none (BNN_COORDS_CENTER, all that older checkpoints knew); it fills
     * what was padding (zeroed) before it existed, so older checkpoints read 0, as their
     * runs were */
    int mapped;
    size_t dim, n_burn, thin, n_extra;
    uint64_t seed;
    char sampler[32];
    size_t iter_done, accepted, kept, kept_warm, acc_post, prop_post;
    double seconds_warmup, seconds_sampling, seconds_checkpoint;
    size_t n_checkpoints;
    size_t target;            /* the round's last iteration (run until converged) */
    double seconds_run;       /* since the run started, over every resume */
    int has_opt;
    bnn_optimize_result opt;
} ckpt_head;
_Static_assert(offsetof(ckpt_head, mapped) == 12 && offsetof(ckpt_head, dim) == 16,
               "ckpt_head.mapped lies in what was padding before it");

/* What a checkpoint records of the density's coordinates (ckpt_head.mapped). */
static int coords_of(const bnn_density *d)
{
    return !d->to_model ? 0 : d->coords ? (int)d->coords : 1;
}

static const char *coords_name(int mapped)
{
    switch (mapped) {
    case 0: return "the model's coordinates";
    case BNN_COORDS_CENTER: return "the centred level (or unnamed mapped coordinates)";
    case BNN_COORDS_AXES: return "the inputs' axes";
    case BNN_COORDS_CENTER | BNN_COORDS_AXES: return "the centred level and the inputs' axes";
    default: return "other coordinates";
    }
}

typedef struct {
    void **p;
    size_t size;
} draw_array;
static size_t draw_arrays(bnn_draws *dr, draw_array *a);

/* Chain ci's checkpoint at iteration it (the next to run), handed to cfg->checkpoint. */
static bnn_status save_chain(run_shared *sh, int ci, size_t it, bnn_error *err)
{
    const bnn_run_config *cfg = sh->cfg;
    bnn_draws *dr = sh->dr;
    double t0 = bnn_now();
    ckpt_head h;
    memset(&h, 0, sizeof h);   /* padding too: the same state gives the same bytes */
    memcpy(h.magic, CKPT_MAGIC, sizeof h.magic);
    h.mapped = coords_of(sh->d);
    h.chain = sh->lo + ci;
    h.dim = sh->d->dim;
    h.n_burn = cfg->n_burn;
    h.thin = cfg->thin;
    h.n_extra = dr->n_extra;
    h.seed = cfg->seed;
    snprintf(h.sampler, sizeof h.sampler, "%s", sh->k->name);
    h.iter_done = it;
    h.accepted = atomic_load_explicit(&sh->accepted[ci], memory_order_relaxed);
    h.kept = sh->kept[ci];
    h.kept_warm = dr->warmup ? sh->kept_warm[ci] : 0;
    h.acc_post = sh->acc_post[ci];
    h.prop_post = sh->prop_post[ci];
    h.seconds_warmup = dr->seconds_warmup[ci];
    h.seconds_sampling = dr->seconds_sampling[ci];
    h.seconds_checkpoint = dr->seconds_checkpoint[ci];
    h.n_checkpoints = dr->n_checkpoints[ci] + 1;   /* this one */
    h.target = sh->target;
    h.seconds_run = t0 - sh->t0;
    h.has_opt = dr->start_opt != NULL;
    if (dr->start_opt)
        h.opt = dr->start_opt[ci];
    bnn_wbuf b = {0};
    bnn_wbuf_put(&b, &h, sizeof h);
    draw_array a[16];
    size_t na = draw_arrays(dr, a);
    for (size_t i = 0; i < na; i++)
        bnn_wbuf_put(&b, (char *)*a[i].p + (size_t)ci * sh->stride * a[i].size,
                     h.kept * a[i].size);
    if (dr->warmup) {
        na = draw_arrays(dr->warmup, a);
        for (size_t i = 0; i < na; i++)
            bnn_wbuf_put(&b, (char *)*a[i].p + (size_t)ci * sh->warm_cap * a[i].size,
                         h.kept_warm * a[i].size);
    }
    bnn_chain_save(&sh->ch[ci], &b);
    uint64_t hash = b.oom ? 0 : bnn_fnv1a(BNN_FNV1A_INIT, b.p, b.len);
    bnn_wbuf_put(&b, &hash, sizeof hash);
    bnn_status st = b.oom ? bnn_fail(err, BNN_ENOMEM, "checkpoint: out of memory")
                          : cfg->checkpoint(cfg->checkpoint_user, sh->lo + ci, b.p, b.len, err);
    free(b.p);
    dr->n_checkpoints[ci]++;
    dr->seconds_checkpoint[ci] += bnn_now() - t0;
    return st;
}

/* Checks chain ci's checkpoint cfg->resume[ci] as far as it can before the run (its
 * checksum and header against d, kernel k with n_extra columns, and cfg) and sets r past
 * its header, at the draws. The chain's own state is checked as it is loaded. */
static bnn_status check_head(const bnn_run_config *cfg, const bnn_density *d, const bnn_kernel *k,
                             size_t n_extra, int ci, bnn_rbuf *r, ckpt_head *h, bnn_error *err)
{
    *r = (bnn_rbuf){cfg->resume[ci], cfg->resume_len ? cfg->resume_len[ci] : 0, 0, 0};
    uint64_t hash;
    if (r->len < sizeof hash)
        return bnn_fail(err, BNN_EINVAL, "checkpoint of chain %d: cut short", ci + 1);
    r->len -= sizeof hash;
    memcpy(&hash, r->p + r->len, sizeof hash);
    if (hash != bnn_fnv1a(BNN_FNV1A_INIT, r->p, r->len))
        return bnn_fail(err, BNN_EINVAL, "checkpoint of chain %d: damaged (its checksum does not "
                        "match: cut short or overwritten)", ci + 1);
    if (bnn_rbuf_get(r, h, sizeof *h) || memcmp(h->magic, CKPT_MAGIC, sizeof h->magic) != 0)
        return bnn_fail(err, BNN_EINVAL, "checkpoint of chain %d: not a checkpoint of this "
                        "build", ci + 1);
    h->sampler[sizeof h->sampler - 1] = '\0';
    if (h->chain != ci || h->dim != d->dim || h->n_burn != cfg->n_burn || h->thin != cfg->thin ||
        h->n_extra != n_extra || h->seed != cfg->seed || strcmp(h->sampler, k->name) != 0 ||
        h->mapped != coords_of(d))
        return bnn_fail(err, BNN_EINVAL, "checkpoint of chain %d: made by another run (chain %ld, "
                        "%s, dimension %zu, burn-in %zu, thin %zu, seed %llu, %s)",
                        ci + 1, (long)h->chain + 1, h->sampler, h->dim, h->n_burn, h->thin,
                        (unsigned long long)h->seed, coords_name(h->mapped));
    size_t warm = cfg->save_warmup && cfg->n_burn > 0 ? warm_upto(cfg, h->iter_done) : 0;
    if (h->kept_warm != warm)
        return bnn_fail(err, BNN_EINVAL, "checkpoint of chain %d: %zu warm-up rows where this "
                        "run (save_warmup %d) keeps %zu", ci + 1, h->kept_warm, cfg->save_warmup,
                        warm);
    if ((h->iter_done > cfg->n_iter && !(cfg->max_seconds > 0)) ||
        h->kept != kept_upto(cfg, h->iter_done))
        return bnn_fail(err, BNN_EINVAL, "checkpoint of chain %d: %zu iterations and %zu draws "
                        "do not fit a run of %zu", ci + 1, h->iter_done, h->kept, cfg->n_iter);
    return BNN_OK;
}

/* Chain ci from its checkpoint cfg->resume[ci]: the counters and draws into the run's
 * arrays, the chain set up and then given the saved state. */
/* A resumed run in rounds (max_seconds): the furthest round and the longest run time that
 * a chain's checkpoint recorded (bnn_run_check has checked them), so the run goes on from
 * that round with the time it had left. */
static void resume_extent(const run_shared *sh, size_t n_extra, size_t *target, double *seconds)
{
    *target = 0;
    *seconds = 0;
    for (int c = 0; c < sh->cfg->chains; c++) {
        bnn_rbuf r;
        ckpt_head h;
        if (!sh->cfg->resume[c] || check_head(sh->cfg, sh->d, sh->k, n_extra, c, &r, &h, NULL))
            continue;
        *target = h.target > *target ? h.target : *target;
        *seconds = h.seconds_run > *seconds ? h.seconds_run : *seconds;
    }
}

static bnn_status load_chain(run_shared *sh, int ci, bnn_error *err)
{
    const bnn_run_config *cfg = sh->cfg;
    bnn_draws *dr = sh->dr;
    bnn_rbuf r;
    ckpt_head h;
    int g = sh->lo + ci;   /* the chain's index in the whole run */
    bnn_status hst = check_head(cfg, sh->d, sh->k, dr->n_extra, g, &r, &h, err);
    if (hst)
        return hst;
    if (h.iter_done > sh->target || h.kept > sh->stride)
        return bnn_fail(err, BNN_EINVAL, "checkpoint of chain %d: %zu iterations and %zu draws "
                        "do not fit a run of %zu", g + 1, h.iter_done, h.kept, sh->target);
    draw_array a[16];
    size_t na = draw_arrays(dr, a);
    for (size_t i = 0; i < na; i++)
        bnn_rbuf_get(&r, (char *)*a[i].p + (size_t)ci * sh->stride * a[i].size,
                     h.kept * a[i].size);
    if (dr->warmup) {
        na = draw_arrays(dr->warmup, a);
        for (size_t i = 0; i < na; i++)
            bnn_rbuf_get(&r, (char *)*a[i].p + (size_t)ci * sh->warm_cap * a[i].size,
                         h.kept_warm * a[i].size);
    }
    if (r.bad)
        return bnn_fail(err, BNN_EINVAL, "checkpoint of chain %d: cut short", g + 1);
    /* set up as a start would be, from the saved position (a finite log density), then
     * overwritten by the saved state: the random stream included */
    size_t n = sh->d->dim;
    double *theta0 = malloc(n * sizeof *theta0 + 1);
    if (!theta0)
        return bnn_fail(err, BNN_ENOMEM, "out of memory");
    if (bnn_chain_saved_theta(r, n, theta0) != 0) {
        free(theta0);
        return bnn_fail(err, BNN_EINVAL, "checkpoint of chain %d: no chain state where one "
                        "should be", g + 1);
    }
    bnn_status st = bnn_chain_init_restore(&sh->ch[ci], sh->k, sh->d, cfg, theta0, err);
    free(theta0);
    if (st)
        return st;
    sh->live[ci] = 1;
    if ((st = bnn_chain_load(&sh->ch[ci], &r, err)) != BNN_OK)
        return st;
    if (r.pos != r.len)
        return bnn_fail(err, BNN_EINVAL, "checkpoint of chain %d: %zu bytes too many", g + 1,
                        r.len - r.pos);
    atomic_store(&sh->iter_done[ci], h.iter_done);
    atomic_store(&sh->accepted[ci], h.accepted);
    sh->kept[ci] = h.kept;
    if (dr->warmup)
        sh->kept_warm[ci] = h.kept_warm;
    sh->acc_post[ci] = h.acc_post;
    sh->prop_post[ci] = h.prop_post;
    dr->seconds_warmup[ci] = h.seconds_warmup;
    dr->seconds_sampling[ci] = h.seconds_sampling;
    dr->seconds_checkpoint[ci] = h.seconds_checkpoint;
    dr->n_checkpoints[ci] = h.n_checkpoints;
    if (dr->start_opt && h.has_opt)
        dr->start_opt[ci] = h.opt;
    return BNN_OK;
}

/* adapt_stepsize, adapt_inv_metric: chain ci's step size and metric from a finished run. */
static bnn_status take_tuning(run_shared *sh, int ci, bnn_error *err)
{
    const bnn_run_config *cfg = sh->cfg;
    size_t n = sh->d->dim, len = cfg->metric == BNN_METRIC_DENSE ? n * n : n;
    int g = sh->lo + ci;
    return bnn_chain_set_tuning(&sh->ch[ci], cfg->adapt_stepsize[g],
                                cfg->adapt_inv_metric + (size_t)g * len, err);
}

/* Adds the time since *t_last to warm-up or sampling (by the iteration reached). */
static void add_seconds(bnn_draws *dr, const bnn_run_config *cfg, int ci, size_t it,
                        double *t_last)
{
    double t = bnn_now();
    if (it <= cfg->n_burn)
        dr->seconds_warmup[ci] += t - *t_last;
    else
        dr->seconds_sampling[ci] += t - *t_last;
    *t_last = t;
}

/* Runs chain lo + ci (starting it on its first call) up to iteration upto <= sh->target, or
 * until a stop, a failure or the deadline. Returns 1 when the chain is through the round
 * (at sh->target, stopped or failed: its closing work done), 0 when it has more to run. A
 * chain's draws depend on (config, lo + ci) alone, not on where its slices ran. */
static int run_chain(run_shared *sh, int ci, size_t upto)
{
    const bnn_run_config *cfg = sh->cfg;
    bnn_chain *c = &sh->ch[ci];
    bnn_draws *dr = sh->dr;
    bnn_status st = BNN_OK;
    if (!sh->live[ci] && cfg->resume && cfg->resume[sh->lo + ci]) {
        if ((st = load_chain(sh, ci, &sh->errs[ci])) != BNN_OK) {
            sh->status[ci] = st;
            atomic_store(&sh->failed, 1);
            return 1;
        }
    } else if (!sh->live[ci]) {
        const double *theta0 = sh->init + (size_t)ci * sh->d->dim;
        double *map = NULL;
        if (cfg->init_map || sh->d->from_model) {
            /* on the chain's thread, from the chain's own start: thread-count independent */
            map = malloc(sh->d->dim * sizeof *map);
            double *scratch = sh->d->from_model ? malloc(sh->d->work_len * sizeof *scratch + 1)
                                                : NULL;
            if (!map || (sh->d->from_model && !scratch)) {
                free(map);
                free(scratch);
                sh->status[ci] = bnn_fail(&sh->errs[ci], BNN_ENOMEM, "out of memory");
                atomic_store(&sh->failed, 1);
                return 1;
            }
            /* starting points are in the model's coordinates */
            if (sh->d->from_model)
                sh->d->from_model(sh->d->ctx, scratch, theta0, map);
            else
                memcpy(map, theta0, sh->d->dim * sizeof *map);
            free(scratch);
            if (cfg->init_map)
                st = bnn_optimize(sh->d, map, &cfg->optimize, &dr->start_opt[ci], &sh->errs[ci]);
            theta0 = map;
        }
        /* mt19937 seeds from 32 bits: fold the 64-bit hash */
        uint64_t h = bnn_chain_seed(cfg->seed, sh->lo + ci, 0);
        if (!st)
            st = bnn_chain_init(c, sh->k, sh->d, cfg, (unsigned long)((h ^ (h >> 32)) & 0xffffffffUL),
                                theta0, &sh->errs[ci]);
        free(map);
        if (!st && cfg->adapt_stepsize)
            st = take_tuning(sh, ci, &sh->errs[ci]);
        if (st) {
            if (c->rng)   /* set up, then its tuning refused */
                bnn_chain_free(c);
            sh->status[ci] = st;
            atomic_store(&sh->failed, 1);
            return 1;
        }
        sh->live[ci] = 1;
    }
    double t_last = bnn_now();
    size_t it = atomic_load_explicit(&sh->iter_done[ci], memory_order_relaxed);
    int through = upto >= sh->target;
    for (; it < upto; it++) {
        through = 1;   /* unless the loop runs to upto */
        if (stop_requested(cfg)) {
            sh->status[ci] = BNN_EINTR;
            break;
        }
        if (atomic_load_explicit(&sh->failed, memory_order_relaxed))
            break;   /* the run ends with the failed chain's error: no hours of work for it */
        if (sh->deadline > 0 && it >= cfg->n_iter && bnn_now() > sh->deadline)
            break;
        through = upto >= sh->target;
        bnn_step_info info = {0};
        int a = bnn_chain_step(c, &info);
        if (it < cfg->n_burn && (st = bnn_chain_adapt(c, it, &info, &sh->errs[ci])) != BNN_OK) {
            sh->status[ci] = st;
            break;
        }
        if (it >= cfg->n_burn) {
            sh->acc_post[ci] += (size_t)a;
            sh->prop_post[ci]++;
            if ((it - cfg->n_burn) % cfg->thin == 0)
                keep_draw(dr, sh->stride, &sh->kept[ci], ci, c, &info);
        } else if (dr->warmup && it % cfg->thin == 0) {
            keep_draw(dr->warmup, sh->warm_cap, &sh->kept_warm[ci], ci, c, &info);
        }
        if (it + 1 == cfg->n_burn)
            add_seconds(dr, cfg, ci, it + 1, &t_last);
        atomic_store_explicit(&sh->iter_done[ci], it + 1, memory_order_relaxed);
        if (a)
            atomic_fetch_add_explicit(&sh->accepted[ci], 1, memory_order_relaxed);
        unsigned epoch = atomic_load_explicit(&sh->ckpt_epoch, memory_order_relaxed);
        if (cfg->checkpoint && (epoch != sh->ckpt_seen[ci] ||
                                (cfg->checkpoint_iter && (it + 1) % cfg->checkpoint_iter == 0))) {
            sh->ckpt_seen[ci] = epoch;
            add_seconds(dr, cfg, ci, it + 1, &t_last);
            if ((st = save_chain(sh, ci, it + 1, &sh->errs[ci])) != BNN_OK) {
                sh->status[ci] = st;
                it++;
                break;
            }
        }
    }
    add_seconds(dr, cfg, ci, it, &t_last);
    if (!through && !sh->status[ci])
        return 0;
    /* the state where the chain stopped or finished: a stopped run resumes exactly there,
     * a finished one can be extended */
    if (cfg->checkpoint && (!sh->status[ci] || sh->status[ci] == BNN_EINTR) &&
        (st = save_chain(sh, ci, it, &sh->errs[ci])) != BNN_OK)
        sh->status[ci] = st;
    if (sh->status[ci] && sh->status[ci] != BNN_EINTR)
        atomic_store(&sh->failed, 1);
    dr->accept_rate[ci] = sh->prop_post[ci] ? (double)sh->acc_post[ci] / (double)sh->prop_post[ci] : NAN;
    dr->step_final[ci] = c->eps;
    size_t dim = sh->d->dim;
    memcpy(dr->inv_metric + (size_t)ci * dim, c->inv_metric, dim * sizeof(double));
    if (dr->inv_metric_dense)
        memcpy(dr->inv_metric_dense + (size_t)ci * dim * dim, c->inv_metric_dense,
               dim * dim * sizeof(double));
    return 1;
}

/* A pool task: runs slices of SLICE iterations of whichever chain is free and least
 * advanced, until every chain is through the round or running elsewhere. One task per
 * chain would leave threads idle at the end (5 chains on 2 threads: the third pair is one
 * chain); slices keep every thread busy to within a slice. */
enum { SLICE = 100 };

static void run_slices(void *arg, size_t task)
{
    run_shared *sh = arg;
    int M = sh->M;
    (void)task;
    for (;;) {
        int ci = -1;
        size_t least = SIZE_MAX;
        pthread_mutex_lock(&sh->sched);
        /* a chain waiting for a thread when the checkpoint epoch moves saves now, not at
         * its next slice (which may be M / threads slices away) */
        if (sh->cfg->checkpoint) {
            unsigned epoch = atomic_load_explicit(&sh->ckpt_epoch, memory_order_relaxed);
            for (int c = 0; c < M && ci < 0; c++)
                if (!sh->busy[c] && !sh->through[c] && sh->live[c] && sh->ckpt_seen[c] != epoch)
                    ci = c;
            if (ci >= 0) {
                sh->busy[ci] = 1;
                pthread_mutex_unlock(&sh->sched);
                sh->ckpt_seen[ci] = epoch;
                size_t it = atomic_load_explicit(&sh->iter_done[ci], memory_order_relaxed);
                bnn_status st = sh->status[ci] ? BNN_OK : save_chain(sh, ci, it, &sh->errs[ci]);
                if (st != BNN_OK) {
                    sh->status[ci] = st;   /* its next slice does the closing work */
                    atomic_store(&sh->failed, 1);
                }
                pthread_mutex_lock(&sh->sched);
                sh->busy[ci] = 0;
                pthread_mutex_unlock(&sh->sched);
                continue;
            }
        }
        for (int c = 0; c < M; c++) {
            size_t done = atomic_load_explicit(&sh->iter_done[c], memory_order_relaxed);
            if (!sh->busy[c] && !sh->through[c] && done < least) {
                least = done;
                ci = c;
            }
        }
        if (ci >= 0)
            sh->busy[ci] = 1;
        pthread_mutex_unlock(&sh->sched);
        if (ci < 0)
            return;
        size_t upto = sh->target - least > SLICE ? least + SLICE : sh->target;
        int through = run_chain(sh, ci, upto);
        pthread_mutex_lock(&sh->sched);
        sh->busy[ci] = 0;
        sh->through[ci] = (unsigned char)through;
        pthread_mutex_unlock(&sh->sched);
    }
}

/* The per-draw arrays of the output, with their element sizes per draw. */
static size_t draw_arrays(bnn_draws *dr, draw_array *a)
{
    size_t n = 0;
    a[n++] = (draw_array){(void **)&dr->theta, dr->dim * sizeof(double)};
    a[n++] = (draw_array){(void **)&dr->lp, sizeof(double)};
    a[n++] = (draw_array){(void **)&dr->accept_stat, sizeof(double)};
    a[n++] = (draw_array){(void **)&dr->stepsize, sizeof(double)};
    a[n++] = (draw_array){(void **)&dr->energy, sizeof(double)};
    a[n++] = (draw_array){(void **)&dr->treedepth, sizeof(int)};
    a[n++] = (draw_array){(void **)&dr->n_leapfrog, sizeof(int)};
    a[n++] = (draw_array){(void **)&dr->divergent, sizeof(int)};
    a[n++] = (draw_array){(void **)&dr->extra, dr->n_extra * sizeof(double)};
    return n;
}

/* Moves M chains' slices of `keep` elements of `size` bytes from a stride of `from` to a
 * stride of `to` elements, in place (the buffer holds M * max(from, to)). */
static void restride(char *base, size_t size, int M, size_t from, size_t to, size_t keep)
{
    if (from == to || size == 0)
        return;
    if (to > from)
        for (int c = M - 1; c >= 1; c--)
            memmove(base + (size_t)c * to * size, base + (size_t)c * from * size, keep * size);
    else
        for (int c = 1; c < M; c++)
            memmove(base + (size_t)c * to * size, base + (size_t)c * from * size, keep * size);
}

/* Makes room for `cap` draws per chain (the first `keep` of each chain kept). */
static bnn_status grow_draws(run_shared *sh, size_t cap, size_t keep)
{
    bnn_draws *dr = sh->dr;
    draw_array a[16];
    size_t n = draw_arrays(dr, a);
    int M = dr->chains;
    for (size_t i = 0; i < n; i++) {
        size_t bytes = (size_t)M * cap * a[i].size;
        if (a[i].size && bytes / a[i].size / cap != (size_t)M)
            return BNN_ENOMEM;
        void *q = realloc(*a[i].p, bytes + 1);
        if (!q)
            return BNN_ENOMEM;
        *a[i].p = q;
        restride(q, a[i].size, M, sh->stride, cap, keep);
    }
    sh->stride = cap;
    return BNN_OK;
}

/* dr->warmup for save_warmup: room for every warm-up row of every chain. */
static bnn_status alloc_warmup(run_shared *sh, size_t n_extra)
{
    const bnn_run_config *cfg = sh->cfg;
    bnn_draws *w = calloc(1, sizeof *w);
    if (!w)
        return BNN_ENOMEM;
    sh->dr->warmup = w;
    w->chains = sh->M;
    w->dim = sh->d->dim;
    w->n_burn = cfg->n_burn;
    w->thin = cfg->thin;
    w->n_extra = n_extra;
    w->kernel = sh->k;
    w->metric = cfg->metric;
    sh->warm_cap = warm_upto(cfg, cfg->n_burn);
    draw_array a[16];
    size_t n = draw_arrays(w, a);
    for (size_t i = 0; i < n; i++) {
        size_t rows = (size_t)sh->M * sh->warm_cap;
        if (a[i].size && rows > SIZE_MAX / a[i].size - 1)
            return BNN_ENOMEM;
        if (!(*a[i].p = calloc(rows * a[i].size + 1, 1)))
            return BNN_ENOMEM;
    }
    return BNN_OK;
}

/* Packs every chain's first `keep` draws together: the stride becomes keep. */
static void pack_draws(run_shared *sh, size_t keep)
{
    draw_array a[16];
    size_t n = draw_arrays(sh->dr, a);
    for (size_t i = 0; i < n; i++)
        restride(*a[i].p, a[i].size, sh->dr->chains, sh->stride, keep, keep);
    sh->stride = keep;
    sh->dr->n_kept = keep;
}

void bnn_run_config_default(bnn_run_config *c)
{
    memset(c, 0, sizeof *c);
    c->sampler = "nuts";
    c->n_iter = 2000;
    c->n_burn = 1000;
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
    bnn_draws_free(dr->warmup);
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
    free(dr->inv_metric_dense);
    free(dr->accept_rate);
    free(dr->seconds_warmup);
    free(dr->seconds_sampling);
    free(dr->seconds_checkpoint);
    free(dr->n_checkpoints);
    free(dr->start_opt);
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
    if (isinf(c->max_seconds) && c->max_seconds > 0 && !c->converged)
        return bnn_fail(err, BNN_EINVAL, "run: max_seconds INFINITY without converged: the "
                        "rounds would never end");
    if (isnan(c->max_seconds))
        return bnn_fail(err, BNN_EINVAL, "run: max_seconds is NaN");
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
    bnn_status nst = bnn_noise_step_check(k, d, c, err);
    if (nst)
        return nst;
    /* checkpoints to resume from: whole, and of this run, before anything is touched */
    for (int i = 0; c->resume && i < c->chains; i++) {
        bnn_rbuf r;
        ckpt_head h;
        bnn_status hst = c->resume[i] ? check_head(c, d, k, n_columns(k, c), i, &r, &h, err)
                                      : BNN_OK;
        if (hst)
            return hst;
    }
    if (c->init_map && (!(c->optimize.grad_tol >= 0) || !isfinite(c->optimize.grad_tol)))
        return bnn_fail(err, BNN_EINVAL, "run: optimize's grad_tol %g is not a finite number >= 0",
                        c->optimize.grad_tol);
    if (c->checkpoint && (!(c->checkpoint_seconds >= 0) || !isfinite(c->checkpoint_seconds)))
        return bnn_fail(err, BNN_EINVAL, "run: checkpoint_seconds %g is not a finite number >= 0",
                        c->checkpoint_seconds);
    if (c->adapt_stepsize) {
        if (!k->adapts || k->ops->adapt)
            return bnn_fail(err, BNN_EINVAL, "run: %s has no step size and metric to take from "
                            "another run (mala, hmc and nuts have)", k->name);
        if (!c->adapt_inv_metric)
            return bnn_fail(err, BNN_EINVAL, "run: adapt_stepsize without adapt_inv_metric");
        /* tuning again from them is not built: warm-up would start from Stan's defaults */
        if (c->adapt)
            return bnn_fail(err, BNN_EINVAL, "run: adapt_stepsize needs adapt = 0 (the taken "
                            "step size and metric are kept, not tuned further)");
        for (int i = 0; i < c->chains; i++)
            if (!(c->adapt_stepsize[i] > 0) || !isfinite(c->adapt_stepsize[i]))
                return bnn_fail(err, BNN_EINVAL, "run: chain %d's step size %g is not a positive "
                                "number", i + 1, c->adapt_stepsize[i]);
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
    if ((c->chain_lo != 0 || c->chain_hi != 0) &&
        !(c->chain_lo >= 0 && c->chain_lo < c->chain_hi && c->chain_hi <= c->chains))
        return bnn_fail(err, BNN_EINVAL, "run: chains %d..%d are not a range of the run's %d",
                        c->chain_lo + 1, c->chain_hi, c->chains);
    if (c->replica_parts > 1 && !k->ops->splits_replicas)
        return bnn_fail(err, BNN_EINVAL, "run: sampler %s has no replicas to spread over %d "
                        "processes (replica_parts is pt's)", k->name, c->replica_parts);
    if (c->metric != BNN_METRIC_DIAG && c->metric != BNN_METRIC_DENSE)
        return bnn_fail(err, BNN_EINVAL, "run: metric %d is neither diagonal nor dense", (int)c->metric);
    if (c->metric == BNN_METRIC_DENSE && !k->dense_metric)
        return bnn_fail(err, BNN_EINVAL, "run: sampler %s has no dense metric (hmc and nuts "
                        "have)", k->name);
    return BNN_OK;
}

/* Starting points when the caller gives none: Stan's uniform(-2, 2) on the unconstrained
 * scale, from each chain's own stream. */
static double *default_init(const bnn_run_config *cfg, size_t dim)
{
    double *init = malloc((size_t)cfg->chains * dim * sizeof *init + 1);
    if (!init)
        return NULL;
    for (int c = 0; c < cfg->chains; c++) {
        uint64_t s = bnn_chain_seed(cfg->seed, c, 1);
        for (size_t j = 0; j < dim; j++) {
            s = mix64(s);
            init[(size_t)c * dim + j] = -2.0 + 4.0 * (double)(s >> 11) * 0x1.0p-53;
        }
    }
    return init;
}

/* One round: every chain on the pool up to sh->target. Returns the first failure (in err),
 * BNN_EINTR when stopped, else BNN_OK; *all_done is 1 when every chain reached target. */
static bnn_status run_round(run_shared *sh, int *all_done, bnn_error *err)
{
    const bnn_run_config *cfg = sh->cfg;
    int M = sh->M;
    double interval = cfg->progress_interval > 0 ? cfg->progress_interval : 1.0;
    if (cfg->checkpoint && cfg->checkpoint_seconds > 0 &&
        (!cfg->progress || cfg->checkpoint_seconds < interval))
        interval = cfg->checkpoint_seconds;
    memset(sh->busy, 0, (size_t)M);
    memset(sh->through, 0, (size_t)M);
    bnn_pool_run((size_t)(cfg->threads < M ? cfg->threads : M), cfg->threads, run_slices, sh,
                 cfg->progress || cfg->checkpoint ? report : NULL, sh, interval);
    bnn_status st = BNN_OK;
    *all_done = 1;
    for (int c = 0; c < M; c++) {
        if (sh->status[c] && sh->status[c] != BNN_EINTR && !st)
            st = bnn_fail(err, sh->status[c], "run: chain %d failed: %s", sh->lo + c + 1,
                          sh->errs[c].msg[0] ? sh->errs[c].msg : bnn_status_str(sh->status[c]));
        if (atomic_load(&sh->iter_done[c]) < sh->target)
            *all_done = 0;
    }
    if (!st && stop_requested(cfg))
        st = BNN_EINTR;
    return st;
}

bnn_status bnn_run(const bnn_density *d, const bnn_run_config *cfg, bnn_draws **out,
                   bnn_error *err)
{
    *out = NULL;
    bnn_status st = bnn_run_check(d, cfg, err);
    if (st)
        return st;
    const bnn_kernel *k = bnn_kernel_find(cfg->sampler);
    size_t n_extra = n_columns(k, cfg);
    bnn_gsl_setup();
    /* chains are the unit of parallelism: BLAS on one thread inside each while they run,
     * and the caller's setting back at the end */
    int blas_threads = openblas_get_num_threads();
    /* the chains run here: all, or chain_lo .. chain_hi - 1 (checked) */
    int lo = cfg->chain_hi > 0 ? cfg->chain_lo : 0;
    int M = cfg->chain_hi > 0 ? cfg->chain_hi - lo : cfg->chains;
    size_t dim = d->dim;
    int rounds = cfg->max_seconds > 0;
    size_t round_iter = cfg->round_iter ? cfg->round_iter : cfg->n_iter - cfg->n_burn;
    bnn_draws *dr = calloc(1, sizeof *dr);
    run_shared sh = {0};
    double *init = NULL;
    if (!dr)
        return bnn_fail(err, BNN_ENOMEM, "run: out of memory");
    pthread_mutex_init(&sh.sched, NULL);
    sh.dr = dr;
    sh.lo = lo;
    sh.M = M;
    dr->chains = M;
    dr->dim = dim;
    dr->n_burn = cfg->n_burn;
    dr->kernel = k;
    dr->n_extra = n_extra;
    dr->thin = cfg->thin;
    dr->step_final = calloc((size_t)M, sizeof(double));
    dr->inv_metric = calloc((size_t)M * dim, sizeof(double));
    dr->metric = cfg->metric;
    if (cfg->metric == BNN_METRIC_DENSE &&
        !(dr->inv_metric_dense = calloc((size_t)M * dim * dim, sizeof(double)))) {
        st = bnn_fail(err, BNN_ENOMEM, "run: out of memory for %d dense metrics of dimension "
                      "%zu", M, dim);
        goto done;
    }
    dr->adapted = (cfg->n_burn > 0 && cfg->adapt && k->adapts) || cfg->adapt_stepsize;
    dr->accept_rate = calloc((size_t)M, sizeof(double));
    dr->seconds_warmup = calloc((size_t)M, sizeof(double));
    dr->seconds_sampling = calloc((size_t)M, sizeof(double));
    dr->seconds_checkpoint = calloc((size_t)M, sizeof(double));
    dr->n_checkpoints = calloc((size_t)M, sizeof(size_t));
    sh.ch = calloc((size_t)M, sizeof *sh.ch);
    sh.live = calloc((size_t)M, sizeof *sh.live);
    if (cfg->init_map)
        dr->start_opt = calloc((size_t)M, sizeof *dr->start_opt);
    sh.iter_done = calloc((size_t)M, sizeof *sh.iter_done);
    sh.accepted = calloc((size_t)M, sizeof *sh.accepted);
    sh.kept = calloc((size_t)M, sizeof *sh.kept);
    sh.kept_warm = calloc((size_t)M, sizeof *sh.kept_warm);
    sh.acc_post = calloc((size_t)M, sizeof *sh.acc_post);
    sh.prop_post = calloc((size_t)M, sizeof *sh.prop_post);
    sh.status = calloc((size_t)M, sizeof *sh.status);
    sh.errs = calloc((size_t)M, sizeof *sh.errs);
    sh.ckpt_seen = calloc((size_t)M, sizeof *sh.ckpt_seen);
    sh.busy = calloc(2 * (size_t)M, 1);
    sh.through = sh.busy ? sh.busy + M : NULL;
    if (!cfg->init)
        init = default_init(cfg, dim);
    if (!dr->step_final || !dr->inv_metric || !dr->accept_rate || !dr->seconds_warmup ||
        !dr->seconds_sampling || !dr->seconds_checkpoint || !dr->n_checkpoints || !sh.ch || !sh.live || !sh.iter_done || !sh.accepted ||
        !sh.kept || !sh.kept_warm || !sh.acc_post || !sh.prop_post || !sh.status || !sh.errs || !sh.ckpt_seen ||
        !sh.busy || (cfg->init_map && !dr->start_opt) ||
        (!cfg->init && !init) || grow_draws(&sh, kept_upto(cfg, cfg->n_iter), 0) != BNN_OK) {
        st = bnn_fail(err, BNN_ENOMEM, "run: out of memory for %d chains x %zu draws x %zu "
                      "parameters", M, kept_upto(cfg, cfg->n_iter), dim);
        goto done;
    }
    sh.k = k;
    sh.d = d;
    sh.cfg = cfg;
    if (cfg->save_warmup && cfg->n_burn > 0 && alloc_warmup(&sh, n_extra) != BNN_OK) {
        st = bnn_fail(err, BNN_ENOMEM, "run: out of memory for %d chains x %zu warm-up draws",
                      M, warm_upto(cfg, cfg->n_burn));
        goto done;
    }
    sh.init = (cfg->init ? cfg->init : init) + (size_t)lo * dim;
    sh.target = cfg->n_iter;
    double ran = 0;   /* seconds the run had before this resume */
    if (rounds && cfg->resume) {
        size_t t;
        resume_extent(&sh, n_extra, &t, &ran);
        if (t > sh.target && (t - cfg->n_iter) % round_iter == 0) {
            if (grow_draws(&sh, kept_upto(cfg, t), 0) != BNN_OK) {
                st = bnn_fail(err, BNN_ENOMEM, "run: out of memory for %d chains x %zu draws",
                              M, kept_upto(cfg, t));
                goto done;
            }
            dr->rounds = (t - cfg->n_iter) / round_iter;   /* the rounds before this one */
            sh.target = t;
        }
    }
    openblas_set_num_threads(1);
    sh.t0 = bnn_now() - ran;
    sh.ckpt_last = sh.t0;
    if (rounds)
        sh.deadline = sh.t0 + cfg->max_seconds;
    for (;;) {
        int all_done;
        st = run_round(&sh, &all_done, err);
        dr->rounds++;
        size_t keep = sh.kept[0];
        for (int c = 1; c < M; c++)
            keep = sh.kept[c] < keep ? sh.kept[c] : keep;
        pack_draws(&sh, keep);   /* every chain keeps the count they all reached */
        if (st || !all_done || !rounds)
            break;
        int verdict = cfg->converged ? cfg->converged(cfg->converged_user, dr) : 0;
        if (verdict > 0)
            dr->converged = 1;
        if (verdict != 0 || bnn_now() >= sh.deadline)
            break;
        size_t next = sh.target + round_iter;
        if (next < sh.target || grow_draws(&sh, kept_upto(cfg, next), keep) != BNN_OK) {
            st = bnn_fail(err, BNN_ENOMEM, "run: out of memory for %d chains x %zu draws x "
                          "%zu parameters", M, kept_upto(cfg, next), dim);
            break;
        }
        sh.target = next;
    }
    size_t min_iter = SIZE_MAX;
    for (int c = 0; c < M; c++) {
        size_t it = atomic_load(&sh.iter_done[c]);
        min_iter = it < min_iter ? it : min_iter;
    }
    dr->n_iter_done = min_iter;
    if (dr->warmup) {   /* every chain keeps the warm-up rows they all reached */
        size_t w = sh.kept_warm[0];
        for (int c = 1; c < M; c++)
            w = sh.kept_warm[c] < w ? sh.kept_warm[c] : w;
        draw_array a[16];
        size_t n = draw_arrays(dr->warmup, a);
        for (size_t i = 0; i < n; i++)
            restride(*a[i].p, a[i].size, M, sh.warm_cap, w, w);
        dr->warmup->n_kept = w;
    }
    if (st == BNN_EINTR)
        st = bnn_fail(err, BNN_EINTR, "run: stopped after %zu of %zu iterations per chain",
                      min_iter, sh.target);
    else if (!st && !rounds && min_iter < cfg->n_iter)
        st = bnn_fail(err, BNN_EINTR, "run: stopped after %zu of %zu iterations per chain",
                      min_iter, cfg->n_iter);
done:
    openblas_set_num_threads(blas_threads);
    for (int c = 0; sh.live && c < M; c++)
        if (sh.live[c])
            bnn_chain_free(&sh.ch[c]);
    free(init);
    free(sh.ch);
    free(sh.live);
    free(sh.iter_done);
    free(sh.accepted);
    free(sh.kept);
    free(sh.kept_warm);
    free(sh.acc_post);
    free(sh.prop_post);
    free(sh.status);
    free(sh.errs);
    free(sh.ckpt_seen);
    free(sh.busy);
    pthread_mutex_destroy(&sh.sched);
    if (st && st != BNN_EINTR) {
        bnn_draws_free(dr);
        return st;
    }
    *out = dr;
    return st;
}
