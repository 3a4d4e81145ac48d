#!/usr/bin/env bash
# Cross-compiles the native kernel test for arm64 (NEON kernels + scalar) with Debian's
# g++-aarch64-linux-gnu and runs it under qemu-aarch64 against the reference.
# Usage: test-neon-qemu.sh [trials]
set -euo pipefail
cd "$(dirname "$0")/.."
CXX=${CXX_ARM64:-aarch64-linux-gnu-g++}
for tool in "$CXX" qemu-aarch64; do
  command -v "$tool" >/dev/null || { echo "test-neon-qemu: $tool not found (apt-get install g++-aarch64-linux-gnu qemu-user)" >&2; exit 1; }
done
out=build-test/arm64
mkdir -p "$out"
"$CXX" -std=c++17 -O2 -static -Wall -Wextra -o "$out/kernel_test" \
  native/test/kernel_test.cc native/core/*.cc native/kernels/scalar/kernels_scalar.cc \
  native/kernels/neon/kernels_neon.cc -lpthread
qemu-aarch64 "$out/kernel_test" "${1:-150}"
