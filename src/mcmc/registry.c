/* registry.c — the list of every kernel: a new sampler is its file and one line here. The
 * order is the order of --help. */
#include <string.h>

#include "kernel.h"

extern const bnn_kernel bnn_kernel_rw, bnn_kernel_langevin, bnn_kernel_mala, bnn_kernel_hmc,
    bnn_kernel_nuts, bnn_kernel_gibbs, bnn_kernel_slice, bnn_kernel_pt, bnn_kernel_sgld,
    bnn_kernel_sghmc;

static const bnn_kernel *const kernels[] = {
    &bnn_kernel_rw,
    &bnn_kernel_langevin,
    &bnn_kernel_mala,
    &bnn_kernel_hmc,
    &bnn_kernel_nuts,
    &bnn_kernel_gibbs,
    &bnn_kernel_slice,
    &bnn_kernel_pt,
    &bnn_kernel_sgld,
    &bnn_kernel_sghmc,
};

const bnn_kernel *bnn_kernel_at(size_t i)
{
    return i < sizeof kernels / sizeof kernels[0] ? kernels[i] : NULL;
}

const bnn_kernel *bnn_kernel_find(const char *name)
{
    for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; i++)
        if (strcmp(kernels[i]->name, name) == 0)
            return kernels[i];
    return NULL;
}

int bnn_kernel_index(const bnn_kernel *k)
{
    for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; i++)
        if (kernels[i] == k)
            return (int)i;
    return -1;
}

const bnn_option *bnn_kernel_option(const bnn_kernel *k, const char *name)
{
    for (size_t i = 0; k->options && k->options[i].name; i++)
        if (strcmp(k->options[i].name, name) == 0)
            return &k->options[i];
    return NULL;
}
