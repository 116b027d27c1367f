/* order.c — order statistics for the diagnostics and the predictive quantiles: a radix
 * sort of doubles (with the permutation, for ranks), selection of the k-th smallest, and
 * R's type-7 quantile. Ranking every quantity's draws was the slowest step of a summary
 * with qsort; an LSD radix sort is linear. */
#include <math.h>
#include <stddef.h>
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

/* The same for values that are all floats (predictions are stored as floats): 32-bit keys
 * in three passes, with 32-bit indices, in the 16 n bytes of kbuf. Converting a float to a
 * double keeps its order, so the permutation is the one of the 64-bit keys. Returns 0, or
 * -1 (nothing done) when some value is not exactly a float. */
static int argsort_float(const double *x, size_t n, size_t *idx, uint64_t *kbuf)
{
    enum { FPASSES = 3 };   /* 3 x 11 >= 32 bits */
    if (n >= UINT32_MAX)
        return -1;
    for (size_t i = 0; i < n; i++)
        if ((double)(float)x[i] != x[i])
            return -1;
    uint32_t *k = (uint32_t *)kbuf, *k2 = k + n, *ix = k2 + n, *ix2 = ix + n;
    size_t count[FPASSES][BUCKETS];
    memset(count, 0, sizeof count);
    for (size_t i = 0; i < n; i++) {
        float f = (float)x[i];
        uint32_t u;
        memcpy(&u, &f, sizeof u);
        u = (u >> 31) ? ~u : u ^ 0x80000000U;
        k[i] = u;
        ix[i] = (uint32_t)i;
        for (int pass = 0; pass < FPASSES; pass++)
            count[pass][(u >> (pass * BITS)) & (BUCKETS - 1)]++;
    }
    for (int pass = 0; n && pass < FPASSES; pass++) {
        int shift = pass * BITS;
        size_t *c = count[pass];
        if (c[(k[0] >> shift) & (BUCKETS - 1)] == n)
            continue;
        size_t sum = 0;
        for (size_t b = 0; b < BUCKETS; b++) {
            size_t t = c[b];
            c[b] = sum;
            sum += t;
        }
        for (size_t i = 0; i < n; i++) {
            size_t to = c[(k[i] >> shift) & (BUCKETS - 1)]++;
            k2[to] = k[i];
            ix2[to] = ix[i];
        }
        uint32_t *t = k;
        k = k2;
        k2 = t;
        t = ix;
        ix = ix2;
        ix2 = t;
    }
    for (size_t i = 0; i < n; i++)
        idx[i] = ix[i];
    return 0;
}

void bnn_argsort_ws(const double *x, size_t n, size_t *idx, uint64_t *kbuf, size_t *ibuf)
{
    if (argsort_float(x, n, idx, kbuf) == 0)
        return;
    uint64_t *k = kbuf, *k2 = kbuf + n;
    size_t *ix = idx, *ix2 = ibuf;
    /* every digit's histogram in one read of the keys */
    size_t count[PASSES][BUCKETS];
    memset(count, 0, sizeof count);
    for (size_t i = 0; i < n; i++) {
        uint64_t u = key_of(x[i]);
        k[i] = u;
        idx[i] = i;
        for (int pass = 0; pass < PASSES; pass++)
            count[pass][(u >> (pass * BITS)) & (BUCKETS - 1)]++;
    }
    if (n == 0)
        return;
    for (int pass = 0; pass < PASSES; pass++) {
        int shift = pass * BITS;
        size_t *c = count[pass];
        if (c[(k[0] >> shift) & (BUCKETS - 1)] == n)
            continue;   /* every key has this digit: the pass would not move anything */
        size_t sum = 0;
        for (size_t b = 0; b < BUCKETS; b++) {
            size_t t = c[b];
            c[b] = sum;
            sum += t;
        }
        for (size_t i = 0; i < n; i++) {
            size_t to = c[(k[i] >> shift) & (BUCKETS - 1)]++;
            k2[to] = k[i];
            ix2[to] = ix[i];
        }
        uint64_t *tk = k;
        k = k2;
        k2 = tk;
        size_t *ti = ix;
        ix = ix2;
        ix2 = ti;
    }
    if (ix != idx)
        memcpy(idx, ix, n * sizeof *idx);
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
    bnn_argsort_ws(x, n, idx, k, tmp);
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

/* The Hoare partition with median-of-three pivots: kept for arrays holding a NaN, whose
 * arrangement (and so the value at k) depends on the algorithm's comparisons. */
static void select_hoare(double *x, size_t n, size_t k)
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

/* Floyd & Rivest's SELECT (1975): the pivot of a range is the k-th value of a sample of
 * it, found first by recursion, so that few values lie between the pivot and the k-th and
 * each round discards most of the range: about n + min(k, n - k) comparisons against 2n to
 * 3.4n for the median of three. The order statistic is the same whichever method finds it;
 * so are the values on each side of it. */
static void select_fr(double *x, ptrdiff_t left, ptrdiff_t right, ptrdiff_t k)
{
    while (right > left) {
        if (right - left > 600) {
            double n = (double)(right - left + 1), i = (double)(k - left + 1);
            double z = log(n), s = 0.5 * exp(2.0 * z / 3.0);
            double sd = 0.5 * sqrt(z * s * (n - s) / n) * (i - n / 2 < 0 ? -1.0 : 1.0);
            double nl = (double)k - i * s / n + sd, nr = (double)k + (n - i) * s / n + sd;
            ptrdiff_t a = nl > (double)left ? (ptrdiff_t)nl : left;
            ptrdiff_t b = nr < (double)right ? (ptrdiff_t)nr : right;
            select_fr(x, a, b, k);
        }
        double t = x[k], w;
        ptrdiff_t i = left, j = right;
#define SWAP(p, q) (w = x[p], x[p] = x[q], x[q] = w)
        SWAP(left, k);
        if (x[right] > t)
            SWAP(right, left);
        while (i < j) {
            SWAP(i, j);
            i++;
            j--;
            while (x[i] < t)
                i++;
            while (x[j] > t)
                j--;
        }
        if (x[left] == t) {
            SWAP(left, j);
        } else {
            j++;
            SWAP(j, right);
        }
#undef SWAP
        if (j <= k)
            left = j + 1;
        if (k <= j)
            right = j - 1;
    }
}

void bnn_select_kth(double *x, size_t n, size_t k)
{
    for (size_t i = 0; i < n; i++)
        if (isnan(x[i])) {
            select_hoare(x, n, k);
            return;
        }
    if (n > 1)
        select_fr(x, 0, (ptrdiff_t)n - 1, (ptrdiff_t)k);
}

double bnn_quantile_sorted(const double *s, size_t n, double p)
{
    double h = (double)(n - 1) * p;
    size_t lo = (size_t)floor(h);
    if (lo + 1 >= n)
        return s[n - 1];
    return s[lo] + (h - (double)lo) * (s[lo + 1] - s[lo]);
}

/* The order statistics x_(r) for the nr ranks r[] (0-based, each < n) of x[0..n), by one
 * pass that counts the values in ORDER_BUCKETS equal-width buckets between the minimum and
 * the maximum, one that gathers the buckets holding a wanted rank, and a selection within
 * each: two reads of x instead of a selection over all of it per rank. (x - min) * scale
 * rounds monotonically, so a larger value never falls in an earlier bucket and the r-th
 * value is the (r - count before its bucket)-th of its bucket: the result is exactly the
 * r-th order statistic, as any selection gives. gather: n doubles; hist: ORDER_BUCKETS.
 * Returns -1 (nothing done) when x has a NaN or an infinity or all its values are equal. */
int bnn_order_stats(const double *x, size_t n, const size_t *r, int nr, double *out,
                    double *gather, uint32_t *hist)
{
    enum { NB = BNN_ORDER_BUCKETS, MAXR = 8 };
    if (n == 0 || n > UINT32_MAX - 1 || nr < 1 || nr > MAXR)
        return -1;
    double lo = x[0], hi = x[0];
    int nan = 0;
    for (size_t i = 0; i < n; i++) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
        nan |= x[i] != x[i];
    }
    double width = hi - lo;
    if (nan || !(width > 0) || !isfinite(width))
        return -1;
    double scale = (double)NB / width;
    memset(hist, 0, NB * sizeof *hist);
    for (size_t i = 0; i < n; i++) {
        double b = (x[i] - lo) * scale;
        hist[b < NB - 1 ? (size_t)b : NB - 1]++;
    }
    /* each wanted rank's bucket and its rank within it (one scan while the ranks ascend) */
    size_t bucket[MAXR], within[MAXR], before = 0, b = 0;
    for (int q = 0; q < nr; q++) {
        if (q > 0 && r[q] < r[q - 1])
            before = b = 0;
        while (before + hist[b] <= r[q])
            before += hist[b++];
        bucket[q] = b;
        within[q] = r[q] - before;
    }
    /* hist becomes the gather map: 0 for a bucket not wanted, else one past the next free
     * place of its segment in gather */
    size_t start[MAXR], count[MAXR], used = 0;
    for (int q = 0; q < nr; q++) {
        int seen = -1;
        for (int e = 0; e < q; e++)
            if (bucket[e] == bucket[q])
                seen = e;
        if (seen >= 0) {
            start[q] = start[seen];
            count[q] = count[seen];
            continue;
        }
        start[q] = used;
        count[q] = hist[bucket[q]];
        used += count[q];
    }
    memset(hist, 0, NB * sizeof *hist);
    for (int q = 0; q < nr; q++)
        hist[bucket[q]] = (uint32_t)start[q] + 1;
    for (size_t i = 0; i < n; i++) {
        double b = (x[i] - lo) * scale;
        uint32_t *h = hist + (b < NB - 1 ? (size_t)b : NB - 1);
        if (*h)
            gather[(*h)++ - 1] = x[i];
    }
    for (int q = 0; q < nr; q++) {
        bnn_select_kth(gather + start[q], count[q], within[q]);
        out[q] = gather[start[q] + within[q]];
    }
    return 0;
}
