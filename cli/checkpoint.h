/* checkpoint.h — a run folder's checkpoints (DIR/checkpoint/): each chain's state as the
 * library hands it over (bnn_run_config.checkpoint), the command that started the run, and
 * the folder's lock. `bnnmc resume` and `bnnmc extend` read them back. */
#ifndef BNNMC_CLI_CHECKPOINT_H
#define BNNMC_CLI_CHECKPOINT_H

#include <stddef.h>

#include "bnnmc.h"

/* Locks DIR (DIR/.lock, flock) for this process's life; exits 2 when another process
 * holds it. DIR must exist. */
void ckpt_lock(const char *dir);
/* Removes the checkpoints of an earlier run in DIR (a new run starts). */
void ckpt_clear(const char *dir);
/* Records the command (the working directory and argv of `bnnmc sample ...`) in
 * DIR/checkpoint/command, creating the folder; exits 1 when it cannot. */
void ckpt_save_command(const char *dir, int argc, char **argv);
/* The recorded command: *cwd and argv (*argc entries, argv[0] the command's name) in one
 * allocation, *block, to free. Exits 2 naming the file when DIR has none or it is damaged. */
void ckpt_load_command(const char *dir, char **cwd, int *argc, char ***argv, char **block);
/* The library's checkpoint callback: user is the run folder's path; writes
 * DIR/checkpoint/chain-N.bin atomically (a temporary file, fsync, rename, fsync of the
 * folder), so a crash at any moment leaves the previous checkpoint or the new one whole. */
bnn_status ckpt_write(void *user, int chain, const void *bytes, size_t len, bnn_error *err);
/* Each chain's checkpoint (NULL and 0 for a chain that has none yet: it starts afresh,
 * which gives the same draws); returns how many chains have one. Exits 2 naming the file on
 * a read error. */
int ckpt_load(const char *dir, int chains, void **blob, size_t *len);

#endif
