/* memory.c — the memory a run of `bnnmc sample` holds, estimated before it samples, and
 * the thinning of the stored predictive draws that keeps it under --max-memory.
 *
 * The estimate counts what the run allocates, array by array, from the sizes it knows
 * before sampling; it never measures the process (a measured figure would make the
 * thinning, and so the predictions, depend on the machine: same seed, same results).
 * bench/memory.sh compares it with the peak resident memory of real runs. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "memory.h"
#include "util.h"

int mem_parse_size(const char *s, double *bytes)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !isfinite(v) || v < 0 || *s == '+' || *s == ' ')
        return -1;
    double unit = 1;
    const char *units = "KMGT";
    if ((*end == 'B' || *end == 'b') && end[1] == '\0') {
        end++;
    } else if (*end) {
        const char *u = strchr(units, *end == 'k' ? 'K' : *end);
        if (!u || !*u)
            return -1;
        unit = pow(1024, (double)(u - units + 1));
        end++;
        if (*end == 'B' || *end == 'b')
            end++;
    }
    if (*end)
        return -1;
    *bytes = floor(v * unit);
    return 0;
}

void mem_format(double bytes, char *buf, size_t len)
{
    if (bytes >= 1024.0 * 1024 * 1024)
        snprintf(buf, len, "%.2f GB", bytes / (1024.0 * 1024 * 1024));
    else if (bytes >= 1024.0 * 1024)
        snprintf(buf, len, "%.1f MB", bytes / (1024.0 * 1024));
    else
        snprintf(buf, len, "%.0f KB", ceil(bytes / 1024.0));
}

static size_t ceil_div(size_t a, size_t b)
{
    return a / b + (a % b != 0);
}

/* What the allocator holds beyond the arrays it was asked for, as a factor. */
#define ALLOCATOR_SLACK 1.03

/* The prediction pass's rows at a time (predict.c's ROW_CHUNK) and draws at a time. */
enum { PRED_ROWS = 4096, PRED_DRAWS = 32 };
/* Doubles of scratch per draw and thread in the passes over rows and diagnostics: the
 * row's draws, their ranks and normal scores, the FFT of the autocorrelation (twice the
 * length, complex). */
enum { PER_DRAW_SCRATCH = 16 };

/* The train and test tables (either may be NULL) and their predictions. */
static void add_tables(mem_plan *mp, const bnn_model *m, const bnn_table *train,
                       const bnn_table *test, double T)
{
    const bnn_table *tabs[2] = {train, test};
    double K = bnn_model_n_outputs(m);
    for (int t = 0; t < 2; t++) {
        if (!tabs[t])
            continue;
        double n = (double)tabs[t]->n, p = (double)tabs[t]->p;
        mp->data += n * (p + 2) * 8;   /* x, y, line numbers */
        /* mean (K), sd and three quantiles or the class, R-hat, ESS, coverage, lpd, and
         * temporaries of a row's size (the R-hat summary's copy; measured: 4 rows' worth
         * on friedman1's 10^6 rows) */
        mp->pred_row += n * (K + 12) * 8;
        mp->pred_draw += n * K * sizeof(float) + 5 * 8;   /* + the per-draw metric, tau2 ... */
        double R = n < PRED_ROWS ? n : PRED_ROWS;
        double pass = R * K * PRED_DRAWS +
                      (double)bnn_model_predict_batch_work(m, (size_t)R, PRED_DRAWS);
        mp->pred_scratch = fmax(mp->pred_scratch, T * pass * 8);
    }
}

void mem_plan_make(mem_plan *mp, const sample_opts *o, const bnn_model *m,
                   const bnn_density *d, const bnn_run_config *rc, const bnn_table *train,
                   const bnn_table *test)
{
    memset(mp, 0, sizeof *mp);
    const bnn_model_spec *sp = bnn_model_get_spec(m);
    const bnn_kernel *k = bnn_kernel_find(rc->sampler);
    /* the scratch of one thread: the thinning must not depend on --threads (nor on MPI
     * ranks), or the predictions would; each further thread adds its own passes' scratch
     * (at most PRED_ROWS rows x PRED_DRAWS draws) beyond the estimate */
    double M = rc->chains, T = 1, dim = (double)d->dim;
    mp->limit = o->max_memory > 0 ? o->max_memory : MEM_DEFAULT_LIMIT;
    mp->chains = rc->chains;
    mp->dim = d->dim;
    /* measured: a run of 20 iterations on blobs3 (150 rows) peaks at 9 MB (/usr/bin/time) */
    mp->base = 16.0 * 1024 * 1024;
    add_tables(mp, m, train, test, T);
    mp->pred_draw += dim * 8 + T * PER_DRAW_SCRATCH * 8;   /* the thinned draws' copy */
    /* the network's fused kernel keeps the training rows again, in its lanes (x, y, a
     * mask); a classifier keeps its labels */
    double n_train = (double)train->n, p_train = (double)train->p;
    mp->model = sp->n_hidden == 1 ? n_train * (p_train + 3) * 8 : n_train * 8;
    /* pt: each chain is K replicas, each a chain of its own, and K - 1 swap columns */
    double replicas = 1;
    size_t n_extra = 0;
    if (k && bnn_kernel_option(k, "replicas")) {
        replicas = bnn_run_config_get(rc, k, "replicas");
        n_extra = replicas >= 2 ? (size_t)replicas - 1 : 0;
    } else {
        for (size_t i = 0; k && k->columns && k->columns[i]; i++)
            n_extra++;
    }
    double metric = rc->metric == BNN_METRIC_DENSE ? 3 * dim * dim + dim : dim;
    mp->chain_work = M * replicas * ((double)d->work_len + 5 * dim + metric) * 8;
    /* theta, lp, accept_stat, stepsize, energy; treedepth, n_leapfrog, divergent; extra */
    mp->draw_bytes = dim * 8 + 4 * 8 + 3 * 4 + (double)n_extra * 8;
    size_t burn = rc->n_burn, thin = rc->thin ? rc->thin : 1;
    mp->warm_kept = rc->save_warmup ? ceil_div(burn, thin) : 0;
    /* a checkpoint serialises a chain's draws; a resume holds every chain's checkpoint
     * through the run */
    mp->draw_copies = (rc->checkpoint != NULL) + (o->resume != RESUME_NONE);
    mp->summary_draw = (dim + 1) * 8 + T * PER_DRAW_SCRATCH * 8;
    mp->planned_kept = rc->n_iter > burn ? ceil_div(rc->n_iter - burn, thin) : 0;
    if (o->max_time > 0) {
        size_t round = rc->round_iter ? rc->round_iter : rc->n_iter - burn;
        mp->round_kept = ceil_div(round, thin);
    }
}

double mem_estimate(const mem_plan *mp, size_t kept, size_t thin)
{
    double M = mp->chains;
    double draws = M * (double)(kept + mp->warm_kept) * mp->draw_bytes;
    double stored = M * (double)ceil_div(kept, thin ? thin : 1);
    double pred = mp->pred_row + mp->pred_scratch + mp->pred_draw * stored;
    double held = mp->base + mp->data + mp->model;
    /* while the chains run (and, with --max-time, check their predictions each round) */
    double run = held + mp->chain_work + draws * (1 + mp->draw_copies) +
                 (mp->round_kept ? pred : 0);
    /* after: the summary's copy of the draws, then the predictions */
    double summary = M * (double)kept * mp->summary_draw;
    double post = held + draws + (summary > pred ? summary : pred);
    /* glibc keeps some of what is freed (arenas, the heap's top) */
    return ALLOCATOR_SLACK * (run > post ? run : post);
}

/* The largest thinning: 4 predictive draws per chain (split R-hat needs them), or all
 * when there are fewer. */
static size_t max_thin(size_t kept)
{
    return kept < 4 ? 1 : ceil_div(kept, 4);
}

int mem_fits(const mem_plan *mp, size_t kept)
{
    return mem_estimate(mp, kept, max_thin(kept)) <= mp->limit;
}

void mem_plan_predict(mem_plan *mp, double limit, const bnn_model *m, const bnn_draws *dr,
                      const bnn_table *t)
{
    memset(mp, 0, sizeof *mp);
    double T = 1, dim = (double)dr->dim;   /* one thread's scratch, as mem_plan_make */
    mp->limit = limit > 0 ? limit : MEM_DEFAULT_LIMIT;
    mp->chains = dr->chains;
    mp->dim = dr->dim;
    mp->base = 16.0 * 1024 * 1024;
    add_tables(mp, m, t, NULL, T);
    mp->pred_draw += dim * 8 + T * PER_DRAW_SCRATCH * 8;
    mp->draw_bytes = dim * 8 + 4 * 8 + 3 * 4 + (double)dr->n_extra * 8;
    mp->planned_kept = dr->n_kept;
}

size_t mem_pred_thin(const mem_plan *mp, size_t kept)
{
    if (kept == 0 || mem_estimate(mp, kept, 1) <= mp->limit)
        return 1;
    size_t hi = max_thin(kept);
    if (mem_estimate(mp, kept, hi) > mp->limit)
        return hi;   /* nothing fits: the fewest draws the diagnostics take */
    size_t lo = 1;   /* lo does not fit, hi does */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (mem_estimate(mp, kept, mid) <= mp->limit)
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}

void mem_check_or_die(const mem_plan *mp, int quiet)
{
    size_t kept = mp->planned_kept, thin = mem_pred_thin(mp, kept);
    char lim[32], need[32], data[32], work[32], draws[32];
    mem_format(mp->limit, lim, sizeof lim);
    if (!mem_fits(mp, kept)) {
        size_t least = kept < 4 ? kept : 4;
        mem_format(mem_estimate(mp, kept, max_thin(kept)), need, sizeof need);
        mem_format(mp->data + mp->model, data, sizeof data);
        mem_format(mp->chain_work, work, sizeof work);
        mem_format((double)mp->chains * (double)(kept + mp->warm_kept) * mp->draw_bytes, draws,
                   sizeof draws);
        die_usage("sample", "--max-memory %s: the run needs about %s even with %zu predictive "
                  "draws per chain (data and model %s, the chains' work %s, the draws %s: %d "
                  "chains x %zu x %zu parameters); give more memory, or fewer --samples, a "
                  "larger --thin or fewer --chains", lim, need, least, data, work, draws,
                  mp->chains, kept + mp->warm_kept, mp->dim);
    }
    if (thin > 1 && !quiet) {
        mem_format(mem_estimate(mp, kept, thin), need, sizeof need);
        fprintf(stderr, "bnnmc: the predictions will store one draw in %zu of each chain (%zu "
                "of %zu) to stay under --max-memory %s (estimated peak %s); the chain CSVs "
                "keep every draw\n", thin, ceil_div(kept, thin), kept, lim, need);
    }
}

bnn_draws *mem_thin_draws(const bnn_draws *dr, size_t thin)
{
    bnn_draws *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    size_t n = ceil_div(dr->n_kept, thin ? thin : 1);
    t->chains = dr->chains;
    t->dim = dr->dim;
    t->n_kept = n;
    t->thin = dr->thin * thin;
    t->theta = malloc(((size_t)dr->chains * n * dr->dim + 1) * sizeof *t->theta);
    if (!t->theta) {
        free(t);
        return NULL;
    }
    for (int c = 0; c < dr->chains; c++)
        for (size_t i = 0; i < n; i++)
            memcpy(t->theta + ((size_t)c * n + i) * dr->dim, bnn_draw(dr, c, i * thin),
                   dr->dim * sizeof *t->theta);
    return t;
}

void mem_write_metrics(const char *dir, const mem_plan *mp, size_t kept, size_t thin,
                       int rounds_stopped)
{
    char path[4096], err[256];
    snprintf(path, sizeof path, "%s/metrics.json", dir);
    size_t len;
    char *text = slurp_file(path, &len, err, sizeof err);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    free(text);
    if (!root)
        die_runtime("%s: cannot read back to add the memory block", path);
    cJSON *mem = cJSON_AddObjectToObject(root, "memory");
    cJSON_AddNumberToObject(mem, "limit_bytes", mp->limit);
    cJSON_AddNumberToObject(mem, "estimate_bytes", mem_estimate(mp, kept, thin ? thin : 1));
    cJSON_AddNumberToObject(mem, "pred_thin", (double)(thin ? thin : 1));
    cJSON_AddNumberToObject(mem, "pred_draws_per_chain", (double)ceil_div(kept, thin ? thin : 1));
    if (mp->round_kept)
        cJSON_AddBoolToObject(mem, "rounds_stopped", rounds_stopped);
    char *s = cJSON_Print(root);
    cJSON_Delete(root);
    if (!s)
        die_runtime("%s: out of memory formatting JSON", path);
    atomic_file a;
    atomic_open_or_exit(&a, path);
    fputs(s, a.f);
    fputc('\n', a.f);
    cJSON_free(s);
    atomic_close_or_exit(&a);
}
