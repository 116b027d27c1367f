/* init.c — the --init file of `bnnmc sample`: starting values, one row for every chain or
 * one row per chain, in the reported (constrained) scale: tau2 > 0, not log tau2.
 *
 * A reader of outside bytes: every problem is returned as an error naming the file (and line
 * and column where there is one), never an exit, so tests/fuzz/fuzz_init.c can drive it. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "init.h"
#include "util.h"

/* Chain c's starting point from row r of t (the row's last value is the table's target):
 * the model maps it to the sampler's scale and says which value is out of its domain. */
static bnn_status init_row(const bnn_table *t, size_t r, const bnn_model *m, double *x,
                           const char *path, bnn_error *err)
{
    size_t dim = bnn_model_dim(m);
    memcpy(x, t->x + r * t->p, t->p * sizeof *x);
    x[t->p] = t->y[r];
    bnn_error uerr = {0};
    if (bnn_model_unconstrain(m, x, x, &uerr) == BNN_OK)
        return BNN_OK;
    size_t col = 0;   /* the value the model refused: x's one NaN */
    while (col + 1 < dim && !isnan(x[col]))
        col++;
    set_error(err->msg, sizeof err->msg, "--init: %s:%zu:%zu: %s", path, t->line[r], col + 1,
              uerr.msg);
    return err->code = BNN_EPARSE;
}

bnn_status read_init_file(const char *path, const bnn_model *m, size_t chains, double *init,
                          bnn_error *err)
{
    size_t dim = bnn_model_dim(m);
    bnn_table *t = NULL;
    bnn_error terr = {0};
    bnn_status st = bnn_table_read(&t, path, 0, &terr);
    if (st) {
        set_error(err->msg, sizeof err->msg, "--init: %.500s", terr.msg);
        return err->code = st;
    }
    if (t->p + 1 != dim) {
        set_error(err->msg, sizeof err->msg, "--init: %s:%zu:1: %zu values per row, the model "
                  "has %zu parameters", path, t->line[0], t->p + 1, dim);
        st = err->code = BNN_EPARSE;
    } else if (t->n != 1 && t->n != chains) {
        set_error(err->msg, sizeof err->msg, "--init: %s has %zu rows; give 1 (every chain) or "
                  "%zu (--chains)", path, t->n, chains);
        st = err->code = BNN_EPARSE;
    }
    for (size_t c = 0; c < chains && !st; c++)
        st = init_row(t, t->n == 1 ? 0 : c, m, init + c * dim, path, err);
    bnn_table_free(t);
    return st;
}
