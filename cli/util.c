/* util.c — helpers of the whole command line: option values, one-line messages, reading a
 * file whole, writing a file atomically, checksums. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <nettle/sha2.h>

#include "util.h"

/* ------------------------------------------------------------ options */

double parse_double(const char *cmd, const char *opt, const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v))
        die_usage(cmd, "%s: '%s' is not a number", opt, s);
    return v;
}

long parse_long(const char *cmd, const char *opt, const char *s, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno)
        die_usage(cmd, "%s: '%s' is not an integer", opt, s);
    if (v < lo || v > hi)
        die_usage(cmd, "%s: %ld is out of range %ld..%ld", opt, v, lo, hi);
    return v;
}

int parse_choice(const char *cmd, const char *opt, const char *s, const char *const *names)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    char list[256] = "";
    for (int i = 0; names[i]; i++) {
        strncat(list, i ? "|" : "", sizeof list - strlen(list) - 1);
        strncat(list, names[i], sizeof list - strlen(list) - 1);
    }
    die_usage(cmd, "%s: '%s' is not one of %s", opt, s, list);
}

int next_option(const char *cmd, int argc, char **argv, const struct option *longopts)
{
    opterr = 0;   /* getopt's own messages are not one line naming the command */
    int c = getopt_long(argc, argv, ":", longopts, NULL);
    if (c == ':')
        die_usage(cmd, "%s needs a value", argv[optind - 1]);
    if (c == '?')
        die_usage(cmd, "unknown option '%s'", argv[optind - 1]);
    return c;
}

/* ------------------------------------------------------------ messages */

int vset_error(char *err, size_t errlen, const char *fmt, va_list ap)
{
    if (errlen == 0)
        return -1;
    vsnprintf(err, errlen, fmt, ap);
    for (unsigned char *p = (unsigned char *)err; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            *p = '?';
    return -1;
}

int set_error(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset_error(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* ------------------------------------------------------------ files */

char *slurp_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        set_error(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t n = 0, cap = 0, got;
    do {
        if (cap - n < 4096) {
            char *nb = cap < SIZE_MAX / 4 ? realloc(buf, cap ? 2 * cap : 65536) : NULL;
            if (!nb) {
                fclose(f);
                free(buf);
                set_error(err, errlen, "%s: out of memory reading it", path);
                return NULL;
            }
            buf = nb;
            cap = cap ? 2 * cap : 65536;
        }
        got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
    } while (got > 0);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        set_error(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

int atomic_open(atomic_file *a, const char *path)
{
    a->f = NULL;
    if (snprintf(a->path, sizeof a->path, "%s", path) >= (int)sizeof a->path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    snprintf(a->tmp, sizeof a->tmp, "%s.tmp", path);
    a->f = fopen(a->tmp, "wb");
    return a->f ? 0 : -1;
}

int atomic_close(atomic_file *a)
{
    /* on disk before the rename, and the rename itself on disk after it: after a power
     * loss the file is the old one or the new one, whole */
    int bad = fflush(a->f) != 0 || ferror(a->f) || fsync(fileno(a->f)) != 0;
    int e = errno;
    int closed = fclose(a->f);
    a->f = NULL;
    if (bad || closed != 0) {
        e = bad ? e : errno;   /* the failed write's, fsync's or close's reason */
        unlink(a->tmp);
        errno = e;
        return -1;
    }
    if (rename(a->tmp, a->path) != 0) {
        e = errno;
        unlink(a->tmp);
        errno = e;
        return -1;
    }
    char dir[sizeof a->path];
    snprintf(dir, sizeof dir, "%s", a->path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    int fd = open(slash ? (dir[0] ? dir : "/") : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {   /* a file system without directory fsync has still renamed */
        fsync(fd);
        close(fd);
    }
    return 0;
}

void atomic_discard(atomic_file *a)
{
    int e = errno;   /* the caller's reason for giving up, for its message */
    if (a->f)
        fclose(a->f);
    a->f = NULL;
    unlink(a->tmp);
    errno = e;
}

void atomic_open_or_exit(atomic_file *a, const char *path)
{
    if (atomic_open(a, path) != 0)
        die_runtime("%s: cannot write: %s", path, strerror(errno));
}

void atomic_close_or_exit(atomic_file *a)
{
    if (atomic_close(a) != 0)
        die_runtime("%s: cannot write: %s", a->path, strerror(errno));
}

void file_sha256(const char *path, char hex[65])
{
    hex[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    unsigned char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        sha256_update(&ctx, n, buf);
    int bad = ferror(f);
    fclose(f);
    if (bad)
        return;
    unsigned char dig[SHA256_DIGEST_SIZE];
    sha256_digest(&ctx, SHA256_DIGEST_SIZE, dig);
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
        sprintf(hex + 2 * i, "%02x", dig[i]);
}

int cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}
