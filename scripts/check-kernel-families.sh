#!/usr/bin/env bash
# Gauntlet's kernel families (Sources/CMicroKernels) checked element by element in C
# (scripts/check_kernel_families.c): each family this CPU runs, natively, and the AVX-512 family
# also through SIMDe's emulation of its intrinsics on AVX2 and FMA, so that its code is tested on
# CPUs without AVX-512. Then, where an aarch64 cross compiler is installed, the C targets are
# compiled for aarch64, where no family exists and the portable path runs. Run by `make test`;
# `--valgrind` runs the checks under valgrind's memcheck as well (about two minutes), which
# reports any read or write outside the matrices, masked lanes included.
set -euo pipefail
cd "$(dirname "$0")/.."
cc=${CC:-cc}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
src=Sources/CMicroKernels
# No contraction (GCC ignores the files' FP_CONTRACT pragma): the checks' own sums must round every
# product as written (fmaf where fused).
flags=(-std=gnu11 -O2 -Wall -Wextra -Werror -Wno-unknown-pragmas -ffp-contract=off -I "$src/include")

"$cc" "${flags[@]}" -c "$src/avx2.c" -o "$out/avx2.o"
"$cc" "${flags[@]}" -c "$src/avx512.c" -o "$out/avx512.o"
# The AVX-512 family again, its intrinsics emulated with AVX2 and FMA instructions
# (scripts/avx512_emulation.h; 64-byte vectors passed in memory, hence no ABI warnings).
"$cc" "${flags[@]}" -Wno-psabi -mavx2 -mfma -include scripts/avx512_emulation.h -DTARGET= \
    -Dgauntlet_avx512_kernels=gauntlet_avx512_kernels_emulated -c "$src/avx512.c" -o "$out/avx512-emulated.o"
"$cc" "${flags[@]}" scripts/check_kernel_families.c "$out/avx2.o" "$out/avx512.o" "$out/avx512-emulated.o" -lm -o "$out/check"
if [ "${1:-}" = "--valgrind" ]; then
    valgrind --error-exitcode=3 -q "$out/check" >/dev/null
    echo "valgrind memcheck: no invalid reads or writes"
fi
"$out/check"
if [ "${1:-}" = "--valgrind" ]; then
    valgrind --error-exitcode=3 -q "$out/check" >/dev/null
    echo "valgrind memcheck: no invalid reads or writes"
fi

if command -v aarch64-linux-gnu-gcc >/dev/null; then
    for file in Sources/CMicroKernels/*.c Sources/CWorkerThreads/*.c; do
        aarch64-linux-gnu-gcc -std=gnu11 -O2 -Wall -Wextra -Werror -Wno-unknown-pragmas -I Sources/CMicroKernels/include -I Sources/CWorkerThreads/include \
            -c "$file" -o "$out/aarch64-$(basename "$file" .c).o"
    done
    echo "aarch64: Sources/CMicroKernels and Sources/CWorkerThreads compile (aarch64-linux-gnu-gcc), no kernel family"
else
    echo "aarch64: not checked (no aarch64-linux-gnu-gcc; Debian's gcc-aarch64-linux-gnu)"
fi
