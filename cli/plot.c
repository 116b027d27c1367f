/* plot.c — `bnnmc plot DIR`: trace, posterior, prediction and R-hat/ESS figures, drawn by
 * gnuplot (Debian gnuplot-nox) as PNG for viewing and SVG for papers.
 *
 * bnnmc computes every plotted number itself and writes it to DIR/plots/data/ (a .dat file
 * per panel); a
 * gnuplot script per figure (a .gp file beside each figure, kept so it can be restyled by
 * hand) only draws those files. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

enum { WIDTH = 1200, HEIGHT = 800, MAX_PARAMS = 6, BINS = 40 };

/* A CSV with a header; non-numbers (NA, names) become NaN. names[0] keeps column 1's text. */
typedef struct {
    size_t nrow, ncol;
    char **head;
    char **first;           /* column 1 as text (parameter names) */
    double *v;              /* nrow x ncol */
} table_csv;

static void tcsv_free(table_csv *t)
{
    for (size_t j = 0; j < t->ncol; j++)
        free(t->head[j]);
    for (size_t i = 0; i < t->nrow; i++)
        free(t->first[i]);
    free(t->head);
    free(t->first);
    free(t->v);
    memset(t, 0, sizeof *t);
}

static int tcsv_read(const char *path, table_csv *t)
{
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0, rcap = 0;
    while (getline(&line, &cap, f) != -1) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!t->head) {
            t->ncol = 1;
            for (char *q = line; *q; q++)
                t->ncol += *q == ',';
            t->head = calloc(t->ncol, sizeof *t->head);
            size_t j = 0;
            for (char *tok = strtok(line, ","); tok && j < t->ncol; tok = strtok(NULL, ","))
                t->head[j++] = strdup(tok);
            continue;
        }
        if (t->nrow == rcap) {
            rcap = rcap ? 2 * rcap : 256;
            t->v = realloc(t->v, rcap * t->ncol * sizeof *t->v);
            t->first = realloc(t->first, rcap * sizeof *t->first);
        }
        char *q = line;
        for (size_t j = 0; j < t->ncol; j++) {
            size_t n = strcspn(q, ",");
            char save = q[n];
            q[n] = '\0';
            char *end;
            double x = strtod(q, &end);
            t->v[t->nrow * t->ncol + j] = end == q || *end ? NAN : x;
            if (j == 0)
                t->first[t->nrow] = strdup(q);
            q += n + (save != '\0');
        }
        t->nrow++;
    }
    free(line);
    fclose(f);
    return t->head ? 0 : -1;
}

static int tcsv_col(const table_csv *t, const char *name)
{
    for (size_t j = 0; j < t->ncol; j++)
        if (strcmp(t->head[j], name) == 0)
            return (int)j;
    return -1;
}

static FILE *open_out(const char *dir, const char *name)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (!f)
        die_runtime("%s: cannot write: %s", p, strerror(errno));
    return f;
}

/* Runs gnuplot on script body twice: PNG then SVG of the same figure. */
static void render(const char *pdir, const char *name, const char *body)
{
    for (int svg = 0; svg < 2; svg++) {
        char gp[4096], cmd[8400];
        snprintf(gp, sizeof gp, "%s/%s%s.gp", pdir, name, svg ? "-svg" : "");
        FILE *f = fopen(gp, "w");
        if (!f)
            die_runtime("%s: cannot write: %s", gp, strerror(errno));
        if (svg)
            fprintf(f, "set terminal svg size %d,%d font 'Sans,12' background rgb 'white'\n", WIDTH, HEIGHT);
        else
            fprintf(f, "set terminal pngcairo size %d,%d font 'Sans,10' background rgb 'white'\n", WIDTH, HEIGHT);
        fprintf(f, "set output '%s/%s.%s'\ncd '%s/data'\n", pdir, name, svg ? "svg" : "png", pdir);
        fputs(body, f);
        fputs("unset multiplot\nset output\n", f);
        fclose(f);
        snprintf(cmd, sizeof cmd, "gnuplot '%s' 2>'%s/gnuplot.log'", gp, pdir);
        if (system(cmd) != 0)
            die_runtime("gnuplot failed on %s (see %s/gnuplot.log)", gp, pdir);
        if (svg)
            unlink(gp);   /* the PNG script is the one kept; it differs only in its terminal */
    }
}

static const char *colours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                "#8c564b", "#e377c2", "#17becf"};

/* ------------------------------------------------------------ trace and posterior */

static void plot_draws(const char *pdir, stan_csv *ch, size_t M, char **params, size_t np,
                       const table_csv *sum)
{
    size_t N = ch[0].nrow;
    for (size_t c = 1; c < M; c++)
        N = ch[c].nrow < N ? ch[c].nrow : N;
    char body[65536];
    size_t len = 0;
    int rows = (int)np;
    len += (size_t)snprintf(body + len, sizeof body - len,
                            "set multiplot layout %d,1 title 'Trace plots (%zu chains x %zu draws, after burn-in)'\n"
                            "set key outside right top\nset xlabel ''\nset grid\n"
                            "set lmargin 12\nset rmargin 16\nset format y '%%.3g'\n", rows, M, N);
    char hbody[65536];
    size_t hlen = 0;
    int hcols = np > 3 ? 3 : (int)np, hrows = (int)((np + 2) / 3);
    hlen += (size_t)snprintf(hbody + hlen, sizeof hbody - hlen,
                             "set multiplot layout %d,%d title 'Posterior densities by chain (histograms, %d bins)'\n"
                             "set grid\nset key top right\nset style fill transparent solid 0.25 noborder\n"
                             "set xtics rotate by 25 right\nset format x '%%.3g'\n",
                             hrows, hcols, BINS);
    for (size_t k = 0; k < np; k++) {
        int j = -1;
        for (size_t q = 0; q < ch[0].ncol; q++)
            if (strcmp(ch[0].names[q], params[k]) == 0)
                j = (int)q;
        double rhat = NAN;
        for (size_t r = 0; r < sum->nrow; r++)
            if (strcmp(sum->first[r], params[k]) == 0)
                rhat = sum->v[r * sum->ncol + (size_t)tcsv_col(sum, "rhat")];
        char fn[64];
        snprintf(fn, sizeof fn, "data/trace-%zu.dat", k + 1);
        FILE *f = open_out(pdir, fn);
        fprintf(f, "# draw");
        for (size_t c = 0; c < M; c++)
            fprintf(f, " chain%zu", c + 1);
        fprintf(f, "\n");
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < N; i++) {
            fprintf(f, "%zu", i + 1);
            for (size_t c = 0; c < M; c++) {
                double x = ch[c].v[i * ch[c].ncol + (size_t)j];
                fprintf(f, " %.9g", x);
                lo = fmin(lo, x);
                hi = fmax(hi, x);
            }
            fprintf(f, "\n");
        }
        fclose(f);
        /* histograms per chain, as densities so chains of any length compare */
        snprintf(fn, sizeof fn, "data/hist-%zu.dat", k + 1);
        f = open_out(pdir, fn);
        double w = hi > lo ? (hi - lo) / BINS : 1.0;
        fprintf(f, "# bin_centre");
        for (size_t c = 0; c < M; c++)
            fprintf(f, " density_chain%zu", c + 1);
        fprintf(f, "\n");
        double *cnt = calloc(M * BINS, sizeof *cnt);
        for (size_t c = 0; c < M; c++)
            for (size_t i = 0; i < N; i++) {
                double x = ch[c].v[i * ch[c].ncol + (size_t)j];
                int b = (int)((x - lo) / w);
                b = b < 0 ? 0 : (b >= BINS ? BINS - 1 : b);
                cnt[c * BINS + (size_t)b] += 1.0 / ((double)N * w);
            }
        for (int b = 0; b < BINS; b++) {
            fprintf(f, "%.9g", lo + (b + 0.5) * w);
            for (size_t c = 0; c < M; c++)
                fprintf(f, " %.9g", cnt[c * BINS + (size_t)b]);
            fprintf(f, "\n");
        }
        free(cnt);
        fclose(f);
        char title[160];
        if (isnan(rhat))
            snprintf(title, sizeof title, "%s", params[k]);
        else
            snprintf(title, sizeof title, "%s   (R-hat %.3f)", params[k], rhat);
        if (isnan(rhat))
            len += (size_t)snprintf(body + len, sizeof body - len, "set ylabel '%s'\n", params[k]);
        else
            len += (size_t)snprintf(body + len, sizeof body - len, "set ylabel \"%s\\nR-hat %.3f\"\n",
                                    params[k], rhat);
        len += (size_t)snprintf(body + len, sizeof body - len, "%s\nplot ",
                                k + 1 == np ? "set xlabel 'draw (after burn-in)'" : "");
        hlen += (size_t)snprintf(hbody + hlen, sizeof hbody - hlen,
                                 "set title '%s'\nset xlabel 'value'\nset ylabel 'density'\nplot ", title);
        for (size_t c = 0; c < M; c++) {
            const char *col = colours[c % 8];
            len += (size_t)snprintf(body + len, sizeof body - len,
                                    "%s'trace-%zu.dat' using 1:%zu with lines lw 1 lc rgb '%s' %s", c ? ", " : "",
                                    k + 1, c + 2, col, k == 0 ? "" : "notitle");
            if (k == 0)
                len += (size_t)snprintf(body + len, sizeof body - len, "title 'chain %zu'", c + 1);
            hlen += (size_t)snprintf(hbody + hlen, sizeof hbody - hlen,
                                     "%s'hist-%zu.dat' using 1:%zu with fillsteps lc rgb '%s' title 'chain %zu'",
                                     c ? ", " : "", k + 1, c + 2, col, c + 1);
        }
        len += (size_t)snprintf(body + len, sizeof body - len, "\n");
        hlen += (size_t)snprintf(hbody + hlen, sizeof hbody - hlen, "\nunset key\n");
    }
    render(pdir, "trace", body);
    render(pdir, "posterior", hbody);
}

/* ------------------------------------------------------------ predictions */

/* Rows as the plot shows them: in file order for short tables (a time series reads left
 * to right), sorted by the predicted mean for long ones, where a row-order band is a
 * thicket and the sorted one shows fit and calibration at a glance. Returns 1 if sorted. */
static const table_csv *sort_rows;
static int sort_col;

static int by_mean(const void *a, const void *b)
{
    double x = sort_rows->v[*(const size_t *)a * sort_rows->ncol + (size_t)sort_col];
    double y = sort_rows->v[*(const size_t *)b * sort_rows->ncol + (size_t)sort_col];
    return (x > y) - (x < y);
}

static int regression_preds(const char *pdir, const char *name, const table_csv *p)
{
    char fn[64];
    snprintf(fn, sizeof fn, "data/pred-%s.dat", name);
    FILE *f = open_out(pdir, fn);
    int io = tcsv_col(p, "observed"), im = tcsv_col(p, "mean"), il = tcsv_col(p, "q2.5"),
        ih = tcsv_col(p, "q97.5");
    size_t *order = malloc(p->nrow * sizeof *order);
    for (size_t i = 0; i < p->nrow; i++)
        order[i] = i;
    int sorted = p->nrow > 400;
    if (sorted) {
        sort_rows = p;
        sort_col = im;
        qsort(order, p->nrow, sizeof *order, by_mean);
    }
    fprintf(f, "# position row mean q2.5 q97.5 observed\n");
    for (size_t k = 0; k < p->nrow; k++) {
        const double *r = p->v + order[k] * p->ncol;
        fprintf(f, "%zu %zu %.9g %.9g %.9g %.9g\n", k + 1, order[k] + 1, r[im], r[il], r[ih], r[io]);
    }
    free(order);
    fclose(f);
    return sorted;
}

/* Reliability: rows binned by the predicted class's probability; per bin the mean
 * probability and the share of rows whose predicted class is right. And accuracy per
 * observed class. */
static void classification_preds(const char *pdir, const char *name, const table_csv *p)
{
    int io = tcsv_col(p, "observed"), ip = tcsv_col(p, "predicted");
    int K = 0;
    while (tcsv_col(p, (char[8]){'p', (char)('0' + K), 0}) >= 0 && K < 10)
        K++;
    enum { RB = 10 };
    double conf[RB] = {0}, acc[RB] = {0}, cnt[RB] = {0};
    double *right = calloc((size_t)K + 1, sizeof *right), *tot = calloc((size_t)K + 1, sizeof *tot);
    for (size_t i = 0; i < p->nrow; i++) {
        const double *r = p->v + i * p->ncol;
        int pred = (int)r[ip];
        double pm = r[tcsv_col(p, (char[8]){'p', (char)('0' + pred), 0})];
        int b = (int)(pm * RB);
        b = b >= RB ? RB - 1 : b;
        int ok = !isnan(r[io]) && (int)r[io] == pred;
        conf[b] += pm;
        acc[b] += ok;
        cnt[b] += 1;
        if (!isnan(r[io]) && (int)r[io] < K) {
            tot[(int)r[io]] += 1;
            right[(int)r[io]] += ok;
        }
    }
    char fn[64];
    snprintf(fn, sizeof fn, "data/reliability-%s.dat", name);
    FILE *f = open_out(pdir, fn);
    fprintf(f, "# bin mean_probability observed_accuracy rows\n");
    for (int b = 0; b < RB; b++)
        if (cnt[b] > 0)
            fprintf(f, "%d %.6g %.6g %.0f\n", b, conf[b] / cnt[b], acc[b] / cnt[b], cnt[b]);
    fclose(f);
    snprintf(fn, sizeof fn, "data/class-accuracy-%s.dat", name);
    f = open_out(pdir, fn);
    fprintf(f, "# class accuracy_percent rows\n");
    for (int k = 0; k < K; k++)
        fprintf(f, "%d %.6g %.0f\n", k, tot[k] > 0 ? 100 * right[k] / tot[k] : 0, tot[k]);
    fclose(f);
    free(right);
    free(tot);
}

/* ------------------------------------------------------------ the command */

static const char plot_usage[] =
    "usage: bnnmc plot DIR [--params NAME,NAME,...]\n"
    "\n"
    "Draws the figures of a run into DIR/plots/, each as PNG and SVG:\n"
    "  trace        one panel per parameter, every chain in its own colour\n"
    "  posterior    histograms of the same parameters, chains overlaid\n"
    "  predictions  regression: observed values, posterior mean and 95% predictive band in\n"
    "               row order, train and test; classification: reliability diagram and\n"
    "               accuracy per class\n"
    "  rhat         R-hat and bulk ESS over parameters and over test predictions, with the\n"
    "               1.01 and 100-per-chain lines\n"
    "--params chooses the parameters (names as in summary.csv; default: the worst few by\n"
    "R-hat, and tau2). The plotted numbers are in DIR/plots/data/, the gnuplot scripts beside\n"
    "the figures. Needs gnuplot (Debian: apt-get install gnuplot-nox).\n";

int plot_run(const char *dir, const char *params_opt)
{
    if (system("command -v gnuplot >/dev/null 2>&1") != 0) {
        fprintf(stderr, "bnnmc plot: gnuplot is not installed; it draws the figures (Debian: "
                "apt-get install gnuplot-nox)\n");
        return EXIT_RUNTIME;
    }
    char path[4096], pdir[4096];
    table_csv sum;
    snprintf(path, sizeof path, "%s/summary.csv", dir);
    if (tcsv_read(path, &sum) != 0) {
        fprintf(stderr, "bnnmc plot: %s: cannot read (is %s a finished run folder?)\n", path, dir);
        return EXIT_USAGE;
    }
    snprintf(pdir, sizeof pdir, "%s/plots", dir);
    mkdir(pdir, 0777);
    snprintf(path, sizeof path, "%s/plots/data", dir);
    mkdir(path, 0777);
    /* chains */
    stan_csv ch[256];
    size_t M = 0;
    char err[512];
    for (; M < 256; M++) {
        snprintf(path, sizeof path, "%s/chain-%zu.csv", dir, M + 1);
        if (access(path, F_OK) != 0)
            break;
        if (stan_csv_read(path, &ch[M], err, sizeof err) != 0) {
            fprintf(stderr, "bnnmc plot: %s\n", err);
            return EXIT_USAGE;
        }
    }
    /* which parameters */
    char *params[MAX_PARAMS];
    size_t np = 0;
    int ir = tcsv_col(&sum, "rhat"), ie = tcsv_col(&sum, "ess_bulk");
    if (params_opt) {
        char buf[1024];
        snprintf(buf, sizeof buf, "%s", params_opt);
        for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
            int found = 0;
            for (size_t r = 0; r < sum.nrow; r++)
                found |= strcmp(sum.first[r], tok) == 0;
            if (!found)
                die_usage("plot", "--params: no parameter '%s' in %s/summary.csv", tok, dir);
            if (np == MAX_PARAMS)
                die_usage("plot", "--params: at most %d parameters", MAX_PARAMS);
            params[np++] = strdup(tok);
        }
    } else {
        int has_tau = 0;
        for (size_t r = 0; r < sum.nrow; r++)
            has_tau |= strcmp(sum.first[r], "tau2") == 0;
        size_t want = has_tau ? 3 : 4;
        char *used = calloc(sum.nrow, 1);
        while (np < want) {
            size_t best = SIZE_MAX;
            for (size_t r = 0; r < sum.nrow; r++) {
                if (used[r] || strcmp(sum.first[r], "lp__") == 0 || strcmp(sum.first[r], "tau2") == 0)
                    continue;
                double v = sum.v[r * sum.ncol + (size_t)ir];
                if (best == SIZE_MAX || v > sum.v[best * sum.ncol + (size_t)ir])
                    best = r;
            }
            if (best == SIZE_MAX)
                break;
            used[best] = 1;
            params[np++] = strdup(sum.first[best]);
        }
        free(used);
        if (has_tau)
            params[np++] = strdup("tau2");
    }
    plot_draws(pdir, ch, M, params, np, &sum);

    /* predictions */
    table_csv pr[2];
    const char *which[2] = {"train", "test"};
    int have[2], reg = 1;
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/pred-%s.csv", dir, which[k]);
        have[k] = tcsv_read(path, &pr[k]) == 0;
        if (have[k])
            reg = tcsv_col(&pr[k], "q2.5") >= 0;
    }
    char body[8192];
    size_t len = 0;
    int panels = have[0] + have[1];
    if (reg) {
        len += (size_t)snprintf(body + len, sizeof body - len,
                                "set multiplot layout %d,1\n"
                                "set grid\nset key outside top center horizontal\nset style fill solid 1.0 noborder\n", panels);
        for (int k = 0; k < 2; k++) {
            if (!have[k])
                continue;
            int sorted = regression_preds(pdir, which[k], &pr[k]);
            len += (size_t)snprintf(body + len, sizeof body - len,
                                    "set title 'Posterior predictive, %s data (%zu rows, %s)'\nset xlabel '%s'\nset ylabel 'target'\n"
                                    "set xrange [0:%zu]\n"
                                    "plot 'pred-%s.dat' using 1:4:5 with filledcurves lc rgb '#c6dbef' title '95%% predictive interval', "
                                    "'' using 1:3 with lines lw 1.5 lc rgb '#08519c' title 'posterior mean', "
                                    "'' using 1:6 with points pt 7 ps 0.45 lc rgb '#d62728' title 'observed'\n",
                                    which[k], pr[k].nrow, sorted ? "sorted by predicted mean" : "in row order",
                                    sorted ? "rows, sorted by predicted mean" : "row", pr[k].nrow + 1, which[k]);
        }
    } else {
        len += (size_t)snprintf(body + len, sizeof body - len,
                                "set multiplot layout 2,%d title 'Calibration and accuracy of the posterior-mean class probabilities'\n"
                                "set grid\nset key top left opaque box\nset style fill solid 0.6 border -1\n", panels);
        for (int k = 0; k < 2; k++) {
            if (!have[k])
                continue;
            classification_preds(pdir, which[k], &pr[k]);
            len += (size_t)snprintf(body + len, sizeof body - len,
                                    "set title 'Reliability, %s data'\nset xlabel 'predicted probability of the predicted class'\n"
                                    "set ylabel 'observed accuracy'\nset xrange [0:1]\nset yrange [0:1.05]\n"
                                    "plot x with lines dt 2 lc rgb 'gray40' title 'perfect calibration', "
                                    "'reliability-%s.dat' using 2:3 with linespoints pt 7 lw 2 lc rgb '#08519c' title 'bins of rows'\n",
                                    which[k], which[k]);
        }
        for (int k = 0; k < 2; k++) {
            if (!have[k])
                continue;
            len += (size_t)snprintf(body + len, sizeof body - len,
                                    "set title 'Accuracy per observed class, %s data'\nset xlabel 'class'\nset ylabel 'accuracy (%%)'\n"
                                    "set xrange [-0.6:*]\nset yrange [0:115]\nset ytics 0,20,100\nset boxwidth 0.6\nunset key\n"
                                    "plot 'class-accuracy-%s.dat' using 1:2:xtic(1) with boxes lc rgb '#6baed6', "
                                    "'' using 1:($2 + 4):(sprintf('%%.0f rows', $3)) with labels\nset key\nset xrange [*:*]\nset yrange [*:*]\n",
                                    which[k], which[k]);
        }
    }
    if (panels)
        render(pdir, "predictions", body);

    /* R-hat and ESS overview */
    FILE *f = open_out(pdir, "data/rhat-params.dat");
    fprintf(f, "# parameter rhat ess_bulk\n");
    for (size_t r = 0; r < sum.nrow; r++)
        if (strcmp(sum.first[r], "lp__") != 0)
            fprintf(f, "%s %.6g %.6g\n", sum.first[r], sum.v[r * sum.ncol + (size_t)ir],
                    sum.v[r * sum.ncol + (size_t)ie]);
    fclose(f);
    int pk = have[1] ? 1 : 0;
    f = open_out(pdir, "data/rhat-predictions.dat");
    fprintf(f, "# row rhat ess_bulk\n");
    if (have[pk]) {
        int pr_r = tcsv_col(&pr[pk], "rhat"), pr_e = tcsv_col(&pr[pk], "ess_bulk");
        for (size_t i = 0; i < pr[pk].nrow; i++)
            fprintf(f, "%zu %.6g %.6g\n", i + 1, pr[pk].v[i * pr[pk].ncol + (size_t)pr_r],
                    pr[pk].v[i * pr[pk].ncol + (size_t)pr_e]);
    }
    fclose(f);
    len = (size_t)snprintf(body, sizeof body,
                           "set multiplot layout 2,2 title 'Convergence: R-hat (want < 1.01) and bulk ESS (want > 100 per chain = %zu)'\n"
                           "set grid\nset style fill solid 0.6 border -1\nset key top right opaque box\n"
                           "binw(lo, hi) = (hi - lo) / 30.0\n"
                           "stats 'rhat-params.dat' using 2 nooutput name 'RP'\n"
                           "stats 'rhat-params.dat' using 3 nooutput name 'EP'\n", 100 * M);
    const char *sets[2][2] = {{"rhat-params.dat", "parameters"}, {"rhat-predictions.dat", which[pk]}};
    for (int q = 0; q < 2; q++) {
        if (q == 1)
            len += (size_t)snprintf(body + len, sizeof body - len,
                                    "stats '%s' using 2 nooutput name 'RP'\nstats '%s' using 3 nooutput name 'EP'\n",
                                    sets[1][0], sets[1][0]);
        len += (size_t)snprintf(body + len, sizeof body - len,
                                "set title 'R-hat over %s%s'\nset xlabel 'R-hat'\nset ylabel 'count'\n"
                                "lo = RP_min < 1.0 ? RP_min : 1.0\nhi = RP_max > 1.02 ? RP_max : 1.02\nw = binw(lo, hi)\n"
                                "set boxwidth w absolute\nset offsets 0, 0, graph 0.12, 0\n"
                                "set xrange [lo - w : hi + w]\nset arrow 1 from 1.01, graph 0 to 1.01, graph 1 nohead lw 2 lc rgb '#d62728'\n"
                                "plot '%s' using (w * floor($2 / w) + w / 2):(1) smooth frequency with boxes lc rgb '#6baed6' title sprintf('%%d values', RP_records), "
                                "NaN with lines lw 2 lc rgb '#d62728' title 'R-hat = 1.01'\nunset arrow 1\nset xrange [*:*]\n",
                                sets[q][1], q ? " predictions" : "", sets[q][0]);
        len += (size_t)snprintf(body + len, sizeof body - len,
                                "set title 'bulk ESS over %s%s'\nset xlabel 'bulk ESS'\nset ylabel 'count'\n"
                                "lo = 0\nhi = EP_max > %zu ? EP_max : %zu\nw = binw(lo, hi)\nset xrange [0 : hi + w]\n"
                                "set boxwidth w absolute\n"
                                "set arrow 2 from %zu, graph 0 to %zu, graph 1 nohead lw 2 lc rgb '#d62728'\n"
                                "plot '%s' using (w * floor($3 / w) + w / 2):(1) smooth frequency with boxes lc rgb '#74c476' title sprintf('%%d values', EP_records), "
                                "NaN with lines lw 2 lc rgb '#d62728' title '100 per chain'\nunset arrow 2\nset xrange [*:*]\n",
                                sets[q][1], q ? " predictions" : "", 200 * M, 200 * M, 100 * M, 100 * M, sets[q][0]);
    }
    render(pdir, "rhat", body);

    for (int k = 0; k < 2; k++)
        if (have[k])
            tcsv_free(&pr[k]);
    for (size_t k = 0; k < np; k++)
        free(params[k]);
    for (size_t c = 0; c < M; c++)
        stan_csv_free(&ch[c]);
    tcsv_free(&sum);
    return 0;
}

int cmd_plot(int argc, char **argv)
{
    static const struct option longopts[] = {{"params", required_argument, 0, 'p'},
                                              {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *params = NULL;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (c) {
        case 'p': params = optarg; break;
        case 'h': fputs(plot_usage, stdout); return 0;
        case ':': die_usage("plot", "%s needs a value", argv[optind - 1]);
        default: die_usage("plot", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind + 1 != argc)
        die_usage("plot", optind == argc ? "the run folder DIR is required" : "give one run folder");
    int rc = plot_run(argv[optind], params);
    if (rc == 0)
        fprintf(stderr, "bnnmc plot: trace, posterior, predictions and rhat (.png, .svg) in %s/plots/\n",
                argv[optind]);
    return rc;
}
