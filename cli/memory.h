/* memory.h — what a run of `bnnmc sample` holds in memory (memory.c): --max-memory's
 * parse, the estimate made before sampling, and the thinning of the stored predictive
 * draws that keeps a run under the limit. The chain CSVs keep every draw; only the float
 * per row and draw that the predictions store (bnn_prediction.draw_pred) is thinned. */
#ifndef BNNMC_CLI_MEMORY_H
#define BNNMC_CLI_MEMORY_H

#include <stddef.h>

#include "bnnmc.h"
#include "sample_opts.h"

/* The default --max-memory: 2 GiB. */
#define MEM_DEFAULT_LIMIT (2.0 * 1024 * 1024 * 1024)

/* Bytes of "512M", "2G", "100000", "1.5G" (K, M, G, T are powers of 1024; a trailing B is
 * allowed): 0, or -1 when s is not such a size. */
int mem_parse_size(const char *s, double *bytes);
/* "512 MB", "1.5 GB": bytes for a message. */
void mem_format(double bytes, char *buf, size_t len);

/*
 * The estimate, in bytes, of what the run allocates (an upper bound on its resident memory:
 * pages allocated but never touched count too). Two phases: while the chains run (the
 * chains' work arrays, the draws growing to their planned count, a checkpoint's copy of a
 * chain's draws) and after (the draws, then the summary's copy of them, then the
 * predictions of the train and test rows, both held). Only the predictions grow with the
 * number of stored predictive draws.
 */
typedef struct {
    double limit;
    int chains;
    size_t dim;
    double base;              /* the program, its libraries, OpenBLAS's buffers */
    double data;              /* the train and test tables */
    double model;             /* the model's own copies of the training rows */
    double chain_work;        /* every chain's (every replica's) work arrays */
    double draw_bytes;        /* one kept draw of one chain: parameters, sampler columns */
    size_t warm_kept;         /* warm-up rows kept per chain (--save-warmup) */
    int draw_copies;          /* copies of the draws while the chains run (checkpoints) */
    double pred_row;          /* the predictions' per-row results, both tables */
    double pred_scratch;      /* the prediction pass's scratch, every thread */
    double pred_draw;         /* one stored predictive draw (of one chain): every row's
                                 float, both tables, and the draws' own per-draw values */
    double summary_draw;      /* the summary's copy and scratch, per draw */
    size_t planned_kept;      /* draws per chain the run plans (its first round) */
    size_t round_kept;        /* --max-time: draws per chain each further round adds */
} mem_plan;

/* The plan of the run o asks (rc built from it) on model m (density d) and the tables. */
void mem_plan_make(mem_plan *mp, const sample_opts *o, const bnn_model *m,
                   const bnn_density *d, const bnn_run_config *rc, const bnn_table *train,
                   const bnn_table *test);
/* The plan of `bnnmc predict`: dr's draws (read back from a run folder) predicting t. */
void mem_plan_predict(mem_plan *mp, double limit, const bnn_model *m, const bnn_draws *dr,
                      const bnn_table *t);
/* The estimated peak with kept draws per chain, predictions on every thin-th of them. */
double mem_estimate(const mem_plan *mp, size_t kept, size_t thin);
/* Whether kept draws per chain fit under the limit with 4 predictive draws per chain (all
 * of them, if fewer): the fewest the predictions' diagnostics take. */
int mem_fits(const mem_plan *mp, size_t kept);
/* The smallest thinning of the predictive draws that keeps kept draws per chain under the
 * limit; when nothing does (!mem_fits), the largest (4 predictive draws per chain). */
size_t mem_pred_thin(const mem_plan *mp, size_t kept);
/* Before sampling: exits 2 with one line saying what does not fit when the run cannot stay
 * under the limit at its planned draws; else, unless quiet, says on stderr how far the
 * stored predictive draws will be thinned (when they will be). */
void mem_check_or_die(const mem_plan *mp, int quiet);
/* dr with every thin-th draw of each chain (draws 0, thin, 2 thin, ...): only chains,
 * dim, n_kept and theta are set, what bnn_predict reads. Free with bnn_draws_free. */
bnn_draws *mem_thin_draws(const bnn_draws *dr, size_t thin);
/* Adds to DIR/metrics.json the block "memory": the limit, the estimate at the draws kept
 * (kept per chain), the thinning of the stored predictive draws and the draws it keeps per
 * chain, and (--max-time) whether the rounds stopped for memory. */
void mem_write_metrics(const char *dir, const mem_plan *mp, size_t kept, size_t thin,
                       int rounds_stopped);

#endif
