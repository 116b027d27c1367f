/* sample_opts.h — what `bnnmc sample` (and `bnnmc demo`) was asked to do: the options,
 * their defaults and their parsing (sample_opts.c). */
#ifndef BNNMC_CLI_SAMPLE_OPTS_H
#define BNNMC_CLI_SAMPLE_OPTS_H

#include "bnnmc.h"

typedef struct {
    const char *train, *test, *dataset, *out, *init;
    int target_col;
    int task;                 /* bnn_task */
    int nn;                   /* 1 network, 0 linear */
    int n_hidden, hidden[BNN_MAX_HIDDEN];
    int activation;           /* bnn_activation */
    int output;               /* -1 default, else bnn_activation */
    double prior_var, nu1, nu2;
    int sampler;              /* bnn_sampler, -1 default */
    long samples, thin, chains, threads;
    double burn_in;
    unsigned long seed;
    double step, step_eta, lr, langevin_prob;
    double target_accept, int_time;   /* 0: the sampler's default */
    int max_depth, no_adapt_metric;
    double stepsize;          /* 0: the sampler's default */
    int no_adapt;
    int force, quiet;
} sample_opts;

/* The defaults before parsing (the model-dependent ones are settled by the parse). */
void sample_opts_defaults(sample_opts *o);
/* Parses the options of `bnnmc cmd` into o, exiting 2 on a bad one. Returns 1 when --help
 * was asked (usage printed on stdout: the command is done), else 0. */
int sample_opts_parse(sample_opts *o, int argc, char **argv, const char *cmd, const char *usage);

#endif
