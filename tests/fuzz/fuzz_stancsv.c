/* fuzz_stancsv.c — libFuzzer harness for the CmdStan CSV reader (stan_csv_read,
 * cli/stancsv.c), which reads our chain files and Stan's (`bnnmc diagnose`). The input is
 * the file's bytes. */
#include <stdio.h>
#include <stdlib.h>

#include "../../cli/stancsv.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[512], err[512] = "";
    fuzz_write("chain-1.csv", data, size, path, sizeof path);
    stan_csv c;
    if (stan_csv_read(path, &c, err, sizeof err) != 0) {
        fuzz_check_error(err, path);
        return 0;
    }
    /* what the readers of the result rely on */
    if (c.ncol == 0 || !c.names || (c.nrow && !c.v) || c.max_depth <= 0)
        abort();
    for (size_t j = 0; j < c.ncol; j++)
        if (!c.names[j] || !c.names[j][0])
            abort();
    stan_csv_free(&c);
    return 0;
}
