#!/usr/bin/env bash
# Builds the addon with clang's AddressSanitizer and UndefinedBehaviorSanitizer into
# build-asan/ and runs the whole vitest suite against it (CONVND_ADDON_PATH), with the ASan
# runtime preloaded into node. Any report aborts the run. Leak detection is off: Node itself
# keeps allocations alive at exit; the leak checks live in scripts/ and the README.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-sanitizer-clang.sh
runtime=$(ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.asan-x86_64.so | head -n 1)
out=build-asan
mkdir -p "$out"
napi=$(node -p "require('node-addon-api').include_dir")
nodeinc=$(node -p "require('path').resolve(process.execPath, '../../include/node')")
flags=(-std=c++17 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
       -fPIC -DNAPI_VERSION=8 -DNAPI_CPP_EXCEPTIONS -DNODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS -I"$napi" -I"$nodeinc")
objs=()
compile() {  # source, extra flags...
  local src=$1; shift
  local obj="$out/$(echo "$src" | tr / _).o"
  clang++ "${flags[@]}" "$@" -c "$src" -o "$obj"
  objs+=("$obj")
}
for src in native/binding/*.cc native/core/*.cc native/kernels/scalar/kernels_scalar.cc; do compile "$src"; done
compile native/kernels/avx2/kernels_avx2.cc -mavx2 -mfma
compile native/kernels/avx512/kernels_avx512.cc -mavx512f -mfma
clang++ -shared -fsanitize=address,undefined -shared-libasan -Wl,-z,nodelete -o "$out/convnd.node" "${objs[@]}"
echo "test-asan: built $out/convnd.node; running the test suite under ASan + UBSan"
npm run build:ts >/dev/null
CONVND_ADDON_PATH="$out/convnd.node" LD_PRELOAD="$runtime" \
  ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  npx vitest run "$@"
