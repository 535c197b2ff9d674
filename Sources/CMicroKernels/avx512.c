// The AVX-512 family (AVX-512F and AVX-512DQ): 16 floats per vector, 32 vector registers. The
// product's tile is 8 rows by 3 vectors (24 accumulators); a last 49 to 64 columns take one
// tile of 6 rows by 4 vectors.
#if defined(__x86_64__)

#include "microkernels.h"

#include <immintrin.h>

// Elementwise kernels must round every product and sum as the Swift loops they stand for do.
#pragma STDC FP_CONTRACT OFF

// The family's instructions. A build that runs this file's code through emulated intrinsics
// (scripts/check-kernel-families.sh, on a CPU without them) defines TARGET itself.
#ifndef TARGET
#define TARGET __attribute__((target("avx512f,avx512dq")))
#endif
#define INLINE static inline __attribute__((always_inline))

typedef __m512 vec;
typedef __mmask16 mask_t;
enum { LANES = 16, MR = 8, NV = 3, MR_WIDE = 6, NV_WIDE = 4 };
#define PACKS_B 0

#define V_ZERO() _mm512_setzero_ps()
#define V_SET1(x) _mm512_set1_ps(x)
#define V_LOAD(p) _mm512_loadu_ps(p)
#define V_STORE(p, v) _mm512_storeu_ps(p, v)
#define V_STORE_ALIGNED(p, v) _mm512_store_ps(p, v)
#define V_MLOAD(mask, p) _mm512_maskz_loadu_ps(mask, p)
#define V_MSTORE(p, mask, v) _mm512_mask_storeu_ps(p, mask, v)
#define V_FMADD(a, b, c) _mm512_fmadd_ps(a, b, c)
#define V_ADD(a, b) _mm512_add_ps(a, b)
#define V_SUB(a, b) _mm512_sub_ps(a, b)
#define V_MUL(a, b) _mm512_mul_ps(a, b)
#define V_DIV(a, b) _mm512_div_ps(a, b)
#define V_SQRT(a) _mm512_sqrt_ps(a)

// The lanes of a vector whose first lane is column `first` that fall in columns 0..<n (every
// kernel's edge masks).
static inline __mmask16 lanes_inside(ptrdiff_t first, ptrdiff_t n) {
    const ptrdiff_t from = first < 0 ? -first : 0, to = n - first < 16 ? n - first : 16;
    return to <= from ? 0 : (__mmask16)(((1u << to) - 1) & ~((1u << from) - 1));
}

#include "family.h"

// The transpose of one 16×16 block held in 16 registers, in four rounds of lane shuffles.
TARGET INLINE void transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {   // 2×2 blocks of single elements
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {   // pairs of elements
        for (int h = 0; h < 2; h++) {
            const __m512d low = _mm512_castps_pd(t[i + h]), high = _mm512_castps_pd(t[i + h + 2]);
            r[i + 2 * h] = _mm512_castpd_ps(_mm512_unpacklo_pd(low, high));
            r[i + 2 * h + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(low, high));
        }
    }
    for (int i = 0; i < 16; i += 8) {   // 128-bit lanes: quarters 0 and 2, 1 and 3 of the rows
        for (int h = 0; h < 4; h++) {
            t[i + h] = _mm512_shuffle_f32x4(r[i + h], r[i + h + 4], 0x88);
            t[i + h + 4] = _mm512_shuffle_f32x4(r[i + h], r[i + h + 4], 0xdd);
        }
    }
    for (int h = 0; h < 8; h++) {       // 256-bit halves
        r[h] = _mm512_shuffle_f32x4(t[h], t[h + 8], 0x88);
        r[h + 8] = _mm512_shuffle_f32x4(t[h], t[h + 8], 0xdd);
    }
}

TARGET static void family_transpose(ptrdiff_t rows, ptrdiff_t columns, const float *src, ptrdiff_t lds, float *dst, ptrdiff_t ldd) {
    for (ptrdiff_t i0 = 0; i0 < rows; i0 += 16) {
        const ptrdiff_t height = rows - i0 < 16 ? rows - i0 : 16;
        for (ptrdiff_t j0 = 0; j0 < columns; j0 += 16) {
            const ptrdiff_t width = columns - j0 < 16 ? columns - j0 : 16;
            const __mmask16 load = lanes_inside(0, width), store = lanes_inside(0, height);
            __m512 r[16];
            for (int i = 0; i < 16; i++) {
                r[i] = i < height ? _mm512_maskz_loadu_ps(load, src + (i0 + i) * lds + j0) : _mm512_setzero_ps();
            }
            transpose16(r);
            for (int j = 0; j < width; j++) _mm512_mask_storeu_ps(dst + (j0 + j) * ldd + i0, store, r[j]);
        }
    }
}

// SplitMix64's finaliser on eight counters at once (64-bit multiplies: AVX-512DQ).
TARGET INLINE __m512i splitmix_finalise(__m512i z) {
    z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 30)), _mm512_set1_epi64((long long)0xbf58476d1ce4e5b9ULL));
    z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 27)), _mm512_set1_epi64((long long)0x94d049bb133111ebULL));
    return _mm512_xor_si512(z, _mm512_srli_epi64(z, 31));
}

// The mask into `out` and, given `x`, `x · mask` into `y` (same lanes, same pass).
TARGET INLINE void dropout_pass(uint64_t key, ptrdiff_t first, ptrdiff_t count, float p, float keep,
                                float *out, const float *x, float *y) {
    const uint64_t golden = 0x9e3779b97f4a7c15ULL;
    // Pairs of elements (2j, 2j + 1) share output j; from the pair holding element `first`,
    // sixteen elements (eight outputs) per vector. An odd `first` writes from lane 1 of the first
    // vector, stored one element before `out` with lane 0 masked off (never touched).
    const ptrdiff_t skip = first & 1, total = count + skip;
    float *base = out - skip;
    __m512i counter = _mm512_add_epi64(_mm512_set1_epi64((long long)(key + ((uint64_t)(first >> 1) + 1) * golden)),
                                       _mm512_mullo_epi64(_mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0), _mm512_set1_epi64((long long)golden)));
    const __m512i step = _mm512_set1_epi64((long long)(8 * golden)), low24 = _mm512_set1_epi64(0xffffff);
    // Output l's high bits to lane 2l, its middle bits to lane 2l + 1.
    const __m512i interleave = _mm512_set_epi32(15, 7, 14, 6, 13, 5, 12, 4, 11, 3, 10, 2, 9, 1, 8, 0);
    const __m512 scale = _mm512_set1_ps(1.0f / 16777216.0f), threshold = _mm512_set1_ps(p), kept = _mm512_set1_ps(keep);
    for (ptrdiff_t i = 0; i < total; i += 16) {
        const __m512i z = splitmix_finalise(counter);
        const __m256 high = _mm512_cvtepi64_ps(_mm512_srli_epi64(z, 40));
        const __m256 middle = _mm512_cvtepi64_ps(_mm512_and_si512(_mm512_srli_epi64(z, 16), low24));
        const __m512 both = _mm512_insertf32x8(_mm512_castps256_ps512(high), middle, 1);
        const __m512 u = _mm512_mul_ps(_mm512_permutexvar_ps(interleave, both), scale);
        // 0 where u < p, keep elsewhere (a NaN p keeps everything: the comparison is false).
        const __mmask16 dropped = _mm512_cmp_ps_mask(u, threshold, _CMP_LT_OQ);
        const __m512 values = _mm512_maskz_mov_ps((__mmask16)~dropped, kept);
        // Lane l holds element i − skip + l of `out`.
        const __mmask16 lanes = lanes_inside(i - skip, count);
        _mm512_mask_storeu_ps(base + i, lanes, values);
        if (x) {
            const __m512 input = _mm512_maskz_loadu_ps(lanes, x - skip + i);
            _mm512_mask_storeu_ps(y - skip + i, lanes, _mm512_mul_ps(input, values));
        }
        counter = _mm512_add_epi64(counter, step);
    }
}

TARGET static void family_pooled_conv3x3_gradients(ptrdiff_t batch, ptrdiff_t out_channels, ptrdiff_t o0, int lanes, ptrdiff_t in_channels,
                                                   const float *padded, ptrdiff_t padded_plane, ptrdiff_t padded_width, ptrdiff_t stride,
                                                   ptrdiff_t pooled_height, ptrdiff_t pooled_width,
                                                   const float *gradient, const int32_t *arg_max, const float *pooled,
                                                   float *dw, float *db) {
    const ptrdiff_t positions = pooled_height * pooled_width, conv_width = 2 * pooled_width, plane = 4 * positions;
    const __mmask16 active = lanes_inside(0, lanes);
    const __m512i lane = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    const __m512i width = _mm512_set1_epi32((int)conv_width), one = _mm512_set1_epi32(1);
    for (ptrdiff_t c = 0; c < in_channels; c++) {
        __m512 sum[9], bias = _mm512_setzero_ps();
        for (int t = 0; t < 9; t++) sum[t] = _mm512_setzero_ps();
        for (ptrdiff_t n = 0; n < batch; n++) {
            const float *image = padded + (n * in_channels + c) * padded_plane;
            // Lane l: plane n·O + o0 + l, its first pooled output and its conv output's first index.
            const __m512i planes = _mm512_add_epi32(_mm512_set1_epi32((int)(n * out_channels + o0)), lane);
            const __m512i first = _mm512_mullo_epi32(planes, _mm512_set1_epi32((int)positions));
            const __m512i conv_first = _mm512_mullo_epi32(planes, _mm512_set1_epi32((int)plane));
            for (ptrdiff_t yo = 0; yo < pooled_height; yo++) {
                for (ptrdiff_t xo = 0; xo < pooled_width; xo++) {
                    const __m512i index = _mm512_add_epi32(first, _mm512_set1_epi32((int)(yo * pooled_width + xo)));
                    __m512 g = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), active, index, gradient, 4);
                    if (pooled) {
                        const __m512 value = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), active, index, pooled, 4);
                        g = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(value, _mm512_setzero_ps(), _CMP_NLE_UQ), g);
                    }
                    if (c == 0) bias = _mm512_add_ps(bias, g);
                    // The maximum's offset from the window's top-left corner: 0, 1, width or width + 1.
                    const __m512i at = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), active, index, arg_max, 4);
                    const __m512i offset = _mm512_sub_epi32(_mm512_sub_epi32(at, conv_first),
                                                            _mm512_set1_epi32((int)(2 * yo * conv_width + 2 * xo)));
                    const __mmask16 below = _mm512_cmpge_epi32_mask(offset, width);
                    const __mmask16 right = _mm512_cmpeq_epi32_mask(_mm512_mask_sub_epi32(offset, below, offset, width), one);
                    const __mmask16 corners[4] = {(__mmask16)(~below & ~right), (__mmask16)(~below & right),
                                                  (__mmask16)(below & ~right), (__mmask16)(below & right)};
                    const float *origin = image + (2 * yo * padded_width + 2 * xo) * stride;
                    for (int k = 0; k < 4; k++) {
                        const __m512 gk = _mm512_maskz_mov_ps(corners[k], g);
                        const float *field = origin + ((k >> 1) * padded_width + (k & 1)) * stride;
                        for (int ty = 0; ty < 3; ty++) {
                            for (int tx = 0; tx < 3; tx++) {
                                sum[ty * 3 + tx] = _mm512_fmadd_ps(gk, _mm512_set1_ps(field[ty * padded_width + tx]), sum[ty * 3 + tx]);
                            }
                        }
                    }
                }
            }
        }
        float values[9][16], biases[16];
        for (int t = 0; t < 9; t++) _mm512_storeu_ps(values[t], sum[t]);
        _mm512_storeu_ps(biases, bias);
        for (int l = 0; l < lanes; l++) {
            for (int t = 0; t < 9; t++) dw[((o0 + l) * in_channels + c) * 9 + t] = values[t][l];
            if (c == 0) db[o0 + l] = biases[l];
        }
    }
}

TARGET static void family_max_pool_2x2(const float *plane, ptrdiff_t height, ptrdiff_t width, float shift, int relu,
                                       float *values, int32_t *positions, int32_t top_index) {
    const ptrdiff_t pooled_width = width / 2;
    const __m512i evens = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odds = _mm512_add_epi32(evens, _mm512_set1_epi32(1));
    const __m512 add = _mm512_set1_ps(shift), zero = _mm512_setzero_ps();
    const __m512i below = _mm512_set1_epi32((int)width), one = _mm512_set1_epi32(1);
    for (ptrdiff_t yo = 0; yo < height / 2; yo++) {
        const float *top = plane + 2 * yo * width, *bottom = top + width;
        for (ptrdiff_t xo = 0; xo < pooled_width; xo += 16) {
            const ptrdiff_t windows = pooled_width - xo < 16 ? pooled_width - xo : 16;
            // The row's 2·windows elements from column 2·xo, in two halves of 16.
            const ptrdiff_t elements = 2 * windows;
            const __mmask16 first_half = lanes_inside(0, elements), second_half = lanes_inside(16, elements);
            const float *t = top + 2 * xo, *b = bottom + 2 * xo;
            const __m512 t0 = _mm512_maskz_loadu_ps(first_half, t), t1 = _mm512_maskz_loadu_ps(second_half, t + 16);
            const __m512 b0 = _mm512_maskz_loadu_ps(first_half, b), b1 = _mm512_maskz_loadu_ps(second_half, b + 16);
            const __m512 v1 = _mm512_add_ps(_mm512_permutex2var_ps(t0, odds, t1), add);
            const __m512 v2 = _mm512_add_ps(_mm512_permutex2var_ps(b0, evens, b1), add);
            const __m512 v3 = _mm512_add_ps(_mm512_permutex2var_ps(b0, odds, b1), add);
            __m512 best = _mm512_add_ps(_mm512_permutex2var_ps(t0, evens, t1), add);
            const __mmask16 m1 = _mm512_cmp_ps_mask(v1, best, _CMP_GT_OQ);
            best = _mm512_mask_mov_ps(best, m1, v1);
            const __mmask16 m2 = _mm512_cmp_ps_mask(v2, best, _CMP_GT_OQ);
            best = _mm512_mask_mov_ps(best, m2, v2);
            const __mmask16 m3 = _mm512_cmp_ps_mask(v3, best, _CMP_GT_OQ);
            best = _mm512_mask_mov_ps(best, m3, v3);
            if (relu) best = _mm512_mask_mov_ps(best, _mm512_cmp_ps_mask(best, zero, _CMP_LE_OQ), zero);
            const __mmask16 lanes = lanes_inside(0, windows);
            float *out = values + yo * pooled_width + xo;
            _mm512_mask_storeu_ps(out, lanes, best);
            if (positions) {
                // Window w's top-left corner is index top_index + 2·yo·width + 2·(xo + w).
                const __m512i first = _mm512_add_epi32(_mm512_set1_epi32((int)(top_index + 2 * yo * width + 2 * xo)),
                                                       _mm512_slli_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0), 1));
                __m512i position = first;
                position = _mm512_mask_add_epi32(position, m1, first, one);
                position = _mm512_mask_add_epi32(position, m2, first, below);
                position = _mm512_mask_add_epi32(position, m3, first, _mm512_add_epi32(below, one));
                _mm512_mask_storeu_epi32(positions + yo * pooled_width + xo, lanes, position);
            }
        }
    }
}

const gauntlet_kernels gauntlet_avx512_kernels = {
    .name = "AVX-512",
    .lanes = LANES,
    .sgemm = family_sgemm,
    .sgemm_transposed_b = family_sgemm_transposed_b,
    .transpose = family_transpose,
    .dropout_mask = family_dropout_mask,
    .dropout = family_dropout,
    .adam_update = family_adam_update,
    .pooled_conv3x3_gradients = family_pooled_conv3x3_gradients,
    .max_pool_2x2 = family_max_pool_2x2,
};

#endif
