/* fuzz_common.h — what the libFuzzer harnesses share: a private scratch folder for the
 * files a reader is given, and the checks every reader's error must pass.
 *
 * The readers under test take paths, not buffers, so each input is written to a file in a
 * per-process folder on /dev/shm (memory, no disk traffic) and the reader opens it there. */
#ifndef BNNMC_FUZZ_COMMON_H
#define BNNMC_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* The process's scratch folder, made on first use and removed at exit. */
const char *fuzz_dir(void);

/* Writes data to fuzz_dir()/name and puts the full path in path (len bytes). Aborts when
 * the file cannot be written: that is the harness failing, not the reader. */
void fuzz_write(const char *name, const uint8_t *data, size_t len, char *path, size_t pathlen);

/* Removes fuzz_dir()/name if present. */
void fuzz_remove(const char *name);

/* The project's standard for bad input: a non-empty, one-line message that names the file
 * (no control character but tab: none can break the line or drive the terminal).
 * Aborts (a finding) when msg breaks it. */
void fuzz_check_error(const char *msg, const char *path);

#endif
