/* stancsv.h — reading CmdStan-format CSV files: bnnmc's chain-N.csv, CmdStan's and rstan's
 * (stancsv.c). */
#ifndef BNNMC_CLI_STANCSV_H
#define BNNMC_CLI_STANCSV_H

#include <stddef.h>

typedef struct {
    char *path;               /* the file read */
    size_t ncol, nrow;
    char **names;             /* ncol column names, unique */
    double *v;                /* nrow x ncol values: the draws after warm-up */
    size_t nwarmup;           /* warm-up rows left out (files written with save_warmup = 1) */
    double *vwarm;            /* nwarmup x ncol: those rows (trace plots shade them) */
    char *status;             /* "# bnnmc_status = ..." if present (a partial run) */
    char *algorithm;          /* "# algorithm = ..." (CmdStan) or from rstan's sampler_t */
    char *engine;             /* "# engine = ..." (CmdStan) or from rstan's sampler_t */
    int max_depth;            /* "# max_depth = ..." or rstan's max_treedepth=, else 10 */
    char *metric;             /* "# metric = ..." (unit_e, diag_e, dense_e), or NULL */
    /* The adaptation block's inverse metric: its rows (1 after "Diagonal elements of
     * inverse mass matrix:", as many as columns after "Elements of inverse mass matrix:",
     * CmdStan's dense_e) of inv_metric_cols values; 0 rows when the file has none. */
    size_t inv_metric_rows, inv_metric_cols;
    double *inv_metric;
    double stepsize;          /* the adaptation block's "# Step size = x", NaN without one */
    char *method;             /* "# method = ..." (CmdStan: sample, variational, ...), or NULL */
    /* method = variational: the file's first row, the mean of the approximation (CmdStan
     * writes it before the draws), kept apart from them in ncol values; else NULL */
    double *vmean;
    char *warning;            /* NULL, or a one-line note for the caller to print: a last
                                 row cut short by a stopped run was left out */
} stan_csv;

/* Reads path; on failure returns -1 with a one-line message naming file:line:col. Never
 * prints. Warm-up rows are recognised by the header (num_warmup/warmup, save_warmup, thin)
 * and the "# Adaptation terminated" line that follows them. A variational file's first row
 * (the approximation's mean) is left out of the draws too (stan_csv.vmean). */
int stan_csv_read(const char *path, stan_csv *c, char *err, size_t errlen);
/* 0 when the adaptation block's inverse metric is whole: one row (diagonal) or a square
 * matrix; otherwise -1 with a message naming the file. */
int stan_csv_metric_check(const stan_csv *c, char *err, size_t errlen);
void stan_csv_free(stan_csv *c);

#endif
