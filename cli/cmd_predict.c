/* cmd_predict.c — `bnnmc predict DIR --data FILE`: predictions for new rows from a run's
 * draws. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "memory.h"
#include "rundir.h"
#include "util.h"

static const char predict_usage[] =
    "usage: bnnmc predict DIR --data FILE [--out FILE] [--threads T] [--seed S]\n"
    "                     [--max-memory SIZE]\n"
    "\n"
    "Predictions for the rows of FILE from every draw stored in the run folder DIR.\n"
    "FILE has the run's input columns, optionally followed by the target (then the RMSE or\n"
    "accuracy is printed on stderr). Writes CSV to stdout or FILE: per row the observed value,\n"
    "the predictive mean, sd and 2.5/50/97.5% quantiles (regression), or the class\n"
    "probabilities and the predicted class (classification).\n"
    "--max-memory SIZE (default 2G; K, M, G) thins the draws the predictions store, one in k\n"
    "of each chain, when a float per row and draw would not fit (said on stderr).\n";

/* The model and draws of the run folder dir (a note on stderr when the run is partial).
 * 0, or the exit status with the message printed. */
static int load_run(const char *dir, bnn_model_spec *sp, bnn_model **m, bnn_draws **dr)
{
    run_folder r;
    char msg[RUN_ERR_LEN];
    if (run_folder_load(&r, dir, msg, sizeof msg) != 0) {
        fprintf(stderr, "bnnmc predict: %s\n", msg);
        return EXIT_USAGE;
    }
    if (r.draws == 0) {
        fprintf(stderr, "bnnmc predict: %s/chain-1.csv: no draws (the run was stopped before it "
                "kept one)\n", dir);
        run_folder_free(&r);
        return EXIT_USAGE;
    }
    if (r.partial)
        fprintf(stderr, "bnnmc predict: note: the run in %s is %s\n", dir, r.status);
    run_folder_note(&r, "predict", stderr);
    *sp = r.spec;
    bnn_error err = {0};
    bnn_status st = bnn_model_new(m, sp, NULL, &err);
    if (!st)
        st = run_folder_draws(&r, *m, dr, &err);
    run_folder_free(&r);   /* the draws are copied out: the chains need not stay */
    if (st)
        die_status(st, &err);
    return 0;
}

/* The rows of path: the model's inputs, then the target (*has_y = 1) or not (0). NULL
 * with the message printed when the file is unreadable or has other columns. */
static bnn_table *read_rows(const char *path, const bnn_model_spec *sp, int *has_y)
{
    bnn_table *t = NULL;
    bnn_error err = {0};
    if (bnn_table_read(&t, path, 0, &err) != BNN_OK) {
        fprintf(stderr, "bnnmc: %s\n", err.msg);
        return NULL;
    }
    *has_y = 1;
    if (t->p + 1 == (size_t)sp->n_inputs) {
        /* inputs only: the "target" the reader split off is the last input */
        bnn_table *u = bnn_table_new(t->n, t->p + 1, t->source);
        if (!u)
            die_runtime("out of memory");
        for (size_t i = 0; i < t->n; i++) {
            memcpy(u->x + i * u->p, t->x + i * t->p, t->p * sizeof(double));
            u->x[i * u->p + t->p] = t->y[i];
            u->y[i] = NAN;
            u->line[i] = t->line[i];
        }
        bnn_table_free(t);
        *has_y = 0;
        return u;
    }
    if (t->p != (size_t)sp->n_inputs) {
        fprintf(stderr, "bnnmc: %s:%zu:1: %zu columns; the run's model takes %d inputs "
                "(optionally followed by the target)\n", path, t->line[0], t->p + 1, sp->n_inputs);
        bnn_table_free(t);
        return NULL;
    }
    if (sp->task == BNN_TASK_CLASSIFICATION) {
        int K = sp->n_classes;
        bnn_status st = bnn_table_check_classes(t, &K, &err);
        if (st)
            die_status(st, &err);
    }
    return t;
}

/* The fit over the rows, on stderr (stdout holds the predictions). */
static void print_fit(const bnn_prediction *p)
{
    if (p->task == BNN_TASK_REGRESSION)
        fprintf(stderr, "bnnmc predict: %zu rows, %zu draws: RMSE %.4g +- %.3g over draws, "
                "%.4g of the posterior mean, 95%% coverage %.1f%%\n", p->n, p->S,
                p->metric_mean, p->metric_std, p->metric_of_mean, 100 * p->coverage95);
    else
        fprintf(stderr, "bnnmc predict: %zu rows, %zu draws: accuracy %.2f%% +- %.2f over "
                "draws, %.2f%% of the posterior mean\n", p->n, p->S, p->metric_mean,
                p->metric_std, p->metric_of_mean);
}

int cmd_predict(int argc, char **argv)
{
    static const struct option longopts[] = {{"data", required_argument, 0, 'd'},
                                              {"out", required_argument, 0, 'o'},
                                              {"threads", required_argument, 0, 't'},
                                              {"seed", required_argument, 0, 's'},
                                              {"max-memory", required_argument, 0, 'm'},
                                              {"help", no_argument, 0, 'h'},
                                              {0, 0, 0, 0}};
    const char *data = NULL, *outp = NULL, *dir = NULL;
    int threads = cpu_count();
    unsigned long seed = 1;
    double limit = 0;
    optind = 1;
    int c;
    while ((c = next_option("predict", argc, argv, longopts)) != -1) {
        switch (c) {
        case 'd': data = optarg; break;
        case 'o': outp = optarg; break;
        case 't': threads = (int)parse_long("predict", "--threads", optarg, 1, 1024); break;
        case 's': seed = (unsigned long)parse_long("predict", "--seed", optarg, 0, 4294967295L); break;
        case 'm':
            if (mem_parse_size(optarg, &limit) != 0 || !(limit >= 1024 * 1024))
                die_usage("predict", "--max-memory: '%s' is not a size of at least 1M (bytes, "
                          "or with K, M or G: 512M, 2G)", optarg);
            break;
        case 'h': fputs(predict_usage, stdout); return 0;
        }
    }
    if (optind < argc)
        dir = argv[optind++];
    if (optind < argc)
        die_usage("predict", "unexpected argument '%s'", argv[optind]);
    if (!dir)
        die_usage("predict", "the run folder DIR is required");
    if (!data)
        die_usage("predict", "--data FILE is required");

    bnn_model_spec sp;
    bnn_model *m = NULL;
    bnn_draws *dr = NULL;
    int rc = load_run(dir, &sp, &m, &dr), has_y = 0;
    bnn_table *t = rc ? NULL : read_rows(data, &sp, &has_y);
    if (!t) {
        bnn_draws_free(dr);
        bnn_model_free(m);
        return rc ? rc : EXIT_USAGE;
    }
    bnn_prediction *p = NULL;
    bnn_error err = {0};
    mem_plan mp;
    mem_plan_predict(&mp, limit, m, dr, t);
    char lim[32], need[32];
    mem_format(mp.limit, lim, sizeof lim);
    if (!mem_fits(&mp, dr->n_kept)) {
        mem_format(mem_estimate(&mp, dr->n_kept, mem_pred_thin(&mp, dr->n_kept)), need,
                   sizeof need);
        die_usage("predict", "--max-memory %s: predicting %zu rows needs about %s even with 4 "
                  "draws per chain", lim, t->n, need);
    }
    size_t thin = mem_pred_thin(&mp, dr->n_kept);
    bnn_draws *kept = thin > 1 ? mem_thin_draws(dr, thin) : NULL;
    if (thin > 1 && !kept)
        die_runtime("out of memory thinning the draws");
    if (thin > 1)
        fprintf(stderr, "bnnmc predict: the predictions are of one draw in %zu of each chain "
                "(%zu of %zu) to stay under --max-memory %s\n", thin, kept->n_kept,
                dr->n_kept, lim);
    bnn_status st = bnn_predict(m, kept ? kept : dr, t, has_y, seed, threads, &p, &err);
    bnn_draws_free(kept);
    if (st)
        die_status(st, &err);
    if (outp)
        write_pred_file(outp, p);
    else if (write_pred_csv(stdout, p) != 0)
        die_runtime("stdout: cannot write: %s", strerror(errno));
    if (has_y)
        print_fit(p);
    bnn_prediction_free(p);
    bnn_draws_free(dr);
    bnn_table_free(t);
    bnn_model_free(m);
    return 0;
}
