/* loo_matrix.c — bnn_loo_compute and bnn_loo_compare on log-likelihood matrices in the
 * `bnnmc loo --log-lik` CSV format (header chain,draw,1,...,n; one row per draw, the chains
 * in blocks of equal length), printed at full precision for tests/test_loo.sh to compare
 * with R's loo. Output, one line each: "file F", then "KEY v" for every estimate and
 * "KEY v1 ... vn" for every pointwise vector, per file; with two or more files, then
 * "order", "elpd_diff" and "se_diff" (order 1-based, best first).
 * usage: loo_matrix FILE.csv... */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "bnnmc.h"

static void put_vec(const char *key, const double *v, size_t n)
{
    printf("%s", key);
    for (size_t i = 0; i < n; i++)
        printf(" %.17g", v[i]);
    printf("\n");
}

/* The matrix of path as n x S (observation-major) with its chain structure; exits 2 on a
 * malformed file. (bnn_table_read would take the header, whose names are numbers, for a
 * row.) */
static double *read_matrix(const char *path, size_t *n, size_t *M, size_t *N)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0, S = 0, cols = 0, rows_cap = 0;
    double *rows = NULL;   /* S x cols, as read */
    if (!f || getline(&line, &cap, f) < 0)
        goto bad;
    for (char *c = line; *c; c++)
        cols += *c == ',';
    cols++;
    while (getline(&line, &cap, f) > 0) {
        if (S + 1 > rows_cap) {
            rows_cap = rows_cap ? 2 * rows_cap : 256;
            rows = realloc(rows, rows_cap * cols * sizeof *rows);
            if (!rows)
                exit(1);
        }
        char *p = line, *end;
        for (size_t j = 0; j < cols; j++) {
            rows[S * cols + j] = strtod(p, &end);
            if (end == p || (*end != ',' && j + 1 < cols))
                goto bad;
            p = end + 1;
        }
        S++;
    }
    size_t chains = 1;
    for (size_t s = 1; s < S; s++)
        chains += rows[s * cols] != rows[(s - 1) * cols];
    if (cols < 3 || S < 2 || rows[0] != 1 || rows[(S - 1) * cols] != (double)chains || S % chains)
        goto bad;
    *n = cols - 2;
    *M = chains;
    *N = S / chains;
    double *ll = malloc(*n * S * sizeof *ll);
    if (!ll)
        exit(1);
    for (size_t s = 0; s < S; s++)
        for (size_t i = 0; i < *n; i++)
            ll[i * S + s] = rows[s * cols + 2 + i];
    free(rows);
    free(line);
    fclose(f);
    return ll;
bad:
    fprintf(stderr, "loo_matrix: %s: not a log-likelihood CSV (chains 1..M in blocks of "
            "equal length)\n", path);
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: loo_matrix FILE.csv...\n");
        return 2;
    }
    size_t K = (size_t)argc - 1;
    bnn_loo **loos = calloc(K, sizeof *loos);
    bnn_error err = {0};
    for (size_t f = 0; f < K; f++) {
        size_t n, M, N;
        double *ll = read_matrix(argv[f + 1], &n, &M, &N);
        if (bnn_loo_compute(ll, n, M, N, 3, &loos[f], &err) != BNN_OK) {
            fprintf(stderr, "loo_matrix: %s: %s\n", argv[f + 1], err.msg);
            return 2;
        }
        free(ll);
        const bnn_loo *l = loos[f];
        printf("file %s\n", argv[f + 1]);
        const struct {
            const char *key;
            double v;
        } est[] = {{"elpd_loo", l->elpd_loo},   {"se_elpd_loo", l->se_elpd_loo},
                   {"p_loo", l->p_loo},         {"se_p_loo", l->se_p_loo},
                   {"looic", l->looic},         {"se_looic", l->se_looic},
                   {"mcse_elpd_loo", l->mcse_elpd_loo},
                   {"elpd_waic", l->elpd_waic}, {"se_elpd_waic", l->se_elpd_waic},
                   {"p_waic", l->p_waic},       {"se_p_waic", l->se_p_waic},
                   {"waic", l->waic},           {"se_waic", l->se_waic}};
        for (size_t e = 0; e < sizeof est / sizeof est[0]; e++)
            printf("%s %.17g\n", est[e].key, est[e].v);
        put_vec("elpd_loo_i", l->elpd_loo_i, n);
        put_vec("p_loo_i", l->p_loo_i, n);
        put_vec("mcse_elpd_loo_i", l->mcse_elpd_loo_i, n);
        put_vec("pareto_k", l->pareto_k, n);
        put_vec("n_eff", l->n_eff, n);
        put_vec("r_eff", l->r_eff, n);
        put_vec("elpd_waic_i", l->elpd_waic_i, n);
        put_vec("p_waic_i", l->p_waic_i, n);
    }
    if (K >= 2) {
        size_t *order = malloc(K * sizeof *order);
        double *diff = malloc(2 * K * sizeof *diff), *ord = malloc(K * sizeof *ord);
        if (bnn_loo_compare((const bnn_loo *const *)loos, K, order, diff, diff + K, &err)) {
            fprintf(stderr, "loo_matrix: %s\n", err.msg);
            return 2;
        }
        for (size_t j = 0; j < K; j++)
            ord[j] = (double)(order[j] + 1);
        put_vec("order", ord, K);
        put_vec("elpd_diff", diff, K);
        put_vec("se_diff", diff + K, K);
        free(order);
        free(diff);
        free(ord);
    }
    for (size_t f = 0; f < K; f++)
        bnn_loo_free(loos[f]);
    free(loos);
    return 0;
}
