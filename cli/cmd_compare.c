/* cmd_compare.c — `bnnmc compare DIR...`: R's loo_compare of runs fitted to the same
 * training data, best first. */
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

static const char compare_usage[] =
    "usage: bnnmc compare DIR DIR... [--json] [--threads T]\n"
    "\n"
    "Compares runs fitted to the same training data by their PSIS-LOO expected log\n"
    "predictive density, as R's loo_compare: best first, elpd_diff (the difference from the\n"
    "best, summed over rows) and se_diff (its standard error from the pointwise\n"
    "differences), then each run's elpd_loo, p_loo and looic with their SEs. Runs on other\n"
    "training data are refused: their pointwise elpd are not comparable.\n"
    "  --json        print JSON: arrays names, elpd_diff, se_diff, elpd_loo, se_elpd_loo in\n"
    "                the printed order\n"
    "  --threads T   threads (default: all processors; results never depend on T)\n";

int cmd_compare(int argc, char **argv)
{
    static const struct option longopts[] = {{"json", no_argument, 0, 'j'},
                                              {"threads", required_argument, 0, 't'},
                                              {"help", no_argument, 0, 'h'},
                                              {0, 0, 0, 0}};
    int json = 0, threads = cpu_count(), c;
    optind = 1;
    while ((c = next_option("compare", argc, argv, longopts)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 't': threads = (int)parse_long("compare", "--threads", optarg, 1, 1024); break;
        case 'h': fputs(compare_usage, stdout); return 0;
        }
    }
    size_t K = (size_t)(argc - optind);
    if (K < 2)
        die_usage("compare", "give at least two run folders (one has nothing to compare with)");
    char **dirs = argv + optind;
    loo_run *runs = calloc(K, sizeof *runs);
    const bnn_loo **loos = calloc(K, sizeof *loos);
    size_t *order = malloc(K * sizeof *order);
    double *diff = malloc(2 * K * sizeof *diff);
    if (!runs || !loos || !order || !diff)
        die_runtime("out of memory");
    for (size_t m = 0; m < K; m++) {
        loo_run_compute("compare", dirs[m], threads, 0, &runs[m]);
        if (strcmp(runs[m].data_key, runs[0].data_key) != 0)
            die_usage("compare", "%s was fitted to other training data (%s: %s) than %s (%s: "
                      "%s): their pointwise elpd are not comparable", dirs[m], runs[m].data_name,
                      runs[m].data_key, dirs[0], runs[0].data_name, runs[0].data_key);
        loo_run_warn("compare", dirs[m], runs[m].loo);
        loos[m] = runs[m].loo;
    }
    bnn_error err = {0};
    bnn_status st = bnn_loo_compare(loos, K, order, diff, diff + K, &err);
    if (st)
        die_status(st, &err);
    if (json) {
        cJSON *root = cJSON_CreateObject();
        cJSON *names = cJSON_AddArrayToObject(root, "names");
        const char *keys[4] = {"elpd_diff", "se_diff", "elpd_loo", "se_elpd_loo"};
        cJSON *arr[4];
        for (int a = 0; a < 4; a++)
            arr[a] = cJSON_AddArrayToObject(root, keys[a]);
        for (size_t j = 0; j < K; j++) {
            const bnn_loo *l = loos[order[j]];
            double v[4] = {diff[j], diff[K + j], l->elpd_loo, l->se_elpd_loo};
            cJSON_AddItemToArray(names, cJSON_CreateString(dirs[order[j]]));
            for (int a = 0; a < 4; a++)
                cJSON_AddItemToArray(arr[a], isfinite(v[a]) ? cJSON_CreateNumber(v[a])
                                                            : cJSON_CreateNull());
        }
        print_json(root);
        cJSON_Delete(root);
    } else {
        /* print(loo_compare(...), simplify = FALSE), one decimal as loo prints */
        int w = 4;
        for (size_t m = 0; m < K; m++)
            w = (int)strlen(dirs[m]) > w ? (int)strlen(dirs[m]) : w;
        printf("bnnmc compare: PSIS-LOO of %zu runs on %s, best first\n\n", K, runs[0].data_name);
        printf("%-*s %9s %7s %9s %11s %6s %8s %9s %8s\n", w, "", "elpd_diff", "se_diff",
               "elpd_loo", "se_elpd_loo", "p_loo", "se_p_loo", "looic", "se_looic");
        for (size_t j = 0; j < K; j++) {
            const bnn_loo *l = loos[order[j]];
            printf("%-*s %9.1f %7.1f %9.1f %11.1f %6.1f %8.1f %9.1f %8.1f\n", w, dirs[order[j]],
                   diff[j], diff[K + j], l->elpd_loo, l->se_elpd_loo, l->p_loo, l->se_p_loo,
                   l->looic, l->se_looic);
        }
    }
    for (size_t m = 0; m < K; m++)
        loo_run_free(&runs[m]);
    free(runs);
    free(loos);
    free(order);
    free(diff);
    return 0;
}
