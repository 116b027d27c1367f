/* data.c — reading numeric tables from text files and checking their targets.
 *
 * Every error names the place: "FILE:LINE:COL: what is wrong", where COL is the 1-based
 * field (table column) so a user can find it in a spreadsheet as well as an editor. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

bnn_table *bnn_table_new(size_t n, size_t p, const char *source)
{
    bnn_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->n = n;
    t->p = p;
    t->target_col = (int)p + 1;
    t->x = bnn_zalloc(n * p);
    t->y = bnn_zalloc(n);
    t->line = calloc(n ? n : 1, sizeof *t->line);
    t->source = strdup(source ? source : "");
    if (!t->x || !t->y || !t->line || !t->source) {
        bnn_table_free(t);
        return NULL;
    }
    return t;
}

void bnn_table_free(bnn_table *t)
{
    if (!t)
        return;
    free(t->x);
    free(t->y);
    free(t->line);
    free(t->source);
    free(t);
}

/* One line split into fields. Separators are runs of spaces/tabs, or one comma with
 * optional blanks around it; two commas in a row leave an empty field, which is an error
 * rather than a silent zero. */
typedef struct {
    char **f;
    size_t n, cap;
} fields;

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* Splits line in place. Returns the 1-based index of an empty field, or 0. */
static int split_line(char *line, fields *fs)
{
    fs->n = 0;
    char *s = line;
    while (is_blank(*s))
        s++;
    int expect_field = 0;
    while (*s || expect_field) {
        if (*s == ',' || *s == '\0')
            return (int)fs->n + 1;   /* a comma with nothing before it */
        if (fs->n == fs->cap) {
            size_t nc = fs->cap ? 2 * fs->cap : 16;
            char **nf = realloc(fs->f, nc * sizeof *nf);
            if (!nf)
                return -1;
            fs->f = nf;
            fs->cap = nc;
        }
        fs->f[fs->n++] = s;
        while (*s && !is_blank(*s) && *s != ',')
            s++;
        char *end = s;
        while (is_blank(*s))
            s++;
        expect_field = 0;
        if (*s == ',') {
            s++;
            while (is_blank(*s))
                s++;
            expect_field = 1;
        }
        *end = '\0';
    }
    return 0;
}

/* A CR followed by more of the line. CRLF line ends (and a CR before trailing blanks) are
 * fine, as CR is a blank to split_line; a CR inside a line almost always means the file has
 * classic Mac CR-only line ends, and splitting on blanks would read it as one long row. */
static int has_inner_cr(const char *line)
{
    const char *cr = strchr(line, '\r');
    return cr && cr[strspn(cr, " \t\r")] != '\0';
}

/* 0 on success; 1 if not a number; 2 if a number but not finite. */
static int parse_number(const char *s, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    if (end == s || *end != '\0')
        return 1;
    if (!isfinite(*v))
        return 2;
    return 0;
}

/* The first 40 bytes of a field as they can go into a one-line message: control bytes
 * (vertical tab, form feed, escape sequences) as \xHH, so that no terminal breaks the line
 * or acts on them. out holds at least 4 * 40 + 1 bytes. */
static void printable_field(const char *f, char *out)
{
    for (int i = 0; i < 40 && f[i]; i++) {
        unsigned char c = (unsigned char)f[i];
        if (c < 0x20 || c == 0x7f)
            out += sprintf(out, "\\x%02x", c);
        else
            *out++ = (char)c;
    }
    *out = '\0';
}

static bnn_status field_error(bnn_error *err, const char *path, size_t line, size_t col,
                              const char *field, int why)
{
    char shown[4 * 40 + 1];
    printable_field(field, shown);
    return bnn_fail(err, BNN_EPARSE, "%s:%zu:%zu: '%s' is not a %snumber", path, line, col, shown,
                    why == 2 ? "finite " : "");
}

/* The table being read, grown as rows arrive: the inputs and targets go straight to where
 * the table keeps them, so a file is never held whole, nor its numbers twice. */
typedef struct {
    double *x, *y;
    size_t *line;
    size_t n, cap, p;
} growing;

static int grow(growing *g)
{
    size_t nc = g->cap ? 2 * g->cap : 1024;
    double *nx = realloc(g->x, nc * g->p * sizeof *nx);
    if (nx)
        g->x = nx;
    double *ny = nx ? realloc(g->y, nc * sizeof *ny) : NULL;
    if (ny)
        g->y = ny;
    size_t *nl = ny ? realloc(g->line, nc * sizeof *nl) : NULL;
    if (!nl)
        return -1;
    g->line = nl;
    g->cap = nc;
    return 0;
}

bnn_status bnn_table_read(bnn_table **out, const char *path, int target_col, bnn_error *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return bnn_fail(err, BNN_EIO, "%s: cannot open: %s", path, strerror(errno));
    bnn_status st = BNN_OK;
    fields fs = {0};
    growing g = {0};
    char *line = NULL;
    size_t line_cap = 0, ncols = 0, first_line = 0, tc = 0, lineno = 0;
    int seen_first = 0;
    ssize_t got;
    while ((got = getline(&line, &line_cap, f)) >= 0) {
        lineno++;
        size_t len = (size_t)got;
        if (memchr(line, '\0', len)) {
            st = bnn_fail(err, BNN_EPARSE, "%s:%zu: a NUL byte: this is not a text table", path,
                          lineno);
            goto done;
        }
        if (len && line[len - 1] == '\n')
            line[len - 1] = '\0';
        if (has_inner_cr(line)) {
            st = bnn_fail(err, BNN_EPARSE, "%s:%zu: a carriage return inside a line (CR-only line "
                          "ends? save the file with LF or CRLF line ends)", path, lineno);
            goto done;
        }
        int empty = split_line(line, &fs);
        if (empty < 0) {
            st = bnn_fail(err, BNN_ENOMEM, "%s:%zu: out of memory", path, lineno);
            goto done;
        }
        if (empty > 0) {
            st = bnn_fail(err, BNN_EPARSE, "%s:%zu:%d: empty field", path, lineno, empty);
            goto done;
        }
        if (fs.n == 0)
            continue;   /* blank line */
        if (!seen_first) {
            seen_first = 1;
            size_t numeric = 0;
            double v;
            for (size_t j = 0; j < fs.n; j++)
                numeric += parse_number(fs.f[j], &v) != 1;
            if (numeric == 0)
                continue;   /* a header: no field is a number */
        }
        if (ncols == 0) {
            ncols = fs.n;
            first_line = lineno;
            if (ncols < 2) {
                st = bnn_fail(err, BNN_EPARSE,
                              "%s:%zu:1: a row needs at least one input and a target, found "
                              "1 column", path, lineno);
                goto done;
            }
            if (target_col < 0 || (size_t)target_col > ncols) {
                st = bnn_fail(err, BNN_EINVAL, "%s: target column %d is out of range 1..%zu",
                              path, target_col, ncols);
                goto done;
            }
            tc = target_col ? (size_t)target_col - 1 : ncols - 1;
            g.p = ncols - 1;
        }
        if (fs.n != ncols) {
            size_t col = fs.n < ncols ? fs.n + 1 : ncols + 1;
            st = bnn_fail(err, BNN_EPARSE, "%s:%zu:%zu: row has %zu columns, expected %zu as on "
                          "line %zu", path, lineno, col, fs.n, ncols, first_line);
            goto done;
        }
        if (g.n == g.cap && grow(&g) != 0) {
            st = bnn_fail(err, BNN_ENOMEM, "%s:%zu: out of memory", path, lineno);
            goto done;
        }
        double *x = g.x + g.n * g.p;
        for (size_t j = 0, k = 0; j < ncols; j++) {
            double v;
            int why = parse_number(fs.f[j], &v);
            if (why) {
                st = field_error(err, path, lineno, j + 1, fs.f[j], why);
                goto done;
            }
            if (j == tc)
                g.y[g.n] = v;
            else
                x[k++] = v;
        }
        g.line[g.n++] = lineno;
    }
    if (ferror(f)) {
        st = bnn_fail(err, errno == ENOMEM ? BNN_ENOMEM : BNN_EIO, "%s:%zu: read error: %s",
                      path, lineno + 1, strerror(errno));
        goto done;
    }
    if (g.n == 0) {
        st = bnn_fail(err, BNN_EPARSE, "%s:%zu: no data rows%s", path, lineno ? lineno : 1,
                      seen_first ? " (only a header)" : " (the file is empty)");
        goto done;
    }
    bnn_table *t = calloc(1, sizeof *t);
    char *src = strdup(path);
    if (!t || !src) {
        free(t);
        free(src);
        st = bnn_fail(err, BNN_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    /* give back the unused end of the doubling (a shrink never fails in practice; if it
     * does, the larger block is still right) */
    double *sx = realloc(g.x, g.n * g.p * sizeof *sx), *sy = realloc(g.y, g.n * sizeof *sy);
    g.x = sx ? sx : g.x;
    g.y = sy ? sy : g.y;
    size_t *sl = realloc(g.line, g.n * sizeof *sl);
    g.line = sl ? sl : g.line;
    *t = (bnn_table){g.n, g.p, g.x, g.y, g.line, (int)tc + 1, src};
    g.x = g.y = NULL;
    g.line = NULL;
    *out = t;
done:
    free(fs.f);
    free(line);
    free(g.x);
    free(g.y);
    free(g.line);
    fclose(f);
    return st;
}

bnn_status bnn_table_check_inputs(const bnn_table *test, const bnn_table *train, bnn_error *err)
{
    if (test->p != train->p)
        return bnn_fail(err, BNN_EPARSE, "%s:%zu:1: %zu columns, but the training data %s has "
                        "%zu", test->source, test->n ? test->line[0] : 1, test->p + 1,
                        train->source, train->p + 1);
    return BNN_OK;
}

#define BNN_MAX_CLASSES_INFER 20
#define BNN_MAX_CLASSES 1000

static int label_error(const bnn_table *t, size_t i, bnn_error *err)
{
    double v = t->y[i];
    if (v != floor(v))
        return bnn_fail(err, BNN_EPARSE, "%s:%zu:%d: class label %g is not an integer",
                        t->source, t->line[i], t->target_col, v);
    if (v < 0)
        return bnn_fail(err, BNN_EPARSE, "%s:%zu:%d: class label %g is negative", t->source,
                        t->line[i], t->target_col, v);
    if (v >= BNN_MAX_CLASSES)
        return bnn_fail(err, BNN_EPARSE, "%s:%zu:%d: class label %g is too large (at most %d "
                        "classes)", t->source, t->line[i], t->target_col, v, BNN_MAX_CLASSES);
    return BNN_OK;
}

bnn_status bnn_table_check_classes(const bnn_table *t, int *n_classes, bnn_error *err)
{
    int k_given = *n_classes, k = 0;
    for (size_t i = 0; i < t->n; i++) {
        bnn_status st = label_error(t, i, err);
        if (st)
            return st;
        int c = (int)t->y[i];
        if (k_given && c >= k_given)
            return bnn_fail(err, BNN_EPARSE, "%s:%zu:%d: class label %d, but the training "
                            "data have classes 0..%d", t->source, t->line[i], t->target_col,
                            c, k_given - 1);
        if (c + 1 > k)
            k = c + 1;
    }
    if (k_given)
        return BNN_OK;
    if (k < 2)
        return bnn_fail(err, BNN_EPARSE, "%s: classification needs at least 2 classes, found "
                        "only class 0", t->source);
    size_t *count = calloc((size_t)k, sizeof *count);
    if (!count)
        return bnn_fail(err, BNN_ENOMEM, "%s: out of memory", t->source);
    for (size_t i = 0; i < t->n; i++)
        count[(int)t->y[i]]++;
    bnn_status st = BNN_OK;
    for (int c = 0; c < k; c++)
        if (count[c] == 0) {
            st = bnn_fail(err, BNN_EPARSE, "%s: class %d has no rows (labels must be 0..K-1 "
                          "with every class present; largest label is %d)", t->source, c,
                          k - 1);
            break;
        }
    free(count);
    if (st == BNN_OK)
        *n_classes = k;
    return st;
}

bnn_task bnn_table_infer_task(const bnn_table *t, int *n_classes)
{
    *n_classes = 0;
    for (size_t i = 0; i < t->n; i++) {
        double v = t->y[i];
        if (v != floor(v) || v < 0 || v >= BNN_MAX_CLASSES_INFER)
            return BNN_TASK_REGRESSION;
    }
    int k = 0;
    if (bnn_table_check_classes(t, &k, NULL) != BNN_OK)
        return BNN_TASK_REGRESSION;
    *n_classes = k;
    return BNN_TASK_CLASSIFICATION;
}
