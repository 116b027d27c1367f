/* rundir_read.c — reading a run folder back: the one loader (run_folder_load) through which
 * summary, plot and predict see a run. It reads every file, checks each against the others,
 * and refuses a damaged folder whole with one line naming the file. rundir.c writes them. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rundir.h"
#include "util.h"

/* 1-based line and column of text[at]. */
static void text_position(const char *text, size_t at, size_t *line, size_t *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < at && text[i]; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

/* Whether the file at path ends with tail (a cut file does not). */
static int file_ends_with(const char *path, const char *tail)
{
    size_t n = strlen(tail);
    char buf[64];
    FILE *f = n <= sizeof buf ? fopen(path, "rb") : NULL;
    if (!f)
        return 0;
    int ok = fseek(f, -(long)n, SEEK_END) == 0 && fread(buf, 1, n, f) == n && memcmp(buf, tail, n) == 0;
    fclose(f);
    return ok;
}

/* ---- JSON files */

static void json_fail(run_json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records the first problem only: later ones are usually its consequences. */
static void json_fail(run_json *j, const char *fmt, ...)
{
    if (j->err[0])
        return;
    char what[RUN_ERR_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    set_error(j->err, sizeof j->err, "%s: %s", j->path, what);
}

int run_json_load(run_json *j, const char *dir, const char *name)
{
    memset(j, 0, sizeof *j);
    if (snprintf(j->path, sizeof j->path, "%s/%s", dir, name) >= (int)sizeof j->path) {
        set_error(j->err, sizeof j->err, "%.200s...: the folder's name is too long", dir);
        return -1;
    }
    size_t len;
    char *text = slurp_file(j->path, &len, j->err, sizeof j->err);
    if (!text)
        return -1;
    size_t body = len;   /* up to the last character that is not white space */
    while (body > 0 && isspace((unsigned char)text[body - 1]))
        body--;
    const char *end = NULL;
    if (body == 0) {
        json_fail(j, "empty file (truncated?)");
    } else if (strlen(text) != len) {
        json_fail(j, "holds a NUL byte: not a JSON file");
    } else if (!(j->root = cJSON_ParseWithOpts(text, &end, 1))) {
        size_t at = end ? (size_t)(end - text) : 0, line, col;
        text_position(text, at, &line, &col);
        if (at >= body)
            json_fail(j, "the JSON stops in the middle at line %zu (truncated file?)", line);
        else
            set_error(j->err, sizeof j->err, "%s:%zu:%zu: invalid JSON", j->path, line, col);
    } else if (!cJSON_IsObject(j->root)) {
        json_fail(j, "not a JSON object");
    }
    free(text);
    if (j->err[0]) {
        cJSON_Delete(j->root);
        j->root = NULL;
        return -1;
    }
    return 0;
}

void run_json_free(run_json *j)
{
    cJSON_Delete(j->root);
    j->root = NULL;
}

/* The item at a dotted key path, or NULL. */
static const cJSON *json_find(const cJSON *o, const char *key)
{
    while (o && *key) {
        size_t n = strcspn(key, ".");
        char part[128];
        if (n >= sizeof part || !cJSON_IsObject(o))
            return NULL;
        memcpy(part, key, n);
        part[n] = '\0';
        o = cJSON_GetObjectItemCaseSensitive(o, part);
        key += n + (key[n] == '.');
    }
    return o;
}


static const char *json_kind(const cJSON *v)
{
    if (cJSON_IsString(v))
        return "a string";
    if (cJSON_IsNumber(v))
        return "a number";
    if (cJSON_IsBool(v))
        return "true/false";
    if (cJSON_IsNull(v))
        return "null";
    if (cJSON_IsArray(v))
        return "an array";
    return "an object";
}

/* Says which part of key is missing: the key, or an enclosing item that is no object. */
static void json_missing(run_json *j, const char *key)
{
    char prefix[256];
    for (const char *dot = strchr(key, '.'); dot; dot = strchr(dot + 1, '.')) {
        snprintf(prefix, sizeof prefix, "%.*s", (int)(dot - key), key);
        const cJSON *v = json_find(j->root, prefix);
        if (!v)
            break;
        if (!cJSON_IsObject(v)) {
            json_fail(j, "%s is %s, not an object", prefix, json_kind(v));
            return;
        }
    }
    json_fail(j, "%s is missing", key);
}

/* The item at key if is() accepts it; else NULL and a message saying what was wanted. */
static const cJSON *json_want(run_json *j, const char *key, cJSON_bool (*is)(const cJSON *),
                              const char *want)
{
    const cJSON *v = json_find(j->root, key);
    if (!v)
        json_missing(j, key);
    else if (!is(v))
        json_fail(j, "%s is %s, not %s", key, json_kind(v), want);
    return v && is(v) ? v : NULL;
}

int run_json_has(const run_json *j, const char *key)
{
    return json_find(j->root, key) != NULL;
}

int run_json_true(const run_json *j, const char *key)
{
    return cJSON_IsTrue(json_find(j->root, key));
}

const char *run_json_str(run_json *j, const char *key)
{
    const cJSON *v = json_want(j, key, cJSON_IsString, "a string");
    return v ? v->valuestring : "";
}

double run_json_num(run_json *j, const char *key)
{
    const cJSON *v = json_want(j, key, cJSON_IsNumber, "a number");
    return v ? v->valuedouble : NAN;
}

static cJSON_bool is_number_or_null(const cJSON *v)
{
    return cJSON_IsNumber(v) || cJSON_IsNull(v);
}

double run_json_metric(run_json *j, const char *key)
{
    const cJSON *v = json_want(j, key, is_number_or_null, "a number");
    return v && cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* An integer item in lo..hi; else a message naming key (and the index i >= 0 in an array). */
static long json_int_of(run_json *j, const cJSON *v, const char *key, int i, long lo, long hi)
{
    double x = v->valuedouble;
    if (cJSON_IsNumber(v) && x == floor(x) && x >= (double)lo && x <= (double)hi)
        return (long)x;
    char where[160];
    snprintf(where, sizeof where, i >= 0 ? "%s[%d]" : "%s", key, i);
    if (cJSON_IsNumber(v))
        json_fail(j, "%s = %g, not an integer in %ld..%ld", where, x, lo, hi);
    else
        json_fail(j, "%s is %s, not an integer in %ld..%ld", where, json_kind(v), lo, hi);
    return lo;
}

long run_json_int(run_json *j, const char *key, long lo, long hi)
{
    const cJSON *v = json_find(j->root, key);
    if (!v) {
        json_missing(j, key);
        return lo;
    }
    return json_int_of(j, v, key, -1, lo, hi);
}

int run_json_choice(run_json *j, const char *key, const char *const *names)
{
    const char *s = run_json_str(j, key);
    for (int i = 0; names[i]; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    if (!j->err[0]) {
        char list[256] = "";
        for (int i = 0; names[i]; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", names[i]);
        json_fail(j, "%s is '%.40s', not one of %s", key, s, list);
    }
    return 0;
}

int run_json_ints(run_json *j, const char *key, int *v, int max, long lo, long hi)
{
    const cJSON *a = json_want(j, key, cJSON_IsArray, "an array");
    int n = a ? cJSON_GetArraySize(a) : 0;
    if (n > max) {
        json_fail(j, "%s has %d entries, at most %d are allowed", key, n, max);
        return 0;
    }
    for (int i = 0; i < n; i++)
        v[i] = (int)json_int_of(j, cJSON_GetArrayItem(a, i), key, i, lo, hi);
    return j->err[0] ? 0 : n;
}

/* An array of exactly n numbers (or nulls). */
static void json_numbers(run_json *j, const char *key, size_t n)
{
    const cJSON *a = json_want(j, key, cJSON_IsArray, "an array");
    if (!a)
        return;
    if ((size_t)cJSON_GetArraySize(a) != n) {
        json_fail(j, "%s has %d entries, want %zu", key, cJSON_GetArraySize(a), n);
        return;
    }
    const cJSON *e;
    int i = 0;
    cJSON_ArrayForEach(e, a)
    {
        if (!is_number_or_null(e))
            json_fail(j, "%s[%d] is %s, not a number", key, i, json_kind(e));
        i++;
    }
}

/* ---- CSV tables (summary.csv, pred-*.csv) */

static void table_free(run_table *t)
{
    if (t->first)
        for (size_t i = 0; i < t->nrow; i++)
            free(t->first[i]);
    free(t->first);
    free(t->v);
    memset(t, 0, sizeof *t);
}

/* One field: a number or NA. 0, or -1 when it is neither. */
static int table_number(const char *field, double *x)
{
    char *end;
    if (strcmp(field, "NA") == 0) {
        *x = NAN;
        return 0;
    }
    *x = strtod(field, &end);
    return end == field || *end ? -1 : 0;
}

/* One data line into row t->nrow: exactly t->ncol fields, each a number or NA (column 1 is
 * a name when t->first is kept). 0, or -1 with a message naming path:line:column. */
static int table_row(run_table *t, char *line, const char *path, size_t lineno, char *err,
                     size_t errlen)
{
    double *row = t->v + t->nrow * t->ncol;
    char *field = line;
    for (size_t j = 0; j < t->ncol; j++) {
        size_t n = strcspn(field, ",");
        int at_end = field[n] == '\0';
        if (at_end && j + 1 < t->ncol) {
            set_error(err, errlen, "%s:%zu: %zu values, the header has %zu columns", path,
                     lineno, j + 1, t->ncol);
            return -1;
        }
        if (!at_end && j + 1 == t->ncol) {
            set_error(err, errlen, "%s:%zu:%zu: more values than the header's %zu columns", path,
                     lineno, j + 2, t->ncol);
            return -1;
        }
        field[n] = '\0';
        if (j == 0 && t->first) {
            if (n == 0) {
                set_error(err, errlen, "%s:%zu:1: an empty name", path, lineno);
                return -1;
            }
            if (!(t->first[t->nrow] = strdup(field)))
                die_runtime("out of memory");
            row[j] = NAN;
        } else if (table_number(field, &row[j]) != 0) {
            set_error(err, errlen, "%s:%zu:%zu: '%.20s' is not a number", path, lineno, j + 1, field);
            return -1;
        }
        field += n + 1;
    }
    return 0;
}

/* A CSV that bnnmc wrote: the header line must be header; the file ends with a newline
 * (a cut one does not). 0, or -1 with a one-line message naming the file. */
static int table_read(run_table *t, const char *path, const char *header, int text_first,
                      char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    size_t len;
    char *text = slurp_file(path, &len, err, errlen);
    if (!text)
        return -1;
    int rc = -1;
    size_t lineno = 1, cap = 0;
    if (len == 0) {
        set_error(err, errlen, "%s: empty file (truncated?)", path);
        goto done;
    }
    if (strlen(text) != len) {
        set_error(err, errlen, "%s: holds a NUL byte: not a CSV file", path);
        goto done;
    }
    if (text[len - 1] != '\n') {
        size_t line, col;
        text_position(text, len, &line, &col);
        set_error(err, errlen, "%s:%zu: the last line is cut short (truncated file?)", path, line);
        goto done;
    }
    char *line = text, *nl = strchr(line, '\n');
    *nl = '\0';
    if (strcmp(line, header) != 0) {
        set_error(err, errlen, "%s:1: the header is '%.60s', want '%.60s%s'", path, line, header,
                 strlen(header) > 60 ? "..." : "");
        goto done;
    }
    t->ncol = 1;
    for (const char *c = header; *c; c++)
        t->ncol += *c == ',';
    for (line = nl + 1; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        *nl = '\0';
        lineno++;
        if (t->nrow == cap) {
            cap = cap ? 2 * cap : 256;
            double *nv = realloc(t->v, cap * t->ncol * sizeof *nv);
            if (nv)
                t->v = nv;
            char **nf = text_first ? realloc(t->first, cap * sizeof *nf) : NULL;
            if (nf)
                t->first = nf;
            if (!nv || (text_first && !nf))
                die_runtime("%s: out of memory reading it", path);
        }
        if (t->first)
            t->first[t->nrow] = NULL;
        if (table_row(t, line, path, lineno, err, errlen) != 0) {
            if (t->first)   /* the row's name, when read before the problem */
                free(t->first[t->nrow]);
            goto done;
        }
        t->nrow++;
    }
    rc = 0;
done:
    free(text);
    if (rc)
        table_free(t);
    return rc;
}

/* ---- the run folder */

static const char *const task_names[] = {"regression", "classification", NULL};
const char *const vi_convergence[] = {"no", "mean", "median", NULL};

/* An activation named at key; the names are the library's. */
static bnn_activation config_activation(run_json *j, const char *key)
{
    const char *names[BNN_ACT_SOFTMAX + 2];
    for (int a = 0; a <= BNN_ACT_SOFTMAX; a++)
        names[a] = bnn_activation_name((bnn_activation)a);
    names[BNN_ACT_SOFTMAX + 1] = NULL;
    return (bnn_activation)run_json_choice(j, key, names);
}

/* A prior variance: a positive number or "inf" (a flat prior; rundir.c writes it so). */
static double json_variance(run_json *j, const cJSON *v, const char *key, int i)
{
    if (cJSON_IsString(v) && strcmp(v->valuestring, "inf") == 0)
        return INFINITY;
    if (cJSON_IsNumber(v) && v->valuedouble > 0)
        return v->valuedouble;
    char where[160];
    snprintf(where, sizeof where, i >= 0 ? "%s[%d]" : "%s", key, i);
    json_fail(j, "%s is not a positive number or \"inf\"", where);
    return NAN;
}

/* model.prior_var and, when present (runs before per-layer priors lack it), the per-layer
 * variances model.prior_var_layers, one per weight layer. */
static void config_priors(run_json *j, bnn_model_spec *sp)
{
    const cJSON *v = json_find(j->root, "model.prior_var");
    if (!v) {
        json_missing(j, "model.prior_var");
        return;
    }
    sp->prior_var = json_variance(j, v, "model.prior_var", -1);
    if (!run_json_has(j, "model.prior_var_layers"))
        return;
    const cJSON *a = json_want(j, "model.prior_var_layers", cJSON_IsArray, "an array");
    if (!a)
        return;
    if (cJSON_GetArraySize(a) != sp->n_hidden + 1) {
        json_fail(j, "model.prior_var_layers has %d entries, want %d (one per weight layer)",
                  cJSON_GetArraySize(a), sp->n_hidden + 1);
        return;
    }
    for (int l = 0; l <= sp->n_hidden; l++)
        sp->prior_var_layer[l] = json_variance(j, cJSON_GetArrayItem(a, l),
                                               "model.prior_var_layers", l);
}

/* config.json's data rows and status (complete or partial). */
static void check_status(run_folder *r)
{
    run_json *j = &r->config;
    run_json_int(j, "data.train.rows", 1, LONG_MAX);
    if (run_json_has(j, "data.test"))
        run_json_int(j, "data.test.rows", 1, LONG_MAX);
    if (j->err[0])
        return;
    r->partial = strncmp(r->status, "partial", 7) == 0;
    if (!r->partial && strcmp(r->status, "complete") != 0)
        json_fail(j, "status is '%.60s': the run did not finish (it is still running, or was "
                  "killed)", r->status);
}

/* A variational run's config.json: its algorithm; one "chain" of draws after CmdStan's
 * three columns lp__, log_p__, log_g__; no sampler. */
static void config_variational(run_folder *r, size_t *chains)
{
    static const char *const algorithms[] = {"meanfield", "fullrank", NULL};
    run_json *j = &r->config;
    r->vi_algorithm = algorithms[run_json_choice(j, "variational.algorithm", algorithms)];
    *chains = 1;
    r->kernel = NULL;
    r->sampler_cols = 3;
    r->dense_metric = 0;
    check_status(r);
}

/* config.json: the status, the model, the chain count. */
static void check_config(run_folder *r, size_t *chains)
{
    run_json *j = &r->config;
    bnn_model_spec *sp = &r->spec;
    memset(sp, 0, sizeof *sp);
    r->status = run_json_str(j, "status");
    sp->task = run_json_choice(j, "model.task", task_names) ? BNN_TASK_CLASSIFICATION
                                                             : BNN_TASK_REGRESSION;
    sp->n_inputs = (int)run_json_int(j, "model.inputs", 1, 1000000);
    sp->n_classes = (int)run_json_int(j, "model.classes", 0, 1000000);
    sp->n_hidden = run_json_ints(j, "model.hidden", sp->hidden, BNN_MAX_HIDDEN, 1, 1000000);
    sp->hidden_act = config_activation(j, "model.activation");
    sp->output_act = config_activation(j, "model.output");
    config_priors(j, sp);
    sp->nu1 = run_json_num(j, "model.nu1");
    sp->nu2 = run_json_num(j, "model.nu2");
    r->params = (size_t)run_json_int(j, "model.parameters", 1, LONG_MAX);
    static const char *const methods[] = {"sample", "variational", NULL};
    /* runs before variational have no method: they sampled */
    r->variational = run_json_has(j, "method") && run_json_choice(j, "method", methods) == 1;
    if (r->variational) {
        config_variational(r, chains);
        return;
    }
    *chains = (size_t)run_json_int(j, "sampler.chains", 1, 1024);
    const char *sampler = run_json_str(j, "sampler.sampler");
    r->kernel = bnn_kernel_find(sampler);
    r->sampler_cols = 7;
    if (!r->kernel && !j->err[0])
        json_fail(j, "sampler.sampler '%.40s' is no sampler of this bnnmc", sampler);
    while (r->kernel && r->kernel->columns && r->kernel->columns[r->sampler_cols - 7])
        r->sampler_cols++;
    static const char *const metric_names[] = {"diag", "dense", NULL};
    r->dense_metric = run_json_has(j, "sampler.metric") &&
                      run_json_choice(j, "sampler.metric", metric_names) == 1;
    r->center = run_json_true(j, "sampler.center");
    r->axes = run_json_true(j, "sampler.axes");
    check_status(r);
}

/* The model config.json describes: its parameter count must be the file's. NULL with
 * r->config.err set. */
static bnn_model *config_model(run_folder *r)
{
    bnn_model *m = NULL;
    bnn_error e = {0};
    if (bnn_model_new(&m, &r->spec, NULL, &e) != BNN_OK) {
        json_fail(&r->config, "%s", e.msg[0] ? e.msg : "not a model bnnmc can build");
        return NULL;
    }
    if (bnn_model_dim(m) != r->params) {
        json_fail(&r->config, "model.parameters is %zu, but the model it describes has %zu",
                  r->params, bnn_model_dim(m));
        bnn_model_free(m);
        return NULL;
    }
    return m;
}

/* metrics.json: the task, chains and draws, and a block of metrics per predicted data set,
 * whose pred CSV must then exist. */
static void check_metrics(run_folder *r, size_t chains)
{
    run_json *j = &r->metrics;
    int cls = run_json_choice(j, "task", task_names);
    r->chains = (size_t)run_json_int(j, "chains", 1, 1024);
    r->draws = (size_t)run_json_int(j, "draws_per_chain", 0, LONG_MAX);
    if (j->err[0])
        return;
    if (cls != (r->spec.task == BNN_TASK_CLASSIFICATION))
        json_fail(j, "task is '%s', but %s's model.task is '%s'", task_names[cls],
                  r->config.path, task_names[!cls]);
    if (r->chains != chains)
        json_fail(j, "chains is %zu, but %s's sampler.chains is %zu", r->chains,
                  r->config.path, chains);
    if (r->variational) {   /* no acceptance: the draws are independent draws of q */
        static const char *const methods[] = {"sample", "variational", NULL};
        if (run_json_choice(j, "method", methods) != 1 && !j->err[0])
            json_fail(j, "method is not 'variational', but %s's is", r->config.path);
        run_json_metric(j, "elbo");
        run_json_int(j, "iterations", 0, LONG_MAX);
        run_json_choice(j, "convergence", vi_convergence);
    } else {
        json_numbers(j, "acceptance", r->chains);
    }
    static const char *const blocks[2] = {"train", "test"};
    static const char *const keys[2][5] = {
        {"rmse_mean", "rmse_std", "rmse_of_mean", "coverage95", "lpd"},
        {"accuracy_mean", "accuracy_std", "accuracy_of_mean", "lpd", NULL}};
    static const char *const diag[] = {"pred_rhat_max", "pred_rhat_median",
                                       "pred_rhat_share_above_1_01", "pred_ess_bulk_min", NULL};
    for (int b = 0; b < 2; b++) {
        char key[64], data_key[64];
        snprintf(data_key, sizeof data_key, "data.%s", blocks[b]);
        /* a run predicts its data sets once it has kept a draw */
        r->has_pred[b] = r->draws > 0 && run_json_has(&r->config, data_key);
        if (r->draws > 0 && !r->has_pred[b] && run_json_has(j, blocks[b]))
            json_fail(j, "has a block '%s', but %s has no %s", blocks[b], r->config.path, data_key);
        if (!r->has_pred[b])
            continue;
        snprintf(key, sizeof key, "%s.rows", blocks[b]);
        snprintf(data_key, sizeof data_key, "data.%s.rows", blocks[b]);
        long rows = run_json_int(j, key, 1, LONG_MAX);
        long data_rows = run_json_int(&r->config, data_key, 1, LONG_MAX);
        if (!j->err[0] && rows != data_rows)
            json_fail(j, "%s is %ld, but %s's %s is %ld", key, rows, r->config.path, data_key,
                      data_rows);
        for (int k = 0; k < 5 && keys[cls][k]; k++) {
            snprintf(key, sizeof key, "%s.%s", blocks[b], keys[cls][k]);
            run_json_metric(j, key);
        }
        for (int k = 0; diag[k]; k++) {
            snprintf(key, sizeof key, "%s.%s", blocks[b], diag[k]);
            run_json_metric(j, key);
        }
    }
}

/* chain-C.csv: the model's columns, metrics.json's number of draws, the whole file. */
static int check_chain(const run_folder *r, const stan_csv *c, const char *path,
                       const bnn_model *m, char *err, size_t errlen)
{
    static const char *const sampler_cols[7] = {"lp__", "accept_stat__", "stepsize__",
                                                "treedepth__", "n_leapfrog__", "divergent__",
                                                "energy__"};
    static const char *const vi_cols[3] = {"lp__", "log_p__", "log_g__"};
    size_t S = r->sampler_cols;
    if (c->ncol != S + r->params) {
        set_error(err, errlen, "%s: %zu columns, but the model of %s needs %zu: %zu sampler "
                 "columns and %zu parameters", path, c->ncol, r->config.path, S + r->params, S,
                 r->params);
        return -1;
    }
    for (size_t j = 0; j < c->ncol; j++) {
        char name[64];
        if (r->variational && j < S)
            snprintf(name, sizeof name, "%s", vi_cols[j]);
        else if (j >= S)
            bnn_model_param_name(m, j - S, name, sizeof name);
        else if (j < 7)
            snprintf(name, sizeof name, "%s", sampler_cols[j]);
        else
            snprintf(name, sizeof name, "%s", r->kernel->columns[j - 7]);
        if (strcmp(c->names[j], name) != 0) {
            set_error(err, errlen, "%s: column %zu is '%.40s', but the model of %s names it '%s'",
                     path, j + 1, c->names[j], r->config.path, name);
            return -1;
        }
    }
    if (stan_csv_metric_check(c, err, errlen) != 0)
        return -1;
    size_t metric_rows = r->dense_metric ? r->params : 1;
    if (c->inv_metric_rows && (c->inv_metric_rows != metric_rows || c->inv_metric_cols != r->params)) {
        set_error(err, errlen, "%s: the inverse mass matrix is %zu x %zu, but the %s metric of %s's "
                  "%zu parameters is %zu x %zu", path, c->inv_metric_rows, c->inv_metric_cols,
                  r->dense_metric ? "dense" : "diagonal", r->config.path, r->params, metric_rows,
                  r->params);
        return -1;
    }
    int vi_file = c->method && strcmp(c->method, "variational") == 0;
    if (vi_file != r->variational) {
        set_error(err, errlen, "%s: method = %s, but %s %s", path, c->method ? c->method : "(none)",
                  r->config.path, r->variational ? "says method variational" : "is a sampler's run");
        return -1;
    }
    if (c->nrow != r->draws) {
        set_error(err, errlen, "%s: %zu draws, but %s says %zu per chain (truncated file?)",
                 path, c->nrow, r->metrics.path, r->draws);
        return -1;
    }
    if (r->variational && !file_ends_with(path, VI_CSV_END)) {
        set_error(err, errlen, "%s: no '%.*s' line at its end (truncated file?)", path,
                  (int)strlen(VI_CSV_END) - 1, VI_CSV_END);
        return -1;
    }
    if (!r->variational && !file_ends_with(path, CHAIN_CSV_END)) {
        set_error(err, errlen, "%s: no 'Elapsed Time' lines at its end (truncated file?)", path);
        return -1;
    }
    if ((c->status != NULL) != r->partial) {
        set_error(err, errlen, "%s: %s, but %s's status is '%.60s'", path,
                 c->status ? "marked partial" : "not marked partial", r->config.path, r->status);
        return -1;
    }
    return 0;
}

/* The kernel's own columns the run wrote: those of its table that follow CmdStan's seven in
 * chain 1, in the table's order (pt writes one per replica pair, not its table's 31). */
static void own_columns(run_folder *r, const stan_csv *c)
{
    if (!r->kernel || !r->kernel->columns)
        return;
    size_t S = 7;
    while (S < c->ncol && r->kernel->columns[S - 7] &&
           strcmp(c->names[S], r->kernel->columns[S - 7]) == 0)
        S++;
    r->sampler_cols = S;
}

static int load_chains(run_folder *r, const bnn_model *m, char *err, size_t errlen)
{
    r->chain = calloc(r->chains, sizeof *r->chain);
    if (!r->chain)
        die_runtime("out of memory");
    for (size_t c = 0; c < r->chains; c++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/chain-%zu.csv", r->dir, c + 1);
        if (stan_csv_read(path, &r->chain[c], err, errlen) != 0)
            return -1;
        if (c == 0)
            own_columns(r, &r->chain[0]);
        if (check_chain(r, &r->chain[c], path, m, err, errlen) != 0)
            return -1;
    }
    return 0;
}

/* summary.csv: a row for lp__ and each parameter, named as the chains' columns. */
static int load_summary(run_folder *r, char *err, size_t errlen)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/summary.csv", r->dir);
    if (table_read(&r->summary, path, SUMMARY_CSV_HEADER, 1, err, errlen) != 0)
        return -1;
    const run_table *t = &r->summary;
    if (t->nrow != 1 + r->params) {
        set_error(err, errlen, "%s: %zu rows, want %zu: lp__ and the model's %zu parameters "
                 "(truncated file?)", path, t->nrow, 1 + r->params, r->params);
        return -1;
    }
    const stan_csv *c = &r->chain[0];
    for (size_t i = 0; i < t->nrow; i++) {
        const char *want = c->names[i ? r->sampler_cols - 1 + i : 0];
        if (strcmp(t->first[i], want) != 0) {
            set_error(err, errlen, "%s:%zu:1: '%.40s', want '%s'", path, i + 2, t->first[i], want);
            return -1;
        }
    }
    return 0;
}

/* Whether x is a class of a K-class model. */
static int is_class(double x, int K)
{
    return x == floor(x) && x >= 0 && x < K;
}

/* A classification pred CSV's rows: observed and predicted classes of the model,
 * probabilities in [0, 1] (plot indexes columns by these classes). */
static int check_pred_classes(const run_folder *r, const run_table *t, const char *path,
                              char *err, size_t errlen)
{
    int K = r->spec.n_classes;
    for (size_t i = 0; i < t->nrow; i++) {
        const double *v = t->v + i * t->ncol;
        size_t line = i + 2, col = 0;
        const char *what = NULL;
        if (!isnan(v[PRED_OBSERVED]) && !is_class(v[PRED_OBSERVED], K)) {
            col = PRED_OBSERVED + 1, what = "the observed value is not a class of the model";
        } else if (!is_class(v[PRED_CLASS(K)], K)) {
            col = (size_t)PRED_CLASS(K) + 1, what = "the predicted value is not a class of the model";
        } else {
            for (int k = 0; k < K && !what; k++)
                if (!(v[PRED_PROB(k)] >= 0 && v[PRED_PROB(k)] <= 1))
                    col = (size_t)PRED_PROB(k) + 1, what = "not a probability";
        }
        if (what) {
            set_error(err, errlen, "%s:%zu:%zu: %s", path, line, col, what);
            return -1;
        }
    }
    return 0;
}

/* pred-NAME.csv: metrics.json's rows; classes and probabilities in range. */
static int load_pred(run_folder *r, int b, char *err, size_t errlen)
{
    static const char *const names[2] = {"train", "test"};
    char path[4200], *header = NULL, key[32];
    size_t hlen = 0;
    snprintf(path, sizeof path, "%s/pred-%s.csv", r->dir, names[b]);
    FILE *h = open_memstream(&header, &hlen);
    if (!h)
        die_runtime("out of memory");
    put_pred_header(h, r->spec.task, r->spec.n_classes);
    if (ferror(h) | fclose(h))
        die_runtime("out of memory");
    header[strcspn(header, "\n")] = '\0';
    int rc = table_read(&r->pred[b], path, header, 0, err, errlen);
    free(header);
    if (rc)
        return -1;
    const run_table *t = &r->pred[b];
    snprintf(key, sizeof key, "%s.rows", names[b]);
    size_t rows = (size_t)run_json_int(&r->metrics, key, 1, LONG_MAX);
    if (t->nrow != rows) {
        set_error(err, errlen, "%s: %zu rows, but %s says %zu (truncated file?)", path,
                 t->nrow, r->metrics.path, rows);
        return -1;
    }
    for (size_t i = 0; i < t->nrow; i++)
        if (t->v[i * t->ncol] != (double)(i + 1)) {
            set_error(err, errlen, "%s:%zu:1: row number %g, want %zu", path, i + 2,
                     t->v[i * t->ncol], i + 1);
            return -1;
        }
    if (r->spec.task == BNN_TASK_CLASSIFICATION)
        return check_pred_classes(r, t, path, err, errlen);
    return 0;
}

int run_folder_load(run_folder *r, const char *dir, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->dir = dir;
    size_t chains = 0;
    bnn_model *m = NULL;
    int rc = -1;
    if (run_json_load(&r->config, dir, "config.json") == 0)
        check_config(r, &chains);
    if (!r->config.err[0])
        m = config_model(r);
    if (r->config.err[0]) {
        struct stat st;
        /* a folder without config.json is likely no run folder at all: say so */
        int none = stat(r->config.path, &st) != 0 && errno == ENOENT;
        set_error(err, errlen, "%s%s%.400s%s", r->config.err, none ? " (is " : "", none ? dir : "",
                  none ? " a run folder?)" : "");
        goto done;
    }
    if (run_json_load(&r->metrics, dir, "metrics.json") == 0)
        check_metrics(r, chains);
    if (r->metrics.err[0]) {
        set_error(err, errlen, "%s", r->metrics.err);
        goto done;
    }
    if (load_chains(r, m, err, errlen) != 0)
        goto done;
    r->has_summary = r->draws >= 4;   /* sample summarises 4 draws or more */
    if (r->has_summary && load_summary(r, err, errlen) != 0)
        goto done;
    for (int b = 0; b < 2; b++)
        if (r->has_pred[b] && load_pred(r, b, err, errlen) != 0)
            goto done;
    rc = 0;
done:
    bnn_model_free(m);
    if (rc)
        run_folder_free(r);
    return rc;
}

void run_folder_free(run_folder *r)
{
    run_json_free(&r->config);
    run_json_free(&r->metrics);
    for (size_t c = 0; r->chain && c < r->chains; c++)
        stan_csv_free(&r->chain[c]);
    free(r->chain);
    r->chain = NULL;
    table_free(&r->summary);
    for (int b = 0; b < 2; b++)
        table_free(&r->pred[b]);
}

void run_folder_note(const run_folder *r, const char *cmd, FILE *f)
{
    if (r->kernel && r->kernel->approximate)
        fprintf(f, "bnnmc %s: note: %s holds the draws of %s, an APPROXIMATE minibatch sampler "
                "(no Metropolis correction): near the posterior, not of it\n", cmd, r->dir,
                r->kernel->name);
    if (r->variational)
        fprintf(f, "bnnmc %s: note: %s holds a variational approximation (ADVI %s), not "
                "posterior draws: its draws are independent draws of q\n", cmd, r->dir,
                r->vi_algorithm);
}

bnn_status run_folder_draws(const run_folder *r, const bnn_model *m, bnn_draws **out,
                            bnn_error *err)
{
    size_t dim = bnn_model_dim(m), M = r->chains, n = r->draws;
    bnn_draws *dr = calloc(1, sizeof *dr);
    if (!dr || !(dr->theta = malloc(M * n * dim * sizeof(double) + 1))) {
        bnn_draws_free(dr);
        snprintf(err->msg, sizeof err->msg, "out of memory for %zu x %zu draws", M, n);
        return err->code = BNN_ENOMEM;
    }
    dr->chains = (int)M;
    dr->dim = dim;
    dr->n_kept = n;
    for (size_t c = 0; c < M; c++)
        for (size_t i = 0; i < n; i++) {
            const stan_csv *ch = &r->chain[c];
            double *dst = dr->theta + (c * n + i) * dim;
            bnn_error uerr = {0};
            /* the files hold the reported values (tau2); the sampler's scale is the model's */
            if (bnn_model_unconstrain(m, ch->v + i * ch->ncol + r->sampler_cols, dst, &uerr) != BNN_OK) {
                size_t j = 0;   /* the value the model refused: dst's one NaN */
                while (j + 1 < dim && !isnan(dst[j]))
                    j++;
                set_error(err->msg, sizeof err->msg, "%s: draw %zu, column %zu (%s): %s", ch->path,
                          i + 1, r->sampler_cols + 1 + j, ch->names[r->sampler_cols + j], uerr.msg);
                bnn_draws_free(dr);
                return err->code = BNN_EPARSE;
            }
        }
    *out = dr;
    return BNN_OK;
}
