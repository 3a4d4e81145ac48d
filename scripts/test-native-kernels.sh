#!/usr/bin/env bash
# Builds native/test/kernel_test.cc for this machine and runs it: every kernel set the CPU
# supports against the double-precision reference. Usage: test-native-kernels.sh [trials]
# With SANITIZE=1 it builds with clang's AddressSanitizer and UBSan instead (npm run
# test:native:asan): the large problems' tiles read near the ends of their buffers, which the
# vitest suite under ASan (test-asan.sh) does not all reach.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${SANITIZE:-}" = 1 ]; then
  bash scripts/ensure-sanitizer-clang.sh
  out=build-test/asan
  CXX=clang++
  flags=(-std=c++17 -O1 -g -Wall -Wextra -fsanitize=address,undefined -fno-sanitize-recover=undefined)
else
  out=build-test/x64
  CXX=${CXX:-g++}
  flags=(-std=c++17 -O2 -g -Wall -Wextra ${EXTRA_CXXFLAGS:-})
fi
mkdir -p "$out"
core=(native/core/*.cc native/kernels/scalar/kernels_scalar.cc)
"$CXX" "${flags[@]}" -mavx2 -mfma -c native/kernels/avx2/kernels_avx2.cc -o "$out/avx2.o"
"$CXX" "${flags[@]}" -mavx512f -mfma -c native/kernels/avx512/kernels_avx512.cc -o "$out/avx512.o"
"$CXX" "${flags[@]}" -o "$out/kernel_test" native/test/kernel_test.cc "${core[@]}" "$out/avx2.o" "$out/avx512.o" -lpthread
"$out/kernel_test" "${1:-300}"
