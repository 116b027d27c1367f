/* fused8f.c — the fused kernel (fused_simd.h) in single precision on 8 lanes: native
 * vectors with AVX2 and FMA (x86-64-v3). */
#define VL 8
#define FUSED_SINGLE 1
#define FUSED_NAME(name) name##8f
#define FUSED_TARGETS __attribute__((target_clones("arch=x86-64-v3", "default")))
#include "fused_simd.h"
