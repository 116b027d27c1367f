/* numfmt.h — printf's "%.Pg" of a double, byte for byte, fast (numfmt.c). */
#ifndef BNNMC_NUMFMT_H
#define BNNMC_NUMFMT_H

#include <stdint.h>

enum { FMT_G_MAX = 32 };   /* room for any "%.17g" and its terminating NUL */

/* Writes what snprintf(buf, FMT_G_MAX, "%.*g", P, v) writes; returns its length. */
int fmt_g(char *buf, double v, int P);

#endif
