/* summary.c — `bnnmc summary DIR` and `bnnmc diagnose FILE.csv...`: R-hat, ESS and MCSE
 * of every parameter (and lp__) from CmdStan-format draws, the worst first, with a verdict. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "cli.h"

int write_summary_csv(const char *path, char **names, const bnn_summary *s, size_t k)
{
    char tmp[4200] = "";
    if (path)   /* NULL: stdout, for diagnose --csv */
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = path ? fopen(tmp, "w") : stdout;
    if (!f)
        return -1;
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
    if (!path)
        return ferror(f) ? -1 : 0;
    if (fclose(f) != 0)
        return -1;
    return rename(tmp, path);
}

/* The draws of several chain files, summarised per reported column. */
typedef struct {
    size_t M, N;              /* chains, draws per chain (the shortest chain's) */
    size_t k;                 /* summarised columns */
    char **names;             /* borrowed from chains[0] */
    bnn_summary *s;
    size_t divergent;         /* sum of divergent__ when present */
    size_t depth_hits;        /* draws whose treedepth__ reached the limit (NUTS) */
    size_t draws;             /* all draws of all chains */
    size_t warmup;            /* warm-up rows left out, all chains */
    int max_depth, has_trees, has_energy;
    double *ebfmi;            /* per chain, NaN without energy__ */
    int partial;
    const char *algorithm;
} summary_set;

static void summary_set_free(summary_set *s)
{
    free(s->names);
    free(s->s);
    free(s->ebfmi);
    s->names = NULL;
    s->s = NULL;
    s->ebfmi = NULL;
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

static void print_health(const summary_set *s)
{
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
            snprintf(err, errlen, "%s: %zu columns, %s has %zu", ch[c].path, ch[c].ncol,
                     ch[0].path, ch[0].ncol);
            return -1;
        }
        for (size_t j = 0; j < ch[0].ncol; j++)
            if (strcmp(ch[c].names[j], ch[0].names[j]) != 0) {
                snprintf(err, errlen, "%s: column %zu is '%.60s' where %s has '%.60s'", ch[c].path,
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

/* Summarises lp__ and every column whose name does not end in "__". */
static int summarise_chains(stan_csv *ch, size_t M, int threads, summary_set *out, char *err,
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
            snprintf(err, errlen, "%s: %zu draws%s: too few to diagnose (4 needed)", ch[c].path,
                     ch[c].nrow, after);
            return -1;
        }
    }
    size_t *cols = malloc(ncol * sizeof *cols), k = 0;
    if (!cols) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t j = 0; j < ncol; j++) {
        const char *nm = ch[0].names[j];
        size_t l = strlen(nm);
        if (strcmp(nm, "lp__") == 0 || l < 2 || strcmp(nm + l - 2, "__") != 0)
            cols[k++] = j;
    }
    if (k == 0) {
        snprintf(err, errlen, "%s: no parameter columns, only sampler columns (names ending in __)",
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
        snprintf(err, errlen, "out of memory");
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
        snprintf(err, errlen, "%s", bnn_status_str(st));
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


/* Order of display: lp__ first, then by R-hat, worst first (NaN last). */
static const summary_set *sort_set;

static int by_rhat(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    double x = sort_set->s[i].rhat, y = sort_set->s[j].rhat;
    if (isnan(x) != isnan(y))
        return isnan(x) ? 1 : -1;
    if (x != y)
        return x < y ? 1 : -1;
    return (i > j) - (i < j);
}

static size_t *display_order(const summary_set *s)
{
    size_t *o = malloc(s->k * sizeof *o), n = 0, lp = SIZE_MAX;
    for (size_t j = 0; j < s->k; j++) {
        if (strcmp(s->names[j], "lp__") == 0)
            lp = j;
        else
            o[n++] = j;
    }
    sort_set = s;
    qsort(o, n, sizeof *o, by_rhat);
    if (lp != SIZE_MAX) {
        memmove(o + 1, o, n * sizeof *o);
        o[0] = lp;
    }
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

static void print_table(const summary_set *s, size_t limit)
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

/* Counts parameters (not lp__) over the thresholds of Stan: R-hat > 1.01, bulk or tail
 * ESS < 100 per chain. */
static void count_bad(const summary_set *s, size_t *params, size_t *rhat_bad, size_t *ess_bad)
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

static cJSON *summary_json(const summary_set *s)
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

static void print_json(cJSON *root)
{
    char *t = cJSON_Print(root);
    if (t) {
        puts(t);
        cJSON_free(t);
    }
}

static int read_chains(char **paths, size_t M, stan_csv *ch)
{
    char err[512];
    for (size_t c = 0; c < M; c++)
        if (stan_csv_read(paths[c], &ch[c], err, sizeof err) != 0) {
            fprintf(stderr, "bnnmc: %s\n", err);
            for (size_t d = 0; d < c; d++)
                stan_csv_free(&ch[d]);
            return -1;
        }
    return 0;
}

static int threads_default(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* ------------------------------------------------------------ diagnose */

static const char diagnose_usage[] =
    "usage: bnnmc diagnose FILE.csv... [--csv] [--json] [--all]\n"
    "\n"
    "R-hat (rank-normalised split, and the study's Gelman-Rubin), bulk and tail ESS and\n"
    "MCSE of every column of CmdStan-format CSV files, one file per chain: bnnmc's\n"
    "chain-N.csv or Stan's own output. The worst parameters are listed first.\n"
    "  --csv    print the columns of summary.csv instead of a table\n"
    "  --json   print JSON (also the MCSE of sd and of the 5/50/95% quantiles, basic ESS\n"
    "           and split R-hat)\n"
    "  --all    list every parameter (default: the 25 worst)\n";

int cmd_diagnose(int argc, char **argv)
{
    static const struct option longopts[] = {{"csv", no_argument, 0, 'c'}, {"json", no_argument, 0, 'j'},
                                              {"all", no_argument, 0, 'a'}, {"help", no_argument, 0, 'h'},
                                              {0, 0, 0, 0}};
    int csv = 0, json = 0, all = 0, c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': csv = 1; break;
        case 'j': json = 1; break;
        case 'a': all = 1; break;
        case 'h': fputs(diagnose_usage, stdout); return 0;
        default: die_usage("diagnose", "unknown option '%s'", argv[optind - 1]);
        }
    }
    size_t M = (size_t)(argc - optind);
    if (M == 0)
        die_usage("diagnose", "give one CSV file per chain");
    stan_csv *ch = calloc(M, sizeof *ch);
    if (!ch || read_chains(argv + optind, M, ch) != 0) {
        free(ch);
        return EXIT_USAGE;
    }
    summary_set s;
    char err[512];
    if (summarise_chains(ch, M, threads_default(), &s, err, sizeof err) != 0) {
        fprintf(stderr, "bnnmc diagnose: %s\n", err);
        summary_set_free(&s);
        for (size_t i = 0; i < M; i++)
            stan_csv_free(&ch[i]);
        free(ch);
        return EXIT_USAGE;
    }
    size_t params, rb, eb;
    count_bad(&s, &params, &rb, &eb);
    if (csv) {
        write_summary_csv(NULL, s.names, s.s, s.k);
    } else if (json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddNumberToObject(root, "chains", (double)s.M);
        cJSON_AddNumberToObject(root, "draws_per_chain", (double)s.N);
        cJSON_AddNumberToObject(root, "warmup_draws_left_out", (double)s.warmup);
        cJSON_AddNumberToObject(root, "divergent", (double)s.divergent);
        cJSON_AddNumberToObject(root, "max_treedepth_hits", (double)s.depth_hits);
        if (s.has_energy) {
            cJSON *arr = cJSON_AddArrayToObject(root, "ebfmi");
            for (size_t i = 0; arr && i < s.M; i++)
                cJSON_AddItemToArray(arr, isnan(s.ebfmi[i]) ? cJSON_CreateNull() : cJSON_CreateNumber(s.ebfmi[i]));
        }
        cJSON_AddNumberToObject(root, "parameters_rhat_above_1_01", (double)rb);
        cJSON_AddNumberToObject(root, "parameters_ess_below_100_per_chain", (double)eb);
        cJSON_AddItemToObject(root, "parameters", summary_json(&s));
        print_json(root);
        cJSON_Delete(root);
    } else {
        printf("%zu chains x %zu draws%s", s.M, s.N, s.partial ? " (a PARTIAL run)" : "");
        if (s.warmup)
            printf(" after warm-up (%zu warm-up rows left out)", s.warmup);
        printf("\n\n");
        print_table(&s, all ? s.k : 25);
        printf("\n");
        print_health(&s);
        printf("%zu of %zu parameters have R-hat > 1.01; %zu have bulk or tail ESS below 100 per "
               "chain.\n", rb, params, eb);
    }
    summary_set_free(&s);
    for (size_t i = 0; i < M; i++)
        stan_csv_free(&ch[i]);
    free(ch);
    return 0;
}

/* ------------------------------------------------------------ summary of a run folder */

static const char summary_usage[] =
    "usage: bnnmc summary DIR [--json] [--all]\n"
    "\n"
    "Diagnostics and metrics of a finished (or partial) run: per parameter R-hat\n"
    "(rank-normalised split, and the study's Gelman-Rubin), bulk/tail ESS and MCSE, the worst\n"
    "first; the R-hat and ESS of the predictions; the run's metrics; a one-line verdict.\n"
    "  --json   print JSON\n"
    "  --all    list every parameter (default: the 25 worst)\n";

/* "test.rmse_mean": a metric of one block of metrics.json (checked by run_folder_load). */
static double metric(run_folder *r, const char *block, const char *key)
{
    char k[64];
    snprintf(k, sizeof k, "%s.%s", block, key);
    return run_json_metric(&r->metrics, k);
}

/* Per predicted data set: the fit and the R-hat of the predictions. */
static void print_metrics(run_folder *r)
{
    static const char *const blocks[2] = {"train", "test"};
    for (int b = 0; b < 2; b++) {
        if (!r->has_pred[b])
            continue;
        const char *o = blocks[b];
        if (r->spec.task == BNN_TASK_REGRESSION)
            printf("%-5s RMSE %.4f +- %.4f over draws, %.4f of the posterior mean, 95%% coverage "
                   "%.0f%%, lpd %.3f\n", o, metric(r, o, "rmse_mean"), metric(r, o, "rmse_std"),
                   metric(r, o, "rmse_of_mean"), 100 * metric(r, o, "coverage95"), metric(r, o, "lpd"));
        else
            printf("%-5s accuracy %.2f%% +- %.2f over draws, %.2f%% of the posterior mean, lpd "
                   "%.3f\n", o, metric(r, o, "accuracy_mean"), metric(r, o, "accuracy_std"),
                   metric(r, o, "accuracy_of_mean"), metric(r, o, "lpd"));
        printf("      predictions: R-hat max %.3f, median %.3f, %.0f%% of %.0f rows above 1.01; "
               "min bulk ESS %.0f\n", metric(r, o, "pred_rhat_max"), metric(r, o, "pred_rhat_median"),
               100 * metric(r, o, "pred_rhat_share_above_1_01"), metric(r, o, "rows"),
               metric(r, o, "pred_ess_bulk_min"));
    }
}

int cmd_summary(int argc, char **argv)
{
    static const struct option longopts[] = {{"json", no_argument, 0, 'j'}, {"all", no_argument, 0, 'a'},
                                              {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int json = 0, all = 0, c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'a': all = 1; break;
        case 'h': fputs(summary_usage, stdout); return 0;
        default: die_usage("summary", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind + 1 != argc)
        die_usage("summary", optind == argc ? "the run folder DIR is required" : "give one run folder");
    const char *dir = argv[optind];
    run_folder r;
    summary_set s;
    char err[RUN_ERR_LEN];
    if (run_folder_load(&r, dir, err, sizeof err) != 0) {
        fprintf(stderr, "bnnmc summary: %s\n", err);
        return EXIT_USAGE;
    }
    if (summarise_chains(r.chain, r.chains, threads_default(), &s, err, sizeof err) != 0) {
        fprintf(stderr, "bnnmc summary: %s: %s\n", dir, err);
        summary_set_free(&s);
        run_folder_free(&r);
        return EXIT_USAGE;
    }
    size_t params, rb, eb;
    count_bad(&s, &params, &rb, &eb);
    int is_nn = r.spec.n_hidden > 0;
    if (json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "run", dir);
        cJSON_AddNumberToObject(root, "chains", (double)s.M);
        cJSON_AddNumberToObject(root, "draws_per_chain", (double)s.N);
        cJSON_AddBoolToObject(root, "partial", s.partial);
        cJSON_AddNumberToObject(root, "parameters_rhat_above_1_01", (double)rb);
        cJSON_AddNumberToObject(root, "parameters_ess_below_100_per_chain", (double)eb);
        cJSON_AddNumberToObject(root, "divergent", (double)s.divergent);
        cJSON_AddNumberToObject(root, "max_treedepth_hits", (double)s.depth_hits);
        cJSON_AddItemToObject(root, "parameters", summary_json(&s));
        cJSON_AddItemToObject(root, "metrics", cJSON_Duplicate(r.metrics.root, 1));
        print_json(root);
        cJSON_Delete(root);
    } else {
        printf("bnnmc summary of %s: %zu chains x %zu draws%s%s%s\n\n", dir, s.M, s.N,
               s.algorithm ? ", sampler " : "", s.algorithm ? s.algorithm : "",
               s.partial ? " (a PARTIAL run: stopped early)" : "");
        print_table(&s, all ? s.k : 25);
        printf("\n");
        print_metrics(&r);
        print_health(&s);
        /* the verdict on the predictions: of the test rows, or the training rows without */
        const char *te = r.has_pred[1] ? "test" : r.has_pred[0] ? "train" : NULL;
        printf("\nverdict: %zu of %zu parameters have R-hat > 1.01, %zu have bulk or tail ESS below "
               "100 per chain", rb, params, eb);
        if (te)
            printf("; %.0f of %.0f %s predictions have R-hat > 1.01",
                   round(metric(&r, te, "pred_rhat_share_above_1_01") * metric(&r, te, "rows")),
                   metric(&r, te, "rows"), te);
        printf(".\n");
        if (is_nn)
            printf("note: a network's weights are not identifiable (hidden units can swap places, "
                   "signs can flip),\nso their R-hat stays high even when the chains agree on "
                   "everything that matters; the R-hat\nof the predictions is the diagnostic that "
                   "means something for a network.\n");
    }
    summary_set_free(&s);
    run_folder_free(&r);
    return 0;
}
