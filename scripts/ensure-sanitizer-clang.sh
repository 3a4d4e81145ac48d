#!/usr/bin/env bash
# Installs clang and its sanitizer runtimes (Debian's packages) where they are missing: the
# AddressSanitizer + UBSan builds (test-asan.sh, SANITIZE=1 test-native-kernels.sh) need both, and
# a new machine has neither.
set -euo pipefail
if ! command -v clang++ >/dev/null || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.asan-x86_64.so >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang libclang-rt-14-dev >/dev/null
fi
