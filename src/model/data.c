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

static char *read_whole_file(const char *path, size_t *len, bnn_error *err, bnn_status *st)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        *st = bnn_fail(err, BNN_EIO, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        char *nb = realloc(buf, 2 * cap + 1);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf) {
        *st = bnn_fail(err, BNN_ENOMEM, "%s: out of memory reading the file", path);
        return NULL;
    }
    if (bad) {
        free(buf);
        *st = bnn_fail(err, BNN_EIO, "%s: read error", path);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
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

bnn_status bnn_table_read(bnn_table **out, const char *path, int target_col, bnn_error *err)
{
    *out = NULL;
    bnn_status st = BNN_OK;
    size_t len = 0;
    char *buf = read_whole_file(path, &len, err, &st);
    if (!buf)
        return st;

    const char *nul = memchr(buf, '\0', len);
    if (nul) {
        size_t ln = 1;
        for (const char *q = buf; q < nul; q++)
            ln += *q == '\n';
        free(buf);
        return bnn_fail(err, BNN_EPARSE, "%s:%zu: a NUL byte: this is not a text table", path,
                        ln);
    }

    fields fs = {0};
    double *vals = NULL;        /* rows x ncols, grown as rows arrive */
    size_t *lines = NULL;
    size_t nrows = 0, cap = 0, ncols = 0, first_line = 0;
    int seen_first = 0;
    char *p = buf;
    size_t lineno = 0;
    while (*p) {
        char *line = p;
        char *nl = strchr(p, '\n');
        if (nl) {
            *nl = '\0';
            p = nl + 1;
        } else {
            p += strlen(p);
        }
        lineno++;
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
        }
        if (fs.n != ncols) {
            size_t col = fs.n < ncols ? fs.n + 1 : ncols + 1;
            st = bnn_fail(err, BNN_EPARSE, "%s:%zu:%zu: row has %zu columns, expected %zu as on "
                          "line %zu", path, lineno, col, fs.n, ncols, first_line);
            goto done;
        }
        if (nrows == cap) {
            size_t nc = cap ? 2 * cap : 256;
            double *nv = realloc(vals, nc * ncols * sizeof *nv);
            size_t *nlns = nv ? realloc(lines, nc * sizeof *nlns) : NULL;
            if (nv)
                vals = nv;
            if (!nv || !nlns) {
                st = bnn_fail(err, BNN_ENOMEM, "%s:%zu: out of memory", path, lineno);
                goto done;
            }
            lines = nlns;
            cap = nc;
        }
        for (size_t j = 0; j < ncols; j++) {
            int why = parse_number(fs.f[j], &vals[nrows * ncols + j]);
            if (why) {
                st = field_error(err, path, lineno, j + 1, fs.f[j], why);
                goto done;
            }
        }
        lines[nrows++] = lineno;
    }
    if (nrows == 0) {
        st = bnn_fail(err, BNN_EPARSE, "%s:%zu: no data rows%s", path, lineno ? lineno : 1,
                      seen_first ? " (only a header)" : " (the file is empty)");
        goto done;
    }
    if (target_col < 0 || (size_t)target_col > ncols) {
        st = bnn_fail(err, BNN_EINVAL, "%s: target column %d is out of range 1..%zu", path,
                      target_col, ncols);
        goto done;
    }
    size_t tc = target_col ? (size_t)target_col - 1 : ncols - 1;
    bnn_table *t = bnn_table_new(nrows, ncols - 1, path);
    if (!t) {
        st = bnn_fail(err, BNN_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    t->target_col = (int)tc + 1;
    for (size_t i = 0; i < nrows; i++) {
        const double *r = vals + i * ncols;
        double *x = t->x + i * t->p;
        for (size_t j = 0, k = 0; j < ncols; j++) {
            if (j == tc)
                t->y[i] = r[j];
            else
                x[k++] = r[j];
        }
        t->line[i] = lines[i];
    }
    *out = t;
done:
    free(fs.f);
    free(vals);
    free(lines);
    free(buf);
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
