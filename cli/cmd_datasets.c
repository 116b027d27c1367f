/* cmd_datasets.c — `bnnmc datasets`: the built-in data sets, listed or written out. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "util.h"

static const char datasets_usage[] =
    "usage: bnnmc datasets [--write NAME DIR]\n\nLists the built-in data sets "
    "(generated, deterministic); use one with\n'bnnmc sample --dataset NAME'. "
    "--write saves NAME's split as DIR/train.txt and\nDIR/test.txt in the data file "
    "format.\n";

/* DIR/NAME in the data file format: the inputs, then the target, full precision. */
static void write_table(const bnn_table *t, const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    atomic_file a;
    atomic_open_or_exit(&a, path);
    for (size_t i = 0; i < t->n; i++) {
        for (size_t j = 0; j < t->p; j++)
            fprintf(a.f, "%.17g ", t->x[i * t->p + j]);
        fprintf(a.f, "%.17g\n", t->y[i]);
    }
    atomic_close_or_exit(&a);
}

static int write_dataset(const char *name, const char *dir)
{
    bnn_table *tr = NULL, *te = NULL;
    bnn_error err = {0};
    bnn_status st = bnn_dataset_make(name, 1, &tr, &te, &err);
    if (st)
        die_status(st, &err);
    write_table(tr, dir, "train.txt");
    write_table(te, dir, "test.txt");
    bnn_table_free(tr);
    bnn_table_free(te);
    return 0;
}

int cmd_datasets(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(datasets_usage, stdout);
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "--write") == 0) {
        if (argc != 4)
            die_usage("datasets", "--write needs a data set NAME and a folder DIR");
        return write_dataset(argv[2], argv[3]);
    }
    if (argc > 1)
        die_usage("datasets", "unexpected argument '%s'", argv[1]);
    for (int i = 0; bnn_dataset_get(i); i++) {
        const bnn_dataset_info *d = bnn_dataset_get(i);
        printf("%-14s %-15s %s\n", d->name,
               d->task == BNN_TASK_REGRESSION ? "regression" : "classification", d->description);
    }
    return 0;
}
