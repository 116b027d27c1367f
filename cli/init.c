/* init.c — the --init file of `bnnmc sample`: starting values, one row for every chain or
 * one row per chain, in the reported (constrained) scale: tau2 > 0, not log tau2.
 *
 * A reader of outside bytes: every problem is returned as an error naming the file (and line
 * and column where there is one), never an exit, so tests/fuzz/fuzz_init.c can drive it. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static bnn_status init_fail(bnn_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bnn_status init_fail(bnn_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
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
        snprintf(err->msg, sizeof err->msg, "--init: %.500s", terr.msg);
        return err->code = st;
    }
    if (t->p + 1 != dim)
        st = init_fail(err, "--init: %s:%zu:1: %zu values per row, the model has %zu parameters",
                       path, t->line[0], t->p + 1, dim);
    else if (t->n != 1 && t->n != chains)
        st = init_fail(err, "--init: %s has %zu rows; give 1 (every chain) or %zu (--chains)",
                       path, t->n, chains);
    int regression = bnn_model_get_spec(m)->task == BNN_TASK_REGRESSION;
    for (size_t c = 0; c < chains && !st; c++) {
        size_t r = t->n == 1 ? 0 : c;
        double *x = init + c * dim;
        memcpy(x, t->x + r * t->p, t->p * sizeof *x);
        x[dim - 1] = t->y[r];
        if (!regression)
            continue;
        /* the sampler works on eta = log tau2 */
        if (!(x[dim - 1] > 0))
            st = init_fail(err, "--init: %s:%zu:%zu: tau2 must be positive", path, t->line[r], dim);
        else
            x[dim - 1] = log(x[dim - 1]);
    }
    bnn_table_free(t);
    return st;
}
