/* kernel.h — what a transition kernel is to the chain that runs it (internal).
 *
 * A kernel is one file (kernel_NAME.c) defining a `const bnn_kernel bnn_kernel_NAME` and its
 * ops, plus one line in registry.c. The chain driver (chain.c, run.c) names no kernel: it
 * resolves the kernel's settings, calls its ops and, for a kernel with `adapts`, tunes the
 * step size and metric in burn-in (adapt.c). Kernels use only this header, the density,
 * and the shared move code (metropolis.c, hamiltonian.h); never each other, never a model.
 */
#ifndef BNNMC_KERNEL_H
#define BNNMC_KERNEL_H

#include <gsl/gsl_rng.h>

#include "../core/core.h"

enum {
    BNN_MAX_OPTIONS = 8,      /* settings of one kernel */
    BNN_MAX_COLUMNS = 32      /* a kernel's own sampler columns (pt: one per replica pair) */
};

/* What one transition reports: CmdStan's sampler columns, then the kernel's own. */
typedef struct {
    double accept_stat, stepsize, energy;
    int treedepth, n_leapfrog, divergent;
    double extra[BNN_MAX_COLUMNS];
} bnn_step_info;

/* Step-size adaptation by dual averaging (Nesterov; Hoffman & Gelman 2014), Stan's
 * constants. */
typedef struct {
    double mu, s_bar, x_bar, counter;
    double delta;            /* target mean acceptance */
} bnn_dual_avg;

/* Stan's windowed estimation of the inverse metric: an initial fast buffer, slow windows
 * that double, a terminal fast buffer; Welford's running variance (diagonal metric) or
 * covariance (dense: m2 is then dim x dim) in a window. */
typedef struct {
    int on;
    size_t n_warmup, init_buffer, term_buffer, base_window;
    size_t counter, window_size, next_window;
    size_t n;                /* draws in the current window */
    double *mean, *m2;       /* dim each */
} bnn_var_adapt;

typedef struct bnn_chain bnn_chain;

/* Bytes being written (a checkpoint: checkpoint.c), growing as needed; oom is set, and
 * later puts do nothing, when memory runs out. */
typedef struct {
    unsigned char *p;
    size_t len, cap;
    int oom;
} bnn_wbuf;
/* Bytes being read back; bad is set, and later gets fail, once a get would pass the end. */
typedef struct {
    const unsigned char *p;
    size_t len, pos;
    int bad;
} bnn_rbuf;
void bnn_wbuf_put(bnn_wbuf *b, const void *x, size_t n);
/* 0, or -1 (and r->bad) when fewer than n bytes are left. */
int bnn_rbuf_get(bnn_rbuf *r, void *x, size_t n);

/* How phase space moves under the chain's metric (hamiltonian.h): diagonal or dense,
 * chosen once when the chain starts, so a leapfrog step never asks which. */
typedef struct bnn_phase_ops bnn_phase_ops;

/* The kernel's behaviour. Every function but step may be NULL. */
struct bnn_kernel_ops {
    /* Can the kernel sample d under cfg? (A setting's range is checked by the driver.) */
    bnn_status (*check)(const bnn_density *d, const bnn_run_config *cfg, bnn_error *err);
    /* Sets up the kernel's state (bnn_chain_state) after the chain's common state is set. */
    bnn_status (*init)(bnn_chain *c, bnn_error *err);
    /* One transition from c->theta (and c->lp); returns 1 when the state moved. */
    int (*step)(bnn_chain *c, bnn_step_info *info);
    /* Releases what the state holds besides its own block (the chain frees the block). */
    void (*free)(bnn_chain *c);
    /* The state was set from outside (bnn_chain_set_state, pt's exchanges): forget what the
     * kernel caches of the old one besides c->grad (langevin's drift). */
    void (*reset)(bnn_chain *c);
    /* Replaces the driver's tuning in burn-in (bnn_chain_adapt calls it instead of its own,
     * whether or not the kernel `adapts`): pt tunes its replicas' chains and its ladder. */
    bnn_status (*adapt)(bnn_chain *c, size_t it, const bnn_step_info *info, bnn_error *err);
    /* A checkpoint (checkpoint.c): what the kernel keeps across transitions besides the
     * chain's common state and caches that reset drops (pt: its ladder and replicas), put
     * after that state; load reads it back into a chain that init set up (and may fail on
     * bytes that do not fit). NULL for a kernel that keeps nothing more. */
    void (*save)(const bnn_chain *c, bnn_wbuf *b);
    bnn_status (*load)(bnn_chain *c, bnn_rbuf *r, bnn_error *err);
    /* How many of its columns a run under cfg writes (pt: replicas - 1); NULL: all. */
    size_t (*n_columns)(const bnn_run_config *cfg);
    /* Stan's step-size search (hmc, nuts): run at the start of warm-up and after every
     * metric window; fails when no step size works. */
    int search_stepsize;
    /* when not 0, a terminal buffer of at least warm-up / term_buffer_div iterations, where
     * it fits (mala, 5: the step size's last tuning after the final metric; its acceptance
     * is far more sensitive to the step than NUTS's, and Stan's 50 iterations left it at a
     * fifth of its target) */
    size_t term_buffer_div;
    /* takes bnn_run_config.replica_parts > 1 (pt: its replicas over processes); the run
     * refuses it for any other kernel */
    int splits_replicas;
};

/* Everything one chain owns. Buffers are allocated once by bnn_chain_init, so a step
 * allocates nothing. */
struct bnn_chain {
    const bnn_density *d;
    const bnn_run_config *cfg;
    const bnn_kernel *k;
    double opt[BNN_MAX_OPTIONS];   /* the kernel's settings, in its table's order */
    gsl_rng *rng;
    double *work;            /* the density's scratch */
    double *buf;             /* backing store of the vectors below */
    double *theta;           /* the state */
    double lp;               /* log density at theta */
    double *grad;            /* grad log p(theta) when grad_valid (gradient kernels) */
    int grad_valid;
    /* adaptive kernels: step size, inverse metric and their tuning. inv_metric is the
     * diagonal; with a dense metric (cfg->metric) inv_metric_dense is the whole matrix
     * (dim x dim, row-major, symmetric), metric_chol its Cholesky factor L (lower
     * triangle; M^-1 = L L') and metric_tmp a vector of scratch; NULL otherwise. */
    double eps;
    double *inv_metric;
    const bnn_phase_ops *phase;
    double *inv_metric_dense, *metric_chol, *metric_tmp;
    bnn_dual_avg da;
    bnn_var_adapt va;
    int adapting;
    void *search;            /* the step-size search's scratch point (adapt.c) */
    int restoring;           /* set up for bnn_chain_load: no step-size search at init */
    void *state;             /* the kernel's own */
};

/* Fails with the reason in err (which may be NULL): the kernel cannot sample d, out of
 * memory, a non-finite start, or Stan's step-size search failed. */
bnn_status bnn_chain_init(bnn_chain *c, const bnn_kernel *k, const bnn_density *d,
                          const bnn_run_config *cfg, unsigned long seed, const double *theta0,
                          bnn_error *err);
/* As bnn_chain_init, for a chain that bnn_chain_load then gives a saved state: without
 * Stan's step-size search and the start's check (the saved state replaces both, and a
 * search at the saved point could fail where the saved chain would have gone on). */
bnn_status bnn_chain_init_restore(bnn_chain *c, const bnn_kernel *k, const bnn_density *d,
                                  const bnn_run_config *cfg, const double *theta0,
                                  bnn_error *err);
void bnn_chain_free(bnn_chain *c);
/* Sets the step size and the inverse metric (dim values, or dim x dim with a dense metric,
 * whose Cholesky factor is taken: it fails when not positive definite). */
bnn_status bnn_chain_set_tuning(bnn_chain *c, double eps, const double *inv_metric,
                                bnn_error *err);
/* One iteration; returns 1 if the state moved (a proposal was accepted). */
int bnn_chain_step(bnn_chain *c, bnn_step_info *info);
/* Moves the chain to theta, whose log density is lp (known to the caller, pt's exchanges):
 * the cached gradient and whatever else the kernel caches of the old state are dropped. */
void bnn_chain_set_state(bnn_chain *c, const double *theta, double lp);
/* The kernel's state, for its init: bytes (its struct, zeroed) and then nvec vectors of the
 * chain's dimension in one block, the first at *vecs; set as c->state and freed by
 * bnn_chain_free. NULL, with err set, when out of memory. */
void *bnn_chain_state(bnn_chain *c, size_t bytes, size_t nvec, double **vecs, bnn_error *err);

/* checkpoint.c: a chain's whole state (its settings, random stream, position, log density,
 * gradient cache, step size, metric, their tuning, then the kernel's save op) into b; and
 * back into a chain that bnn_chain_init_restore set up with the same kernel, density and
 * settings (others are refused), after which its transitions are bitwise those the saved
 * chain would have made. */
void bnn_chain_save(const bnn_chain *c, bnn_wbuf *b);
bnn_status bnn_chain_load(bnn_chain *c, bnn_rbuf *r, bnn_error *err);
/* The position in a saved chain state that r is at (n values): 0, or -1 when it is none. */
int bnn_chain_saved_theta(bnn_rbuf r, size_t n, double *theta);

/* The noise step (bnn_run_config.noise_step): can it run with kernel k on d? (The run's
 * check and bnn_chain_init ask.) */
bnn_status bnn_noise_step_check(const bnn_kernel *k, const bnn_density *d,
                                const bnn_run_config *cfg, bnn_error *err);
/* Draws eta = log tau^2 at the density's noise coordinate from its exact conditional given
 * the others, tau^2 ~ inverse-gamma(nu1 + n/2, nu2 + SSE/2), into c->theta; c->lp and the
 * gradient cache are the caller's to refresh. Shared by the gibbs kernel and the noise
 * step. Where the conditional is not a proper inverse gamma (SSE not finite, or a rate
 * nu2 + SSE/2 that is not > 0) eta is left as it is. */
void bnn_noise_draw(bnn_chain *c);

/* adapt.c: sets up the tuning of an adaptive kernel's chain (Stan's step-size search
 * included); after iteration it (0-based) of burn-in, adapts step size and metric. Both
 * fail (reason in err) when the step-size search fails or, after a window, when the
 * metric's estimate overflows. */
bnn_status bnn_adapt_init(bnn_chain *c, bnn_error *err);
bnn_status bnn_chain_adapt(bnn_chain *c, size_t it, const bnn_step_info *info, bnn_error *err);

/* metropolis.c: accepts with probability min(1, exp(log_alpha)), NaN counting as a
 * rejection; writes that probability to accept_stat; returns 1 when accepted. */
int bnn_metropolis(gsl_rng *rng, double log_alpha, double *accept_stat);
/* A random-walk Metropolis move: prop = theta + scale .* N(0, I), accepted by the density
 * ratio; on acceptance theta and prop exchange buffers and c->lp is updated. 1 if moved. */
int bnn_rw_move(bnn_chain *c, double **prop, const double *scale, double *accept_stat);
/* Per-coordinate random-walk scales: step for the density's weights, step_eta for the rest. */
void bnn_rw_scale(const bnn_chain *c, double *scale, double step, double step_eta);
/* The CmdStan columns of a kernel without trees: step as stepsize__, one "leapfrog", no
 * divergence, energy -lp. */
void bnn_step_info_plain(bnn_step_info *info, double accept_stat, double step, double lp);

/* kernel_pt.c: the probability that replicas at inverse temperatures beta_i and beta_j,
 * whose states have log likelihoods l_i and l_j, exchange states: min(1, exp((beta_i -
 * beta_j)(l_j - l_i))), 0 for NaN (a state outside the support). The tests check it. */
double bnn_pt_swap_prob(double beta_i, double beta_j, double l_i, double l_j);

/* Exchanges two state buffers (an accepted proposal becomes the state without a copy). */
static inline void bnn_swap(double **a, double **b)
{
    double *t = *a;
    *a = *b;
    *b = t;
}

#endif
