/* checkpoint.c — the run folder's checkpoints, command record and lock (checkpoint.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "util.h"

#define CKPT_DIR "checkpoint"
#define COMMAND_MAGIC "bnnmc command 1"

void ckpt_lock(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0)
        die_runtime("%s: cannot open: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            die_usage(NULL, "%s is in use by another bnnmc process (it holds %s)", dir, path);
        die_runtime("%s: cannot lock: %s", path, strerror(errno));
    }
    /* fd stays open: the lock lasts as long as the process */
}

void ckpt_clear(const char *dir)
{
    char path[4200];
    for (int c = 1;; c++) {
        snprintf(path, sizeof path, "%s/" CKPT_DIR "/chain-%d.bin", dir, c);
        if (unlink(path) != 0 && errno == ENOENT && c > 64)
            break;
        if (c > 100000)
            break;
    }
    snprintf(path, sizeof path, "%s/" CKPT_DIR "/command", dir);
    unlink(path);
}

/* Writes len bytes to path through path.tmp, fsync and rename, then fsyncs the folder:
 * 0, or -1 with errno (and no temporary file left). */
static int write_durable(const char *path, const void *bytes, size_t len)
{
    char tmp[4300], folder[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0)
        return -1;
    const char *p = bytes;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : EIO;
            close(fd);
            unlink(tmp);
            errno = e;
            return -1;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        errno = e;
        return -1;
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        errno = e;
        return -1;
    }
    snprintf(folder, sizeof folder, "%s", path);
    char *slash = strrchr(folder, '/');
    if (slash)
        *slash = '\0';
    int dfd = open(slash ? folder : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {   /* the rename itself durable; a file system without it still renamed */
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

void ckpt_save_command(const char *dir, int argc, char **argv)
{
    char path[4200], cwd[4096];
    snprintf(path, sizeof path, "%s/" CKPT_DIR, dir);
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        die_runtime("%s: cannot create: %s", path, strerror(errno));
    if (!getcwd(cwd, sizeof cwd))
        die_runtime("cannot read the working directory: %s", strerror(errno));
    /* one NUL-terminated string each: the magic, the working directory, the arguments */
    size_t len = sizeof COMMAND_MAGIC + strlen(cwd) + 1;
    for (int i = 0; i < argc; i++)
        len += strlen(argv[i]) + 1;
    char *b = malloc(len), *p = b;
    if (!b)
        die_runtime("out of memory");
    p += sprintf(p, "%s", COMMAND_MAGIC) + 1;
    p += sprintf(p, "%s", cwd) + 1;
    for (int i = 0; i < argc; i++)
        p += sprintf(p, "%s", argv[i]) + 1;
    snprintf(path, sizeof path, "%s/" CKPT_DIR "/command", dir);
    if (write_durable(path, b, len) != 0)
        die_runtime("%s: cannot write: %s", path, strerror(errno));
    free(b);
}

/* The whole file at path, or NULL (errno set; ENOENT for none). */
static void *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *b = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? 2 * cap : 65536;
            char *q = realloc(b, cap + 1);
            if (!q) {
                free(b);
                fclose(f);
                errno = ENOMEM;
                return NULL;
            }
            b = q;
        }
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(b);
        errno = EIO;
        return NULL;
    }
    b[n] = '\0';
    *len = n;
    return b;
}

void ckpt_load_command(const char *dir, char **cwd, int *argc, char ***argv, char **block)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/" CKPT_DIR "/command", dir);
    size_t len = 0;
    char *b = slurp(path, &len);
    if (!b) {
        if (errno == ENOENT)
            die_usage(NULL, "%s: no checkpoint in this run folder (was it started with "
                      "--checkpoint-every 0, or by a bnnmc without checkpoints?)", path);
        die_runtime("%s: cannot read: %s", path, strerror(errno));
    }
    /* the magic, the working directory, then at least the command's name */
    int n = 0;
    for (size_t i = 0; i < len; i++)
        n += b[i] == '\0';
    if (len == 0 || b[len - 1] != '\0' || n < 3 || strcmp(b, COMMAND_MAGIC) != 0)
        die_usage(NULL, "%s: not a bnnmc command record (damaged?)", path);
    char **v = malloc((size_t)n * sizeof *v);
    if (!v)
        die_runtime("out of memory");
    char *p = b + strlen(b) + 1;
    *cwd = p;
    p += strlen(p) + 1;
    int k = 0;
    while (p < b + len) {
        v[k++] = p;
        p += strlen(p) + 1;
    }
    v[k] = NULL;
    *argc = k;
    *argv = v;
    *block = b;
}

bnn_status ckpt_write(void *user, int chain, const void *bytes, size_t len, bnn_error *err)
{
    const char *dir = user;
    char path[4200];
    snprintf(path, sizeof path, "%s/" CKPT_DIR "/chain-%d.bin", dir, chain + 1);
    if (write_durable(path, bytes, len) != 0)
        return bnn_fail(err, BNN_EIO, "%s: cannot write: %s (the last checkpoint is kept: "
                        "'bnnmc resume' continues from it)", path, strerror(errno));
    return BNN_OK;
}

int ckpt_load(const char *dir, int chains, void **blob, size_t *len)
{
    int have = 0;
    for (int c = 0; c < chains; c++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/" CKPT_DIR "/chain-%d.bin", dir, c + 1);
        blob[c] = slurp(path, &len[c]);
        if (!blob[c]) {
            len[c] = 0;
            if (errno != ENOENT)
                die_runtime("%s: cannot read: %s", path, strerror(errno));
            continue;
        }
        have++;
    }
    return have;
}
