// Matrix products for the small shapes of convolutions and layers (a few hundred rows and
// columns), where OpenBLAS's packing of both operands costs a large share of each call.
//
// One register tile of C, MR rows by NV vectors of 16 columns, is summed over the k terms: per
// term, NV vectors of B's row are loaded and each of A's MR values is broadcast against them
// (MR·NV fused multiply-adds, at most 8·3 = 24 accumulators in registers; a last 49 to 64
// columns take one tile of 6 rows by 4 vectors instead of a full tile and a one-vector one).
// Neither operand is packed: B's rows are read in place (a tile's rows stay in the L1/L2 caches
// while every row panel of A passes over them) and A's values are broadcast from wherever its
// strides put them. k is cut into blocks of KC terms, each block's sums added onto C.
#include "microkernels.h"

#include <immintrin.h>
#include <stdlib.h>

// Elementwise kernels must round every product and sum as the Swift loops they stand for do.
#pragma STDC FP_CONTRACT OFF

#define AVX512 __attribute__((target("avx512f")))
#define INLINE static inline __attribute__((always_inline))

enum { KC = 256, MR = 8, NV = 3, NR = 16 * NV, MR_WIDE = 6, NV_WIDE = 4, NR_WIDE = 16 * NV_WIDE };

int gauntlet_avx512_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
}

// One `rows × 16·vectors` tile of C (rows ≤ MR and vectors ≤ NV, or rows ≤ MR_WIDE and vectors
// ≤ NV_WIDE; compile-time constants once inlined). At the matrices' `edge`, vector v's lanes
// are limited to `masks[v]` (loads and stores: a masked-off lane is never touched, even where
// its address lies outside the matrices); inside, every lane is used, with plain loads and
// stores.
AVX512 INLINE void tile(const int rows, const int vectors, const int edge, ptrdiff_t k,
                        const float *a, ptrdiff_t a_row, ptrdiff_t a_col,
                        const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc,
                        const __mmask16 *masks, int accumulate) {
    __m512 sum[MR][NV_WIDE];
    for (int r = 0; r < rows; r++) {
        for (int v = 0; v < vectors; v++) {
            const float *at = c + r * ldc + 16 * v;
            sum[r][v] = !accumulate ? _mm512_setzero_ps() : edge ? _mm512_maskz_loadu_ps(masks[v], at) : _mm512_loadu_ps(at);
        }
    }
    for (ptrdiff_t p = 0; p < k; p++) {
        const float *bp = b + p * ldb, *ap = a + p * a_col;
        __m512 row[NV_WIDE];
        for (int v = 0; v < vectors; v++) {
            row[v] = edge ? _mm512_maskz_loadu_ps(masks[v], bp + 16 * v) : _mm512_loadu_ps(bp + 16 * v);
        }
        for (int r = 0; r < rows; r++) {
            const __m512 value = _mm512_set1_ps(ap[r * a_row]);
            for (int v = 0; v < vectors; v++) sum[r][v] = _mm512_fmadd_ps(value, row[v], sum[r][v]);
        }
    }
    for (int r = 0; r < rows; r++) {
        for (int v = 0; v < vectors; v++) {
            float *at = c + r * ldc + 16 * v;
            if (edge) {
                _mm512_mask_storeu_ps(at, masks[v], sum[r][v]);
            } else {
                _mm512_storeu_ps(at, sum[r][v]);
            }
        }
    }
}

// A tile of `rows` rows (a constant): a full one inside the matrices, else one of 1 to NV
// vectors with masks.
#define TILE_ROWS(rows)                                                                                 \
    if (!edge) {                                                                                        \
        tile(rows, NV, 0, kc, ap, a_row, a_col, bp, ldb, cp, ldc, masks, sum_onto_c);                   \
    } else {                                                                                            \
        switch (vectors) {                                                                              \
        case 1: tile(rows, 1, 1, kc, ap, a_row, a_col, bp, ldb, cp, ldc, masks, sum_onto_c); break;     \
        case 2: tile(rows, 2, 1, kc, ap, a_row, a_col, bp, ldb, cp, ldc, masks, sum_onto_c); break;     \
        default: tile(rows, NV, 1, kc, ap, a_row, a_col, bp, ldb, cp, ldc, masks, sum_onto_c); break;   \
        }                                                                                               \
    }

// A tile of `rows` rows (a constant) and NV_WIDE vectors.
#define WIDE_TILE_ROWS(rows)                                                                            \
    if (!edge) {                                                                                        \
        tile(rows, NV_WIDE, 0, kc, ap, a_row, a_col, bp, ldb, cp, ldc, masks, sum_onto_c);              \
    } else {                                                                                            \
        tile(rows, NV_WIDE, 1, kc, ap, a_row, a_col, bp, ldb, cp, ldc, masks, sum_onto_c);              \
    }

// The row panels of one column tile: `full` rows each (a constant), then 4, 2 or 1 at the
// bottom edge, each tile made by `TILE`.
#define ROW_PANELS(TILE, full)                                                                          \
    for (ptrdiff_t i = 0; i < m;) {                                                                     \
        const float *ap = a + i * a_row + p0 * a_col;                                                   \
        float *cp = c + i * ldc + j;                                                                    \
        const ptrdiff_t left = m - i;                                                                   \
        if (left >= (full)) {                                                                           \
            TILE(full) i += (full);                                                                     \
        } else if (left >= 4) {                                                                         \
            TILE(4) i += 4;                                                                             \
        } else if (left >= 2) {                                                                         \
            TILE(2) i += 2;                                                                             \
        } else {                                                                                        \
            TILE(1) i += 1;                                                                             \
        }                                                                                               \
    }

// The lanes of a vector whose first lane is column `first` that fall in columns 0..<n (every
// kernel's edge masks).
static inline __mmask16 lanes_inside(ptrdiff_t first, ptrdiff_t n) {
    const ptrdiff_t from = first < 0 ? -first : 0, to = n - first < 16 ? n - first : 16;
    return to <= from ? 0 : (__mmask16)(((1u << to) - 1) & ~((1u << from) - 1));
}

AVX512 void gauntlet_sgemm(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                           const float *a, ptrdiff_t a_row, ptrdiff_t a_col,
                           const float *b, ptrdiff_t ldb,
                           float *c, ptrdiff_t ldc, int accumulate) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        if (!accumulate) {
            for (ptrdiff_t i = 0; i < m; i++) {
                for (ptrdiff_t j = 0; j < n; j++) c[i * ldc + j] = 0;
            }
        }
        return;
    }
    // When every row of B starts at the same offset within a 64-byte line, the column tiles
    // start `lead` columns before column 0 (those lanes masked off), so that no load of B
    // straddles two cache lines.
    const ptrdiff_t lead = ldb % 16 == 0 ? (ptrdiff_t)(((size_t)b / sizeof(float)) % 16) : 0;
    for (ptrdiff_t p0 = 0; p0 < k; p0 += KC) {
        const ptrdiff_t kc = k - p0 < KC ? k - p0 : KC;
        const int sum_onto_c = accumulate || p0 > 0;
        // Column tiles outside, row panels inside: a tile of B is reused by every panel of A.
        for (ptrdiff_t j = -lead; j < n; j += NR) {
            // The last 49 to 64 columns (none of them before column 0): one wide tile, whose
            // rows (6 instead of 8) use each value of A for four vectors of B instead of three,
            // rather than a full tile and a one-vector tile, which used each value of A once.
            const int wide = j >= 0 && n - j > NR && n - j <= NR_WIDE;
            const int vectors = (int)((n - j < NR ? n - j : NR) + 15) / 16;
            __mmask16 masks[NV_WIDE];
            for (int v = 0; v < NV_WIDE; v++) masks[v] = lanes_inside(j + 16 * v, n);
            const int edge = j < 0 || j + (wide ? NR_WIDE : NR) > n;
            const float *bp = b + p0 * ldb + j;
            if (wide) {
                ROW_PANELS(WIDE_TILE_ROWS, MR_WIDE)
                break;
            }
            ROW_PANELS(TILE_ROWS, MR)
        }
    }
}

// The transpose of one 16×16 block held in 16 registers, in four rounds of lane shuffles.
AVX512 INLINE void transpose16(__m512 r[16]) {
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

AVX512 void gauntlet_transpose(ptrdiff_t rows, ptrdiff_t columns, const float *src, ptrdiff_t lds, float *dst, ptrdiff_t ldd) {
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

AVX512 int gauntlet_sgemm_transposed_b(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda,
                                       const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc, int accumulate,
                                       const float *row_start) {
    if (m <= 0 || n <= 0) return 1;
    // Aᵀ (k×m) and Cᵀ (n×m), each row padded to whole cache lines.
    const ptrdiff_t ld = (m + 15) / 16 * 16;
    float *transposed_a = aligned_alloc(64, (size_t)(k + n) * (size_t)ld * sizeof(float));
    if (transposed_a == NULL) return 0;
    float *transposed_c = transposed_a + k * ld;
    gauntlet_transpose(m, k, a, lda, transposed_a, ld);
    if (row_start != NULL) {
        // Row j of Cᵀ is column j of C: row_start[j] throughout.
        for (ptrdiff_t j = 0; j < n; j++) {
            const __m512 value = _mm512_set1_ps(row_start[j]);
            for (ptrdiff_t i = 0; i < ld; i += 16) _mm512_store_ps(transposed_c + j * ld + i, value);
        }
    } else if (accumulate) {
        gauntlet_transpose(m, n, c, ldc, transposed_c, ld);
    }
    gauntlet_sgemm(n, m, k, b, ldb, 1, transposed_a, ld, transposed_c, ld, accumulate || row_start != NULL);
    gauntlet_transpose(n, m, transposed_c, ld, c, ldc);
    free(transposed_a);
    return 1;
}

// SplitMix64's finaliser on eight counters at once (64-bit multiplies: AVX-512DQ).
__attribute__((target("avx512f,avx512dq"))) INLINE __m512i splitmix_finalise(__m512i z) {
    z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 30)), _mm512_set1_epi64((long long)0xbf58476d1ce4e5b9ULL));
    z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 27)), _mm512_set1_epi64((long long)0x94d049bb133111ebULL));
    return _mm512_xor_si512(z, _mm512_srli_epi64(z, 31));
}

// The mask into `out` and, given `x`, `x · mask` into `y` (same lanes, same pass).
__attribute__((target("avx512f,avx512dq"))) INLINE void dropout_pass(uint64_t key, ptrdiff_t first, ptrdiff_t count, float p, float keep,
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

__attribute__((target("avx512f,avx512dq"))) void gauntlet_dropout_mask(uint64_t key, ptrdiff_t first, ptrdiff_t count, float p, float keep, float *out) {
    dropout_pass(key, first, count, p, keep, out, 0, 0);
}

__attribute__((target("avx512f,avx512dq"))) void gauntlet_dropout(uint64_t key, ptrdiff_t first, ptrdiff_t count, float p, float keep,
                                                                  const float *x, float *y, float *mask) {
    dropout_pass(key, first, count, p, keep, mask, x, y);
}

AVX512 void gauntlet_adam_update(ptrdiff_t count, float *theta, const float *gradient, float *m, float *v,
                                 float beta1, float beta2, float eps, float decay, float step, float root_correction) {
    const __m512 b1 = _mm512_set1_ps(beta1), c1 = _mm512_set1_ps(1.0f - beta1);
    const __m512 b2 = _mm512_set1_ps(beta2), c2 = _mm512_set1_ps(1.0f - beta2);
    const __m512 e = _mm512_set1_ps(eps), d = _mm512_set1_ps(decay), s = _mm512_set1_ps(step), r = _mm512_set1_ps(root_correction);
    for (ptrdiff_t i = 0; i < count; i += 16) {
        const ptrdiff_t left = count - i;
        const __mmask16 lanes = lanes_inside(0, left);
        const __m512 t = _mm512_maskz_loadu_ps(lanes, theta + i);
        __m512 g = _mm512_maskz_loadu_ps(lanes, gradient + i);
        if (decay != 0) g = _mm512_add_ps(g, _mm512_mul_ps(d, t));
        const __m512 mi = _mm512_add_ps(_mm512_mul_ps(b1, _mm512_maskz_loadu_ps(lanes, m + i)), _mm512_mul_ps(c1, g));
        const __m512 vi = _mm512_add_ps(_mm512_mul_ps(b2, _mm512_maskz_loadu_ps(lanes, v + i)), _mm512_mul_ps(_mm512_mul_ps(c2, g), g));
        const __m512 denominator = _mm512_add_ps(_mm512_div_ps(_mm512_sqrt_ps(vi), r), e);
        _mm512_mask_storeu_ps(m + i, lanes, mi);
        _mm512_mask_storeu_ps(v + i, lanes, vi);
        _mm512_mask_storeu_ps(theta + i, lanes, _mm512_sub_ps(t, _mm512_div_ps(_mm512_mul_ps(s, mi), denominator)));
    }
}

AVX512 void gauntlet_pooled_conv3x3_gradients(ptrdiff_t batch, ptrdiff_t out_channels, ptrdiff_t o0, int lanes, ptrdiff_t in_channels,
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

AVX512 void gauntlet_max_pool_2x2(const float *plane, ptrdiff_t height, ptrdiff_t width, float shift, int relu,
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
