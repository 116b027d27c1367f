/* cmd_loo.c — `bnnmc loo DIR`: PSIS-LOO and WAIC of a run from the log-likelihood of its
 * training rows under every kept draw, as R's loo computes them; and loo_run_compute,
 * which `bnnmc compare` shares. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "chain_summary.h"
#include "commands.h"
#include "loo_run.h"
#include "rundir.h"
#include "util.h"

static const char loo_usage[] =
    "usage: bnnmc loo DIR [--json] [--log-lik FILE] [--threads T]\n"
    "\n"
    "Leave-one-out cross-validation of the run in DIR by Pareto-smoothed importance sampling\n"
    "(PSIS-LOO), and WAIC, from the log-likelihood of each training row under every kept\n"
    "draw, computed as R's loo 2.5.1 computes them (relative efficiency r_eff included).\n"
    "The training data are read again from the file config.json names (its sha256 must\n"
    "match) or made again (a built-in data set). Pareto k > 0.7 marks rows whose estimate\n"
    "is unreliable (a warning says how many).\n"
    "  --json           print JSON: the estimates, their SEs and the pointwise pareto_k\n"
    "  --log-lik FILE   also write the log-likelihood matrix as CSV (chain,draw,1..n)\n"
    "  --threads T      threads (default: all processors; results never depend on T)\n";

/* The run's training table, made again as `bnnmc sample` made it; its identity into
 * out->data_key. Exits 2 when it cannot be had or is not the run's. */
static bnn_table *run_train(const char *cmd, run_folder *r, loo_run *out)
{
    run_json *j = &r->config;
    bnn_table *train = NULL, *test = NULL;
    bnn_error err = {0};
    if (run_json_has(j, "data.dataset")) {
        const char *name = run_json_str(j, "data.dataset");
        if (j->err[0])
            die_usage(cmd, "%s", j->err);
        if (bnn_dataset_make(name, 1, &train, &test, &err) != BNN_OK)
            die_usage(cmd, "%s/config.json: data.dataset: %s", r->dir, err.msg);
        bnn_table_free(test);
        snprintf(out->data_key, sizeof out->data_key, "built-in data set %s", name);
    } else {
        if (!run_json_has(j, "data.train.path"))
            die_usage(cmd, "%s/config.json: the run names no training data file (data.train.path)",
                      r->dir);
        const char *path = run_json_str(j, "data.train.path");
        const char *sha = run_json_str(j, "data.train.sha256");
        long col = run_json_int(j, "data.train.target_col", 0, INT_MAX);
        if (j->err[0])
            die_usage(cmd, "%s", j->err);
        char hex[65];
        file_sha256(path, hex);
        if (!hex[0])
            die_usage(cmd, "%s: cannot read the run's training data: %s", path, strerror(errno));
        if (strcmp(hex, sha) != 0)
            die_usage(cmd, "%s: the training data changed since the run (sha256 %.12s..., "
                      "%s/config.json recorded %.12s...)", path, hex, r->dir, sha);
        if (bnn_table_read(&train, path, (int)col, &err) != BNN_OK)
            die_input(&err);
        snprintf(out->data_key, sizeof out->data_key, "sha256 %s, target column %ld", sha, col);
    }
    snprintf(out->data_name, sizeof out->data_name, "%s", train->source);
    long rows = run_json_int(j, "data.train.rows", 1, LONG_MAX);
    if (j->err[0])
        die_usage(cmd, "%s", j->err);
    if (train->n != (size_t)rows || train->p != (size_t)r->spec.n_inputs)
        die_usage(cmd, "%s: %zu rows of %zu inputs; %s/config.json recorded %ld rows of %d",
                  train->source, train->n, train->p, r->dir, rows, r->spec.n_inputs);
    if (r->spec.task == BNN_TASK_CLASSIFICATION) {
        int K = r->spec.n_classes;
        if (bnn_table_check_classes(train, &K, &err) != BNN_OK)
            die_input(&err);
    }
    return train;
}

void loo_run_compute(const char *cmd, const char *dir, int threads, int keep_ll, loo_run *out)
{
    memset(out, 0, sizeof *out);
    run_folder r;
    char msg[RUN_ERR_LEN];
    if (run_folder_load(&r, dir, msg, sizeof msg) != 0)
        die_usage(cmd, "%s", msg);
    if (r.draws < 2)
        die_usage(cmd, "%s: %zu kept draws per chain: LOO needs at least 2", dir, r.draws);
    if (r.partial)
        fprintf(stderr, "bnnmc %s: note: the run in %s is %s\n", cmd, dir, r.status);
    bnn_table *train = run_train(cmd, &r, out);
    bnn_model *m = NULL;
    bnn_draws *dr = NULL;
    bnn_error err = {0};
    bnn_status st = bnn_model_new(&m, &r.spec, NULL, &err);
    if (!st)
        st = run_folder_draws(&r, m, &dr, &err);
    run_folder_free(&r);
    if (st)
        die_status(st, &err);
    size_t n = train->n, S = (size_t)dr->chains * dr->n_kept;
    out->chains = (size_t)dr->chains;
    out->draws = dr->n_kept;
    double *ll = malloc(n * S * sizeof *ll);
    if (!ll)
        die_runtime("out of memory for %zu rows x %zu draws", n, S);
    if ((st = bnn_model_loglik(m, dr->theta, S, train, threads, ll, &err)) != BNN_OK)
        die_status(st, &err);
    /* a draw whose likelihood is not finite (tau2 so small that a residual underflows) is
     * reported by bnn_loo_compute as observation and draw; name the chain too */
    for (size_t i = 0; i < n * S; i++)
        if (!isfinite(ll[i]))
            die_usage(cmd, "%s: the log-likelihood of training row %zu under chain %zu, draw "
                      "%zu is %g: LOO needs finite values", dir, i / S + 1,
                      i % S / dr->n_kept + 1, i % S % dr->n_kept + 1, ll[i]);
    if ((st = bnn_loo_compute(ll, n, out->chains, out->draws, threads, &out->loo, &err)))
        die_status(st, &err);
    if (keep_ll)
        out->ll = ll;
    else
        free(ll);
    bnn_draws_free(dr);
    bnn_model_free(m);
    bnn_table_free(train);
}

void loo_run_free(loo_run *r)
{
    bnn_loo_free(r->loo);
    free(r->ll);
    r->loo = NULL;
    r->ll = NULL;
}

void loo_run_warn(const char *cmd, const char *dir, const bnn_loo *l)
{
    size_t high = 0, slight = 0;
    for (size_t i = 0; i < l->n; i++) {
        high += l->pareto_k[i] > 0.7;
        slight += l->pareto_k[i] > 0.5 && l->pareto_k[i] <= 0.7;
    }
    if (high)
        fprintf(stderr, "bnnmc %s: warning: %s: %zu of %zu Pareto k values are above 0.7 (too "
                "high): PSIS-LOO is unreliable for those rows\n", cmd, dir, high, l->n);
    else if (slight)
        fprintf(stderr, "bnnmc %s: warning: %s: %zu of %zu Pareto k values are in (0.5, 0.7] "
                "(slightly high)\n", cmd, dir, slight, l->n);
}

/* --log-lik: S rows (chain-major) of n values, full precision, written atomically. */
static void write_log_lik(const char *path, const loo_run *lr)
{
    size_t n = lr->loo->n, S = lr->loo->S;
    atomic_file a;
    atomic_open_or_exit(&a, path);
    fputs("chain,draw", a.f);
    for (size_t i = 0; i < n; i++)
        fprintf(a.f, ",%zu", i + 1);
    fputc('\n', a.f);
    for (size_t s = 0; s < S; s++) {
        fprintf(a.f, "%zu,%zu", s / lr->draws + 1, s % lr->draws + 1);
        for (size_t i = 0; i < n; i++)
            fprintf(a.f, ",%.17g", lr->ll[i * S + s]);
        fputc('\n', a.f);
    }
    atomic_close_or_exit(&a);
}

static cJSON *num(double v)
{
    return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

static void print_loo_json(const char *dir, const loo_run *lr)
{
    const bnn_loo *l = lr->loo;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "run", dir);
    cJSON_AddNumberToObject(root, "n", (double)l->n);
    cJSON_AddNumberToObject(root, "draws", (double)l->S);
    cJSON_AddNumberToObject(root, "chains", (double)lr->chains);
    const struct {
        const char *key;
        double v;
    } est[] = {{"elpd_loo", l->elpd_loo},   {"se_elpd_loo", l->se_elpd_loo},
               {"p_loo", l->p_loo},         {"se_p_loo", l->se_p_loo},
               {"looic", l->looic},         {"se_looic", l->se_looic},
               {"mcse_elpd_loo", l->mcse_elpd_loo},
               {"elpd_waic", l->elpd_waic}, {"se_elpd_waic", l->se_elpd_waic},
               {"p_waic", l->p_waic},       {"se_p_waic", l->se_p_waic},
               {"waic", l->waic},           {"se_waic", l->se_waic}};
    for (size_t e = 0; e < sizeof est / sizeof est[0]; e++)
        cJSON_AddItemToObject(root, est[e].key, num(est[e].v));
    /* Inf (a tail too short to fit) is null, as JSON has no infinity */
    cJSON *k = cJSON_AddArrayToObject(root, "pareto_k");
    cJSON *p = cJSON_AddArrayToObject(root, "elpd_loo_pointwise");
    for (size_t i = 0; i < l->n; i++) {
        cJSON_AddItemToArray(k, num(l->pareto_k[i]));
        cJSON_AddItemToArray(p, num(l->elpd_loo_i[i]));
    }
    print_json(root);
    cJSON_Delete(root);
}

/* loo's print.psis_loo (one decimal, as its default digits = 1), then waic's print. */
static void print_loo_table(const char *dir, const loo_run *lr)
{
    const bnn_loo *l = lr->loo;
    printf("bnnmc loo of %s: computed from %zu by %zu log-likelihood matrix (%zu chains x %zu "
           "draws)\n\n", dir, l->S, l->n, lr->chains, lr->draws);
    printf("%-10s %9s %7s\n", "", "Estimate", "SE");
    printf("%-10s %9.1f %7.1f\n", "elpd_loo", l->elpd_loo, l->se_elpd_loo);
    printf("%-10s %9.1f %7.1f\n", "p_loo", l->p_loo, l->se_p_loo);
    printf("%-10s %9.1f %7.1f\n", "looic", l->looic, l->se_looic);
    printf("------\n");
    if (isnan(l->mcse_elpd_loo))
        printf("Monte Carlo SE of elpd_loo is NA (some k > 0.7).\n");
    else
        printf("Monte Carlo SE of elpd_loo is %.1f.\n", l->mcse_elpd_loo);
    /* pareto_k_table: counts and the smallest PSIS n_eff in loo's k classes */
    static const char *const range[4] = {"(-Inf, 0.5]", " (0.5, 0.7]", "   (0.7, 1]", "   (1, Inf)"};
    static const char *const label[4] = {"(good)", "(ok)", "(bad)", "(very bad)"};
    size_t count[4] = {0};
    double min_eff[4] = {INFINITY, INFINITY, INFINITY, INFINITY};
    for (size_t i = 0; i < l->n; i++) {
        double k = l->pareto_k[i];
        int c = k <= 0.5 ? 0 : k <= 0.7 ? 1 : k <= 1 ? 2 : 3;
        count[c]++;
        min_eff[c] = fmin(min_eff[c], l->n_eff[i]);
    }
    if (count[1] + count[2] + count[3] == 0) {
        printf("\nAll Pareto k estimates are good (k < 0.5).\n");
    } else {
        printf("\nPareto k diagnostic values:\n");
        printf("%-11s %-10s %5s %7s %10s\n", "", "", "Count", "Pct.", "Min. n_eff");
        for (int c = 0; c < 4; c++) {
            char eff[32] = "NA";
            if (count[c])
                snprintf(eff, sizeof eff, "%.0f", min_eff[c]);
            printf("%-11s %-10s %5zu %6.1f%% %10s\n", range[c], label[c], count[c],
                   100.0 * (double)count[c] / (double)l->n, eff);
        }
        if (count[2] + count[3] == 0)
            printf("\nAll Pareto k estimates are ok (k < 0.7).\n");
    }
    printf("\n%-10s %9s %7s\n", "", "Estimate", "SE");
    printf("%-10s %9.1f %7.1f\n", "elpd_waic", l->elpd_waic, l->se_elpd_waic);
    printf("%-10s %9.1f %7.1f\n", "p_waic", l->p_waic, l->se_p_waic);
    printf("%-10s %9.1f %7.1f\n", "waic", l->waic, l->se_waic);
}

int cmd_loo(int argc, char **argv)
{
    static const struct option longopts[] = {{"json", no_argument, 0, 'j'},
                                              {"log-lik", required_argument, 0, 'l'},
                                              {"threads", required_argument, 0, 't'},
                                              {"help", no_argument, 0, 'h'},
                                              {0, 0, 0, 0}};
    int json = 0, threads = cpu_count(), c;
    const char *ll_path = NULL;
    optind = 1;
    while ((c = next_option("loo", argc, argv, longopts)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'l': ll_path = optarg; break;
        case 't': threads = (int)parse_long("loo", "--threads", optarg, 1, 1024); break;
        case 'h': fputs(loo_usage, stdout); return 0;
        }
    }
    if (optind + 1 != argc)
        die_usage("loo", optind == argc ? "the run folder DIR is required"
                                        : "give one run folder ('bnnmc compare' takes several)");
    const char *dir = argv[optind];
    loo_run lr;
    loo_run_compute("loo", dir, threads, ll_path != NULL, &lr);
    if (ll_path)
        write_log_lik(ll_path, &lr);
    loo_run_warn("loo", dir, lr.loo);
    if (json)
        print_loo_json(dir, &lr);
    else
        print_loo_table(dir, &lr);
    loo_run_free(&lr);
    return 0;
}
