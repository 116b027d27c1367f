/* sample_opts.c — the options of `bnnmc sample` and `bnnmc demo`: defaults, parsing, and
 * the study's settings for whichever model was chosen. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memory.h"
#include "sample_opts.h"
#include "util.h"

/* The kernel named s, for option opt (--sampler, --base); exits 2 listing the registry's
 * names when there is none. */
static const bnn_kernel *parse_kernel(const char *C, const char *opt, const char *s)
{
    const bnn_kernel *k = bnn_kernel_find(s);
    if (!k) {
        char list[256] = "";
        for (size_t i = 0; bnn_kernel_at(i); i++) {
            strncat(list, i ? "|" : "", sizeof list - strlen(list) - 1);
            strncat(list, bnn_kernel_at(i)->name, sizeof list - strlen(list) - 1);
        }
        die_usage(C, "%s: '%s' is not one of %s", opt, s, list);
    }
    return k;
}

/* ------------------------------------------------------------ kernel settings */

/* Every kernel's options, each name once (kernels that share a name share its meaning:
 * test_cli checks that their tables agree), as command-line options: max_depth is
 * --max-depth. */
enum { MAX_KOPTS = 48, O_KERNEL = 1000 };

typedef struct {
    size_t n;
    const bnn_option *opt[MAX_KOPTS];
    char flag[MAX_KOPTS][40];          /* "max-depth" */
} kernel_opts;

/* The command-line form of a setting's name: max_depth is max-depth. */
static void flag_name(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s", name);
    for (char *c = out; *c; c++)
        *c = *c == '_' ? '-' : *c;
}

static void kernel_opts_collect(kernel_opts *ko)
{
    ko->n = 0;
    for (size_t i = 0; bnn_kernel_at(i); i++) {
        const bnn_kernel *k = bnn_kernel_at(i);
        for (size_t j = 0; k->options && k->options[j].name; j++) {
            size_t q = 0;
            while (q < ko->n && strcmp(ko->opt[q]->name, k->options[j].name) != 0)
                q++;
            if (q < ko->n || ko->n == MAX_KOPTS)
                continue;
            ko->opt[q] = &k->options[j];
            flag_name(ko->flag[q], sizeof ko->flag[q], k->options[j].name);
            ko->n++;
        }
    }
}

static void set_setting(sample_opts *o, const char *name, double v)
{
    for (int i = 0; i < o->n_settings; i++)
        if (strcmp(o->settings[i].name, name) == 0) {
            o->settings[i].value = v;
            return;
        }
    if (o->n_settings < BNN_MAX_SETTINGS) {
        o->settings[o->n_settings].name = name;
        o->settings[o->n_settings].value = v;
        o->n_settings++;
    }
}

static int has_setting(const sample_opts *o, const char *name)
{
    for (int i = 0; i < o->n_settings; i++)
        if (strcmp(o->settings[i].name, name) == 0)
            return 1;
    return 0;
}

/* --FLAG VALUE for the kernel option op, checked against its table. */
static double parse_setting(const char *C, const char *flag, const bnn_option *op, const char *s)
{
    char opt[64];
    snprintf(opt, sizeof opt, "--%s", flag);
    if (op->type == BNN_OPT_KERNEL) {   /* a kernel by name; the library takes its index */
        return (double)bnn_kernel_index(parse_kernel(C, opt, s));
    }
    if (op->type == BNN_OPT_INT)
        return (double)parse_long(C, opt, s, (long)op->lo, (long)op->hi);
    double v = parse_double(C, opt, s);
    if (op->type == BNN_OPT_POSITIVE && !(v > 0))
        die_usage(C, "%s: must be positive, got %s", opt, s);
    if (op->type == BNN_OPT_REAL && !(v >= op->lo && v <= op->hi))
        die_usage(C, "%s: must be in [%g,%g], got %s", opt, op->lo, op->hi, s);
    return v;
}

/* The kernel whose settings k also takes (pt's --base), as o sets it or by default. */
static const bnn_kernel *sub_kernel(const sample_opts *o, const bnn_kernel *k)
{
    bnn_run_config rc;
    bnn_run_config_default(&rc);
    for (int i = 0; i < o->n_settings; i++)
        bnn_run_config_set(&rc, o->settings[i].name, o->settings[i].value);
    return bnn_run_config_subkernel(&rc, k);
}

const char *sample_opts_recorded(sample_opts *o,
                                 double (*recorded)(void *ctx, const bnn_option *op), void *ctx)
{
    /* the sampler's own settings first: pt's base among them decides whose follow */
    const bnn_kernel *k = bnn_kernel_find(o->sampler);
    for (int j = 0; j < 2; j++, k = k ? sub_kernel(o, k) : NULL)
        for (size_t i = 0; k && k->options && k->options[i].name; i++) {
            const bnn_option *op = &k->options[i];
            double v = recorded(ctx, op);
            if (isnan(v))
                continue;
            int bad = op->type == BNN_OPT_POSITIVE ? !(v > 0)
                      : op->type == BNN_OPT_KERNEL ? !(v >= 0)
                                                   : !(v >= op->lo && v <= op->hi) ||
                                                         (op->type == BNN_OPT_INT && v != floor(v));
            if (bad)
                return op->name;
            set_setting(o, op->name, v);
        }
    return NULL;
}

/* Every setting given must be one of the chosen kernel's (or of its base's, for pt). */
static void check_settings(const sample_opts *o, const char *C)
{
    const bnn_kernel *k = bnn_kernel_find(o->sampler);
    const bnn_kernel *sub = sub_kernel(o, k);
    for (int i = 0; i < o->n_settings; i++) {
        if (bnn_kernel_option(k, o->settings[i].name))
            continue;
        if (sub && bnn_kernel_option(sub, o->settings[i].name))
            continue;
        if (sub && sub != k) {
            char flag[40];
            flag_name(flag, sizeof flag, o->settings[i].name);
            die_usage(C, "--%s is a setting neither of --sampler %s nor of its --base %s", flag,
                      k->name, sub->name);
        }
        char list[256] = "", flag[40];
        for (size_t j = 0; k->options && k->options[j].name; j++) {
            flag_name(flag, sizeof flag, k->options[j].name);
            strncat(list, j ? ", --" : "--", sizeof list - strlen(list) - 1);
            strncat(list, flag, sizeof list - strlen(list) - 1);
        }
        flag_name(flag, sizeof flag, o->settings[i].name);
        die_usage(C, "--%s is not a setting of --sampler %s (%s%s)", flag, k->name,
                  list[0] ? "its settings: " : "it has none", list);
    }
}

void sample_opts_print_samplers(FILE *f)
{
    fprintf(f, "samplers (--sampler NAME):\n");
    for (size_t i = 0; bnn_kernel_at(i); i++)
        fprintf(f, "  %-22s  %s%s\n", bnn_kernel_at(i)->name,
                bnn_kernel_at(i)->approximate ? "APPROXIMATE (no Metropolis correction): " : "",
                bnn_kernel_at(i)->help);
    fprintf(f, "sampler settings (each for the samplers named; the default in brackets):\n");
    kernel_opts ko;
    kernel_opts_collect(&ko);
    for (size_t q = 0; q < ko.n; q++) {
        char head[64], users[128] = "";
        const bnn_option *op = ko.opt[q];
        snprintf(head, sizeof head, "--%s %s", ko.flag[q],
                 op->type == BNN_OPT_INT ? "N" : op->type == BNN_OPT_KERNEL ? "NAME" : "X");
        for (size_t i = 0; bnn_kernel_at(i); i++)
            if (bnn_kernel_option(bnn_kernel_at(i), ko.opt[q]->name)) {
                strncat(users, users[0] ? "/" : "", sizeof users - strlen(users) - 1);
                strncat(users, bnn_kernel_at(i)->name, sizeof users - strlen(users) - 1);
            }
        if (op->type == BNN_OPT_KERNEL)
            fprintf(f, "  %-22s  %s: %s [%s]\n", head, users, op->help, op->def_kernel);
        else
            fprintf(f, "  %-22s  %s: %s [%g]\n", head, users, op->help, op->def);
    }
    fprintf(f, "  (pt also takes its --base's settings, e.g. --max-depth for nuts)\n");
    fprintf(f, "  (rw and langevin on the study's models: --step 0.025 --step-eta 0.2 for nn, "
               "0.02 and 0.01 for linear)\n");
}

static void parse_hidden(sample_opts *o, const char *C, const char *s)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    o->n_hidden = 0;
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        if (o->n_hidden == BNN_MAX_HIDDEN)
            die_usage(C, "--hidden: at most %d layers", BNN_MAX_HIDDEN);
        o->hidden[o->n_hidden++] = (int)parse_long(C, "--hidden", tok, 1, 100000);
    }
    if (o->n_hidden == 0)
        die_usage(C, "--hidden: '%s' lists no layer width", s);
}

/* --prior-var V or V1,V2,...: each a positive number or inf (a flat prior). One value is
 * every layer's; several are one per weight layer, checked against the architecture once
 * every option is known (model_defaults). */
static void parse_prior_var(sample_opts *o, const char *C, const char *s)
{
    char buf[256];
    if (snprintf(buf, sizeof buf, "%s", s) >= (int)sizeof buf)
        die_usage(C, "--prior-var: '%.40s...' is too long", s);
    double v[BNN_MAX_HIDDEN + 2];
    int n = 0;
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        if (n == BNN_MAX_HIDDEN + 1)
            die_usage(C, "--prior-var: at most %d values (one per weight layer)",
                      BNN_MAX_HIDDEN + 1);
        v[n] = strcmp(tok, "inf") == 0 ? INFINITY : parse_double(C, "--prior-var", tok);
        if (!(v[n] > 0))
            die_usage(C, "--prior-var: must be positive or inf, got %s", tok);
        n++;
    }
    if (n == 0 || s[strlen(s) - 1] == ',' || s[0] == ',' || strstr(s, ",,"))
        die_usage(C, "--prior-var: '%s' is not a list of variances", s);
    o->n_prior_layers = n > 1 ? n : 0;
    o->prior_var = n > 1 ? NAN : v[0];
    for (int l = 0; l < n && n > 1; l++)
        o->prior_var_layer[l] = v[l];
}

long sample_opts_burn_count(const sample_opts *o)
{
    return o->burn_in < 1 ? (long)floor(o->burn_in * (double)o->samples) : (long)o->burn_in;
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
    o->sampler = NULL;
    o->samples = 0;
    o->burn_in = NAN;
    o->thin = 1;
    o->chains = 4;
    o->seed = 1;
    o->threads = cpu_count();
    o->target_rhat = 1.01;
    o->target_ess = 400;
    o->checkpoint_every = 60;
    o->center = -1;
    o->axes = -1;
    o->precision = -1;
}

/* The study's priors where the user gave none, and --prior-var's count checked against the
 * architecture (sample's and variational's model). */
static void prior_defaults(sample_opts *o, const char *C)
{
    if (isnan(o->prior_var))
        o->prior_var = o->nn ? 25.0 : 5.0;
    int layers = o->nn ? o->n_hidden + 1 : 1;
    if (o->n_prior_layers && o->n_prior_layers != layers)
        die_usage(C, "--prior-var: %d values, but the model has %d weight layer%s "
                  "(give one value, or one per layer)", o->n_prior_layers, layers,
                  layers == 1 ? "" : "s");
    if (isnan(o->nu1))
        o->nu1 = 0.0;
    if (isnan(o->nu2))
        o->nu2 = 0.0;
}

/* A reparameterisation of the model's density (*v: --center, bnn_model_spec.center,
 * src/model/center.c; or --axes, .axes, src/model/axes.c) where it is not given: on for the
 * gradient samplers nuts, hmc and mala, whose step size and trajectories the stiff
 * directions they remove otherwise set (on sunspot's network the centred level let NUTS's
 * step grow 3-4x; the inputs' axes then took its median time to convergence from 35 s to
 * 26 s over ten seeds, abalone's within its seeds' spread: README, "Networks that
 * converge"); off for the study's preset and the others. The model applies each where it
 * can (the centred level to a regression network with one hidden layer, the axes to any
 * network, run_build_spec to regression ones unless given) and ignores it elsewhere. */
static void coords_default(sample_opts *o, const char *C, int *v, const char *option)
{
    const char *own[] = {"langevin", "sgld", "sghmc"};   /* drift or minibatches */
    const bnn_kernel *sub = sub_kernel(o, bnn_kernel_find(o->sampler));   /* pt's base */
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        if (*v == 1 &&
            (strcmp(o->sampler, own[i]) == 0 || (sub && strcmp(sub->name, own[i]) == 0)))
            die_usage(C, "%s yes: --sampler %s%s%s moves in the model's own coordinates "
                      "(%s), give %s no", option, o->sampler, sub ? " --base " : "",
                      sub ? sub->name : "", i == 0 ? "the study's per-row descent"
                                                   : "minibatches of rows", option);
    if (*v < 0) {
        const char *grad[] = {"nuts", "hmc", "mala"};
        *v = 0;
        for (size_t i = 0; i < sizeof grad / sizeof grad[0]; i++)
            *v |= o->preset != PRESET_STUDY && strcmp(o->sampler, grad[i]) == 0;
    }
}

/* The defaults for whichever model and preset were chosen, where the user gave none: the
 * study's priors always; the sampler and run length of the preset; the study's proposal
 * scales for whichever kernel has them. */
static void model_defaults(sample_opts *o, const char *C)
{
    int study = o->preset == PRESET_STUDY;
    prior_defaults(o, C);
    /* nuts by default: of the samplers measured on the study's networks, the one whose
     * predictions converge (README, "Networks that converge") */
    if (!o->sampler)
        o->sampler = !study ? "nuts" : o->nn ? "langevin" : "rw";
    /* Running a network until it converges (--max-time under nuts): a short start and
     * short rounds, since with the deep trees below an iteration of the study's regression
     * networks costs up to 8,191 gradients a chain: the general default of 2000 iterations
     * before the first check would be about 170 s of sunspot (4 chains, 2 cores), where
     * 200 warm-up + 200, then rounds of 100, converged sunspot in 75-139 s and
     * Mackey-Glass in 58 s, and with the centred level (--center) in 51-62 s and 35-37 s
     * (README, "Networks that converge"). A given --samples keeps
     * its rounds of samples - burn-in. */
    int until_net = !study && o->nn && o->max_time > 0 && strcmp(o->sampler, "nuts") == 0;
    if (until_net && !o->samples) {
        /* a given count (0 too: --adapt-from) is kept; a fraction applies to the whole */
        int count = !isnan(o->burn_in) && (o->burn_in >= 1 || o->burn_in == 0);
        long burn = count ? (long)o->burn_in : 200;
        o->samples = burn + 200 * o->thin;   /* 200 kept draws however thinned */
        if (isnan(o->burn_in))
            o->burn_in = (double)burn;
        if (!o->round)
            o->round = 100 * o->thin;
    }
    if (!o->samples)
        o->samples = study ? 10000 : 2000;
    if (isnan(o->burn_in))
        o->burn_in = 0.5;
    /* the study's random-walk scales for its two models */
    const bnn_kernel *k = bnn_kernel_find(o->sampler);
    const bnn_kernel *sub = sub_kernel(o, k);
    if (sub && !bnn_kernel_option(k, "step"))
        k = sub;   /* pt: its base's scales */
    const bnn_option *step = bnn_kernel_option(k, "step"), *step_eta = bnn_kernel_option(k, "step_eta");
    if (step && !has_setting(o, "step"))
        set_setting(o, step->name, o->nn ? 0.025 : 0.02);
    if (step_eta && !has_setting(o, "step_eta"))
        set_setting(o, step_eta->name, o->nn ? 0.2 : 0.01);
    coords_default(o, C, &o->center, "--center");
    /* the inputs' axes only when asked for: on abalone one seed's chains did not converge in
     * 1,800 s with them (README, "The inputs' axes") */
    if (o->axes < 0)
        o->axes = 0;
    coords_default(o, C, &o->axes, "--axes");
    /* Single precision for the gradient samplers' networks: twice the SIMD lanes, 1.7-2x the
     * gradients a second (bench_density); abalone, the slowest of the study's networks to
     * converge, in 167-303 s on five seeds where double took 488-730 s on three, sunspot in
     * 15-26 s on ten where double took 28-57 s (README, "Single precision"). The density's
     * log differs from the double one's by a median of 5e-5, at most 4e-4, at abalone's
     * draws (bench/precision_error.c). Double for the study's preset (whose outputs are
     * pinned to the byte) and the other samplers. The model applies it where it has the
     * kernel (bnn_model_float32) and ignores it elsewhere unless given. */
    if (o->precision > 0 && (!o->nn || o->n_hidden != 1))   /* before the data are read */
        die_usage(C, "--precision single: only a network with one hidden layer has a "
                  "single-precision kernel (give --precision double)");
    if (o->precision > 0 && (strcmp(o->sampler, "sgld") == 0 || strcmp(o->sampler, "sghmc") == 0))
        die_usage(C, "--precision single: --sampler %s's minibatch gradients are computed in "
                  "double (give --precision double)", o->sampler);
    if (o->precision < 0) {
        const char *grad[] = {"nuts", "hmc", "mala"};
        o->precision = 0;
        for (size_t i = 0; i < sizeof grad / sizeof grad[0]; i++)
            o->precision |= o->preset != PRESET_STUDY && strcmp(o->sampler, grad[i]) == 0;
    }
    const bnn_option *depth = bnn_kernel_option(bnn_kernel_find(o->sampler), "max_depth");
    o->depth_by_rows = until_net && depth;   /* sample_opts_rows, once the data are read */
}

void sample_opts_rows(sample_opts *o, size_t rows, int centred)
{
    /* Running a network until it converges: NUTS's trees 4 to 16 times longer than Stan's
     * default. On the study's regression networks the trajectories saturate depth 10 on
     * every draw and still random-walk (step ~2e-4 against weights as wide as the prior):
     * Mackey-Glass at depth 10 had not converged in 300 s. In the model's coordinates,
     * depth 13 and 14 (5 seeds of sunspot, 2 of Mackey-Glass): the same cost to converge on
     * sunspot, 13 cheaper on Mackey-Glass (58 s on both seeds, against 67 and 169 s). The
     * centred level (--center) lets the step grow 3-4x, and then depth 12 suffices for
     * sunspot's 298 rows (34-36 s on 5 seeds against 45-66 s at depth 13; depth 11: 39 and
     * 92 s) and Mackey-Glass's 300, but not for abalone's 2,506 (710 s at 12 against
     * 388-499 s at 13). The data-bound directions narrow as 1/sqrt(rows) while the
     * prior-bound ones stay as wide, so a trajectory must double for every 4x rows: one
     * level more from 1,200 rows and another from 4,800 (measured up to abalone only;
     * README, "Networks that converge"). Where the model does not centre (classification,
     * several hidden layers, --center no) 13 as measured before the centring. A tree that
     * turns back sooner (the classification networks) costs no more. */
    if (!o->depth_by_rows || has_setting(o, "max_depth"))
        return;
    double depth = centred ? 12 + (rows >= 1200) + (rows >= 4800) : 13;
    set_setting(o, bnn_kernel_option(bnn_kernel_find(o->sampler), "max_depth")->name, depth);
}

void sample_opts_study(const sample_opts *o, sample_opts *s, const char *out)
{
    *s = *o;
    s->out = out;
    s->preset = PRESET_STUDY;
    s->sampler = NULL;
    s->samples = 0;
    s->burn_in = NAN;
    s->n_settings = 0;
    s->target_accept = s->stepsize = s->max_time = 0;
    s->no_adapt_metric = s->no_adapt = s->init_map = 0;
    s->metric = BNN_METRIC_DIAG;
    s->noise_step = BNN_NOISE_STEP_NONE;
    s->center = -1;
    s->center_given = 0;
    s->axes = -1;
    s->axes_given = 0;
    s->precision = -1;
    s->precision_given = 0;
    s->round = 0;
    model_defaults(s, "demo");
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
    return sample_opts_parse_with(o, argc, argv, C, usage, NULL);
}

int sample_opts_parse_with(sample_opts *o, int argc, char **argv, const char *C,
                           const char *usage, const sample_opts_extra *extra)
{
    enum {
        O_TRAIN = 256, O_TEST, O_DATASET, O_OUT, O_TARGET, O_TASK, O_MODEL, O_HIDDEN, O_ACT,
        O_OUTPUT, O_PRIOR, O_NU1, O_NU2, O_SAMPLER, O_SAMPLES, O_BURN, O_THIN, O_CHAINS,
        O_THREADS, O_SEED, O_INIT, O_FORCE, O_QUIET, O_HELP, O_TARGET_ACC, O_NOADAPT, O_STEPSIZE,
        O_NOADAPT_ALL, O_METRIC, O_NOISE_STEP, O_CENTER, O_AXES, O_PRECISION, O_MAX_TIME,
        O_TARGET_RHAT, O_TARGET_ESS, O_ROUND, O_PRESET, O_CHECKPOINT, O_SAVE_WARMUP, O_ADAPT_FROM, O_MAX_MEMORY
    };
    /* the data, model and output options, which `bnnmc variational` shares */
    static const struct option data_model[] = {
        {"train", required_argument, 0, O_TRAIN}, {"test", required_argument, 0, O_TEST},
        {"dataset", required_argument, 0, O_DATASET}, {"out", required_argument, 0, O_OUT},
        {"target-col", required_argument, 0, O_TARGET}, {"task", required_argument, 0, O_TASK},
        {"model", required_argument, 0, O_MODEL}, {"hidden", required_argument, 0, O_HIDDEN},
        {"activation", required_argument, 0, O_ACT}, {"output", required_argument, 0, O_OUTPUT},
        {"prior-var", required_argument, 0, O_PRIOR}, {"nu1", required_argument, 0, O_NU1},
        {"nu2", required_argument, 0, O_NU2},
        {"threads", required_argument, 0, O_THREADS}, {"seed", required_argument, 0, O_SEED},
        {"init", required_argument, 0, O_INIT}, {"force", no_argument, 0, O_FORCE},
        {"quiet", no_argument, 0, O_QUIET}, {"help", no_argument, 0, O_HELP}};
    /* the sampler's own (not taken with extra) */
    static const struct option sampler_only[] = {
        {"sampler", required_argument, 0, O_SAMPLER},
        {"samples", required_argument, 0, O_SAMPLES}, {"burn-in", required_argument, 0, O_BURN},
        {"thin", required_argument, 0, O_THIN}, {"chains", required_argument, 0, O_CHAINS},
        {"target-accept", required_argument, 0, O_TARGET_ACC},
        {"no-adapt-metric", no_argument, 0, O_NOADAPT}, {"stepsize", required_argument, 0, O_STEPSIZE},
        {"no-adapt", no_argument, 0, O_NOADAPT_ALL}, {"metric", required_argument, 0, O_METRIC},
        {"noise-step", required_argument, 0, O_NOISE_STEP},
        {"center", required_argument, 0, O_CENTER},
        {"axes", required_argument, 0, O_AXES},
        {"precision", required_argument, 0, O_PRECISION},
        {"max-time", required_argument, 0, O_MAX_TIME},
        {"target-rhat", required_argument, 0, O_TARGET_RHAT},
        {"target-ess", required_argument, 0, O_TARGET_ESS}, {"round", required_argument, 0, O_ROUND},
        {"preset", required_argument, 0, O_PRESET},
        {"checkpoint-every", required_argument, 0, O_CHECKPOINT},
        {"save-warmup", no_argument, 0, O_SAVE_WARMUP},
        {"adapt-from", required_argument, 0, O_ADAPT_FROM},
        {"max-memory", required_argument, 0, O_MAX_MEMORY}};
    enum {
        N_DM = sizeof data_model / sizeof data_model[0],
        N_SO = sizeof sampler_only / sizeof sampler_only[0],
        MAX_EXTRA = 32
    };
    /* the data and model options, then the sampler's and every kernel's settings (the
     * registry's option tables), or extra's options instead */
    kernel_opts ko;
    kernel_opts_collect(&ko);
    struct option longopts[N_DM + N_SO + MAX_KOPTS + MAX_EXTRA + 1];
    size_t n = 0;
    memcpy(longopts, data_model, sizeof data_model);
    n = N_DM;
    if (!extra) {
        memcpy(longopts + n, sampler_only, sizeof sampler_only);
        n += N_SO;
        for (size_t q = 0; q < ko.n; q++)
            longopts[n++] = (struct option){ko.flag[q], required_argument, 0, O_KERNEL + (int)q};
    } else {
        for (size_t q = 0; q < MAX_EXTRA && extra->longopts[q].name; q++)
            longopts[n++] = extra->longopts[q];
    }
    longopts[n] = (struct option){0, 0, 0, 0};
    static const char *const tasks[] = {"auto", "regression", "classification", NULL};
    static const char *const models[] = {"linear", "nn", NULL};
    static const char *const metrics[] = {"diag", "dense", NULL};   /* bnn_metric's order */
    static const char *const noise_steps[] = {"none", "gibbs", NULL};   /* bnn_noise_step */
    static const char *const yes_no[] = {"no", "yes", NULL};
    static const char *const precisions[] = {"double", "single", NULL};
    static const char *const presets[] = {"none", "study", NULL};         /* sample_preset */
    optind = 1;
    int c;
    while ((c = next_option(C, argc, argv, longopts)) != -1) {
        switch (c) {
        case O_TRAIN: o->train = optarg; break;
        case O_TEST: o->test = optarg; break;
        case O_DATASET: o->dataset = optarg; break;
        case O_OUT: o->out = optarg; break;
        case O_INIT:
            /* the keyword map, else a file */
            o->init_map = strcmp(optarg, "map") == 0;
            o->init = o->init_map ? NULL : optarg;
            break;
        case O_NOISE_STEP: o->noise_step = parse_choice(C, "--noise-step", optarg, noise_steps); break;
        case O_CENTER:
            o->center = parse_choice(C, "--center", optarg, yes_no);
            o->center_given = 1;
            break;
        case O_AXES:
            o->axes = parse_choice(C, "--axes", optarg, yes_no);
            o->axes_given = 1;
            break;
        case O_PRECISION:
            o->precision = parse_choice(C, "--precision", optarg, precisions);
            o->precision_given = 1;
            break;
        case O_FORCE: o->force = 1; break;
        case O_QUIET: o->quiet = 1; break;
        case O_TARGET: o->target_col = (int)parse_long(C, "--target-col", optarg, 1, 1000000); break;
        case O_TASK: o->task = parse_choice(C, "--task", optarg, tasks); break;
        case O_MODEL: o->nn = parse_choice(C, "--model", optarg, models); break;
        case O_HIDDEN: parse_hidden(o, C, optarg); break;
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
            parse_prior_var(o, C, optarg);
            break;
        case O_NU1:
        case O_NU2: {
            const char *n = c == O_NU1 ? "--nu1" : "--nu2";
            double v = parse_double(C, n, optarg);
            /* nu1 may be negative: the model refuses it below the bound that keeps the
             * posterior proper, which depends on the data */
            if (v < 0 && c == O_NU2)
                die_usage(C, "%s: must be >= 0, got %s", n, optarg);
            *(c == O_NU1 ? &o->nu1 : &o->nu2) = v;
            break;
        }
        case O_SAMPLER: o->sampler = parse_kernel(C, "--sampler", optarg)->name; break;
        case O_SAMPLES: o->samples = parse_long(C, "--samples", optarg, 2, 1000000000); break;
        case O_BURN:
            o->burn_in = parse_double(C, "--burn-in", optarg);
            if (o->burn_in < 0 || o->burn_in > 1e9 ||
                (o->burn_in >= 1 && o->burn_in != floor(o->burn_in)))
                die_usage(C, "--burn-in: '%s' is neither a fraction in [0,1) nor a count up to "
                          "10^9", optarg);
            break;
        case O_THIN: o->thin = parse_long(C, "--thin", optarg, 1, 1000000000); break;
        case O_CHAINS: o->chains = parse_long(C, "--chains", optarg, 1, 1024); break;
        case O_THREADS: o->threads = parse_long(C, "--threads", optarg, 1, 1024); break;
        case O_SEED: o->seed = (unsigned long)parse_long(C, "--seed", optarg, 0, 4294967295L); break;
        case O_TARGET_ACC:
            o->target_accept = parse_double(C, "--target-accept", optarg);
            if (!(o->target_accept > 0 && o->target_accept < 1))
                die_usage(C, "--target-accept: must be in (0, 1), got %s", optarg);
            break;
        case O_NOADAPT: o->no_adapt_metric = 1; break;
        case O_STEPSIZE:
            o->stepsize = parse_double(C, "--stepsize", optarg);
            if (!(o->stepsize > 0) || !isfinite(o->stepsize))
                die_usage(C, "--stepsize: must be a positive number, got %s", optarg);
            break;
        case O_NOADAPT_ALL: o->no_adapt = 1; break;
        case O_METRIC: o->metric = parse_choice(C, "--metric", optarg, metrics); break;
        case O_MAX_TIME:
            o->max_time = parse_double(C, "--max-time", optarg);
            if (!(o->max_time > 0) || !isfinite(o->max_time))
                die_usage(C, "--max-time: must be a positive number of seconds, got %s", optarg);
            break;
        case O_TARGET_RHAT:
            o->target_rhat = parse_double(C, "--target-rhat", optarg);
            if (!(o->target_rhat > 1) || !isfinite(o->target_rhat))
                die_usage(C, "--target-rhat: must be a number above 1, got %s", optarg);
            break;
        case O_TARGET_ESS:
            o->target_ess = parse_double(C, "--target-ess", optarg);
            if (!(o->target_ess >= 0) || !isfinite(o->target_ess))
                die_usage(C, "--target-ess: must be a number >= 0, got %s", optarg);
            break;
        case O_PRESET: o->preset = parse_choice(C, "--preset", optarg, presets); break;
        case O_SAVE_WARMUP: o->save_warmup = 1; break;
        case O_ADAPT_FROM: o->adapt_from = optarg; break;
        case O_MAX_MEMORY:
            if (mem_parse_size(optarg, &o->max_memory) != 0 || !(o->max_memory >= 1024 * 1024))
                die_usage(C, "--max-memory: '%s' is not a size of at least 1M (bytes, or with "
                          "K, M or G: 512M, 2G)", optarg);
            break;
        case O_CHECKPOINT:
            o->checkpoint_every = parse_double(C, "--checkpoint-every", optarg);
            if (!(o->checkpoint_every >= 0) || !isfinite(o->checkpoint_every))
                die_usage(C, "--checkpoint-every: must be a number of seconds >= 0 (0: none), "
                          "got %s", optarg);
            break;
        case O_ROUND: o->round = parse_long(C, "--round", optarg, 1, 1000000000); break;
        case O_HELP:
            fputs(usage, stdout);
            if (!extra)
                sample_opts_print_samplers(stdout);
            return 1;
        default:
            if (extra && c >= SAMPLE_OPTS_EXTRA)
                extra->opt(extra->ctx, c, optarg);
            else if (c >= O_KERNEL && c < O_KERNEL + (int)ko.n) {
                size_t q = (size_t)(c - O_KERNEL);
                set_setting(o, ko.opt[q]->name, parse_setting(C, ko.flag[q], ko.opt[q], optarg));
            }
            break;
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
    if (extra) {   /* no sampler: the model's defaults alone */
        prior_defaults(o, C);
        return 0;
    }
    if (o->adapt_from) {
        /* the tuning is taken, not made: no warm-up, no adaptation */
        if (!isnan(o->burn_in) && o->burn_in != 0)
            die_usage(C, "--adapt-from skips warm-up: --burn-in must be 0 or not given");
        if (o->stepsize > 0 || o->no_adapt)
            die_usage(C, "--adapt-from takes the step size from %s: no --stepsize or --no-adapt",
                      o->adapt_from);
        o->burn_in = 0;
        o->no_adapt = 1;
    }
    model_defaults(o, C);
    check_settings(o, C);
    const bnn_kernel *k = bnn_kernel_find(o->sampler);
    if (o->metric == BNN_METRIC_DENSE && !k->dense_metric)
        die_usage(C, "--metric dense: --sampler %s has no dense metric (hmc and nuts have)", k->name);
    return 0;
}
