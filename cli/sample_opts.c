/* sample_opts.c — the options of `bnnmc sample` and `bnnmc demo`: defaults, parsing, and
 * the study's settings for whichever model was chosen. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sample_opts.h"
#include "util.h"

static int parse_sampler(const char *C, const char *s)
{
    int k = bnn_sampler_from_name(s);
    if (k < 0) {
        char list[128] = "";
        for (int i = 0; i <= BNN_SAMPLER_GIBBS; i++) {
            strncat(list, i ? "|" : "", sizeof list - strlen(list) - 1);
            strncat(list, bnn_sampler_name((bnn_sampler)i), sizeof list - strlen(list) - 1);
        }
        die_usage(C, "--sampler: '%s' is not one of %s", s, list);
    }
    return k;
}

static void parse_hidden(sample_opts *o, const char *s)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    o->n_hidden = 0;
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        if (o->n_hidden == BNN_MAX_HIDDEN)
            die_usage("sample", "--hidden: at most %d layers", BNN_MAX_HIDDEN);
        o->hidden[o->n_hidden++] = (int)parse_long("sample", "--hidden", tok, 1, 100000);
    }
    if (o->n_hidden == 0)
        die_usage("sample", "--hidden: '%s' lists no layer width", s);
}

void sample_opts_defaults(sample_opts *o)
{
    memset(o, 0, sizeof *o);
    o->nn = 1;
    o->n_hidden = 1;
    o->hidden[0] = 10;
    o->activation = BNN_ACT_SIGMOID;
    o->output = -1;
    o->prior_var = o->nu1 = o->nu2 = NAN;
    o->sampler = -1;
    o->samples = 10000;
    o->burn_in = 0.5;
    o->thin = 1;
    o->chains = 4;
    o->seed = 1;
    o->step = o->step_eta = o->lr = o->langevin_prob = NAN;
    o->threads = cpu_count();
}

/* The study's defaults for whichever model was chosen, where the user gave none. */
static void model_defaults(sample_opts *o)
{
    if (isnan(o->prior_var))
        o->prior_var = o->nn ? 25.0 : 5.0;
    if (isnan(o->nu1))
        o->nu1 = 0.0;
    if (isnan(o->nu2))
        o->nu2 = 0.0;
    if (o->sampler < 0)
        o->sampler = o->nn ? BNN_SAMPLER_LANGEVIN : BNN_SAMPLER_RW;
    if (isnan(o->step))
        o->step = o->nn ? 0.025 : 0.02;
    if (isnan(o->step_eta))
        o->step_eta = o->nn ? 0.2 : 0.01;
    if (isnan(o->lr))
        o->lr = 0.01;
    if (isnan(o->langevin_prob))
        o->langevin_prob = 0.5;
}

/* An activation by name, one of those allowed (a mask of 1 << bnn_activation). */
static int parse_activation(const char *C, const char *opt, const char *s, unsigned allowed)
{
    int a = bnn_activation_from_name(s);
    if (a >= 0 && (allowed & 1u << a))
        return a;
    char list[128] = "";
    for (int i = 0; i <= BNN_ACT_SOFTMAX; i++)
        if (allowed & 1u << i) {
            strncat(list, list[0] ? "|" : "", sizeof list - strlen(list) - 1);
            strncat(list, bnn_activation_name((bnn_activation)i), sizeof list - strlen(list) - 1);
        }
    die_usage(C, "%s: '%s' is not one of %s", opt, s, list);
}

int sample_opts_parse(sample_opts *o, int argc, char **argv, const char *C, const char *usage)
{
    enum {
        O_TRAIN = 256, O_TEST, O_DATASET, O_OUT, O_TARGET, O_TASK, O_MODEL, O_HIDDEN, O_ACT,
        O_OUTPUT, O_PRIOR, O_NU1, O_NU2, O_SAMPLER, O_SAMPLES, O_BURN, O_THIN, O_CHAINS,
        O_THREADS, O_SEED, O_STEP, O_STEPETA, O_LR, O_LPROB, O_INIT, O_FORCE, O_QUIET, O_HELP,
        O_TARGET_ACC, O_MAXDEPTH, O_INTTIME, O_NOADAPT, O_STEPSIZE, O_NOADAPT_ALL
    };
    static const struct option longopts[] = {
        {"train", required_argument, 0, O_TRAIN}, {"test", required_argument, 0, O_TEST},
        {"dataset", required_argument, 0, O_DATASET}, {"out", required_argument, 0, O_OUT},
        {"target-col", required_argument, 0, O_TARGET}, {"task", required_argument, 0, O_TASK},
        {"model", required_argument, 0, O_MODEL}, {"hidden", required_argument, 0, O_HIDDEN},
        {"activation", required_argument, 0, O_ACT}, {"output", required_argument, 0, O_OUTPUT},
        {"prior-var", required_argument, 0, O_PRIOR}, {"nu1", required_argument, 0, O_NU1},
        {"nu2", required_argument, 0, O_NU2}, {"sampler", required_argument, 0, O_SAMPLER},
        {"samples", required_argument, 0, O_SAMPLES}, {"burn-in", required_argument, 0, O_BURN},
        {"thin", required_argument, 0, O_THIN}, {"chains", required_argument, 0, O_CHAINS},
        {"threads", required_argument, 0, O_THREADS}, {"seed", required_argument, 0, O_SEED},
        {"step", required_argument, 0, O_STEP}, {"step-eta", required_argument, 0, O_STEPETA},
        {"lr", required_argument, 0, O_LR}, {"langevin-prob", required_argument, 0, O_LPROB},
        {"init", required_argument, 0, O_INIT}, {"force", no_argument, 0, O_FORCE},
        {"quiet", no_argument, 0, O_QUIET}, {"help", no_argument, 0, O_HELP},
        {"target-accept", required_argument, 0, O_TARGET_ACC},
        {"max-depth", required_argument, 0, O_MAXDEPTH}, {"int-time", required_argument, 0, O_INTTIME},
        {"no-adapt-metric", no_argument, 0, O_NOADAPT}, {"stepsize", required_argument, 0, O_STEPSIZE},
        {"no-adapt", no_argument, 0, O_NOADAPT_ALL}, {0, 0, 0, 0}};
    static const char *const tasks[] = {"auto", "regression", "classification", NULL};
    static const char *const models[] = {"linear", "nn", NULL};
    optind = 1;
    int c;
    while ((c = next_option(C, argc, argv, longopts)) != -1) {
        switch (c) {
        case O_TRAIN: o->train = optarg; break;
        case O_TEST: o->test = optarg; break;
        case O_DATASET: o->dataset = optarg; break;
        case O_OUT: o->out = optarg; break;
        case O_INIT: o->init = optarg; break;
        case O_FORCE: o->force = 1; break;
        case O_QUIET: o->quiet = 1; break;
        case O_TARGET: o->target_col = (int)parse_long(C, "--target-col", optarg, 1, 1000000); break;
        case O_TASK: o->task = parse_choice(C, "--task", optarg, tasks); break;
        case O_MODEL: o->nn = parse_choice(C, "--model", optarg, models); break;
        case O_HIDDEN: parse_hidden(o, optarg); break;
        case O_ACT:
            o->activation = parse_activation(C, "--activation", optarg,
                                             1u << BNN_ACT_SIGMOID | 1u << BNN_ACT_TANH |
                                             1u << BNN_ACT_RELU);
            break;
        case O_OUTPUT:
            o->output = parse_activation(C, "--output", optarg,
                                         1u << BNN_ACT_IDENTITY | 1u << BNN_ACT_SIGMOID);
            break;
        case O_PRIOR:
            o->prior_var = parse_double(C, "--prior-var", optarg);
            if (!(o->prior_var > 0))
                die_usage(C, "--prior-var: must be positive, got %s", optarg);
            break;
        case O_NU1:
        case O_NU2: {
            const char *n = c == O_NU1 ? "--nu1" : "--nu2";
            double v = parse_double(C, n, optarg);
            if (v < 0)
                die_usage(C, "%s: must be >= 0, got %s", n, optarg);
            *(c == O_NU1 ? &o->nu1 : &o->nu2) = v;
            break;
        }
        case O_SAMPLER: o->sampler = parse_sampler(C, optarg); break;
        case O_SAMPLES: o->samples = parse_long(C, "--samples", optarg, 2, 1000000000); break;
        case O_BURN:
            o->burn_in = parse_double(C, "--burn-in", optarg);
            if (o->burn_in < 0 || (o->burn_in >= 1 && o->burn_in != floor(o->burn_in)))
                die_usage(C, "--burn-in: '%s' is neither a fraction in [0,1) nor a count", optarg);
            break;
        case O_THIN: o->thin = parse_long(C, "--thin", optarg, 1, 1000000000); break;
        case O_CHAINS: o->chains = parse_long(C, "--chains", optarg, 1, 1024); break;
        case O_THREADS: o->threads = parse_long(C, "--threads", optarg, 1, 1024); break;
        case O_SEED: o->seed = (unsigned long)parse_long(C, "--seed", optarg, 0, 4294967295L); break;
        case O_STEP:
        case O_STEPETA:
        case O_LR: {
            const char *n = c == O_STEP ? "--step" : c == O_STEPETA ? "--step-eta" : "--lr";
            double v = parse_double(C, n, optarg);
            if (!(v > 0))
                die_usage(C, "%s: must be positive, got %s", n, optarg);
            *(c == O_STEP ? &o->step : c == O_STEPETA ? &o->step_eta : &o->lr) = v;
            break;
        }
        case O_LPROB:
            o->langevin_prob = parse_double(C, "--langevin-prob", optarg);
            if (o->langevin_prob < 0 || o->langevin_prob > 1)
                die_usage(C, "--langevin-prob: must be in [0,1], got %s", optarg);
            break;
        case O_TARGET_ACC:
            o->target_accept = parse_double(C, "--target-accept", optarg);
            if (!(o->target_accept > 0 && o->target_accept < 1))
                die_usage(C, "--target-accept: must be in (0, 1), got %s", optarg);
            break;
        case O_MAXDEPTH: o->max_depth = (int)parse_long(C, "--max-depth", optarg, 1, 20); break;
        case O_INTTIME:
            o->int_time = parse_double(C, "--int-time", optarg);
            if (!(o->int_time > 0))
                die_usage(C, "--int-time: must be positive, got %s", optarg);
            break;
        case O_NOADAPT: o->no_adapt_metric = 1; break;
        case O_STEPSIZE:
            o->stepsize = parse_double(C, "--stepsize", optarg);
            if (!(o->stepsize > 0) || !isfinite(o->stepsize))
                die_usage(C, "--stepsize: must be a positive number, got %s", optarg);
            break;
        case O_NOADAPT_ALL: o->no_adapt = 1; break;
        case O_HELP:
            fputs(usage, stdout);
            return 1;
        }
    }
    if (optind < argc)
        die_usage(C, "unexpected argument '%s'", argv[optind]);
    if (o->train && o->dataset)
        die_usage(C, "give --train or --dataset, not both");
    if (!o->train && !o->dataset)
        die_usage(C, "--train FILE or --dataset NAME is required");
    if (o->test && !o->train)
        die_usage(C, "--test needs --train");
    if (!o->out)
        die_usage(C, "--out DIR is required");
    model_defaults(o);
    return 0;
}
