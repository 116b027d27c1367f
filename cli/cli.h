/* cli.h — shared pieces of the bnnmc command line (not part of the library). */
#ifndef BNNMC_CLI_H
#define BNNMC_CLI_H

#include <stdio.h>

#include "bnnmc.h"

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

/* One-line usage error for `bnnmc CMD` (cmd may be NULL), exit 2. */
void die_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
/* One-line error from a library status: exit 2 for bad input, 1 otherwise. */
void die_status(bnn_status st, const bnn_error *err) __attribute__((noreturn));
/* One-line runtime error, exit 1. */
void die_runtime(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

double parse_double(const char *cmd, const char *opt, const char *s);
long parse_long(const char *cmd, const char *opt, const char *s, long lo, long hi);
int parse_choice(const char *cmd, const char *opt, const char *s, const char *const *names);

/* Everything `bnnmc sample` (and `demo`) was asked to do. */
typedef struct {
    const char *train, *test, *dataset, *out, *init;
    int target_col;
    int task;                 /* bnn_task */
    int nn;                   /* 1 network, 0 linear */
    int n_hidden, hidden[BNN_MAX_HIDDEN];
    int activation;           /* bnn_activation */
    int output;               /* -1 default, else bnn_activation */
    double prior_var, nu1, nu2;
    int sampler;              /* bnn_sampler, -1 default */
    long samples, thin, chains, threads;
    double burn_in;
    unsigned long seed;
    double step, step_eta, lr, langevin_prob;
    double target_accept, int_time;   /* 0: the sampler's default */
    int max_depth, no_adapt_metric;
    int force, quiet;
} sample_opts;

int cmd_sample(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_predict(int argc, char **argv);

/* Starting values from an --init file (init.c) into init (chains x the model's dim, the
 * sampler's unconstrained scale): one row for every chain or one row per chain, tau2 > 0.
 * Errors (BNN_EPARSE, BNN_EIO, BNN_ENOMEM) name the file, line and column. */
bnn_status read_init_file(const char *path, const bnn_model *m, size_t chains, double *init,
                          bnn_error *err);

/* ---- run folder (rundir.c) ---- */

/* Writes path atomically: to path.tmp, then rename; a half-written file never has the
 * final name. Returns 0 or -1 with errno. */
int write_file_atomic(const char *path, const char *data, size_t len);
/* sha256 of a file's bytes as 64 hex characters; "" when unreadable. */
void file_sha256(const char *path, char hex[65]);

/* Refuses (exit 2) an --out that is a file, or that holds a run when force is 0. */
void rundir_check(const char *dir, int force);
/* Prepares DIR for a run: refuses an existing run unless force (then removes its files). */
void rundir_prepare(const char *dir, int force);

/* A chain's draws in CmdStan's CSV layout. status is NULL for a complete run. */
int write_chain_csv(const char *path, const bnn_model *m, const bnn_draws *dr, int chain,
                    const sample_opts *o, const char *model_name, const char *status);
/* Reads the draws of chain-1.csv ... of a run folder back (constrained -> unconstrained). */
bnn_status read_run_draws(const char *dir, const bnn_model *m, bnn_draws **out, bnn_error *err);

/* Per-row predictions (pred-train.csv, pred-test.csv, bnnmc predict). */
int write_pred_csv(FILE *f, const bnn_prediction *p);

/* ---- CmdStan CSV files (stancsv.c) ---- */

typedef struct {
    size_t ncol, nrow;
    char **names;             /* ncol column names */
    double *v;                /* nrow x ncol values */
    char *status;             /* "# bnnmc_status = ..." if present (a partial run) */
    char *algorithm;          /* "# algorithm = ..." if present */
    char *engine;             /* "# engine = ..." if present */
    int max_depth;            /* "# max_depth = ..." if present, else 10 */
} stan_csv;

/* Reads path; on failure returns -1 with a one-line message naming file:line:col. */
int stan_csv_read(const char *path, stan_csv *c, char *err, size_t errlen);
void stan_csv_free(stan_csv *c);

/* ---- summaries (summary.c) ---- */

int cmd_summary(int argc, char **argv);
int cmd_diagnose(int argc, char **argv);
/* summary.csv: one row per name, the columns of ../shared/GUIDE.md. 0 or -1 (errno). */
int write_summary_csv(const char *path, char **names, const bnn_summary *s, size_t k);

/* ---- figures (plot.c) ---- */

int cmd_plot(int argc, char **argv);
/* Draws the figures of the run in dir (params: comma-separated names or NULL); 0 or an
 * exit status, with the message already printed. */
int plot_run(const char *dir, const char *params);

#endif
