// The AVX-512 intrinsics of Sources/CMicroKernels/avx512.c from SIMDe (Debian's libsimde-dev),
// computed with AVX2 and FMA instructions (fused multiply-adds stay fused), so that the AVX-512
// family's code runs on CPUs without AVX-512 (scripts/check-kernel-families.sh). Force-included
// before the file: SIMDe includes the compiler's <immintrin.h> first, so the file's own include
// of it adds nothing, and SIMDe's native aliases stand for the AVX-512 names and types. What
// SIMDe 0.7.4 lacks (masked loads and stores, gathers, the 128-bit shuffle, the 64-bit
// conversion) is written out lane by lane below, a masked-off lane never touched.
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>
#include <string.h>
static inline simde__m512 emulated_maskz_loadu_ps(simde__mmask16 k, const float *p) {
    simde__m512_private r;
    for (int i = 0; i < 16; i++) r.f32[i] = (k >> i) & 1 ? p[i] : 0.0f;
    return simde__m512_from_private(r);
}
static inline void emulated_mask_storeu_ps(float *p, simde__mmask16 k, simde__m512 a) {
    simde__m512_private v = simde__m512_to_private(a);
    for (int i = 0; i < 16; i++) if ((k >> i) & 1) p[i] = v.f32[i];
}
static inline simde__m512 emulated_shuffle_f32x4(simde__m512 a, simde__m512 b, int imm) {
    simde__m512_private r, x = simde__m512_to_private(a), y = simde__m512_to_private(b);
    for (int q = 0; q < 4; q++) {
        const int from = (imm >> (2 * q)) & 3;
        for (int i = 0; i < 4; i++) r.f32[4 * q + i] = (q < 2 ? x : y).f32[4 * from + i];
    }
    return simde__m512_from_private(r);
}
static inline simde__m256 emulated_cvtepi64_ps(simde__m512i a) {
    simde__m512i_private x = simde__m512i_to_private(a);
    simde__m256_private r;
    for (int i = 0; i < 8; i++) r.f32[i] = (float)x.i64[i];
    return simde__m256_from_private(r);
}
static inline simde__m512 emulated_mask_i32gather_ps(simde__m512 old, simde__mmask16 k, simde__m512i index, const void *base, int scale) {
    simde__m512_private r = simde__m512_to_private(old);
    simde__m512i_private at = simde__m512i_to_private(index);
    for (int i = 0; i < 16; i++) if ((k >> i) & 1) memcpy(&r.f32[i], (const char *)base + (ptrdiff_t)at.i32[i] * scale, 4);
    return simde__m512_from_private(r);
}
static inline simde__m512i emulated_mask_i32gather_epi32(simde__m512i old, simde__mmask16 k, simde__m512i index, const void *base, int scale) {
    simde__m512i_private r = simde__m512i_to_private(old), at = simde__m512i_to_private(index);
    for (int i = 0; i < 16; i++) if ((k >> i) & 1) memcpy(&r.i32[i], (const char *)base + (ptrdiff_t)at.i32[i] * scale, 4);
    return simde__m512i_from_private(r);
}
#define _mm512_mask_i32gather_ps(old, k, index, base, scale) emulated_mask_i32gather_ps(old, k, index, base, scale)
#define _mm512_mask_i32gather_epi32(old, k, index, base, scale) emulated_mask_i32gather_epi32(old, k, index, base, scale)
#define _mm512_shuffle_f32x4(a, b, imm) emulated_shuffle_f32x4(a, b, imm)
#define _mm512_cvtepi64_ps(a) emulated_cvtepi64_ps(a)
static inline void emulated_mask_storeu_epi32(void *p, simde__mmask16 k, simde__m512i a) {
    simde__m512i_private v = simde__m512i_to_private(a);
    for (int i = 0; i < 16; i++) if ((k >> i) & 1) memcpy((char *)p + 4 * i, &v.i32[i], 4);
}
#define _mm512_maskz_loadu_ps(k, p) emulated_maskz_loadu_ps(k, p)
#define _mm512_mask_storeu_ps(p, k, a) emulated_mask_storeu_ps(p, k, a)
#define _mm512_mask_storeu_epi32(p, k, a) emulated_mask_storeu_epi32(p, k, a)
