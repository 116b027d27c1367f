/* loo_run.c — PSIS-LOO of a run folder: its model, draws and training data read back, the
 * log-likelihood of every training row under every kept draw, and its PSIS-LOO and WAIC.
 * `bnnmc loo` and `bnnmc compare` share it. The draws come from run_folder_draws, so any
 * run folder that reader takes (MCMC chains, or one "chain" of independent draws) works. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loo_run.h"
#include "rundir.h"
#include "util.h"

/* The run's training table, made again as `bnnmc sample` made it; its identity into
 * out->data_key. Exits 2 when it cannot be had or is not the run's. */
static bnn_table *run_train(const char *cmd, run_folder *r, loo_run *out)
{
    run_json *j = &r->config;
    bnn_table *train = NULL, *test = NULL;
    bnn_error err = {0};
    if (run_json_has(j, "data.dataset")) {
        const char *name = run_json_str(j, "data.dataset");
        if (j->err[0])
            die_usage(cmd, "%s", j->err);
        if (bnn_dataset_make(name, 1, &train, &test, &err) != BNN_OK)
            die_usage(cmd, "%s/config.json: data.dataset: %s", r->dir, err.msg);
        bnn_table_free(test);
        snprintf(out->data_key, sizeof out->data_key, "built-in data set %s", name);
    } else {
        if (!run_json_has(j, "data.train.path"))
            die_usage(cmd, "%s/config.json: the run names no training data file (data.train.path)",
                      r->dir);
        const char *path = run_json_str(j, "data.train.path");
        const char *sha = run_json_str(j, "data.train.sha256");
        long col = run_json_int(j, "data.train.target_col", 0, INT_MAX);
        if (j->err[0])
            die_usage(cmd, "%s", j->err);
        char hex[65];
        file_sha256(path, hex);
        if (!hex[0])
            die_usage(cmd, "%s: cannot read the run's training data: %s", path, strerror(errno));
        if (strcmp(hex, sha) != 0)
            die_usage(cmd, "%s: the training data changed since the run (sha256 %.12s..., "
                      "%s/config.json recorded %.12s...)", path, hex, r->dir, sha);
        if (bnn_table_read(&train, path, (int)col, &err) != BNN_OK)
            die_input(&err);
        snprintf(out->data_key, sizeof out->data_key, "sha256 %s, target column %ld", sha, col);
    }
    snprintf(out->data_name, sizeof out->data_name, "%s", train->source);
    long rows = run_json_int(j, "data.train.rows", 1, LONG_MAX);
    if (j->err[0])
        die_usage(cmd, "%s", j->err);
    if (train->n != (size_t)rows || train->p != (size_t)r->spec.n_inputs)
        die_usage(cmd, "%s: %zu rows of %zu inputs; %s/config.json recorded %ld rows of %d",
                  train->source, train->n, train->p, r->dir, rows, r->spec.n_inputs);
    if (r->spec.task == BNN_TASK_CLASSIFICATION) {
        int K = r->spec.n_classes;
        if (bnn_table_check_classes(train, &K, &err) != BNN_OK)
            die_input(&err);
    }
    return train;
}

/* The log-likelihood matrix's largest block (bytes): rows x draws of doubles. */
#define LL_BLOCK_BYTES ((size_t)64 << 20)

void loo_run_compute(const char *cmd, const char *dir, int threads, int keep_ll, loo_run *out)
{
    memset(out, 0, sizeof *out);
    run_folder r;
    char msg[RUN_ERR_LEN];
    if (run_folder_load(&r, dir, msg, sizeof msg) != 0)
        die_usage(cmd, "%s", msg);
    if (r.draws < 2)
        die_usage(cmd, "%s: %zu kept draws per chain: LOO needs at least 2", dir, r.draws);
    if (r.partial)
        fprintf(stderr, "bnnmc %s: note: the run in %s is %s\n", cmd, dir, r.status);
    run_folder_note(&r, cmd, stderr);
    bnn_table *train = run_train(cmd, &r, out);
    bnn_model *m = NULL;
    bnn_draws *dr = NULL;
    bnn_error err = {0};
    bnn_status st = bnn_model_new(&m, &r.spec, NULL, &err);
    if (!st)
        st = run_folder_draws(&r, m, &dr, &err);
    run_folder_free(&r);
    if (st)
        die_status(st, &err);
    size_t n = train->n, S = (size_t)dr->chains * dr->n_kept;
    out->chains = (size_t)dr->chains;
    out->draws = dr->n_kept;
    /* the matrix a block of rows at a time (of at most LL_BLOCK_BYTES, whatever the rows
     * and draws), unless it is to be kept whole (--log-lik) */
    size_t block = keep_ll ? n : LL_BLOCK_BYTES / (S * sizeof(double));
    block = block < 1 ? 1 : block > n ? n : block;
    size_t n_parts = (n + block - 1) / block;
    bnn_loo **parts = calloc(n_parts, sizeof *parts);
    double *ll = malloc(block * S * sizeof *ll);
    if (!ll || !parts)
        die_runtime("out of memory for %zu rows x %zu draws", block, S);
    for (size_t b = 0; b < n_parts; b++) {
        size_t r0 = b * block, nr = n - r0 < block ? n - r0 : block;
        bnn_table rows = *train;   /* rows r0 .. r0 + nr, not copied */
        rows.n = nr;
        rows.x = train->x + r0 * train->p;
        rows.y = train->y + r0;
        rows.line = train->line + r0;
        if ((st = bnn_model_loglik(m, dr->theta, S, &rows, threads, ll, &err)) != BNN_OK)
            die_status(st, &err);
        /* a draw whose likelihood is not finite (tau2 so small that a residual underflows)
         * is reported by bnn_loo_compute as observation and draw; name the chain too */
        for (size_t i = 0; i < nr * S; i++)
            if (!isfinite(ll[i]))
                die_usage(cmd, "%s: the log-likelihood of training row %zu under chain %zu, "
                          "draw %zu is %g: LOO needs finite values", dir, r0 + i / S + 1,
                          i % S / dr->n_kept + 1, i % S % dr->n_kept + 1, ll[i]);
        if ((st = bnn_loo_compute(ll, nr, out->chains, out->draws, threads, &parts[b], &err)))
            die_status(st, &err);
    }
    if (n_parts == 1) {
        out->loo = parts[0];
    } else {
        if ((st = bnn_loo_merge((const bnn_loo *const *)parts, n_parts, &out->loo, &err)))
            die_status(st, &err);
        for (size_t b = 0; b < n_parts; b++)
            bnn_loo_free(parts[b]);
    }
    free(parts);
    if (keep_ll)
        out->ll = ll;
    else
        free(ll);
    bnn_draws_free(dr);
    bnn_model_free(m);
    bnn_table_free(train);
}

void loo_run_free(loo_run *r)
{
    bnn_loo_free(r->loo);
    free(r->ll);
    r->loo = NULL;
    r->ll = NULL;
}

void loo_run_warn(const char *cmd, const char *dir, const bnn_loo *l)
{
    size_t high = 0, slight = 0;
    for (size_t i = 0; i < l->n; i++) {
        high += l->pareto_k[i] > 0.7;
        slight += l->pareto_k[i] > 0.5 && l->pareto_k[i] <= 0.7;
    }
    if (high)
        fprintf(stderr, "bnnmc %s: warning: %s: %zu of %zu Pareto k values are above 0.7 (too "
                "high): PSIS-LOO is unreliable for those rows\n", cmd, dir, high, l->n);
    else if (slight)
        fprintf(stderr, "bnnmc %s: warning: %s: %zu of %zu Pareto k values are in (0.5, 0.7] "
                "(slightly high)\n", cmd, dir, slight, l->n);
}
