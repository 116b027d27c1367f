/* fused_simd.h — the fused one-hidden-layer kernel, written once for a lane count VL
 * and a precision, and included by fused8.c (VL 8: AVX-512) and fused4.c (VL 4: AVX2) in
 * double, fused16f.c (VL 16: AVX-512) and fused8f.c (VL 8: AVX2) in single (FUSED_SINGLE),
 * each of which defines VL, FUSED_NAME(name) (the name with its lane count appended) and
 * FUSED_TARGETS (the target_clones the instance is compiled for). fused.c packs the data
 * and picks the instance.
 *
 * The study's networks are tiny (4..34 inputs, 10 hidden units, 1..3 outputs): through BLAS
 * each of the five matrix products per evaluation costs more in call overhead and in
 * writing intermediate matrices than in arithmetic. Here each SIMD lane carries one row,
 * and the gradient is summed lane-wise, so no horizontal reduction happens inside any loop
 * over rows (an earlier prototype that looped over rows one at a time lost to BLAS on
 * exactly those reductions).
 *
 * The data are packed block by block and feature-major within a block (fused.h), so a
 * feature of VL rows is one contiguous vector load.
 *
 * GCC's vector extension gives the VL-lane type. exp and log are written here on those
 * vectors (Taylor polynomials, with a table for 8 doubles or 16 floats; atanh series; each
 * to its precision; tests/test_model.c checks them against libm), so these files need no
 * fast-math and keep IEEE semantics: summation order is fixed, results reproducible.
 *
 * Where the time goes (perf, sunspot's network, about 5 us per call, 8 lanes on AVX-512):
 * the exponentials of the hidden units are about half of the vector instructions, the
 * forward products a quarter; the loop is bound by floating-point throughput (about one
 * 8-lane operation per cycle on Zen 4, which splits each into two 4-lane halves). Writing
 * splat() as a brace initialiser instead of 0 + a made GCC hoist every constant into
 * registers and spill: 40% slower. 8-lane vectors on a processor with only AVX2 run as
 * emulated pairs in 16 registers instead of 32, and were slower than the BLAS path: hence
 * the 4-lane instance. */
#include <math.h>
#include <string.h>

#include "fused.h"

#if !defined(VL) || !defined(FUSED_NAME) || !defined(FUSED_TARGETS)
#error "define VL, FUSED_NAME and FUSED_TARGETS before including fused_simd.h"
#endif

/* FUSED_SINGLE (fused16f.c, fused8f.c): the rows' products, activations and deltas in
 * single precision, twice the lanes per vector. The residuals' squares (or the softmax's
 * log-likelihood terms) and the centred level's means are summed in double; the gradient's
 * products in float. The log density differs from the double instances' by a median of
 * 5e-5 at abalone's draws (bench/precision_error.c; tests/test_model.c bounds it). */
#ifndef FUSED_SINGLE
#define FUSED_SINGLE 0
#endif
#if FUSED_SINGLE
typedef float ft;
typedef int it;
#else
typedef double ft;
typedef long long it;
#endif

/* The register tile of the gradient products (xty): TP x TQ accumulators plus TP + TQ
 * operands must fit the register file (32 vectors with AVX-512, 16 with AVX2). */
#if VL * 4 * (2 - FUSED_SINGLE) == 64
#define TP_MAX 4
#define TQ_MAX 4
#else
#define TP_MAX 2
#define TQ_MAX 4
#endif

/* Every helper must be inlined: a vector passed between functions compiled for different
 * targets would not agree on how it is passed. */
#define INLINE __attribute__((always_inline))

/* vd: VL lanes of the element type ft; vacc: VL doubles, the loss's accumulator */
typedef ft vd __attribute__((vector_size(VL * sizeof(ft))));
typedef it vi __attribute__((vector_size(VL * sizeof(it))));
typedef double vacc __attribute__((vector_size(VL * sizeof(double))));
#if FUSED_SINGLE
#define TOACC(v) __builtin_convertvector((v), vacc)
#else
#define TOACC(v) (v)
#endif
/* a constant in the element type (GCC refuses a double scalar beside a float vector) */
#define C(x) ((ft)(x))

/* ------------------------------------------------------------ vector helpers */

static inline INLINE vd ld(const ft *p)
{
    vd v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline INLINE void st(ft *p, vd v) { memcpy(p, &v, sizeof v); }

static inline INLINE vd splat(ft a)
{
    vd v = {0};
    return v + a;
}

static inline INLINE vd sel(vi m, vd a, vd b) { return (vd)((m & (vi)a) | (~m & (vi)b)); }

static inline INLINE vd vmin(vd a, vd b) { return sel((vi)(a < b), a, b); }

static inline INLINE vd vmax(vd a, vd b) { return sel((vi)(a > b), a, b); }

/* the sum of the lanes, as a tree of shuffles (a fixed order, so reproducible) */
static inline INLINE ft hsum(vd v)
{
#if VL == 16
    v += __builtin_shuffle(v, (vi){8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7});
    v += __builtin_shuffle(v, (vi){4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11});
    v += __builtin_shuffle(v, (vi){2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13});
    v += __builtin_shuffle(v, (vi){1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14});
#elif VL == 8
    v += __builtin_shuffle(v, (vi){4, 5, 6, 7, 0, 1, 2, 3});
    v += __builtin_shuffle(v, (vi){2, 3, 0, 1, 6, 7, 4, 5});
    v += __builtin_shuffle(v, (vi){1, 0, 3, 2, 5, 4, 7, 6});
#else
    v += __builtin_shuffle(v, (vi){2, 3, 0, 1});
    v += __builtin_shuffle(v, (vi){1, 0, 3, 2});
#endif
    return v[0];
}

/* the loss's accumulator summed: the lanes' tree where it is vd (the double instances, whose
 * sums are as they always were), in lane order otherwise */
static inline INLINE double hsum_acc(vacc v)
{
#if FUSED_SINGLE
    double s = 0.0;
    for (int i = 0; i < VL; i++)
        s += v[i];
    return s;
#else
    return hsum(v);
#endif
}

#if FUSED_SINGLE
#define SHIFT 0x1.8p23f       /* adding it rounds to an integer kept in the low bits */
#define LN2_HI 0x1.63p-1f     /* 9 significant bits: k LN2_HI is exact */
#define LN2_LO -0x1.bd0106p-13f
#define EXP_MAX 87.0f         /* the scale 2^m stays normal */
#define EXP_BIAS 127
#define MANT_BITS 23
#define MANT_MASK 0x007fffff
#define ONE_BITS 0x3f800000
#else
#define SHIFT 0x1.8p52        /* adding it rounds to an integer kept in the low bits */
#define LN2_HI 0x1.62e42fee00000p-1
#define LN2_LO 0x1.a39ef35793c76p-33
#define EXP_MAX 708.0         /* the scale 2^m stays normal */
#define EXP_BIAS 1023
#define MANT_BITS 52
#define MANT_MASK 0x000fffffffffffffLL
#define ONE_BITS 0x3ff0000000000000LL
#endif

#if FUSED_SINGLE && VL == 16
/* exp(x) in single precision for x clamped to [-87, 87]: as the double 8-lane instance's
 * below, with the 16-entry table in one vector (a one-source lane permute) and exp(r),
 * |r| <= ln2/32, to r^4 (remainder below 4e-11). */
static inline INLINE vd vexp(vd x)
{
    const vd T = {0x1.000000p+0f, 0x1.0b5586p+0f, 0x1.172b84p+0f, 0x1.2387a6p+0f,
                  0x1.306fe0p+0f, 0x1.3dea64p+0f, 0x1.4bfdaep+0f, 0x1.5ab07ep+0f,
                  0x1.6a09e6p+0f, 0x1.7a1148p+0f, 0x1.8ace54p+0f, 0x1.9c4918p+0f,
                  0x1.ae89fap+0f, 0x1.c199bep+0f, 0x1.d5818ep+0f, 0x1.ea4afap+0f};
    x = vmax(vmin(x, splat(EXP_MAX)), splat(-EXP_MAX));
    vd t = x * splat(0x1.715476p4f) + splat(SHIFT);
    vd k = t - splat(SHIFT);
    vd r = x - k * splat(LN2_HI / 16);
    r = r - k * splat(LN2_LO / 16);
    vd p = splat(C(1.0 / 24.0));
    p = p * r + C(1.0 / 6.0);
    p = p * r + C(0.5);
    p = p * r + C(1.0);
    p = p * r + C(1.0);
    vi ki = (vi)t - (vi)splat(SHIFT);
    vd tj = __builtin_shuffle(T, ki & 15);
    vd scale = (vd)(((ki >> 4) + EXP_BIAS) << MANT_BITS);
    return p * tj * scale;
}
#elif FUSED_SINGLE
/* exp(x) in single precision for x clamped to [-87, 87]: x = m ln2 + r, |r| <= ln2/2,
 * exp(r) to r^7 (remainder below 6e-9). */
static inline INLINE vd vexp(vd x)
{
    x = vmax(vmin(x, splat(EXP_MAX)), splat(-EXP_MAX));
    vd t = x * splat(0x1.715476p0f) + splat(SHIFT);
    vd k = t - splat(SHIFT);
    vd r = x - k * splat(LN2_HI);
    r = r - k * splat(LN2_LO);
    vd p = splat(C(1.0 / 5040.0));
    p = p * r + C(1.0 / 720.0);
    p = p * r + C(1.0 / 120.0);
    p = p * r + C(1.0 / 24.0);
    p = p * r + C(1.0 / 6.0);
    p = p * r + C(0.5);
    p = p * r + C(1.0);
    p = p * r + C(1.0);
    vi ki = (vi)t - (vi)splat(SHIFT);
    vd scale = (vd)((ki + EXP_BIAS) << MANT_BITS);
    return p * scale;
}
#elif VL == 8
/* exp(x) for x clamped to [-708, 708], so that the scale 2^m stays normal:
 * x = (16m + j) ln2/16 + r with |r| <= ln2/32, exp(x) = 2^m 2^(j/16) exp(r); 2^(j/16) comes
 * from a 16-entry table held in two vectors (a two-source lane permute, not a memory
 * gather) and exp(r) from its Taylor polynomial to r^6 (remainder below 5e-16).
 * tests/test_model.c measures the relative error against libm: 4e-16. */
static inline INLINE vd vexp(vd x)
{
    const vd T0 = {0x1.0000000000000p+0, 0x1.0b5586cf9890fp+0, 0x1.172b83c7d517bp+0, 0x1.2387a6e756238p+0, 0x1.306fe0a31b715p+0, 0x1.3dea64c123422p+0, 0x1.4bfdad5362a27p+0, 0x1.5ab07dd485429p+0};
    const vd T1 = {0x1.6a09e667f3bcdp+0, 0x1.7a11473eb0187p+0, 0x1.8ace5422aa0dbp+0, 0x1.9c49182a3f090p+0, 0x1.ae89f995ad3adp+0, 0x1.c199bdd85529cp+0, 0x1.d5818dcfba487p+0, 0x1.ea4afa2a490dap+0};
    x = vmax(vmin(x, splat(708.0)), splat(-708.0));
    vd t = x * splat(0x1.71547652b82fep4) + splat(SHIFT);
    vd k = t - splat(SHIFT);
    vd r = x - k * splat(LN2_HI / 16);
    r = r - k * splat(LN2_LO / 16);
    vd p = splat(1.0 / 720.0);
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    vi ki = (vi)t - (vi)splat(SHIFT);
    vd tj = __builtin_shuffle(T0, T1, ki & 15);
    vd scale = (vd)(((ki >> 4) + 1023) << 52);
    return p * tj * scale;
}
#else
/* exp(x) for x clamped to [-708, 708], so that the scale 2^m stays normal:
 * x = m ln2 + r with |r| <= ln2/2, exp(x) = 2^m exp(r), exp(r) from its Taylor polynomial
 * to r^13 (remainder below 5e-18). No table: on 4 lanes a 16-entry table would need a
 * two-source permute that AVX2 does not have. tests/test_model.c measures the relative
 * error against libm. */
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
#endif

/* log(s) for normal positive s: s = 2^e m with m in [sqrt(1/2), sqrt(2)), and
 * log m = 2 atanh(f), f = (m-1)/(m+1), |f| <= 0.172, series to f^23 (double) or f^11
 * (single: remainder below 1e-10). */
static inline INLINE vd vlog(vd s)
{
    vi b = (vi)s;
    vi e = (b >> MANT_BITS) - EXP_BIAS;
    vd m = (vd)((b & MANT_MASK) | ONE_BITS);
    vi big = (vi)(m > splat(C(0x1.6a09e667f3bcdp0)));
    m = sel(big, m * C(0.5), m);
    e = e - big; /* big is -1 where true */
    vd f = (m - C(1.0)) / (m + C(1.0)), f2 = f * f;
#if FUSED_SINGLE
    vd q = splat(C(1.0 / 11));
#else
    vd q = splat(1.0 / 23);
    q = q * f2 + 1.0 / 21;
    q = q * f2 + 1.0 / 19;
    q = q * f2 + 1.0 / 17;
    q = q * f2 + 1.0 / 15;
    q = q * f2 + 1.0 / 13;
    q = q * f2 + 1.0 / 11;
#endif
    q = q * f2 + C(1.0 / 9);
    q = q * f2 + C(1.0 / 7);
    q = q * f2 + C(1.0 / 5);
    q = q * f2 + C(1.0 / 3);
    q = q * f2 + C(1.0);
    vd ed = (vd)(e + (vi)splat(SHIFT)) - SHIFT;
    return ed * LN2_HI + (ed * LN2_LO + C(2.0) * f * q);
}

static inline INLINE vd act(int a, vd z)
{
    switch (a) {
    case BNN_FUSED_SIGMOID:
        return C(1.0) / (C(1.0) + vexp(-z));
    case BNN_FUSED_TANH:
        return C(1.0) - C(2.0) / (C(1.0) + vexp(C(2.0) * z));
    case BNN_FUSED_RELU:
        return vmax(z, splat(C(0.0)));
    default:
        return z;
    }
}

/* act'(z) written in terms of a = act(z) */
static inline INLINE vd act_d(int a, vd v)
{
    switch (a) {
    case BNN_FUSED_SIGMOID:
        return v * (C(1.0) - v);
    case BNN_FUSED_TANH:
        return C(1.0) - v * v;
    case BNN_FUSED_RELU:
        return (vd)((vi)(v > splat(C(0.0))) & (vi)splat(C(1.0)));
    default:
        return splat(C(1.0));
    }
}


/* ------------------------------------------------------------ the kernel */

/* out (p x q, row-major) = sum over rows of X^T Y, where X and Y are stored block by block
 * (X[blk][p][VL], Y[blk][q][VL]). The TP x TQ tile of sums stays in registers for the whole
 * pass over the blocks: TP + TQ loads feed TP * TQ fused multiply-adds. */
static inline INLINE void xty_tile(const ft *X, int p, const ft *Y, int q,
                                   size_t nblk, double *out, int i0, int j0, int TP, int TQ)
{
    vd acc[TP_MAX][TQ_MAX];
    for (int a = 0; a < TP; a++)
        for (int b = 0; b < TQ; b++)
            acc[a][b] = splat(C(0.0));
    for (size_t blk = 0; blk < nblk; blk++) {
        const ft *xb = X + (blk * (size_t)p + (size_t)i0) * VL;
        const ft *yb = Y + (blk * (size_t)q + (size_t)j0) * VL;
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

static inline INLINE void xty(const ft *X, int p, const ft *Y, int q, size_t nblk,
                              double *out)
{
    int i = 0;
    for (; i + TP_MAX <= p; i += TP_MAX) {
        int j = 0;
        for (; j + TQ_MAX <= q; j += TQ_MAX)
            xty_tile(X, p, Y, q, nblk, out, i, j, TP_MAX, TQ_MAX);
        for (; j < q; j++)
            xty_tile(X, p, Y, q, nblk, out, i, j, TP_MAX, 1);
    }
    for (; i < p; i++) {
        int j = 0;
        for (; j + TQ_MAX <= q; j += TQ_MAX)
            xty_tile(X, p, Y, q, nblk, out, i, j, 1, TQ_MAX);
        for (; j < q; j++)
            xty_tile(X, p, Y, q, nblk, out, i, j, 1, 1);
    }
}

/* out (q) = column sums of Y (stored as in xty) */
static inline INLINE void colsum(const ft *Y, int q, size_t nblk, double *out)
{
    for (int j = 0; j < q; j++) {
        vd acc = splat(C(0.0));
        for (size_t blk = 0; blk < nblk; blk++)
            acc += ld(Y + (blk * (size_t)q + (size_t)j) * VL);
        out[j] = hsum(acc);
    }
}

/* Inlined into each clone with constant activations (and, for the common output counts, a
 * constant K), so the compiler removes every branch on them from the row loops and keeps
 * the per-row outputs in registers. Returns the sum of squared residuals (regression) or
 * the log-likelihood (softmax); g receives sum_i r_i d f_i / d theta (regression: the data
 * part of the gradient before the factor 1/tau^2) or d loglik / d theta (softmax).
 *
 * Three passes over the blocks: (1) hidden activations A; (2) outputs, loss and deltas DO
 * of the output layer, DH of the hidden layer; (3) the weight gradients as the products
 * X^T DH and A^T DO with register tiles. Separate passes, not one: the first version
 * summed the outputs in memory inside the hidden-unit loop, a serial load-add-store chain
 * (27% slower on sunspot), and accumulating the gradient inside the row loop loads and
 * stores D*H accumulators per block (slower than BLAS on ionosphere's 34 inputs). */
#if FUSED_SINGLE
#define DATA(f, a) ((f)->a##s)
#else
#define DATA(f, a) ((f)->a)
#endif

static inline INLINE double kernel(const bnn_fused *f, const double *restrict theta,
                                   double *restrict g, double *restrict work,
                                   double *restrict cs, int hid, int out, int K)
{
    const int D = f->D, H = f->H;
    const size_t nblk = f->nblk;
    if (K < 1 || K > BNN_FUSED_MAXK) /* never (bnn_fused_new); tells the compiler o[] is set */
        return NAN;
    const ft *x = DATA(f, x), *ylab = DATA(f, y), *rmask = DATA(f, mask);
    ft *A = (ft *)work, *DO = A + nblk * VL * (size_t)H, *DH = DO + nblk * VL * (size_t)K;
#if FUSED_SINGLE
    /* the weights in the element type, after the work arrays (bnn_fused_work) */
    ft *tf = DH + nblk * VL * (size_t)H;
    const size_t dim = (size_t)D * H + H + (size_t)H * K + K;
    for (size_t i = 0; i < dim; i++)
        tf[i] = (ft)theta[i];
    const ft *W1 = tf;
#else
    const ft *W1 = theta;
#endif
    const ft *b1 = W1 + D * H, *W2 = b1 + H, *b2t = W2 + H * K;
    ft b2[BNN_FUSED_MAXK];
    for (int k = 0; k < K; k++)
        b2[k] = b2t[k];
    for (size_t blk = 0; blk < nblk; blk++) {
        const ft *xb = x + blk * (size_t)D * VL;
        ft *Ab = A + blk * (size_t)H * VL;
        int j = 0;
        for (; j + 4 <= H; j += 4) {
            vd z[4];
            for (int t = 0; t < 4; t++)
                z[t] = splat(b1[j + t]);
            for (int d = 0; d < D; d++) {
                vd xv = ld(xb + d * VL);
                for (int t = 0; t < 4; t++)
                    z[t] += xv * W1[d * H + j + t];
            }
            for (int t = 0; t < 4; t++)
                st(Ab + (j + t) * VL, act(hid, z[t]));
        }
        for (; j < H; j++) {
            vd z = splat(b1[j]);
            for (int d = 0; d < D; d++)
                z += ld(xb + d * VL) * W1[d * H + j];
            st(Ab + j * VL, act(hid, z));
        }
    }
    double qc = 0.0;
    if (cs) {
        /* the centred level (center.c): b2 = c - sum_k v_k hbar_k, over the real rows */
        qc = cs[0];
        double b = theta[(size_t)D * H + H + H];
        for (int j = 0; j < H; j++) {
            vacc m = {0};
            for (size_t blk = 0; blk < nblk; blk++)
                m += TOACC(ld(A + (blk * (size_t)H + (size_t)j) * VL) * ld(rmask + blk * VL));
            cs[1 + j] = hsum_acc(m) * f->inv_n;
            b -= theta[(size_t)D * H + H + j] * cs[1 + j];
        }
        cs[0] = b;
        b2[0] = (ft)b;
    }
    vacc acc = {0};
    for (size_t blk = 0; blk < nblk; blk++) {
        const ft *Ab = A + blk * (size_t)H * VL;
        ft *Ob = DO + blk * (size_t)K * VL, *Hb = DH + blk * (size_t)H * VL;
        vd mask = ld(rmask + blk * VL), o[BNN_FUSED_MAXK];
        for (int k = 0; k < K; k++)
            o[k] = splat(b2[k]);
        for (int j = 0; j < H; j++) {
            vd a = ld(Ab + j * VL);
            for (int k = 0; k < K; k++)
                o[k] += a * W2[j * K + k];
        }
        if (out != BNN_FUSED_SOFTMAX) {
            vd y = act(out, o[0]);
            vd r = (ld(ylab + blk * VL) - y) * mask;
            vacc rd = TOACC(r);
            acc += rd * rd;
            o[0] = out == BNN_FUSED_SIGMOID ? r * y * (C(1.0) - y) : r;
        } else {
            vd mx = o[0];
            for (int k = 1; k < K; k++)
                mx = vmax(mx, o[k]);
            const ft *yb = ylab + blk * (size_t)K * VL;
            vd s = splat(C(0.0)), zy = splat(C(0.0));
            for (int k = 0; k < K; k++) {
                zy += ld(yb + k * VL) * o[k];
                o[k] = vexp(o[k] - mx);
                s += o[k];
            }
            /* z_y - log sum exp z, exact however far z_y is below the maximum */
            acc += TOACC(mask * ((zy - mx) - vlog(s)));
            vd inv = mask / s;
            for (int k = 0; k < K; k++)
                o[k] = ld(yb + k * VL) * mask - o[k] * inv;
        }
        if (!g)
            continue; /* the log density alone (random-walk proposals) */
        /* o: d/dz of the output layer per row (0 on pad rows); back to the hidden layer */
        for (int k = 0; k < K; k++)
            st(Ob + k * VL, o[k]);
        for (int j = 0; j < H; j++) {
            vd back = splat(C(0.0));
            for (int k = 0; k < K; k++)
                back += o[k] * W2[j * K + k];
            st(Hb + j * VL, back * act_d(hid, ld(Ab + j * VL)));
        }
    }
    if (g) {
        double *gW1 = g, *gb1 = gW1 + D * H, *gW2 = gb1 + H, *gb2 = gW2 + H * K;
        colsum(DO, K, nblk, gb2);
        if (cs) {
            /* The centred level's chain rule for W1 and b1, folded into the hidden deltas:
             * their gradient loses gb v_k mean_i act'(a_ik) (x_i, 1), gb = d log p / d b2 =
             * (sum_i DO_i - q b2) / tau^2 (the likelihood's part and the prior's, q =
             * tau^2 / sigma_b2^2), so DH_ik loses lambda v_k act'(a_ik) on every real row,
             * lambda = (sum_i DO_i - q b2) / n, before the products: no extra pass over X. */
            vd lam = splat((ft)((gb2[0] - qc * cs[0]) * f->inv_n));
            for (size_t blk = 0; blk < nblk; blk++) {
                vd mask = ld(rmask + blk * VL);
                for (int j = 0; j < H; j++) {
                    size_t o = (blk * (size_t)H + (size_t)j) * VL;
                    st(DH + o, ld(DH + o) - lam * W2[j] * act_d(hid, ld(A + o)) * mask);
                }
            }
        }
        xty(x, D, DH, H, nblk, gW1);
        colsum(DH, H, nblk, gb1);
        xty(A, H, DO, K, nblk, gW2);
    }
    return hsum_acc(acc);
}

/* One instance per activation pair; softmax with 2 or 3 classes (the study's data) gets a
 * constant K, other class counts the general one. */
#define CASE(h, o, k) \
    if (f->hidden == (h) && f->out == (o) && (k == 0 || f->K == k)) \
        return kernel(f, theta, g, work, cs, h, o, k ? k : f->K);
#define CASES(h) \
    CASE(h, BNN_FUSED_SIGMOID, 1) \
    CASE(h, BNN_FUSED_IDENTITY, 1) \
    CASE(h, BNN_FUSED_SOFTMAX, 2) \
    CASE(h, BNN_FUSED_SOFTMAX, 3) \
    CASE(h, BNN_FUSED_SOFTMAX, 0)

FUSED_TARGETS double
FUSED_NAME(bnn_fused_eval)(const bnn_fused *f, const double *theta, double *g, double *work,
                           double *cs)
{
    CASES(BNN_FUSED_SIGMOID)
    CASES(BNN_FUSED_TANH)
    CASES(BNN_FUSED_RELU)
    return NAN;
}

/* The vector exp and log, one value at a time, for tests/test_model.c. */
FUSED_TARGETS void FUSED_NAME(bnn_fused_exp_log)(double x, double *e, double *l)
{
    vd v = splat((ft)x);
    *e = vexp(v)[0];
    *l = vlog(v)[0];
}
