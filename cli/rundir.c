/* rundir.c — the run folder: atomic files, checksums, chain CSVs in CmdStan's layout,
 * per-row prediction CSVs, and reading draws back. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nettle/sha2.h>

#include "cli.h"

int write_file_atomic(const char *path, const char *data, size_t len)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(data, 1, len, f);
    if (fclose(f) != 0 || w != len) {
        unlink(tmp);
        return -1;
    }
    return rename(tmp, path);
}

void file_sha256(const char *path, char hex[65])
{
    hex[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    unsigned char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        sha256_update(&ctx, n, buf);
    int bad = ferror(f);
    fclose(f);
    if (bad)
        return;
    unsigned char dig[SHA256_DIGEST_SIZE];
    sha256_digest(&ctx, SHA256_DIGEST_SIZE, dig);
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
        sprintf(hex + 2 * i, "%02x", dig[i]);
}

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

void rundir_check(const char *dir, int force)
{
    struct stat st;
    if (stat(dir, &st) != 0)
        return;
    if (!S_ISDIR(st.st_mode))
        die_usage("sample", "--out: %s exists and is not a folder", dir);
    char cfg[4096];
    snprintf(cfg, sizeof cfg, "%s/config.json", dir);
    if (access(cfg, F_OK) == 0 && !force)
        die_usage("sample", "--out: %s already holds a run; use --force to overwrite it", dir);
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

int write_chain_csv(const char *path, const bnn_model *m, const bnn_draws *dr, int c,
                    const sample_opts *o, const char *model_name, const char *status)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    static char buf[1 << 20];
    setvbuf(f, buf, _IOFBF, sizeof buf);
    if (status)
        fprintf(f, "# bnnmc_status = %s\n", status);
    fprintf(f, "# stan_version_major = 2\n# stan_version_minor = 21\n# stan_version_patch = 0\n");
    fprintf(f, "# model = %s\n", model_name);
    fprintf(f, "# method = sample (Default)\n");
    fprintf(f, "#   sample\n");
    fprintf(f, "#     num_samples = %zu\n", dr->n_kept * dr->thin);
    fprintf(f, "#     num_warmup = %zu\n", dr->n_burn);
    fprintf(f, "#     save_warmup = 0 (Default)\n");
    fprintf(f, "#     thin = %zu\n", dr->thin);
    int s = o->sampler;
    fprintf(f, "#     adapt\n#       engaged = %d\n", dr->adapted);
    if (dr->adapted)
        fprintf(f, "#       delta = %g\n", o->target_accept > 0 ? o->target_accept
                                                             : (s == BNN_SAMPLER_MALA ? 0.574 : 0.8));
    /* CmdStan names its NUTS "algorithm = hmc, engine = nuts"; keep that for readers */
    fprintf(f, "#     algorithm = %s\n", s == BNN_SAMPLER_NUTS ? "hmc" : bnn_sampler_name((bnn_sampler)s));
    fprintf(f, "#       engine = %s\n", s == BNN_SAMPLER_HMC ? "static" : bnn_sampler_name((bnn_sampler)s));
    if (s == BNN_SAMPLER_NUTS)
        fprintf(f, "#         max_depth = %d\n", o->max_depth ? o->max_depth : 10);
    if (s == BNN_SAMPLER_HMC)
        fprintf(f, "#         int_time = %g\n", o->int_time > 0 ? o->int_time : 2 * M_PI);
    if (dr->adapted)
        fprintf(f, "#       metric = diag_e\n");
    if (s == BNN_SAMPLER_RW || s == BNN_SAMPLER_LANGEVIN)
        fprintf(f, "#       step = %g\n#       step_eta = %g\n", o->step, o->step_eta);
    if (s == BNN_SAMPLER_LANGEVIN)
        fprintf(f, "#       lr = %g\n#       langevin_prob = %g\n", o->lr, o->langevin_prob);
    fprintf(f, "# id = %d\n", c + 1);
    fprintf(f, "# data\n#   file = %s\n", o->dataset ? o->dataset : o->train);
    fprintf(f, "# random\n#   seed = %lu\n", o->seed);
    fprintf(f, "# output\n#   file = chain-%d.csv\n", c + 1);
    fprintf(f, "# bnnmc_version = %s\n", BNNMC_VERSION);
    fprintf(f, "lp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__");
    size_t dim = dr->dim;
    char name[64];
    for (size_t j = 0; j < dim; j++) {
        bnn_model_param_name(m, j, name, sizeof name);
        fprintf(f, ",%s", name);
    }
    fputc('\n', f);
    if (dr->adapted) {
        fprintf(f, "# Adaptation terminated\n# Step size = %.17g\n", dr->step_final[c]);
        fprintf(f, "# Diagonal elements of inverse mass matrix:\n# ");
        for (size_t j = 0; j < dim; j++)
            fprintf(f, "%s%.17g", j ? ", " : "", dr->inv_metric[(size_t)c * dim + j]);
        fputc('\n', f);
    }
    double *v = malloc(dim * sizeof *v);
    if (!v) {
        fclose(f);
        unlink(tmp);
        errno = ENOMEM;
        return -1;
    }
    for (size_t i = 0; i < dr->n_kept; i++) {
        size_t k = (size_t)c * dr->n_kept + i;
        bnn_model_constrain(m, bnn_draw(dr, c, i), v);
        /* full precision: summary and predict recompute from these files exactly */
        fprintf(f, "%.17g,%.6g,%.9g,%d,%d,%d,%.17g", dr->lp[k], dr->accept_stat[k], dr->stepsize[k],
                dr->treedepth[k], dr->n_leapfrog[k], dr->divergent[k], dr->energy[k]);
        for (size_t j = 0; j < dim; j++)
            fprintf(f, ",%.17g", v[j]);
        fputc('\n', f);
    }
    free(v);
    fprintf(f, "# \n#  Elapsed Time: %.3f seconds (Warm-up)\n", dr->seconds_warmup[c]);
    fprintf(f, "#                %.3f seconds (Sampling)\n", dr->seconds_sampling[c]);
    fprintf(f, "#                %.3f seconds (Total)\n# \n",
            dr->seconds_warmup[c] + dr->seconds_sampling[c]);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        unlink(tmp);
        return -1;
    }
    return rename(tmp, path);
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

int write_pred_csv(FILE *f, const bnn_prediction *p)
{
    if (p->task == BNN_TASK_REGRESSION) {
        fprintf(f, "row,observed,mean,sd,q2.5,q50,q97.5,rhat,ess_bulk\n");
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
        fprintf(f, "row,observed");
        for (int k = 0; k < p->K; k++)
            fprintf(f, ",p%d", k);
        fprintf(f, ",predicted,rhat,ess_bulk\n");
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

bnn_status read_run_draws(const char *dir, const bnn_model *m, bnn_draws **out, bnn_error *err)
{
    size_t dim = bnn_model_dim(m);
    stan_csv *ch = calloc(1024, sizeof *ch);
    int M = 0;
    bnn_status st = BNN_OK;
    if (!ch)
        return BNN_ENOMEM;
    for (; M < 1024; M++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/chain-%d.csv", dir, M + 1);
        if (access(path, F_OK) != 0)
            break;
        if (stan_csv_read(path, &ch[M], err->msg, sizeof err->msg) != 0) {
            st = err->code = BNN_EPARSE;
            break;
        }
        if (ch[M].ncol != 7 + dim) {
            snprintf(err->msg, sizeof err->msg, "%.400s: %zu columns, the run's model needs %zu (7 "
                     "sampler columns and %zu parameters)", path, ch[M].ncol, 7 + dim, dim);
            st = err->code = BNN_EPARSE;
            M++;
            break;
        }
    }
    if (!st && M == 0) {
        snprintf(err->msg, sizeof err->msg, "%.400s: no chain-1.csv", dir);
        st = err->code = BNN_EIO;
    }
    size_t n = SIZE_MAX;
    for (int c = 0; c < M && !st; c++)
        n = ch[c].nrow < n ? ch[c].nrow : n;
    bnn_draws *dr = st ? NULL : calloc(1, sizeof *dr);
    if (!st && (!dr || !(dr->theta = malloc((size_t)M * n * dim * sizeof(double) + 1)))) {
        snprintf(err->msg, sizeof err->msg, "out of memory");
        st = err->code = BNN_ENOMEM;
    }
    if (!st) {
        dr->chains = M;
        dr->dim = dim;
        dr->n_kept = n;
        const bnn_model_spec *sp = bnn_model_get_spec(m);
        for (int c = 0; c < M; c++)
            for (size_t i = 0; i < n; i++) {
                double *dst = dr->theta + ((size_t)c * n + i) * dim;
                memcpy(dst, ch[c].v + i * ch[c].ncol + 7, dim * sizeof *dst);
                if (sp->task == BNN_TASK_REGRESSION)
                    dst[dim - 1] = log(dst[dim - 1]);
            }
        *out = dr;
    } else {
        bnn_draws_free(dr);
    }
    for (int c = 0; c < M; c++)
        stan_csv_free(&ch[c]);
    free(ch);
    return st;
}
