// Every family of Gauntlet's kernels (Sources/CMicroKernels) against sums and loops written out
// element by element, and each family against the others bit for bit: natively where this CPU
// runs the family, and the AVX-512 family also through SIMDe's emulation of its intrinsics (on
// AVX2 and FMA), so that its code is tested on CPUs without AVX-512 too. Built and run by
// scripts/check-kernel-families.sh; exits 1 on the first family that disagrees.
#include "microkernels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const gauntlet_kernels gauntlet_avx2_kernels, gauntlet_avx512_kernels, gauntlet_avx512_kernels_emulated;

static int failures = 0;

#define CHECK(condition, ...)                                                                           \
    do {                                                                                                \
        if (!(condition)) {                                                                             \
            if (failures++ < 20) {                                                                      \
                fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                         \
                fprintf(stderr, __VA_ARGS__);                                                           \
                fputc('\n', stderr);                                                                    \
            }                                                                                           \
        }                                                                                               \
    } while (0)

// SplitMix64: the harness's own random numbers.
static uint64_t state = 1;
static uint64_t next(void) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static float uniform(void) { return (float)(next() >> 40) / 16777216.0f - 0.5f; }
static float *randoms(ptrdiff_t count) {
    float *values = malloc((size_t)(count > 0 ? count : 1) * sizeof(float));
    for (ptrdiff_t i = 0; i < count; i++) values[i] = uniform();
    return values;
}
static int same_bits(float x, float y) { return memcmp(&x, &y, sizeof x) == 0; }

static void check_sgemm(const gauntlet_kernels *kernels) {
    // From 128 rows, the AVX2 family copies tiles of misaligned B (the offsets below) to aligned memory.
    static const int ms[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 21, 37, 128, 133};
    static const int ns[] = {1, 7, 8, 9, 15, 16, 17, 23, 24, 25, 33, 48, 49, 50, 63, 64, 65, 97, 100};
    static const int ks[] = {0, 1, 5, 256, 300, 513};
    for (size_t mi = 0; mi < sizeof ms / sizeof *ms; mi++) {
        for (size_t ni = 0; ni < sizeof ns / sizeof *ns; ni++) {
            for (size_t ki = 0; ki < sizeof ks / sizeof *ks; ki++) {
                const ptrdiff_t m = ms[mi], n = ns[ni], k = ks[ki];
                for (int transposed = 0; transposed < 2; transposed++) {
                    // B's rows at every offset within a cache line; with whole-line rows when A is transposed.
                    const ptrdiff_t lda = (transposed ? m : k) + 2, ldb = transposed ? (n + 15) / 16 * 16 + 16 : n + 3, ldc = n + 1;
                    const ptrdiff_t offset = (ptrdiff_t)(next() % 16);
                    float *a = randoms((transposed ? k : m) * lda), *stored = randoms(k * ldb + offset + 16);
                    float *c0 = randoms(m * ldc), *c = malloc((size_t)(m * ldc) * sizeof(float));
                    const float *b = stored + offset;
                    for (int accumulate = 0; accumulate < 2; accumulate++) {
                        memcpy(c, c0, (size_t)(m * ldc) * sizeof(float));
                        kernels->sgemm(m, n, k, a, transposed ? 1 : lda, transposed ? lda : 1, b, ldb, c, ldc, accumulate);
                        int wrong = 0;
                        for (ptrdiff_t i = 0; i < m; i++) {
                            for (ptrdiff_t j = 0; j < n; j++) {
                                float sum = accumulate ? c0[i * ldc + j] : 0;
                                for (ptrdiff_t p = 0; p < k; p++) sum = fmaf(transposed ? a[p * lda + i] : a[i * lda + p], b[p * ldb + j], sum);
                                wrong += !same_bits(sum, c[i * ldc + j]);
                            }
                            wrong += !same_bits(c[i * ldc + n], c0[i * ldc + n]);
                        }
                        CHECK(wrong == 0, "%s sgemm %tdx%tdx%td transposed A %d accumulate %d: %d wrong", kernels->name, m, n, k, transposed, accumulate, wrong);
                    }
                    free(a); free(stored); free(c0); free(c);
                }
            }
        }
    }
}

static void check_sgemm_transposed_b(const gauntlet_kernels *kernels) {
    static const ptrdiff_t shapes[][3] = {{1, 20, 7}, {7, 40, 33}, {13, 97, 300}, {64, 100, 260}, {3, 5, 0}, {9, 23, 17}};
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        const ptrdiff_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2], lda = k + 2, ldb = k + 5, ldc = n + 1;
        float *a = randoms(m * lda), *b = randoms(n * ldb), *c0 = randoms(m * ldc), *start = randoms(n);
        float *c = malloc((size_t)(m * ldc) * sizeof(float));
        for (int mode = 0; mode < 3; mode++) {   // onto zero, onto C, from the row start
            memcpy(c, c0, (size_t)(m * ldc) * sizeof(float));
            CHECK(kernels->sgemm_transposed_b(m, n, k, a, lda, b, ldb, c, ldc, mode == 1, mode == 2 ? start : NULL) == 1, "%s: no memory", kernels->name);
            int wrong = 0;
            for (ptrdiff_t i = 0; i < m; i++) {
                for (ptrdiff_t j = 0; j < n; j++) {
                    float sum = mode == 2 ? start[j] : mode == 1 ? c0[i * ldc + j] : 0;
                    for (ptrdiff_t p = 0; p < k; p++) sum = fmaf(a[i * lda + p], b[j * ldb + p], sum);
                    wrong += !same_bits(sum, c[i * ldc + j]);
                }
                wrong += !same_bits(c[i * ldc + n], c0[i * ldc + n]);
            }
            CHECK(wrong == 0, "%s sgemm_transposed_b %tdx%tdx%td mode %d: %d wrong", kernels->name, m, n, k, mode, wrong);
        }
        free(a); free(b); free(c0); free(start); free(c);
    }
}

static void check_transpose(const gauntlet_kernels *kernels) {
    static const ptrdiff_t sides[] = {1, 5, 8, 9, 16, 17, 40};
    for (size_t r = 0; r < sizeof sides / sizeof *sides; r++) {
        for (size_t q = 0; q < sizeof sides / sizeof *sides; q++) {
            const ptrdiff_t rows = sides[r], columns = sides[q], lds = columns + 2, ldd = rows + 3;
            float *source = randoms(rows * lds), *destination = malloc((size_t)(columns * ldd) * sizeof(float));
            for (ptrdiff_t i = 0; i < columns * ldd; i++) destination[i] = -1;
            kernels->transpose(rows, columns, source, lds, destination, ldd);
            int wrong = 0;
            for (ptrdiff_t j = 0; j < columns; j++) {
                for (ptrdiff_t i = 0; i < ldd; i++) wrong += destination[j * ldd + i] != (i < rows ? source[i * lds + j] : -1);
            }
            CHECK(wrong == 0, "%s transpose %tdx%td: %d wrong", kernels->name, rows, columns, wrong);
            free(source); free(destination);
        }
    }
}

// Element `index` of the dropout mask with `key` (microkernels.h, `dropout_mask`).
static float mask_element(uint64_t key, ptrdiff_t index, float p, float keep) {
    uint64_t z = key + ((uint64_t)(index >> 1) + 1) * 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    const uint64_t bits = index & 1 ? (z >> 16) & 0xffffff : z >> 40;
    return (float)bits * (1.0f / 16777216.0f) < p ? 0 : keep;
}

static void check_dropout(const gauntlet_kernels *kernels) {
    static const uint64_t keys[] = {1, 0xdeadbeef12345678ULL, UINT64_MAX, 42, 7, 9};
    const float ps[] = {0.3f, 0.5f, 0.05f, 1, 0, NAN};
    static const ptrdiff_t ranges[][2] = {{0, 1}, {1, 1}, {0, 8}, {1, 8}, {0, 16}, {1, 16}, {3, 37}, {1000, 333}, {5, 0}};
    for (size_t s = 0; s < sizeof keys / sizeof *keys; s++) {
        for (size_t r = 0; r < sizeof ranges / sizeof *ranges; r++) {
            const ptrdiff_t first = ranges[r][0], count = ranges[r][1];
            float *x = randoms(count + 1), *mask = malloc((size_t)(count + 1) * sizeof(float));
            float *both = malloc((size_t)(count + 1) * sizeof(float)), *y = malloc((size_t)(count + 1) * sizeof(float));
            mask[count] = both[count] = y[count] = -1;
            kernels->dropout_mask(keys[s], first, count, ps[s], 2.5f, mask);
            kernels->dropout(keys[s], first, count, ps[s], 2.5f, x, y, both);
            int wrong = mask[count] != -1 || both[count] != -1 || y[count] != -1;
            for (ptrdiff_t i = 0; i < count; i++) {
                const float expected = mask_element(keys[s], first + i, ps[s], 2.5f);
                wrong += !same_bits(mask[i], expected) + !same_bits(both[i], expected) + !same_bits(y[i], x[i] * expected);
            }
            CHECK(wrong == 0, "%s dropout key %llx elements %td+%td: %d wrong", kernels->name, (unsigned long long)keys[s], first, count, wrong);
            free(x); free(mask); free(both); free(y);
        }
    }
}

static void check_adam(const gauntlet_kernels *kernels) {
    static const ptrdiff_t counts[] = {0, 1, 7, 8, 9, 15, 16, 17, 100};
    const float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f, step = 1e-3f / 0.19f, root = 0.0447f;
    for (size_t s = 0; s < sizeof counts / sizeof *counts; s++) {
        for (int decays = 0; decays < 2; decays++) {
            const ptrdiff_t count = counts[s];
            const float decay = decays ? 0.01f : 0;
            float *theta0 = randoms(count + 1), *g = randoms(count + 1), *m0 = randoms(count + 1), *v0 = randoms(count + 1);
            for (ptrdiff_t i = 0; i <= count; i++) v0[i] = fabsf(v0[i]) * 0.01f;
            float *theta = malloc((size_t)(count + 1) * sizeof(float)), *m = malloc((size_t)(count + 1) * sizeof(float));
            float *v = malloc((size_t)(count + 1) * sizeof(float));
            memcpy(theta, theta0, (size_t)(count + 1) * sizeof(float));
            memcpy(m, m0, (size_t)(count + 1) * sizeof(float));
            memcpy(v, v0, (size_t)(count + 1) * sizeof(float));
            kernels->adam_update(count, theta, g, m, v, b1, b2, eps, decay, step, root);
            int wrong = theta[count] != theta0[count] || m[count] != m0[count] || v[count] != v0[count];
            for (ptrdiff_t i = 0; i < count; i++) {
                const float gi = decay == 0 ? g[i] : g[i] + decay * theta0[i];
                const float mi = b1 * m0[i] + (1 - b1) * gi, vi = b2 * v0[i] + (1 - b2) * gi * gi;
                const float ti = theta0[i] - step * mi / (sqrtf(vi) / root + eps);
                wrong += !same_bits(m[i], mi) + !same_bits(v[i], vi) + !same_bits(theta[i], ti);
            }
            CHECK(wrong == 0, "%s adam count %td decay %g: %d wrong", kernels->name, count, decay, wrong);
            free(theta0); free(g); free(m0); free(v0); free(theta); free(m); free(v);
        }
    }
}

static void check_max_pool(const gauntlet_kernels *kernels) {
    static const ptrdiff_t shapes[][2] = {{2, 2}, {4, 6}, {2, 16}, {4, 18}, {6, 32}, {2, 34}, {4, 40}, {2, 64}, {8, 28}};
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        const ptrdiff_t height = shapes[s][0], width = shapes[s][1], outputs = height * width / 4;
        float *plane = malloc((size_t)(height * width) * sizeof(float));
        // Values from {−1, 0, 1}: most windows hold ties; one holds NaN.
        for (ptrdiff_t i = 0; i < height * width; i++) plane[i] = (float)((int)(next() % 3) - 1);
        plane[width + 1] = NAN;
        for (int variant = 0; variant < 3; variant++) {
            const float shift = variant == 0 ? 0 : variant == 1 ? 0.5f : -0.25f;
            const int relu = variant > 0, top_index = 1000;
            float *values = malloc((size_t)(outputs + 1) * sizeof(float));
            int32_t *positions = malloc((size_t)(outputs + 1) * sizeof(int32_t));
            values[outputs] = 7;
            positions[outputs] = -7;
            kernels->max_pool_2x2(plane, height, width, shift, relu, values, positions, top_index);
            int wrong = values[outputs] != 7 || positions[outputs] != -7;
            for (ptrdiff_t yo = 0; yo < height / 2; yo++) {
                for (ptrdiff_t xo = 0; xo < width / 2; xo++) {
                    // The window's four values plus the shift, the first largest in row-major order.
                    const ptrdiff_t corner = 2 * yo * width + 2 * xo, offsets[4] = {0, 1, width, width + 1};
                    float best = plane[corner] + shift;
                    ptrdiff_t at = corner;
                    for (int q = 1; q < 4; q++) {
                        const float value = plane[corner + offsets[q]] + shift;
                        if (value > best) best = value, at = corner + offsets[q];
                    }
                    if (relu && best <= 0) best = 0;
                    const ptrdiff_t out = yo * (width / 2) + xo;
                    wrong += !same_bits(values[out], best) + (positions[out] != top_index + at);
                }
            }
            CHECK(wrong == 0, "%s max_pool_2x2 %tdx%td variant %d: %d wrong", kernels->name, height, width, variant, wrong);
            free(values); free(positions);
        }
        free(plane);
    }
}

// The pooled convolution's parameter gradients (`pooled_conv3x3_gradients`) of `kernels` for
// every output channel, in groups of its lanes; the window maxima's indices and the pooled
// values drawn at random (a ReLU zeroing about a third).
static void pooled_gradients(const gauntlet_kernels *kernels, float *dw, float *db, int relu) {
    enum { BATCH = 3, IN = 2, OUT = 21, HEIGHT = 8, WIDTH = 10 };
    const ptrdiff_t pooled_height = HEIGHT / 2, pooled_width = WIDTH / 2, padded_width = WIDTH + 2, padded_plane = (HEIGHT + 2) * padded_width;
    const ptrdiff_t positions = pooled_height * pooled_width, outputs = BATCH * OUT * positions;
    uint64_t saved = state;
    state = 77;   // the same inputs for every family
    float *padded = randoms(BATCH * IN * padded_plane), *gradient = randoms(outputs), *pooled = randoms(outputs);
    int32_t *arg_max = malloc((size_t)outputs * sizeof(int32_t));
    for (ptrdiff_t plane = 0; plane < BATCH * OUT; plane++) {
        for (ptrdiff_t yo = 0; yo < pooled_height; yo++) {
            for (ptrdiff_t xo = 0; xo < pooled_width; xo++) {
                const ptrdiff_t corner = next() % 4, index = plane * positions + yo * pooled_width + xo;
                arg_max[index] = (int32_t)(plane * 4 * positions + (2 * yo + corner / 2) * WIDTH + 2 * xo + corner % 2);
            }
        }
    }
    for (ptrdiff_t o0 = 0; o0 < OUT; o0 += kernels->lanes) {
        const int lanes = OUT - o0 < kernels->lanes ? (int)(OUT - o0) : kernels->lanes;
        kernels->pooled_conv3x3_gradients(BATCH, OUT, o0, lanes, IN, padded, padded_plane, padded_width, 1, pooled_height, pooled_width,
                                          gradient, arg_max, relu ? pooled : NULL, dw, db);
    }
    state = saved;
    free(padded); free(gradient); free(pooled); free(arg_max);
}

int main(void) {
    __builtin_cpu_init();
    const int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    const int avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
    // The emulation runs the AVX-512 code on AVX2 and FMA instructions.
    const struct { const gauntlet_kernels *kernels; const char *how; int runs; } families[] = {
        {&gauntlet_avx512_kernels, "native", avx512},
        {&gauntlet_avx512_kernels_emulated, "emulated (SIMDe on AVX2)", avx2},
        {&gauntlet_avx2_kernels, "native", avx2},
    };
    enum { OUT = 21, WEIGHTS = OUT * 2 * 9 };
    float first_dw[2][WEIGHTS], first_db[2][OUT];
    int compared = 0;
    for (size_t f = 0; f < sizeof families / sizeof *families; f++) {
        const gauntlet_kernels *kernels = families[f].kernels;
        if (!families[f].runs) {
            printf("%-8s %-26s not run: this CPU lacks its instructions\n", kernels->name, families[f].how);
            continue;
        }
        const int before = failures;
        check_sgemm(kernels);
        check_sgemm_transposed_b(kernels);
        check_transpose(kernels);
        check_dropout(kernels);
        check_adam(kernels);
        check_max_pool(kernels);
        // Every family's pooled gradients, bit for bit those of the first family run.
        for (int relu = 0; relu < 2; relu++) {
            float dw[WEIGHTS], db[OUT];
            pooled_gradients(kernels, dw, db, relu);
            if (!compared) {
                memcpy(first_dw[relu], dw, sizeof dw);
                memcpy(first_db[relu], db, sizeof db);
            } else {
                CHECK(memcmp(first_dw[relu], dw, sizeof dw) == 0 && memcmp(first_db[relu], db, sizeof db) == 0,
                      "%s %s: pooled gradients (relu %d) differ from the first family's", kernels->name, families[f].how, relu);
            }
        }
        compared = 1;
        printf("%-8s %-26s %s\n", kernels->name, families[f].how, failures == before ? "every kernel as its definition" : "FAILED");
    }
    if (!compared) {
        printf("no family runs on this CPU: nothing to check\n");
    }
    return failures ? 1 : 0;
}
