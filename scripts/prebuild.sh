#!/usr/bin/env bash
# Builds the Linux glibc prebuilds with prebuildify (one Node-API binary per architecture, every
# kernel set inside it, picked at run time):
#   prebuilds/linux-x64/convnd.glibc.node    scalar + AVX2 + AVX-512 (native build)
#   prebuilds/linux-arm64/convnd.glibc.node  scalar + NEON (cross-compiled with aarch64-linux-gnu-g++)
# Node-API is ABI-stable, so the x64 Node headers serve the arm64 build too.
# Usage: prebuild.sh [--if-stale] [x64] [arm64]   (default: both)
#   --if-stale: skip an architecture whose prebuild is newer than every native source (prepack uses it).
# Other platforms' prebuilds (darwin, win32, musl) come from .github/workflows/prebuild.yml.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

if_stale=0
archs=()
for a in "$@"; do
  case $a in
    --if-stale) if_stale=1 ;;
    x64 | arm64) archs+=("$a") ;;
    *) echo "prebuild: unknown argument $a" >&2; exit 2 ;;
  esac
done
[ ${#archs[@]} -gt 0 ] || archs=(x64 arm64)

# prebuildify runs `node-gyp rebuild`, which wipes build/: build in a scratch copy instead, so that
# the developer build in build/Release (which node-gyp-build prefers) is left alone.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp binding.gyp package.json "$stage/"
ln -s "$root/native" "$stage/native"
ln -s "$root/node_modules" "$stage/node_modules"

# The binaries need the glibc and libstdc++ of the build machine or newer (here Debian 12:
# glibc 2.17 symbols, but GLIBCXX_3.4.30, i.e. GCC 12's libstdc++). Static libstdc++ is no way
# out: libstdc++.a then pulls in glibc 2.36 symbols. For a release, .github/workflows/prebuild.yml
# runs this script on an older Debian. Where a prebuild cannot load, install falls back to a build.

# A Node-API 8 binary (NAPI_VERSION in binding.gyp) loads in every Node >= 18, whichever Node's
# headers built it: --target names the running Node's, which are at hand (npm config nodedir),
# where prebuildify would otherwise fetch the newest Node's.
target=(--napi --target "$(node -p process.versions.node)")

for arch in "${archs[@]}"; do
  out=prebuilds/linux-$arch/convnd.glibc.node
  if [ $if_stale = 1 ] && [ -f "$out" ] && [ -z "$(find native binding.gyp -newer "$out" -print -quit)" ]; then
    echo "prebuild: $out is up to date"
    continue
  fi
  rm -f "$out"   # only this file: a musl prebuild from CI may share the folder
  start=$SECONDS
  if [ "$arch" = x64 ]; then   # this script runs on a linux-x64 host
    npx prebuildify "${target[@]}" --strip --tag-libc --cwd "$stage" --out "$root"
  else
    for tool in aarch64-linux-gnu-g++ aarch64-linux-gnu-strip; do
      command -v $tool >/dev/null || { echo "prebuild: $tool not found (apt-get install g++-aarch64-linux-gnu)" >&2; exit 1; }
    done
    CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ AR=aarch64-linux-gnu-ar \
      npx prebuildify "${target[@]}" --strip --strip-bin=aarch64-linux-gnu-strip --tag-libc --arch=arm64 \
      --cwd "$stage" --out "$root"
  fi
  # The binary must be for the architecture its folder names.
  kind=$(file -b "$out")
  case $arch in x64) want='x86-64' ;; arm64) want='ARM aarch64' ;; esac
  [[ $kind == *"$want"* ]] || { echo "prebuild: $out is not $want: $kind" >&2; exit 1; }
  echo "prebuild: $out in $((SECONDS - start)) s: $(cut -d, -f1-2 <<<"$kind")"
done
