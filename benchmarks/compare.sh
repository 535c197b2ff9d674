#!/bin/sh
# The reference workload side by side: gauntlet (release build) and the PyTorch script, one
# after the other on this machine with the same thread count, then their metrics row by row.
# Needs PyTorch, NumPy and h5py for Python; run by hand (never in CI):
#   benchmarks/compare.sh [threads]
set -eu
cd "$(dirname "$0")/.."
threads=${1:-$(nproc)}
swift build -c release --product gauntlet >/dev/null
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

/usr/bin/time -f "%e %M" -o "$scratch/gauntlet.time" \
    env OMP_NUM_THREADS="$threads" .build/release/gauntlet run experiments/benchmark-workload.yaml \
    --output "$scratch" --jobs 1 --blas-threads "$threads" --quiet >/dev/null
/usr/bin/time -f "%e %M" -o "$scratch/pytorch.time" \
    python3 benchmarks/pytorch_workload.py --threads "$threads" --json "$scratch/pytorch.json" >/dev/null

read -r gauntlet_seconds gauntlet_kib < "$scratch/gauntlet.time"
read -r pytorch_seconds pytorch_kib < "$scratch/pytorch.time"
python3 benchmarks/compare_workload.py "$scratch/benchmark-workload" "$scratch/pytorch.json"
echo
echo "threads: $threads"
echo "gauntlet: $gauntlet_seconds s wall, peak RSS $((gauntlet_kib / 1024)) MiB"
echo "pytorch:  $pytorch_seconds s wall, peak RSS $((pytorch_kib / 1024)) MiB"
python3 -c "print(f'gauntlet is {$pytorch_seconds / $gauntlet_seconds:.2f}x faster on the whole workload')"
