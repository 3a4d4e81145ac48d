#!/usr/bin/env bash
# Packs convnd and installs the tarball into new projects, as a user would:
#   1. with no C/C++ compiler on PATH: the prebuild loads (via require and import), oracle cases pass;
#   2. with --ignore-scripts: the prebuild is still found at run time;
#   3. with --build-from-source and no compiler: the install fails with convnd's readable message;
#   4. with --build-from-source and a compiler: node-gyp builds build/Release/convnd.node, which is used.
# Also checks the tarball's contents and size. Usage: test-package.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
oracle=$root/test/fixtures/torch-oracle.json
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
step() { echo "test-package: $* ($SECONDS s)"; }

step "packing"   # prepack builds missing or stale prebuilds, prepare builds dist/
npm pack --pack-destination "$work" --loglevel=error
tgz=$(ls "$work"/convnd-*.tgz)
size=$(stat -c %s "$tgz")
tar tzf "$tgz" | sort >"$work/contents"
echo "$(basename "$tgz"): $size bytes, $(wc -l <"$work/contents") files"
[ "$size" -lt 3000000 ] || { echo "test-package: tarball over 3 MB" >&2; exit 1; }
# Only the runtime, the sources a build needs, the prebuilds and the docs; nothing else.
allowed='^package/(package\.json|README\.md|LICENSE|binding\.gyp|CMakeLists\.txt|scripts/install-failed\.js|dist/(cjs|esm)/.*\.(js|d\.ts|mjs|d\.mts)|native/(binding|core|kernels)/.*\.(cc|h)|prebuilds/[a-z0-9]+-[a-z0-9]+/convnd(\.[a-z]+)?\.node)$'
if grep -Ev "$allowed" "$work/contents"; then echo "test-package: unexpected files above" >&2; exit 1; fi
for f in dist/cjs/index.js dist/esm/index.mjs dist/cjs/index.d.ts binding.gyp CMakeLists.txt \
  prebuilds/linux-x64/convnd.glibc.node prebuilds/linux-arm64/convnd.glibc.node native/binding/addon.cc; do
  grep -qx "package/$f" "$work/contents" || { echo "test-package: tarball lacks $f" >&2; exit 1; }
done

# A PATH on which every C/C++ compiler and make fail, so that any build attempt fails loudly.
nocc=$work/no-compiler
mkdir -p "$nocc"
for tool in cc c++ gcc g++ clang clang++ make; do
  printf '#!/bin/sh\necho "%s: no compiler in this test" >&2\nexit 1\n' "$tool" >"$nocc/$tool"
  chmod +x "$nocc/$tool"
done
nocc_path=$nocc:$PATH

# new_project NAME [npm install args...]: a fresh project with the tarball installed into it.
new_project() {
  local dir=$work/$1; shift
  # One && chain: set -e does not apply inside a function called from an `if`.
  mkdir -p "$dir" && cd "$dir" && npm init -y >/dev/null && cp "$root/scripts/check-installed.mjs" . &&
    npm install "$tgz" --no-audit --no-fund --loglevel=error "$@"
}

step "install, no compiler"
PATH=$nocc_path new_project prebuilt
[ ! -e node_modules/convnd/build ] || { echo "test-package: install built from source" >&2; exit 1; }
PATH=$nocc_path node check-installed.mjs "$oracle" 10 true

step "install --ignore-scripts, no compiler"
PATH=$nocc_path new_project ignore-scripts --ignore-scripts
PATH=$nocc_path node check-installed.mjs "$oracle" 5 true

step "install --build-from-source, no compiler: must fail readably"
if PATH=$nocc_path new_project no-compiler --build-from-source >"$work/fail.log" 2>&1; then
  echo "test-package: the install succeeded without a compiler" >&2; exit 1
fi
grep -q 'convnd: the build from source failed' "$work/fail.log" && grep -q 'Fix: build it from source' "$work/fail.log" \
  || { cat "$work/fail.log"; echo "test-package: no readable install error" >&2; exit 1; }
sed -n '/convnd: the build from source failed/,/approve convnd/p' "$work/fail.log"

step "install --build-from-source"
new_project from-source --build-from-source
[ -f node_modules/convnd/build/Release/convnd.node ] || { echo "test-package: no build/Release/convnd.node" >&2; exit 1; }
node check-installed.mjs "$oracle" 10 false

step "done"
