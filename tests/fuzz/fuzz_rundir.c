/* fuzz_rundir.c — libFuzzer harness for the readers of a run folder: its chain CSVs and
 * metrics.json (`bnnmc summary DIR`), and the draws `bnnmc predict` reads back
 * (run_folder_load and run_folder_draws, cli/rundir.c) and predicts from.
 *
 * Input: the folder's files, each introduced by a line "%%%% NAME" with NAME one of
 * run_files[] below; bytes before the first such line are ignored. Example:
 *     %%%% config.json
 *     {"model": {...}}
 *     %%%% chain-1.csv
 *     lp__,...
 * To fuzz a new run-folder loader, change load_run() only. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../cli/commands.h"
#include "../../cli/rundir.h"
#include "fuzz_common.h"

static const char *const run_files[] = {"config.json", "metrics.json", "chain-1.csv",
                                        "chain-2.csv", "chain-3.csv", "chain-4.csv",
                                        "summary.csv", "pred-train.csv", "pred-test.csv", NULL};

static const char marker[] = "%%%% ";

/* Writes [body, end) as the run file called name (namelen bytes), if it is one. */
static void put_file(const char *name, size_t namelen, const char *body, const char *end)
{
    for (int i = 0; name && run_files[i]; i++)
        if (namelen == strlen(run_files[i]) && memcmp(name, run_files[i], namelen) == 0) {
            char path[512];
            fuzz_write(run_files[i], (const uint8_t *)body, (size_t)(end - body), path,
                       sizeof path);
        }
}

/* Writes the files the input holds into fuzz_dir(), after removing the last input's. */
static void unpack(const uint8_t *data, size_t size)
{
    for (int i = 0; run_files[i]; i++)
        fuzz_remove(run_files[i]);
    const size_t ml = sizeof marker - 1;
    const char *p = (const char *)data, *end = p + size;
    const char *name = NULL, *body = NULL;
    size_t namelen = 0;
    for (;;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        if ((size_t)(eol - p) >= ml && memcmp(p, marker, ml) == 0) {
            put_file(name, namelen, body, p);
            name = p + ml;
            namelen = (size_t)(eol - name);
            body = nl ? nl + 1 : end;
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    put_file(name, namelen, body, end);
}

/* `bnnmc predict`'s path: the folder through run_folder_load, the model from its config,
 * the draws read back, then predictions for three rows. */
static void predict_from(const char *dir)
{
    run_folder r;
    char msg[RUN_ERR_LEN];
    if (run_folder_load(&r, dir, msg, sizeof msg) != 0) {
        fuzz_check_error(msg, dir);
        return;
    }
    bnn_model *m = NULL;
    bnn_draws *dr = NULL;
    bnn_error err = {0};
    if (bnn_model_new(&m, &r.spec, NULL, &err) != BNN_OK ||
        run_folder_draws(&r, m, &dr, &err) != BNN_OK) {
        fuzz_check_error(err.msg, dir);
        bnn_model_free(m);
        run_folder_free(&r);
        return;
    }
    size_t p = (size_t)r.spec.n_inputs;
    bnn_table *t = bnn_table_new(3, p, "rows.txt");
    if (!t)
        abort();
    for (size_t i = 0; i < 3; i++) {
        for (size_t j = 0; j < p; j++)
            t->x[i * p + j] = (double)i - (double)j / 2;
        t->y[i] = (double)(i % 2);
    }
    bnn_prediction *pr = NULL;
    if (bnn_predict(m, dr, t, 1, 1, 1, &pr, &err) == BNN_OK) {
        FILE *f = fopen("/dev/null", "w");
        if (!f || write_pred_csv(f, pr) != 0)
            abort();
        fclose(f);
        bnn_prediction_free(pr);
    }
    bnn_table_free(t);
    bnn_draws_free(dr);
    bnn_model_free(m);
    run_folder_free(&r);
}

/* The run-folder loaders under test. */
static void load_run(const char *dir)
{
    char *text[] = {"summary", (char *)dir, NULL};
    char *json[] = {"summary", "--json", (char *)dir, NULL};
    cmd_summary(2, text);
    cmd_summary(3, json);
    predict_from(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unpack(data, size);
    load_run(fuzz_dir());
    return 0;
}
