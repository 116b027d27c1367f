/* chain_summary.c — what `bnnmc summary` and `bnnmc diagnose` report of CmdStan-format
 * chains: R-hat, ESS and MCSE of every parameter (and lp__), the sampler's health
 * (divergences, tree depth, E-BFMI), as a table (worst first) or as JSON. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain_summary.h"
#include "util.h"

void summary_set_free(summary_set *s)
{
    free(s->names);
    free(s->s);
    free(s->ebfmi);
    s->names = NULL;
    s->s = NULL;
    s->ebfmi = NULL;
}

/* pt's swap_K__ columns: the mean over every chain's rows that had an exchange round. */
static void swap_rates(const stan_csv *ch, size_t M, summary_set *out)
{
    size_t ncol = ch[0].ncol;
    out->n_swap = 0;
    for (size_t j = 0; j < ncol; j++) {
        int pair, len = 0;
        const char *nm = ch[0].names[j];
        if (sscanf(nm, "swap_%d__%n", &pair, &len) != 1 || nm[len] != '\0' ||
            pair != (int)out->n_swap + 1 || out->n_swap == sizeof out->swap_rate / sizeof out->swap_rate[0])
            continue;
        double sum = 0;
        size_t n = 0;
        for (size_t c = 0; c < M; c++)
            for (size_t i = 0; i < ch[c].nrow; i++) {
                double v = ch[c].v[i * ncol + j];
                if (!isnan(v)) {
                    sum += v;
                    n++;
                }
            }
        out->swap_rate[out->n_swap++] = n ? sum / (double)n : NAN;
    }
}

/* Sampler health as Stan reports it: divergences, tree depth at the limit, and per chain the
 * energy Bayesian fraction of missing information, sum (E_n - E_n-1)^2 / sum (E_n - mean)^2. */
static void sampler_health(stan_csv *ch, size_t M, summary_set *out)
{
    size_t ncol = ch[0].ncol;
    int jd = -1, jt = -1, je = -1;
    for (size_t j = 0; j < ncol; j++) {
        if (strcmp(ch[0].names[j], "divergent__") == 0)
            jd = (int)j;
        if (strcmp(ch[0].names[j], "treedepth__") == 0)
            jt = (int)j;
        if (strcmp(ch[0].names[j], "energy__") == 0)
            je = (int)j;
    }
    swap_rates(ch, M, out);
    out->max_depth = ch[0].max_depth;
    out->ebfmi = malloc(M * sizeof *out->ebfmi);
    int engine_nuts = ch[0].engine && strcmp(ch[0].engine, "nuts") == 0;
    int engine_hmc = engine_nuts || (ch[0].engine && strcmp(ch[0].engine, "static") == 0);
    out->has_trees = jt >= 0 && engine_nuts;
    out->has_energy = je >= 0 && engine_hmc && out->ebfmi;   /* no E-BFMI without memory */
    for (size_t c = 0; c < M; c++) {
        const double *v = ch[c].v;
        size_t n = ch[c].nrow;
        out->draws += n;
        for (size_t i = 0; i < n; i++) {
            if (jd >= 0)
                out->divergent += v[i * ncol + (size_t)jd] > 0;   /* Stan writes 0 or 1; NaN is none */
            if (out->has_trees)
                out->depth_hits += v[i * ncol + (size_t)jt] >= out->max_depth;
        }
        double mean = 0, num = 0, den = 0;
        if (out->ebfmi)
            out->ebfmi[c] = NAN;
        if (!out->has_energy || n < 2)
            continue;
        for (size_t i = 0; i < n; i++)
            mean += v[i * ncol + (size_t)je] / (double)n;
        for (size_t i = 0; i < n; i++) {
            double e = v[i * ncol + (size_t)je];
            den += (e - mean) * (e - mean);
            if (i)
                num += (e - v[(i - 1) * ncol + (size_t)je]) * (e - v[(i - 1) * ncol + (size_t)je]);
        }
        out->ebfmi[c] = num / den;
    }
}

void print_health(const summary_set *s)
{
    if (s->n_swap) {
        printf("swap acceptance per neighbour pair (replicas 1-2, 2-3, ...):");
        for (size_t i = 0; i < s->n_swap; i++)
            printf(isnan(s->swap_rate[i]) ? " NA" : " %.3f", s->swap_rate[i]);
        printf("\n");
    }
    if (s->divergent)
        printf("warning: %zu of %zu transitions (%.1f%%) ended with a divergence: the sampler "
               "cannot follow the posterior's curvature there; raise --target-accept or "
               "reparameterise.\n", s->divergent, s->draws, 100.0 * (double)s->divergent / (double)s->draws);
    if (s->has_trees && s->depth_hits)
        printf("warning: %zu of %zu transitions (%.1f%%) hit the maximum tree depth of %d: an "
               "efficiency problem, not a bias; --max-depth raises it.\n", s->depth_hits, s->draws,
               100.0 * (double)s->depth_hits / (double)s->draws, s->max_depth);
    for (size_t c = 0; s->has_energy && c < s->M; c++)
        if (s->ebfmi[c] < 0.3)
            printf("warning: chain %zu has E-BFMI %.3f (below 0.3): the momentum resampling "
                   "explores the energy poorly.\n", c + 1, s->ebfmi[c]);
    if (s->has_energy) {
        printf("E-BFMI per chain:");
        for (size_t c = 0; c < s->M; c++)
            printf(isnan(s->ebfmi[c]) ? " NA" : " %.3f", s->ebfmi[c]);   /* NaN: constant energy__ */
        printf("\n");
    }
}

/* Every chain has chain 1's columns, in its order; -1 with a message naming the files. */
static int same_columns(const stan_csv *ch, size_t M, char *err, size_t errlen)
{
    for (size_t c = 1; c < M; c++) {
        if (ch[c].ncol != ch[0].ncol) {
            set_error(err, errlen, "%s: %zu columns, %s has %zu", ch[c].path, ch[c].ncol,
                      ch[0].path, ch[0].ncol);
            return -1;
        }
        for (size_t j = 0; j < ch[0].ncol; j++)
            if (strcmp(ch[c].names[j], ch[0].names[j]) != 0) {
                set_error(err, errlen, "%s: column %zu is '%.60s' where %s has '%.60s'", ch[c].path,
                          j + 1, ch[c].names[j], ch[0].path, ch[0].names[j]);
                return -1;
            }
    }
    return 0;
}

/* The draws per chain the diagnostics use: the shortest chain's (R-hat and ESS need chains
 * of one length), with a warning naming the shortest and longest when they differ. */
static size_t common_length(const stan_csv *ch, size_t M)
{
    size_t lo = 0, hi = 0;
    for (size_t c = 1; c < M; c++) {
        lo = ch[c].nrow < ch[lo].nrow ? c : lo;
        hi = ch[c].nrow > ch[hi].nrow ? c : hi;
    }
    if (ch[lo].nrow != ch[hi].nrow)
        fprintf(stderr, "bnnmc: warning: chains differ in length: %s has %zu draws, %s has %zu; "
                "the statistics use the first %zu draws of each chain\n", ch[hi].path, ch[hi].nrow,
                ch[lo].path, ch[lo].nrow, ch[lo].nrow);
    return ch[lo].nrow;
}

static bnn_summary summary_nan(void)
{
    return (bnn_summary){.mean = NAN, .sd = NAN, .q5 = NAN, .q50 = NAN, .q95 = NAN,
                         .mcse_mean = NAN, .mcse_sd = NAN, .mcse_q5 = NAN, .mcse_q50 = NAN,
                         .mcse_q95 = NAN, .ess_bulk = NAN, .ess_tail = NAN, .ess_basic = NAN,
                         .rhat = NAN, .rhat_basic = NAN, .rhat_gr = NAN};
}

/* Columns with a NaN or infinite draw get NA for every statistic (a mean or quantile of
 * them would mislead); one note on stderr names the first few. */
static void blank_nonfinite(summary_set *out, const unsigned char *bad)
{
    size_t n = 0;
    char names[400] = "";
    for (size_t q = 0; q < out->k; q++) {
        if (!bad[q])
            continue;
        out->s[q] = summary_nan();
        if (n < 5) {
            size_t l = strlen(names);
            snprintf(names + l, sizeof names - l, "%s%.60s", n ? ", " : "", out->names[q]);
        }
        n++;
    }
    if (n)
        fprintf(stderr, "bnnmc: note: %zu column%s NaN or infinite draws, %s diagnostics are NA: "
                "%s%s\n", n, n == 1 ? " has" : "s have", n == 1 ? "its" : "their", names,
                n > 5 ? ", ..." : "");
}

int summarise_chains(stan_csv *ch, size_t M, int threads, summary_set *out, char *err,
                            size_t errlen)
{
    memset(out, 0, sizeof *out);
    size_t ncol = ch[0].ncol;
    if (same_columns(ch, M, err, errlen) != 0)
        return -1;
    for (size_t c = 0; c < M; c++) {
        out->warmup += ch[c].nwarmup;
        if (ch[c].nrow < 4) {
            char after[64] = "";
            if (ch[c].nwarmup)
                snprintf(after, sizeof after, " after its %zu warm-up rows", ch[c].nwarmup);
            set_error(err, errlen, "%s: %zu draws%s: too few to diagnose (4 needed)", ch[c].path,
                      ch[c].nrow, after);
            return -1;
        }
    }
    size_t *cols = malloc(ncol * sizeof *cols), k = 0;
    if (!cols) {
        set_error(err, errlen, "out of memory");
        return -1;
    }
    for (size_t j = 0; j < ncol; j++) {
        const char *nm = ch[0].names[j];
        size_t l = strlen(nm);
        if (strcmp(nm, "lp__") == 0 || l < 2 || strcmp(nm + l - 2, "__") != 0)
            cols[k++] = j;
    }
    if (k == 0) {
        set_error(err, errlen, "%s: no parameter columns, only sampler columns (names ending in __)",
                  ch[0].path);
        free(cols);
        return -1;
    }
    /* warnings only once the input is known good: a refused input gets one error line */
    for (size_t c = 0; c < M; c++)
        if (ch[c].warning)
            fprintf(stderr, "bnnmc: warning: %s\n", ch[c].warning);
    size_t N = common_length(ch, M);
    sampler_health(ch, M, out);
    double *x = malloc(k * M * N * sizeof *x);
    unsigned char *bad = calloc(k, 1);
    out->names = malloc(k * sizeof *out->names);
    out->s = malloc(k * sizeof *out->s);
    if (!x || !bad || !out->names || !out->s) {
        set_error(err, errlen, "out of memory");
        free(x);
        free(bad);
        free(cols);
        summary_set_free(out);
        return -1;
    }
    for (size_t q = 0; q < k; q++) {
        out->names[q] = ch[0].names[cols[q]];
        for (size_t c = 0; c < M; c++)
            for (size_t i = 0; i < N; i++) {
                double v = ch[c].v[i * ncol + cols[q]];
                bad[q] |= !isfinite(v);
                x[(q * M + c) * N + i] = v;
            }
    }
    bnn_status st = bnn_summarise_many(x, k, M, N, threads, out->s);
    out->k = k;
    if (!st)
        blank_nonfinite(out, bad);
    free(x);
    free(bad);
    free(cols);
    if (st) {
        summary_set_free(out);
        set_error(err, errlen, "%s", bnn_status_str(st));
        return -1;
    }
    out->M = M;
    out->N = N;
    for (size_t c = 0; c < M; c++)
        out->partial |= ch[c].status != NULL;
    /* CmdStan writes NUTS as algorithm = hmc, engine = nuts: name the engine then */
    out->algorithm = ch[0].algorithm;
    if (ch[0].algorithm && ch[0].engine && strcmp(ch[0].algorithm, "hmc") == 0 &&
        strcmp(ch[0].engine, "static") != 0)
        out->algorithm = ch[0].engine;
    return 0;
}


typedef struct {
    double rhat;
    size_t j;                 /* the column */
} rhat_key;

/* By R-hat, worst first, NaN last, then by column: a total order. */
static int by_rhat(const void *a, const void *b)
{
    const rhat_key *p = a, *q = b;
    double x = p->rhat, y = q->rhat;
    if (isnan(x) != isnan(y))
        return isnan(x) ? 1 : -1;
    if (x != y)
        return x < y ? 1 : -1;
    return (p->j > q->j) - (p->j < q->j);
}

/* Order of display: lp__ first, then by R-hat, worst first (NaN last). */
static size_t *display_order(const summary_set *s)
{
    rhat_key *keys = malloc((s->k + 1) * sizeof *keys);
    size_t *o = malloc((s->k + 1) * sizeof *o), n = 0, lp = SIZE_MAX;
    if (!keys || !o)
        die_runtime("out of memory");
    for (size_t j = 0; j < s->k; j++) {
        if (strcmp(s->names[j], "lp__") == 0)
            lp = j;
        else
            keys[n++] = (rhat_key){s->s[j].rhat, j};
    }
    qsort(keys, n, sizeof *keys, by_rhat);
    size_t at = 0;
    if (lp != SIZE_MAX)
        o[at++] = lp;
    for (size_t i = 0; i < n; i++)
        o[at++] = keys[i].j;
    free(keys);
    return o;
}

static void print_num(double v, int width, int prec)
{
    if (isnan(v))
        printf(" %*s", width, "NA");
    else if (v != 0 && (fabs(v) >= 1e6 || fabs(v) < 1e-3))
        printf(" %*.*e", width, 2, v);
    else
        printf(" %*.*f", width, prec, v);
}

void print_table(const summary_set *s, size_t limit)
{
    size_t w = 8;
    for (size_t j = 0; j < s->k; j++)
        w = strlen(s->names[j]) > w ? strlen(s->names[j]) : w;
    printf("%-*s %9s %9s %9s %9s %9s %9s %8s %8s %7s %7s\n", (int)w, "name", "mean", "sd", "5%",
           "50%", "95%", "mcse", "ess_bulk", "ess_tail", "rhat", "rhat_gr");
    size_t *o = display_order(s);
    for (size_t r = 0; r < s->k && r < limit; r++) {
        const bnn_summary *x = &s->s[o[r]];
        printf("%-*s", (int)w, s->names[o[r]]);
        print_num(x->mean, 9, 4);
        print_num(x->sd, 9, 4);
        print_num(x->q5, 9, 4);
        print_num(x->q50, 9, 4);
        print_num(x->q95, 9, 4);
        print_num(x->mcse_mean, 9, 4);
        print_num(x->ess_bulk, 8, 0);
        print_num(x->ess_tail, 8, 0);
        print_num(x->rhat, 7, 3);
        print_num(x->rhat_gr, 7, 3);
        printf("\n");
    }
    if (limit < s->k)
        printf("... %zu more (the worst are shown; --all lists every one)\n", s->k - limit);
    free(o);
}

void count_bad(const summary_set *s, size_t *params, size_t *rhat_bad, size_t *ess_bad)
{
    *params = *rhat_bad = *ess_bad = 0;
    for (size_t j = 0; j < s->k; j++) {
        if (strcmp(s->names[j], "lp__") == 0)
            continue;
        (*params)++;
        *rhat_bad += !(s->s[j].rhat <= 1.01);
        *ess_bad += !(s->s[j].ess_bulk >= 100.0 * (double)s->M) ||
                    !(s->s[j].ess_tail >= 100.0 * (double)s->M);
    }
}

cJSON *summary_json(const summary_set *s)
{
    cJSON *arr = cJSON_CreateArray();
    size_t *o = display_order(s);
    for (size_t r = 0; r < s->k; r++) {
        const bnn_summary *x = &s->s[o[r]];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", s->names[o[r]]);
        const char *keys[] = {"mean", "sd", "q5", "q50", "q95", "mcse_mean", "ess_bulk",
                              "ess_tail", "rhat", "rhat_gr", "mcse_sd", "mcse_q5", "mcse_q50",
                              "mcse_q95", "ess_basic", "rhat_basic"};
        double v[] = {x->mean, x->sd, x->q5, x->q50, x->q95, x->mcse_mean, x->ess_bulk,
                      x->ess_tail, x->rhat, x->rhat_gr, x->mcse_sd, x->mcse_q5, x->mcse_q50,
                      x->mcse_q95, x->ess_basic, x->rhat_basic};
        for (int c = 0; c < 16; c++)
            cJSON_AddItemToObject(e, keys[c], isnan(v[c]) ? cJSON_CreateNull() : cJSON_CreateNumber(v[c]));
        cJSON_AddItemToArray(arr, e);
    }
    free(o);
    return arr;
}

void print_json(const cJSON *root)
{
    char *t = cJSON_Print(root);
    if (t) {
        puts(t);
        cJSON_free(t);
    }
}
