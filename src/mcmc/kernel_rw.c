/* kernel_rw.c — random-walk Metropolis-Hastings: theta' = theta + N(0, diag(scale^2)), the
 * weights' scale `step`, the other coordinates' (eta = log tau^2) `step_eta`. */
#include <stdlib.h>

#include "kernel.h"

enum { STEP, STEP_ETA };

static const bnn_option options[] = {
    [STEP] = {"step", BNN_OPT_POSITIVE, 0.025, 0, 0, "random-walk sd of the weights"},
    [STEP_ETA] = {"step_eta", BNN_OPT_POSITIVE, 0.2, 0, 0,
                  "random-walk sd of eta = log tau^2 (and any other scale parameter)"},
    {0}};

typedef struct {
    double *prop, *scale;
    double *block;
} rw_state;

static bnn_status rw_init(bnn_chain *c, bnn_error *err)
{
    size_t n = c->d->dim;
    rw_state *s = calloc(1, sizeof *s);
    if (!s || !(s->block = malloc(2 * n * sizeof(double)))) {
        free(s);
        return bnn_fail(err, BNN_ENOMEM, "out of memory for a chain of dimension %zu", n);
    }
    s->prop = s->block;
    s->scale = s->block + n;
    for (size_t j = 0; j < n; j++)
        s->scale[j] = j < c->d->n_weights ? c->opt[STEP] : c->opt[STEP_ETA];
    c->state = s;
    return BNN_OK;
}

static void rw_free(bnn_chain *c)
{
    rw_state *s = c->state;
    if (s)
        free(s->block);
    free(s);
    c->state = NULL;
}

static int rw_step(bnn_chain *c, bnn_step_info *info)
{
    rw_state *s = c->state;
    double accept_stat;
    int moved = bnn_rw_move(c, &s->prop, s->scale, &accept_stat);
    bnn_step_info_plain(info, accept_stat, c->opt[STEP], c->lp);
    return moved;
}

static const bnn_kernel_ops ops = {.init = rw_init, .step = rw_step, .free = rw_free};

const bnn_kernel bnn_kernel_rw = {
    .name = "rw",
    .help = "random-walk Metropolis-Hastings",
    .algorithm = "rw",
    .engine = "rw",
    .options = options,
    .ops = &ops,
};
