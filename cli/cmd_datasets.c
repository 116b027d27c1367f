/* cmd_datasets.c — `bnnmc datasets`: the built-in data sets, listed or written out. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "util.h"

static const char datasets_usage[] =
    "usage: bnnmc datasets [--write NAME DIR [--seed S] [--test M]]\n\nLists the built-in "
    "data sets (generated, deterministic); use one with\n'bnnmc sample --dataset NAME'. "
    "--write saves NAME's split as DIR/train.txt and\nDIR/test.txt in the data file "
    "format (DIR must exist; each file appears whole or\nnot at all).\n"
    "  --seed S   the generator's seed (default 1, the one 'sample --dataset' uses)\n"
    "  --test M   friedman1 only: M test rows (default 1000; 0: no test.txt)\n"
    "\nfriedman1:N is Friedman's (1991) first function with N training rows (1..10^9),\n"
    "written as it is generated (never held in memory): 10 inputs uniform on [0,1], of\n"
    "which x1..x5 matter, y = 10 sin(pi x1 x2) + 20 (x3-0.5)^2 + 10 x4 + 5 x5 + N(0,1),\n"
    "and the target is (y+6)/42, which lies in (0,1) for a sigmoid output (noise sd\n"
    "1/42). The training and test rows come from separate streams of the seed: the\n"
    "same N and S give the same train.txt whatever M, and the same rows as\n"
    "'sample --dataset friedman1:N'. friedman1 alone is N = 200.\n";

/* One row of the data file format: the inputs, then the target, full precision (%.17g
 * reads back as the same double, so a written table is the generated one). */
static void put_row(FILE *f, const double *x, size_t p, double y)
{
    for (size_t j = 0; j < p; j++)
        fprintf(f, "%.17g ", x[j]);
    fprintf(f, "%.17g\n", y);
}

static void put_table(FILE *f, const bnn_table *t)
{
    for (size_t i = 0; i < t->n; i++)
        put_row(f, t->x + i * t->p, t->p, t->y[i]);
}

/* n rows of friedman1's part (0 train, 1 test) into f, generated a block at a time. */
static void put_friedman1(FILE *f, uint64_t seed, int part, size_t n)
{
    enum { P = BNN_FRIEDMAN1_INPUTS, BLOCK = 1024 };
    bnn_friedman1 *g = bnn_friedman1_new(seed, part);
    double *xy = malloc(BLOCK * (P + 1) * sizeof *xy);
    if (!g || !xy)
        die_runtime("out of memory");
    for (size_t r0 = 0; r0 < n && !ferror(f); r0 += BLOCK) {
        size_t b = n - r0 < BLOCK ? n - r0 : BLOCK;
        bnn_friedman1_rows(g, b, xy);
        for (size_t i = 0; i < b; i++)
            put_row(f, xy + i * (P + 1), P, xy[i * (P + 1) + P]);
    }
    free(xy);
    bnn_friedman1_free(g);
}

/* The written files are renamed into place only when both are whole; a failure on either
 * leaves neither (nor a temporary file). */
static void open_both(atomic_file *a, const char *dir, int with_test)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/train.txt", dir);
    atomic_open_or_exit(&a[0], path);
    if (!with_test)
        return;
    snprintf(path, sizeof path, "%s/test.txt", dir);
    if (atomic_open(&a[1], path) != 0) {
        int e = errno;
        atomic_discard(&a[0]);
        die_runtime("%s: cannot write: %s", path, strerror(e));
    }
}

/* fail: a write error shows on a flush; check each file's before renaming any. */
static void close_both(atomic_file *a, int with_test)
{
    for (int k = 0; k <= with_test; k++)
        if (fflush(a[k].f) != 0 || ferror(a[k].f)) {
            int e = errno ? errno : EIO;
            const char *bad = a[k].path;
            char msg[4400];
            snprintf(msg, sizeof msg, "%s: cannot write: %s", bad, strerror(e));
            atomic_discard(&a[0]);
            if (with_test)
                atomic_discard(&a[1]);
            die_runtime("%s", msg);
        }
    if (with_test && atomic_close(&a[1]) != 0) {
        int e = errno;
        atomic_discard(&a[0]);
        die_runtime("%s: cannot write: %s", a[1].path, strerror(e));
    }
    if (atomic_close(&a[0]) != 0) {
        int e = errno;
        if (with_test)
            unlink(a[1].path);
        die_runtime("%s: cannot write: %s", a[0].path, strerror(e));
    }
}

static int write_dataset(const char *name, const char *dir, uint64_t seed, long test_rows)
{
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        die_usage("datasets", "--write: %s is not a folder%s", dir,
                  stat(dir, &sb) != 0 ? " (create it first)" : "");
    bnn_error err = {0};
    size_t n;
    int fr = bnn_friedman1_name(name, &n, &err);
    if (fr < 0)
        die_usage("datasets", "--write: %s", err.msg);
    if (fr == 0 && test_rows >= 0)
        die_usage("datasets", "--test: only friedman1 takes a test size; %s has its own split",
                  name);
    enum { BUF = 1 << 20 };
    char *buf[2] = {malloc(BUF), malloc(BUF)};
    if (!buf[0] || !buf[1])
        die_runtime("out of memory");
    atomic_file a[2];
    if (fr > 0) {
        size_t m = test_rows >= 0 ? (size_t)test_rows : BNN_FRIEDMAN1_TEST;
        open_both(a, dir, m > 0);
        for (int k = 0; k <= (m > 0); k++)
            setvbuf(a[k].f, buf[k], _IOFBF, BUF);
        put_friedman1(a[0].f, seed, 0, n);
        if (m > 0)
            put_friedman1(a[1].f, seed, 1, m);
        close_both(a, m > 0);
    } else {
        bnn_table *tr = NULL, *te = NULL;
        bnn_status st = bnn_dataset_make(name, seed, &tr, &te, &err);
        if (st)
            die_usage("datasets", "--write: %s", err.msg);
        open_both(a, dir, 1);
        put_table(a[0].f, tr);
        put_table(a[1].f, te);
        close_both(a, 1);
        bnn_table_free(tr);
        bnn_table_free(te);
    }
    free(buf[0]);
    free(buf[1]);
    return 0;
}

int cmd_datasets(int argc, char **argv)
{
    enum { O_WRITE = 256, O_SEED, O_TEST, O_HELP };
    static const struct option longopts[] = {
        {"write", required_argument, 0, O_WRITE}, {"seed", required_argument, 0, O_SEED},
        {"test", required_argument, 0, O_TEST}, {"help", no_argument, 0, O_HELP}, {0, 0, 0, 0}};
    const char *name = NULL;
    unsigned long seed = 1;
    int seed_given = 0;
    long test_rows = -1;
    int c;
    optind = 1;
    while ((c = next_option("datasets", argc, argv, longopts)) != -1) {
        switch (c) {
        case O_WRITE: name = optarg; break;
        case O_SEED:
            seed = (unsigned long)parse_long("datasets", "--seed", optarg, 0, 4294967295L);
            seed_given = 1;
            break;
        case O_TEST:
            test_rows = parse_long("datasets", "--test", optarg, 0, (long)BNN_FRIEDMAN1_MAX_ROWS);
            break;
        case O_HELP: fputs(datasets_usage, stdout); return 0;
        }
    }
    if (name) {
        if (optind == argc)
            die_usage("datasets", "--write needs a data set NAME and a folder DIR");
        if (optind + 1 < argc)
            die_usage("datasets", "unexpected argument '%s'", argv[optind + 1]);
        return write_dataset(name, argv[optind], seed, test_rows);
    }
    if (seed_given || test_rows >= 0)
        die_usage("datasets", "%s needs --write NAME DIR", seed_given ? "--seed" : "--test");
    if (optind < argc)
        die_usage("datasets", "unexpected argument '%s'", argv[optind]);
    for (int i = 0; bnn_dataset_get(i); i++) {
        const bnn_dataset_info *d = bnn_dataset_get(i);
        printf("%-14s %-15s %s\n", d->name,
               d->task == BNN_TASK_REGRESSION ? "regression" : "classification", d->description);
    }
    return 0;
}
