/* sample_opts.h — what `bnnmc sample` (and `bnnmc demo`) was asked to do: the options,
 * their defaults and their parsing (sample_opts.c). */
#ifndef BNNMC_CLI_SAMPLE_OPTS_H
#define BNNMC_CLI_SAMPLE_OPTS_H

#include <getopt.h>
#include <stdio.h>

#include "bnnmc.h"

/* --preset: whose defaults fill the settings the user did not give */
typedef enum {
    PRESET_NONE,    /* bnnmc's: nuts, 2000 iterations, half of them warm-up */
    PRESET_STUDY    /* the study's: langevin (nn) or rw (linear), 10000 iterations, half burn-in */
} sample_preset;

typedef struct {
    const char *train, *test, *dataset, *out, *init;
    int target_col;
    int task;                 /* bnn_task */
    int nn;                   /* 1 network, 0 linear */
    int n_hidden, hidden[BNN_MAX_HIDDEN];
    int activation;           /* bnn_activation */
    int output;               /* -1 default, else bnn_activation */
    double prior_var, nu1, nu2;
    /* --prior-var with several values: one per weight layer (n_prior_layers of them; 0: a
     * single value, prior_var, for every layer); INFINITY is a flat prior */
    int n_prior_layers;
    double prior_var_layer[BNN_MAX_HIDDEN + 1];
    int preset;               /* sample_preset */
    const char *sampler;      /* a kernel's name; NULL until the model's default is settled */
    long samples, thin, chains, threads;   /* samples 0 until the preset's is settled */
    double burn_in;           /* NAN until the preset's is settled */
    unsigned long seed;
    /* the kernel settings given (--max-depth, --step, ...: every kernel's options table),
     * plus the study's step sizes for its models where the user gave none */
    int n_settings;
    struct {
        const char *name;     /* the option's name in its kernel's table */
        double value;
    } settings[BNN_MAX_SETTINGS];
    double target_accept;     /* 0: the sampler's default */
    int no_adapt_metric;
    int metric;               /* bnn_metric: --metric diag (default) or dense */
    double stepsize;          /* 0: the sampler's default */
    int no_adapt;
    int init_map;             /* --init map */
    int noise_step;           /* bnn_noise_step */
    int center;               /* --center: 1 yes, 0 no, -1 not given (the parse settles it) */
    int center_given;
    int axes;                 /* --axes: 1 yes, 0 no, -1 not given (the parse settles it) */
    int axes_given;
    int precision;            /* --precision: 1 single, 0 double, -1 not given (the parse
                                 settles it) */
    int precision_given;
    int depth_by_rows;        /* the tree depth is the default for the training rows (a
                                 network run until converged): sample_opts_rows sets it */
    /* run until converged: --max-time (0: off), the predictive targets, the round length
     * in iterations (0: --samples' draws again) */
    double max_time, target_rhat, target_ess;
    long round;
    double checkpoint_every;  /* seconds between checkpoints (0: none) */
    int save_warmup;          /* --save-warmup: warm-up rows in the chain CSVs */
    const char *adapt_from;   /* --adapt-from DIR: that run's step sizes and metrics, no
                                 warm-up */
    double max_memory;        /* --max-memory in bytes (0: the default, 2G; memory.h) */
    int force, quiet;
    /* resume or extend (cmd_resume.c): continue the run in out from its checkpoints */
    enum { RESUME_NONE, RESUME_INTERRUPTED, RESUME_EXTEND } resume;
    /* the command line of `bnnmc sample` (argv[0] "sample"), recorded with the
     * checkpoints so that resume can parse it again; NULL: not recorded */
    int argc;
    char **argv;
} sample_opts;

/* The defaults before parsing (the model-dependent ones are settled by the parse). */
void sample_opts_defaults(sample_opts *o);
/* Parses the options of `bnnmc cmd` into o, exiting 2 on a bad one (a kernel setting the
 * chosen sampler does not have included). Returns 1 when --help was asked (usage, then the
 * samplers and their settings from the kernel registry, printed on stdout: the command is
 * done), else 0. */
int sample_opts_parse(sample_opts *o, int argc, char **argv, const char *cmd, const char *usage);
/* What another command (`bnnmc variational`) adds to sample's data, model and output
 * options: its own options (vals from SAMPLE_OPTS_EXTRA up, a table ended by a zero entry,
 * at most 32), each handed to opt(ctx, val, optarg). With it, the sampler's options are
 * unknown options, --help prints the usage alone, and only the model's defaults are
 * settled (the priors). */
enum { SAMPLE_OPTS_EXTRA = 2000 };
typedef struct {
    const struct option *longopts;
    void (*opt)(void *ctx, int val, const char *arg);
    void *ctx;
} sample_opts_extra;
/* sample_opts_parse with extra's options instead of the sampler's (extra NULL: the same). */
int sample_opts_parse_with(sample_opts *o, int argc, char **argv, const char *cmd,
                           const char *usage, const sample_opts_extra *extra);
/* Given the training rows and whether the model's density is centred (--center, where the
 * model takes it: bnn_density.coords), the settings that depend on them: the tree depth of
 * a network run until converged, where not given or recorded. */
void sample_opts_rows(sample_opts *o, size_t rows, int centred);
/* A continued run's kernel settings (its sampler's, then those of pt's base as recorded)
 * as the run recorded them: recorded(ctx, op) gives setting op's value (a kernel setting:
 * the kernel's registry index, -1 for a name the registry does not know), or NaN where the
 * run did not record it. They replace what the parse derived, so a default changed since
 * the run started does not change the run half-way. Returns the name of a recorded value
 * outside the setting's range (the record is damaged), else NULL. */
const char *sample_opts_recorded(sample_opts *o,
                                 double (*recorded)(void *ctx, const bnn_option *op), void *ctx);
/* The burn-in in iterations: --burn-in as a count, or its fraction of --samples. */
long sample_opts_burn_count(const sample_opts *o);
/* s = o's data, model, chains, seed and threads with the study's sampler and run length
 * (--preset study, no other sampler option), writing to out: the demo's comparison. */
void sample_opts_study(const sample_opts *o, sample_opts *s, const char *out);
/* The samplers and their settings, from the kernel registry, for --help. */
void sample_opts_print_samplers(FILE *f);

#endif
