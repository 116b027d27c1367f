/* rundir.h — the run folder: every file of it is written (rundir.c) and read back
 * (rundir_read.c) by this module, so its format lives in one place. README.md ("Usage")
 * lists the files. */
#ifndef BNNMC_CLI_RUNDIR_H
#define BNNMC_CLI_RUNDIR_H

#include <stdio.h>

#include <cJSON.h>

#include "bnnmc.h"
#include "sample_opts.h"
#include "stancsv.h"

/* ---- the format's fixed pieces, shared by the writers and the readers */

/* A chain CSV's last bytes: a file without them was cut short. */
#define CHAIN_CSV_END " seconds (Total)\n# \n"
/* config.json's and metrics.json's word on an approximate sampler's draws (sgld, sghmc) */
#define BNNMC_APPROX_NOTE "minibatch sampler without a Metropolis correction: the draws " \
    "follow a distribution near the posterior (nearer at a smaller step), not the posterior"
#define SUMMARY_CSV_HEADER "name,mean,sd,q5,q50,q95,mcse_mean,ess_bulk,ess_tail,rhat,rhat_gr"
/* summary.csv's columns and the last two of a pred CSV (the others depend on the task). */
enum { SUM_MEAN = 1, SUM_ESS_BULK = 7, SUM_RHAT = 9, SUM_NCOL = 11 };
enum { PRED_OBSERVED = 1, PRED_MEAN = 2, PRED_Q025 = 4, PRED_Q975 = 6 };
#define PRED_PROB(k) (2 + (k))          /* classification: p0 ... */
#define PRED_CLASS(K) (2 + (K))         /* classification: predicted */
#define PRED_RHAT(t) ((t)->ncol - 2)
#define PRED_ESS(t) ((t)->ncol - 1)

/* A pred CSV's header line (with its newline) for a model of this task and K classes. */
void put_pred_header(FILE *f, bnn_task task, int K);

/* ---- writing (rundir.c). The rundir_* writers exit 1 with one line naming the file when
 * they cannot write; every file is written atomically (util.h's atomic_file). */

/* Refuses (exit 2) an --out that is a file, or that holds a run when force is 0. */
void rundir_check(const char *dir, int force);
/* rundir_check for `bnnmc cmd` (its name in the message). */
void rundir_check_cmd(const char *cmd, const char *dir, int force);
/* Prepares DIR for a run: refuses an existing run unless force (then removes its files). */
void rundir_prepare(const char *dir, int force);

/* config.json: the data, the model, the sampler's settings, and status ("running",
 * "complete", "partial: ..."). */
void rundir_write_config(const char *dir, const sample_opts *o, const bnn_model *m,
                         const bnn_table *train, const bnn_table *test,
                         const bnn_run_config *rc, const char *status);
/* chain-1.csv ...: each chain's draws in CmdStan's CSV layout, written on up to threads
 * threads, each file whole or not at all (a failure exits 1 naming the file). status is
 * NULL for a complete run. */
void rundir_write_chains(const char *dir, const bnn_model *m, const bnn_draws *dr,
                         const sample_opts *o, const bnn_run_config *rc, const char *status,
                         int threads);
/* dir/name (pred-train.csv, pred-test.csv): per-row predictions. */
void rundir_write_pred(const char *dir, const char *name, const bnn_prediction *p);
/* summary.csv: lp__ and every parameter (constrained: tau2, not eta). */
void rundir_write_summary(const char *dir, const bnn_model *m, const bnn_draws *dr,
                          int threads);
/* metrics.json: the fit of the predictions (either may be NULL) and the run's times;
 * status is NULL for a complete run. */
void rundir_write_metrics(const char *dir, bnn_task task, const bnn_draws *dr,
                          const char *status, const bnn_prediction *train,
                          const bnn_prediction *test, double seconds_sampling,
                          double seconds_total, const sample_opts *o);

/* ---- a variational run (`bnnmc variational`): the same folder, config.json saying
 * "method": "variational" and "approximation": true, chain-1.csv in CmdStan's variational
 * layout (columns lp__,log_p__,log_g__ then the parameters; first row the mean of q, then
 * its draws), metrics.json without acceptance (the fit's ELBO, q's mean and sd instead). */

/* A variational chain CSV's last line: a file without it was cut short. */
#define VI_CSV_END "# COMPLETED.\n"
/* "meanfield" or "fullrank", as CmdStan spells the algorithm. */
const char *rundir_vi_algorithm(bnn_vi_family f);
/* config.json: the data, the model, every setting of vc; with vr (NULL while running) the
 * eta used, the iterations and whether the ELBO converged. */
void rundir_write_vi_config(const char *dir, const sample_opts *o, const bnn_model *m,
                            const bnn_table *train, const bnn_table *test,
                            const bnn_vi_config *vc, const bnn_vi_result *vr, const char *status);
/* chain-1.csv: the mean of q, then vr's draws, in CmdStan's variational CSV layout. */
void rundir_write_vi_chain(const char *dir, const bnn_model *m, const sample_opts *o,
                           const bnn_vi_config *vc, const bnn_vi_result *vr);
/* metrics.json of the predictions from vr's draws, the ELBO and q. */
void rundir_write_vi_metrics(const char *dir, bnn_task task, const bnn_vi_result *vr,
                             const bnn_prediction *train, const bnn_prediction *test,
                             double seconds_fit, double seconds_total);

/* The rows of a pred CSV (also `bnnmc predict`'s output). 0, or -1 on a write error. */
int write_pred_csv(FILE *f, const bnn_prediction *p);
/* A pred CSV at path, atomically (`bnnmc predict --out`); exits 1 when it cannot. */
void write_pred_file(const char *path, const bnn_prediction *p);
/* The rows of summary.csv, one per name (also `bnnmc diagnose --csv`). 0, or -1. */
int put_summary_csv(FILE *f, char **names, const bnn_summary *s, size_t k);

/* ---- reading a run folder back (rundir_read.c)
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
/* Whether the item at key is true (absent or anything else: 0). */
int run_json_true(const run_json *j, const char *key);
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

typedef struct {
    const char *dir;
    run_json config, metrics;
    int partial;              /* stopped early (Ctrl-C): the files say "partial" */
    const char *status;       /* config.json's status: "complete" or "partial: ..." */
    bnn_model_spec spec;      /* the model, from config.json */
    size_t params;            /* its parameters */
    int variational;          /* config.json's method is "variational": one "chain" of
                                 independent draws of an approximation (bnnmc variational) */
    const char *vi_algorithm; /* then "meanfield" or "fullrank" */
    const bnn_kernel *kernel; /* the sampler that made the draws (config.json); NULL for a
                                 variational run */
    size_t sampler_cols;      /* lp__, CmdStan's six, the kernel's own (variational: lp__,
                                 log_p__, log_g__): before the parameters */
    int dense_metric;         /* config.json's sampler.metric is "dense" (absent: diag) */
    int center;               /* config.json's sampler.center: the chains moved in the centred
                                 coordinates (absent: no) */
    int axes;                 /* sampler.axes: the first layer on the inputs' axes (absent: no) */
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
/* metrics.json's "convergence" of a variational run: not, by the mean or the median
 * relative ELBO change (bnn_vi_result.converged's 0, 1, 2). */
extern const char *const vi_convergence[];
/* For a variational run, one line on f saying that r holds an approximation, not posterior
 * draws ("bnnmc CMD: note: DIR holds a variational approximation ..."); nothing otherwise. */
void run_folder_note(const run_folder *r, const char *cmd, FILE *f);
/* The draws of r's chains for model m (built from r->spec), in the sampler's unconstrained
 * scale. A value outside its domain (tau2 <= 0) is BNN_EPARSE naming the file and draw. */
bnn_status run_folder_draws(const run_folder *r, const bnn_model *m, bnn_draws **out,
                            bnn_error *err);

#endif
