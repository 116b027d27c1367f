/* run.h — the sampling pipeline that `bnnmc sample` and `bnnmc demo` share: data, model,
 * starting points, chains, predictions, and the run folder written as it goes (run.c). */
#ifndef BNNMC_CLI_RUN_H
#define BNNMC_CLI_RUN_H

#include "bnnmc.h"
#include "sample_opts.h"

typedef struct {
    bnn_model *model;
    bnn_table *train, *test;          /* test may be NULL */
    bnn_draws *draws;
    bnn_prediction *pred_train, *pred_test;   /* NULL without a kept draw (or test data) */
    double seconds_sampling, seconds_total;
    int partial;                      /* stopped by Ctrl-C or SIGTERM */
} run_result;

/* Runs what o asks and writes the run folder o->out; exits on bad input (2) or a failure
 * (1) with one line. o->task is settled (inferred when it was auto). */
void run_sample(sample_opts *o, run_result *res);
void run_result_free(run_result *r);
/* run_sample, then the closing line on stderr (unless quiet): the exit status of `sample`,
 * `resume` and `extend` (EXIT_RUNTIME for a run stopped early, else 0). */
int run_sample_command(sample_opts *o);

#endif
