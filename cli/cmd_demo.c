/* cmd_demo.c — `bnnmc demo`: the study's network on a built-in data set, end to end: the
 * run (run.c), a short report and the figures (figures.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "figures.h"
#include "run.h"
#include "sample_opts.h"
#include "util.h"

static const char demo_usage[] =
    "usage: bnnmc demo [--dataset NAME] [--out DIR] [sample options]\n"
    "\n"
    "Runs the study's network (one hidden layer of 10 sigmoid units, Langevin-gradient\n"
    "proposals, 10000 iterations, half burn-in) with 4 chains on a built-in data set\n"
    "(default mackey-glass), writes the run folder (default ./bnnmc-demo, overwritten),\n"
    "prints a short summary and draws the figures (with gnuplot). Any 'bnnmc sample' option\n"
    "applies, for example --sampler nuts.\n";

static void print_block(const char *name, const bnn_prediction *p)
{
    if (!p)
        return;
    if (p->task == BNN_TASK_REGRESSION)
        printf("  %-5s RMSE %.4f +- %.4f over draws; of the posterior mean %.4f; 95%% interval "
               "covers %.0f%% of rows\n", name, p->metric_mean, p->metric_std, p->metric_of_mean,
               100 * p->coverage95);
    else
        printf("  %-5s accuracy %.2f%% +- %.2f over draws; of the posterior mean %.2f%%\n", name,
               p->metric_mean, p->metric_std, p->metric_of_mean);
}

/* What was run and how it went, on stdout. */
static void print_report(const sample_opts *o, const run_result *r)
{
    const bnn_model *m = r->model;
    const bnn_model_spec *sp = bnn_model_get_spec(m);
    printf("\nbnnmc demo: %s on %s\n", o->nn ? "Bayesian neural network" : "linear model",
           o->dataset ? o->dataset : o->train);
    printf("  model %d", sp->n_inputs);
    for (int l = 0; l < sp->n_hidden; l++)
        printf("-%d", sp->hidden[l]);
    printf("-%d, %zu parameters; sampler %s, %d chains x %ld iterations (%zu burn-in), "
           "%zu draws kept per chain\n", bnn_model_n_outputs(m), bnn_model_dim(m),
           o->sampler, (int)o->chains, o->samples,
           r->draws->n_burn, r->draws->n_kept);
    printf("  acceptance per chain:");
    for (int c = 0; c < r->draws->chains; c++)
        printf(" %.2f", r->draws->accept_rate[c]);
    printf("\n");
    print_block("train", r->pred_train);
    print_block("test", r->pred_test);
    const bnn_prediction *pd = r->pred_test ? r->pred_test : r->pred_train;
    if (pd)
        printf("  convergence: prediction R-hat max %.3f, median %.3f, %.0f%% of rows above 1.01 "
               "(want none)%s\n", pd->rhat_max, pd->rhat_median, 100 * pd->rhat_share_above,
               pd->rhat_max > 1.01 && strcmp(o->sampler, "nuts") != 0 ? "; try --sampler nuts" : "");
    printf("  sampling took %.2f s, everything %.2f s\n", r->seconds_sampling, r->seconds_total);
    printf("  files: %s/config.json, chain-1..%ld.csv (CmdStan layout), summary.csv, "
           "metrics.json, pred-train.csv, pred-test.csv\n", o->out, o->chains);
}

int cmd_demo(int argc, char **argv)
{
    sample_opts o;
    sample_opts_defaults(&o);
    o.dataset = "mackey-glass";
    o.out = "bnnmc-demo";
    o.force = 1;
    int has_data = 0;
    for (int i = 1; i < argc; i++)
        has_data |= strcmp(argv[i], "--train") == 0;
    if (has_data)
        o.dataset = NULL;
    if (sample_opts_parse(&o, argc, argv, "demo", demo_usage))
        return 0;
    run_result r;
    run_sample(&o, &r);
    print_report(&o, &r);
    if (r.draws->n_kept >= 4 && system("command -v gnuplot >/dev/null 2>&1") == 0) {
        if (plot_run(o.out, NULL) == 0)
            printf("  figures: %s/plots/trace, posterior, predictions, rhat (.png, .svg)\n", o.out);
    } else {
        printf("  figures: skipped, gnuplot is not installed (Debian: apt-get install gnuplot-nox)\n");
    }
    printf("  more: bnnmc summary %s\n", o.out);
    int partial = r.partial;
    run_result_free(&r);
    return partial ? EXIT_RUNTIME : 0;
}
