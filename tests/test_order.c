/* test_order.c — the order statistics behind the diagnostics and predictive quantiles,
 * against plain references kept here:
 *  - bnn_argsort (radix, in the caller's scratch) gives the permutation of a stable sort,
 *    on ties, signed zeros, infinities and NaNs;
 *  - bnn_select_kth (Floyd-Rivest) gives the k-th smallest of a full sort and leaves no
 *    larger value before it nor smaller after, on continuous data, heavy ties and floats;
 *    with a NaN it gives exactly what the median-of-three Hoare selection gave;
 *  - bnn_rhat_ess_bulk_work (one radix sort shared by bulk and folded ranks, normal scores
 *    by rank kept) gives bit for bit the R-hat and bulk ESS of the rank normalisation done
 *    the former way (two sorts, |x - median| sorted afresh, the normal quantile every time),
 *    on ties across the median, odd and even draw counts, and over reuse of one workspace.
 * Every comparison is exact: any error, in any bit, fails. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "../src/core/core.h"
#include "check.h"

static uint64_t rng_state = 88172645463325252ULL;

static uint64_t next_u64(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static double unif(void)
{
    return (double)(next_u64() >> 11) * 0x1.0p-53;
}

/* the kinds of data: continuous, floats, 5 distinct values, 2 distinct values, all equal */
enum { CONT, FLOATS, FEW, TWO, CONST, KINDS };

static void fill(double *x, size_t n, int kind)
{
    for (size_t i = 0; i < n; i++) {
        double u = unif();
        switch (kind) {
        case CONT: x[i] = 3.0 * (u - 0.3) + 1e-3 * unif(); break;
        case FLOATS: x[i] = (float)(u * u - 0.2); break;
        case FEW: x[i] = floor(5 * u) - 2; break;
        case TWO: x[i] = u < 0.3 ? -0.0 : 0.0 + (u < 0.6 ? 0.0 : 1.0); break;
        default: x[i] = 0.25; break;
        }
    }
}

/* ------------------------------------------------------------ argsort */

static const double *cmp_x;

static int by_value_then_index(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    /* the radix key's order: -NaN < -inf < ... < -0 < +0 < ... < inf < +NaN */
    uint64_t u, v;
    memcpy(&u, &cmp_x[i], 8);
    memcpy(&v, &cmp_x[j], 8);
    u = (u >> 63) ? ~u : u ^ 0x8000000000000000ULL;
    v = (v >> 63) ? ~v : v ^ 0x8000000000000000ULL;
    if (u != v)
        return u < v ? -1 : 1;
    return i < j ? -1 : (i > j ? 1 : 0);
}

static void test_argsort(void)
{
    size_t sizes[] = {1, 2, 7, 100, 2049, 25000};
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
        size_t n = sizes[si];
        double *x = malloc(n * sizeof *x);
        size_t *got = malloc(n * sizeof *got), *want = malloc(n * sizeof *want);
        size_t *ib = malloc(n * sizeof *ib);
        uint64_t *kb = malloc(2 * n * sizeof *kb);
        for (int kind = 0; kind <= KINDS; kind++) {
            if (kind < KINDS) {
                fill(x, n, kind);
            } else {   /* the specials */
                fill(x, n, FEW);
                for (size_t i = 0; i < n; i += 3)
                    x[i] = (i / 3) % 4 == 0 ? INFINITY : (i / 3) % 4 == 1 ? -INFINITY
                         : (i / 3) % 4 == 2 ? NAN : -NAN;
            }
            for (size_t i = 0; i < n; i++)
                want[i] = i;
            cmp_x = x;
            qsort(want, n, sizeof *want, by_value_then_index);
            bnn_argsort_ws(x, n, got, kb, ib);
            CHECK(memcmp(got, want, n * sizeof *got) == 0, "argsort_ws n %zu kind %d", n, kind);
            memset(got, 0, n * sizeof *got);
            CHECK(bnn_argsort(x, n, got) == 0 && memcmp(got, want, n * sizeof *got) == 0,
                  "argsort n %zu kind %d", n, kind);
        }
        free(x);
        free(got);
        free(want);
        free(ib);
        free(kb);
    }
}

/* ------------------------------------------------------------ selection */

/* the former bnn_select_kth, verbatim: the reference for arrays with a NaN */
static void select_hoare_ref(double *x, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
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

static int cmp_double(const void *a, const void *b)
{
    double u = *(const double *)a, v = *(const double *)b;
    return u < v ? -1 : (u > v ? 1 : 0);
}

static void test_select(void)
{
    size_t sizes[] = {1, 2, 3, 10, 601, 602, 5000, 25001};
    int bad_value = 0, bad_side = 0, bad_set = 0, runs = 0;
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
        size_t n = sizes[si];
        double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
        double *s = malloc(n * sizeof *s), *t = malloc(n * sizeof *t);
        for (int kind = 0; kind < KINDS; kind++)
            for (int rep = 0; rep < 6; rep++) {
                fill(x, n, kind);
                memcpy(s, x, n * sizeof *s);
                qsort(s, n, sizeof *s, cmp_double);
                /* the quantiles the callers ask for, the ends, and a random one */
                size_t ks[] = {0, n - 1, (n - 1) / 2, (size_t)floor((double)(n - 1) * 0.025),
                               (size_t)floor((double)(n - 1) * 0.975),
                               (size_t)(unif() * (double)n) % n};
                for (size_t ki = 0; ki < sizeof ks / sizeof *ks; ki++) {
                    size_t k = ks[ki];
                    memcpy(y, x, n * sizeof *y);
                    bnn_select_kth(y, n, k);
                    runs++;
                    bad_value += y[k] != s[k];
                    for (size_t i = 0; i < n; i++)
                        bad_side += (i < k && y[i] > y[k]) || (i > k && y[i] < y[k]);
                    memcpy(t, y, n * sizeof *t);
                    qsort(t, n, sizeof *t, cmp_double);
                    int same = 1;   /* by value: -0 and +0 are one value to the sort */
                    for (size_t i = 0; i < n; i++)
                        same &= t[i] == s[i];
                    bad_set += !same;
                }
            }
        free(x);
        free(y);
        free(s);
        free(t);
    }
    CHECK(bad_value == 0, "select: %d of %d k-th values differ from the sort's", bad_value, runs);
    CHECK(bad_side == 0, "select: %d values on the wrong side of the k-th", bad_side);
    CHECK(bad_set == 0, "select: %d arrays lost or gained a value", bad_set);
    /* with NaNs: exactly the former arrangement (so the value at k, and the minimum after
     * it that quantile7 reads, are the former ones) */
    int nan_same = 1;
    for (int rep = 0; rep < 40; rep++) {
        size_t n = rep < 20 ? 9 + (size_t)rep : 3000 + (size_t)rep;
        double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
        fill(x, n, rep % 2 ? CONT : FEW);
        for (int j = 0; j < 1 + rep % 4; j++)
            x[(size_t)(unif() * (double)n) % n] = NAN;
        size_t k = (size_t)(unif() * (double)n) % n;
        memcpy(y, x, n * sizeof *y);
        bnn_select_kth(x, n, k);
        select_hoare_ref(y, n, k);
        for (size_t i = 0; i < n; i++)
            nan_same &= memcmp(&x[i], &y[i], sizeof x[i]) == 0;
        free(x);
        free(y);
    }
    CHECK(nan_same, "select with NaNs: the former arrangement");
}

/* ------------------------------------------------------------ order statistics by counting */

/* bnn_order_stats gives exactly the order statistics of the sorted copy, for every kind of
 * data (ties, -0/+0, one far outlier that crowds the rest into one bucket, heavy tails),
 * x left as it was; and declines (-1) for a constant, a NaN or an infinity. */
static void test_order_stats(void)
{
    size_t sizes[] = {1, 2, 3, 10, 101, 4097, 25000};
    double *x = malloc(25000 * sizeof *x), *y = malloc(25000 * sizeof *y);
    double *keep = malloc(25000 * sizeof *keep), *gather = malloc(25000 * sizeof *gather);
    uint32_t *hist = malloc(BNN_ORDER_BUCKETS * sizeof *hist);
    int runs = 0, exact = 0, declined = 0, want_declined = 0, untouched = 1;
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++)
        for (int kind = 0; kind < KINDS + 2; kind++) {
            size_t n = sizes[si];
            if (kind < KINDS) {
                fill(x, n, kind);
            } else if (kind == KINDS) {   /* one outlier: the rest in the first bucket */
                fill(x, n, CONT);
                x[n / 2] = 1e12;
            } else {   /* heavy tails */
                for (size_t i = 0; i < n; i++)
                    x[i] = tan(3.14159 * (unif() - 0.5));
            }
            memcpy(y, x, n * sizeof *y);
            qsort(y, n, sizeof *y, cmp_double);
            int constant = y[0] == y[n - 1];
            size_t r[8];
            int nr = 0;
            double prob[] = {0.025, 0.5, 0.975};
            r[nr++] = 0;
            for (int q = 0; q < 3; q++) {
                size_t k = (size_t)floor((double)(n - 1) * prob[q]);
                r[nr++] = k;
                if (k + 1 < n)
                    r[nr++] = k + 1;
            }
            r[nr++] = n - 1;
            double out[8];
            memcpy(keep, x, n * sizeof *keep);
            int got = bnn_order_stats(x, n, r, nr, out, gather, hist);
            untouched &= memcmp(keep, x, n * sizeof *x) == 0;
            runs++;
            want_declined += constant;
            if (got != 0) {
                declined += constant;
                continue;
            }
            int ok = !constant;
            for (int q = 0; q < nr; q++)   /* -0 and +0 compare equal, as selection's do */
                ok &= out[q] == y[r[q]];
            /* the ranks in descending order too (each scan starts afresh) */
            size_t rr[8];
            double back[8];
            for (int q = 0; q < nr; q++)
                rr[q] = r[nr - 1 - q];
            ok &= bnn_order_stats(x, n, rr, nr, back, gather, hist) == 0;
            for (int q = 0; q < nr; q++)
                ok &= back[q] == y[rr[q]];
            exact += ok;
        }
    x[0] = 1.0;
    x[1] = NAN;
    x[2] = 2.0;
    size_t r0 = 0;
    double o;
    int nan_declined = bnn_order_stats(x, 3, &r0, 1, &o, gather, hist) == -1;
    x[1] = INFINITY;
    int inf_declined = bnn_order_stats(x, 3, &r0, 1, &o, gather, hist) == -1;
    CHECK_VERBOSE(exact + declined == runs && declined == want_declined && untouched &&
                  nan_declined && inf_declined, "order statistics by counting = the sorted "
                  "copy's: %d of %d exact, %d constant declined (of %d), NaN/inf declined %d/%d",
                  exact, runs - want_declined, declined, want_declined, nan_declined, inf_declined);
    free(x);
    free(y);
    free(keep);
    free(gather);
    free(hist);
}

/* ------------------------------------------------------------ rank-normalised R-hat */

/* The former way, kept as the reference: z_scale by argsort of each array. */
static void z_scale_ref(double *x, size_t n)
{
    size_t *idx = malloc(n * sizeof *idx);
    bnn_argsort(x, n, idx);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && x[idx[j + 1]] == x[idx[i]])
            j++;
        double r = 0.5 * (double)(i + j) + 1.0;
        double z = gsl_cdf_ugaussian_Pinv((r - 0.375) / ((double)n - 0.75 + 1.0));
        for (size_t k = i; k <= j; k++)
            x[idx[k]] = z;
        i = j + 1;
    }
    free(idx);
}

/* posterior's .rhat as diagnostics.c computes it (the same operations in the same order) */
static double rhat_ref(const double *x, size_t M, size_t N)
{
    double lo = x[0], hi = x[0];
    for (size_t i = 0; i < M * N; i++) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
    if (N < 3 || fabs(hi - lo) < 2.220446049250313e-16)
        return NAN;
    double mm = 0, w = 0, b = 0, cm[64];
    for (size_t m = 0; m < M; m++) {
        double s = 0;
        for (size_t i = 0; i < N; i++)
            s += x[m * N + i];
        cm[m] = s / (double)N;
        double v = 0;
        for (size_t i = 0; i < N; i++)
            v += (x[m * N + i] - cm[m]) * (x[m * N + i] - cm[m]);
        w += v / (double)(N - 1);
        mm += cm[m];
    }
    w /= (double)M;
    mm /= (double)M;
    for (size_t m = 0; m < M; m++)
        b += (cm[m] - mm) * (cm[m] - mm);
    b = M > 1 ? (double)N * b / (double)(M - 1) : NAN;
    return sqrt((b / w + (double)N - 1) / (double)N);
}

static void split_ref(const double *x, size_t M, size_t N, double *out)
{
    size_t H = N / 2, second = N - H;
    for (size_t m = 0; m < M; m++) {
        memcpy(out + 2 * m * H, x + m * N, H * sizeof *out);
        memcpy(out + (2 * m + 1) * H, x + m * N + second, H * sizeof *out);
    }
}

static void rhat_ess_ref(const double *x, size_t M, size_t N, double *rhat, double *ess)
{
    size_t S = M * N, H = N / 2, SS = 2 * M * H;
    double *split = malloc(SS * sizeof *split), *s = malloc(S * sizeof *s);
    split_ref(x, M, N, split);
    z_scale_ref(split, SS);
    double rb = rhat_ref(split, 2 * M, H);
    *ess = bnn_ess(split, 2 * M, H);
    memcpy(s, x, S * sizeof *s);
    qsort(s, S, sizeof *s, cmp_double);
    double med = S % 2 ? s[(S - 1) / 2] : 0.5 * (s[(S - 1) / 2] + s[S / 2]);
    for (size_t i = 0; i < S; i++)
        s[i] = fabs(x[i] - med);
    split_ref(s, M, N, split);
    z_scale_ref(split, SS);
    double rt = rhat_ref(split, 2 * M, H);
    *rhat = isnan(rb) || isnan(rt) ? NAN : fmax(rb, rt);
    free(split);
    free(s);
}

static int same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0 || (isnan(a) && isnan(b));
}

static void test_rhat_work(void)
{
    size_t shapes[][2] = {{4, 100}, {5, 101}, {2, 7}, {5, 2000}, {1, 50}};
    int runs = 0, bad = 0, finite = 0;
    for (size_t sh = 0; sh < sizeof shapes / sizeof *shapes; sh++) {
        size_t M = shapes[sh][0], N = shapes[sh][1], S = M * N;
        bnn_diag_work *w = bnn_diag_work_new(M, N);
        CHECK(w != NULL, "diag work %zu x %zu", M, N);
        if (!w)
            continue;
        double *x = malloc(S * sizeof *x);
        for (int kind = 0; kind < KINDS + 3; kind++)
            for (int rep = 0; rep < 3; rep++) {   /* one workspace reused throughout */
                if (kind < KINDS)
                    fill(x, S, kind);
                else   /* a sampler that rejects: runs of one draw (the ranks by runs) */
                    for (size_t i = 0; i < S; i++) {
                        double v = unif();
                        if (i % N != 0 && unif() < 0.95) {
                            x[i] = x[i - 1];
                            continue;
                        }
                        if (kind == KINDS)   /* continuous, the chains apart */
                            x[i] = 3 * v + 0.1 * (double)(i / N);
                        else if (kind == KINDS + 1)   /* ties across runs, mirrored values */
                            x[i] = floor(7 * v) - 3 + (rep == 1 && v < 0.5 ? 0.5 : 0);
                        else   /* -0 and +0 among them */
                            x[i] = v < 0.4 ? -0.0 : v < 0.8 ? 0.0 : 1.0 + (double)(i / N);
                    }
                if (kind == CONT)   /* chains apart: R-hat well above 1 */
                    for (size_t i = 0; i < S; i++)
                        x[i] += 0.5 * (double)(i / N);
                if (kind == FEW && rep == 2)   /* values mirrored about the median */
                    for (size_t i = 0; i < S; i++)
                        x[i] = (double)((int)(i % 7) - 3) + (i % 2 ? 0.5 : 0.0);
                double r1, e1, r2, e2;
                rhat_ess_ref(x, M, N, &r1, &e1);
                CHECK(bnn_rhat_ess_bulk_work(w, x, &r2, &e2) == BNN_OK, "work status");
                int ok = same_bits(r1, r2) && same_bits(e1, e2);
                if (N < 4 || kind == CONST)   /* the guard's NaN */
                    ok &= isnan(r2) && isnan(e2);
                runs++;
                bad += !ok;
                finite += isfinite(r2);
                if (!ok)
                    printf("  %zu x %zu kind %d rep %d: rhat %.17g vs %.17g, ess %.17g vs %.17g\n",
                           M, N, kind, rep, r2, r1, e2, e1);
                double r3, e3;
                bnn_rhat_ess_bulk(x, M, N, &r3, &e3);
                bad += !(same_bits(r3, r2) && same_bits(e3, e2));
                /* the summary's path: its median given (odd N too) */
                bnn_summary o;
                bnn_summarise(x, M, N, &o);
                if (!(same_bits(o.rhat, r1) && same_bits(o.ess_bulk, e1))) {
                    bad++;
                    printf("  summary %zu x %zu kind %d rep %d: rhat %.17g vs %.17g, ess %.17g vs %.17g\n",
                           M, N, kind, rep, o.rhat, r1, o.ess_bulk, e1);
                }
            }
        free(x);
        bnn_diag_work_free(w);
    }
    CHECK(bad == 0, "rhat/ess by the shared sort: %d of %d differ from the former way", bad, runs);
    CHECK(finite > runs / 2, "rhat: %d of %d finite (the comparisons are not all NaN = NaN)",
          finite, runs);
}

int main(void)
{
    test_argsort();
    test_select();
    test_order_stats();
    test_rhat_work();
    return check_done("test_order");
}
