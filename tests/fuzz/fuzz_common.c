/* fuzz_common.c — scratch files for the harnesses, and stand-ins for cli/die.c.
 *
 * cli/die.c holds the die_* functions, which exit(). A harness links the cli readers
 * without main.c and die.c and with the die_* below instead, which print the message and
 * abort(): a reader that exits on bad input instead of returning an error is then a crash
 * the fuzzer reports, with the input that caused it. (The option parsers of cli/util.c
 * exit through die_usage, so a harness that reaches one with a bad value aborts too.) */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../cli/util.h"
#include "fuzz_common.h"

static char scratch[256];   /* set once per process by fuzz_dir() */

/* The folder is flat: the harnesses write files into it, never folders. */
static void remove_scratch(void)
{
    DIR *d = opendir(scratch);
    if (!d)
        return;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(path, sizeof path, "%s/%s", scratch, e->d_name);
            unlink(path);
        }
    closedir(d);
    rmdir(scratch);
}

const char *fuzz_dir(void)
{
    if (scratch[0])
        return scratch;
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(scratch, sizeof scratch, "%s/bnnmc-fuzz-XXXXXX", base);
    if (!mkdtemp(scratch)) {
        perror("fuzz: mkdtemp");
        abort();
    }
    atexit(remove_scratch);
    return scratch;
}

void fuzz_write(const char *name, const uint8_t *data, size_t len, char *path, size_t pathlen)
{
    snprintf(path, pathlen, "%s/%s", fuzz_dir(), name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        abort();
    }
}

void fuzz_remove(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", fuzz_dir(), name);
    unlink(path);
}

void fuzz_check_error(const char *msg, const char *path)
{
    const char *why = NULL;
    int control = 0;   /* a byte that breaks the line (\n \r \v \f) or drives the terminal */
    for (const char *p = msg; *p; p++)
        control |= ((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f;
    /* set while a known finding of this kind is unfixed, so a campaign can look past it */
    if (getenv("BNNMC_FUZZ_ALLOW_CONTROL"))
        control = 0;
    if (!msg[0])
        why = "is empty";
    else if (control)
        why = "holds a control character (more than one line?)";
    else if (!strstr(msg, path))
        why = "does not name the file";
    if (why) {
        fprintf(stderr, "fuzz: the error message %s: '%s' (file %s)\n", why, msg, path);
        abort();
    }
}

/* ---- stand-ins for cli/die.c ---- */

static void die_abort(const char *who, const char *fmt, va_list ap) __attribute__((noreturn));

static void die_abort(const char *who, const char *fmt, va_list ap)
{
    fprintf(stderr, "fuzz: a reader called %s instead of returning an error: ", who);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    abort();
}

void die_usage(const char *cmd, const char *fmt, ...)
{
    (void)cmd;
    va_list ap;
    va_start(ap, fmt);
    die_abort("die_usage", fmt, ap);
}

void die_runtime(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    die_abort("die_runtime", fmt, ap);
}

void die_input(const bnn_error *err)
{
    fprintf(stderr, "fuzz: a reader called die_input: %s\n", err->msg);
    abort();
}

void die_status(bnn_status st, const bnn_error *err)
{
    fprintf(stderr, "fuzz: a reader called die_status (%s): %s\n", bnn_status_str(st), err->msg);
    abort();
}
