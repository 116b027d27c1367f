/* cli.h — shared pieces of the bnnmc command line (not part of the library). */
#ifndef BNNMC_CLI_H
#define BNNMC_CLI_H

#include <stdio.h>

#include <cJSON.h>

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
    const char *sampler;      /* a kernel's name; NULL: the model's default */
    long samples, thin, chains, threads;
    double burn_in;
    unsigned long seed;
    double step, step_eta, lr, langevin_prob;
    double target_accept, int_time;   /* 0: the sampler's default */
    int max_depth, no_adapt_metric;
    double stepsize;          /* 0: the sampler's default */
    int no_adapt;
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
                    const sample_opts *o, const bnn_run_config *rc, const char *model_name,
                    const char *status);

/* Per-row predictions (pred-train.csv, pred-test.csv, bnnmc predict). */
int write_pred_csv(FILE *f, const bnn_prediction *p);

/* ---- CmdStan CSV files (stancsv.c) ---- */

typedef struct {
    char *path;               /* the file read */
    size_t ncol, nrow;
    char **names;             /* ncol column names, unique */
    double *v;                /* nrow x ncol values: the draws after warm-up */
    size_t nwarmup;           /* warm-up rows left out (files written with save_warmup = 1) */
    char *status;             /* "# bnnmc_status = ..." if present (a partial run) */
    char *algorithm;          /* "# algorithm = ..." (CmdStan) or from rstan's sampler_t */
    char *engine;             /* "# engine = ..." (CmdStan) or from rstan's sampler_t */
    int max_depth;            /* "# max_depth = ..." or rstan's max_treedepth=, else 10 */
    char *warning;            /* NULL, or a one-line note for the caller to print: a last
                                 row cut short by a stopped run was left out */
} stan_csv;

/* Reads path; on failure returns -1 with a one-line message naming file:line:col. Never
 * prints. Warm-up rows are recognised by the header (num_warmup/warmup, save_warmup, thin)
 * and the "# Adaptation terminated" line that follows them. */
int stan_csv_read(const char *path, stan_csv *c, char *err, size_t errlen);
void stan_csv_free(stan_csv *c);

/* ---- reading a run folder back (rundir.c) ----
 * summary, plot and predict read a run folder only through run_folder_load: a folder with a
 * missing file, truncated or invalid JSON, JSON of the wrong shape, or a truncated or
 * malformed CSV is refused whole, with one line naming the file. A run stopped by Ctrl-C
 * ("partial" in its files) is whole. */

/* A JSON file of a run folder. The accessors take a dotted key path ("model.inputs"); on a
 * missing key or a wrong type they record the first problem in err (one line naming the
 * file and the key) and return a harmless value, so a reader asks for everything it needs
 * and then tests err[0] once. */
enum { RUN_ERR_LEN = 8600 };     /* room for a message naming any path */

typedef struct {
    char path[4200];
    cJSON *root;
    char err[RUN_ERR_LEN];    /* "" while every access succeeded */
} run_json;

/* Reads and parses DIR/NAME, which must hold a JSON object. 0, or -1 with j->err set. */
int run_json_load(run_json *j, const char *dir, const char *name);
void run_json_free(run_json *j);
int run_json_has(const run_json *j, const char *key);
const char *run_json_str(run_json *j, const char *key);              /* "" on a problem */
double run_json_num(run_json *j, const char *key);                   /* NaN on a problem */
/* A number or null (JSON has no NaN: cJSON writes NaN and infinities as null). */
double run_json_metric(run_json *j, const char *key);
long run_json_int(run_json *j, const char *key, long lo, long hi);   /* lo on a problem */
/* Index in names (NULL-terminated) of the string at key; 0 on a problem. */
int run_json_choice(run_json *j, const char *key, const char *const *names);
/* An array of at most max integers in lo..hi into v; its length, 0 on a problem. */
int run_json_ints(run_json *j, const char *key, int *v, int max, long lo, long hi);

/* A CSV with one header line (pred-*.csv, summary.csv); NA reads as NaN. */
typedef struct {
    size_t nrow, ncol;
    char **first;             /* column 1 of each row as text (summary.csv's names) */
    double *v;                /* nrow x ncol; column 1 is NaN where it is text */
} run_table;

/* summary.csv's columns and the last two of a pred CSV (the others depend on the task). */
enum { SUM_MEAN = 1, SUM_ESS_BULK = 7, SUM_RHAT = 9, SUM_NCOL = 11 };
enum { PRED_OBSERVED = 1, PRED_MEAN = 2, PRED_Q025 = 4, PRED_Q975 = 6 };
#define PRED_PROB(k) (2 + (k))          /* classification: p0 ... */
#define PRED_CLASS(K) (2 + (K))         /* classification: predicted */
#define PRED_RHAT(t) ((t)->ncol - 2)
#define PRED_ESS(t) ((t)->ncol - 1)

typedef struct {
    const char *dir;
    run_json config, metrics;
    int partial;              /* stopped early (Ctrl-C): the files say "partial" */
    const char *status;       /* config.json's status: "complete" or "partial: ..." */
    bnn_model_spec spec;      /* the model, from config.json */
    size_t params;            /* its parameters */
    size_t chains, draws;     /* chain files, kept draws in each */
    stan_csv *chain;          /* chain-1.csv ... */
    int has_summary;          /* summary.csv (written when draws >= 4) */
    run_table summary;
    int has_pred[2];          /* pred-train.csv, pred-test.csv */
    run_table pred[2];
} run_folder;

/* Reads every file of the run folder dir and checks each against the others (dir must
 * outlive r). 0, or -1 with a one-line message naming the file in err. */
int run_folder_load(run_folder *r, const char *dir, char *err, size_t errlen);
void run_folder_free(run_folder *r);
/* The draws of r's chains for model m (built from r->spec), constrained -> unconstrained. */
bnn_status run_folder_draws(const run_folder *r, const bnn_model *m, bnn_draws **out, bnn_error *err);

/* ---- summaries (summary.c) ---- */

int cmd_summary(int argc, char **argv);
int cmd_diagnose(int argc, char **argv);
#define SUMMARY_CSV_HEADER "name,mean,sd,q5,q50,q95,mcse_mean,ess_bulk,ess_tail,rhat,rhat_gr"
/* summary.csv: one row per name, the columns of ../shared/GUIDE.md. 0 or -1 (errno). */
int write_summary_csv(const char *path, char **names, const bnn_summary *s, size_t k);

/* ---- figures (plot.c) ---- */

int cmd_plot(int argc, char **argv);
/* Draws the figures of the run in dir (params: comma-separated names or NULL); 0 or an
 * exit status, with the message already printed. */
int plot_run(const char *dir, const char *params);

#endif
