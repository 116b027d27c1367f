/* test_numfmt.c — cli/numfmt.c's fmt_g against snprintf's "%.*g", byte for byte, on 3.6
 * million doubles: random bit patterns (every magnitude, both signs, subnormals, NaN and
 * infinities), random values at the chain files' magnitudes, the neighbours of powers of ten
 * (where the exponent and the rounding carry change) and exact ties (1 + 2^-j: halfway
 * cases at 17 digits, rounded to even), at the precisions the writers use (6, 9, 17) and at
 * 1 and 16. Any differing byte fails and is printed. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../cli/numfmt.h"
#include "check.h"

static uint64_t s = 0x9E3779B97F4A7C15ULL;

static uint64_t next(void)
{
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
}

static long bad, tried;

static void one(double v, int P)
{
    char want[64], got[FMT_G_MAX];
    int nw = snprintf(want, sizeof want, "%.*g", P, v);
    int ng = fmt_g(got, v, P);
    tried++;
    if (nw != ng || strcmp(want, got) != 0) {
        if (bad++ < 10)
            printf("  %.17g P %d: snprintf '%s', fmt_g '%s'\n", v, P, want, got);
    }
}

int main(void)
{
    const int precisions[] = {17, 9, 6, 16, 1};
    for (int pi = 0; pi < 5; pi++) {
        int P = precisions[pi];
        int n = P == 17 ? 1000000 : 200000;
        for (int i = 0; i < n; i++) {
            uint64_t u = next();
            double v;
            memcpy(&v, &u, sizeof v);
            one(v, P);   /* any bit pattern */
            double w = ldexp((double)(next() >> 11), -53) * pow(10.0, (int)(next() % 16) - 8);
            one(next() & 1 ? -w : w, P);   /* the chain files' magnitudes */
        }
        for (int x = -30; x <= 30; x++) {   /* around powers of ten */
            double t = pow(10.0, x);
            double v = t;
            for (int j = 0; j < 40; j++, v = nextafter(v, 0))
                one(v, P);
            v = t;
            for (int j = 0; j < 40; j++, v = nextafter(v, INFINITY))
                one(v, P);
            one(t * (1 - 5e-18), P);
            one(t * 9.9999999999999999, P);
        }
        for (int j = 1; j <= 60; j++) {   /* halfway cases */
            one(1 + ldexp(1, -j), P);
            one(3 + ldexp(1, -j), P);
            one(ldexp(1, -j), P);
            one(-(0.5 + ldexp(1, -j)), P);
        }
        one(0.0, P);
        one(-0.0, P);
    }
    CHECK(bad == 0, "fmt_g: %ld of %ld differ from snprintf", bad, tried);
    CHECK(tried > 3000000, "fmt_g: %ld cases", tried);
    return check_done("test_numfmt");
}
