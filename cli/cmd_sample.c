/* cmd_sample.c — `bnnmc sample`: posterior draws into a run folder (run.c does the work). */
#include <stdio.h>

#include "commands.h"
#include "run.h"
#include "sample_opts.h"
#include "util.h"

static const char sample_usage[] =
    "usage: bnnmc sample (--train FILE [--test FILE] | --dataset NAME) --out DIR [options]\n"
    "\n"
    "Draws posterior samples and writes the run folder DIR: config.json, chain-N.csv\n"
    "(CmdStan's CSV layout), metrics.json, pred-train.csv, pred-test.csv.\n"
    "\n"
    "Data files: numbers separated by spaces, tabs or commas, one row per line; a first line\n"
    "with no number is a header; the last column is the target unless --target-col says.\n"
    "Classification targets are integers 0..K-1.\n"
    "\n"
    "data and output:\n"
    "  --train FILE            training data\n"
    "  --test FILE             test data (same columns as --train)\n"
    "  --dataset NAME          a built-in data set instead (see 'bnnmc datasets')\n"
    "  --target-col N          1-based column of the target (default: the last)\n"
    "  --out DIR               run folder (required); an existing run is kept unless --force\n"
    "  --force                 overwrite the run in DIR\n"
    "  --quiet                 no progress line\n"
    "  --save-warmup           also write the warm-up iterations to the chain CSVs, as CmdStan\n"
    "                          does (save_warmup = 1: before the adaptation block; rstan\n"
    "                          reads them as warm-up); summaries and predictions leave them out\n"
    "  --adapt-from DIR        mala/hmc/nuts: start each chain with the step size and metric of\n"
    "                          the finished run in DIR (its chain c mod its chain count) and\n"
    "                          skip warm-up (--burn-in 0, no tuning: CmdStan's adapt engaged=0\n"
    "                          with a step size and metric file)\n"
    "  --checkpoint-every S    save every chain's state to DIR/checkpoint/ every S seconds,\n"
    "                          when stopped and at the end (default 60; 0: none), so that\n"
    "                          'bnnmc resume DIR' continues a killed run and 'bnnmc extend\n"
    "                          DIR --draws K' a finished one, with the draws bitwise those\n"
    "                          of one uninterrupted run\n"
    "model:\n"
    "  --task regression|classification\n"
    "                          default: classification when targets are integers 0..K-1,\n"
    "                          K <= 20, every class present; otherwise regression\n"
    "  --model linear|nn       linear: linear or multinomial logistic regression;\n"
    "                          nn: feed-forward network (default nn)\n"
    "  --hidden 10 | 32,16     hidden layer widths (nn; default 10)\n"
    "  --activation sigmoid|tanh|relu   hidden activation (default sigmoid)\n"
    "  --output sigmoid|identity        regression output (default: sigmoid for nn, as the\n"
    "                          study, targets in [0,1]; identity for linear)\n"
    "  --prior-var V           variance of the N(0, V) prior on every weight and bias\n"
    "                          (default 25 for nn, 5 for linear)\n"
    "  --nu1 A --nu2 B         inverse-gamma(A, B) prior on the noise variance tau^2\n"
    "                          (default 0, 0: the improper 1/tau^2)\n"
    "sampler:\n"
    "  --preset none|study     study: the settings of Chandra & Simmons (2024) where not given:\n"
    "                          --sampler langevin (nn) or rw (linear), --samples 10000,\n"
    "                          --burn-in 0.5, its proposal scales (default none: nuts, 2000)\n"
    "  --sampler NAME          one of the samplers listed below (default nuts: with hmc, the\n"
    "                          nearest to converged predictions on the study's networks;\n"
    "                          the study's: --preset study)\n"
    "  --samples N             iterations per chain INCLUDING burn-in (default 2000, --preset\n"
    "                          study 10000); the CSV header's num_samples, as CmdStan's,\n"
    "                          counts those after it\n"
    "  --burn-in F             burn-in as a count (>= 1) or a fraction (< 1) (default 0.5)\n"
    "  --thin K                keep every K-th draw after burn-in (default 1)\n"
    "  --chains M              chains (default 4)\n"
    "  --threads T             threads (default: the core count; results never depend on T)\n"
    "  --seed S                random seed (default 1)\n"
    "  --init FILE             starting values: one row (every chain) or one row per chain,\n"
    "                          the parameters in the order of the CSV header (tau2 > 0);\n"
    "                          default: weights ~ N(0, 1), tau2 = mean squared residual\n"
    "  --init map              each chain starts at a local maximum of the log posterior\n"
    "                          (unconstrained), found by BFGS from its default start (a file\n"
    "                          named map: --init ./map)\n"
    "  --noise-step none|gibbs mala/hmc/nuts on a regression: gibbs alternates the sampler's\n"
    "                          move of the weights (tau2 held) with an exact draw of\n"
    "                          tau2 | weights from its inverse-gamma conditional (default none)\n"
    "  --target-accept A       mala/hmc/nuts: mean acceptance to tune the step size to\n"
    "                          (default 0.574 for mala, 0.8 for hmc and nuts)\n"
    "  --no-adapt-metric       mala/hmc/nuts: keep the identity metric\n"
    "  --metric diag|dense     hmc/nuts: the inverse metric estimated in warm-up, the\n"
    "                          variances (diag, default) or the whole covariance (dense,\n"
    "                          Stan's dense_e: for strongly correlated posteriors)\n"
    "  --stepsize E            mala/hmc/nuts: initial step size (default 1, mala 0.1); hmc and\n"
    "                          nuts search from it before tuning it, as Stan does\n"
    "  --no-adapt              mala/hmc/nuts: no tuning at all: the step size is --stepsize\n"
    "                          throughout and the metric the identity (Stan's adapt engaged=0)\n"
    "run until converged:\n"
    "  --max-time SECONDS      after --samples, go on in rounds until the predictions have\n"
    "                          converged (R-hat max over the test rows, or the training rows\n"
    "                          without --test, below --target-rhat and bulk ESS min at least\n"
    "                          --target-ess) or SECONDS since the start have passed (warm-up\n"
    "                          and --samples always complete); metrics.json says which\n"
    "                          (\"converged\")\n"
    "  --target-rhat R         (default 1.01)\n"
    "  --target-ess N          (default 400)\n"
    "  --round N               iterations per round (default: --samples minus burn-in)\n";

int cmd_sample(int argc, char **argv)
{
    sample_opts o;
    sample_opts_defaults(&o);
    if (sample_opts_parse(&o, argc, argv, "sample", sample_usage))
        return 0;
    o.argc = argc;
    o.argv = argv;
    run_result r;
    run_sample(&o, &r);
    int partial = r.partial;
    if (!o.quiet)
        fprintf(stderr, "bnnmc: %s run written to %s/ (%.1f s)\n", partial ? "partial" : "complete",
                o.out, r.seconds_total);
    run_result_free(&r);
    return partial ? EXIT_RUNTIME : 0;
}
