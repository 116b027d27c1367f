/* util.h — what every part of the bnnmc command line uses: the exits (die.c), option
 * parsing, one-line messages, reading and atomically writing files (util.c). Not part of
 * the library. */
#ifndef BNNMC_CLI_UTIL_H
#define BNNMC_CLI_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <getopt.h>

#include "bnnmc.h"

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

/* ---- die.c: the only functions that end the process. The fuzz harnesses replace that file
 * (tests/fuzz/fuzz_common.c) with versions that abort, so that a reader which exits instead
 * of returning an error shows as a crash. */

/* One-line usage error for `bnnmc CMD` (cmd may be NULL), exit 2. */
void die_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
/* One-line error from a library status: exit 2 for bad input, 1 otherwise. */
void die_status(bnn_status st, const bnn_error *err) __attribute__((noreturn));
/* One-line error about an input file from a library status, exit 2 whatever the status: a
 * missing or unreadable input file is an input error too. */
void die_input(const bnn_error *err) __attribute__((noreturn));
/* One-line runtime error, exit 1. */
void die_runtime(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* ---- util.c */

/* An option's value, or exit 2 naming the option (and cmd). */
double parse_double(const char *cmd, const char *opt, const char *s);
long parse_long(const char *cmd, const char *opt, const char *s, long lo, long hi);
int parse_choice(const char *cmd, const char *opt, const char *s, const char *const *names);

/* getopt_long over argv (from its start on the first call of a command: the caller sets
 * optind = 1) with bnnmc's errors: an unknown option or a missing value exits 2. Returns
 * the option's val, or -1 after the last option. */
int next_option(const char *cmd, int argc, char **argv, const struct option *longopts);

/* Formats a message into err (errlen bytes) on one line: a byte below 0x20 or 0x7f, which
 * a damaged file or an odd path can bring and which would break the line or drive a
 * terminal, becomes '?'. Returns -1, so a failing path reads `return set_error(...)`. */
int set_error(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vset_error(char *err, size_t errlen, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));

/* The bytes of path, NUL-terminated (a NUL inside shows as strlen < *len), with their
 * count in *len; NULL with a one-line message naming the file. */
char *slurp_file(const char *path, size_t *len, char *err, size_t errlen);

/* A file written as PATH.tmp and renamed to PATH once complete: a half-written file never
 * has the final name. */
typedef struct {
    FILE *f;
    char path[4200];
    char tmp[4300];
} atomic_file;

/* Opens path.tmp for writing. 0, or -1 with errno. */
int atomic_open(atomic_file *a, const char *path);
/* Closes and renames to the final name; after a write error, removes the temporary file
 * instead. 0, or -1 with errno. */
int atomic_close(atomic_file *a);
/* Closes and removes the temporary file: the write is abandoned. */
void atomic_discard(atomic_file *a);
/* atomic_open and atomic_close for the writers of results: on failure they exit 1 with
 * one line naming the file (a write error shows at the close). */
void atomic_open_or_exit(atomic_file *a, const char *path);
void atomic_close_or_exit(atomic_file *a);

/* sha256 of a file's bytes as 64 hex characters; "" when unreadable. */
void file_sha256(const char *path, char hex[65]);

/* The processors online: the default thread count. */
int cpu_count(void);

#endif
