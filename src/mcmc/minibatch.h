/* minibatch.h — what the minibatch kernels (kernel_sgld.c, kernel_sghmc.c) share
 * (minibatch.c): the cyclical step schedule, the shuffled epochs of rows, and the state and
 * checks common to both. Internal; the tests check the schedule through it.
 *
 * The plan. Burn-in: n_burn iterations at the constant step, with noise. Then the run's
 * S = n_iter - n_burn sampling iterations, each one kept draw (before thinning), are spread
 * over exactly M cycles (Zhang et al. 2020, "Cyclical SG-MCMC"): cycle m (0-based) has
 * s_m = floor(S/M) + (m < S mod M) of them, so the counts sum to S and differ by at most
 * one. Before its sampling stage each cycle has an exploration stage of
 *     E_m = floor(s_m R / (10^6 - R))   (R = explore in millionths, integer arithmetic)
 * noise-free updates, the largest count whose share E/(E + s) of the cycle does not exceed
 * explore. The cycle's L_m = E_m + s_m updates take the cosine steps
 *     step_j = step0 (cos(pi j / L_m) + 1) / 2,   j = 0 .. L_m - 1,
 * j < E_m exploring, j >= E_m sampling. The exploration updates make no draw: they run in
 * the iteration of the cycle's first sampling update, before it (that iteration's
 * n_leapfrog__ counts them). Iterations past the plan (a run extended, or in rounds) go on
 * in cycles of floor(S/M) sampling iterations. With M = 0 there are no cycles: every
 * iteration is a sampling update at the constant step, as Welling & Teh's SGLD with a
 * fixed step. */
#ifndef BNNMC_MINIBATCH_H
#define BNNMC_MINIBATCH_H

#include <stdint.h>

#include "kernel.h"

typedef struct {
    size_t n_burn;           /* burn-in iterations: constant step, with noise */
    size_t S;                /* sampling iterations the cycles share */
    size_t M;                /* cycles; 0: none */
    uint64_t explore_ppm;    /* the exploration share, in millionths (< 10^6) */
} bnn_sg_plan;

/* The plan of a run of n_iter iterations of which n_burn burn-in, with cycles M and
 * explore share; explore is read to the nearest millionth. */
void bnn_sg_plan_make(bnn_sg_plan *p, size_t n_iter, size_t n_burn, size_t cycles,
                      double explore);

/* E for a cycle of s sampling updates: floor(s R / (10^6 - R)). */
size_t bnn_sg_explore_count(size_t s, uint64_t explore_ppm);

/* (cos(pi j / L) + 1) / 2: the cosine schedule's factor at update j of a cycle of L. */
double bnn_sg_cosine(size_t j, size_t L);

/* Where iteration k (0-based, burn-in included) falls. */
typedef struct {
    int cyclic;              /* 0: burn-in or no cycles (factor 1, nothing to explore) */
    size_t cycle;            /* m */
    size_t index;            /* the iteration's place in its cycle's sampling stage */
    size_t n_sample, n_explore;   /* s_m and E_m */
    size_t explore_now;      /* exploration updates to run before this one (E_m at the
                                stage's first iteration, else 0) */
    double factor;           /* the sampling update's step factor */
} bnn_sg_where;
void bnn_sg_locate(const bnn_sg_plan *p, size_t k, bnn_sg_where *w);

/* Shuffled epochs: B rows at a time from a permutation of 0..n-1 drawn with the chain's own
 * stream, a new permutation when fewer than B rows are left (the last n mod B of an epoch
 * wait for a later one), so every row is used equally often and a chain is reproducible
 * bitwise. */
typedef struct {
    size_t n, B, pos;
    size_t *perm;
} bnn_sg_batches;

/* The state both kernels keep: the plan, the batches and their scratch, the kernel's own
 * count of iterations (the schedule's clock), spare vectors. */
typedef struct {
    bnn_sg_plan plan;
    bnn_sg_batches mb;
    double *batch_work;      /* B * d->batch_work doubles */
    size_t k;                /* iterations made */
    double step0;            /* the step at factor 1: the kernel's setting, or its default
                                for the data's rows */
    double *prop, *gprop;   /* dim each */
    double *v;               /* sghmc: the momentum (dim); NULL for sgld */
    int evals, refused;      /* this iteration's batch evaluations and refused updates */
} bnn_sg_state;

/* The kernels' options, by name, in both tables. */
enum { SG_OPT_BATCH = 0, SG_OPT_CYCLES = 1, SG_OPT_EXPLORE = 2 };
/* Those three entries of an option table, written once for both kernels */
#define SG_SHARED_OPTIONS                                                                  \
    {"batch", BNN_OPT_INT, 100, 1, 1e9, "rows per minibatch", NULL},                        \
    {"cycles", BNN_OPT_INT, 4, 0, 1e6, "cycles of the cosine step schedule after burn-in "  \
     "(0: a constant step)", NULL},                                                         \
    {"explore", BNN_OPT_REAL, 0.25, 0, 0.99, "largest share of each cycle spent on "        \
     "noise-free exploration updates that make no draw (rounded down)", NULL}

/* check op: the density has a batch form, the batch fits the rows, the plan its cycles. */
bnn_status bnn_sg_check(const bnn_density *d, const bnn_run_config *cfg, const char *name,
                        bnn_error *err);
/* init op's common part: the state, with a momentum for sghmc, step0 the step at factor 1. */
bnn_status bnn_sg_init(bnn_chain *c, int with_momentum, double step0, bnn_error *err);
void bnn_sg_free(bnn_chain *c);
void bnn_sg_save(const bnn_chain *c, bnn_wbuf *b);
bnn_status bnn_sg_load(bnn_chain *c, bnn_rbuf *r, bnn_error *err);

/* Estimates log p and its gradient at theta on the next batch, into *lp and grad; counts
 * the evaluation. 1 when both are finite, else 0. */
int bnn_sg_eval(bnn_chain *c, const double *theta, double *lp, double *grad);

/* Makes sure c->grad holds a finite batch gradient at c->theta (c->lp the batch's estimate
 * of log p there), evaluating a fresh batch when it does not; 0 when that fails too. */
int bnn_sg_ready(bnn_chain *c);

/* The step's report: accept_stat 1 when the sampling update moved (0 when refused),
 * the sampling update's step, n_leapfrog the batch evaluations, divergent 1 when any update
 * of the iteration was refused, energy -lp (the batch estimate). */
void bnn_sg_info(bnn_chain *c, bnn_step_info *info, int moved, double step);

#endif
