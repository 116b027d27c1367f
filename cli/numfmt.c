/* numfmt.c — printf's "%.Pg" of a double, byte for byte, without printf: the chain files
 * hold millions of numbers at 17 digits, and glibc's conversion (multiple precision, the
 * stream's locks and format parsing) was most of their writing time.
 *
 * Exact for |v| = m 2^-k with m < 2^53, k >= 1 and 10^p m < 2^128, p = P - 1 - X the
 * number of decimals after scaling (X the decimal exponent): the scaled value v 10^p =
 * m 10^p / 2^k is an exact 128-bit integer quotient with its remainder, rounded to nearest
 * with ties to even as glibc does. Everything else (zero, non-finite, subnormal, large or
 * very small magnitudes) goes to snprintf. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "numfmt.h"

typedef unsigned __int128 u128;

static const uint64_t pow10_u64[20] = {
    1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL, 100000000ULL,
    1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL, 10000000000000ULL,
    100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL, 100000000000000000ULL,
    1000000000000000000ULL, 10000000000000000000ULL};

static u128 pow10_u128(int p)
{
    return p < 20 ? (u128)pow10_u64[p] : (u128)pow10_u64[19] * pow10_u64[p - 19];
}

/* The P significant digits of |v| rounded, and its exponent X (the first digit's power of
 * ten): 0, or -1 when v is outside the exact range. */
static int digits_of(double v, int P, uint64_t *q_out, int *X_out)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    int be = (int)(u >> 52 & 0x7ff);
    if (be == 0)
        return -1;   /* zero or subnormal */
    uint64_t m = (u & 0xfffffffffffffULL) | 0x10000000000000ULL;   /* 53 bits */
    int k = 1075 - be;                                             /* |v| = m 2^-k */
    if (k < 1 || k > 113)
        return -1;
    /* the decimal exponent, estimated from the binary one (within one: fixed below) */
    int X = (int)floor((double)(52 - k) * 0.30102999566398120);
    for (int tries = 0; tries < 4; tries++) {
        int p = P - 1 - X;
        if (p < 0 || p > 22)
            return -1;
        u128 n = (u128)m * pow10_u128(p);
        u128 q = n >> k, rem = n - (q << k), half = (u128)1 << (k - 1);
        if (q >= pow10_u64[P]) {
            X++;
            continue;
        }
        if (q < pow10_u64[P - 1]) {
            X--;
            continue;
        }
        if (rem > half || (rem == half && (q & 1)))
            q++;
        if (q == pow10_u64[P]) {   /* 99..9 rounded up to 10..0: one more digit before */
            q = pow10_u64[P - 1];
            X++;
        }
        *q_out = (uint64_t)q;
        *X_out = X;
        return 0;
    }
    return -1;
}

int fmt_g(char *buf, double v, int P)
{
    uint64_t q;
    int X;
    if (P < 1 || P > 17 || !isfinite(v) || v == 0 || digits_of(v, P, &q, &X) != 0)
        return snprintf(buf, FMT_G_MAX, "%.*g", P, v);
    char d[20];
    for (int i = P - 1; i >= 0; i--) {
        d[i] = (char)('0' + q % 10);
        q /= 10;
    }
    int nd = P;   /* significant digits after dropping trailing zeros */
    while (nd > 1 && d[nd - 1] == '0')
        nd--;
    char *o = buf;
    if (v < 0)
        *o++ = '-';
    if (X < P && X >= -4) {   /* style f */
        if (X >= 0) {
            for (int i = 0; i <= X; i++)
                *o++ = i < nd ? d[i] : '0';
            if (nd > X + 1) {
                *o++ = '.';
                for (int i = X + 1; i < nd; i++)
                    *o++ = d[i];
            }
        } else {
            *o++ = '0';
            *o++ = '.';
            for (int i = 0; i < -X - 1; i++)
                *o++ = '0';
            for (int i = 0; i < nd; i++)
                *o++ = d[i];
        }
    } else {   /* style e */
        *o++ = d[0];
        if (nd > 1) {
            *o++ = '.';
            for (int i = 1; i < nd; i++)
                *o++ = d[i];
        }
        *o++ = 'e';
        *o++ = X < 0 ? '-' : '+';
        int ax = X < 0 ? -X : X;
        if (ax >= 100)
            *o++ = (char)('0' + ax / 100);
        *o++ = (char)('0' + ax / 10 % 10);
        *o++ = (char)('0' + ax % 10);
    }
    *o = '\0';
    return (int)(o - buf);
}
