/* fused8.c — the fused kernel (fused_simd.h) on 8 lanes: native vectors with AVX-512,
 * compiled for it (x86-64-v4), and the baseline for the tests elsewhere (a processor with
 * only AVX2 gets the 4-lane instance, fused4.c). */
#define VL 8
#define FUSED_NAME(name) name##8
#define FUSED_TARGETS __attribute__((target_clones("arch=x86-64-v4", "default")))
#include "fused_simd.h"
