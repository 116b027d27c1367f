/* kernel_pt.c — parallel tempering: K replicas of a base kernel at inverse temperatures
 * 1 = beta_1 > ... > beta_K, replica k targeting log prior + beta_k log likelihood (the
 * density's logp_tempered; the prior stays whole, so every replica is a proper density),
 * exchanging states between neighbours.
 *
 * Each replica is a bnn_chain of the base kernel (option base, nuts by default) over a
 * density of its own that calls logp_tempered at its beta (replica 1 takes the untempered
 * density itself: no cost added to the chain that is reported). The replicas move one
 * after another, from random streams drawn from the pt chain's own, so a pt chain's draws
 * depend on (config, chain) alone like any chain's. In burn-in each replica tunes its own
 * step size and metric (bnn_chain_adapt per replica: the adapt op), and its temperature's
 * tuning stays with the temperature when states are exchanged.
 *
 * Exchanges. Every swap_every iterations, a round: the log likelihood l_k at each
 * replica's state is evaluated (logp_tempered at beta = 0 returns the log prior p_k and
 * l_k), and neighbours (i, i+1) exchange states with probability
 *     min(1, exp((beta_i - beta_{i+1}) (l_{i+1} - l_i))),
 * the Metropolis ratio of the swap under the product of the replicas' targets (the priors
 * cancel). The pairs of a round are disjoint, each exchange keeps the joint target, so a
 * round does. Scheme: deterministic even-odd (DEO, Syed, Bouchard-Cote, Deligiannidis &
 * Doucet 2021): even pairs (1,2), (3,4), ... in even rounds, odd pairs in odd rounds. Its
 * states travel the ladder like a lifted (non-reversible) walk: the round trip rate stays
 * bounded as K grows, where random pairs' diffusion slows as 1/K. After an exchange the
 * replica's lp = p + beta l of the state it received, with no new evaluation; its cached
 * gradient (and any cache of its kernel) is dropped (bnn_chain_set_state).
 *
 * Ladder. Geometric in temperature from 1 to t_max. With adapt_ladder (default) the
 * interior temperatures are tuned during the first 90% of burn-in by Vousden, Farr & Mandel
 * (2016, MNRAS 455, 1919): S_i = log(T_i - T_{i-1}) moves by kappa(t) (A_{i-1} - A_i), A_j
 * the exchange acceptance probability of pair (j, j+1) in round t and kappa(t) =
 * t0 / (nu (t + t0)) a decaying gain (t0 = 100 rounds, nu = 10); this equalises the
 * neighbours' acceptance rates. T_1 = 1 and T_K = t_max stay. Then it is frozen (the last
 * 10% of burn-in lets the replicas' step sizes settle on the final temperatures), so the
 * kept draws come from a fixed, valid kernel. With the run's adapt = 0 the ladder stays
 * geometric, as the replicas' step sizes stay as given.
 *
 * Reported: the beta = 1 replica's state and lp (the untempered log density), its
 * accept_stat, step size, tree depth, divergence and energy; n_leapfrog__ is the TOTAL of
 * all replicas' gradient evaluations (the run's cost; the l evaluations of the exchange
 * rounds are value-only and not counted). Own columns swap_1__ .. swap_{K-1}__: the
 * exchange acceptance probability of pair (i, i+1) at this iteration's round, for every
 * pair whether or not DEO attempted it (its mean is the pair's swap rate), NaN in
 * iterations without a round.
 *
 * Replicas over processes (bnn_run_config.replica_parts, the CLI's MPI ranks). Every part
 * of the group runs the whole pt chain's bookkeeping: it draws every replica's seed from the
 * chain's stream (so the stream advances as in one process) but sets up and moves only its
 * own block of replicas. After the moves, one gather per iteration hands every part each
 * part's gradient count and, in a round, each replica's (prior, l): from them and the
 * chain's stream every part computes the same acceptance probabilities, the same DEO
 * decisions and the same ladder, with no further messages. A state accepted across two
 * parts travels by replica_swap (the position alone: its lp follows from the gathered
 * prior and l, and the tuning stays with the temperature as in one process). Part 0 owns
 * replica 1, so its draws are those of one process, bitwise. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "kernel.h"

enum { BASE, REPLICAS, T_MAX, SWAP_EVERY, ADAPT_LADDER };
enum { MAX_REPLICAS = 32 };

/* the ladder's gain kappa(t) = LADDER_T0 / (LADDER_NU (t + LADDER_T0)), t in rounds */
#define LADDER_T0 100.0
#define LADDER_NU 10.0

static const bnn_option options[] = {
    [BASE] = {"base", BNN_OPT_KERNEL, 0, 0, 0,
              "the kernel that moves each replica (its own settings apply to every replica)",
              "nuts"},
    [REPLICAS] = {"replicas", BNN_OPT_INT, 8, 2, MAX_REPLICAS, "replicas (temperatures) K"},
    [T_MAX] = {"t_max", BNN_OPT_REAL, 50, 1.01, 1e9,
               "the highest temperature 1/beta_K (the ladder is geometric from 1)", NULL},
    [SWAP_EVERY] = {"swap_every", BNN_OPT_INT, 1, 1, 1000000,
                    "iterations between exchange rounds", NULL},
    [ADAPT_LADDER] = {"adapt_ladder", BNN_OPT_INT, 1, 0, 1,
                      "1: tune the temperatures in burn-in to equal swap rates; 0: geometric",
                      NULL},
    {0}};

static const char *const columns[] = {
    "swap_1__",  "swap_2__",  "swap_3__",  "swap_4__",  "swap_5__",  "swap_6__",  "swap_7__",
    "swap_8__",  "swap_9__",  "swap_10__", "swap_11__", "swap_12__", "swap_13__", "swap_14__",
    "swap_15__", "swap_16__", "swap_17__", "swap_18__", "swap_19__", "swap_20__", "swap_21__",
    "swap_22__", "swap_23__", "swap_24__", "swap_25__", "swap_26__", "swap_27__", "swap_28__",
    "swap_29__", "swap_30__", "swap_31__", NULL};

extern const bnn_kernel bnn_kernel_pt;

/* What a tempered replica's density holds: the model's density and its beta. */
typedef struct {
    const bnn_density *d;
    double beta;
} tempered;

typedef struct {
    const bnn_kernel *base;
    int K;
    size_t swap_every, n_burn, it, round, ladder_rounds;
    int adapt_ladder;
    double T[MAX_REPLICAS];              /* temperatures, T[0] = 1 */
    tempered tc[MAX_REPLICAS];           /* replica k's beta (k >= 1) */
    bnn_density dens[MAX_REPLICAS];      /* replica k's density (k >= 1) */
    bnn_chain rep[MAX_REPLICAS];
    unsigned char live[MAX_REPLICAS];    /* replica k is set up here (to move, to free) */
    /* replicas over processes: part `part` of `parts` moves replicas first[part] ..
     * first[part + 1] - 1; block is the largest part's count (1 part: all, first[1] = K) */
    int parts, part, block;
    int first[MAX_REPLICAS + 1];
    bnn_step_info info[MAX_REPLICAS];    /* each replica's last transition */
    double prior[MAX_REPLICAS], ll[MAX_REPLICAS], alpha[MAX_REPLICAS];
    double *tmp;                         /* a state in transit */
    uint64_t decisions;                  /* every exchange decision so far, hashed */
} pt_state;

/* What every part of a group holds alike while the parts stay in lockstep: the ladder, the
 * iteration and every exchange decision so far, hashed (FNV-1a) to 40 bits so that it
 * travels exactly as a double. Parts that compute in different floating-point arithmetic
 * would tune different ladders or decide an exchange differently: the caller compares. */
static double lockstep_hash(const pt_state *s)
{
    uint64_t h = bnn_fnv1a(s->decisions, s->T, (size_t)s->K * sizeof s->T[0]);
    h = bnn_fnv1a(h, &s->it, sizeof s->it);
    return (double)(h >> 24);
}

static double tempered_logp(const void *ctx, double *work, const double *theta, double *grad)
{
    const tempered *t = ctx;
    double ll;
    return t->d->logp_tempered(t->d->ctx, work, t->beta, theta, grad, &ll);
}

/* A replica's density: the model's at beta, with neither the study's drift (langevin falls
 * back to the tempered gradient) nor Gibbs conditionals (they are the untempered ones). */
static bnn_density tempered_density(const bnn_density *d, const tempered *t)
{
    bnn_density w = *d;
    w.logp = tempered_logp;
    w.ctx = t;
    w.drift = NULL;
    w.noise = NULL;
    w.logp_tempered = NULL;
    w.logp_batch = NULL;   /* audit: the batch form is untempered, and its ctx the model's */
    w.n_rows = 0;
    w.batch_work = 0;
    /* the chain maps its cold replica's state through the outer density; a replica's maps
     * would get this ctx, not the density's */
    w.to_model = NULL;
    w.from_model = NULL;
    return w;
}

/* The base kernel, or NULL when the setting names none. */
static const bnn_kernel *base_kernel(const bnn_run_config *cfg)
{
    return bnn_run_config_subkernel(cfg, &bnn_kernel_pt);
}

static bnn_status pt_check(const bnn_density *d, const bnn_run_config *cfg, bnn_error *err)
{
    if (!d->logp_tempered)
        return bnn_fail(err, BNN_EINVAL, "pt: the density has no tempered form "
                        "(bnn_density.logp_tempered), so it cannot be tempered");
    const bnn_kernel *b = base_kernel(cfg);
    if (!b)
        return bnn_fail(err, BNN_EINVAL, "pt: the base setting names no kernel");
    if (cfg->replica_parts > 1) {
        double K = bnn_run_config_get(cfg, &bnn_kernel_pt, "replicas");
        int here = cfg->chain_hi > 0 ? cfg->chain_hi - cfg->chain_lo : cfg->chains;
        if (!cfg->replica_gather || !cfg->replica_swap)
            return bnn_fail(err, BNN_EINVAL, "pt: replica_parts %d without replica_gather and "
                            "replica_swap", cfg->replica_parts);
        if (cfg->replica_part < 0 || cfg->replica_part >= cfg->replica_parts)
            return bnn_fail(err, BNN_EINVAL, "pt: replica_part %d is not one of 0..%d",
                            cfg->replica_part, cfg->replica_parts - 1);
        if (!((double)cfg->replica_parts <= K))
            return bnn_fail(err, BNN_EINVAL, "pt: %g replicas cannot spread over %d processes "
                            "(each needs a replica: give --replicas %d at least)", K,
                            cfg->replica_parts, cfg->replica_parts);
        if (here != 1)
            return bnn_fail(err, BNN_EINVAL, "pt: replicas spread over processes need one chain "
                            "per process, not %d", here);
        if (cfg->checkpoint || cfg->resume)
            return bnn_fail(err, BNN_EINVAL, "pt: checkpoints and resuming are not built for "
                            "replicas spread over processes");
        /* rounds on each part's own clock would stop the parts at different iterations.
         * Rounds without a time limit (max_seconds INFINITY) end where converged says, and
         * a caller whose converged gives every part the same verdict (the CLI's MPI
         * round_check: one answer, broadcast) keeps the parts together */
        if (cfg->max_seconds > 0 && !isinf(cfg->max_seconds))
            return bnn_fail(err, BNN_EINVAL, "pt: rounds with a time limit (max_seconds) are "
                            "not built for replicas spread over processes (give INFINITY and "
                            "a converged that answers every part alike)");
    }
    for (size_t i = 0; b->options && b->options[i].name; i++)
        if (b->options[i].type == BNN_OPT_KERNEL)
            return bnn_fail(err, BNN_EINVAL, "pt: the base kernel cannot be %s (it has a base "
                            "of its own)", b->name);
    if (b->approximate)
        return bnn_fail(err, BNN_EINVAL, "pt: the base kernel cannot be %s (a minibatch "
                        "sampler: its batch form of the density is not tempered, and pt's "
                        "exchanges need exact moves)", b->name);
    if (b->ops->check) {
        tempered t = {d, 0.5};
        bnn_density w = tempered_density(d, &t);
        bnn_error e = {0};
        if (b->ops->check(&w, cfg, &e) != BNN_OK)
            return bnn_fail(err, e.code ? e.code : BNN_EINVAL, "pt: base %s cannot move the "
                            "tempered replicas: %s", b->name, e.msg);
    }
    return BNN_OK;
}

double bnn_pt_swap_prob(double beta_i, double beta_j, double l_i, double l_j)
{
    double la = (beta_i - beta_j) * (l_j - l_i);
    /* the swap's Metropolis ratio; a state outside the support (l = -inf) gives NaN or -inf */
    return la >= 0 ? 1.0 : isnan(la) ? 0.0 : exp(la);
}

static void set_beta(pt_state *s, int k)
{
    s->tc[k].beta = 1.0 / s->T[k];
}

static bnn_status pt_init(bnn_chain *c, bnn_error *err)
{
    double *v;
    pt_state *s = bnn_chain_state(c, sizeof *s, 1, &v, err);
    if (!s)
        return BNN_ENOMEM;
    s->tmp = v;
    const bnn_run_config *cfg = c->cfg;
    s->base = base_kernel(cfg);
    s->K = (int)c->opt[REPLICAS];
    s->swap_every = (size_t)c->opt[SWAP_EVERY];
    s->adapt_ladder = (int)c->opt[ADAPT_LADDER];
    s->n_burn = cfg->n_burn;
    /* the ladder moves in the rounds of the first 90% of burn-in; with adapt = 0 (Stan's
     * adapt engaged = 0) nothing is tuned, the ladder included */
    s->ladder_rounds = s->adapt_ladder && cfg->adapt
                           ? (cfg->n_burn - cfg->n_burn / 10) / s->swap_every : 0;
    for (int k = 0; k < s->K; k++) {
        s->T[k] = pow(c->opt[T_MAX], (double)k / (double)(s->K - 1));
        s->tc[k].d = c->d;
        set_beta(s, k);
        s->dens[k] = tempered_density(c->d, &s->tc[k]);
    }
    s->T[0] = 1.0;
    s->decisions = BNN_FNV1A_INIT;
    s->parts = cfg->replica_parts > 1 ? cfg->replica_parts : 1;
    s->part = s->parts > 1 ? cfg->replica_part : 0;
    for (int j = 0; j <= s->parts; j++)
        s->first[j] = (int)((long)j * s->K / s->parts);
    s->block = (s->K + s->parts - 1) / s->parts;
    for (int k = 0; k < s->K; k++) {
        const bnn_density *dk = k == 0 ? c->d : &s->dens[k];
        /* every part draws every seed: the chain's stream is the same on each */
        unsigned long seed = gsl_rng_get(c->rng);
        if (k < s->first[s->part] || k >= s->first[s->part + 1])
            continue;
        bnn_error e = {0};
        bnn_status st = c->restoring
                            ? bnn_chain_init_restore(&s->rep[k], s->base, dk, cfg, c->theta, &e)
                            : bnn_chain_init(&s->rep[k], s->base, dk, cfg, seed, c->theta, &e);
        if (st)
            return bnn_fail(err, st, "pt: replica %d (temperature %g): %s", k + 1, s->T[k],
                            e.msg);
        s->live[k] = 1;
    }
    if (s->live[0]) {
        c->eps = s->rep[0].eps;
        memcpy(c->inv_metric, s->rep[0].inv_metric, c->d->dim * sizeof(double));
    }
    return BNN_OK;
}

static void pt_free(bnn_chain *c)
{
    pt_state *s = c->state;
    for (int k = 0; k < s->K; k++)
        if (s->live[k])
            bnn_chain_free(&s->rep[k]);
}

/* Vousden, Farr & Mandel's update of the interior temperatures from this round's
 * acceptance probabilities; T_1 and T_K stay. */
static void adapt_ladder(pt_state *s)
{
    int K = s->K;
    if (K < 3)
        return;
    double kappa = LADDER_T0 / (LADDER_NU * ((double)s->round + LADDER_T0));
    double gap[MAX_REPLICAS], sum = 0;
    for (int i = 1; i < K - 1; i++) {
        gap[i] = (s->T[i] - s->T[i - 1]) * exp(kappa * (s->alpha[i - 1] - s->alpha[i]));
        sum += gap[i];
    }
    /* the interior must stay below T_K: where the gaps would pass it, they shrink to leave
     * the top gap at least the mean gap's share */
    double room = s->T[K - 1] - 1.0, cap = room * (double)(K - 2) / (double)(K - 1);
    double scale = sum > cap ? cap / sum : 1.0;
    for (int i = 1; i < K - 1; i++) {
        s->T[i] = s->T[i - 1] + gap[i] * scale;
        set_beta(s, i);
    }
}

/* The part that moves replica k. */
static int owner(const pt_state *s, int k)
{
    int j = 0;
    while (k >= s->first[j + 1])
        j++;
    return j;
}

/* Replicas over processes: every part's gradient count (summed into *leapfrogs) and, in a
 * round, every replica's (prior, l) from its part; last, the part's lockstep hash. 0 when
 * the group is ending (a part has left its run): nothing was gathered. */
static int meet(const bnn_chain *c, pt_state *s, int round, int *leapfrogs)
{
    const bnn_run_config *cfg = c->cfg;
    int B = s->block, lo = s->first[s->part];
    size_t n = round ? 2 + 2 * (size_t)B : 2;
    /* parts x (2 + 2 block) <= 2 parts + 2 (K + parts - 1) < 6 MAX_REPLICAS values */
    double mine[2 + 2 * MAX_REPLICAS], all[6 * MAX_REPLICAS];
    mine[0] = *leapfrogs;
    mine[n - 1] = lockstep_hash(s);
    for (int b = 0; round && b < B; b++) {
        int k = lo + b, here = k < s->first[s->part + 1];
        mine[1 + b] = here ? s->prior[k] : 0;
        mine[1 + B + b] = here ? s->ll[k] : 0;
    }
    if (cfg->replica_gather(cfg->replica_user, mine, n, all))
        return 0;
    int total = 0;
    for (int j = 0; j < s->parts; j++) {
        const double *r = all + (size_t)j * n;
        total += (int)r[0];
        for (int k = s->first[j]; round && k < s->first[j + 1]; k++) {
            s->prior[k] = r[1 + k - s->first[j]];
            s->ll[k] = r[1 + B + k - s->first[j]];
        }
    }
    *leapfrogs = total;
    return 1;
}

/* One exchange round (every replica's (prior, l) known): records the acceptance
 * probability of every neighbour pair, exchanges this round's pairs (DEO), tunes the ladder
 * in its rounds. Returns 1 when replica 1 received a new state. */
static int exchange_round(bnn_chain *c, pt_state *s, bnn_step_info *info)
{
    size_t n = c->d->dim;
    int K = s->K;
    for (int i = 0; i + 1 < K; i++) {
        s->alpha[i] = bnn_pt_swap_prob(s->tc[i].beta, s->tc[i + 1].beta, s->ll[i], s->ll[i + 1]);
        info->extra[i] = s->alpha[i];
    }
    int moved0 = 0;
    for (int i = (int)(s->round % 2); i + 1 < K; i += 2) {
        int accept = gsl_rng_uniform(c->rng) < s->alpha[i];
        if (s->parts > 1) {
            unsigned char dec[2] = {(unsigned char)i, (unsigned char)accept};
            s->decisions = bnn_fnv1a(s->decisions, dec, sizeof dec);
        }
        if (!accept)
            continue;
        double lp_a = s->prior[i + 1] + s->tc[i].beta * s->ll[i + 1];
        double lp_b = s->prior[i] + s->tc[i + 1].beta * s->ll[i];
        int own_a = s->live[i], own_b = s->live[i + 1];
        if (own_a && own_b) {
            memcpy(s->tmp, s->rep[i].theta, n * sizeof(double));
            bnn_chain_set_state(&s->rep[i], s->rep[i + 1].theta, lp_a);
            bnn_chain_set_state(&s->rep[i + 1], s->tmp, lp_b);
        } else if (own_a || own_b) {   /* across two parts: positions trade by message */
            int k = own_a ? i : i + 1;
            memcpy(s->tmp, s->rep[k].theta, n * sizeof(double));
            c->cfg->replica_swap(c->cfg->replica_user, owner(s, own_a ? i + 1 : i), s->tmp, n);
            bnn_chain_set_state(&s->rep[k], s->tmp, own_a ? lp_a : lp_b);
        }
        double t = s->prior[i];
        s->prior[i] = s->prior[i + 1];
        s->prior[i + 1] = t;
        t = s->ll[i];
        s->ll[i] = s->ll[i + 1];
        s->ll[i + 1] = t;
        moved0 |= i == 0;
    }
    if (s->round < s->ladder_rounds) {
        adapt_ladder(s);
        /* the states stay; their log densities are those of the new temperatures */
        for (int k = 1; k < K - 1; k++)
            if (s->live[k])
                bnn_chain_set_state(&s->rep[k], s->rep[k].theta,
                                    s->prior[k] + s->tc[k].beta * s->ll[k]);
    }
    s->round++;
    return moved0;
}

static int pt_step(bnn_chain *c, bnn_step_info *info)
{
    pt_state *s = c->state;
    int K = s->K, moved = 0, leapfrogs = 0;
    for (int k = s->first[s->part]; k < s->first[s->part + 1]; k++) {
        s->info[k] = (bnn_step_info){0};
        int m = bnn_chain_step(&s->rep[k], &s->info[k]);
        leapfrogs += s->info[k].n_leapfrog;
        if (k == 0)
            moved = m;
    }
    s->it++;
    int round = s->it % s->swap_every == 0;
    if (round) {   /* each replica's (prior, l): logp_tempered at beta = 0 */
        const bnn_density *d = c->d;
        for (int k = s->first[s->part]; k < s->first[s->part + 1]; k++)
            s->prior[k] = d->logp_tempered(d->ctx, c->work, 0.0, s->rep[k].theta, NULL,
                                           &s->ll[k]);
    }
    /* a group that is ending (a part failed) skips the round: the run stops here */
    if (s->parts > 1 && !meet(c, s, round, &leapfrogs))
        round = 0;
    const bnn_step_info *i0 = &s->info[0];
    info->accept_stat = i0->accept_stat;
    info->stepsize = i0->stepsize;
    info->treedepth = i0->treedepth;
    info->divergent = i0->divergent;
    info->energy = i0->energy;
    info->n_leapfrog = leapfrogs;
    for (int i = 0; i + 1 < K; i++)
        info->extra[i] = NAN;
    if (round)
        moved |= exchange_round(c, s, info);
    if (s->live[0]) {   /* other parts report nothing of the chain */
        memcpy(c->theta, s->rep[0].theta, c->d->dim * sizeof(double));
        c->lp = s->rep[0].lp;
    }
    return moved;
}

/* Burn-in: every replica tunes its own step size and metric from its own transition. */
static bnn_status pt_adapt(bnn_chain *c, size_t it, const bnn_step_info *info, bnn_error *err)
{
    (void)info;
    pt_state *s = c->state;
    for (int k = s->first[s->part]; k < s->first[s->part + 1]; k++) {
        bnn_error e = {0};
        bnn_status st = bnn_chain_adapt(&s->rep[k], it, &s->info[k], &e);
        if (st)
            return bnn_fail(err, st, "pt: replica %d (temperature %g): %s", k + 1, s->T[k],
                            e.msg);
    }
    /* the reported step size and metric: the beta = 1 replica's */
    if (!s->live[0])
        return BNN_OK;
    c->eps = s->rep[0].eps;
    if (it + 1 == s->n_burn)
        memcpy(c->inv_metric, s->rep[0].inv_metric, c->d->dim * sizeof(double));
    return BNN_OK;
}

/* A checkpoint: the exchange counters, the ladder (tuned in burn-in) and every replica. The
 * rest of the state (the last round's l, prior and acceptance, each replica's last
 * transition) lives within one iteration. */
static void pt_save(const bnn_chain *c, bnn_wbuf *b)
{
    const pt_state *s = c->state;
    bnn_wbuf_put(b, &s->K, sizeof s->K);
    bnn_wbuf_put(b, &s->it, sizeof s->it);
    bnn_wbuf_put(b, &s->round, sizeof s->round);
    bnn_wbuf_put(b, s->T, (size_t)s->K * sizeof s->T[0]);
    for (int k = 0; k < s->K; k++)
        bnn_chain_save(&s->rep[k], b);
}

static bnn_status pt_load(bnn_chain *c, bnn_rbuf *r, bnn_error *err)
{
    pt_state *s = c->state;
    int K = 0;
    bnn_rbuf_get(r, &K, sizeof K);
    if (r->bad || K != s->K)
        return bnn_fail(err, BNN_EINVAL, "checkpoint: pt with %d replicas, not %d", K, s->K);
    bnn_rbuf_get(r, &s->it, sizeof s->it);
    bnn_rbuf_get(r, &s->round, sizeof s->round);
    bnn_rbuf_get(r, s->T, (size_t)K * sizeof s->T[0]);
    if (r->bad)
        return bnn_fail(err, BNN_EINVAL, "checkpoint: pt's ladder is cut short");
    for (int k = 0; k < K; k++) {
        set_beta(s, k);
        bnn_status st = bnn_chain_load(&s->rep[k], r, err);
        if (st)
            return st;
    }
    return BNN_OK;
}

static size_t pt_n_columns(const bnn_run_config *cfg)
{
    double K = bnn_run_config_get(cfg, &bnn_kernel_pt, "replicas");
    return K >= 2 && K <= MAX_REPLICAS ? (size_t)K - 1 : 0;
}

static const bnn_kernel_ops ops = {
    .check = pt_check, .init = pt_init, .step = pt_step, .free = pt_free, .adapt = pt_adapt,
    .save = pt_save, .load = pt_load, .n_columns = pt_n_columns, .splits_replicas = 1};

const bnn_kernel bnn_kernel_pt = {
    .name = "pt",
    .help = "parallel tempering: replicas of --base at tempered likelihoods, exchanging states",
    .algorithm = "pt",
    .engine = "pt",
    .options = options,
    .columns = columns,
    .ops = &ops,
};
