#!/usr/bin/env bash
# The image-folder loader benchmark (release build): generated folders of 10,000 and 50,000
# JPEGs at 32×32 and 1,000 at 224×224 (scripts/make_image_folder.py, cached in $DATA), two passes
# each with 1 and 2 decoding threads, each in its own process so its peak RSS is its own; and
# Pillow's single-thread loading of the same folders (benchmarks/loader_pil.py) as the same-run
# reference.
#
#   benchmarks/loader.sh [DATA]      (default .build/loader-data; needs python3-pil)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-.build/loader-data}
swift build -c release --product gauntlet-bench >/dev/null
bench=.build/release/gauntlet-bench
make_folder() { [ -d "$data/$1" ] || /usr/bin/python3 scripts/make_image_folder.py "$data/$1" --count "$2" --size "$3"; }
make_folder jpeg-10k-32 10000 32
make_folder jpeg-50k-32 50000 32
make_folder jpeg-1k-224 1000 224
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
# Warm the page cache so every run reads the files from memory alike.
find "$data" -type f -print0 | xargs -0 cat >/dev/null
# Batches of 128 at 32×32 (1.5 MiB) and of 32 at 224×224 (19 MiB): glibc maps anything above
# 32 MiB afresh on every allocation, so 128 images of 224×224 (77 MiB) would time the kernel
# zero-filling each new batch's pages rather than the loader.
for folder in jpeg-10k-32 jpeg-50k-32 jpeg-1k-224; do
  batch=128
  [ "$folder" = jpeg-1k-224 ] && batch=32
  for threads in 1 2; do
    echo "$folder: $("$bench" --loader "$data/$folder" --threads "$threads" --batch "$batch")"
  done
  echo "$folder: $(/usr/bin/python3 benchmarks/loader_pil.py "$data/$folder")"
done
