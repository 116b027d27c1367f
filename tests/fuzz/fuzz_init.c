/* fuzz_init.c — libFuzzer harness for the --init reader (read_init_file, cli/init.c).
 *
 * Input: two bytes that pick the model and the chain count, then the file's bytes.
 *   byte 0: bit 0 classification, bit 1 network, bits 2-3 inputs - 1
 *   byte 1: bits 0-1 chains - 1, bits 2-3 hidden width - 1, bits 4-5 classes - 2 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../cli/init.h"
#include "fuzz_common.h"

static bnn_model *make_model(uint8_t b0, uint8_t b1)
{
    bnn_model_spec sp;
    bnn_task task = b0 & 1 ? BNN_TASK_CLASSIFICATION : BNN_TASK_REGRESSION;
    bnn_model_spec_study(&sp, (b0 >> 1) & 1, task, 1 + ((b0 >> 2) & 3), 2 + ((b1 >> 4) & 3));
    if (sp.n_hidden)
        sp.hidden[0] = 1 + ((b1 >> 2) & 3);
    bnn_model *m = NULL;
    bnn_error err = {0};
    if (bnn_model_new(&m, &sp, NULL, &err) != BNN_OK) {
        fprintf(stderr, "fuzz_init: %s\n", err.msg);
        abort();
    }
    return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    bnn_model *m = make_model(data[0], data[1]);
    size_t chains = 1 + (data[1] & 3), dim = bnn_model_dim(m);
    char path[512];
    fuzz_write("init.txt", data + 2, size - 2, path, sizeof path);
    double *init = malloc(chains * dim * sizeof *init);
    if (!init)
        abort();
    for (size_t i = 0; i < chains * dim; i++)
        init[i] = NAN;   /* so that a value the reader did not set shows */
    bnn_error err = {0};
    if (read_init_file(path, m, chains, init, &err) != BNN_OK) {
        fuzz_check_error(err.msg, path);
    } else {
        /* every chain's starting point is set and finite */
        for (size_t i = 0; i < chains * dim; i++)
            if (!isfinite(init[i]))
                abort();
    }
    free(init);
    bnn_model_free(m);
    return 0;
}
