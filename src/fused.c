/* fused.c — the log-likelihood and its gradient for a network with one hidden layer, in
 * one pass over the data, eight rows at a time.
 *
 * The study's networks are tiny (4..34 inputs, 10 hidden units, 1..3 outputs): through BLAS
 * each of the five matrix products per evaluation costs more in call overhead and in
 * writing intermediate matrices than in arithmetic. Here each SIMD lane carries one row:
 * the forward pass, the activation, the output, the residual and every gradient term of a
 * block of eight rows happen while the block is in registers, and the gradient is summed
 * lane-wise, so no horizontal reduction happens inside the loop (an earlier prototype that
 * looped over rows one at a time lost to BLAS on exactly those reductions).
 *
 * The data are repacked once, block by block and feature-major within a block
 * (x[block][feature][lane]), so a feature of eight rows is one contiguous vector load. The
 * last block is padded with zero rows whose mask is 0.
 *
 * GCC's vector extension gives the 8-lane type; target_clones compiles the kernel for
 * AVX-512, AVX2 and the x86-64 baseline and picks one at load time. exp and log are
 * written here on those vectors (Cody-Waite reduction, Taylor/atanh series to double
 * precision; tests/test_model.c checks them against libm), so this file needs no fast-math
 * and keeps IEEE semantics: summation order is fixed, so results are reproducible. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define VL 8

/* Every helper must be inlined: a 64-byte vector passed between functions compiled for
 * different targets would not agree on how it is passed. */
#define INLINE __attribute__((always_inline))

typedef double vd __attribute__((vector_size(VL * sizeof(double))));
typedef long long vi __attribute__((vector_size(VL * sizeof(long long))));

struct bnn_fused {
    int D, H, K;                  /* inputs, hidden units, outputs */
    bnn_activation hidden, out;   /* out: IDENTITY, SIGMOID or SOFTMAX */
    size_t nblk;
    double *x;                    /* nblk x D x VL */
    double *y;                    /* regression: nblk x VL; softmax: one-hot nblk x K x VL */
    double *mask;                 /* nblk x VL: 1 for a row, 0 for padding */
};

/* ------------------------------------------------------------ vector helpers */

static inline INLINE vd ld(const double *p)
{
    vd v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline INLINE void st(double *p, vd v) { memcpy(p, &v, sizeof v); }

static inline INLINE vd splat(double a)
{
    vd v = {0};
    return v + a;
}

static inline INLINE vd sel(vi m, vd a, vd b) { return (vd)((m & (vi)a) | (~m & (vi)b)); }

static inline INLINE vd vmin(vd a, vd b) { return sel((vi)(a < b), a, b); }

static inline INLINE vd vmax(vd a, vd b) { return sel((vi)(a > b), a, b); }

static inline INLINE double hsum(vd v)
{
    double s = 0.0;
    for (int l = 0; l < VL; l++)
        s += v[l];
    return s;
}

#define SHIFT 0x1.8p52        /* adding it rounds to an integer kept in the low bits */
#define LN2_HI 0x1.62e42fee00000p-1
#define LN2_LO 0x1.a39ef35793c76p-33

/* exp(x), x clamped to [-708, 708] so that 2^k stays a normal number: relative error
 * about 1e-16 (|r| <= ln2/2, Taylor to r^13, remainder below 4e-18). */
static inline INLINE vd vexp(vd x)
{
    x = vmax(vmin(x, splat(708.0)), splat(-708.0));
    vd t = x * splat(0x1.71547652b82fep0) + splat(SHIFT);
    vd k = t - splat(SHIFT);
    vd r = x - k * splat(LN2_HI);
    r = r - k * splat(LN2_LO);
    vd p = splat(1.0 / 6227020800.0);
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    vi ki = (vi)t - (vi)splat(SHIFT);
    vd scale = (vd)((ki + 1023) << 52);
    return p * scale;
}

/* log(s) for normal positive s: s = 2^e m with m in [sqrt(1/2), sqrt(2)), and
 * log m = 2 atanh(f), f = (m-1)/(m+1), |f| <= 0.172, series to f^23. */
static inline INLINE vd vlog(vd s)
{
    vi b = (vi)s;
    vi e = (b >> 52) - 1023;
    vd m = (vd)((b & 0x000fffffffffffffLL) | 0x3ff0000000000000LL);
    vi big = (vi)(m > splat(0x1.6a09e667f3bcdp0));
    m = sel(big, m * 0.5, m);
    e = e - big; /* big is -1 where true */
    vd f = (m - 1.0) / (m + 1.0), f2 = f * f;
    vd q = splat(1.0 / 23);
    q = q * f2 + 1.0 / 21;
    q = q * f2 + 1.0 / 19;
    q = q * f2 + 1.0 / 17;
    q = q * f2 + 1.0 / 15;
    q = q * f2 + 1.0 / 13;
    q = q * f2 + 1.0 / 11;
    q = q * f2 + 1.0 / 9;
    q = q * f2 + 1.0 / 7;
    q = q * f2 + 1.0 / 5;
    q = q * f2 + 1.0 / 3;
    q = q * f2 + 1.0;
    vd ed = (vd)(e + (vi)splat(SHIFT)) - SHIFT;
    return ed * LN2_HI + (ed * LN2_LO + 2.0 * f * q);
}

static inline INLINE vd act(bnn_activation a, vd z)
{
    switch (a) {
    case BNN_ACT_SIGMOID:
        return 1.0 / (1.0 + vexp(-z));
    case BNN_ACT_TANH:
        return 1.0 - 2.0 / (1.0 + vexp(2.0 * z));
    case BNN_ACT_RELU:
        return vmax(z, splat(0.0));
    default:
        return z;
    }
}

/* act'(z) written in terms of a = act(z) */
static inline INLINE vd act_d(bnn_activation a, vd v)
{
    switch (a) {
    case BNN_ACT_SIGMOID:
        return v * (1.0 - v);
    case BNN_ACT_TANH:
        return 1.0 - v * v;
    case BNN_ACT_RELU:
        return (vd)((vi)(v > splat(0.0)) & (vi)splat(1.0));
    default:
        return splat(1.0);
    }
}

/* ------------------------------------------------------------ the kernel */

/* Work: per block, the hidden activations A (H vectors), the output deltas DO (K) and the
 * hidden deltas DH (H). */
size_t bnn_fused_work(const bnn_fused *f)
{
    return f->nblk * VL * (2 * (size_t)f->H + (size_t)f->K);
}

/* out (p x q, row-major) = sum over rows of X^T Y, where X and Y are stored block by block
 * (X[blk][p][VL], Y[blk][q][VL]). The TP x TQ tile of sums stays in registers for the whole
 * pass over the blocks: TP + TQ loads feed TP * TQ fused multiply-adds. */
static inline INLINE void xty_tile(const double *X, int p, const double *Y, int q,
                                   size_t nblk, double *out, int i0, int j0, int TP, int TQ)
{
    vd acc[4][4];
    for (int a = 0; a < TP; a++)
        for (int b = 0; b < TQ; b++)
            acc[a][b] = splat(0.0);
    for (size_t blk = 0; blk < nblk; blk++) {
        const double *xb = X + (blk * (size_t)p + (size_t)i0) * VL;
        const double *yb = Y + (blk * (size_t)q + (size_t)j0) * VL;
        vd xv[4], yv[4];
        for (int a = 0; a < TP; a++)
            xv[a] = ld(xb + a * VL);
        for (int b = 0; b < TQ; b++)
            yv[b] = ld(yb + b * VL);
        for (int a = 0; a < TP; a++)
            for (int b = 0; b < TQ; b++)
                acc[a][b] += xv[a] * yv[b];
    }
    for (int a = 0; a < TP; a++)
        for (int b = 0; b < TQ; b++)
            out[(i0 + a) * q + j0 + b] = hsum(acc[a][b]);
}

static inline INLINE void xty(const double *X, int p, const double *Y, int q, size_t nblk,
                              double *out)
{
    int i = 0;
    for (; i + 4 <= p; i += 4) {
        int j = 0;
        for (; j + 4 <= q; j += 4)
            xty_tile(X, p, Y, q, nblk, out, i, j, 4, 4);
        for (; j < q; j++)
            xty_tile(X, p, Y, q, nblk, out, i, j, 4, 1);
    }
    for (; i < p; i++) {
        int j = 0;
        for (; j + 4 <= q; j += 4)
            xty_tile(X, p, Y, q, nblk, out, i, j, 1, 4);
        for (; j < q; j++)
            xty_tile(X, p, Y, q, nblk, out, i, j, 1, 1);
    }
}

/* out (q) = column sums of Y (stored as in xty) */
static inline INLINE void colsum(const double *Y, int q, size_t nblk, double *out)
{
    for (int j = 0; j < q; j++) {
        vd acc = splat(0.0);
        for (size_t blk = 0; blk < nblk; blk++)
            acc += ld(Y + (blk * (size_t)q + (size_t)j) * VL);
        out[j] = hsum(acc);
    }
}

/* Inlined into each clone with constant activations, so the compiler removes every branch
 * on them from the row loop. Returns the sum of squared residuals (regression) or the
 * log-likelihood (softmax); g receives sum_i r_i d f_i / d theta (regression: the data part
 * of the gradient before the factor 1/tau^2) or d loglik / d theta (softmax).
 *
 * Pass 1, block by block: forward, output, deltas (A, DO, DH kept in work). Pass 2: the
 * weight gradients as the products A^T DO and X^T DH with register tiles: accumulating
 * them inside pass 1 would load and store D*H accumulators per block, which measured
 * slower than BLAS on ionosphere's 34 inputs. */
static inline INLINE double kernel(const bnn_fused *f, const double *restrict theta,
                                   double *restrict g, double *restrict work,
                                   bnn_activation hid, bnn_activation out)
{
    const int D = f->D, H = f->H, K = f->K;
    const size_t nblk = f->nblk;
    const double *W1 = theta, *b1 = W1 + D * H, *W2 = b1 + H, *b2 = W2 + H * K;
    double *A = work, *DO = A + nblk * VL * (size_t)H, *DH = DO + nblk * VL * (size_t)K;
    vd acc = splat(0.0);
    for (size_t blk = 0; blk < nblk; blk++) {
        const double *xb = f->x + blk * (size_t)D * VL;
        double *Ab = A + blk * (size_t)H * VL, *Ob = DO + blk * (size_t)K * VL;
        double *Hb = DH + blk * (size_t)H * VL;
        vd mask = ld(f->mask + blk * VL);
        for (int k = 0; k < K; k++)
            st(Ob + k * VL, splat(b2[k]));
        int j = 0;
        for (; j + 4 <= H; j += 4) {
            vd z[4];
            for (int t = 0; t < 4; t++)
                z[t] = splat(b1[j + t]);
            for (int d = 0; d < D; d++) {
                vd xv = ld(xb + d * VL);
                for (int t = 0; t < 4; t++)
                    z[t] += splat(W1[d * H + j + t]) * xv;
            }
            for (int t = 0; t < 4; t++) {
                vd a = act(hid, z[t]);
                st(Ab + (j + t) * VL, a);
                for (int k = 0; k < K; k++)
                    st(Ob + k * VL, ld(Ob + k * VL) + splat(W2[(j + t) * K + k]) * a);
            }
        }
        for (; j < H; j++) {
            vd z = splat(b1[j]);
            for (int d = 0; d < D; d++)
                z += splat(W1[d * H + j]) * ld(xb + d * VL);
            vd a = act(hid, z);
            st(Ab + j * VL, a);
            for (int k = 0; k < K; k++)
                st(Ob + k * VL, ld(Ob + k * VL) + splat(W2[j * K + k]) * a);
        }
        if (out != BNN_ACT_SOFTMAX) {
            vd o = act(out, ld(Ob));
            vd r = (ld(f->y + blk * VL) - o) * mask;
            acc += r * r;
            st(Ob, out == BNN_ACT_SIGMOID ? r * o * (1.0 - o) : r);
        } else {
            vd mx = ld(Ob);
            for (int k = 1; k < K; k++)
                mx = vmax(mx, ld(Ob + k * VL));
            const double *yb = f->y + blk * (size_t)K * VL;
            vd s = splat(0.0), zy = splat(0.0);
            for (int k = 0; k < K; k++) {
                vd o = ld(Ob + k * VL);
                zy += ld(yb + k * VL) * o;
                vd e = vexp(o - mx);
                s += e;
                st(Ob + k * VL, e);
            }
            /* z_y - log sum exp z, exact however far z_y is below the maximum */
            acc += mask * ((zy - mx) - vlog(s));
            vd inv = mask / s;
            for (int k = 0; k < K; k++)
                st(Ob + k * VL, ld(yb + k * VL) * mask - ld(Ob + k * VL) * inv);
        }
        /* Ob: d/dz of the output layer per row (0 on pad rows); back to the hidden layer */
        for (int jj = 0; jj < H; jj++) {
            vd back = splat(0.0);
            for (int k = 0; k < K; k++)
                back += splat(W2[jj * K + k]) * ld(Ob + k * VL);
            st(Hb + jj * VL, back * act_d(hid, ld(Ab + jj * VL)));
        }
    }
    if (g) {
        double *gW1 = g, *gb1 = gW1 + D * H, *gW2 = gb1 + H, *gb2 = gW2 + H * K;
        xty(f->x, D, DH, H, nblk, gW1);
        colsum(DH, H, nblk, gb1);
        xty(A, H, DO, K, nblk, gW2);
        colsum(DO, K, nblk, gb2);
    }
    return hsum(acc);
}

#define CASE(h, o) \
    if (f->hidden == (h) && f->out == (o)) \
        return kernel(f, theta, g, work, h, o);

__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"))) double
bnn_fused_eval(const bnn_fused *f, const double *theta, double *g, double *work)
{
    CASE(BNN_ACT_SIGMOID, BNN_ACT_SIGMOID)
    CASE(BNN_ACT_SIGMOID, BNN_ACT_IDENTITY)
    CASE(BNN_ACT_SIGMOID, BNN_ACT_SOFTMAX)
    CASE(BNN_ACT_TANH, BNN_ACT_SIGMOID)
    CASE(BNN_ACT_TANH, BNN_ACT_IDENTITY)
    CASE(BNN_ACT_TANH, BNN_ACT_SOFTMAX)
    CASE(BNN_ACT_RELU, BNN_ACT_SIGMOID)
    CASE(BNN_ACT_RELU, BNN_ACT_IDENTITY)
    CASE(BNN_ACT_RELU, BNN_ACT_SOFTMAX)
    return NAN;
}

/* ------------------------------------------------------------ construction */

bnn_fused *bnn_fused_new(const double *x, const double *y, const int *label, size_t n, int D,
                         int H, int K, bnn_activation hidden, bnn_activation out)
{
    bnn_fused *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->D = D;
    f->H = H;
    f->K = K;
    f->hidden = hidden;
    f->out = out;
    f->nblk = (n + VL - 1) / VL;
    size_t rows = f->nblk * VL, ny = out == BNN_ACT_SOFTMAX ? (size_t)K : 1;
    f->x = calloc(rows * (size_t)D, sizeof *f->x);
    f->y = calloc(rows * ny, sizeof *f->y);
    f->mask = calloc(rows, sizeof *f->mask);
    if (!f->x || !f->y || !f->mask) {
        bnn_fused_free(f);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        size_t blk = i / VL, lane = i % VL;
        for (int d = 0; d < D; d++)
            f->x[(blk * (size_t)D + (size_t)d) * VL + lane] = x[i * (size_t)D + (size_t)d];
        if (out == BNN_ACT_SOFTMAX)
            f->y[(blk * (size_t)K + (size_t)label[i]) * VL + lane] = 1.0;
        else
            f->y[blk * VL + lane] = y[i];
        f->mask[i] = 1.0;
    }
    return f;
}

void bnn_fused_free(bnn_fused *f)
{
    if (!f)
        return;
    free(f->x);
    free(f->y);
    free(f->mask);
    free(f);
}

/* The vector exp and log, one value at a time, for tests/test_model.c. */
void bnn_fused_exp_log(double x, double *e, double *l)
{
    vd v = splat(x);
    *e = vexp(v)[0];
    *l = vlog(v)[0];
}
