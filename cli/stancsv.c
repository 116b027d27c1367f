/* stancsv.c — reading CmdStan-format CSV files (ours, CmdStan's and rstan's): comment lines,
 * one header of column names, numeric rows. Warm-up rows (save_warmup = 1) are left out.
 * Errors name file, line and column; the reader never prints: what a caller should hear
 * about but that does not stop the read is returned in stan_csv.warning. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stancsv.h"
#include "util.h"

void stan_csv_free(stan_csv *c)
{
    if (!c)
        return;
    for (size_t j = 0; c->names && j < c->ncol; j++)
        free(c->names[j]);
    free(c->names);
    free(c->v);
    free(c->vwarm);
    free(c->status);
    free(c->algorithm);
    free(c->engine);
    free(c->metric);
    free(c->method);
    free(c->vmean);
    free(c->inv_metric);
    free(c->warning);
    free(c->path);
    memset(c, 0, sizeof *c);
}

/* ------------------------------------------------------------ comment lines */

/* The value of "# key = value", "#   key = value (Default)" (CmdStan) or "# key=value"
 * (rstan) into out (at most outlen - 1 bytes); 1 when line holds key, else 0. */
static int comment_value(const char *line, const char *key, char *out, size_t outlen)
{
    const char *p = line + 1;
    while (*p == ' ')
        p++;
    size_t k = strlen(key);
    if (strncmp(p, key, k) != 0)
        return 0;
    p += k;
    while (*p == ' ')
        p++;
    if (*p != '=')
        return 0;
    p++;
    while (*p == ' ')
        p++;
    size_t n = strcspn(p, " \r\n");
    n = n < outlen - 1 ? n : outlen - 1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 1;
}

/* A count from a header value: >= 0, or -1 when it is not a plain non-negative integer. */
static long header_count(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    return end == s || *end != '\0' || errno || v < 0 ? -1 : v;
}

/* 0/1 (CmdStan before 2.33 and rstan) or false/true (later CmdStan); -1 otherwise. */
static int header_flag(const char *s)
{
    if (strcmp(s, "1") == 0 || strcmp(s, "true") == 0)
        return 1;
    if (strcmp(s, "0") == 0 || strcmp(s, "false") == 0)
        return 0;
    return -1;
}

/* What the comment lines before the column names say about the rows that follow. */
typedef struct {
    long num_warmup;          /* -1: not given */
    int save_warmup;          /* -1: not given */
    long thin;                /* 1 when not given; -1 when given but not a count >= 1 */
} run_config;

static int set_string(char **dst, const char *v)
{
    if (*dst)
        return 0;             /* the first occurrence counts */
    *dst = strdup(v);
    return *dst ? 0 : -1;
}

/* rstan writes "sampler_t=NUTS(diag_e)", "HMC(...)" or "Fixed_param" where CmdStan writes
 * "algorithm = hmc" and "engine = nuts|static". */
static int set_rstan_sampler(stan_csv *c, const char *v)
{
    if (strncmp(v, "NUTS", 4) == 0)
        return set_string(&c->algorithm, "hmc") || set_string(&c->engine, "nuts");
    if (strncmp(v, "HMC", 3) == 0)
        return set_string(&c->algorithm, "hmc") || set_string(&c->engine, "static");
    if (strncmp(v, "Fixed_param", 11) == 0)
        return set_string(&c->algorithm, "fixed_param");
    return 0;
}

/* One comment line before the header: the settings diagnostics need. -1: out of memory. */
static int header_comment(const char *line, stan_csv *c, run_config *rc)
{
    char v[128];
    if (comment_value(line, "bnnmc_status", v, sizeof v))
        return set_string(&c->status, v);
    if (comment_value(line, "algorithm", v, sizeof v))
        return set_string(&c->algorithm, v);
    if (comment_value(line, "engine", v, sizeof v))
        return set_string(&c->engine, v);
    if (comment_value(line, "metric", v, sizeof v))
        return set_string(&c->metric, v);
    if (comment_value(line, "method", v, sizeof v))
        return set_string(&c->method, v);
    if (comment_value(line, "sampler_t", v, sizeof v))
        return set_rstan_sampler(c, v);
    if (comment_value(line, "max_depth", v, sizeof v) || comment_value(line, "max_treedepth", v, sizeof v)) {
        long d = header_count(v);
        c->max_depth = d > 0 && d < 1000 ? (int)d : 0;   /* 0: the default, 10 */
    } else if (comment_value(line, "num_warmup", v, sizeof v) || comment_value(line, "warmup", v, sizeof v))
        rc->num_warmup = header_count(v);
    else if (comment_value(line, "save_warmup", v, sizeof v))
        rc->save_warmup = header_flag(v);
    else if (comment_value(line, "thin", v, sizeof v))
        rc->thin = header_count(v) >= 1 ? header_count(v) : -1;
    return 0;
}

/* "# Adaptation terminated": CmdStan and rstan write it between the warm-up rows and the
 * kept draws of an adaptive sampler. */
static int adaptation_marker(const char *line)
{
    const char *p = line + 1;
    while (*p == ' ')
        p++;
    return strncmp(p, "Adaptation terminated", 21) == 0;
}

/* ------------------------------------------------------------ the inverse metric */

/* Where a file is in its adaptation block. */
typedef enum { METRIC_NONE, METRIC_DIAG, METRIC_DENSE, METRIC_DONE } metric_state;

/* The heading of an inverse-metric block, or METRIC_NONE. */
static metric_state metric_heading(const char *line)
{
    const char *p = line + 1;
    while (*p == ' ')
        p++;
    if (strncmp(p, "Diagonal elements of inverse mass matrix:", 41) == 0)
        return METRIC_DIAG;
    if (strncmp(p, "Elements of inverse mass matrix:", 32) == 0)
        return METRIC_DENSE;
    return METRIC_NONE;
}

/* A comment line of the block, "# a, b, c": its values appended to c->inv_metric. 1 when
 * the line is such a row (of the first row's length), 0 when not (the block is over), -1
 * when out of memory. */
static int metric_row(const char *line, stan_csv *c)
{
    size_t n = 1;
    for (const char *q = line; *q; q++)
        n += *q == ',';
    if (c->inv_metric_rows && n != c->inv_metric_cols)
        return 0;
    double *v = realloc(c->inv_metric, (c->inv_metric_rows + 1) * n * sizeof *v);
    if (!v)
        return -1;
    c->inv_metric = v;
    v += c->inv_metric_rows * n;
    const char *p = line + 1;
    for (size_t j = 0; j < n; j++) {
        char *end;
        errno = 0;
        v[j] = strtod(p, &end);
        if (end == p || errno == ERANGE)
            return 0;
        p = end;
        while (*p == ' ')
            p++;
        if (*p != (j + 1 < n ? ',' : '\0'))
            return 0;
        p++;
    }
    c->inv_metric_cols = n;
    c->inv_metric_rows++;
    return 1;
}

int stan_csv_metric_check(const stan_csv *c, char *err, size_t errlen)
{
    if (c->inv_metric_rows > 1 && c->inv_metric_rows != c->inv_metric_cols)
        return set_error(err, errlen, "%s: the inverse mass matrix has %zu rows of %zu values: "
                         "not square (truncated?)", c->path, c->inv_metric_rows, c->inv_metric_cols);
    return 0;
}

/* ------------------------------------------------------------ header */

/* Up to 20 bytes of a field for a message, non-printable bytes as '?', so that binary
 * input still gives one readable line. */
static void field_excerpt(const char *s, char out[24])
{
    size_t n = 0;
    for (; s[n] && s[n] != ',' && n < 20; n++)
        out[n] = s[n] >= 0x20 && s[n] < 0x7f ? s[n] : '?';
    out[n] = '\0';
}

typedef struct {
    const char *name;
    size_t col;
} named_col;

static int by_name(const void *a, const void *b)
{
    const named_col *x = a, *y = b;
    int d = strcmp(x->name, y->name);
    return d ? d : (x->col > y->col) - (x->col < y->col);
}

/* A repeated column name (Stan's own readers key draws by name): sorted, so 20000 columns
 * take milliseconds. */
static int check_unique_names(const stan_csv *c, const char *path, size_t lineno, char *err,
                              size_t errlen)
{
    named_col *s = malloc(c->ncol * sizeof *s);
    if (!s)
        return set_error(err, errlen, "%s: out of memory reading %zu column names", path, c->ncol);
    for (size_t j = 0; j < c->ncol; j++)
        s[j] = (named_col){c->names[j], j};
    qsort(s, c->ncol, sizeof *s, by_name);
    int rc = 0;
    for (size_t j = 1; j < c->ncol && !rc; j++)
        if (strcmp(s[j].name, s[j - 1].name) == 0)
            rc = set_error(err, errlen, "%s:%zu:%zu: column name '%.60s' repeats column %zu's", path,
                           lineno, s[j].col + 1, s[j].name, s[j - 1].col + 1);
    free(s);
    return rc;
}

/* The column names: non-empty, printable, not numbers, each once. line is modified. */
static int read_header(char *line, stan_csv *c, const char *path, size_t lineno, char *err,
                       size_t errlen)
{
    size_t ncol = 1;
    for (const char *q = line; *q; q++)
        ncol += *q == ',';
    c->names = calloc(ncol, sizeof *c->names);
    if (!c->names)
        return set_error(err, errlen, "%s: out of memory reading %zu column names", path, ncol);
    c->ncol = ncol;
    size_t numeric = 0;
    char *q = line;
    for (size_t j = 0; j < ncol; j++) {
        size_t n = strcspn(q, ",");
        if (n == 0)
            return set_error(err, errlen, "%s:%zu:%zu: empty column name in the header", path, lineno, j + 1);
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)q[i] <= 0x20 || (unsigned char)q[i] >= 0x7f) {
                char ex[24];
                field_excerpt(q, ex);
                return set_error(err, errlen, "%s:%zu:%zu: column name '%s' has a space or a byte that "
                                 "is not printable ASCII: not a CmdStan CSV header", path, lineno, j + 1, ex);
            }
        char *end;
        strtod(q, &end);
        numeric += end == q + n;
        c->names[j] = strndup(q, n);
        if (!c->names[j])
            return set_error(err, errlen, "%s: out of memory reading %zu column names", path, ncol);
        q += n + 1;
    }
    if (numeric == ncol)
        return set_error(err, errlen, "%s:%zu: the first line that is not a comment holds numbers, not "
                         "column names: the header is missing", path, lineno);
    return check_unique_names(c, path, lineno, err, errlen);
}

/* ------------------------------------------------------------ rows */

typedef enum { ROW_OK, ROW_SHORT, ROW_LONG, ROW_NOT_NUMBER } row_result;

/* Parses the ncol values of line into out. *col receives the 1-based column of a bad field
 * (or the count of values read for ROW_SHORT). */
static row_result parse_row(const char *line, size_t ncol, double *out, size_t *col)
{
    const char *q = line;
    for (size_t j = 0;; j++) {
        char *end;
        double x = strtod(q, &end);
        *col = j + 1;
        if (j == ncol)
            return ROW_LONG;
        if (end == q || (*end != ',' && *end != '\0'))
            return ROW_NOT_NUMBER;
        out[j] = x;
        if (*end == '\0') {
            *col = j + 1;
            return j + 1 == ncol ? ROW_OK : ROW_SHORT;
        }
        q = end + 1;
    }
}

/* The start of a number as a write cut short leaves it: digits, sign, point, exponent, or
 * the start of nan/inf; anything else is not a cut-off number but garbage. */
static int number_prefix(const char *s)
{
    if (s[strspn(s, "0123456789+-.eE")] == '\0')
        return 1;
    if (*s == '-' || *s == '+')
        s++;
    size_t n = strlen(s);
    return n <= 3 && (strncmp(s, "nan", n) == 0 || strncmp(s, "inf", n) == 0);
}

/* A last line without a newline whose values stop early (or whose last value is cut):
 * what a run killed while writing leaves. */
static int cut_short(const char *line, row_result r, size_t col, size_t ncol)
{
    if (r == ROW_SHORT)
        return 1;
    if (r != ROW_NOT_NUMBER || col > ncol)
        return 0;
    const char *last = strrchr(line, ',');
    last = last ? last + 1 : line;
    size_t commas = 0;
    for (const char *q = line; *q; q++)
        commas += *q == ',';
    return commas + 1 == col && number_prefix(last);
}

static int grow_rows(stan_csv *c, size_t *cap)
{
    size_t want = *cap ? 2 * *cap : 16;
    if (want > SIZE_MAX / sizeof(double) / c->ncol)
        return -1;
    double *nv = realloc(c->v, want * c->ncol * sizeof *nv);
    if (!nv)
        return -1;
    c->v = nv;
    *cap = want;
    return 0;
}

/* ------------------------------------------------------------ warm-up */

/* How many of the nrow rows read are warm-up rows. The header's count (ceil(num_warmup /
 * thin) with save_warmup = 1, CmdStan's and rstan's rule; none for CmdStan's fixed_param,
 * which runs no warm-up) and the rows before "# Adaptation terminated" must agree where both
 * exist; fewer rows than the header's count: the run stopped during warm-up. */
static int warmup_rows(const stan_csv *c, const run_config *rc, long marker_rows, size_t marker_line,
                       const char *path, size_t *out, char *err, size_t errlen)
{
    long header_rows = -1;
    if (rc->save_warmup == 0 || (c->algorithm && strcmp(c->algorithm, "fixed_param") == 0))
        header_rows = 0;
    else if (rc->save_warmup == 1) {
        if (rc->num_warmup < 0 || rc->thin < 1) {
            if (marker_rows < 0)
                return set_error(err, errlen, "%s: save_warmup = 1 without a valid num_warmup (or "
                                 "warmup) and thin: cannot tell warm-up rows from draws", path);
        } else {
            header_rows = rc->num_warmup / rc->thin + (rc->num_warmup % rc->thin != 0);   /* ceil, no overflow */
        }
    }
    if (marker_rows >= 0 && header_rows >= 0 && marker_rows != header_rows)
        return set_error(err, errlen, "%s:%zu: %ld rows come before '# Adaptation terminated', the "
                         "header (num_warmup %ld, thin %ld, save_warmup %d) means %ld warm-up rows",
                         path, marker_line, marker_rows, rc->num_warmup, rc->thin, rc->save_warmup,
                         header_rows);
    long w = marker_rows >= 0 ? marker_rows : (header_rows >= 0 ? header_rows : 0);
    *out = (size_t)w < c->nrow ? (size_t)w : c->nrow;
    return 0;
}

/* ------------------------------------------------------------ variational */

/* CmdStan's variational CSV: the first row is the mean of the approximation, not a draw
 * (stan-dev/stan src/stan/variational/advi.hpp, run()); it moves to c->vmean. A file with
 * no row at all has lost it. */
static int take_mean_row(stan_csv *c, const char *path, char *err, size_t errlen)
{
    if (c->nrow == 0)
        return set_error(err, errlen, "%s: method = variational, but no row: the mean of the "
                         "approximation (the first row) is missing", path);
    c->vmean = malloc(c->ncol * sizeof *c->vmean);
    if (!c->vmean)
        return set_error(err, errlen, "%s: out of memory", path);
    memcpy(c->vmean, c->v, c->ncol * sizeof *c->v);
    memmove(c->v, c->v + c->ncol, (c->nrow - 1) * c->ncol * sizeof *c->v);
    c->nrow--;
    return 0;
}

/* ------------------------------------------------------------ the file */

int stan_csv_read(const char *path, stan_csv *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->stepsize = NAN;
    FILE *f = fopen(path, "r");
    if (!f)
        return set_error(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    c->path = strdup(path);
    if (!c->path) {
        fclose(f);
        return set_error(err, errlen, "%s: out of memory", path);
    }
    run_config cfg = {-1, -1, 1};
    char *line = NULL;
    size_t linecap = 0, lineno = 0, cap = 0, marker_line = 0, nonblank = 0;
    long marker_rows = -1;
    metric_state ms = METRIC_NONE;
    ssize_t len;
    int rc = 0;
    errno = 0;
    while (!rc && (len = getline(&line, &linecap, f)) != -1) {
        lineno++;
        if (memchr(line, '\0', (size_t)len)) {
            rc = set_error(err, errlen, "%s:%zu: a NUL byte: binary data, not a CmdStan CSV file",
                           path, lineno);
            break;
        }
        int newline = len > 0 && line[len - 1] == '\n';
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0)
            continue;
        nonblank++;
        if (line[0] == '#') {
            if (!c->names && header_comment(line, c, &cfg) != 0)
                rc = set_error(err, errlen, "%s: out of memory", path);
            else if (c->names && marker_rows < 0 && adaptation_marker(line)) {
                marker_rows = (long)c->nrow;
                marker_line = lineno;
            } else if (c->names && ms == METRIC_NONE) {
                char v[64];
                if (comment_value(line, "Step size", v, sizeof v)) {
                    char *end;
                    double x = strtod(v, &end);
                    c->stepsize = end != v && *end == '\0' && x > 0 && isfinite(x) ? x : NAN;
                }
                ms = metric_heading(line);
            } else if (ms == METRIC_DIAG || ms == METRIC_DENSE) {
                int r = metric_row(line, c);
                if (r < 0)
                    rc = set_error(err, errlen, "%s: out of memory", path);
                if (r <= 0 || ms == METRIC_DIAG)
                    ms = METRIC_DONE;
            }
            continue;
        }
        if (ms == METRIC_DIAG || ms == METRIC_DENSE)
            ms = METRIC_DONE;
        if (!c->names) {
            rc = read_header(line, c, path, lineno, err, errlen);
            continue;
        }
        if (c->nrow == cap && grow_rows(c, &cap) != 0) {
            rc = set_error(err, errlen, "%s:%zu: out of memory for %zu rows of %zu columns", path,
                           lineno, c->nrow + 1, c->ncol);
            break;
        }
        size_t col;
        row_result r = parse_row(line, c->ncol, c->v + c->nrow * c->ncol, &col);
        if (r == ROW_OK) {
            c->nrow++;
            continue;
        }
        if (!newline && cut_short(line, r, col, c->ncol)) {
            char w[512];
            set_error(w, sizeof w, "%s:%zu: the last row stops after %zu of %zu values (a run "
                     "stopped while writing?): left out", path, lineno, r == ROW_SHORT ? col : col - 1, c->ncol);
            c->warning = strdup(w);   /* no warning when out of memory: the read is still right */
            break;
        }
        char ex[24];
        if (r == ROW_NOT_NUMBER) {
            const char *q = line;
            for (size_t j = 1; j < col; j++)
                q = strchr(q, ',') + 1;
            field_excerpt(q, ex);
            rc = set_error(err, errlen, "%s:%zu:%zu: '%s' is not a number", path, lineno, col, ex);
        } else if (r == ROW_LONG) {
            rc = set_error(err, errlen, "%s:%zu:%zu: more values than the header's %zu columns", path,
                           lineno, col, c->ncol);
        } else {
            rc = set_error(err, errlen, "%s:%zu:%zu: %zu values, the header has %zu columns", path,
                           lineno, col + 1, col, c->ncol);
        }
    }
    if (!rc && ferror(f))
        rc = set_error(err, errlen, "%s: read error: %s", path, strerror(errno ? errno : EIO));
    free(line);
    fclose(f);
    if (!rc && !c->names)
        rc = nonblank ? set_error(err, errlen, "%s: only comment lines, no header of column names: not "
                                  "a CmdStan CSV file", path)
                      : set_error(err, errlen, "%s: empty file: not a CmdStan CSV file", path);
    size_t w = 0;
    if (!rc)
        rc = warmup_rows(c, &cfg, marker_rows, marker_line, path, &w, err, errlen);
    if (!rc && c->method && strcmp(c->method, "variational") == 0)
        rc = take_mean_row(c, path, err, errlen);
    if (rc) {
        stan_csv_free(c);
        return rc;
    }
    if (w) {
        c->vwarm = malloc(w * c->ncol * sizeof *c->vwarm);
        if (!c->vwarm) {
            stan_csv_free(c);
            return set_error(err, errlen, "%s: out of memory", path);
        }
        memcpy(c->vwarm, c->v, w * c->ncol * sizeof *c->v);
        memmove(c->v, c->v + w * c->ncol, (c->nrow - w) * c->ncol * sizeof *c->v);
        c->nrow -= w;
        c->nwarmup = w;
    }
    if (c->max_depth <= 0)
        c->max_depth = 10;
    return 0;
}
