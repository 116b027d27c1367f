/* cmd_summary.c — `bnnmc summary DIR`: the diagnostics of a run folder's chains, the run's
 * metrics and the R-hat of its predictions, with a one-line verdict. */
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "chain_summary.h"
#include "commands.h"
#include "rundir.h"
#include "util.h"

static const char summary_usage[] =
    "usage: bnnmc summary DIR [--json] [--all]\n"
    "\n"
    "Diagnostics and metrics of a finished (or partial) run: per parameter R-hat\n"
    "(rank-normalised split, and the study's Gelman-Rubin), bulk/tail ESS and MCSE, the worst\n"
    "first; the R-hat and ESS of the predictions; the run's metrics; a one-line verdict.\n"
    "  --json   print JSON\n"
    "  --all    list every parameter (default: the 25 worst)\n";

/* "test.rmse_mean": a metric of one block of metrics.json (checked by run_folder_load). */
static double metric(run_folder *r, const char *block, const char *key)
{
    char k[64];
    snprintf(k, sizeof k, "%s.%s", block, key);
    return run_json_metric(&r->metrics, k);
}

/* Per predicted data set: the fit and the R-hat of the predictions. */
static void print_metrics(run_folder *r)
{
    static const char *const blocks[2] = {"train", "test"};
    for (int b = 0; b < 2; b++) {
        if (!r->has_pred[b])
            continue;
        const char *o = blocks[b];
        if (r->spec.task == BNN_TASK_REGRESSION)
            printf("%-5s RMSE %.4f +- %.4f over draws, %.4f of the posterior mean, 95%% coverage "
                   "%.0f%%, lpd %.3f\n", o, metric(r, o, "rmse_mean"), metric(r, o, "rmse_std"),
                   metric(r, o, "rmse_of_mean"), 100 * metric(r, o, "coverage95"), metric(r, o, "lpd"));
        else
            printf("%-5s accuracy %.2f%% +- %.2f over draws, %.2f%% of the posterior mean, lpd "
                   "%.3f\n", o, metric(r, o, "accuracy_mean"), metric(r, o, "accuracy_std"),
                   metric(r, o, "accuracy_of_mean"), metric(r, o, "lpd"));
        printf("      predictions: R-hat max %.3f, median %.3f, %.0f%% of %.0f rows above 1.01; "
               "min bulk ESS %.0f\n", metric(r, o, "pred_rhat_max"), metric(r, o, "pred_rhat_median"),
               100 * metric(r, o, "pred_rhat_share_above_1_01"), metric(r, o, "rows"),
               metric(r, o, "pred_ess_bulk_min"));
    }
}

/* --max-memory thinned the stored predictive draws (metrics.json's "memory"): the
 * predictions above, and their R-hat and ESS, are of the draws kept, not of every draw. */
static void print_memory(run_folder *r)
{
    if (!run_json_has(&r->metrics, "memory.pred_thin"))
        return;
    double thin = run_json_metric(&r->metrics, "memory.pred_thin");
    double kept = run_json_metric(&r->metrics, "memory.pred_draws_per_chain");
    double all = run_json_metric(&r->metrics, "draws_per_chain");
    double lim = run_json_metric(&r->metrics, "memory.limit_bytes") / (1024.0 * 1024);
    double est = run_json_metric(&r->metrics, "memory.estimate_bytes") / (1024.0 * 1024);
    if (thin > 1)
        printf("      memory: the predictions (and their R-hat and ESS) are of one draw in %.0f "
               "of each chain,\n      %.0f of %.0f, to stay under --max-memory %.0f MB "
               "(estimated peak %.0f MB); the chain CSVs\n      and the parameters' diagnostics "
               "keep every draw\n", thin, kept, all, lim, est);
    cJSON *mem = cJSON_GetObjectItem(r->metrics.root, "memory");
    if (cJSON_IsTrue(cJSON_GetObjectItem(mem, "rounds_stopped")))
        printf("      memory: the rounds of --max-time stopped before convergence: another "
               "round's draws would\n      not fit under --max-memory %.0f MB\n", lim);
}

/* A variational run: the draws' statistics, the fit, and what they are (no verdict on
 * convergence from R-hat or ESS: the draws are independent draws of q by construction). */
static void print_variational(run_folder *r, const summary_set *s, int all)
{
    printf("bnnmc summary of %s: a variational approximation (ADVI %s), %zu independent draws "
           "of q\n\n", r->dir, r->vi_algorithm, s->N);
    print_table(s, all ? s->k : 25);
    printf("\n");
    print_metrics(r);
    run_json *m = &r->metrics;
    /* run_folder_load checked these keys */
    double elbo = run_json_metric(m, "elbo");
    int conv = run_json_choice(m, "convergence", vi_convergence);
    long iters = run_json_int(m, "iterations", 0, LONG_MAX);
    if (conv)
        printf("\nELBO %.3f after %ld iterations: converged (the %s relative ELBO change fell "
               "below --tol-rel-obj).\n", elbo, iters, vi_convergence[conv]);
    else
        printf("\nELBO %.3f after %ld iterations: NOT converged (the maximum of iterations was "
               "reached: raise --iter, or see the ELBO history in metrics.json).\n", elbo, iters);
    printf("note: this folder holds an APPROXIMATION of the posterior, not posterior draws: the\n"
           "draws are independent draws of q, so their R-hat and ESS above say nothing about the\n"
           "posterior; %s\nCompare with MCMC by 'bnnmc loo' or 'bnnmc compare', or by the test "
           "metrics.\n", strcmp(r->vi_algorithm, "fullrank") == 0
                            ? "full-rank q is one Gaussian, whatever the posterior's shape."
                            : "mean-field q ignores correlations and underestimates the spread.");
}

int cmd_summary(int argc, char **argv)
{
    static const struct option longopts[] = {{"json", no_argument, 0, 'j'}, {"all", no_argument, 0, 'a'},
                                              {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int json = 0, all = 0, c;
    optind = 1;
    while ((c = next_option("summary", argc, argv, longopts)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'a': all = 1; break;
        case 'h': fputs(summary_usage, stdout); return 0;
        }
    }
    if (optind + 1 != argc)
        die_usage("summary", optind == argc ? "the run folder DIR is required" : "give one run folder");
    const char *dir = argv[optind];
    run_folder r;
    summary_set s;
    char err[RUN_ERR_LEN];
    if (run_folder_load(&r, dir, err, sizeof err) != 0) {
        fprintf(stderr, "bnnmc summary: %s\n", err);
        return EXIT_USAGE;
    }
    if (summarise_chains(r.chain, r.chains, cpu_count(), &s, err, sizeof err) != 0) {
        fprintf(stderr, "bnnmc summary: %s: %s\n", dir, err);
        summary_set_free(&s);
        run_folder_free(&r);
        return EXIT_USAGE;
    }
    size_t params, rb, eb;
    count_bad(&s, &params, &rb, &eb);
    int is_nn = r.spec.n_hidden > 0;
    if (json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "run", dir);
        cJSON_AddNumberToObject(root, "chains", (double)s.M);
        cJSON_AddNumberToObject(root, "draws_per_chain", (double)s.N);
        cJSON_AddBoolToObject(root, "partial", s.partial);
        cJSON_AddStringToObject(root, "method", r.variational ? "variational" : "sample");
        int approx = r.variational || (r.kernel && r.kernel->approximate);
        cJSON_AddBoolToObject(root, "approximation", approx);
        cJSON_AddNumberToObject(root, "parameters_rhat_above_1_01", (double)rb);
        cJSON_AddNumberToObject(root, "parameters_ess_below_100_per_chain", (double)eb);
        cJSON_AddNumberToObject(root, "divergent", (double)s.divergent);
        cJSON_AddNumberToObject(root, "max_treedepth_hits", (double)s.depth_hits);
        if (s.n_swap) {
            cJSON *sw = cJSON_AddArrayToObject(root, "swap_rates");
            for (size_t i = 0; i < s.n_swap; i++)
                cJSON_AddItemToArray(sw, isnan(s.swap_rate[i]) ? cJSON_CreateNull()
                                                               : cJSON_CreateNumber(s.swap_rate[i]));
        }
        cJSON_AddItemToObject(root, "parameters", summary_json(&s));
        cJSON_AddItemToObject(root, "metrics", cJSON_Duplicate(r.metrics.root, 1));
        print_json(root);
        cJSON_Delete(root);
    } else if (r.variational) {
        print_variational(&r, &s, all);
    } else {
        printf("bnnmc summary of %s: %zu chains x %zu draws%s%s%s%s\n\n", dir, s.M, s.N,
               s.algorithm ? ", sampler " : "", s.algorithm ? s.algorithm : "",
               r.kernel && r.kernel->approximate ? " (APPROXIMATE)" : "",
               s.partial ? " (a PARTIAL run: stopped early)" : "");
        print_table(&s, all ? s.k : 25);
        printf("\n");
        print_metrics(&r);
        print_memory(&r);
        print_health(&s);
        if (r.kernel && r.kernel->approximate)
            printf("note: %s is APPROXIMATE: a minibatch sampler without a Metropolis correction,\n"
                   "so its draws follow a distribution near the posterior (nearer at a smaller step),\n"
                   "not the posterior; R-hat and ESS say whether the chains agree, not whether they\n"
                   "are right. divergent__ counts updates refused as non-finite (a step too large:\n"
                   "lower --%s).\n", r.kernel->name,
                   r.kernel->options && bnn_kernel_option(r.kernel, "sghmc_lr") ? "sghmc-lr"
                                                                                : "sgld-step");
        /* the verdict on the predictions: of the test rows, or the training rows without */
        const char *te = r.has_pred[1] ? "test" : r.has_pred[0] ? "train" : NULL;
        printf("\nverdict: %zu of %zu parameters have R-hat > 1.01, %zu have bulk or tail ESS below "
               "100 per chain", rb, params, eb);
        if (te)
            printf("; %.0f of %.0f %s predictions have R-hat > 1.01",
                   round(metric(&r, te, "pred_rhat_share_above_1_01") * metric(&r, te, "rows")),
                   metric(&r, te, "rows"), te);
        printf(".\n");
        if (is_nn)
            printf("note: a network's weights are not identifiable (hidden units can swap places, "
                   "signs can flip),\nso their R-hat stays high even when the chains agree on "
                   "everything that matters; the R-hat\nof the predictions is the diagnostic that "
                   "means something for a network.\n");
    }
    summary_set_free(&s);
    run_folder_free(&r);
    return 0;
}
