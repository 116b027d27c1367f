/* stancsv.c — reading CmdStan-format CSV files (ours and Stan's): comment lines, one header
 * of column names, numeric rows. Errors name file, line and column. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return -1;
}

void stan_csv_free(stan_csv *c)
{
    if (!c)
        return;
    for (size_t j = 0; j < c->ncol; j++)
        free(c->names[j]);
    free(c->names);
    free(c->v);
    free(c->status);
    free(c->algorithm);
    free(c->engine);
    memset(c, 0, sizeof *c);
}

static char *comment_value(const char *line, const char *key)
{
    /* "# key = value" or "#   key = value (Default)" */
    const char *p = line + 1;
    while (*p == ' ')
        p++;
    size_t k = strlen(key);
    if (strncmp(p, key, k) != 0)
        return NULL;
    p += k;
    while (*p == ' ')
        p++;
    if (*p != '=')
        return NULL;
    p++;
    while (*p == ' ')
        p++;
    size_t n = strcspn(p, " \r\n");
    char *v = malloc(n + 1);
    if (v) {
        memcpy(v, p, n);
        v[n] = '\0';
    }
    return v;
}

int stan_csv_read(const char *path, stan_csv *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    FILE *f = fopen(path, "r");
    if (!f)
        return fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    char *line = NULL;
    size_t linecap = 0, lineno = 0, cap = 0;
    ssize_t len;
    int rc = 0;
    while ((len = getline(&line, &linecap, f)) != -1) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (line[0] == '#') {
            char *v;
            if (!c->status && (v = comment_value(line, "bnnmc_status")))
                c->status = v;
            else if (!c->algorithm && (v = comment_value(line, "algorithm")))
                c->algorithm = v;
            else if (!c->engine && (v = comment_value(line, "engine")))
                c->engine = v;
            else if ((v = comment_value(line, "max_depth"))) {
                c->max_depth = atoi(v);
                free(v);
            }
            continue;
        }
        if (len == 0)
            continue;
        if (!c->names) {
            c->ncol = 1;
            for (char *q = line; *q; q++)
                c->ncol += *q == ',';
            c->names = calloc(c->ncol, sizeof *c->names);
            if (!c->names) {
                rc = fail(err, errlen, "%s: out of memory", path);
                break;
            }
            size_t j = 0;
            for (char *tok = strtok(line, ","); tok && j < c->ncol; tok = strtok(NULL, ","))
                c->names[j++] = strdup(tok);
            if (j != c->ncol) {
                rc = fail(err, errlen, "%s:%zu: empty column name in the header", path, lineno);
                break;
            }
            continue;
        }
        if (c->nrow == cap) {
            cap = cap ? 2 * cap : 1024;
            double *nv = realloc(c->v, cap * c->ncol * sizeof *nv);
            if (!nv) {
                rc = fail(err, errlen, "%s: out of memory", path);
                break;
            }
            c->v = nv;
        }
        char *q = line;
        size_t j = 0;
        for (;;) {
            char *end;
            double x = strtod(q, &end);
            if (end == q || (*end != ',' && *end != '\0')) {
                rc = fail(err, errlen, "%s:%zu:%zu: '%.20s' is not a number", path, lineno, j + 1, q);
                break;
            }
            if (j == c->ncol) {
                rc = fail(err, errlen, "%s:%zu:%zu: more values than the header's %zu columns",
                          path, lineno, j + 1, c->ncol);
                break;
            }
            c->v[c->nrow * c->ncol + j++] = x;
            if (*end == '\0')
                break;
            q = end + 1;
        }
        if (rc)
            break;
        if (j != c->ncol) {
            rc = fail(err, errlen, "%s:%zu:%zu: %zu values, the header has %zu columns", path,
                      lineno, j + 1, j, c->ncol);
            break;
        }
        c->nrow++;
    }
    free(line);
    fclose(f);
    if (c->max_depth <= 0)
        c->max_depth = 10;
    if (!rc && !c->names)
        rc = fail(err, errlen, "%s: no header line: not a CmdStan CSV file", path);
    if (rc)
        stan_csv_free(c);
    return rc;
}
