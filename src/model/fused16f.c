/* fused16f.c — the fused kernel (fused_simd.h) in single precision on 16 lanes: native
 * vectors with AVX-512 (x86-64-v4). */
#define VL 16
#define FUSED_SINGLE 1
#define FUSED_NAME(name) name##16f
#define FUSED_TARGETS __attribute__((target_clones("arch=x86-64-v4", "default")))
#include "fused_simd.h"
