/* error.c — status strings and the one place that formats error messages. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

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
