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

/* The pieces of the run that `bnnmc variational` shares (each exits 2 on bad input, 1 on a
 * failure, with one line). */
/* Loads o's training (and test) data and settles o->task; *n_classes receives K. */
void run_load_data(sample_opts *o, bnn_table **train, bnn_table **test, int *n_classes);
/* The model o asks for, on p inputs and K classes. */
void run_build_spec(const sample_opts *o, size_t p, int n_classes, bnn_model_spec *spec);
/* Starting points, o->chains x dim (unconstrained): --init FILE's values, or chain c's
 * default start (weights ~ N(0, 1) from stream 2 of the seed, tau2 the mean squared
 * residual). The caller frees them. */
double *run_make_init(const sample_opts *o, const bnn_model *m, const bnn_density *d);
/* The warning a flat prior deserves where its propriety cannot be checked (or a refusal
 * for pt), once, before the run. */
void run_check_flat_prior(const bnn_model_spec *sp, const sample_opts *o);

/* Runs what o asks and writes the run folder o->out; exits on bad input (2) or a failure
 * (1) with one line. o->task is settled (inferred when it was auto). */
void run_sample(sample_opts *o, run_result *res);
void run_result_free(run_result *r);
/* run_sample, then the closing line on stderr (unless quiet): the exit status of `sample`,
 * `resume` and `extend` (EXIT_RUNTIME for a run stopped early, else 0). */
int run_sample_command(sample_opts *o);

#endif
