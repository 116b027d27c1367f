/* kernel_nuts.c — the No-U-Turn sampler as Stan's base_nuts, with a diagonal or dense metric.
 *
 * The trajectory doubles forward or backward at random; a subtree's draw is chosen by
 * multinomial weights exp(-H); the generalised no-U-turn criterion p_sharp(-) . rho > 0 and
 * p_sharp(+) . rho > 0 is checked across every merged subtree and across the joins between
 * subtrees (Stan 2.21 and later: before each extension the momenta at the trajectory's old
 * far end become the inner end of the new side, so the stopping rule does not depend on
 * where the start point sits in the tree, which detailed balance needs); an energy error
 * above 1000 is a divergence and ends the doubling. Phase space: hamiltonian.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "hamiltonian.h"

enum { MAX_DEPTH };

static const bnn_option options[] = {
    [MAX_DEPTH] = {"max_depth", BNN_OPT_INT, 10, 1, 20, "tree depth limit (2^D - 1 leapfrog steps at most)"},
    {0}};

enum { MAX_DEPTH_LIMIT = 20 };   /* max_depth's upper bound in the table */

typedef struct {
    double *p_sharp_init_end, *p_init_end, *rho_init;
    double *p_final_beg, *p_sharp_final_beg, *rho_final, *rho_ext;
    ps_point z_propose_final;
} tree_level;


typedef struct {
    size_t dim;
    int max_depth;
    ps_point z, z_fwd, z_bck, z_sample, z_propose;
    double *p_fwd_fwd, *p_sharp_fwd_fwd, *p_fwd_bck, *p_sharp_fwd_bck;
    double *p_bck_fwd, *p_sharp_bck_fwd, *p_bck_bck, *p_sharp_bck_bck;
    double *rho, *rho_fwd, *rho_bck, *rho_ext;
    tree_level level[MAX_DEPTH_LIMIT + 1];
    int n_leapfrog, divergent;
    double sum_metro_prob, H0;
} nuts_state;

static bnn_status nuts_init(bnn_chain *c, bnn_error *err)
{
    size_t n = c->d->dim;
    int D = (int)c->opt[MAX_DEPTH];
    if (D < 1 || D > MAX_DEPTH_LIMIT)   /* bnn_run_check refuses these; level[] holds 21 */
        return bnn_fail(err, BNN_EINVAL, "nuts: max_depth %d is not in 1..%d", D, MAX_DEPTH_LIMIT);
    /* 5 points x 3 vectors + 12 vectors, and per level 7 vectors + a point of 3 */
    size_t nvec = 5 * 3 + 12 + (size_t)(D + 1) * 10;
    double *b;
    nuts_state *w = bnn_chain_state(c, sizeof *w, nvec, &b, err);
    if (!w)
        return BNN_ENOMEM;
    ps_point *pts[5] = {&w->z, &w->z_fwd, &w->z_bck, &w->z_sample, &w->z_propose};
    for (int k = 0; k < 5; k++)
        ps_point_take(pts[k], &b, n);
    double **vecs[12] = {&w->p_fwd_fwd, &w->p_sharp_fwd_fwd, &w->p_fwd_bck, &w->p_sharp_fwd_bck,
                         &w->p_bck_fwd, &w->p_sharp_bck_fwd, &w->p_bck_bck, &w->p_sharp_bck_bck,
                         &w->rho, &w->rho_fwd, &w->rho_bck, &w->rho_ext};
    for (int k = 0; k < 12; k++, b += n)
        *vecs[k] = b;
    for (int l = 0; l <= D; l++) {
        tree_level *t = &w->level[l];
        double **lv[7] = {&t->p_sharp_init_end, &t->p_init_end, &t->rho_init, &t->p_final_beg,
                          &t->p_sharp_final_beg, &t->rho_final, &t->rho_ext};
        for (int k = 0; k < 7; k++, b += n)
            *lv[k] = b;
        ps_point_take(&t->z_propose_final, &b, n);
    }
    w->dim = n;
    w->max_depth = D;
    return BNN_OK;
}

static int criterion(const double *p_sharp_minus, const double *p_sharp_plus, const double *rho,
                     size_t n)
{
    return bnn_dot(p_sharp_plus, rho, n) > 0 && bnn_dot(p_sharp_minus, rho, n) > 0;
}

/* Stan's build_tree: extends the trajectory by 2^depth leapfrog steps from w->z in
 * direction sign; returns 0 when the subtree is invalid (U-turn or divergence). */
static int build_tree(bnn_chain *c, int depth, ps_point *z_propose, double *p_sharp_beg,
                      double *p_sharp_end, double *rho, double *p_beg, double *p_end,
                      double sign, double *log_sum_weight)
{
    nuts_state *w = c->state;
    size_t n = w->dim;
    if (depth == 0) {
        ps_leapfrog(c, &w->z, sign * c->eps);
        w->n_leapfrog++;
        double h = ps_hamiltonian(c, &w->z);
        if (h - w->H0 > MAX_DELTA_H)
            w->divergent = 1;
        *log_sum_weight = bnn_log_sum_exp(*log_sum_weight, w->H0 - h);
        w->sum_metro_prob += w->H0 - h > 0 ? 1.0 : exp(w->H0 - h);
        ps_point_copy(z_propose, &w->z, n);
        ps_p_sharp(c, w->z.p, p_sharp_beg);
        memcpy(p_sharp_end, p_sharp_beg, n * sizeof(double));
        for (size_t j = 0; j < n; j++)
            rho[j] += w->z.p[j];
        memcpy(p_beg, w->z.p, n * sizeof(double));
        memcpy(p_end, p_beg, n * sizeof(double));
        return !w->divergent;
    }
    tree_level *t = &w->level[depth];
    /* the initial subtree */
    double log_sum_weight_init = -INFINITY;
    memset(t->rho_init, 0, n * sizeof(double));
    if (!build_tree(c, depth - 1, z_propose, p_sharp_beg, t->p_sharp_init_end, t->rho_init,
                    p_beg, t->p_init_end, sign, &log_sum_weight_init))
        return 0;
    /* the final subtree (its proposal is written by its first leaf: no copy of z needed) */
    ps_point *zf = &t->z_propose_final;
    double log_sum_weight_final = -INFINITY;
    memset(t->rho_final, 0, n * sizeof(double));
    if (!build_tree(c, depth - 1, zf, t->p_sharp_final_beg, p_sharp_end, t->rho_final,
                    t->p_final_beg, p_end, sign, &log_sum_weight_final))
        return 0;
    /* multinomial sample from the right subtree */
    double log_sum_weight_subtree = bnn_log_sum_exp(log_sum_weight_init, log_sum_weight_final);
    *log_sum_weight = bnn_log_sum_exp(*log_sum_weight, log_sum_weight_subtree);
    if (log_sum_weight_final > log_sum_weight_subtree) {
        ps_point_swap(z_propose, zf);
    } else {
        double accept = exp(log_sum_weight_final - log_sum_weight_subtree);
        if (gsl_rng_uniform(c->rng) < accept)
            ps_point_swap(z_propose, zf);
    }
    /* the level's vectors are distinct from the caller's: restrict lets these loops vectorise */
    double *restrict ext = t->rho_ext, *restrict r = rho;
    const double *restrict ri = t->rho_init, *restrict rf = t->rho_final;
    const double *restrict pfb = t->p_final_beg, *restrict pie = t->p_init_end;
    for (size_t j = 0; j < n; j++) {
        ext[j] = ri[j] + rf[j];   /* rho_subtree */
        r[j] += ext[j];
    }
    /* demand satisfaction around the merged subtrees */
    int persist = criterion(p_sharp_beg, p_sharp_end, ext, n);
    /* and between them */
    for (size_t j = 0; j < n; j++)
        ext[j] = ri[j] + pfb[j];
    persist &= criterion(p_sharp_beg, t->p_sharp_final_beg, ext, n);
    for (size_t j = 0; j < n; j++)
        ext[j] = rf[j] + pie[j];
    persist &= criterion(t->p_sharp_init_end, p_sharp_end, ext, n);
    return persist;
}


static int nuts_step(bnn_chain *c, bnn_step_info *info)
{
    nuts_state *w = c->state;
    size_t n = w->dim;
    ps_start(c, &w->z);
    ps_point_copy(&w->z_fwd, &w->z, n);
    ps_point_copy(&w->z_bck, &w->z, n);
    ps_point_copy(&w->z_sample, &w->z, n);
    ps_point_copy(&w->z_propose, &w->z, n);
    memcpy(w->p_fwd_fwd, w->z.p, n * sizeof(double));
    ps_p_sharp(c, w->z.p, w->p_sharp_fwd_fwd);
    memcpy(w->p_fwd_bck, w->z.p, n * sizeof(double));
    memcpy(w->p_sharp_fwd_bck, w->p_sharp_fwd_fwd, n * sizeof(double));
    memcpy(w->p_bck_fwd, w->z.p, n * sizeof(double));
    memcpy(w->p_sharp_bck_fwd, w->p_sharp_fwd_fwd, n * sizeof(double));
    memcpy(w->p_bck_bck, w->z.p, n * sizeof(double));
    memcpy(w->p_sharp_bck_bck, w->p_sharp_fwd_fwd, n * sizeof(double));
    memcpy(w->rho, w->z.p, n * sizeof(double));
    double log_sum_weight = 0;
    w->H0 = ps_hamiltonian(c, &w->z);
    w->n_leapfrog = 0;
    w->sum_metro_prob = 0;
    w->divergent = 0;
    int depth = 0;
    while (depth < w->max_depth) {
        memset(w->rho_fwd, 0, n * sizeof(double));
        memset(w->rho_bck, 0, n * sizeof(double));
        int valid;
        double log_sum_weight_subtree = -INFINITY;
        if (gsl_rng_uniform(c->rng) > 0.5) {
            ps_point_swap(&w->z, &w->z_fwd);
            memcpy(w->rho_bck, w->rho, n * sizeof(double));
            /* the old forward end becomes the inner end on the backward side */
            memcpy(w->p_bck_fwd, w->p_fwd_fwd, n * sizeof(double));
            memcpy(w->p_sharp_bck_fwd, w->p_sharp_fwd_fwd, n * sizeof(double));
            valid = build_tree(c, depth, &w->z_propose, w->p_sharp_fwd_bck, w->p_sharp_fwd_fwd,
                               w->rho_fwd, w->p_fwd_bck, w->p_fwd_fwd, 1.0, &log_sum_weight_subtree);
            ps_point_swap(&w->z_fwd, &w->z);
        } else {
            ps_point_swap(&w->z, &w->z_bck);
            memcpy(w->rho_fwd, w->rho, n * sizeof(double));
            /* the old backward end becomes the inner end on the forward side */
            memcpy(w->p_fwd_bck, w->p_bck_bck, n * sizeof(double));
            memcpy(w->p_sharp_fwd_bck, w->p_sharp_bck_bck, n * sizeof(double));
            valid = build_tree(c, depth, &w->z_propose, w->p_sharp_bck_fwd, w->p_sharp_bck_bck,
                               w->rho_bck, w->p_bck_fwd, w->p_bck_bck, -1.0, &log_sum_weight_subtree);
            ps_point_swap(&w->z_bck, &w->z);
        }
        if (!valid)
            break;
        ++depth;
        if (log_sum_weight_subtree > log_sum_weight) {
            ps_point_swap(&w->z_sample, &w->z_propose);
        } else {
            double accept = exp(log_sum_weight_subtree - log_sum_weight);
            if (gsl_rng_uniform(c->rng) < accept)
                ps_point_swap(&w->z_sample, &w->z_propose);
        }
        log_sum_weight = bnn_log_sum_exp(log_sum_weight, log_sum_weight_subtree);
        for (size_t j = 0; j < n; j++)
            w->rho[j] = w->rho_bck[j] + w->rho_fwd[j];
        int persist = criterion(w->p_sharp_bck_bck, w->p_sharp_fwd_fwd, w->rho, n);
        for (size_t j = 0; j < n; j++)
            w->rho_ext[j] = w->rho_bck[j] + w->p_fwd_bck[j];
        persist &= criterion(w->p_sharp_bck_bck, w->p_sharp_fwd_bck, w->rho_ext, n);
        for (size_t j = 0; j < n; j++)
            w->rho_ext[j] = w->rho_fwd[j] + w->p_bck_fwd[j];
        persist &= criterion(w->p_sharp_bck_fwd, w->p_sharp_fwd_fwd, w->rho_ext, n);
        if (!persist)
            break;
    }
    int moved = memcmp(c->theta, w->z_sample.q, n * sizeof(double)) != 0;
    memcpy(c->theta, w->z_sample.q, n * sizeof(double));
    memcpy(c->grad, w->z_sample.g, n * sizeof(double));
    c->lp = w->z_sample.lp;
    c->grad_valid = 1;
    info->accept_stat = w->n_leapfrog ? w->sum_metro_prob / (double)w->n_leapfrog : 0;
    info->stepsize = c->eps;
    info->treedepth = depth;
    info->n_leapfrog = w->n_leapfrog;
    info->divergent = w->divergent;
    info->energy = ps_hamiltonian(c, &w->z_sample);
    return moved;
}


static const bnn_kernel_ops ops = {
    .init = nuts_init, .step = nuts_step, .search_stepsize = 1};

const bnn_kernel bnn_kernel_nuts = {
    .name = "nuts",
    .help = "the No-U-Turn sampler as Stan's (multinomial, generalised U-turn criterion)",
    .algorithm = "hmc",
    .engine = "nuts",
    .adapts = 1,
    .dense_metric = 1,   /* it moves through hamiltonian.h's phase operations */
    .target_accept = 0.8,
    .stepsize = 1.0,
    .options = options,
    .ops = &ops,
};
