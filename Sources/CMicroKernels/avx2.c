// The AVX2 family (AVX2 and FMA): 8 floats per vector, 16 vector registers. The product's tile
// is 6 rows by 2 vectors (12 accumulators, 2 vectors of B and a broadcast value of A), with no
// wide tile: 4 rows by 3 vectors needs all 16 registers and runs slower than the ordinary tile
// (benchmarks/README.md). Masked loads and stores are kept to the matrices' edges and the last
// vector of element-wise passes.
#if defined(__x86_64__)

#include "microkernels.h"

#include <immintrin.h>

// Elementwise kernels must round every product and sum as the Swift loops they stand for do.
#pragma STDC FP_CONTRACT OFF

// The family's instructions. A build that runs this file's code through emulated intrinsics
// (scripts/check-kernel-families.sh, on a CPU without them) defines TARGET itself.
#ifndef TARGET
#define TARGET __attribute__((target("avx2,fma")))
#endif
#define INLINE static inline __attribute__((always_inline))

typedef __m256 vec;
typedef __m256i mask_t;
enum { LANES = 8, MR = 6, NV = 2, MR_WIDE = MR, NV_WIDE = NV };   // NV_WIDE = NV: no wide tile
#define PACKS_B 1

#define V_ZERO() _mm256_setzero_ps()
#define V_SET1(x) _mm256_set1_ps(x)
#define V_LOAD(p) _mm256_loadu_ps(p)
#define V_STORE(p, v) _mm256_storeu_ps(p, v)
#define V_STORE_ALIGNED(p, v) _mm256_store_ps(p, v)
#define V_MLOAD(mask, p) _mm256_maskload_ps(p, mask)
#define V_MSTORE(p, mask, v) _mm256_maskstore_ps(p, mask, v)
#define V_FMADD(a, b, c) _mm256_fmadd_ps(a, b, c)
#define V_ADD(a, b) _mm256_add_ps(a, b)
#define V_SUB(a, b) _mm256_sub_ps(a, b)
#define V_MUL(a, b) _mm256_mul_ps(a, b)
#define V_DIV(a, b) _mm256_div_ps(a, b)
#define V_SQRT(a) _mm256_sqrt_ps(a)

// The lanes of a vector whose first lane is column `first` that fall in columns 0..<n (every
// kernel's edge masks): all bits set in those lanes, none elsewhere.
TARGET INLINE __m256i lanes_inside(ptrdiff_t first, ptrdiff_t n) {
    const ptrdiff_t from = first < 0 ? -first : 0, to = n - first < 8 ? n - first : 8;
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const int low = from > 8 ? 8 : (int)from, high = to < 0 ? 0 : (int)to;
    // Lane l is inside when low ≤ l < high.
    return _mm256_andnot_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32(low), lane), _mm256_cmpgt_epi32(_mm256_set1_epi32(high), lane));
}

#include "family.h"

// The transpose of one 8×8 block held in 8 registers: pairs of rows interleaved, then pairs of
// pairs, then the 128-bit halves exchanged.
TARGET INLINE void transpose8(__m256 r[8]) {
    __m256 t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xee);
        u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xee);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
        r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
    }
}

TARGET static void family_transpose(ptrdiff_t rows, ptrdiff_t columns, const float *src, ptrdiff_t lds, float *dst, ptrdiff_t ldd) {
    for (ptrdiff_t i0 = 0; i0 < rows; i0 += 8) {
        const ptrdiff_t height = rows - i0 < 8 ? rows - i0 : 8;
        for (ptrdiff_t j0 = 0; j0 < columns; j0 += 8) {
            const ptrdiff_t width = columns - j0 < 8 ? columns - j0 : 8;
            __m256 r[8];
            if (height == 8 && width == 8) {
                for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(src + (i0 + i) * lds + j0);
                transpose8(r);
                for (int j = 0; j < 8; j++) _mm256_storeu_ps(dst + (j0 + j) * ldd + i0, r[j]);
                continue;
            }
            const __m256i load = lanes_inside(0, width), store = lanes_inside(0, height);
            for (int i = 0; i < 8; i++) {
                r[i] = i < height ? _mm256_maskload_ps(src + (i0 + i) * lds + j0, load) : _mm256_setzero_ps();
            }
            transpose8(r);
            for (int j = 0; j < width; j++) _mm256_maskstore_ps(dst + (j0 + j) * ldd + i0, store, r[j]);
        }
    }
}

// The low 64 bits of each 64-bit lane's product (AVX2 multiplies 32 × 32 bits only).
TARGET INLINE __m256i multiply_low64(__m256i a, __m256i b) {
    const __m256i low = _mm256_mul_epu32(a, b);
    const __m256i cross = _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(a, 32), b), _mm256_mul_epu32(a, _mm256_srli_epi64(b, 32)));
    return _mm256_add_epi64(low, _mm256_slli_epi64(cross, 32));
}

// SplitMix64's finaliser on four counters at once.
TARGET INLINE __m256i splitmix_finalise(__m256i z) {
    z = multiply_low64(_mm256_xor_si256(z, _mm256_srli_epi64(z, 30)), _mm256_set1_epi64x((long long)0xbf58476d1ce4e5b9ULL));
    z = multiply_low64(_mm256_xor_si256(z, _mm256_srli_epi64(z, 27)), _mm256_set1_epi64x((long long)0x94d049bb133111ebULL));
    return _mm256_xor_si256(z, _mm256_srli_epi64(z, 31));
}

// The mask into `out` and, given `x`, `x · mask` into `y` (same lanes, same pass).
TARGET INLINE void dropout_pass(uint64_t key, ptrdiff_t first, ptrdiff_t count, float p, float keep,
                                float *out, const float *x, float *y) {
    const uint64_t golden = 0x9e3779b97f4a7c15ULL;
    // Pairs of elements (2j, 2j + 1) share output j; from the pair holding element `first`,
    // eight elements (four outputs) per vector. An odd `first` writes from lane 1 of the first
    // vector, stored one element before `out` with lane 0 masked off (never touched).
    const ptrdiff_t skip = first & 1, total = count + skip;
    float *base = out - skip;
    const uint64_t start = key + ((uint64_t)(first >> 1) + 1) * golden;
    __m256i counter = _mm256_setr_epi64x((long long)start, (long long)(start + golden), (long long)(start + 2 * golden),
                                         (long long)(start + 3 * golden));
    const __m256i step = _mm256_set1_epi64x((long long)(4 * golden)), low24 = _mm256_set1_epi64x(0xffffff);
    const __m256 scale = _mm256_set1_ps(1.0f / 16777216.0f), threshold = _mm256_set1_ps(p), kept = _mm256_set1_ps(keep);
    for (ptrdiff_t i = 0; i < total; i += 8) {
        const __m256i z = splitmix_finalise(counter);
        // Output l's bits 40–63 into 32-bit lane 2l, its bits 16–39 into lane 2l + 1.
        const __m256i high = _mm256_srli_epi64(z, 40), middle = _mm256_and_si256(_mm256_srli_epi64(z, 16), low24);
        const __m256i both = _mm256_or_si256(high, _mm256_slli_epi64(middle, 32));
        const __m256 u = _mm256_mul_ps(_mm256_cvtepi32_ps(both), scale);
        // 0 where u < p, keep elsewhere (a NaN p keeps everything: the comparison is false).
        const __m256 values = _mm256_andnot_ps(_mm256_cmp_ps(u, threshold, _CMP_LT_OQ), kept);
        // Lane l holds element i − skip + l of `out`.
        const ptrdiff_t element = i - skip;
        if (element >= 0 && element + 8 <= count) {
            _mm256_storeu_ps(out + element, values);
            if (x) _mm256_storeu_ps(y + element, _mm256_mul_ps(_mm256_loadu_ps(x + element), values));
        } else {
            const __m256i lanes = lanes_inside(element, count);
            _mm256_maskstore_ps(base + i, lanes, values);
            if (x) {
                const __m256 input = _mm256_maskload_ps(x - skip + i, lanes);
                _mm256_maskstore_ps(y - skip + i, lanes, _mm256_mul_ps(input, values));
            }
        }
        counter = _mm256_add_epi64(counter, step);
    }
}

// Positions `first ..< first + count` (count ≤ 8) of the planes `plane0 + l·positions` for the
// lanes l < `lanes` (zero in the others), transposed: `out[q]` holds position first + q of every
// lane's plane. Bit patterns are moved, never rounded, so int32 planes pass through as well.
TARGET INLINE void lane_planes(const float *plane0, ptrdiff_t positions, int lanes, ptrdiff_t count, __m256 out[8]) {
    const __m256i columns = lanes_inside(0, count);
    for (int l = 0; l < 8; l++) {
        const float *row = plane0 + l * positions;
        out[l] = l >= lanes ? _mm256_setzero_ps() : count == 8 ? _mm256_loadu_ps(row) : _mm256_maskload_ps(row, columns);
    }
    transpose8(out);
}

TARGET static void family_pooled_conv3x3_gradients(ptrdiff_t batch, ptrdiff_t out_channels, ptrdiff_t o0, int lanes, ptrdiff_t in_channels,
                                                   const float *padded, ptrdiff_t padded_plane, ptrdiff_t padded_width, ptrdiff_t stride,
                                                   ptrdiff_t pooled_height, ptrdiff_t pooled_width,
                                                   const float *gradient, const int32_t *arg_max, const float *pooled,
                                                   float *dw, float *db) {
    const ptrdiff_t positions = pooled_height * pooled_width, conv_width = 2 * pooled_width, plane = 4 * positions;
    const __m256 zero = _mm256_setzero_ps();
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i width = _mm256_set1_epi32((int)conv_width), last_column = _mm256_set1_epi32((int)conv_width - 1);
    const __m256i one = _mm256_set1_epi32(1), all = _mm256_set1_epi32(-1);
    for (ptrdiff_t c = 0; c < in_channels; c++) {
        __m256 sum[9], bias = zero;
        for (int t = 0; t < 9; t++) sum[t] = zero;
        for (ptrdiff_t n = 0; n < batch; n++) {
            const float *image = padded + (n * in_channels + c) * padded_plane;
            // Lane l: plane n·O + o0 + l, whose conv output starts at index conv_first.
            const ptrdiff_t first_plane = n * out_channels + o0;
            const __m256i conv_first = _mm256_mullo_epi32(_mm256_add_epi32(_mm256_set1_epi32((int)first_plane), lane),
                                                          _mm256_set1_epi32((int)plane));
            // Eight pooled outputs at a time, each lane's gradient, pooled value and maximum's index
            // read as rows of the planes and transposed, in place of a gather per output.
            ptrdiff_t yo = 0, xo = 0;
            for (ptrdiff_t p0 = 0; p0 < positions; p0 += 8) {
                const ptrdiff_t count = positions - p0 < 8 ? positions - p0 : 8, at0 = first_plane * positions + p0;
                __m256 gradients[8], values[8], maxima[8];
                lane_planes(gradient + at0, positions, lanes, count, gradients);
                if (pooled) lane_planes(pooled + at0, positions, lanes, count, values);
                lane_planes((const float *)(arg_max + at0), positions, lanes, count, maxima);
                for (ptrdiff_t q = 0; q < count; q++) {
                    __m256 g = gradients[q];
                    if (pooled) g = _mm256_and_ps(_mm256_cmp_ps(values[q], zero, _CMP_NLE_UQ), g);
                    if (c == 0) bias = _mm256_add_ps(bias, g);
                    // The maximum's offset from the window's top-left corner: 0, 1, width or width + 1.
                    const __m256i offset = _mm256_sub_epi32(_mm256_sub_epi32(_mm256_castps_si256(maxima[q]), conv_first),
                                                            _mm256_set1_epi32((int)(2 * yo * conv_width + 2 * xo)));
                    const __m256i below = _mm256_cmpgt_epi32(offset, last_column);
                    const __m256i right = _mm256_cmpeq_epi32(_mm256_blendv_epi8(offset, _mm256_sub_epi32(offset, width), below), one);
                    const __m256i above = _mm256_xor_si256(below, all), left = _mm256_xor_si256(right, all);
                    const __m256i corners[4] = {_mm256_and_si256(above, left), _mm256_and_si256(above, right),
                                                _mm256_and_si256(below, left), _mm256_and_si256(below, right)};
                    const float *origin = image + (2 * yo * padded_width + 2 * xo) * stride;
                    for (int k = 0; k < 4; k++) {
                        const __m256 gk = _mm256_and_ps(_mm256_castsi256_ps(corners[k]), g);
                        const float *field = origin + ((k >> 1) * padded_width + (k & 1)) * stride;
                        for (int ty = 0; ty < 3; ty++) {
                            for (int tx = 0; tx < 3; tx++) {
                                sum[ty * 3 + tx] = _mm256_fmadd_ps(gk, _mm256_set1_ps(field[ty * padded_width + tx]), sum[ty * 3 + tx]);
                            }
                        }
                    }
                    if (++xo == pooled_width) xo = 0, yo++;
                }
            }
        }
        float values[9][8], biases[8];
        for (int t = 0; t < 9; t++) _mm256_storeu_ps(values[t], sum[t]);
        _mm256_storeu_ps(biases, bias);
        for (int l = 0; l < lanes; l++) {
            for (int t = 0; t < 9; t++) dw[((o0 + l) * in_channels + c) * 9 + t] = values[t][l];
            if (c == 0) db[o0 + l] = biases[l];
        }
    }
}

// Elements 0, 2, …, 14 (`odd` 0) or 1, 3, …, 15 (`odd` 1) of the 16 floats in `low` and `high`.
TARGET INLINE __m256 every_other(__m256 low, __m256 high, int odd) {
    // Within each 128-bit half: two of `low`'s then two of `high`'s; then the 64-bit pairs in order.
    const __m256 pairs = odd ? _mm256_shuffle_ps(low, high, 0xdd) : _mm256_shuffle_ps(low, high, 0x88);
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(pairs), 0xd8));
}

// A row of windows shorter than a vector is read and written whole where that stays inside the
// plane and its outputs: the lanes past the row read the next rows, and write outputs of the next
// rows that are written again, correctly, when their turn comes. Masked loads and stores (slow on
// AMD's CPUs) are left to the plane's last windows.
TARGET static void family_max_pool_2x2(const float *plane, ptrdiff_t height, ptrdiff_t width, float shift, int relu,
                                       float *values, int32_t *positions, int32_t top_index) {
    const ptrdiff_t pooled_width = width / 2, outputs = height / 2 * pooled_width;
    const __m256 add = _mm256_set1_ps(shift), zero = _mm256_setzero_ps();
    const __m256i below = _mm256_set1_epi32((int)width), one = _mm256_set1_epi32(1);
    const __m256i doubled = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
    for (ptrdiff_t yo = 0; yo < height / 2; yo++) {
        const float *top = plane + 2 * yo * width, *bottom = top + width;
        for (ptrdiff_t xo = 0; xo < pooled_width; xo += 8) {
            const ptrdiff_t windows = pooled_width - xo < 8 ? pooled_width - xo : 8;
            // The row's 2·windows elements from column 2·xo, in two halves of 8.
            const ptrdiff_t elements = 2 * windows;
            const float *t = top + 2 * xo, *b = bottom + 2 * xo;
            const int reads_whole = b + 16 <= plane + height * width, writes_whole = yo * pooled_width + xo + 8 <= outputs;
            const __m256i first_half = lanes_inside(0, elements), second_half = lanes_inside(8, elements);
            const __m256 t0 = reads_whole ? _mm256_loadu_ps(t) : _mm256_maskload_ps(t, first_half);
            const __m256 t1 = reads_whole ? _mm256_loadu_ps(t + 8) : _mm256_maskload_ps(t + 8, second_half);
            const __m256 b0 = reads_whole ? _mm256_loadu_ps(b) : _mm256_maskload_ps(b, first_half);
            const __m256 b1 = reads_whole ? _mm256_loadu_ps(b + 8) : _mm256_maskload_ps(b + 8, second_half);
            const __m256 v1 = _mm256_add_ps(every_other(t0, t1, 1), add);
            const __m256 v2 = _mm256_add_ps(every_other(b0, b1, 0), add);
            const __m256 v3 = _mm256_add_ps(every_other(b0, b1, 1), add);
            __m256 best = _mm256_add_ps(every_other(t0, t1, 0), add);
            const __m256 m1 = _mm256_cmp_ps(v1, best, _CMP_GT_OQ);
            best = _mm256_blendv_ps(best, v1, m1);
            const __m256 m2 = _mm256_cmp_ps(v2, best, _CMP_GT_OQ);
            best = _mm256_blendv_ps(best, v2, m2);
            const __m256 m3 = _mm256_cmp_ps(v3, best, _CMP_GT_OQ);
            best = _mm256_blendv_ps(best, v3, m3);
            if (relu) best = _mm256_blendv_ps(best, zero, _mm256_cmp_ps(best, zero, _CMP_LE_OQ));
            const __m256i lanes = lanes_inside(0, windows);
            float *out = values + yo * pooled_width + xo;
            if (writes_whole) {
                _mm256_storeu_ps(out, best);
            } else {
                _mm256_maskstore_ps(out, lanes, best);
            }
            if (positions) {
                // Window w's top-left corner is index top_index + 2·yo·width + 2·(xo + w).
                const __m256i first = _mm256_add_epi32(_mm256_set1_epi32((int)(top_index + 2 * yo * width + 2 * xo)), doubled);
                __m256i position = first;
                position = _mm256_blendv_epi8(position, _mm256_add_epi32(first, one), _mm256_castps_si256(m1));
                position = _mm256_blendv_epi8(position, _mm256_add_epi32(first, below), _mm256_castps_si256(m2));
                position = _mm256_blendv_epi8(position, _mm256_add_epi32(first, _mm256_add_epi32(below, one)), _mm256_castps_si256(m3));
                int32_t *at = positions + yo * pooled_width + xo;
                if (writes_whole) {
                    _mm256_storeu_si256((__m256i *)at, position);
                } else {
                    _mm256_maskstore_epi32(at, lanes, position);
                }
            }
        }
    }
}

const gauntlet_kernels gauntlet_avx2_kernels = {
    .name = "AVX2",
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
