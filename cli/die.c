/* die.c — the command line's exits: one line on stderr, then exit 1 or 2.
 *
 * Kept apart from util.c because the fuzz harnesses link every other cli file with
 * stand-ins for these (tests/fuzz/fuzz_common.c) that abort instead. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

void die_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "bnnmc%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (try 'bnnmc%s%s --help')\n", cmd ? " " : "", cmd ? cmd : "");
    exit(EXIT_USAGE);
}

void die_status(bnn_status st, const bnn_error *err)
{
    fprintf(stderr, "bnnmc: %s\n", err->msg[0] ? err->msg : bnn_status_str(st));
    exit(st == BNN_EPARSE || st == BNN_EINVAL ? EXIT_USAGE : EXIT_RUNTIME);
}

void die_input(const bnn_error *err)
{
    fprintf(stderr, "bnnmc: %s\n", err->msg);
    exit(EXIT_USAGE);
}

void die_runtime(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "bnnmc: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    exit(EXIT_RUNTIME);
}
