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
    "Runs the study's network (one hidden layer of 10 sigmoid units) with 4 chains on a\n"
    "built-in data set (default mackey-glass) twice: with bnnmc's default sampler (nuts,\n"
    "run until its predictions converge, at most 120 s: --max-time; a given --samples N runs\n"
    "N iterations, half warm-up, instead) into the run folder DIR (default ./bnnmc-demo,\n"
    "overwritten), and with the study's (--preset study: Langevin-gradient proposals, 10000\n"
    "iterations, half burn-in) into DIR/study; prints a short summary, the two side by side\n"
    "(the predictions' R-hat and ESS, the test metric, the time), and draws DIR's figures\n"
    "(with gnuplot). Any 'bnnmc sample' option applies to the first run, for example\n"
    "--max-depth 12; the second takes its data, model, chains and seed.\n";

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

/* The iterations a chain ran: --samples, or under --max-time its warm-up and rounds. */
static long iterations(const sample_opts *o, const run_result *r)
{
    if (o->max_time > 0)
        return (long)(r->draws->n_burn + r->draws->n_kept * (size_t)o->thin);
    return o->samples;
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
           o->sampler, (int)o->chains, iterations(o, r),
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
               pd->rhat_max > 1.01 && o->max_time == 0
                   ? "; try --max-time 120 (sample until converged)"
                   : "");
    printf("  sampling took %.2f s, everything %.2f s\n", r->seconds_sampling, r->seconds_total);
    printf("  files: %s/config.json, chain-1..%ld.csv (CmdStan layout), summary.csv, "
           "metrics.json, pred-train.csv, pred-test.csv\n", o->out, o->chains);
}

/* The predictions the demo judges convergence on: the test rows, else the training rows. */
static const bnn_prediction *judged(const run_result *r)
{
    return r->pred_test ? r->pred_test : r->pred_train;
}

/* The study's sampler and the default, one column each. */
static void print_side_by_side(const sample_opts *so, const run_result *sr, const sample_opts *o,
                               const run_result *r)
{
    const bnn_prediction *ps = judged(sr), *pd = judged(r);
    if (!ps || !pd)
        return;
    char a[64], b[64];
    printf("\n  %-28s %-22s %s\n",
           sr->pred_test ? "side by side, test rows" : "side by side, training rows",
           "the study's", "bnnmc's default");
    snprintf(a, sizeof a, "%s, %ld it", so->sampler, so->samples);
    if (o->max_time > 0)   /* run until converged: the iterations it took */
        snprintf(b, sizeof b, "%s, %ld it%s", o->sampler, iterations(o, r),
                 pd->rhat_max < o->target_rhat && pd->ess_bulk_min >= o->target_ess
                     ? ", converged" : "");
    else
        snprintf(b, sizeof b, "%s, %ld it", o->sampler, o->samples);
    printf("  %-28s %-22s %s\n", "sampler, iterations", a, b);
    if (ps->task == BNN_TASK_REGRESSION) {
        snprintf(a, sizeof a, "%.4f +- %.4f", ps->metric_mean, ps->metric_std);
        snprintf(b, sizeof b, "%.4f +- %.4f", pd->metric_mean, pd->metric_std);
        printf("  %-28s %-22s %s\n", "RMSE over draws", a, b);
    } else {
        snprintf(a, sizeof a, "%.2f%% +- %.2f", ps->metric_mean, ps->metric_std);
        snprintf(b, sizeof b, "%.2f%% +- %.2f", pd->metric_mean, pd->metric_std);
        printf("  %-28s %-22s %s\n", "accuracy over draws", a, b);
    }
    snprintf(a, sizeof a, "%.3f", ps->rhat_max);
    snprintf(b, sizeof b, "%.3f", pd->rhat_max);
    printf("  %-28s %-22s %s   (want < 1.01)\n", "prediction R-hat max", a, b);
    snprintf(a, sizeof a, "%.0f", ps->ess_bulk_min);
    snprintf(b, sizeof b, "%.0f", pd->ess_bulk_min);
    printf("  %-28s %-22s %s   (want >= 400)\n", "prediction bulk ESS min", a, b);
    snprintf(a, sizeof a, "%.1f", sr->seconds_sampling);
    snprintf(b, sizeof b, "%.1f", r->seconds_sampling);
    printf("  %-28s %-22s %s\n", "seconds sampling", a, b);
}

int cmd_demo(int argc, char **argv)
{
    sample_opts o;
    sample_opts_defaults(&o);
    o.dataset = "mackey-glass";
    o.out = "bnnmc-demo";
    o.force = 1;
    /* the default sampler run until its predictions converge (Mackey-Glass: 15-23 s on two
     * cores, README "Single precision"), unless a length is given */
    int has_data = 0, has_length = 0;
    for (int i = 1; i < argc; i++) {
        has_data |= strcmp(argv[i], "--train") == 0;
        has_length |= strncmp(argv[i], "--samples", 9) == 0;
    }
    if (!has_length)
        o.max_time = 120;
    if (has_data)
        o.dataset = NULL;
    if (sample_opts_parse(&o, argc, argv, "demo", demo_usage))
        return 0;
    run_result r;
    run_sample(&o, &r);
    print_report(&o, &r);
    int partial = r.partial;
    if (!partial) {
        /* the study's sampler on the same data, model and seed, beside it (after the first
         * run, whose folder holds this one's) */
        char out[4096];
        if (snprintf(out, sizeof out, "%s/study", o.out) >= (int)sizeof out)
            die_usage("demo", "--out: '%s' is too long", o.out);
        sample_opts so;
        sample_opts_study(&o, &so, out);
        if (!o.quiet)
            fprintf(stderr, "bnnmc demo: the study's sampler (--preset study) into %s\n", out);
        run_result sr;
        run_sample(&so, &sr);
        print_side_by_side(&so, &sr, &o, &r);
        partial = sr.partial;
        run_result_free(&sr);
    }
    if (!partial && r.draws->n_kept >= 4 && system("command -v gnuplot >/dev/null 2>&1") == 0) {
        if (plot_run(o.out, NULL) == 0)
            printf("  figures: %s/plots/trace, posterior, predictions, rhat (.png, .svg)\n", o.out);
    } else if (!partial) {
        printf("  figures: skipped, gnuplot is not installed (Debian: apt-get install gnuplot-nox)\n");
    }
    printf("  more: bnnmc summary %s; the study's run: bnnmc summary %s/study\n", o.out, o.out);
    run_result_free(&r);
    return partial ? EXIT_RUNTIME : 0;
}
