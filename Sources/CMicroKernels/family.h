// The kernels every family writes the same way, over one family's vectors: the matrix product,
// its transposed-B route and Adam's update. Included once by each family's file (avx512.c,
// avx2.c), which first defines:
//
//   TARGET                 the function attribute that enables the family's instructions
//   vec, mask_t, LANES     a vector of LANES floats, and a lane mask for masked loads and stores
//   MR, NV                 the ordinary register tile of C: MR rows by NV vectors
//   MR_WIDE, NV_WIDE       the wide tile, taken by a last NV·LANES + 1 to NV_WIDE·LANES columns
//                          (none where NV_WIDE is NV)
//   PACKS_B                1 where B's tiles are copied to aligned memory when B's rows are not
//                          aligned (see family_sgemm), 0 where they are always read in place
//   V_ZERO() V_SET1(x) V_LOAD(p) V_STORE(p, v) V_STORE_ALIGNED(p, v)
//   V_MLOAD(mask, p)       lanes outside the mask read as 0, and their addresses are never touched
//   V_MSTORE(p, mask, v)   lanes outside the mask are left alone, and never touched
//   V_FMADD(a, b, c)       a·b + c, rounded once
//   V_ADD V_SUB V_MUL V_DIV V_SQRT   IEEE operations, each rounded once
//   lanes_inside(first, n) the mask of the lanes of a vector whose lane 0 is column `first` that
//                          fall in columns 0..<n
//   INLINE                 static inline, always inlined
//
// and afterwards `family_transpose`, the family's `transpose`, which the transposed-B route
// calls, and `dropout_pass`, the dropout mask into `out` and, given `x`, `x · mask` into `y` in
// the same pass, which both dropout kernels are.
//
// Products: one register tile of C, `rows` by `vectors` vectors of LANES columns, is summed
// over the k terms: per term, the tile's vectors of B's row are loaded and each of A's `rows`
// values is broadcast against them (rows·vectors fused multiply-adds, accumulators in
// registers). Neither operand is packed: B's rows are read in place (a tile's rows stay in the
// L1/L2 caches while every row panel of A passes over them) and A's values are broadcast from
// wherever its strides put them. k is cut into blocks of KC terms, each block's sums added onto
// C, so that every element stays one chain of fused multiply-adds in increasing p.
#include <stdlib.h>

TARGET static void family_transpose(ptrdiff_t rows, ptrdiff_t columns, const float *src, ptrdiff_t lds, float *dst, ptrdiff_t ldd);
TARGET INLINE void dropout_pass(uint64_t key, ptrdiff_t first, ptrdiff_t count, float p, float keep,
                                float *out, const float *x, float *y);

enum { KC = 256, NR = LANES * NV, NR_WIDE = LANES * NV_WIDE };
_Static_assert(!PACKS_B || NV_WIDE == NV, "a packed tile of B is NR columns wide");

// One `rows × LANES·vectors` tile of C (rows ≤ MR and vectors ≤ NV, or rows ≤ MR_WIDE and
// vectors ≤ NV_WIDE; compile-time constants once inlined). At the matrices' `edge`, vector v's
// lanes of C are limited to `masks[v]`, and so are B's where `masked_b` (loads and stores: a
// masked-off lane is never touched, even where its address lies outside the matrices); inside,
// every lane is used, with plain loads and stores.
TARGET INLINE void tile(const int rows, const int vectors, const int edge, const int masked_b, ptrdiff_t k,
                        const float *a, ptrdiff_t a_row, ptrdiff_t a_col,
                        const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc,
                        const mask_t *masks, int accumulate) {
    vec sum[MR > MR_WIDE ? MR : MR_WIDE][NV > NV_WIDE ? NV : NV_WIDE];
    for (int r = 0; r < rows; r++) {
        for (int v = 0; v < vectors; v++) {
            const float *at = c + r * ldc + LANES * v;
            sum[r][v] = !accumulate ? V_ZERO() : edge ? V_MLOAD(masks[v], at) : V_LOAD(at);
        }
    }
    for (ptrdiff_t p = 0; p < k; p++) {
        const float *bp = b + p * ldb, *ap = a + p * a_col;
        vec row[NV > NV_WIDE ? NV : NV_WIDE];
        for (int v = 0; v < vectors; v++) {
            row[v] = masked_b ? V_MLOAD(masks[v], bp + LANES * v) : V_LOAD(bp + LANES * v);
        }
        for (int r = 0; r < rows; r++) {
            const vec value = V_SET1(ap[r * a_row]);
            for (int v = 0; v < vectors; v++) sum[r][v] = V_FMADD(value, row[v], sum[r][v]);
        }
    }
    for (int r = 0; r < rows; r++) {
        for (int v = 0; v < vectors; v++) {
            float *at = c + r * ldc + LANES * v;
            if (edge) {
                V_MSTORE(at, masks[v], sum[r][v]);
            } else {
                V_STORE(at, sum[r][v]);
            }
        }
    }
}

// A tile of `rows` rows (a constant): a full one inside the matrices, else one of 1 to NV
// vectors with masks.
#define TILE_ROWS(rows)                                                                                 \
    if (!edge) {                                                                                        \
        tile(rows, NV, 0, 0, kc, ap, a_row, a_col, bp, tile_ldb, cp, ldc, masks, sum_onto_c);       \
    } else {                                                                                            \
        switch (vectors) {                                                                              \
        case 1: tile(rows, 1, 1, masked_b, kc, ap, a_row, a_col, bp, tile_ldb, cp, ldc, masks, sum_onto_c); break;\
        case 2: tile(rows, 2, 1, masked_b, kc, ap, a_row, a_col, bp, tile_ldb, cp, ldc, masks, sum_onto_c); break;\
        default: tile(rows, NV, 1, masked_b, kc, ap, a_row, a_col, bp, tile_ldb, cp, ldc, masks, sum_onto_c); break;\
        }                                                                                               \
    }

// A tile of `rows` rows (a constant) and NV_WIDE vectors.
#define WIDE_TILE_ROWS(rows)                                                                            \
    if (!edge) {                                                                                        \
        tile(rows, NV_WIDE, 0, 0, kc, ap, a_row, a_col, bp, tile_ldb, cp, ldc, masks, sum_onto_c);  \
    } else {                                                                                            \
        tile(rows, NV_WIDE, 1, masked_b, kc, ap, a_row, a_col, bp, tile_ldb, cp, ldc, masks, sum_onto_c);\
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

TARGET static void family_sgemm(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
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
    // Where B's rows do not start at multiples of a vector's width in memory (a Swift array's
    // storage mostly does not) and at least 128 rows of A pass over each tile of B, a family that
    // packs copies each tile (kc × NR) to aligned memory first, zero past the matrix's last
    // column: aligned loads, no masked ones, for a copy of a 1/m share of the tile's work (with
    // fewer rows the copy costs more than it saves: benchmarks/README.md). Else, when every row of B
    // starts at the same offset within a vector's width, the column tiles start `lead` columns
    // before column 0 (those lanes masked off), so that no load of B straddles two cache lines.
    const int pack = PACKS_B && m >= 128 && (ldb % LANES != 0 || (size_t)b % (LANES * sizeof(float)) != 0);
    const ptrdiff_t lead = !pack && ldb % LANES == 0 ? (ptrdiff_t)(((size_t)b / sizeof(float)) % LANES) : 0;
    float packed[PACKS_B ? KC * NR : 1] __attribute__((aligned(64)));
    for (ptrdiff_t p0 = 0; p0 < k; p0 += KC) {
        const ptrdiff_t kc = k - p0 < KC ? k - p0 : KC;
        const int sum_onto_c = accumulate || p0 > 0;
        // Column tiles outside, row panels inside: a tile of B is reused by every panel of A.
        for (ptrdiff_t j = -lead; j < n; j += NR) {
            // The last NR + 1 to NR_WIDE columns (none of them before column 0): one wide tile,
            // whose rows use each value of A for NV_WIDE vectors of B instead of NV, rather than
            // a full tile and a one-vector tile, which used each value of A once.
            const int wide = j >= 0 && n - j > NR && n - j <= NR_WIDE;
            const int vectors = (int)((n - j < NR ? n - j : NR) + LANES - 1) / LANES;
            mask_t masks[NV > NV_WIDE ? NV : NV_WIDE];
            for (int v = 0; v < (NV > NV_WIDE ? NV : NV_WIDE); v++) masks[v] = lanes_inside(j + LANES * v, n);
            const int edge = j < 0 || j + (wide ? NR_WIDE : NR) > n;
            const float *bp = b + p0 * ldb + j;
            ptrdiff_t tile_ldb = ldb;
            int masked_b = edge;
            if (pack) {
                for (ptrdiff_t p = 0; p < kc; p++) {
                    for (int v = 0; v < vectors; v++) {
                        const float *from = bp + p * ldb + LANES * v;
                        V_STORE_ALIGNED(packed + p * NR + LANES * v, edge ? V_MLOAD(masks[v], from) : V_LOAD(from));
                    }
                }
                bp = packed, tile_ldb = NR, masked_b = 0;
            }
            if (wide) {
                ROW_PANELS(WIDE_TILE_ROWS, MR_WIDE)
                break;
            }
            ROW_PANELS(TILE_ROWS, MR)
        }
    }
}

TARGET static int family_sgemm_transposed_b(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda,
                                            const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc, int accumulate,
                                            const float *row_start) {
    if (m <= 0 || n <= 0) return 1;
    // Aᵀ (k×m) and Cᵀ (n×m), each row padded to whole cache lines (16 floats).
    const ptrdiff_t ld = (m + 15) / 16 * 16;
    float *transposed_a = aligned_alloc(64, (size_t)(k + n) * (size_t)ld * sizeof(float));
    if (transposed_a == NULL) return 0;
    float *transposed_c = transposed_a + k * ld;
    family_transpose(m, k, a, lda, transposed_a, ld);
    if (row_start != NULL) {
        // Row j of Cᵀ is column j of C: row_start[j] throughout.
        for (ptrdiff_t j = 0; j < n; j++) {
            const vec value = V_SET1(row_start[j]);
            for (ptrdiff_t i = 0; i < ld; i += LANES) V_STORE_ALIGNED(transposed_c + j * ld + i, value);
        }
    } else if (accumulate) {
        family_transpose(m, n, c, ldc, transposed_c, ld);
    }
    family_sgemm(n, m, k, b, ldb, 1, transposed_a, ld, transposed_c, ld, accumulate || row_start != NULL);
    family_transpose(n, m, transposed_c, ld, c, ldc);
    free(transposed_a);
    return 1;
}

// `count` elements of Adam's update from `i`, all of a vector's lanes (`whole`) or those in
// `lanes` (masked loads and stores).
TARGET INLINE void adam_vector(ptrdiff_t i, int whole, mask_t lanes, float *theta, const float *gradient, float *m, float *v,
                               vec b1, vec c1, vec b2, vec c2, vec e, vec d, vec s, vec r, int decay) {
#define ADAM_LOAD(p) (whole ? V_LOAD(p) : V_MLOAD(lanes, p))
#define ADAM_STORE(p, x) if (whole) { V_STORE(p, x); } else { V_MSTORE(p, lanes, x); }
    const vec t = ADAM_LOAD(theta + i);
    vec g = ADAM_LOAD(gradient + i);
    if (decay) g = V_ADD(g, V_MUL(d, t));
    const vec mi = V_ADD(V_MUL(b1, ADAM_LOAD(m + i)), V_MUL(c1, g));
    const vec vi = V_ADD(V_MUL(b2, ADAM_LOAD(v + i)), V_MUL(V_MUL(c2, g), g));
    const vec denominator = V_ADD(V_DIV(V_SQRT(vi), r), e);
    ADAM_STORE(m + i, mi)
    ADAM_STORE(v + i, vi)
    ADAM_STORE(theta + i, V_SUB(t, V_DIV(V_MUL(s, mi), denominator)))
#undef ADAM_LOAD
#undef ADAM_STORE
}

TARGET static void family_adam_update(ptrdiff_t count, float *theta, const float *gradient, float *m, float *v,
                                      float beta1, float beta2, float eps, float decay, float step, float root_correction) {
    const vec b1 = V_SET1(beta1), c1 = V_SET1(1.0f - beta1);
    const vec b2 = V_SET1(beta2), c2 = V_SET1(1.0f - beta2);
    const vec e = V_SET1(eps), d = V_SET1(decay), s = V_SET1(step), r = V_SET1(root_correction);
    const int decays = decay != 0;
    ptrdiff_t i = 0;
    for (; i + LANES <= count; i += LANES) {
        adam_vector(i, 1, lanes_inside(0, LANES), theta, gradient, m, v, b1, c1, b2, c2, e, d, s, r, decays);
    }
    if (i < count) adam_vector(i, 0, lanes_inside(0, count - i), theta, gradient, m, v, b1, c1, b2, c2, e, d, s, r, decays);
}

TARGET static void family_dropout_mask(uint64_t key, ptrdiff_t first, ptrdiff_t count, float p, float keep, float *out) {
    dropout_pass(key, first, count, p, keep, out, 0, 0);
}

TARGET static void family_dropout(uint64_t key, ptrdiff_t first, ptrdiff_t count, float p, float keep,
                                  const float *x, float *y, float *mask) {
    dropout_pass(key, first, count, p, keep, mask, x, y);
}
