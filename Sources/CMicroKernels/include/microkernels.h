#ifndef GAUNTLET_MICROKERNELS_H
#define GAUNTLET_MICROKERNELS_H

#include <stddef.h>
#include <stdint.h>

/// Gauntlet's kernel families: the same kernels written for one vector instruction set each.
/// Every family computes the same bits (products are ordered fused sums, the element-wise
/// kernels round each operation as their Swift loops do), so which one runs changes speed only.
typedef enum gauntlet_kernel_family {
    /// AVX2 and FMA: 8 floats per vector (x86-64 since Intel Haswell and AMD Zen).
    GAUNTLET_FAMILY_AVX2 = 1,
    /// AVX-512F and AVX-512DQ: 16 floats per vector (Intel Skylake-SP and later, AMD Zen 4 and later).
    GAUNTLET_FAMILY_AVX512 = 2,
} gauntlet_kernel_family;

/// One family's kernels. Their contracts, common to every family:
///
/// `sgemm`: `C = A·B` (`accumulate` 0) or `C += A·B` (1) for an `m×k` matrix A and a row-major
/// `k×n` matrix B: `C[i·ldc + j] (+)= Σ_p A[i·a_row + p·a_col] · B[p·ldb + j]`. A's strides let
/// it be row-major (`a_row = lda, a_col = 1`) or transposed (`a_row = 1, a_col = lda`) with no
/// copy. Every element's sum is taken with fused multiply-adds in increasing `p`, onto C's old
/// value when accumulating: the result does not depend on how C is split into blocks, nor on
/// the family.
///
/// `sgemm_transposed_b`: `C = A·Bᵀ` (`accumulate` 0) or `C += A·Bᵀ` (1) for a row-major `m×k`
/// matrix A and a row-major `n×k` matrix B: `C[i·ldc + j] (+)= Σ_p A[i·lda + p] · B[j·ldb + p]`;
/// with a `row_start` (not NULL) every row of C starts from it instead: `C[i·ldc + j] =
/// row_start[j] + Σ_p …` (a layer's bias). Computed as `Cᵀ (+)= B·Aᵀ` by `sgemm` (B's rows
/// broadcast in place) with copies of Aᵀ and Cᵀ: the same bits as `sgemm` given B transposed
/// (and C filled with `row_start`'s rows first). Returns 0, computing nothing, when the copies'
/// memory cannot be had, else 1.
///
/// `transpose`: `dst[j·ldd + i] = src[i·lds + j]` for `i < rows`, `j < columns`: the transpose of
/// a row-major `rows×columns` block, one square of `lanes × lanes` at a time.
///
/// `dropout_mask`: elements `first ..< first + count` of a dropout mask: element i is 0 when
/// `u_i < p`, else `keep`. Elements 2j and 2j + 1 share output j of SplitMix64 started at `key`
/// (the SplitMix64 finaliser of `key + (j + 1) · 0x9e3779b97f4a7c15`): `u_2j` is its bits
/// 40–63, `u_2j+1` its bits 16–39, each as a fraction of 2²⁴. Written to `out[0 ..< count]`.
///
/// `dropout`: `dropout_mask` into `mask` and, in the same pass, `y[i] = x[i] · mask[i]`.
///
/// `adam_update`: one Adam update of `count` elements, each operation rounded in this order (no
/// fused multiply-add): `g = gradient[i] + decay·θ[i]` (decay 0: the gradient alone),
/// `m[i] = β₁·m[i] + (1−β₁)·g`, `v[i] = β₂·v[i] + ((1−β₂)·g)·g`,
/// `θ[i] = θ[i] − (step·m[i]) / (√v[i] / root_correction + ε)`.
///
/// `pooled_conv3x3_gradients`: weight and bias gradients of a 3×3 convolution followed by 2×2
/// max pooling, from the pooled gradient alone (`Kernels.conv2dMaxPool2x2ParameterGradients`),
/// for the output channels `o0 ..< o0 + lanes` (1 ≤ lanes ≤ the family's `lanes`), one per lane
/// of a vector. `padded` is the input with its padding written out (`[batch, in_channels,
/// padded_plane]`, rows `padded_width` long); `gradient`, `arg_max` (conv-output indices) and
/// `pooled` (the ReLU'd forward output, or NULL without a ReLU: a gradient counts only where it
/// is not ≤ 0) are `[batch, out_channels, pooled_height, pooled_width]`, over a convolution
/// output `2·pooled_width` wide. For each pooled output, each of its window's four corners adds
/// the gradient (zero unless it is the maximum) times its receptive field with fused
/// multiply-adds; a channel's sums run over the images, then the pooled outputs in order. `dw`
/// is `[out_channels, in_channels, 9]`, `db` `[out_channels]`, both overwritten for these
/// channels.
///
/// `max_pool_2x2`: 2×2 max pooling (stride 2) of one `height × width` plane (both even) of a
/// convolution's product, as `Kernels.poolRow` row after row: each window's largest value plus
/// `shift`, the first in row-major window order on ties (the same comparisons in the same
/// order), then `max(·, 0)` with `relu` (NaN kept); with `positions`, each maximum's index,
/// `top_index` being the index of `plane[0]`.
typedef struct gauntlet_kernels {
    /// The family's name as recorded with results: "AVX-512" or "AVX2".
    const char *name;
    /// Floats per vector: 16 (AVX-512) or 8 (AVX2).
    int lanes;
    void (*sgemm)(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t a_row, ptrdiff_t a_col,
                  const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc, int accumulate);
    int (*sgemm_transposed_b)(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda,
                              const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc, int accumulate,
                              const float *row_start);
    void (*transpose)(ptrdiff_t rows, ptrdiff_t columns, const float *src, ptrdiff_t lds, float *dst, ptrdiff_t ldd);
    void (*dropout_mask)(uint64_t key, ptrdiff_t first, ptrdiff_t count, float p, float keep, float *out);
    void (*dropout)(uint64_t key, ptrdiff_t first, ptrdiff_t count, float p, float keep, const float *x, float *y, float *mask);
    void (*adam_update)(ptrdiff_t count, float *theta, const float *gradient, float *m, float *v,
                        float beta1, float beta2, float eps, float decay, float step, float root_correction);
    void (*pooled_conv3x3_gradients)(ptrdiff_t batch, ptrdiff_t out_channels, ptrdiff_t o0, int lanes, ptrdiff_t in_channels,
                                     const float *padded, ptrdiff_t padded_plane, ptrdiff_t padded_width, ptrdiff_t stride,
                                     ptrdiff_t pooled_height, ptrdiff_t pooled_width,
                                     const float *gradient, const int32_t *arg_max, const float *pooled,
                                     float *dw, float *db);
    void (*max_pool_2x2)(const float *plane, ptrdiff_t height, ptrdiff_t width, float shift, int relu,
                         float *values, int32_t *positions, int32_t top_index);
} gauntlet_kernels;

/// The kernels of `family` when this build has them (x86-64 only) and this CPU and operating
/// system run their instructions; else NULL.
const gauntlet_kernels *gauntlet_kernels_of(gauntlet_kernel_family family);

#endif
