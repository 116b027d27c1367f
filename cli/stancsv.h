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
    char *status;             /* "# bnnmc_status = ..." if present (a partial run) */
    char *algorithm;          /* "# algorithm = ..." (CmdStan) or from rstan's sampler_t */
    char *engine;             /* "# engine = ..." (CmdStan) or from rstan's sampler_t */
    int max_depth;            /* "# max_depth = ..." or rstan's max_treedepth=, else 10 */
    char *warning;            /* NULL, or a one-line note for the caller to print: a last
                                 row cut short by a stopped run was left out */
} stan_csv;

/* Reads path; on failure returns -1 with a one-line message naming file:line:col. Never
 * prints. Warm-up rows are recognised by the header (num_warmup/warmup, save_warmup, thin)
 * and the "# Adaptation terminated" line that follows them. */
int stan_csv_read(const char *path, stan_csv *c, char *err, size_t errlen);
void stan_csv_free(stan_csv *c);

#endif
