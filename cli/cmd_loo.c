/* cmd_loo.c — `bnnmc loo DIR`: PSIS-LOO and WAIC of a run from the log-likelihood of its
 * training rows under every kept draw (loo_run.c), as R's loo computes them. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "chain_summary.h"
#include "commands.h"
#include "loo_run.h"
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
