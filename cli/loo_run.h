/* loo_run.h — PSIS-LOO of a run folder's training data over its kept draws (loo_run.c),
 * shared by `bnnmc loo` and `bnnmc compare`. */
#ifndef BNNMC_CLI_LOO_RUN_H
#define BNNMC_CLI_LOO_RUN_H

#include <stddef.h>

#include "bnnmc.h"

typedef struct {
    bnn_loo *loo;
    size_t chains, draws;        /* the draws: chains x draws per chain */
    double *ll;                  /* n x S log-likelihood (observation-major), or NULL */
    char data_key[200];          /* the training data's identity: its sha256 and target
                                    column, or the built-in data set's name */
    char data_name[4200];        /* for messages: the file or "builtin:NAME" */
} loo_run;

/* Reads the run folder dir, rebuilds its model and training data (a file's sha256 must be
 * the one config.json recorded), and computes the log-likelihood of every training row
 * under every kept draw and its PSIS-LOO and WAIC, on `threads` threads, a block of rows
 * at a time (64 MB of the matrix at most). keep_ll computes and keeps the whole matrix in
 * out->ll. Exits 2 with one line naming the folder or file on bad input. */
void loo_run_compute(const char *cmd, const char *dir, int threads, int keep_ll, loo_run *out);
void loo_run_free(loo_run *r);

/* One line on stderr, as R's loo warns: how many rows have k > 0.7 (or > 0.5). */
void loo_run_warn(const char *cmd, const char *dir, const bnn_loo *l);

#endif
