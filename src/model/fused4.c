/* fused4.c — the fused kernel (fused_simd.h) on 4 lanes: native vectors with AVX2 and
 * FMA (x86-64-v3), and the baseline for processors without them. */
#define VL 4
#define FUSED_NAME(name) name##4
#define FUSED_TARGETS __attribute__((target_clones("arch=x86-64-v3", "default")))
#include "fused_simd.h"
