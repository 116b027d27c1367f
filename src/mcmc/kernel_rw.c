/* kernel_rw.c — random-walk Metropolis-Hastings: theta' = theta + N(0, diag(scale^2)), the
 * weights' scale `step`, the other coordinates' (eta = log tau^2) `step_eta`. */
#include "kernel.h"

enum { STEP, STEP_ETA };

static const bnn_option options[] = {
    [STEP] = {"step", BNN_OPT_POSITIVE, 0.025, 0, 0, "random-walk sd of the weights"},
    [STEP_ETA] = {"step_eta", BNN_OPT_POSITIVE, 0.2, 0, 0,
                  "random-walk sd of eta = log tau^2 (and any other scale parameter)"},
    {0}};

typedef struct {
    double *prop, *scale;
} rw_state;

static bnn_status rw_init(bnn_chain *c, bnn_error *err)
{
    double *v;
    rw_state *s = bnn_chain_state(c, sizeof *s, 2, &v, err);
    if (!s)
        return BNN_ENOMEM;
    s->prop = v;
    s->scale = v + c->d->dim;
    bnn_rw_scale(c, s->scale, c->opt[STEP], c->opt[STEP_ETA]);
    return BNN_OK;
}

static int rw_step(bnn_chain *c, bnn_step_info *info)
{
    rw_state *s = c->state;
    double accept_stat;
    int moved = bnn_rw_move(c, &s->prop, s->scale, &accept_stat);
    bnn_step_info_plain(info, accept_stat, c->opt[STEP], c->lp);
    return moved;
}

static const bnn_kernel_ops ops = {.init = rw_init, .step = rw_step};

const bnn_kernel bnn_kernel_rw = {
    .name = "rw",
    .help = "random-walk Metropolis-Hastings",
    .algorithm = "rw",
    .engine = "rw",
    .options = options,
    .ops = &ops,
};
