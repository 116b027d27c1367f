/* check.h — the tests' tiny harness: CHECK prints "ok"/"NOT OK" with the reason, and
 * check_done prints the closing "N passed, N failed" line and gives the exit status. */
#ifndef BNNMC_CHECK_H
#define BNNMC_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond, ...)                                                                    \
    do {                                                                                    \
        if (cond) {                                                                         \
            check_passed++;                                                                 \
        } else {                                                                            \
            check_failed++;                                                                 \
            printf("NOT OK %s:%d: ", __FILE__, __LINE__);                                   \
            printf(__VA_ARGS__);                                                            \
            printf("\n");                                                                   \
        }                                                                                   \
    } while (0)

#define CHECK_VERBOSE(cond, ...)                                                            \
    do {                                                                                    \
        printf("%s ", (cond) ? "ok    " : "NOT OK");                                        \
        printf(__VA_ARGS__);                                                                \
        printf("\n");                                                                       \
        if (cond)                                                                           \
            check_passed++;                                                                 \
        else                                                                                \
            check_failed++;                                                                 \
    } while (0)

static int check_done(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
    return check_failed ? 1 : 0;
}

#endif
