// Which kernel families this build has and this CPU runs.
#include "microkernels.h"

#if defined(__x86_64__)
extern const gauntlet_kernels gauntlet_avx2_kernels;
extern const gauntlet_kernels gauntlet_avx512_kernels;
#endif

const gauntlet_kernels *gauntlet_kernels_of(gauntlet_kernel_family family) {
#if defined(__x86_64__)
    // The compiler runtime's feature bits count a feature only where the operating system saves
    // its registers (XCR0), so a kernel never faults on a CPU or kernel that cannot run it.
    __builtin_cpu_init();
    switch (family) {
    case GAUNTLET_FAMILY_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? &gauntlet_avx2_kernels : 0;
    case GAUNTLET_FAMILY_AVX512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") ? &gauntlet_avx512_kernels : 0;
    }
    return 0;
#else
    (void)family;
    return 0;
#endif
}
