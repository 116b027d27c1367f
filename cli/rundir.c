/* rundir.c — writing the run folder: its preparation, config.json, the chain CSVs in
 * CmdStan's layout, the per-row prediction CSVs, summary.csv and metrics.json. Every file
 * is written atomically; rundir_read.c reads them back. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "numfmt.h"
#include "ranks.h"
#include "rundir.h"
#include "util.h"

/* Files a run writes; --force removes exactly these, never anything else in DIR. */
static int is_run_file(const char *name)
{
    static const char *fixed[] = {"config.json", "metrics.json", "summary.csv",
                                  "pred-train.csv", "pred-test.csv", NULL};
    for (int i = 0; fixed[i]; i++)
        if (strcmp(name, fixed[i]) == 0)
            return 1;
    int k;
    char tail[8];
    return sscanf(name, "chain-%d.cs%1s", &k, tail) == 2 && strcmp(tail, "v") == 0 &&
           strlen(name) < 24;
}

/* ------------------------------------------------------------ the folder */

void rundir_check_cmd(const char *cmd, const char *dir, int force)
{
    struct stat st;
    if (stat(dir, &st) != 0)
        return;
    if (!S_ISDIR(st.st_mode))
        die_usage(cmd, "--out: %s exists and is not a folder", dir);
    char cfg[4096];
    snprintf(cfg, sizeof cfg, "%s/config.json", dir);
    if (access(cfg, F_OK) == 0 && !force)
        die_usage(cmd, "--out: %s already holds a run; use --force to overwrite it", dir);
}

void rundir_check(const char *dir, int force)
{
    rundir_check_cmd("sample", dir, force);
}

void rundir_prepare(const char *dir, int force)
{
    struct stat st;
    rundir_check(dir, force);
    if (stat(dir, &st) == 0) {
        DIR *d = opendir(dir);
        if (!d)
            die_runtime("%s: cannot open: %s", dir, strerror(errno));
        struct dirent *e;
        while ((e = readdir(d)) != NULL)
            if (is_run_file(e->d_name)) {
                char p[4096];
                snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
                unlink(p);
            }
        closedir(d);
        return;
    }
    /* mkdir -p */
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                die_runtime("%s: cannot create: %s", buf, strerror(errno));
            *p = '/';
        }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        die_runtime("%s: cannot create: %s", buf, strerror(errno));
}

/* The name CmdStan's header gives the model. */
static const char *model_name(const sample_opts *o)
{
    if (o->task == BNN_TASK_REGRESSION)
        return o->nn ? "bnnmc_nn_regression" : "bnnmc_linear_regression";
    return o->nn ? "bnnmc_nn_classification" : "bnnmc_softmax_regression";
}

/* A kernel's settings as comment lines; a kernel setting (pt's base) by name. */
static void put_kernel_settings(FILE *f, const bnn_run_config *rc, const bnn_kernel *k)
{
    for (size_t i = 0; k->options && k->options[i].name; i++) {
        double v = bnn_run_config_get(rc, k, k->options[i].name);
        if (k->options[i].type == BNN_OPT_KERNEL)
            fprintf(f, "#         %s = %s\n", k->options[i].name, bnn_kernel_at((size_t)v)->name);
        else
            fprintf(f, "#         %s = %g\n", k->options[i].name, v);
    }
}

/* The settings of k under rc into the JSON object o; a kernel setting by name. */
static void json_kernel_settings(cJSON *o, const bnn_run_config *rc, const bnn_kernel *k)
{
    for (size_t i = 0; k->options && k->options[i].name; i++) {
        double v = bnn_run_config_get(rc, k, k->options[i].name);
        if (k->options[i].type == BNN_OPT_KERNEL)
            cJSON_AddStringToObject(o, k->options[i].name, bnn_kernel_at((size_t)v)->name);
        else
            cJSON_AddNumberToObject(o, k->options[i].name, v);
    }
}

/* CmdStan's comment lines before the column names: the settings of the run. */
static void put_chain_settings(FILE *f, const bnn_draws *dr, int c, const sample_opts *o,
                               const bnn_run_config *rc, const char *status)
{
    if (status)
        fprintf(f, "# bnnmc_status = %s\n", status);
    fprintf(f, "# stan_version_major = 2\n# stan_version_minor = 21\n# stan_version_patch = 0\n");
    fprintf(f, "# model = %s\n", model_name(o));
    fprintf(f, "# method = sample (Default)\n");
    fprintf(f, "#   sample\n");
    /* CmdStan's num_samples is the sampling iterations asked for, before thinning (run
     * until converged: those made) */
    size_t n_sampling = status || o->max_time > 0 ? dr->n_kept * dr->thin
                                                  : (size_t)o->samples - dr->n_burn;
    fprintf(f, "#     num_samples = %zu\n", n_sampling);
    /* with warm-up rows, a run stopped in its warm-up has only ceil(done / thin) of them:
     * the count that readers derive the rows from says so */
    size_t n_warm = dr->warmup && dr->n_iter_done < dr->n_burn ? dr->n_iter_done : dr->n_burn;
    fprintf(f, "#     num_warmup = %zu\n", n_warm);
    fprintf(f, dr->warmup ? "#     save_warmup = 1\n" : "#     save_warmup = 0 (Default)\n");
    fprintf(f, "#     thin = %zu\n", dr->thin);
    const bnn_kernel *k = dr->kernel;
    /* --adapt-from: the tuning was taken, not made (CmdStan: engaged = 0 with a metric file) */
    fprintf(f, "#     adapt\n#       engaged = %d\n", dr->adapted && rc->adapt);
    if (dr->adapted)
        fprintf(f, "#       delta = %g\n", rc->target_accept > 0 ? rc->target_accept : k->target_accept);
    /* CmdStan names its NUTS "algorithm = hmc, engine = nuts"; the kernel keeps that */
    fprintf(f, "#     algorithm = %s\n", k->algorithm);
    fprintf(f, "#       engine = %s\n", k->engine);
    put_kernel_settings(f, rc, k);
    const bnn_kernel *sub = bnn_run_config_subkernel(rc, k);
    if (sub)   /* pt: its base's settings, which every replica takes */
        put_kernel_settings(f, rc, sub);
    if (dr->adapted)
        fprintf(f, "#       metric = %s\n", !rc->adapt_metric ? "unit_e"
                                              : dr->metric == BNN_METRIC_DENSE ? "dense_e" : "diag_e");
    fprintf(f, "# id = %d\n", c + 1);
    fprintf(f, "# data\n#   file = %s\n", o->dataset ? o->dataset : o->train);
    fprintf(f, "# random\n#   seed = %lu\n", o->seed);
    fprintf(f, "# output\n#   file = chain-%d.csv\n", c + 1);
    fprintf(f, "# bnnmc_version = %s\n", BNNMC_VERSION);
}

/* Chain c's rows of dr (draws, or warm-up rows) in CmdStan's columns; v: dim of scratch,
 * line: room for a row (ROW_MAX(dim, n_extra) bytes). */
#define ROW_MAX(dim, extra) (((dim) + (extra) + 7) * (size_t)FMT_G_MAX + 1)
static void put_rows(FILE *f, const bnn_model *m, const bnn_draws *dr, int c, double *v,
                     char *line)
{
    for (size_t i = 0; i < dr->n_kept; i++) {
        size_t k = (size_t)c * dr->n_kept + i;
        bnn_model_constrain(m, bnn_draw(dr, c, i), v);
        /* full precision: summary and predict recompute from these files exactly. The
         * row is "%.17g,%.6g,%.9g,%d,%d,%d,%.17g", ",%.9g" per extra, ",%.17g" per
         * parameter, formatted by fmt_g (printf's bytes, faster) and written at once. */
        char *o = line;
        o += fmt_g(o, dr->lp[k], 17);
        *o++ = ',';
        o += fmt_g(o, dr->accept_stat[k], 6);
        *o++ = ',';
        o += fmt_g(o, dr->stepsize[k], 9);
        o += sprintf(o, ",%d,%d,%d,", dr->treedepth[k], dr->n_leapfrog[k], dr->divergent[k]);
        o += fmt_g(o, dr->energy[k], 17);
        for (size_t e = 0; e < dr->n_extra; e++) {
            *o++ = ',';
            o += fmt_g(o, dr->extra[k * dr->n_extra + e], 9);
        }
        for (size_t j = 0; j < dr->dim; j++) {
            *o++ = ',';
            o += fmt_g(o, v[j], 17);
        }
        *o++ = '\n';
        fwrite(line, 1, (size_t)(o - line), f);
    }
}

/* The column names, the warm-up rows (--save-warmup), the adaptation block, the draws
 * (constrained), the times. -1 when out of memory (errno ENOMEM). */
static int put_chain_draws(FILE *f, const bnn_model *m, const bnn_draws *dr, int c)
{
    fprintf(f, "lp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__");
    for (size_t e = 0; e < dr->n_extra; e++)
        fprintf(f, ",%s", dr->kernel->columns[e]);
    size_t dim = dr->dim;
    char name[64];
    for (size_t j = 0; j < dim; j++) {
        bnn_model_param_name(m, j, name, sizeof name);
        fprintf(f, ",%s", name);
    }
    fputc('\n', f);
    double *v = malloc(dim * sizeof *v);
    char *line = malloc(ROW_MAX(dim, dr->n_extra));
    if (!v || !line) {
        free(v);
        free(line);
        errno = ENOMEM;
        return -1;
    }
    if (dr->warmup)   /* CmdStan's layout: warm-up rows before the adaptation block */
        put_rows(f, m, dr->warmup, c, v, line);
    if (dr->adapted) {
        fprintf(f, "# Adaptation terminated\n# Step size = %.17g\n", dr->step_final[c]);
        if (dr->inv_metric_dense) {
            /* CmdStan's dense_e block: one comment line per row */
            fprintf(f, "# Elements of inverse mass matrix:\n");
            const double *A = dr->inv_metric_dense + (size_t)c * dim * dim;
            for (size_t i = 0; i < dim; i++) {
                fputc('#', f);
                for (size_t j = 0; j < dim; j++)
                    fprintf(f, "%s%.17g", j ? ", " : " ", A[i * dim + j]);
                fputc('\n', f);
            }
        } else {
            fprintf(f, "# Diagonal elements of inverse mass matrix:\n# ");
            for (size_t j = 0; j < dim; j++)
                fprintf(f, "%s%.17g", j ? ", " : "", dr->inv_metric[(size_t)c * dim + j]);
            fputc('\n', f);
        }
    }
    put_rows(f, m, dr, c, v, line);
    free(v);
    free(line);
    fprintf(f, "# \n#  Elapsed Time: %.3f seconds (Warm-up)\n", dr->seconds_warmup[c]);
    fprintf(f, "#                %.3f seconds (Sampling)\n", dr->seconds_sampling[c]);
    fprintf(f, "#                %.3f" CHAIN_CSV_END, dr->seconds_warmup[c] + dr->seconds_sampling[c]);
    return 0;
}

/* Chain c's file, whole or not at all: 0, or -1 with the one-line reason in msg. */
static int write_chain_file(const char *dir, int c, const bnn_model *m, const bnn_draws *dr,
                            const sample_opts *o, const bnn_run_config *rc, const char *status,
                            char *msg, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/chain-%d.csv", dir, c + 1);
    enum { BUF = 1 << 20 };   /* a large buffer: a chain file is many short fprintf calls */
    char *buf = malloc(BUF);
    atomic_file a;
    if (!buf) {
        snprintf(msg, len, "%s: out of memory for a write buffer", path);
        return -1;
    }
    if (atomic_open(&a, path) != 0) {
        snprintf(msg, len, "%s: cannot write: %s", path, strerror(errno));
        free(buf);
        return -1;
    }
    setvbuf(a.f, buf, _IOFBF, BUF);
    put_chain_settings(a.f, dr, c, o, rc, status);
    int bad = put_chain_draws(a.f, m, dr, c) != 0;
    if (bad)
        atomic_discard(&a);
    else
        bad = atomic_close(&a) != 0;
    if (bad)
        snprintf(msg, len, "%s: cannot write: %s", path, strerror(errno));
    free(buf);
    return bad ? -1 : 0;
}

typedef struct {
    const char *dir;
    const bnn_model *m;
    const bnn_draws *dr;
    const sample_opts *o;
    const bnn_run_config *rc;
    const char *status;
    int first, step, failed;   /* chains first, first + step, ...; failed: the chain, or -1 */
    char msg[4200];
} chain_writer;

static void *write_chains_from(void *arg)
{
    chain_writer *w = arg;
    for (int c = w->first; c < w->dr->chains && w->failed < 0; c += w->step)
        if (write_chain_file(w->dir, c, w->m, w->dr, w->o, w->rc, w->status, w->msg,
                             sizeof w->msg) != 0)
            w->failed = c;
    return NULL;
}

void rundir_write_chains(const char *dir, const bnn_model *m, const bnn_draws *dr,
                         const sample_opts *o, const bnn_run_config *rc, const char *status,
                         int threads)
{
    /* files on several threads: formatting the draws is the cost, and each file's bytes
     * come from its chain alone, so they are the same */
    enum { MAX_WRITERS = 8 };
    int T = threads < dr->chains ? threads : dr->chains;
    T = T < 1 ? 1 : T > MAX_WRITERS ? MAX_WRITERS : T;
    chain_writer w[MAX_WRITERS];
    pthread_t tid[MAX_WRITERS];
    int started[MAX_WRITERS] = {0};
    for (int t = 0; t < T; t++) {
        w[t] = (chain_writer){dir, m, dr, o, rc, status, t, T, -1, ""};
        started[t] = t > 0 && pthread_create(&tid[t], NULL, write_chains_from, &w[t]) == 0;
    }
    for (int t = 0; t < T; t++)
        if (!started[t])   /* the calling thread's share, and any that could not start */
            write_chains_from(&w[t]);
    for (int t = 1; t < T; t++)
        if (started[t])
            pthread_join(tid[t], NULL);
    int worst = -1;
    for (int t = 0; t < T; t++)
        if (w[t].failed >= 0 && (worst < 0 || w[t].failed < w[worst].failed))
            worst = t;
    if (worst >= 0)
        die_runtime("%s", w[worst].msg);
}

/* ",rhat,ess_bulk\n" of row i, NA where undefined (constant predictions). */
static void put_diag(FILE *f, const bnn_prediction *p, size_t i)
{
    double v[2] = {p->row_rhat[i], p->row_ess_bulk[i]};
    for (int k = 0; k < 2; k++) {
        if (isnan(v[k]))
            fputs(",NA", f);
        else
            fprintf(f, ",%.6g", v[k]);
    }
    fputc('\n', f);
}

void put_pred_header(FILE *f, bnn_task task, int K)
{
    if (task == BNN_TASK_REGRESSION) {
        fputs("row,observed,mean,sd,q2.5,q50,q97.5,rhat,ess_bulk\n", f);
        return;
    }
    fputs("row,observed", f);
    for (int k = 0; k < K; k++)
        fprintf(f, ",p%d", k);
    fputs(",predicted,rhat,ess_bulk\n", f);
}

int write_pred_csv(FILE *f, const bnn_prediction *p)
{
    put_pred_header(f, p->task, p->K);
    if (p->task == BNN_TASK_REGRESSION) {
        for (size_t i = 0; i < p->n; i++) {
            fprintf(f, "%zu,", i + 1);
            if (p->has_y)
                fprintf(f, "%.9g", p->y[i]);
            else
                fprintf(f, "NA");
            fprintf(f, ",%.9g,%.9g,%.9g,%.9g,%.9g", p->mean[i], p->sd[i], p->q025[i], p->q50[i],
                    p->q975[i]);
            put_diag(f, p, i);
        }
    } else {
        for (size_t i = 0; i < p->n; i++) {
            fprintf(f, "%zu,", i + 1);
            if (p->has_y)
                fprintf(f, "%d", (int)p->y[i]);
            else
                fprintf(f, "NA");
            for (int k = 0; k < p->K; k++)
                fprintf(f, ",%.6g", p->mean[i * (size_t)p->K + (size_t)k]);
            fprintf(f, ",%d", p->cls[i]);
            put_diag(f, p, i);
        }
    }
    return ferror(f) ? -1 : 0;
}

void write_pred_file(const char *path, const bnn_prediction *p)
{
    atomic_file a;
    atomic_open_or_exit(&a, path);
    write_pred_csv(a.f, p);   /* a write error shows at the close */
    atomic_close_or_exit(&a);
}

void rundir_write_pred(const char *dir, const char *name, const bnn_prediction *p)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    write_pred_file(path, p);
}

/* ------------------------------------------------------------ JSON files */

/* dir/name: root as indented JSON and a final newline. */
static void write_json(const char *dir, const char *name, const cJSON *root)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *s = cJSON_Print(root);
    if (!s)
        die_runtime("%s: out of memory formatting JSON", path);
    atomic_file a;
    atomic_open_or_exit(&a, path);
    fputs(s, a.f);
    fputc('\n', a.f);
    cJSON_free(s);
    atomic_close_or_exit(&a);
}

/* A prior variance as config.json records it: a number, or the string "inf" for a flat
 * prior (JSON has no infinite number; rundir_read.c reads both back). */
static cJSON *variance_item(double v)
{
    return isinf(v) ? cJSON_CreateString("inf") : cJSON_CreateNumber(v);
}

static void json_add_variance(cJSON *o, const char *key, double v)
{
    cJSON_AddItemToObject(o, key, variance_item(v));
}

/* config.json's status, data and model: what sample and variational share. */
static cJSON *config_json_model(const sample_opts *o, const bnn_model *m, const bnn_table *train,
                                const bnn_table *test, const char *status)
{
    const bnn_model_spec *sp = bnn_model_get_spec(m);
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
    cJSON_AddStringToObject(mo, "activation", bnn_activation_name(sp->hidden_act));
    cJSON_AddStringToObject(mo, "output", bnn_activation_name(sp->output_act));
    /* a flat prior's infinite variance, which JSON has no number for, is the string "inf" */
    json_add_variance(mo, "prior_var", sp->prior_var);
    cJSON *pl = cJSON_AddArrayToObject(mo, "prior_var_layers");
    for (int l = 0; l <= sp->n_hidden; l++)
        cJSON_AddItemToArray(pl, variance_item(bnn_model_prior_var(sp, l)));
    cJSON_AddNumberToObject(mo, "nu1", sp->nu1);
    cJSON_AddNumberToObject(mo, "nu2", sp->nu2);
    cJSON_AddNumberToObject(mo, "parameters", (double)bnn_model_dim(m));
    return root;
}

/* The starting point, as config.json records it. */
static void json_add_init(cJSON *o, const sample_opts *so, int init_map)
{
    if (so->init)
        cJSON_AddStringToObject(o, "init", so->init);
    else if (init_map)
        cJSON_AddStringToObject(o, "init", "map: a local maximum of the log posterior by BFGS "
                                "from weights ~ N(0,1), tau2 = mean squared residual");
    else
        cJSON_AddStringToObject(o, "init", "weights ~ N(0,1), tau2 = mean squared residual");
}

static cJSON *config_json(const sample_opts *o, const bnn_model *m, const bnn_table *train,
                          const bnn_table *test, const bnn_run_config *rc, const char *status)
{
    cJSON *root = config_json_model(o, m, train, test, status);
    cJSON *sa = cJSON_AddObjectToObject(root, "sampler");
    cJSON_AddStringToObject(sa, "preset", o->preset == PRESET_STUDY ? "study" : "none");
    cJSON_AddStringToObject(sa, "sampler", rc->sampler);
    cJSON_AddNumberToObject(sa, "samples", (double)rc->n_iter);
    cJSON_AddNumberToObject(sa, "burn_in", (double)rc->n_burn);
    cJSON_AddNumberToObject(sa, "thin", (double)rc->thin);
    cJSON_AddNumberToObject(sa, "chains", rc->chains);
    cJSON_AddNumberToObject(sa, "threads", rc->threads);
    /* processes under mpirun (cli/ranks.c): chains spread over them, or rows when more */
    cJSON_AddNumberToObject(sa, "mpi_ranks", ranks_size());
    cJSON_AddNumberToObject(sa, "seed", (double)rc->seed);
    const bnn_kernel *k = bnn_kernel_find(rc->sampler);
    json_kernel_settings(sa, rc, k);
    if (k->approximate) {   /* sgld, sghmc: said where every reader of the folder looks */
        cJSON_AddBoolToObject(sa, "approximate", 1);
        cJSON_AddStringToObject(sa, "approximate_note", BNNMC_APPROX_NOTE);
    }
    if (bnn_run_config_subkernel(rc, k))   /* pt: its base's settings */
        json_kernel_settings(sa, rc, bnn_run_config_subkernel(rc, k));
    cJSON_AddNumberToObject(sa, "target_accept", rc->target_accept);
    cJSON_AddBoolToObject(sa, "adapt_metric", rc->adapt_metric);
    cJSON_AddStringToObject(sa, "metric", rc->metric == BNN_METRIC_DENSE ? "dense" : "diag");
    cJSON_AddBoolToObject(sa, "adapt", rc->adapt);
    if (rc->stepsize > 0)
        cJSON_AddNumberToObject(sa, "stepsize", rc->stepsize);
    if (o->max_time > 0) {
        cJSON_AddNumberToObject(sa, "max_time", o->max_time);
        cJSON_AddNumberToObject(sa, "target_rhat", o->target_rhat);
        cJSON_AddNumberToObject(sa, "target_ess", o->target_ess);
        cJSON_AddNumberToObject(sa, "round", (double)rc->round_iter);
    }
    static const char *const noise_steps[] = {"none", "gibbs"};   /* bnn_noise_step */
    cJSON_AddStringToObject(sa, "noise_step", noise_steps[rc->noise_step == BNN_NOISE_STEP_GIBBS]);
    /* the coordinates the chains moved in: the centred level (src/model/center.c), the
     * first layer on the inputs' axes (src/model/axes.c) */
    unsigned coords = bnn_model_density(m).coords;
    cJSON_AddBoolToObject(sa, "center", (coords & BNN_COORDS_CENTER) != 0);
    cJSON_AddBoolToObject(sa, "axes", (coords & BNN_COORDS_AXES) != 0);
    /* the precision the likelihood was computed in (a folder without it: double) */
    cJSON_AddStringToObject(sa, "precision", bnn_model_float32(m) ? "single" : "double");
    cJSON_AddBoolToObject(sa, "save_warmup", rc->save_warmup != 0);
    if (o->adapt_from) {   /* where the step sizes and metrics came from */
        char *abs = realpath(o->adapt_from, NULL);
        cJSON_AddStringToObject(sa, "adapt_from", abs ? abs : o->adapt_from);
        free(abs);
    }
    cJSON_AddNumberToObject(sa, "checkpoint_every", o->checkpoint_every);
    json_add_init(sa, o, rc->init_map);
    return root;
}

void rundir_write_config(const char *dir, const sample_opts *o, const bnn_model *m,
                         const bnn_table *train, const bnn_table *test,
                         const bnn_run_config *rc, const char *status)
{
    cJSON *root = config_json(o, m, train, test, rc, status);
    write_json(dir, "config.json", root);
    cJSON_Delete(root);
}

/* metrics.json's block of one predicted data set. */
static cJSON *metrics_block(const bnn_prediction *p)
{
    int reg = p->task == BNN_TASK_REGRESSION;
    const struct {
        const char *key;      /* NULL: not a metric of this task */
        double v;
    } items[] = {
        {"rows", (double)p->n},
        {reg ? "rmse_mean" : "accuracy_mean", p->metric_mean},
        {reg ? "rmse_std" : "accuracy_std", p->metric_std},
        {reg ? "rmse_of_mean" : "accuracy_of_mean", p->metric_of_mean},
        {reg ? "coverage95" : NULL, p->coverage95},
        {"lpd", p->lpd},
        {"pred_rhat_max", p->rhat_max},
        {"pred_rhat_median", p->rhat_median},
        {"pred_rhat_share_above_1_01", p->rhat_share_above},
        {"pred_ess_bulk_min", p->ess_bulk_min},
    };
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++)
        if (items[i].key)
            cJSON_AddNumberToObject(o, items[i].key, items[i].v);
    return o;
}

/* metrics.json's task, draws and fit of the predictions (either may be NULL): what sample
 * and variational share. */
static cJSON *metrics_json(bnn_task task, int chains, size_t draws, const char *status,
                           const bnn_prediction *train, const bnn_prediction *test)
{
    cJSON *met = cJSON_CreateObject();
    cJSON_AddStringToObject(met, "task", task == BNN_TASK_REGRESSION ? "regression" : "classification");
    cJSON_AddNumberToObject(met, "chains", chains);
    cJSON_AddNumberToObject(met, "draws_per_chain", (double)draws);
    if (status)
        cJSON_AddStringToObject(met, "status", status);
    if (train)
        cJSON_AddItemToObject(met, "train", metrics_block(train));
    if (test)
        cJSON_AddItemToObject(met, "test", metrics_block(test));
    return met;
}

void rundir_write_metrics(const char *dir, bnn_task task, const bnn_draws *dr,
                          const char *status, const bnn_prediction *train,
                          const bnn_prediction *test, double seconds_sampling,
                          double seconds_total, const sample_opts *o)
{
    cJSON *met = metrics_json(task, dr->chains, dr->n_kept, status, train, test);
    cJSON *acc = cJSON_AddArrayToObject(met, "acceptance");
    for (int c = 0; c < dr->chains; c++)
        cJSON_AddItemToArray(acc, cJSON_CreateNumber(dr->accept_rate[c]));
    if (dr->kernel && dr->kernel->approximate) {   /* sgld, sghmc (acceptance: updates not
                                                      refused as non-finite) */
        cJSON_AddBoolToObject(met, "approximation", 1);
        cJSON_AddStringToObject(met, "approximation_note", BNNMC_APPROX_NOTE);
    }
    if (dr->start_opt) {   /* --init map: each chain's optimisation */
        cJSON *so = cJSON_AddArrayToObject(met, "start_optimum");
        for (int c = 0; c < dr->chains; c++) {
            const bnn_optimize_result *r = &dr->start_opt[c];
            cJSON *e = cJSON_CreateObject();
            cJSON_AddNumberToObject(e, "lp", r->lp);
            cJSON_AddNumberToObject(e, "lp_start", r->lp_start);
            cJSON_AddNumberToObject(e, "grad_norm", r->grad_norm);
            cJSON_AddNumberToObject(e, "iterations", (double)r->iter);
            cJSON_AddStringToObject(e, "status", bnn_optim_status_str(r->status));
            cJSON_AddItemToArray(so, e);
        }
    }
    if (o->max_time > 0) {   /* run until converged: did it, in how many rounds */
        cJSON_AddBoolToObject(met, "converged", dr->converged);
        cJSON_AddNumberToObject(met, "rounds", (double)dr->rounds);
        cJSON_AddNumberToObject(met, "max_seconds", o->max_time);
        cJSON_AddNumberToObject(met, "target_rhat", o->target_rhat);
        cJSON_AddNumberToObject(met, "target_ess", o->target_ess);
    }
    /* what durability cost: checkpoints made and the seconds they took, summed over chains
     * (and over every resume of the run) */
    double ck_sec = 0, ck_n = 0, chain_sec = 0;
    for (int c = 0; dr->seconds_checkpoint && c < dr->chains; c++) {
        ck_sec += dr->seconds_checkpoint[c];
        ck_n += (double)dr->n_checkpoints[c];
        chain_sec += dr->seconds_warmup[c] + dr->seconds_sampling[c];
    }
    if (ck_n > 0) {
        cJSON *ck = cJSON_AddObjectToObject(met, "checkpoints");
        cJSON_AddNumberToObject(ck, "every_seconds", o->checkpoint_every);
        cJSON_AddNumberToObject(ck, "count", ck_n);
        cJSON_AddNumberToObject(ck, "seconds", ck_sec);
        cJSON_AddNumberToObject(ck, "share_of_chain_time", chain_sec > 0 ? ck_sec / chain_sec : 0);
    }
    cJSON_AddNumberToObject(met, "seconds_sampling", seconds_sampling);
    cJSON_AddNumberToObject(met, "seconds_total", seconds_total);
    write_json(dir, "metrics.json", met);
    cJSON_Delete(met);
}

/* ------------------------------------------------------------ summary.csv */

int put_summary_csv(FILE *f, char **names, const bnn_summary *s, size_t k)
{
    fputs(SUMMARY_CSV_HEADER "\n", f);
    for (size_t j = 0; j < k; j++) {
        const bnn_summary *x = &s[j];
        double v[10] = {x->mean, x->sd, x->q5, x->q50, x->q95, x->mcse_mean, x->ess_bulk,
                        x->ess_tail, x->rhat, x->rhat_gr};
        fprintf(f, "%s", names[j]);
        for (int c = 0; c < 10; c++) {
            if (isnan(v[c]))
                fprintf(f, ",NA");
            else
                fprintf(f, ",%.9g", v[c]);
        }
        fputc('\n', f);
    }
    return ferror(f) ? -1 : 0;
}

/* The summaries of lp__ and every parameter (constrained) over all chains; names[0..dim]. */
static bnn_summary *summarise_draws(const bnn_model *m, const bnn_draws *dr, int threads,
                                    char **names)
{
    size_t K = dr->dim + 1, M = (size_t)dr->chains, N = dr->n_kept;
    double *x = malloc(K * M * N * sizeof *x), *v = malloc(dr->dim * sizeof *v);
    bnn_summary *s = malloc(K * sizeof *s);
    if (!x || !v || !s)
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
    for (size_t j = 0; j < K; j++)
        if (!names[j])
            die_runtime("out of memory for the summary");
    free(x);
    free(v);
    return s;
}

void rundir_write_summary(const char *dir, const bnn_model *m, const bnn_draws *dr, int threads)
{
    size_t K = dr->dim + 1;
    char **names = calloc(K, sizeof *names);
    if (!names)
        die_runtime("out of memory for the summary");
    bnn_summary *s = summarise_draws(m, dr, threads, names);
    char path[4096];
    snprintf(path, sizeof path, "%s/summary.csv", dir);
    atomic_file a;
    atomic_open_or_exit(&a, path);
    put_summary_csv(a.f, names, s, K);   /* a write error shows at the close */
    atomic_close_or_exit(&a);
    for (size_t j = 0; j < K; j++)
        free(names[j]);
    free(names);
    free(s);
}

/* ------------------------------------------------------------ variational runs */

const char *rundir_vi_algorithm(bnn_vi_family f)
{
    return f == BNN_VI_FULLRANK ? "fullrank" : "meanfield";
}

void rundir_write_vi_config(const char *dir, const sample_opts *o, const bnn_model *m,
                            const bnn_table *train, const bnn_table *test,
                            const bnn_vi_config *vc, const bnn_vi_result *vr, const char *status)
{
    cJSON *root = config_json_model(o, m, train, test, status);
    /* said twice, plainly: these files hold an approximation, not posterior draws */
    cJSON_AddStringToObject(root, "method", "variational");
    cJSON_AddBoolToObject(root, "approximation", 1);
    cJSON *v = cJSON_AddObjectToObject(root, "variational");
    cJSON_AddStringToObject(v, "algorithm", rundir_vi_algorithm(vc->algorithm));
    cJSON_AddNumberToObject(v, "iter", (double)vc->iter);
    cJSON_AddNumberToObject(v, "grad_samples", (double)vc->grad_samples);
    cJSON_AddNumberToObject(v, "elbo_samples", (double)vc->elbo_samples);
    cJSON_AddNumberToObject(v, "eta", vc->eta);
    cJSON_AddBoolToObject(v, "adapt", vc->adapt);
    cJSON_AddNumberToObject(v, "adapt_iter", (double)vc->adapt_iter);
    cJSON_AddNumberToObject(v, "tol_rel_obj", vc->tol_rel_obj);
    cJSON_AddNumberToObject(v, "eval_elbo", (double)vc->eval_elbo);
    cJSON_AddNumberToObject(v, "output_samples", (double)vc->output_samples);
    cJSON_AddNumberToObject(v, "seed", (double)vc->seed);
    cJSON_AddNumberToObject(v, "threads", (double)o->threads);
    json_add_init(v, o, o->init_map);
    if (vr) {   /* what the fit did: the step-size scale it used, how far it went */
        cJSON_AddNumberToObject(v, "eta_used", vr->eta);
        cJSON_AddNumberToObject(v, "iterations", (double)vr->iterations);
        cJSON_AddBoolToObject(v, "converged", vr->converged != 0);
    }
    write_json(dir, "config.json", root);
    cJSON_Delete(root);
}

/* " (Default)" after a setting at CmdStan's default, as CmdStan marks it. */
static const char *dflt(int is_default)
{
    return is_default ? " (Default)" : "";
}

/* CmdStan's comment lines of a variational run (its argument tree). */
static void put_vi_settings(FILE *f, const sample_opts *o, const bnn_vi_config *vc)
{
    bnn_vi_config d;
    bnn_vi_config_default(&d);
    const char *alg = rundir_vi_algorithm(vc->algorithm);
    fprintf(f, "# stan_version_major = 2\n# stan_version_minor = 21\n# stan_version_patch = 0\n");
    fprintf(f, "# model = %s\n", model_name(o));
    fprintf(f, "# method = variational\n#   variational\n");
    fprintf(f, "#     algorithm = %s%s\n#       %s\n", alg, dflt(vc->algorithm == d.algorithm), alg);
    fprintf(f, "#     iter = %zu%s\n", vc->iter, dflt(vc->iter == d.iter));
    fprintf(f, "#     grad_samples = %zu%s\n", vc->grad_samples, dflt(vc->grad_samples == d.grad_samples));
    fprintf(f, "#     elbo_samples = %zu%s\n", vc->elbo_samples, dflt(vc->elbo_samples == d.elbo_samples));
    fprintf(f, "#     eta = %g%s\n", vc->eta, dflt(vc->eta == d.eta));
    fprintf(f, "#     adapt\n#       engaged = %d%s\n", vc->adapt != 0, dflt(vc->adapt == d.adapt));
    fprintf(f, "#       iter = %zu%s\n", vc->adapt_iter, dflt(vc->adapt_iter == d.adapt_iter));
    fprintf(f, "#     tol_rel_obj = %g%s\n", vc->tol_rel_obj, dflt(vc->tol_rel_obj == d.tol_rel_obj));
    fprintf(f, "#     eval_elbo = %zu%s\n", vc->eval_elbo, dflt(vc->eval_elbo == d.eval_elbo));
    fprintf(f, "#     output_samples = %zu%s\n", vc->output_samples,
            dflt(vc->output_samples == d.output_samples));
    fprintf(f, "# id = 1\n");
    fprintf(f, "# data\n#   file = %s\n", o->dataset ? o->dataset : o->train);
    fprintf(f, "# random\n#   seed = %" PRIu64 "\n", vc->seed);
    fprintf(f, "# output\n#   file = chain-1.csv\n");
    fprintf(f, "# bnnmc_version = %s\n", BNNMC_VERSION);
}

/* One row: lp__ (always 0, as CmdStan writes it for variational), log_p__, log_g__, the
 * parameters constrained (tau2 = exp(eta)). v: dim of scratch. */
static void put_vi_row(FILE *f, const bnn_model *m, size_t dim, double log_p, double log_g,
                       const double *theta, double *v)
{
    bnn_model_constrain(m, theta, v);
    fprintf(f, "0,%.17g,%.17g", log_p, log_g);
    for (size_t j = 0; j < dim; j++)
        fprintf(f, ",%.17g", v[j]);
    fputc('\n', f);
}

void rundir_write_vi_chain(const char *dir, const bnn_model *m, const sample_opts *o,
                           const bnn_vi_config *vc, const bnn_vi_result *vr)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/chain-1.csv", dir);
    size_t dim = vr->dim;
    double *v = malloc(dim * sizeof *v);
    if (!v)
        die_runtime("%s: out of memory", path);
    atomic_file a;
    atomic_open_or_exit(&a, path);
    put_vi_settings(a.f, o, vc);
    fputs("lp__,log_p__,log_g__", a.f);
    char name[64];
    for (size_t j = 0; j < dim; j++) {
        bnn_model_param_name(m, j, name, sizeof name);
        fprintf(a.f, ",%s", name);
    }
    fputc('\n', a.f);
    /* stan-dev/stan src/stan/variational/advi.hpp, run(): the adaptation's result after the
     * header, then the mean of q (constrained, lp__ = log_p__ = log_g__ = 0), then the draws */
    if (vc->adapt)
        fprintf(a.f, "# Stepsize adaptation complete.\n# eta = %g\n", vr->eta);
    put_vi_row(a.f, m, dim, 0, 0, vr->mean, v);
    for (size_t k = 0; k < vr->n_draws; k++)
        put_vi_row(a.f, m, dim, vr->log_p[k], vr->log_g[k], vr->draws + k * dim, v);
    /* no timing (it would make the file depend on the machine): a fixed last line, whose
     * absence tells a cut file */
    fputs(VI_CSV_END, a.f);
    free(v);
    atomic_close_or_exit(&a);
}

void rundir_write_vi_metrics(const char *dir, bnn_task task, const bnn_vi_result *vr,
                             const bnn_prediction *train, const bnn_prediction *test,
                             double seconds_fit, double seconds_total)
{
    /* one "chain" of independent draws of q; no acceptance: nothing was accepted */
    cJSON *met = metrics_json(task, 1, vr->n_draws, NULL, train, test);
    cJSON_AddStringToObject(met, "method", "variational");
    cJSON_AddBoolToObject(met, "approximation", 1);
    cJSON_AddStringToObject(met, "algorithm", rundir_vi_algorithm(vr->algorithm));
    cJSON_AddNumberToObject(met, "eta", vr->eta);
    cJSON_AddNumberToObject(met, "iterations", (double)vr->iterations);
    cJSON_AddBoolToObject(met, "converged", vr->converged != 0);
    cJSON_AddStringToObject(met, "convergence", vi_convergence[vr->converged >= 0 &&
                                                               vr->converged <= 2
                                                               ? vr->converged : 0]);
    /* the ELBO at the end (null when the run never evaluated it: iter < eval_elbo), and
     * its history as CmdStan's progress table shows it */
    double last = vr->n_elbo ? vr->elbo[vr->n_elbo - 1] : NAN;
    cJSON_AddItemToObject(met, "elbo", isfinite(last) ? cJSON_CreateNumber(last) : cJSON_CreateNull());
    cJSON *hist = cJSON_AddObjectToObject(met, "elbo_history");
    cJSON *hi = cJSON_AddArrayToObject(hist, "iter");
    cJSON *he = cJSON_AddArrayToObject(hist, "elbo");
    for (size_t k = 0; k < vr->n_elbo; k++) {
        cJSON_AddItemToArray(hi, cJSON_CreateNumber((double)vr->elbo_iter[k]));
        cJSON_AddItemToArray(he, cJSON_CreateNumber(vr->elbo[k]));
    }
    /* q itself on the unconstrained scale (eta = log tau2): chain-1.csv's first row is
     * this mean, constrained. Written with 17 digits, as the CSV is: cJSON's own numbers
     * round-trip only to within a relative DBL_EPSILON. */
    cJSON *q = cJSON_AddObjectToObject(met, "q");
    cJSON *qm = cJSON_AddArrayToObject(q, "mean");
    cJSON *qs = cJSON_AddArrayToObject(q, "sd");
    for (size_t j = 0; j < vr->dim; j++) {
        char num[2][32];
        snprintf(num[0], sizeof num[0], "%.17g", vr->mean[j]);
        snprintf(num[1], sizeof num[1], "%.17g", vr->sd[j]);
        cJSON_AddItemToArray(qm, isfinite(vr->mean[j]) ? cJSON_CreateRaw(num[0]) : cJSON_CreateNull());
        cJSON_AddItemToArray(qs, isfinite(vr->sd[j]) ? cJSON_CreateRaw(num[1]) : cJSON_CreateNull());
    }
    cJSON_AddNumberToObject(met, "seconds_fit", seconds_fit);
    cJSON_AddNumberToObject(met, "seconds_total", seconds_total);
    write_json(dir, "metrics.json", met);
    cJSON_Delete(met);
}
