/* cmd_variational.c — `bnnmc variational`: ADVI (bnn_vi_run, CmdStan's variational method)
 * on the model and data `bnnmc sample` takes, written as a run folder that summary, predict,
 * plot, loo and compare read. The options of the data and the model are sample's, parsed by
 * sample's code (sample_opts_parse_with); data, model and starting point come from run.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "checkpoint.h"
#include "commands.h"
#include "run.h"
#include "rundir.h"
#include "sample_opts.h"
#include "util.h"

static const char variational_usage[] =
    "usage: bnnmc variational (--train FILE [--test FILE] | --dataset NAME) --out DIR [options]\n"
    "\n"
    "Fits a Gaussian approximation q of the posterior by ADVI (Kucukelbir et al. 2017), as\n"
    "CmdStan's variational method does, and writes the run folder DIR: config.json,\n"
    "chain-1.csv (CmdStan's variational CSV: the mean of q, then draws of q), summary.csv,\n"
    "metrics.json, pred-train.csv, pred-test.csv; summary, predict, plot, loo and compare\n"
    "read it. It is an APPROXIMATION, not posterior sampling: q is fitted on the\n"
    "unconstrained parameters (eta = log tau2); mean-field ignores correlations and\n"
    "underestimates the posterior's spread, full-rank is one Gaussian however many modes the\n"
    "posterior has; the draws are independent draws of q, so their R-hat and ESS say nothing\n"
    "about the posterior, only the ELBO's convergence (metrics.json) says the fit settled.\n"
    "\n"
    "data, model and output (as 'bnnmc sample'):\n"
    "  --train FILE            training data\n"
    "  --test FILE             test data (same columns as --train)\n"
    "  --dataset NAME          a built-in data set instead (see 'bnnmc datasets')\n"
    "  --target-col N          1-based column of the target (default: the last)\n"
    "  --out DIR               run folder (required); an existing run is kept unless --force\n"
    "  --force                 overwrite the run in DIR\n"
    "  --quiet                 no progress table\n"
    "  --task regression|classification   default: inferred from the targets\n"
    "  --model linear|nn       linear or multinomial logistic regression, or a network (nn)\n"
    "  --hidden 10 | 32,16     hidden layer widths (nn; default 10)\n"
    "  --activation sigmoid|tanh|relu   hidden activation (default sigmoid)\n"
    "  --output sigmoid|identity        output: as 'bnnmc sample --help' says\n"
    "  --prior-var V | V1,V2 | inf      N(0, V) prior on weights and biases, per layer; inf\n"
    "                          flat (linear; nn only on the output layer: 25,inf) (default\n"
    "                          25 for nn, 5 for linear)\n"
    "  --nu1 A --nu2 B         inverse-gamma(A, B) prior on tau2 (default 0, 0: 1/tau2)\n"
    "  --seed S                random seed (default 1)\n"
    "  --threads T             threads of the predictions and summary (the fit runs on one;\n"
    "                          results never depend on T)\n"
    "  --init FILE             the mean of the first q: one row of values, the parameters in\n"
    "                          the order of the CSV header (tau2 > 0); default: sample's\n"
    "                          start of chain 1 (weights ~ N(0, 1), tau2 = mean squared residual)\n"
    "  --init map              start at a local maximum of the log posterior found by BFGS\n"
    "                          from that default start\n"
    "variational (CmdStan's names and defaults):\n"
    "  --algorithm meanfield|fullrank   q's family: independent coordinates (meanfield,\n"
    "                          default) or a full covariance (fullrank: dim^2/2 parameters)\n"
    "  --iter N                maximum iterations of the gradient ascent (default 10000)\n"
    "  --grad-samples N        draws of q per ELBO gradient (default 1)\n"
    "  --elbo-samples N        draws of q per ELBO estimate (default 100)\n"
    "  --eta E                 step-size scale, > 0 (default 1; chosen by adaptation unless\n"
    "                          --no-adapt)\n"
    "  --no-adapt              use --eta as given (CmdStan's adapt engaged=0)\n"
    "  --adapt-iter N          iterations per candidate eta in the adaptation (default 50)\n"
    "  --tol-rel-obj X         stop when the mean or median relative ELBO change is below X,\n"
    "                          > 0 (default 0.01)\n"
    "  --eval-elbo N           iterations between ELBO estimates (default 100)\n"
    "  --output-samples N      draws of q written and used by the predictions (default 1000)\n";

enum {
    V_ALGORITHM = SAMPLE_OPTS_EXTRA, V_ITER, V_GRAD, V_ELBO, V_ETA, V_NOADAPT, V_ADAPT_ITER,
    V_TOL, V_EVAL, V_OUTPUT
};

static const struct option vi_longopts[] = {
    {"algorithm", required_argument, 0, V_ALGORITHM}, {"iter", required_argument, 0, V_ITER},
    {"grad-samples", required_argument, 0, V_GRAD}, {"elbo-samples", required_argument, 0, V_ELBO},
    {"eta", required_argument, 0, V_ETA}, {"no-adapt", no_argument, 0, V_NOADAPT},
    {"adapt-iter", required_argument, 0, V_ADAPT_ITER},
    {"tol-rel-obj", required_argument, 0, V_TOL}, {"eval-elbo", required_argument, 0, V_EVAL},
    {"output-samples", required_argument, 0, V_OUTPUT}, {0, 0, 0, 0}};

/* A positive finite number for opt, or exit 2 naming it. */
static double positive(const char *opt, const char *s)
{
    double v = parse_double("variational", opt, s);
    if (!(v > 0) || !isfinite(v))
        die_usage("variational", "%s: must be a positive number, got %s", opt, s);
    return v;
}

/* sample_opts_parse_with's hook: the variational settings into the bnn_vi_config at ctx. */
static void vi_option(void *ctx, int val, const char *arg)
{
    static const char *const algorithms[] = {"meanfield", "fullrank", NULL};   /* bnn_vi_family */
    static const long big = 1000000000L;
    const char *C = "variational";
    bnn_vi_config *vc = ctx;
    switch (val) {
    case V_ALGORITHM: vc->algorithm = (bnn_vi_family)parse_choice(C, "--algorithm", arg, algorithms); break;
    case V_ITER: vc->iter = (size_t)parse_long(C, "--iter", arg, 1, big); break;
    case V_GRAD: vc->grad_samples = (size_t)parse_long(C, "--grad-samples", arg, 1, 1000000); break;
    case V_ELBO: vc->elbo_samples = (size_t)parse_long(C, "--elbo-samples", arg, 1, 1000000); break;
    case V_ETA: vc->eta = positive("--eta", arg); break;
    case V_NOADAPT: vc->adapt = 0; break;
    case V_ADAPT_ITER: vc->adapt_iter = (size_t)parse_long(C, "--adapt-iter", arg, 1, big); break;
    case V_TOL: vc->tol_rel_obj = positive("--tol-rel-obj", arg); break;
    case V_EVAL: vc->eval_elbo = (size_t)parse_long(C, "--eval-elbo", arg, 1, big); break;
    case V_OUTPUT: vc->output_samples = (size_t)parse_long(C, "--output-samples", arg, 1, 10000000); break;
    default: break;
    }
}

/* CmdStan's progress table, a line at a time, on stderr. */
static void vi_progress(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "%s\n", line);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The start: chain 1's default start or --init's row; --init map moves it to a local
 * maximum of log p first. The caller frees it. */
static double *vi_start(const sample_opts *o, const bnn_model *m, const bnn_density *d)
{
    double *theta = run_make_init(o, m, d);
    if (!o->init_map)
        return theta;
    bnn_optimize_result r;
    bnn_error err = {0};
    bnn_status st = bnn_optimize(d, theta, NULL, &r, &err);
    if (st)
        die_status(st, &err);
    if (!o->quiet)
        fprintf(stderr, "bnnmc variational: q starts at a local optimum: log density %.6g (from "
                "%.6g), |gradient| %.2g, %zu BFGS iterations, %s\n", r.lp, r.lp_start,
                r.grad_norm, r.iter, bnn_optim_status_str(r.status));
    return theta;
}

/* The predictions of the train (and test) rows from q's draws, as sample makes them from
 * its chains (the same seeds), into the folder. */
static void vi_predict(const sample_opts *o, const bnn_model *m, const bnn_draws *dr,
                       const bnn_table *train, const bnn_table *test, bnn_prediction **pt,
                       bnn_prediction **pe)
{
    bnn_error err = {0};
    bnn_status st = bnn_predict(m, dr, train, 1, o->seed, (int)o->threads, pt, &err);
    if (!st && test)
        st = bnn_predict(m, dr, test, 1, o->seed + 1, (int)o->threads, pe, &err);
    if (st)
        die_status(st, &err);
    rundir_write_pred(o->out, "pred-train.csv", *pt);
    if (*pe)
        rundir_write_pred(o->out, "pred-test.csv", *pe);
}

int cmd_variational(int argc, char **argv)
{
    double t_start = now();
    sample_opts o;
    bnn_vi_config vc;
    sample_opts_defaults(&o);
    bnn_vi_config_default(&vc);
    sample_opts_extra extra = {vi_longopts, vi_option, &vc};
    if (sample_opts_parse_with(&o, argc, argv, "variational", variational_usage, &extra))
        return 0;
    o.chains = 1;   /* one start, one q: chain 1's default start */
    vc.seed = o.seed;
    if (!o.quiet) {
        vc.progress = vi_progress;
        vc.progress_ctx = NULL;
    }
    rundir_check_cmd("variational", o.out, o.force);
    bnn_table *train = NULL, *test = NULL;
    int K = 0;
    run_load_data(&o, &train, &test, &K);
    bnn_model_spec spec;
    run_build_spec(&o, train->p, K, &spec);
    bnn_model *m = NULL;
    bnn_error err = {0};
    bnn_status st = bnn_model_new(&m, &spec, train, &err);
    if (st)
        die_status(st, &err);
    run_check_flat_prior(&spec, &o);
    bnn_density d = bnn_model_density(m);
    double *theta0 = vi_start(&o, m, &d);
    rundir_prepare(o.out, o.force);
    ckpt_clear(o.out);   /* an earlier sampled run's checkpoints must not outlive it */
    rundir_write_vi_config(o.out, &o, m, train, test, &vc, NULL, "running");

    double t0 = now();
    bnn_vi_result *vr = NULL;
    st = bnn_vi_run(&d, theta0, &vc, &vr, &err);
    double seconds_fit = now() - t0;
    if (st)
        die_status(st, &err);

    /* q's draws as one "chain" for the writers and bnn_predict: lp__ is 0, as CmdStan
     * writes it for variational */
    double *lp = calloc(vr->n_draws, sizeof *lp);
    if (!lp)
        die_runtime("out of memory");
    bnn_draws dr = {.chains = 1, .dim = vr->dim, .n_kept = vr->n_draws, .theta = vr->draws,
                    .lp = lp};
    bnn_prediction *pt = NULL, *pe = NULL;
    rundir_write_vi_chain(o.out, m, &o, &vc, vr);
    vi_predict(&o, m, &dr, train, test, &pt, &pe);
    if (vr->n_draws >= 4)   /* as sample: the readers expect a summary from 4 draws on */
        rundir_write_summary(o.out, m, &dr, (int)o.threads);
    rundir_write_vi_metrics(o.out, (bnn_task)o.task, vr, pt, pe, seconds_fit, now() - t_start);
    rundir_write_vi_config(o.out, &o, m, train, test, &vc, vr, "complete");
    if (!o.quiet)
        fprintf(stderr, "bnnmc: variational approximation (%s, %s after %zu iterations) written "
                "to %s/ (%.1f s)\n", rundir_vi_algorithm(vc.algorithm),
                vr->converged ? "converged" : "NOT converged", vr->iterations, o.out,
                now() - t_start);
    free(lp);
    free(theta0);
    bnn_prediction_free(pt);
    bnn_prediction_free(pe);
    bnn_vi_result_free(vr);
    bnn_model_free(m);
    bnn_table_free(train);
    bnn_table_free(test);
    return 0;
}
