/* main.c — the bnnmc command line: subcommand dispatch, usage, common option parsing.
 *
 * Exit codes: 0 success, 1 runtime failure, 2 usage or input error. Results go to stdout
 * or the run folder; progress, notes and errors go to stderr. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void die_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "bnnmc%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (try 'bnnmc%s%s --help')\n", cmd ? " " : "", cmd ? cmd : "");
    exit(EXIT_USAGE);
}

void die_status(bnn_status st, const bnn_error *err)
{
    fprintf(stderr, "bnnmc: %s\n", err->msg[0] ? err->msg : bnn_status_str(st));
    exit(st == BNN_EPARSE || st == BNN_EINVAL ? EXIT_USAGE : EXIT_RUNTIME);
}

void die_runtime(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "bnnmc: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    exit(EXIT_RUNTIME);
}

double parse_double(const char *cmd, const char *opt, const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v))
        die_usage(cmd, "%s: '%s' is not a number", opt, s);
    return v;
}

long parse_long(const char *cmd, const char *opt, const char *s, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno)
        die_usage(cmd, "%s: '%s' is not an integer", opt, s);
    if (v < lo || v > hi)
        die_usage(cmd, "%s: %ld is out of range %ld..%ld", opt, v, lo, hi);
    return v;
}

int parse_choice(const char *cmd, const char *opt, const char *s, const char *const *names)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    char list[256] = "";
    for (int i = 0; names[i]; i++) {
        strncat(list, i ? "|" : "", sizeof list - strlen(list) - 1);
        strncat(list, names[i], sizeof list - strlen(list) - 1);
    }
    die_usage(cmd, "%s: '%s' is not one of %s", opt, s, list);
}

static const char main_usage[] =
    "bnnmc " BNNMC_VERSION " - Bayesian linear, logistic and neural-network models by MCMC\n"
    "\n"
    "usage: bnnmc COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  sample    --train FILE [--test FILE] --out DIR [options]   draw posterior samples\n"
    "  sample    --dataset NAME --out DIR [options]              on a built-in data set\n"
    "  summary   DIR                diagnostics and metrics of a finished (or partial) run\n"
    "  predict   DIR --data FILE    predictions with credible intervals for new rows\n"
    "  diagnose  FILE.csv...        diagnostics of any CmdStan-format draws (Stan's too)\n"
    "  demo                         the study's network on a built-in data set, end to end\n"
    "  plot      DIR                figures into DIR/plots/ (PNG and SVG, drawn by gnuplot)\n"
    "  datasets                     list the built-in data sets\n"
    "\n"
    "'bnnmc COMMAND --help' describes a command. Exit status: 0 success, 1 runtime failure,\n"
    "2 usage or input error.\n";

static void write_table(const bnn_table *t, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        die_runtime("%s: cannot write: %s", path, strerror(errno));
    for (size_t i = 0; i < t->n; i++) {
        for (size_t j = 0; j < t->p; j++)
            fprintf(f, "%.17g ", t->x[i * t->p + j]);
        fprintf(f, "%.17g\n", t->y[i]);
    }
    if (fclose(f) != 0)
        die_runtime("%s: cannot write: %s", path, strerror(errno));
}

static int cmd_datasets(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        puts("usage: bnnmc datasets [--write NAME DIR]\n\nLists the built-in data sets "
             "(generated, deterministic); use one with\n'bnnmc sample --dataset NAME'. "
             "--write saves NAME's split as DIR/train.txt and\nDIR/test.txt in the data file "
             "format.");
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "--write") == 0) {
        if (argc != 4)
            die_usage("datasets", "--write needs a data set NAME and a folder DIR");
        bnn_table *tr = NULL, *te = NULL;
        bnn_error err = {0};
        bnn_status st = bnn_dataset_make(argv[2], 1, &tr, &te, &err);
        if (st)
            die_status(st, &err);
        char path[4096];
        snprintf(path, sizeof path, "%s/train.txt", argv[3]);
        write_table(tr, path);
        snprintf(path, sizeof path, "%s/test.txt", argv[3]);
        write_table(te, path);
        bnn_table_free(tr);
        bnn_table_free(te);
        return 0;
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

int main(int argc, char **argv)
{
    if (argc < 2)
        die_usage(NULL, "no command given");
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(main_usage, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        puts("bnnmc " BNNMC_VERSION);
        return 0;
    }
    if (strcmp(cmd, "sample") == 0)
        return cmd_sample(argc - 1, argv + 1);
    if (strcmp(cmd, "demo") == 0)
        return cmd_demo(argc - 1, argv + 1);
    if (strcmp(cmd, "predict") == 0)
        return cmd_predict(argc - 1, argv + 1);
    if (strcmp(cmd, "datasets") == 0)
        return cmd_datasets(argc - 1, argv + 1);
    if (strcmp(cmd, "summary") == 0)
        return cmd_summary(argc - 1, argv + 1);
    if (strcmp(cmd, "diagnose") == 0)
        return cmd_diagnose(argc - 1, argv + 1);
    if (strcmp(cmd, "plot") == 0)
        return cmd_plot(argc - 1, argv + 1);
    die_usage(NULL, "unknown command '%s'", cmd);
}
