/* test_checkpoint.c — checkpoints and resuming (bnn_run_config.checkpoint, .resume): a run
 * that checkpoints makes the draws of one that does not; a run resumed from any of its
 * mid-run checkpoints (warm-up or sampling) makes bitwise the draws of the run never
 * interrupted; a finished run extended by more iterations makes bitwise the draws of a run
 * that asked for them from the start; a checkpoint of another run, or a damaged one, is
 * refused (another seed or setting, a damaged or cut file). For every kernel, the dense metric, the noise step and optimiser starts. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "bnnmc.h"
#include "check.h"
#include "sbc.h"

enum { CHAINS = 3, MAX_SAVES = 4096 };

/* Every checkpoint each chain made, in order. */
typedef struct {
    unsigned char *blob[CHAINS][MAX_SAVES];
    size_t len[CHAINS][MAX_SAVES];
    int n[CHAINS];
} saves;

static bnn_status keep_save(void *user, int chain, const void *bytes, size_t len, bnn_error *err)
{
    saves *s = user;
    if (chain < 0 || chain >= CHAINS || s->n[chain] >= MAX_SAVES)
        return bnn_fail(err, BNN_EINVAL, "test: chain %d or too many checkpoints", chain);
    unsigned char *b = malloc(len);
    if (!b)
        return bnn_fail(err, BNN_ENOMEM, "test: out of memory");
    memcpy(b, bytes, len);
    s->blob[chain][s->n[chain]] = b;
    s->len[chain][s->n[chain]++] = len;
    return BNN_OK;
}

static void saves_free(saves *s)
{
    for (int c = 0; c < CHAINS; c++)
        for (int i = 0; i < s->n[c]; i++)
            free(s->blob[c][i]);
    memset(s, 0, sizeof *s);
}

typedef struct {
    const char *name, *sampler;
    int nn;                    /* the network (else the linear regression) */
    size_t iter, burn;
    const char *set[3];        /* kernel settings */
    double val[3];
    int dense, noise, map, warm;   /* warm: save_warmup, with thin 3 */
} config;

static void config_run(const config *k, bnn_run_config *rc, size_t iter)
{
    bnn_run_config_default(rc);
    rc->sampler = k->sampler;
    rc->n_iter = iter;
    rc->n_burn = k->burn;
    rc->chains = CHAINS;
    rc->threads = 2;
    rc->seed = 11;
    for (int i = 0; i < 3 && k->set[i]; i++)
        bnn_run_config_set(rc, k->set[i], k->val[i]);
    rc->metric = k->dense ? BNN_METRIC_DENSE : BNN_METRIC_DIAG;
    rc->noise_step = k->noise ? BNN_NOISE_STEP_GIBBS : BNN_NOISE_STEP_NONE;
    rc->init_map = k->map;
    rc->save_warmup = k->warm;
    rc->thin = k->warm ? 3 : 1;
}

/* Are two runs' draws (and warm-up rows) bitwise the same? */
static int same_draws(const bnn_draws *a, const bnn_draws *b)
{
    if (!a || !b || a->chains != b->chains || a->dim != b->dim || a->n_kept != b->n_kept ||
        a->n_extra != b->n_extra || !a->warmup != !b->warmup)
        return 0;
    if (a->warmup) {
        bnn_draws wa = *a->warmup, wb = *b->warmup;
        wa.step_final = wb.step_final = a->step_final;   /* not part of warm-up rows */
        wa.inv_metric = wb.inv_metric = a->inv_metric;
        wa.warmup = wb.warmup = NULL;
        if (!same_draws(&wa, &wb))
            return 0;
    }
    size_t s = (size_t)a->chains * a->n_kept;
    return !memcmp(a->theta, b->theta, s * a->dim * sizeof(double)) &&
           !memcmp(a->lp, b->lp, s * sizeof(double)) &&
           !memcmp(a->accept_stat, b->accept_stat, s * sizeof(double)) &&
           !memcmp(a->stepsize, b->stepsize, s * sizeof(double)) &&
           !memcmp(a->energy, b->energy, s * sizeof(double)) &&
           !memcmp(a->treedepth, b->treedepth, s * sizeof(int)) &&
           !memcmp(a->n_leapfrog, b->n_leapfrog, s * sizeof(int)) &&
           !memcmp(a->divergent, b->divergent, s * sizeof(int)) &&
           (!a->n_extra || !memcmp(a->extra, b->extra, s * a->n_extra * sizeof(double))) &&
           !memcmp(a->step_final, b->step_final, (size_t)a->chains * sizeof(double)) &&
           !memcmp(a->inv_metric, b->inv_metric, (size_t)a->chains * a->dim * sizeof(double)) &&
           !a->inv_metric_dense == !b->inv_metric_dense &&
           (!a->inv_metric_dense || !memcmp(a->inv_metric_dense, b->inv_metric_dense,
                                            (size_t)a->chains * a->dim * a->dim * sizeof(double)));
}

static bnn_draws *run(const bnn_density *d, const bnn_run_config *rc, bnn_error *err)
{
    bnn_draws *dr = NULL;
    bnn_status st = bnn_run(d, rc, &dr, err);
    if (st) {
        bnn_draws_free(dr);
        return NULL;
    }
    return dr;
}

/* Resumes every chain from its checkpoint number pick (of n: the first, a middle one). */
static bnn_draws *resume_from(const bnn_density *d, const config *k, saves *s, int which,
                              size_t iter, bnn_error *err)
{
    const void *blob[CHAINS];
    size_t len[CHAINS];
    for (int c = 0; c < CHAINS; c++) {
        int i = which == 0 ? 0 : which == 1 ? (s->n[c] - 1) / 2 : s->n[c] - 1;
        blob[c] = s->blob[c][i];
        len[c] = s->len[c][i];
    }
    bnn_run_config rc;
    config_run(k, &rc, iter);
    rc.resume = blob;
    rc.resume_len = len;
    return run(d, &rc, err);
}

static void test_config(const config *k, const bnn_density *d)
{
    bnn_error err = {0};
    bnn_run_config rc;
    config_run(k, &rc, k->iter);
    bnn_draws *ref = run(d, &rc, &err);
    CHECK(ref, "%s: the reference run failed: %s", k->name, err.msg);

    /* the same run, checkpointing */
    saves *s = calloc(1, sizeof *s);
    config_run(k, &rc, k->iter);
    rc.checkpoint = keep_save;
    rc.checkpoint_user = s;
    rc.checkpoint_iter = k->iter / 7;   /* in warm-up and after: states of every phase */
    bnn_draws *with = run(d, &rc, &err);
    CHECK(with, "%s: the checkpointing run failed: %s", k->name, err.msg);
    CHECK(same_draws(ref, with), "%s: checkpointing changed the draws", k->name);
    if (k->warm) {   /* warm-up rows kept apart: ceil(burn / thin) of them, draws unchanged */
        config warmless = *k;
        warmless.warm = 0;
        config_run(&warmless, &rc, k->iter);
        rc.thin = 3;
        bnn_draws *plain = run(d, &rc, &err);
        CHECK(ref && ref->warmup && ref->warmup->n_kept == (k->burn + 2) / 3 && plain &&
              !plain->warmup && plain->n_kept == ref->n_kept &&
              !memcmp(plain->theta, ref->theta, ref->n_kept * ref->dim * CHAINS * sizeof(double)),
              "%s: save_warmup: %zu warm-up rows (want %zu), or the draws changed", k->name,
              ref && ref->warmup ? ref->warmup->n_kept : 0, (k->burn + 2) / 3);
        bnn_draws_free(plain);
    }
    int fewest = MAX_SAVES;
    for (int c = 0; c < CHAINS; c++)
        fewest = s->n[c] < fewest ? s->n[c] : fewest;
    /* at least one checkpoint before the final one, so that a mid-run state is tested */
    CHECK(fewest >= 2, "%s: only %d checkpoints in a chain", k->name, fewest);

    for (int which = 0; which < 3 && fewest >= 2; which++) {
        bnn_draws *res = resume_from(d, k, s, which, k->iter, &err);
        CHECK(res, "%s: resume %d failed: %s", k->name, which, err.msg);
        CHECK(same_draws(ref, res), "%s: resumed from checkpoint %s, the draws differ", k->name,
              which == 0 ? "first" : which == 1 ? "middle" : "final");
        bnn_draws_free(res);
    }

    /* extend: the finished run's final checkpoints and 40% more iterations, against a run
     * that asked for them from the start */
    size_t more = k->iter + (k->iter - k->burn) * 2 / 5;
    config_run(k, &rc, more);
    bnn_draws *longer = run(d, &rc, &err);
    bnn_draws *ext = fewest >= 1 ? resume_from(d, k, s, 2, more, &err) : NULL;
    CHECK(ext && same_draws(longer, ext), "%s: extending differs from the longer run (%s)",
          k->name, ext ? "draws" : err.msg);
    bnn_draws_free(longer);
    bnn_draws_free(ext);

    /* refusals: another seed, a damaged checkpoint, fewer iterations than it has done */
    if (fewest >= 2) {
        const void *blob[CHAINS];
        size_t len[CHAINS];
        for (int c = 0; c < CHAINS; c++) {
            blob[c] = s->blob[c][s->n[c] - 1];
            len[c] = s->len[c][s->n[c] - 1];
        }
        config_run(k, &rc, k->iter);
        rc.resume = blob;
        rc.resume_len = len;
        rc.seed = 12;
        bnn_draws *bad = run(d, &rc, &err);
        CHECK(!bad && strstr(err.msg, "another run"), "%s: another seed's checkpoint: %s",
              k->name, bad ? "accepted" : err.msg);
        bnn_draws_free(bad);
        rc.seed = 11;
        len[1] -= 3;
        bad = run(d, &rc, &err);
        CHECK(!bad && strstr(err.msg, "chain 2"), "%s: a cut checkpoint: %s", k->name,
              bad ? "accepted" : err.msg);
        bnn_draws_free(bad);
        len[1] += 3;
        unsigned char *flip = malloc(len[0]);
        memcpy(flip, blob[0], len[0]);
        flip[len[0] / 2] ^= 0x10;
        blob[0] = flip;
        bad = run(d, &rc, &err);
        CHECK(!bad && strstr(err.msg, "damaged"), "%s: a damaged checkpoint: %s", k->name,
              bad ? "accepted" : err.msg);
        bnn_draws_free(bad);
        blob[0] = s->blob[0][s->n[0] - 1];
        free(flip);
        rc.target_accept = 0.9;
        bad = run(d, &rc, &err);
        CHECK(!bad && strstr(err.msg, "other settings"), "%s: other settings: %s", k->name,
              bad ? "accepted" : err.msg);
        bnn_draws_free(bad);
        config_run(k, &rc, k->burn + 1);
        rc.resume = blob;
        rc.resume_len = len;
        bad = run(d, &rc, &err);
        CHECK(!bad && strstr(err.msg, "do not fit"), "%s: fewer iterations than done: %s",
              k->name, bad ? "accepted" : err.msg);
        bnn_draws_free(bad);
    }
    printf("%-14s checkpoints per chain >= %d: resumed and extended runs bitwise equal\n",
           k->name, fewest);
    saves_free(s);
    free(s);
    bnn_draws_free(ref);
    bnn_draws_free(with);
}

int main(void)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 5);
    double w[2] = {0.6, -0.3};
    bnn_table *t = regression_data(r, 40, w, 0.2, 0.3);
    for (size_t i = 0; i < t->n; i++)   /* the network's sigmoid output: targets in (0, 1) */
        t->y[i] = 1.0 / (1.0 + exp(-t->y[i]));
    gsl_rng_free(r);
    bnn_model_spec ls, ns;
    bnn_model_spec_study(&ls, 0, BNN_TASK_REGRESSION, 2, 0);
    bnn_model_spec_study(&ns, 1, BNN_TASK_REGRESSION, 2, 0);
    ns.hidden[0] = 3;
    bnn_model *lin = NULL, *net = NULL;
    bnn_model_new(&lin, &ls, t, NULL);
    bnn_model_new(&net, &ns, t, NULL);
    CHECK(lin && net, "models");
    if (!lin || !net)
        return check_done("test_checkpoint");
    bnn_density dl = bnn_model_density(lin), dn = bnn_model_density(net);
    const config cf[] = {
        {"rw", "rw", 1, 4000, 2000, {0}, {0}, 0, 0, 0, 0},
        {"langevin", "langevin", 1, 3000, 1500, {0}, {0}, 0, 0, 0, 0},
        {"mala", "mala", 1, 3000, 1500, {0}, {0}, 0, 0, 0, 0},
        {"hmc", "hmc", 1, 600, 300, {"int_time"}, {1.0}, 0, 0, 0, 0},
        {"nuts", "nuts", 1, 600, 300, {0}, {0}, 0, 0, 0, 0},
        {"nuts dense", "nuts", 1, 600, 300, {0}, {0}, 1, 0, 0, 0},
        {"nuts noise", "nuts", 1, 600, 300, {0}, {0}, 0, 1, 0, 0},
        {"nuts map", "nuts", 1, 600, 300, {0}, {0}, 0, 0, 1, 0},
        {"gibbs", "gibbs", 0, 20000, 1000, {0}, {0}, 0, 0, 0, 0},
        {"slice", "slice", 1, 1500, 750, {0}, {0}, 0, 0, 0, 0},
        {"pt nuts", "pt", 1, 300, 150, {"replicas", "max_depth"}, {3, 6}, 0, 0, 0, 0},
        {"pt langevin", "pt", 1, 1500, 750, {"replicas", "base"}, {3, 1}, 0, 0, 0, 0},
        {"nuts warm-up", "nuts", 1, 600, 300, {0}, {0}, 0, 0, 0, 1},
        /* at a constant step: extending a cyclical run goes on in cycles of the first
         * ones' length, not the longer run's plan (test_sg checks that) */
        {"sgld", "sgld", 1, 3000, 1500, {"batch", "cycles"}, {10, 0}, 0, 0, 0, 0},
        {"sghmc", "sghmc", 1, 3000, 1500, {"batch", "cycles"}, {10, 0}, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof cf / sizeof cf[0]; i++)
        test_config(&cf[i], cf[i].nn ? &dn : &dl);
    bnn_model_free(lin);
    bnn_model_free(net);
    bnn_table_free(t);
    return check_done("test_checkpoint");
}
