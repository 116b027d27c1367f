/* figures.c — a run's figures (`bnnmc plot DIR`, and `bnnmc demo` at its end): trace,
 * posterior, prediction and R-hat/ESS figures, drawn by gnuplot (Debian gnuplot-nox) as PNG
 * for viewing and SVG for papers.
 *
 * bnnmc computes every plotted number itself and writes it to DIR/plots/data/ (a .dat file
 * per panel); a gnuplot script per figure (a .gp file beside each figure, kept so it can be
 * restyled by hand) only draws those files. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "figures.h"
#include "rundir.h"
#include "util.h"

enum { WIDTH = 1200, HEIGHT = 800, MAX_PARAMS = 6, BINS = 40, KEY_CHAINS = 8 };

/* ------------------------------------------------------------ output files */

/* A gnuplot script, built in memory: open_memstream grows it as needed, so no figure (256
 * chains, 12 classes, ...) outgrows a buffer. */
typedef struct {
    char *text;
    size_t len;
    FILE *f;
} script;

static void script_open(script *s)
{
    s->text = NULL;
    s->len = 0;
    s->f = open_memstream(&s->text, &s->len);
    if (!s->f)
        die_runtime("out of memory for a gnuplot script");
}

/* Ends the script: its text is complete only after this. */
static void script_close(script *s)
{
    int bad = ferror(s->f);
    if (fclose(s->f) != 0 || bad)
        die_runtime("out of memory for a gnuplot script");
    s->f = NULL;
}

/* A file of DIR/plots/ being written (atomically, as every file of a run folder). */
typedef atomic_file out_file;

static void out_open(out_file *o, const char *pdir, const char *name)
{
    char path[4200];
    if (snprintf(path, sizeof path, "%s/%s", pdir, name) >= (int)sizeof path)
        die_runtime("%.200s...: the folder's name is too long", pdir);
    atomic_open_or_exit(o, path);
}

/* Runs gnuplot on the script twice: PNG then SVG of the same figure. Frees the script. */
static void render(const char *pdir, const char *name, script *s)
{
    for (int svg = 0; svg < 2; svg++) {
        char gp[4200], cmd[8600];
        out_file o;
        snprintf(gp, sizeof gp, "%s%s.gp", name, svg ? "-svg" : "");
        out_open(&o, pdir, gp);
        if (svg)
            fprintf(o.f, "set terminal svg size %d,%d font 'Sans,12' background rgb 'white'\n", WIDTH, HEIGHT);
        else
            fprintf(o.f, "set terminal pngcairo size %d,%d font 'Sans,10' background rgb 'white'\n", WIDTH, HEIGHT);
        fprintf(o.f, "set output '%s/%s.%s'\ncd '%s/data'\n", pdir, name, svg ? "svg" : "png", pdir);
        fwrite(s->text, 1, s->len, o.f);
        fputs("unset multiplot\nset output\n", o.f);
        atomic_close_or_exit(&o);
        snprintf(cmd, sizeof cmd, "gnuplot '%s' 2>'%s/gnuplot.log'", o.path, pdir);
        if (system(cmd) != 0)
            die_runtime("gnuplot failed on %s (see %s/gnuplot.log)", o.path, pdir);
        if (svg)
            unlink(o.path);   /* the PNG script is the one kept; it differs only in its terminal */
    }
    free(s->text);
    s->text = NULL;
}

static const char *colours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                "#8c564b", "#e377c2", "#17becf"};

/* The key names the first KEY_CHAINS chains; a longer list would crowd out the panels. */
static void chain_title(FILE *f, size_t c, size_t M)
{
    if (c < KEY_CHAINS)
        fprintf(f, " title 'chain %zu'", c + 1);
    else
        fputs(" notitle", f);
    if (c + 1 == M && M > KEY_CHAINS)
        fprintf(f, ", NaN with lines lc rgb 'white' title '+ %zu more chains'", M - KEY_CHAINS);
}

/* ------------------------------------------------------------ trace and posterior */

static int chain_column(const stan_csv *c, const char *name)
{
    for (size_t j = 0; j < c->ncol; j++)
        if (strcmp(c->names[j], name) == 0)
            return (int)j;
    return -1;
}

/* Warm-up rows every chain has (--save-warmup), 0 without. */
static size_t warm_rows(const run_folder *r)
{
    size_t w = r->chains ? r->chain[0].nwarmup : 0;
    for (size_t c = 1; c < r->chains; c++)
        w = r->chain[c].nwarmup < w ? r->chain[c].nwarmup : w;
    return w;
}

/* trace-K.dat: the warm-up rows (--save-warmup) and every draw of every chain of column j;
 * the range of the draws' finite values. */
static void write_trace(const char *pdir, const run_folder *r, size_t k, int j, double *lo,
                        double *hi)
{
    char fn[64];
    out_file o;
    snprintf(fn, sizeof fn, "data/trace-%zu.dat", k + 1);
    out_open(&o, pdir, fn);
    fprintf(o.f, "# draw");
    for (size_t c = 0; c < r->chains; c++)
        fprintf(o.f, " chain%zu", c + 1);
    fputc('\n', o.f);
    *lo = INFINITY;
    *hi = -INFINITY;
    size_t nw = warm_rows(r);
    for (size_t i = 0; i < nw; i++) {
        fprintf(o.f, "%zu", i + 1);
        for (size_t c = 0; c < r->chains; c++)
            fprintf(o.f, " %.9g", r->chain[c].vwarm[i * r->chain[c].ncol + (size_t)j]);
        fputc('\n', o.f);
    }
    for (size_t i = 0; i < r->draws; i++) {
        fprintf(o.f, "%zu", nw + i + 1);
        for (size_t c = 0; c < r->chains; c++) {
            double x = r->chain[c].v[i * r->chain[c].ncol + (size_t)j];
            fprintf(o.f, " %.9g", x);
            if (isfinite(x)) {
                *lo = fmin(*lo, x);
                *hi = fmax(*hi, x);
            }
        }
        fputc('\n', o.f);
    }
    atomic_close_or_exit(&o);
    if (!(*lo <= *hi))
        *lo = *hi = 0;   /* no finite draw: an empty histogram */
}

/* hist-K.dat: per chain a histogram of column j over [lo, hi], as densities so chains of
 * any length compare. */
static void write_hist(const char *pdir, const run_folder *r, size_t k, int j, double lo, double hi)
{
    size_t M = r->chains, N = r->draws;
    double w = hi > lo ? (hi - lo) / BINS : 1.0;
    double *cnt = calloc(M * BINS, sizeof *cnt);
    if (!cnt)
        die_runtime("out of memory");
    for (size_t c = 0; c < M; c++)
        for (size_t i = 0; i < N; i++) {
            double x = r->chain[c].v[i * r->chain[c].ncol + (size_t)j];
            if (!isfinite(x))
                continue;
            int b = (int)((x - lo) / w);
            b = b < 0 ? 0 : (b >= BINS ? BINS - 1 : b);
            cnt[c * BINS + (size_t)b] += 1.0 / ((double)N * w);
        }
    char fn[64];
    out_file o;
    snprintf(fn, sizeof fn, "data/hist-%zu.dat", k + 1);
    out_open(&o, pdir, fn);
    fprintf(o.f, "# bin_centre");
    for (size_t c = 0; c < M; c++)
        fprintf(o.f, " density_chain%zu", c + 1);
    fputc('\n', o.f);
    for (int b = 0; b < BINS; b++) {
        fprintf(o.f, "%.9g", lo + (b + 0.5) * w);
        for (size_t c = 0; c < M; c++)
            fprintf(o.f, " %.9g", cnt[c * BINS + (size_t)b]);
        fputc('\n', o.f);
    }
    atomic_close_or_exit(&o);
    free(cnt);
}

/* trace and posterior: a panel per chosen summary.csv row (rows[0..np-1]). */
static void plot_draws(const char *pdir, const run_folder *r, const size_t *rows, size_t np)
{
    size_t M = r->chains, N = r->draws, nw = warm_rows(r);
    script tr, po;
    script_open(&tr);
    script_open(&po);
    if (nw)   /* --save-warmup: the warm-up rows first, shaded */
        fprintf(tr.f, "set multiplot layout %zu,1 title 'Trace plots (%zu chains x %zu warm-up "
                "rows, shaded, and %zu draws)'\nset object 1 rect from 0.5, graph 0 to %zu.5, "
                "graph 1 behind fc rgb '#e4e4e4' fs solid noborder\n", np, M, nw, N, nw);
    else
        fprintf(tr.f, "set multiplot layout %zu,1 title 'Trace plots (%zu chains x %zu draws, "
                "after burn-in)'\n", np, M, N);
    fprintf(tr.f, "set key outside right top\nset xlabel ''\nset grid\n"
            "set lmargin 12\nset rmargin 16\nset format y '%%.3g'\n");
    fprintf(po.f, "set multiplot layout %zu,%zu title 'Posterior densities by chain (histograms, %d bins)'\n"
            "set grid\nset key top right\nset style fill transparent solid 0.25 noborder\n"
            "set xtics rotate by 25 right\nset format x '%%.3g'\n",
            (np + 2) / 3, np > 3 ? 3 : np, BINS);
    for (size_t k = 0; k < np; k++) {
        const char *name = r->summary.first[rows[k]];
        double rhat = r->summary.v[rows[k] * r->summary.ncol + SUM_RHAT];
        /* run_folder_load matched summary.csv's names to the chains' columns */
        int j = chain_column(&r->chain[0], name);
        if (j < 0)
            die_runtime("%s: no column '%s' in chain-1.csv", r->dir, name);
        double lo, hi;
        write_trace(pdir, r, k, j, &lo, &hi);
        write_hist(pdir, r, k, j, lo, hi);
        if (isnan(rhat)) {
            fprintf(tr.f, "set ylabel '%s'\n", name);
            fprintf(po.f, "set title '%s'\n", name);
        } else {
            fprintf(tr.f, "set ylabel \"%s\\nR-hat %.3f\"\n", name, rhat);
            fprintf(po.f, "set title '%s   (R-hat %.3f)'\n", name, rhat);
        }
        fprintf(tr.f, "%s\nplot ", k + 1 != np ? ""
                    : nw ? "set xlabel 'row (warm-up shaded, then the draws)'"
                         : "set xlabel 'draw (after burn-in)'");
        fputs("set xlabel 'value'\nset ylabel 'density'\nplot ", po.f);
        for (size_t c = 0; c < M; c++) {
            const char *col = colours[c % 8];
            fprintf(tr.f, "%s'trace-%zu.dat' using 1:%zu with lines lw 1 lc rgb '%s'", c ? ", " : "",
                    k + 1, c + 2, col);
            if (k == 0)
                chain_title(tr.f, c, M);
            else
                fputs(" notitle", tr.f);
            fprintf(po.f, "%s'hist-%zu.dat' using 1:%zu with fillsteps lc rgb '%s'", c ? ", " : "",
                    k + 1, c + 2, col);
            chain_title(po.f, c, M);
        }
        fputc('\n', tr.f);
        fputs("\nunset key\n", po.f);
    }
    script_close(&tr);
    script_close(&po);
    render(pdir, "trace", &tr);
    render(pdir, "posterior", &po);
}

/* ------------------------------------------------------------ predictions */

typedef struct {
    double key;
    size_t row;
} keyed_row;

/* by key, NaN last, then by row: a total order, so the plot does not depend on qsort */
static int by_key(const void *a, const void *b)
{
    const keyed_row *x = a, *y = b;
    if (isnan(x->key) != isnan(y->key))
        return isnan(x->key) ? 1 : -1;
    if (x->key != y->key && !isnan(x->key))
        return x->key < y->key ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

/* Rows as the plot shows them: in file order for short tables (a time series reads left
 * to right), sorted by the predicted mean for long ones, where a row-order band is a
 * thicket and the sorted one shows fit and calibration at a glance. Returns 1 if sorted. */
static int regression_preds(const char *pdir, const char *name, const run_table *p)
{
    keyed_row *order = malloc((p->nrow + 1) * sizeof *order);
    if (!order)
        die_runtime("out of memory");
    for (size_t i = 0; i < p->nrow; i++)
        order[i] = (keyed_row){p->v[i * p->ncol + PRED_MEAN], i};
    int sorted = p->nrow > 400;
    if (sorted)
        qsort(order, p->nrow, sizeof *order, by_key);
    char fn[64];
    out_file o;
    snprintf(fn, sizeof fn, "data/pred-%s.dat", name);
    out_open(&o, pdir, fn);
    fprintf(o.f, "# position row mean q2.5 q97.5 observed\n");
    for (size_t k = 0; k < p->nrow; k++) {
        const double *r = p->v + order[k].row * p->ncol;
        fprintf(o.f, "%zu %zu %.9g %.9g %.9g %.9g\n", k + 1, order[k].row + 1, r[PRED_MEAN],
                r[PRED_Q025], r[PRED_Q975], r[PRED_OBSERVED]);
    }
    atomic_close_or_exit(&o);
    free(order);
    return sorted;
}

/* Reliability: rows binned by the predicted class's probability; per bin the mean
 * probability and the share of rows whose predicted class is right. And accuracy per
 * observed class, every class 0..K-1 of the model. (run_folder_load checked that the
 * classes are 0..K-1 and the probabilities in [0, 1].) */
static void classification_preds(const char *pdir, const char *name, const run_table *p, int K)
{
    enum { RB = 10 };
    double conf[RB] = {0}, acc[RB] = {0}, cnt[RB] = {0};
    double *right = calloc((size_t)K, sizeof *right), *tot = calloc((size_t)K, sizeof *tot);
    if (!right || !tot)
        die_runtime("out of memory");
    for (size_t i = 0; i < p->nrow; i++) {
        const double *r = p->v + i * p->ncol;
        int pred = (int)r[PRED_CLASS(K)];
        double pm = r[PRED_PROB(pred)];
        int b = (int)(pm * RB);
        b = b >= RB ? RB - 1 : b;
        int ok = !isnan(r[PRED_OBSERVED]) && (int)r[PRED_OBSERVED] == pred;
        conf[b] += pm;
        acc[b] += ok;
        cnt[b] += 1;
        if (!isnan(r[PRED_OBSERVED])) {
            tot[(int)r[PRED_OBSERVED]] += 1;
            right[(int)r[PRED_OBSERVED]] += ok;
        }
    }
    char fn[64];
    out_file o;
    snprintf(fn, sizeof fn, "data/reliability-%s.dat", name);
    out_open(&o, pdir, fn);
    fprintf(o.f, "# bin mean_probability observed_accuracy rows\n");
    for (int b = 0; b < RB; b++)
        if (cnt[b] > 0)
            fprintf(o.f, "%d %.6g %.6g %.0f\n", b, conf[b] / cnt[b], acc[b] / cnt[b], cnt[b]);
    atomic_close_or_exit(&o);
    snprintf(fn, sizeof fn, "data/class-accuracy-%s.dat", name);
    out_open(&o, pdir, fn);
    fprintf(o.f, "# class accuracy_percent rows\n");
    for (int k = 0; k < K; k++)
        fprintf(o.f, "%d %.6g %.0f\n", k, tot[k] > 0 ? 100 * right[k] / tot[k] : 0, tot[k]);
    atomic_close_or_exit(&o);
    free(right);
    free(tot);
}

static const char *const which[2] = {"train", "test"};

static void plot_predictions(const char *pdir, const run_folder *r)
{
    int panels = r->has_pred[0] + r->has_pred[1];
    if (!panels)
        return;
    script s;
    script_open(&s);
    if (r->spec.task == BNN_TASK_REGRESSION) {
        fprintf(s.f, "set multiplot layout %d,1\n"
                "set grid\nset key outside top center horizontal\nset style fill solid 1.0 noborder\n", panels);
        for (int k = 0; k < 2; k++) {
            if (!r->has_pred[k])
                continue;
            int sorted = regression_preds(pdir, which[k], &r->pred[k]);
            size_t n = r->pred[k].nrow;
            fprintf(s.f, "set title 'Posterior predictive, %s data (%zu rows, %s)'\nset xlabel '%s'\nset ylabel 'target'\n"
                    "set xrange [0:%zu]\n"
                    "plot 'pred-%s.dat' using 1:4:5 with filledcurves lc rgb '#c6dbef' title '95%% predictive interval', "
                    "'' using 1:3 with lines lw 1.5 lc rgb '#08519c' title 'posterior mean', "
                    "'' using 1:6 with points pt 7 ps 0.45 lc rgb '#d62728' title 'observed'\n",
                    which[k], n, sorted ? "sorted by predicted mean" : "in row order",
                    sorted ? "rows, sorted by predicted mean" : "row", n + 1, which[k]);
        }
    } else {
        fprintf(s.f, "set multiplot layout 2,%d title 'Calibration and accuracy of the posterior-mean class probabilities'\n"
                "set grid\nset key top left opaque box\nset style fill solid 0.6 border -1\n", panels);
        for (int k = 0; k < 2; k++) {
            if (!r->has_pred[k])
                continue;
            classification_preds(pdir, which[k], &r->pred[k], r->spec.n_classes);
            fprintf(s.f, "set title 'Reliability, %s data'\nset xlabel 'predicted probability of the predicted class'\n"
                    "set ylabel 'observed accuracy'\nset xrange [0:1]\nset yrange [0:1.05]\n"
                    "plot x with lines dt 2 lc rgb 'gray40' title 'perfect calibration', "
                    "'reliability-%s.dat' using 2:3 with linespoints pt 7 lw 2 lc rgb '#08519c' title 'bins of rows'\n",
                    which[k], which[k]);
        }
        for (int k = 0; k < 2; k++) {
            if (!r->has_pred[k])
                continue;
            fprintf(s.f, "set title 'Accuracy per observed class, %s data'\nset xlabel 'class'\nset ylabel 'accuracy (%%)'\n"
                    "set xrange [-0.6:*]\nset yrange [0:115]\nset ytics 0,20,100\nset boxwidth 0.6\nunset key\n"
                    "plot 'class-accuracy-%s.dat' using 1:2:xtic(1) with boxes lc rgb '#6baed6', "
                    "'' using 1:($2 + 4):(sprintf('%%.0f rows', $3)) with labels\nset key\nset xrange [*:*]\nset yrange [*:*]\n",
                    which[k], which[k]);
        }
    }
    script_close(&s);
    render(pdir, "predictions", &s);
}

/* ------------------------------------------------------------ R-hat and ESS overview */

static void plot_rhat(const char *pdir, const run_folder *r)
{
    const run_table *sum = &r->summary;
    size_t M = r->chains;
    out_file o;
    out_open(&o, pdir, "data/rhat-params.dat");
    fprintf(o.f, "# parameter rhat ess_bulk\n");
    for (size_t i = 0; i < sum->nrow; i++)
        if (strcmp(sum->first[i], "lp__") != 0)
            fprintf(o.f, "%s %.6g %.6g\n", sum->first[i], sum->v[i * sum->ncol + SUM_RHAT],
                    sum->v[i * sum->ncol + SUM_ESS_BULK]);
    atomic_close_or_exit(&o);
    int pk = r->has_pred[1] ? 1 : 0;
    const run_table *p = &r->pred[pk];
    out_open(&o, pdir, "data/rhat-predictions.dat");
    fprintf(o.f, "# row rhat ess_bulk\n");
    for (size_t i = 0; r->has_pred[pk] && i < p->nrow; i++)
        fprintf(o.f, "%zu %.6g %.6g\n", i + 1, p->v[i * p->ncol + PRED_RHAT(p)],
                p->v[i * p->ncol + PRED_ESS(p)]);
    atomic_close_or_exit(&o);
    script s;
    script_open(&s);
    fprintf(s.f, "set multiplot layout 2,2 title 'Convergence: R-hat (want < 1.01) and bulk ESS (want > 100 per chain = %zu)'\n"
            "set grid\nset style fill solid 0.6 border -1\nset key top right opaque box\n"
            "binw(lo, hi) = (hi - lo) / 30.0\n"
            "stats 'rhat-params.dat' using 2 nooutput name 'RP'\n"
            "stats 'rhat-params.dat' using 3 nooutput name 'EP'\n", 100 * M);
    const char *sets[2][2] = {{"rhat-params.dat", "parameters"}, {"rhat-predictions.dat", which[pk]}};
    for (int q = 0; q < 2; q++) {
        if (q == 1)
            fprintf(s.f, "stats '%s' using 2 nooutput name 'RP'\nstats '%s' using 3 nooutput name 'EP'\n",
                    sets[1][0], sets[1][0]);
        fprintf(s.f, "set title 'R-hat over %s%s'\nset xlabel 'R-hat'\nset ylabel 'count'\n"
                "lo = RP_min < 1.0 ? RP_min : 1.0\nhi = RP_max > 1.02 ? RP_max : 1.02\nw = binw(lo, hi)\n"
                "set boxwidth w absolute\nset offsets 0, 0, graph 0.12, 0\n"
                "set xrange [lo - w : hi + w]\nset arrow 1 from 1.01, graph 0 to 1.01, graph 1 nohead lw 2 lc rgb '#d62728'\n"
                "plot '%s' using (w * floor($2 / w) + w / 2):(1) smooth frequency with boxes lc rgb '#6baed6' title sprintf('%%d values', RP_records), "
                "NaN with lines lw 2 lc rgb '#d62728' title 'R-hat = 1.01'\nunset arrow 1\nset xrange [*:*]\n",
                sets[q][1], q ? " predictions" : "", sets[q][0]);
        fprintf(s.f, "set title 'bulk ESS over %s%s'\nset xlabel 'bulk ESS'\nset ylabel 'count'\n"
                "lo = 0\nhi = EP_max > %zu ? EP_max : %zu\nw = binw(lo, hi)\nset xrange [0 : hi + w]\n"
                "set boxwidth w absolute\n"
                "set arrow 2 from %zu, graph 0 to %zu, graph 1 nohead lw 2 lc rgb '#d62728'\n"
                "plot '%s' using (w * floor($3 / w) + w / 2):(1) smooth frequency with boxes lc rgb '#74c476' title sprintf('%%d values', EP_records), "
                "NaN with lines lw 2 lc rgb '#d62728' title '100 per chain'\nunset arrow 2\nset xrange [*:*]\n",
                sets[q][1], q ? " predictions" : "", 200 * M, 200 * M, 100 * M, 100 * M, sets[q][0]);
    }
    script_close(&s);
    render(pdir, "rhat", &s);
}

/* The summary.csv rows to draw: those named by --params (comma-separated), or the worst
 * few by R-hat, and tau2. Exits 2 on an unknown name. */
static size_t choose_params(const run_folder *r, const char *params_opt, size_t rows[MAX_PARAMS])
{
    const run_table *sum = &r->summary;
    size_t np = 0, tau = SIZE_MAX;
    if (params_opt) {
        char *buf = strdup(params_opt), *save = NULL;
        if (!buf)
            die_runtime("out of memory");
        for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            size_t found = SIZE_MAX;
            for (size_t i = 0; i < sum->nrow && found == SIZE_MAX; i++)
                if (strcmp(sum->first[i], tok) == 0)
                    found = i;
            if (found == SIZE_MAX)
                die_usage("plot", "--params: no parameter '%s' in %s/summary.csv", tok, r->dir);
            if (np == MAX_PARAMS)
                die_usage("plot", "--params: at most %d parameters", MAX_PARAMS);
            rows[np++] = found;
        }
        free(buf);
        if (np == 0)
            die_usage("plot", "--params: give at least one parameter name");
        return np;
    }
    for (size_t i = 0; i < sum->nrow; i++)
        if (strcmp(sum->first[i], "tau2") == 0)
            tau = i;
    size_t want = tau != SIZE_MAX ? 3 : 4;
    char *used = calloc(sum->nrow, 1);
    if (!used)
        die_runtime("out of memory");
    while (np < want) {
        size_t best = SIZE_MAX;
        double bv = NAN;
        for (size_t i = 1; i < sum->nrow; i++) {   /* row 0 is lp__ */
            double v = sum->v[i * sum->ncol + SUM_RHAT];
            if (used[i] || i == tau)
                continue;
            if (best == SIZE_MAX || v > bv || (isnan(bv) && !isnan(v))) {
                best = i;
                bv = v;
            }
        }
        if (best == SIZE_MAX)
            break;
        used[best] = 1;
        rows[np++] = best;
    }
    free(used);
    if (tau != SIZE_MAX)
        rows[np++] = tau;
    return np;
}

static void make_dir(const char *path)
{
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        die_runtime("%s: cannot create: %s", path, strerror(errno));
}

int plot_run(const char *dir, const char *params_opt)
{
    run_folder r;
    char err[RUN_ERR_LEN];
    if (run_folder_load(&r, dir, err, sizeof err) != 0) {
        fprintf(stderr, "bnnmc plot: %s\n", err);
        return EXIT_USAGE;
    }
    if (!r.has_summary) {
        fprintf(stderr, "bnnmc plot: %s: %zu draws per chain, too few to plot (the run was "
                "stopped early)\n", dir, r.draws);
        run_folder_free(&r);
        return EXIT_USAGE;
    }
    if (system("command -v gnuplot >/dev/null 2>&1") != 0) {
        fprintf(stderr, "bnnmc plot: gnuplot is not installed; it draws the figures (Debian: "
                "apt-get install gnuplot-nox)\n");
        run_folder_free(&r);
        return EXIT_RUNTIME;
    }
    run_folder_note(&r, "plot", stderr);
    size_t rows[MAX_PARAMS];
    size_t np = choose_params(&r, params_opt, rows);
    char pdir[4200], data[4300];
    snprintf(pdir, sizeof pdir, "%s/plots", dir);
    snprintf(data, sizeof data, "%s/data", pdir);
    make_dir(pdir);
    make_dir(data);
    plot_draws(pdir, &r, rows, np);
    plot_predictions(pdir, &r);
    plot_rhat(pdir, &r);
    run_folder_free(&r);
    return 0;
}
