/* fused.h — the data layout the fused kernel's instances share (fused.c builds it;
 * fused_simd.h, included by fused8.c and fused4.c, reads it). Not public API. */
#ifndef BNNMC_FUSED_H
#define BNNMC_FUSED_H

#include <stddef.h>

/* fused4.c and fused8.c see this header only, not bnnmc.h: they take minutes to compile, and a
 * change to the public API must not recompile them. The activation codes are bnn_activation's
 * (fused.c checks that they agree). */
enum {
    BNN_FUSED_IDENTITY = 0,
    BNN_FUSED_SIGMOID,
    BNN_FUSED_TANH,
    BNN_FUSED_RELU,
    BNN_FUSED_SOFTMAX
};
#define BNN_FUSED_MAXK 16       /* more outputs: the BLAS path */

typedef struct bnn_fused bnn_fused;

/* The rows are packed block by block, `lanes` rows a block, feature-major within a block
 * (x[block][feature][lane]); the last block is padded with zero rows whose mask is 0. */
struct bnn_fused {
    int D, H, K;                  /* inputs, hidden units, outputs */
    int hidden, out;              /* BNN_FUSED_*; out: IDENTITY, SIGMOID or SOFTMAX */
    int lanes;                    /* 8: fused8.c's instance; 4: fused4.c's; single: 16 or 8 */
    int single;                   /* 1: the single-precision instances (fused16f.c, fused8f.c) */
    size_t nblk;
    double inv_n;                 /* 1 / the number of rows (padding excluded) */
    double *x;                    /* nblk x D x lanes */
    double *y;                    /* regression: nblk x lanes; softmax: one-hot nblk x K x lanes */
    double *mask;                 /* nblk x lanes: 1 for a row, 0 for padding */
    float *xs, *ys, *masks;       /* single: the same in float (x, y, mask then unused) */
};

/* cs: NULL, or (one output only) theta's output bias is the centred level c of center.c,
 * cs[0] holds q = tau^2 / sigma^2 of b2's prior (0 when flat), and cs receives 1 + H
 * values: the output bias b2 = c - sum_k v_k hbar_k used and the means over the rows hbar
 * (H) of the hidden activations; g's W1 and b1 are then the centred coordinates' (the
 * chain rule through hbar applied), the rest the model's. */
double bnn_fused_eval8(const bnn_fused *f, const double *theta, double *g, double *work,
                       double *cs);
double bnn_fused_eval4(const bnn_fused *f, const double *theta, double *g, double *work,
                       double *cs);
double bnn_fused_eval16f(const bnn_fused *f, const double *theta, double *g, double *work,
                         double *cs);
double bnn_fused_eval8f(const bnn_fused *f, const double *theta, double *g, double *work,
                        double *cs);
void bnn_fused_exp_log8(double x, double *e, double *l);
void bnn_fused_exp_log16f(double x, double *e, double *l);
void bnn_fused_exp_log8f(double x, double *e, double *l);
void bnn_fused_exp_log4(double x, double *e, double *l);

#endif
