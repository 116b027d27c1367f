/* error.c — status strings and the one place that formats error messages. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <gsl/gsl_errno.h>

#include "core.h"

const char *bnn_status_str(bnn_status s)
{
    switch (s) {
    case BNN_OK: return "success";
    case BNN_ENOMEM: return "out of memory";
    case BNN_EIO: return "input/output error";
    case BNN_EPARSE: return "malformed input";
    case BNN_EINVAL: return "invalid argument";
    case BNN_ENUMERIC: return "numerical failure";
    case BNN_EINTR: return "interrupted";
    }
    return "unknown status";
}

bnn_status bnn_fail(bnn_error *err, bnn_status code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

double *bnn_zalloc(size_t n)
{
    if (n == 0)
        n = 1;
    return calloc(n, sizeof(double));
}

/* GSL's default error handler aborts the process; a library must not do that to its
 * caller. Every GSL function bnnmc calls reports failure in its return value as well
 * (NaN or a status), which bnnmc checks, so the handler is switched off, once. */
static pthread_once_t gsl_once = PTHREAD_ONCE_INIT;

static void gsl_quiet(void)
{
    gsl_set_error_handler_off();
}

void bnn_gsl_setup(void)
{
    pthread_once(&gsl_once, gsl_quiet);
}
