/* sample.c — `bnnmc sample` and `bnnmc demo`: options, data, model, chains, run folder. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <getopt.h>

#include <cJSON.h>

#include "cli.h"

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
    "  --sampler NAME          rw: random-walk Metropolis; langevin: the study's Langevin-\n"
    "                          gradient mixture; mala, hmc, nuts: gradient samplers that\n"
    "                          tune their step size and diagonal metric during burn-in;\n"
    "                          gibbs: exact conditionals (linear regression only).\n"
    "                          Default langevin for nn, rw for linear (the study's)\n"
    "  --samples N             iterations per chain including burn-in (default 10000)\n"
    "  --burn-in F             burn-in as a count (>= 1) or a fraction (< 1) (default 0.5)\n"
    "  --thin K                keep every K-th draw after burn-in (default 1)\n"
    "  --chains M              chains (default 4)\n"
    "  --threads T             threads (default: the core count; results never depend on T)\n"
    "  --seed S                random seed (default 1)\n"
    "  --init FILE             starting values: one row (every chain) or one row per chain,\n"
    "                          the parameters in the order of the CSV header (tau2 > 0);\n"
    "                          default: weights ~ N(0, 1), tau2 = mean squared residual\n"
    "  --step S                random-walk sd of the weights (nn 0.025, linear 0.02)\n"
    "  --step-eta E            random-walk sd of eta = log tau^2 (nn 0.2, linear 0.01)\n"
    "  --lr L                  Langevin learning rate (default 0.01)\n"
    "  --langevin-prob P       probability of a Langevin proposal (default 0.5)\n"
    "  --target-accept A       mala/hmc/nuts: mean acceptance to tune the step size to\n"
    "                          (default 0.574 for mala, 0.8 for hmc and nuts)\n"
    "  --max-depth D           nuts: tree depth limit (default 10)\n"
    "  --int-time T            hmc: integration time; leapfrog steps = T / step (default 2 pi)\n"
    "  --no-adapt-metric       mala/hmc/nuts: keep the identity metric\n"
    "  --stepsize E            mala/hmc/nuts: initial step size (default 1, mala 0.1); hmc and\n"
    "                          nuts search from it before tuning it, as Stan does\n"
    "  --no-adapt              mala/hmc/nuts: no tuning at all: the step size is --stepsize\n"
    "                          throughout and the metric the identity (Stan's adapt engaged=0)\n";

static const char *parse_sampler(const char *C, const char *s)
{
    const bnn_kernel *k = bnn_kernel_find(s);
    if (!k) {
        char list[256] = "";
        for (size_t i = 0; bnn_kernel_at(i); i++) {
            strncat(list, i ? "|" : "", sizeof list - strlen(list) - 1);
            strncat(list, bnn_kernel_at(i)->name, sizeof list - strlen(list) - 1);
        }
        die_usage(C, "--sampler: '%s' is not one of %s", s, list);
    }
    return k->name;
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

static void defaults(sample_opts *o)
{
    memset(o, 0, sizeof *o);
    o->nn = 1;
    o->n_hidden = 1;
    o->hidden[0] = 10;
    o->activation = BNN_ACT_SIGMOID;
    o->output = -1;
    o->prior_var = o->nu1 = o->nu2 = NAN;
    o->sampler = NULL;
    o->samples = 10000;
    o->burn_in = 0.5;
    o->thin = 1;
    o->chains = 4;
    o->seed = 1;
    o->step = o->step_eta = o->lr = o->langevin_prob = NAN;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    o->threads = cores > 0 ? cores : 1;
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
    if (!o->sampler)
        o->sampler = o->nn ? "langevin" : "rw";
    if (isnan(o->step))
        o->step = o->nn ? 0.025 : 0.02;
    if (isnan(o->step_eta))
        o->step_eta = o->nn ? 0.2 : 0.01;
    if (isnan(o->lr))
        o->lr = 0.01;
    if (isnan(o->langevin_prob))
        o->langevin_prob = 0.5;
}

static void parse_sample(sample_opts *o, int argc, char **argv, const char *C, const char *usage)
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
    static const char *const acts[] = {"identity", "sigmoid", "tanh", "relu", NULL};
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
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
            exit(0);
        case ':': die_usage(C, "%s needs a value", argv[optind - 1]);
        default: die_usage(C, "unknown option '%s'", argv[optind - 1]);
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
}

/* Loads train (and test) and settles the task; exits 2 naming the place on bad input. */
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
        if (!o->quiet)
            fprintf(stderr, "bnnmc: task %s inferred from the targets of %s (--task sets it)\n",
                    o->task == BNN_TASK_CLASSIFICATION ? "classification" : "regression",
                    (*train)->source);
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

/* Starting points, chains x dim: from --init (constrained values, tau2 -> eta) or the
 * study's distribution with a seed per chain. */
static double *make_init(const sample_opts *o, const bnn_model *m, const bnn_density *d)
{
    size_t dim = d->dim, M = (size_t)o->chains;
    double *init = calloc(M * dim, sizeof *init), *work = calloc(d->work_len + 1, sizeof *work);
    if (!init || !work)
        die_runtime("out of memory");
    if (o->init) {
        bnn_error err = {0};
        if (read_init_file(o->init, m, M, init, &err) != BNN_OK) {
            /* a missing or unreadable --init file is an input error too */
            fprintf(stderr, "bnnmc: %s\n", err.msg);
            exit(EXIT_USAGE);
        }
    } else {
        for (size_t c = 0; c < M; c++)
            if (bnn_model_init(m, bnn_chain_seed(o->seed, (int)c, 2), init + c * dim, work) != BNN_OK)
                die_runtime("out of memory drawing starting points");
    }
    free(work);
    return init;
}

/* ------------------------------------------------------------ progress and Ctrl-C */

static volatile int stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

typedef struct {
    int tty;
    double last_print;
} progress_state;

static void on_progress(void *user, const bnn_progress *p)
{
    progress_state *ps = user;
    int final = p->iter_done == p->iter_total;
    if (!ps->tty && !final && p->seconds - ps->last_print < 5.0)
        return;
    ps->last_print = p->seconds;
    double rate = p->seconds > 0 ? (double)p->iter_done / p->seconds : 0;
    double left = rate > 0 ? (double)(p->iter_total - p->iter_done) / rate : 0;
    fprintf(stderr, "%s%zu/%zu iterations (%3.0f%%)  %.0f it/s  accepted %.1f%%  %s %.0fs%s",
            ps->tty ? "\r" : "", p->iter_done, p->iter_total,
            100.0 * (double)p->iter_done / (double)p->iter_total, rate,
            p->iter_done ? 100.0 * (double)p->accepted / (double)p->iter_done : 0.0,
            final ? "took" : "left", final ? p->seconds : left, ps->tty ? "   " : "\n");
    if (ps->tty && final)
        fputc('\n', stderr);
}

/* ------------------------------------------------------------ metrics.json */

static cJSON *metrics_block(const bnn_prediction *p)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "rows", (double)p->n);
    if (p->task == BNN_TASK_REGRESSION) {
        cJSON_AddNumberToObject(o, "rmse_mean", p->metric_mean);
        cJSON_AddNumberToObject(o, "rmse_std", p->metric_std);
        cJSON_AddNumberToObject(o, "rmse_of_mean", p->metric_of_mean);
        cJSON_AddNumberToObject(o, "coverage95", p->coverage95);
    } else {
        cJSON_AddNumberToObject(o, "accuracy_mean", p->metric_mean);
        cJSON_AddNumberToObject(o, "accuracy_std", p->metric_std);
        cJSON_AddNumberToObject(o, "accuracy_of_mean", p->metric_of_mean);
    }
    cJSON_AddNumberToObject(o, "lpd", p->lpd);
    cJSON_AddNumberToObject(o, "pred_rhat_max", p->rhat_max);
    cJSON_AddNumberToObject(o, "pred_rhat_median", p->rhat_median);
    cJSON_AddNumberToObject(o, "pred_rhat_share_above_1_01", p->rhat_share_above);
    cJSON_AddNumberToObject(o, "pred_ess_bulk_min", p->ess_bulk_min);
    return o;
}

static void write_json(const char *dir, const char *name, cJSON *root)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *s = cJSON_Print(root);
    if (!s)
        die_runtime("%s: out of memory formatting JSON", path);
    size_t len = strlen(s);
    s[len] = '\0';
    char *withnl = malloc(len + 2);
    if (!withnl)
        die_runtime("out of memory");
    memcpy(withnl, s, len);
    withnl[len] = '\n';
    if (write_file_atomic(path, withnl, len + 1) != 0)
        die_runtime("%s: cannot write: %s", path, strerror(errno));
    free(withnl);
    cJSON_free(s);
}

static cJSON *config_json(const sample_opts *o, const bnn_model *m, const bnn_table *train,
                          const bnn_table *test, const bnn_run_config *rc, const char *status)
{
    const bnn_model_spec *sp = bnn_model_get_spec(m);
    static const char *act[] = {"identity", "sigmoid", "tanh", "relu", "softmax"};
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "bnnmc_version", BNNMC_VERSION);
    cJSON_AddStringToObject(root, "status", status);
    cJSON *data = cJSON_AddObjectToObject(root, "data");
    const bnn_table *tabs[2] = {train, test};
    const char *keys[2] = {"train", "test"};
    for (int k = 0; k < 2; k++) {
        if (!tabs[k])
            continue;
        cJSON *t = cJSON_AddObjectToObject(data, keys[k]);
        cJSON_AddStringToObject(t, "source", tabs[k]->source);
        if (!o->dataset) {
            char hex[65];
            char *abs = realpath(tabs[k]->source, NULL);
            cJSON_AddStringToObject(t, "path", abs ? abs : tabs[k]->source);
            free(abs);
            file_sha256(tabs[k]->source, hex);
            cJSON_AddStringToObject(t, "sha256", hex);
        }
        cJSON_AddNumberToObject(t, "rows", (double)tabs[k]->n);
        cJSON_AddNumberToObject(t, "inputs", (double)tabs[k]->p);
        cJSON_AddNumberToObject(t, "target_col", tabs[k]->target_col);
    }
    if (o->dataset)
        cJSON_AddStringToObject(data, "dataset", o->dataset);
    cJSON *mo = cJSON_AddObjectToObject(root, "model");
    cJSON_AddStringToObject(mo, "task", sp->task == BNN_TASK_REGRESSION ? "regression" : "classification");
    cJSON_AddStringToObject(mo, "model", o->nn ? "nn" : "linear");
    cJSON_AddNumberToObject(mo, "inputs", sp->n_inputs);
    cJSON_AddNumberToObject(mo, "classes", sp->n_classes);
    cJSON *h = cJSON_AddArrayToObject(mo, "hidden");
    for (int l = 0; l < sp->n_hidden; l++)
        cJSON_AddItemToArray(h, cJSON_CreateNumber(sp->hidden[l]));
    cJSON_AddStringToObject(mo, "activation", act[sp->hidden_act]);
    cJSON_AddStringToObject(mo, "output", act[sp->output_act]);
    cJSON_AddNumberToObject(mo, "prior_var", sp->prior_var);
    cJSON_AddNumberToObject(mo, "nu1", sp->nu1);
    cJSON_AddNumberToObject(mo, "nu2", sp->nu2);
    cJSON_AddNumberToObject(mo, "parameters", (double)bnn_model_dim(m));
    cJSON *sa = cJSON_AddObjectToObject(root, "sampler");
    cJSON_AddStringToObject(sa, "sampler", rc->sampler);
    cJSON_AddNumberToObject(sa, "samples", (double)rc->n_iter);
    cJSON_AddNumberToObject(sa, "burn_in", (double)rc->n_burn);
    cJSON_AddNumberToObject(sa, "thin", (double)rc->thin);
    cJSON_AddNumberToObject(sa, "chains", rc->chains);
    cJSON_AddNumberToObject(sa, "threads", rc->threads);
    cJSON_AddNumberToObject(sa, "seed", (double)rc->seed);
    const bnn_kernel *k = bnn_kernel_find(rc->sampler);
    for (size_t i = 0; k->options && k->options[i].name; i++)
        cJSON_AddNumberToObject(sa, k->options[i].name, bnn_run_config_get(rc, k, k->options[i].name));
    cJSON_AddNumberToObject(sa, "target_accept", rc->target_accept);
    cJSON_AddBoolToObject(sa, "adapt_metric", rc->adapt_metric);
    cJSON_AddBoolToObject(sa, "adapt", rc->adapt);
    if (rc->stepsize > 0)
        cJSON_AddNumberToObject(sa, "stepsize", rc->stepsize);
    if (o->init)
        cJSON_AddStringToObject(sa, "init", o->init);
    else
        cJSON_AddStringToObject(sa, "init", "weights ~ N(0,1), tau2 = mean squared residual");
    return root;
}

/* ------------------------------------------------------------ the run */

/* summary.csv: lp__ and every parameter (constrained: tau2, not eta). */
static void write_run_summary(const char *dir, const bnn_model *m, const bnn_draws *dr, int threads)
{
    size_t K = dr->dim + 1, M = (size_t)dr->chains, N = dr->n_kept;
    double *x = malloc(K * M * N * sizeof *x), *v = malloc(dr->dim * sizeof *v);
    bnn_summary *s = malloc(K * sizeof *s);
    char **names = calloc(K, sizeof *names);
    if (!x || !v || !s || !names)
        die_runtime("out of memory for the summary");
    for (size_t c = 0; c < M; c++)
        for (size_t i = 0; i < N; i++) {
            x[c * N + i] = dr->lp[c * N + i];
            bnn_model_constrain(m, bnn_draw(dr, (int)c, i), v);
            for (size_t j = 0; j < dr->dim; j++)
                x[((j + 1) * M + c) * N + i] = v[j];
        }
    if (bnn_summarise_many(x, K, M, N, threads, s) != BNN_OK)
        die_runtime("out of memory for the summary");
    names[0] = strdup("lp__");
    for (size_t j = 0; j < dr->dim; j++) {
        char nm[64];
        bnn_model_param_name(m, j, nm, sizeof nm);
        names[j + 1] = strdup(nm);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/summary.csv", dir);
    if (write_summary_csv(path, names, s, K) != 0)
        die_runtime("%s: cannot write: %s", path, strerror(errno));
    for (size_t j = 0; j < K; j++)
        free(names[j]);
    free(names);
    free(x);
    free(v);
    free(s);
}

typedef struct {
    bnn_prediction *train, *test;
    bnn_draws *draws;
    double seconds_sampling, seconds_total;
    int partial;
} run_result;

static void write_preds(const char *dir, const char *name, const bnn_prediction *p)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f || write_pred_csv(f, p) != 0 || fclose(f) != 0 || rename(tmp, path) != 0)
        die_runtime("%s: cannot write: %s", path, strerror(errno));
}

static const char *model_name(const sample_opts *o)
{
    if (o->task == BNN_TASK_REGRESSION)
        return o->nn ? "bnnmc_nn_regression" : "bnnmc_linear_regression";
    return o->nn ? "bnnmc_nn_classification" : "bnnmc_softmax_regression";
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void run(sample_opts *o, run_result *res, bnn_model **m_out, bnn_table **tr_out,
                bnn_table **te_out)
{
    double t_start = now();
    rundir_check(o->out, o->force);   /* before any work: refuse to clobber a run */
    bnn_table *train = NULL, *test = NULL;
    int K = 0;
    load_data(o, &train, &test, &K);
    bnn_model_spec spec;
    build_spec(o, train->p, K, &spec);
    bnn_model *m = NULL;
    bnn_error err = {0};
    bnn_status st = bnn_model_new(&m, &spec, train, &err);
    if (st)
        die_status(st, &err);
    bnn_density d = bnn_model_density(m);
    double *init = make_init(o, m, &d);
    bnn_run_config rc;
    bnn_run_config_default(&rc);
    rc.sampler = o->sampler;
    rc.n_iter = (size_t)o->samples;
    rc.n_burn = o->burn_in < 1 ? (size_t)floor(o->burn_in * (double)o->samples) : (size_t)o->burn_in;
    if (rc.n_burn >= rc.n_iter)
        die_usage("sample", "--burn-in %g leaves no draws of --samples %ld", o->burn_in, o->samples);
    rc.thin = (size_t)o->thin;
    rc.chains = (int)o->chains;
    rc.threads = (int)o->threads;
    rc.seed = o->seed;
    /* the kernel's own settings, where it has them */
    const bnn_kernel *k = bnn_kernel_find(o->sampler);
    const struct {
        const char *name;
        double v;
    } set[] = {{"step", o->step}, {"step_eta", o->step_eta}, {"lr", o->lr},
               {"langevin_prob", o->langevin_prob}, {"max_depth", o->max_depth},
               {"int_time", o->int_time}};
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
        if (bnn_kernel_option(k, set[i].name) && set[i].v > 0)
            bnn_run_config_set(&rc, set[i].name, set[i].v);
    rc.target_accept = o->target_accept;
    rc.adapt_metric = !o->no_adapt_metric;
    rc.stepsize = o->stepsize;
    rc.adapt = !o->no_adapt;
    rc.init = init;
    progress_state ps = {isatty(2), 0};
    if (!o->quiet) {
        rc.progress = on_progress;
        rc.progress_user = &ps;
        rc.progress_interval = ps.tty ? 0.2 : 1.0;
    }
    rc.stop = &stop_flag;

    rundir_prepare(o->out, o->force);
    cJSON *cfg = config_json(o, m, train, test, &rc, "running");
    write_json(o->out, "config.json", cfg);
    cJSON_Delete(cfg);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    bnn_draws *dr = NULL;
    double t0 = now();
    st = bnn_run(&d, &rc, &dr, &err);
    res->seconds_sampling = now() - t0;
    if (st && st != BNN_EINTR)
        die_status(st, &err);
    res->partial = st == BNN_EINTR;
    char status[256] = "complete";
    if (res->partial) {
        snprintf(status, sizeof status, "partial: stopped after %zu of %zu iterations per chain",
                 dr->n_iter_done, rc.n_iter);
        fprintf(stderr, "\nbnnmc: interrupted; writing the %zu draws per chain made so far, "
                "marked partial\n", dr->n_kept);
    }
    for (int c = 0; c < rc.chains; c++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/chain-%d.csv", o->out, c + 1);
        if (write_chain_csv(path, m, dr, c, o, &rc, model_name(o), res->partial ? status : NULL))
            die_runtime("%s: cannot write: %s", path, strerror(errno));
    }
    res->draws = dr;
    res->train = res->test = NULL;
    if (dr->n_kept > 0) {
        st = bnn_predict(m, dr, train, 1, o->seed, rc.threads, &res->train, &err);
        if (!st && test)
            st = bnn_predict(m, dr, test, 1, o->seed + 1, rc.threads, &res->test, &err);
        if (st)
            die_status(st, &err);
        write_preds(o->out, "pred-train.csv", res->train);
        if (res->test)
            write_preds(o->out, "pred-test.csv", res->test);
    }
    if (dr->n_kept >= 4)
        write_run_summary(o->out, m, dr, rc.threads);
    cJSON *met = cJSON_CreateObject();
    cJSON_AddStringToObject(met, "task", o->task == BNN_TASK_REGRESSION ? "regression" : "classification");
    cJSON_AddNumberToObject(met, "chains", rc.chains);
    cJSON_AddNumberToObject(met, "draws_per_chain", (double)dr->n_kept);
    if (res->partial)
        cJSON_AddStringToObject(met, "status", status);
    cJSON *acc = cJSON_AddArrayToObject(met, "acceptance");
    for (int c = 0; c < rc.chains; c++)
        cJSON_AddItemToArray(acc, cJSON_CreateNumber(dr->accept_rate[c]));
    if (res->train)
        cJSON_AddItemToObject(met, "train", metrics_block(res->train));
    if (res->test)
        cJSON_AddItemToObject(met, "test", metrics_block(res->test));
    cJSON_AddNumberToObject(met, "seconds_sampling", res->seconds_sampling);
    res->seconds_total = now() - t_start;
    cJSON_AddNumberToObject(met, "seconds_total", res->seconds_total);
    write_json(o->out, "metrics.json", met);
    cJSON_Delete(met);
    cfg = config_json(o, m, train, test, &rc, status);
    write_json(o->out, "config.json", cfg);
    cJSON_Delete(cfg);
    free(init);
    *m_out = m;
    *tr_out = train;
    *te_out = test;
}

static void free_result(run_result *r, bnn_model *m, bnn_table *tr, bnn_table *te)
{
    bnn_prediction_free(r->train);
    bnn_prediction_free(r->test);
    bnn_draws_free(r->draws);
    bnn_model_free(m);
    bnn_table_free(tr);
    bnn_table_free(te);
}

int cmd_sample(int argc, char **argv)
{
    sample_opts o;
    defaults(&o);
    parse_sample(&o, argc, argv, "sample", sample_usage);
    run_result r = {0};
    bnn_model *m;
    bnn_table *tr, *te;
    run(&o, &r, &m, &tr, &te);
    int partial = r.partial;
    if (!o.quiet)
        fprintf(stderr, "bnnmc: %s run written to %s/ (%.1f s)\n", partial ? "partial" : "complete",
                o.out, r.seconds_total);
    free_result(&r, m, tr, te);
    return partial ? EXIT_RUNTIME : 0;
}

/* ------------------------------------------------------------ demo */

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

int cmd_demo(int argc, char **argv)
{
    sample_opts o;
    defaults(&o);
    o.dataset = "mackey-glass";
    o.out = "bnnmc-demo";
    o.force = 1;
    int has_data = 0;
    for (int i = 1; i < argc; i++)
        has_data |= strcmp(argv[i], "--train") == 0;
    if (has_data)
        o.dataset = NULL;
    parse_sample(&o, argc, argv, "demo", demo_usage);
    run_result r = {0};
    bnn_model *m;
    bnn_table *tr, *te;
    run(&o, &r, &m, &tr, &te);
    const bnn_model_spec *sp = bnn_model_get_spec(m);
    printf("\nbnnmc demo: %s on %s\n", o.nn ? "Bayesian neural network" : "linear model",
           o.dataset ? o.dataset : o.train);
    printf("  model %d", sp->n_inputs);
    for (int l = 0; l < sp->n_hidden; l++)
        printf("-%d", sp->hidden[l]);
    printf("-%d, %zu parameters; sampler %s, %d chains x %ld iterations (%zu burn-in), "
           "%zu draws kept per chain\n", bnn_model_n_outputs(m), bnn_model_dim(m),
           o.sampler, (int)o.chains, o.samples,
           r.draws->n_burn, r.draws->n_kept);
    printf("  acceptance per chain:");
    for (int c = 0; c < r.draws->chains; c++)
        printf(" %.2f", r.draws->accept_rate[c]);
    printf("\n");
    print_block("train", r.train);
    print_block("test", r.test);
    const bnn_prediction *pd = r.test ? r.test : r.train;
    if (pd)
        printf("  convergence: prediction R-hat max %.3f, median %.3f, %.0f%% of rows above 1.01 "
               "(want none)%s\n", pd->rhat_max, pd->rhat_median, 100 * pd->rhat_share_above,
               pd->rhat_max > 1.01 && strcmp(o.sampler, "nuts") != 0 ? "; try --sampler nuts" : "");
    printf("  sampling took %.2f s, everything %.2f s\n", r.seconds_sampling, r.seconds_total);
    printf("  files: %s/config.json, chain-1..%ld.csv (CmdStan layout), summary.csv, "
           "metrics.json, pred-train.csv, pred-test.csv\n", o.out, o.chains);
    if (r.draws->n_kept >= 4 && system("command -v gnuplot >/dev/null 2>&1") == 0) {
        if (plot_run(o.out, NULL) == 0)
            printf("  figures: %s/plots/trace, posterior, predictions, rhat (.png, .svg)\n", o.out);
    } else {
        printf("  figures: skipped, gnuplot is not installed (Debian: apt-get install gnuplot-nox)\n");
    }
    printf("  more: bnnmc summary %s\n", o.out);
    int partial = r.partial;
    free_result(&r, m, tr, te);
    return partial ? EXIT_RUNTIME : 0;
}
