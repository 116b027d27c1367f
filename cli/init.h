/* init.h — the --init file of `bnnmc sample` (init.c). */
#ifndef BNNMC_CLI_INIT_H
#define BNNMC_CLI_INIT_H

#include <stddef.h>

#include "bnnmc.h"

/* Starting values from an --init file into init (chains x the model's dim, the sampler's
 * unconstrained scale): one row for every chain or one row per chain, in the reported
 * scale (the CSV header's parameters, tau2 > 0). Errors (BNN_EPARSE, BNN_EIO, BNN_ENOMEM)
 * name the file, line and column. */
bnn_status read_init_file(const char *path, const bnn_model *m, size_t chains, double *init,
                          bnn_error *err);

#endif
