/* order.c — order statistics for the diagnostics and the predictive quantiles: a radix
 * sort of doubles (with the permutation, for ranks), selection of the k-th smallest, and
 * R's type-7 quantile. Ranking every quantity's draws was the slowest step of a summary
 * with qsort; an LSD radix sort is linear. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

enum { BITS = 11, BUCKETS = 1 << BITS, PASSES = 6 };   /* 6 x 11 >= 64 bits */

/* Order-preserving map of a double's bits to an unsigned integer (finite values and
 * infinities; NaNs sort after +inf or before -inf by their sign). */
static uint64_t key_of(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return (u >> 63) ? ~u : u ^ 0x8000000000000000ULL;
}

int bnn_argsort(const double *x, size_t n, size_t *idx)
{
    uint64_t *k = malloc(2 * n * sizeof *k + 1);
    size_t *tmp = malloc(n * sizeof *tmp + 1);
    if (!k || !tmp) {
        free(k);
        free(tmp);
        return -1;
    }
    uint64_t *k2 = k + n;
    for (size_t i = 0; i < n; i++) {
        k[i] = key_of(x[i]);
        idx[i] = i;
    }
    size_t count[BUCKETS];
    for (int pass = 0; pass < PASSES; pass++) {
        int shift = pass * BITS;
        memset(count, 0, sizeof count);
        for (size_t i = 0; i < n; i++)
            count[(k[i] >> shift) & (BUCKETS - 1)]++;
        if (count[(k[0] >> shift) & (BUCKETS - 1)] == n)
            continue;   /* every key has this digit: the pass would not move anything */
        size_t sum = 0;
        for (size_t b = 0; b < BUCKETS; b++) {
            size_t c = count[b];
            count[b] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) {
            size_t to = count[(k[i] >> shift) & (BUCKETS - 1)]++;
            k2[to] = k[i];
            tmp[to] = idx[i];
        }
        memcpy(k, k2, n * sizeof *k);
        memcpy(idx, tmp, n * sizeof *idx);
    }
    free(k);
    free(tmp);
    return 0;
}

int bnn_sort(double *x, size_t n)
{
    size_t *idx = malloc(n * sizeof *idx + 1);
    double *y = malloc(n * sizeof *y + 1);
    if (!idx || !y || bnn_argsort(x, n, idx) != 0) {
        free(idx);
        free(y);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        y[i] = x[idx[i]];
    memcpy(x, y, n * sizeof *x);
    free(idx);
    free(y);
    return 0;
}

void bnn_select_kth(double *x, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        /* Hoare partition around the median of three */
        size_t mid = lo + (hi - lo) / 2;
        double a = x[lo], b = x[mid], c = x[hi];
        double pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
        size_t i = lo, j = hi;
        while (i <= j) {
            while (x[i] < pivot)
                i++;
            while (x[j] > pivot)
                j--;
            if (i <= j) {
                double t = x[i];
                x[i] = x[j];
                x[j] = t;
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return;
    }
}

double bnn_quantile_sorted(const double *s, size_t n, double p)
{
    double h = (double)(n - 1) * p;
    size_t lo = (size_t)floor(h);
    if (lo + 1 >= n)
        return s[n - 1];
    return s[lo] + (h - (double)lo) * (s[lo + 1] - s[lo]);
}
