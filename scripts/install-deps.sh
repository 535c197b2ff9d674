#!/usr/bin/env bash
# Installs the Debian packages Gauntlet needs, only those missing. Run as root (or with sudo).
set -euo pipefail

packages=(
  pkg-config            # finds the C libraries for SwiftPM
  libopenblas-dev       # cblas_sgemm
  libhdf5-dev           # results files
  zlib1g-dev            # gzip-compressed IDX files
  libturbojpeg0-dev     # JPEG: the jpeg_compression corruption and image_folder datasets
  libpng-dev            # PNG: image_folder datasets
  hdf5-tools            # h5dump / h5ls, used by tests to read results back
  python3-jsonschema    # tests: validate experiments/ against the JSON Schema independently
  python3-yaml          # tests: read experiment files for that validator
  python3-h5py          # tests: read results back with h5py and check the documented layout
  dataset-fashion-mnist # /usr/share/datasets/fashion-mnist
  chromium              # make report-check: renders the HTML reports headless
  python3-pil           # make report-check: reads the screenshots
  librsvg2-bin          # rsvg-convert: gauntlet report also writes every figure as PDF
  libsimde-dev          # make test: the AVX-512 kernels' intrinsics emulated on CPUs without them
  gcc-aarch64-linux-gnu # make test: the C targets compiled for aarch64 (the portable path's build)
  libonnx-testdata      # make test: ONNX's backend test cases (Tests/OnnxTests/BackendNodeTests.swift)
)

missing=()
for package in "${packages[@]%% *}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
run_as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then run_as_root=(sudo); else
    echo "install-deps: not root and no sudo; install as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
"${run_as_root[@]}" apt-get update -q
"${run_as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
