/* checkpoint.c — the run folder's checkpoints, command record and lock (checkpoint.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
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
    char folder[4200], path[4500];
    snprintf(folder, sizeof folder, "%s/" CKPT_DIR, dir);
    DIR *d = opendir(folder);
    if (!d) {
        if (errno == ENOENT)
            return;
        die_runtime("%s: cannot open: %s", folder, strerror(errno));
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int k;
        char tail[8];
        size_t len = strlen(e->d_name);
        int chain = sscanf(e->d_name, "chain-%d.bi%1s", &k, tail) == 2 && strcmp(tail, "n") == 0;
        int tmp = len > 4 && strcmp(e->d_name + len - 4, ".tmp") == 0;
        if (!chain && !tmp && strcmp(e->d_name, "command") != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", folder, e->d_name);
        if (unlink(path) != 0 && errno != ENOENT)
            die_runtime("%s: cannot remove an earlier run's checkpoint: %s", path, strerror(errno));
    }
    closedir(d);
}

/* Writes len bytes to path atomically and durably (util.h's atomic_file): 0, or -1 with
 * errno. */
static int write_durable(const char *path, const void *bytes, size_t len)
{
    atomic_file a;
    if (atomic_open(&a, path) != 0)
        return -1;
    if (fwrite(bytes, 1, len, a.f) != len) {
        atomic_discard(&a);
        return -1;
    }
    return atomic_close(&a);
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

/* The whole file at path, or NULL with errno (ENOENT when there is none). */
static char *slurp(const char *path, size_t *len)
{
    char msg[4400];
    errno = 0;
    char *b = slurp_file(path, len, msg, sizeof msg);
    if (!b && errno == 0)
        errno = EIO;
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
