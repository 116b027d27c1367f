/* main.c — the bnnmc command line: subcommand dispatch, option parsing, messages.
 *
 * Exit codes: 0 success, 1 runtime failure, 2 usage or input error. Results go to stdout
 * or the run folder; progress, notes and errors go to stderr. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bnnmc.h"

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

static void die_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "bnnmc%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (try 'bnnmc%s%s --help')\n", cmd ? " " : "", cmd ? cmd : "");
    exit(EXIT_USAGE);
}

/* Input errors (bad data) exit 2, everything else 1. */
static int exit_code_for(bnn_status st)
{
    return st == BNN_EPARSE || st == BNN_EINVAL ? EXIT_USAGE : EXIT_RUNTIME;
}

static void die_status(bnn_status st, const bnn_error *err)
{
    fprintf(stderr, "bnnmc: %s\n", err->msg[0] ? err->msg : bnn_status_str(st));
    exit(exit_code_for(st));
}

static const char main_usage[] =
    "bnnmc " BNNMC_VERSION " - Bayesian linear, logistic and neural-network models by MCMC\n"
    "\n"
    "usage: bnnmc COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  sample    --train FILE [--test FILE] --out DIR [options]   draw posterior samples\n"
    "  sample    --dataset NAME --out DIR [options]              on a built-in data set\n"
    "  datasets                     list the built-in data sets\n"
    "\n"
    "'bnnmc COMMAND --help' describes a command. Exit status: 0 success, 1 runtime failure,\n"
    "2 usage or input error.\n";

static const char sample_usage[] =
    "usage: bnnmc sample (--train FILE [--test FILE] | --dataset NAME) [--out DIR] [options]\n"
    "\n"
    "Data files: numbers separated by spaces, tabs or commas, one row per line; a first line\n"
    "with no number is a header; the last column is the target unless --target-col says.\n"
    "Classification targets are integers 0..K-1.\n"
    "\n"
    "data:\n"
    "  --train FILE            training data\n"
    "  --test FILE             test data (same columns as --train)\n"
    "  --dataset NAME          a built-in data set instead (see 'bnnmc datasets')\n"
    "  --target-col N          1-based column of the target (default: the last)\n"
    "  --out DIR               run folder\n"
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
    "  --sampler rw|langevin   default langevin for nn, rw for linear\n"
    "  --samples N             iterations per chain including burn-in (default 10000)\n"
    "  --burn-in F             burn-in as a count (>= 1) or a fraction (< 1) (default 0.5)\n"
    "  --thin K                keep every K-th draw (default 1)\n"
    "  --chains M              chains (default 4)\n"
    "  --threads T             threads (default: the core count; results never depend on T)\n"
    "  --seed S                random seed (default 1)\n"
    "  --step S                random-walk sd of the weights (nn 0.025, linear 0.02)\n"
    "  --step-eta E            random-walk sd of eta = log tau^2 (nn 0.2, linear 0.01)\n"
    "  --lr L                  Langevin learning rate (default 0.01)\n"
    "  --langevin-prob P       probability of a Langevin proposal (default 0.5)\n";

/* ------------------------------------------------------------ option values */

static double parse_double(const char *cmd, const char *opt, const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v))
        die_usage(cmd, "%s: '%s' is not a number", opt, s);
    return v;
}

static long parse_long(const char *cmd, const char *opt, const char *s, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno)
        die_usage(cmd, "%s: '%s' is not an integer", opt, s);
    if (v < lo || v > hi)
        die_usage(cmd, "%s: %ld is out of range %ld..%ld", opt, v, lo, hi);
    return v;
}

static int parse_choice(const char *cmd, const char *opt, const char *s, const char *const *names)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    char list[256] = "";
    for (int i = 0; names[i]; i++) {
        strncat(list, i ? "|" : "", sizeof list - strlen(list) - 1);
        strncat(list, names[i], sizeof list - strlen(list) - 1);
    }
    die_usage(cmd, "%s: '%s' is not one of %s", opt, s, list);
    return -1;
}

/* ------------------------------------------------------------ sample */

typedef struct {
    const char *train, *test, *dataset, *out;
    int target_col;
    int task;                 /* bnn_task */
    int nn;                   /* 1 nn, 0 linear */
    int n_hidden, hidden[BNN_MAX_HIDDEN];
    int activation;           /* bnn_activation */
    int output;               /* -1 default, else bnn_activation */
    double prior_var, nu1, nu2;
    int sampler;              /* -1 default */
    long samples, thin, chains, threads;
    double burn_in;
    unsigned long seed;
    double step, step_eta, lr, langevin_prob;
} sample_opts;

static const char *const sampler_names[] = {"rw", "langevin", NULL};

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

static void parse_sample(sample_opts *o, int argc, char **argv)
{
    enum {
        O_TRAIN = 256, O_TEST, O_DATASET, O_OUT, O_TARGET, O_TASK, O_MODEL, O_HIDDEN, O_ACT,
        O_OUTPUT, O_PRIOR, O_NU1, O_NU2, O_SAMPLER, O_SAMPLES, O_BURN, O_THIN, O_CHAINS,
        O_THREADS, O_SEED, O_STEP, O_STEPETA, O_LR, O_LPROB, O_HELP
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
        {"help", no_argument, 0, O_HELP}, {0, 0, 0, 0}};
    static const char *const tasks[] = {"auto", "regression", "classification", NULL};
    static const char *const models[] = {"linear", "nn", NULL};
    static const char *const acts[] = {"identity", "sigmoid", "tanh", "relu", NULL};
    const char *C = "sample";
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
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (c) {
        case O_TRAIN: o->train = optarg; break;
        case O_TEST: o->test = optarg; break;
        case O_DATASET: o->dataset = optarg; break;
        case O_OUT: o->out = optarg; break;
        case O_TARGET: o->target_col = (int)parse_long(C, "--target-col", optarg, 1, 1000000); break;
        case O_TASK: o->task = parse_choice(C, "--task", optarg, tasks); break;
        case O_MODEL: o->nn = parse_choice(C, "--model", optarg, models); break;
        case O_HIDDEN: parse_hidden(o, optarg); break;
        case O_ACT:
            o->activation = parse_choice(C, "--activation", optarg, acts);
            if (o->activation == BNN_ACT_IDENTITY)
                die_usage(C, "--activation: 'identity' is not a hidden activation (sigmoid|tanh|relu)");
            break;
        case O_OUTPUT:
            o->output = parse_choice(C, "--output", optarg, acts);
            if (o->output != BNN_ACT_SIGMOID && o->output != BNN_ACT_IDENTITY)
                die_usage(C, "--output: '%s' is not one of sigmoid|identity", optarg);
            break;
        case O_PRIOR:
            o->prior_var = parse_double(C, "--prior-var", optarg);
            if (!(o->prior_var > 0))
                die_usage(C, "--prior-var: must be positive, got %s", optarg);
            break;
        case O_NU1:
        case O_NU2: {
            double v = parse_double(C, c == O_NU1 ? "--nu1" : "--nu2", optarg);
            if (v < 0)
                die_usage(C, "%s: must be >= 0, got %s", c == O_NU1 ? "--nu1" : "--nu2", optarg);
            *(c == O_NU1 ? &o->nu1 : &o->nu2) = v;
            break;
        }
        case O_SAMPLER: o->sampler = parse_choice(C, "--sampler", optarg, sampler_names); break;
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
        case O_HELP:
            fputs(sample_usage, stdout);
            exit(0);
        case ':': die_usage(C, "%s needs a value", argv[optind - 1]); break;
        default: die_usage(C, "unknown option '%s'", argv[optind - 1]); break;
        }
    }
    if (optind < argc)
        die_usage(C, "unexpected argument '%s'", argv[optind]);
    if (!o->train == !o->dataset)
        die_usage(C, o->train ? "give --train or --dataset, not both" : "--train FILE or --dataset NAME is required");
    if (o->test && !o->train)
        die_usage(C, "--test needs --train");
    /* the study's defaults for the chosen model */
    if (isnan(o->prior_var))
        o->prior_var = o->nn ? 25.0 : 5.0;
    if (isnan(o->nu1))
        o->nu1 = 0.0;
    if (isnan(o->nu2))
        o->nu2 = 0.0;
    if (o->sampler < 0)
        o->sampler = o->nn ? 1 : 0;
    if (isnan(o->step))
        o->step = o->nn ? 0.025 : 0.02;
    if (isnan(o->step_eta))
        o->step_eta = o->nn ? 0.2 : 0.01;
    if (isnan(o->lr))
        o->lr = 0.01;
    if (isnan(o->langevin_prob))
        o->langevin_prob = 0.5;
}

/* Loads train (and test) and settles the task; exits 2 with the place on bad input. */
static void load_data(sample_opts *o, bnn_table **train, bnn_table **test, int *n_classes)
{
    bnn_error err = {0};
    bnn_status st;
    *test = NULL;
    if (o->dataset) {
        st = bnn_dataset_make(o->dataset, 1, train, test, &err);
    } else {
        st = bnn_table_read(train, o->train, o->target_col, &err);
        if (!st && o->test) {
            st = bnn_table_read(test, o->test, o->target_col, &err);
            if (!st)
                st = bnn_table_check_inputs(*test, *train, &err);
        }
    }
    if (st) {   /* a missing or unreadable input file is an input error too */
        fprintf(stderr, "bnnmc: %s\n", err.msg);
        exit(EXIT_USAGE);
    }
    *n_classes = 0;
    if (o->task == BNN_TASK_AUTO) {
        o->task = bnn_table_infer_task(*train, n_classes);
        fprintf(stderr, "bnnmc: task %s inferred from the targets of %s%s (--task sets it)\n",
                o->task == BNN_TASK_CLASSIFICATION ? "classification" : "regression",
                (*train)->source, o->task == BNN_TASK_CLASSIFICATION ? "" : "");
    }
    if (o->task == BNN_TASK_CLASSIFICATION) {
        *n_classes = 0;
        st = bnn_table_check_classes(*train, n_classes, &err);
        if (!st && *test)
            st = bnn_table_check_classes(*test, n_classes, &err);
        if (st)
            die_status(st, &err);
    }
}

static void build_spec(const sample_opts *o, size_t p, int n_classes, bnn_model_spec *spec)
{
    bnn_model_spec_study(spec, o->nn, (bnn_task)o->task, (int)p, n_classes);
    if (o->nn) {
        spec->n_hidden = o->n_hidden;
        memcpy(spec->hidden, o->hidden, sizeof spec->hidden);
        spec->hidden_act = (bnn_activation)o->activation;
    }
    if (o->task == BNN_TASK_REGRESSION && o->output >= 0)
        spec->output_act = (bnn_activation)o->output;
    spec->prior_var = o->prior_var;
    spec->nu1 = o->nu1;
    spec->nu2 = o->nu2;
}

static int cmd_sample(int argc, char **argv)
{
    sample_opts o;
    parse_sample(&o, argc, argv);
    bnn_table *train = NULL, *test = NULL;
    int K = 0;
    load_data(&o, &train, &test, &K);
    bnn_model_spec spec;
    build_spec(&o, train->p, K, &spec);
    bnn_model *m = NULL;
    bnn_error err = {0};
    bnn_status st = bnn_model_new(&m, &spec, train, &err);
    if (st)
        die_status(st, &err);
    bnn_density d = bnn_model_density(m);
    double *work = calloc(d.work_len, sizeof *work), *theta = calloc(d.dim, sizeof *theta);
    if (!work || !theta) {
        fprintf(stderr, "bnnmc: out of memory\n");
        return EXIT_RUNTIME;
    }
    bnn_model_init(m, o.seed, theta, work);
    double lp = d.logp(d.ctx, work, theta, NULL);
    printf("data      %s: %zu rows x %zu inputs%s\n", train->source, train->n, train->p,
           test ? "" : " (no test data)");
    if (test)
        printf("test      %s: %zu rows\n", test->source, test->n);
    printf("model     %s %s, %zu parameters\n", o.nn ? "network" : "linear",
           o.task == BNN_TASK_CLASSIFICATION ? "classification" : "regression", d.dim);
    printf("log p(theta0 | data) = %.6f at the starting point (seed %lu)\n", lp, o.seed);
    fprintf(stderr, "bnnmc: sampling is not built yet: this run stops after evaluating the model\n");
    free(work);
    free(theta);
    bnn_model_free(m);
    bnn_table_free(train);
    bnn_table_free(test);
    return 0;
}

static int cmd_datasets(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        puts("usage: bnnmc datasets\n\nLists the built-in data sets (generated, deterministic); "
             "use one with 'bnnmc sample --dataset NAME'.");
        return 0;
    }
    if (argc > 1)
        die_usage("datasets", "unexpected argument '%s'", argv[1]);
    for (int i = 0; bnn_dataset_get(i); i++) {
        const bnn_dataset_info *d = bnn_dataset_get(i);
        printf("%-14s %-15s %s\n", d->name,
               d->task == BNN_TASK_REGRESSION ? "regression" : "classification", d->description);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        die_usage(NULL, "no command given");
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(main_usage, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        puts("bnnmc " BNNMC_VERSION);
        return 0;
    }
    if (strcmp(cmd, "sample") == 0)
        return cmd_sample(argc - 1, argv + 1);
    if (strcmp(cmd, "datasets") == 0)
        return cmd_datasets(argc - 1, argv + 1);
    die_usage(NULL, "unknown command '%s'", cmd);
    return EXIT_USAGE;
}
