/* chain_summary.h — the statistics `bnnmc summary` and `bnnmc diagnose` report of
 * CmdStan-format chains, and their printing (chain_summary.c). */
#ifndef BNNMC_CLI_CHAIN_SUMMARY_H
#define BNNMC_CLI_CHAIN_SUMMARY_H

#include <stddef.h>

#include <cJSON.h>

#include "bnnmc.h"
#include "stancsv.h"

/* The draws of several chain files, summarised per reported column. */
typedef struct {
    size_t M, N;              /* chains, draws per chain (the shortest chain's) */
    size_t k;                 /* summarised columns */
    char **names;             /* borrowed from chains[0] */
    bnn_summary *s;
    size_t divergent;         /* sum of divergent__ when present */
    size_t depth_hits;        /* draws whose treedepth__ reached the limit (NUTS) */
    size_t draws;             /* all draws of all chains */
    size_t warmup;            /* warm-up rows left out, all chains */
    int max_depth, has_trees, has_energy;
    double *ebfmi;            /* per chain, NaN without energy__ */
    int partial;
    const char *algorithm;
    /* parallel tempering: the mean exchange acceptance of each neighbour pair (columns
     * swap_1__ ..., NaN rows skipped), n_swap pairs */
    size_t n_swap;
    double swap_rate[32];
} summary_set;

/* Summarises lp__ and every column whose name does not end in "__" of the M chains (the
 * shortest chain's length; a note on stderr when they differ). 0, or -1 with a one-line
 * message in err (chains of different columns, fewer than 4 draws, no parameter). */
int summarise_chains(stan_csv *ch, size_t M, int threads, summary_set *out, char *err,
                     size_t errlen);
void summary_set_free(summary_set *s);

/* Counts parameters (not lp__) over the thresholds of Stan: R-hat > 1.01, bulk or tail
 * ESS < 100 per chain. */
void count_bad(const summary_set *s, size_t *params, size_t *rhat_bad, size_t *ess_bad);

/* The table on stdout: lp__, then the worst R-hat first, at most limit rows. */
void print_table(const summary_set *s, size_t limit);
/* The sampler's warnings (divergences, tree depth, E-BFMI) on stdout. */
void print_health(const summary_set *s);
/* Every column's statistics in display order, as a JSON array. */
cJSON *summary_json(const summary_set *s);
/* root, indented, on stdout. */
void print_json(const cJSON *root);

#endif
