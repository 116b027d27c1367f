/* fuzz_table.c — libFuzzer harness for the data-table reader (bnn_table_read, src/data.c)
 * and the checks a table's targets go through (task inference, class labels, input count).
 * The input is the file's bytes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "bnnmc.h"
#include "fuzz_common.h"

/* A table that was read must be whole: rows, at least one input, finite values, lines
 * in increasing order. */
static void check_table(const bnn_table *t)
{
    if (t->n == 0 || t->p == 0 || t->target_col < 1 || (size_t)t->target_col > t->p + 1)
        abort();
    for (size_t i = 0; i < t->n; i++) {
        if (!isfinite(t->y[i]) || (i && t->line[i] <= t->line[i - 1]))
            abort();
        for (size_t j = 0; j < t->p; j++)
            if (!isfinite(t->x[i * t->p + j]))
                abort();
    }
}

static void read_one(const char *path, int target_col)
{
    bnn_table *t = NULL;
    bnn_error err = {0};
    bnn_status st = bnn_table_read(&t, path, target_col, &err);
    if (st) {
        if (t)
            abort();   /* an error leaves no table behind */
        if (st != BNN_EINVAL)   /* a target column out of range names the file too */
            fuzz_check_error(err.msg, path);
        return;
    }
    check_table(t);
    /* what `bnnmc sample` does with a training table's targets */
    int k = 0;
    if (bnn_table_infer_task(t, &k) == BNN_TASK_CLASSIFICATION && k < 2)
        abort();
    k = 0;
    if (bnn_table_check_classes(t, &k, &err) != BNN_OK)
        fuzz_check_error(err.msg, path);
    /* and with a test table: labels below the training data's K, as many inputs */
    k = 3;
    if (bnn_table_check_classes(t, &k, &err) != BNN_OK)
        fuzz_check_error(err.msg, path);
    if (bnn_table_check_inputs(t, t, &err) != BNN_OK)
        abort();
    bnn_table_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[512];
    fuzz_write("table.txt", data, size, path, sizeof path);
    read_one(path, 0);   /* the last column is the target */
    read_one(path, 1);   /* --target-col 1 */
    return 0;
}
