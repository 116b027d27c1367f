/* fused.c — the log-likelihood and its gradient for a network with one hidden layer, a
 * vector of rows at a time, without BLAS (the kernel: fused_simd.h). Here: the data
 * packed for the kernel, and the choice of its instance by the processor, made once when
 * the model is built: 8 lanes where there is AVX-512, 4 where there is AVX2 and FMA (16 and
 * 8 in single precision). */
#include <math.h>
#include <stdlib.h>

#include "model_internal.h"

_Static_assert(BNN_FUSED_IDENTITY == (int)BNN_ACT_IDENTITY && BNN_FUSED_SIGMOID == (int)BNN_ACT_SIGMOID &&
                   BNN_FUSED_TANH == (int)BNN_ACT_TANH && BNN_FUSED_RELU == (int)BNN_ACT_RELU &&
                   BNN_FUSED_SOFTMAX == (int)BNN_ACT_SOFTMAX,
               "fused.h's activation codes are bnn_activation's");

int bnn_fused_best_lanes(void)
{
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        return 8;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return 4;
#endif
    return 8;
}

/* Work: per block, the hidden activations A (H vectors), the output deltas DO (K) and the
 * hidden deltas DH (H); in single precision, floats, then theta as floats. */
size_t bnn_fused_work(const bnn_fused *f)
{
    size_t n = f->nblk * (size_t)f->lanes * (2 * (size_t)f->H + (size_t)f->K);
    if (!f->single)
        return n;
    size_t D = (size_t)f->D, H = (size_t)f->H, K = (size_t)f->K;
    return (n + D * H + H + H * K + K + 1) / 2;
}

static double eval(const bnn_fused *f, const double *theta, double *g, double *work,
                   double *cs)
{
    if (f->single)
        return f->lanes == 16 ? bnn_fused_eval16f(f, theta, g, work, cs)
                              : bnn_fused_eval8f(f, theta, g, work, cs);
    return f->lanes == 8 ? bnn_fused_eval8(f, theta, g, work, cs)
                         : bnn_fused_eval4(f, theta, g, work, cs);
}

double bnn_fused_eval(const bnn_fused *f, const double *theta, double *g, double *work)
{
    return eval(f, theta, g, work, NULL);
}

double bnn_fused_eval_center(const bnn_fused *f, const double *theta, double *g, double *work,
                             double *cs)
{
    if (f->K != 1)
        return NAN;
    return eval(f, theta, g, work, cs);
}

int bnn_fused_lanes(const bnn_fused *f) { return f->lanes; }

int bnn_fused_single(const bnn_fused *f) { return f->single; }

bnn_fused *bnn_fused_new(const double *x, const double *y, const int *label, size_t n, int D,
                         int H, int K, bnn_activation hidden, bnn_activation out, int lanes,
                         int single)
{
    if (K < 1 || K > BNN_FUSED_MAXK || (out != BNN_ACT_SOFTMAX && K != 1))
        return NULL;
    if (lanes == 0)
        lanes = bnn_fused_best_lanes() * (single ? 2 : 1);
    if (single ? lanes != 8 && lanes != 16 : lanes != 4 && lanes != 8)
        return NULL;
    bnn_fused *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->D = D;
    f->H = H;
    f->K = K;
    f->hidden = hidden;
    f->out = out;
    f->lanes = lanes;
    f->single = single != 0;
    const size_t VL = (size_t)lanes;
    f->nblk = (n + VL - 1) / VL;
    f->inv_n = 1.0 / (double)n;
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
    if (single) {
        /* the kernel reads these; the doubles above were the packing's staging */
        size_t nx = rows * (size_t)D, nyy = rows * ny;
        f->xs = malloc(nx * sizeof *f->xs);
        f->ys = malloc(nyy * sizeof *f->ys);
        f->masks = malloc(rows * sizeof *f->masks);
        if (!f->xs || !f->ys || !f->masks) {
            bnn_fused_free(f);
            return NULL;
        }
        for (size_t i = 0; i < nx; i++)
            f->xs[i] = (float)f->x[i];
        for (size_t i = 0; i < nyy; i++)
            f->ys[i] = (float)f->y[i];
        for (size_t i = 0; i < rows; i++)
            f->masks[i] = (float)f->mask[i];
        free(f->x);
        free(f->y);
        free(f->mask);
        f->x = f->y = f->mask = NULL;
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
    free(f->xs);
    free(f->ys);
    free(f->masks);
    free(f);
}

void bnn_fused_exp_log(int lanes, int single, double x, double *e, double *l)
{
    if (single && lanes == 16)
        bnn_fused_exp_log16f(x, e, l);
    else if (single)
        bnn_fused_exp_log8f(x, e, l);
    else if (lanes == 8)
        bnn_fused_exp_log8(x, e, l);
    else
        bnn_fused_exp_log4(x, e, l);
}
