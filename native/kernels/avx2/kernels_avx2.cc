// AVX2 + FMA kernels (8 floats a register, 16 registers). Compiled with -mavx2 -mfma only.
#include <immintrin.h>
#include <algorithm>
#include "../generic/tile_kernels.h"
#include "avx2_vector.h"
#include "register_transpose.h"

namespace {

// Stride-2 rows: two loads, an even-lane shuffle and a 64-bit lane permute per 8 floats.
void copyStride2(float* dst, const float* src, int64_t n) {
  int64_t v = 0;
  for (; v + 9 <= n; v += 8) _mm256_storeu_ps(dst + v, Avx2::loadEven(src + 2 * v));  // reads src[2v, 2v + 16) < 2n - 1
  for (; v < n; ++v) dst[v] = src[2 * v];
}

}  // namespace

// 6x16 GEMM tile: 12 accumulators + 2 input registers + 1 broadcast of the 16 ymm registers.
// The one-channel (narrow) tile has 8 accumulators: FMA latency 4 x 2 ports needs 8 chains.
// Built on first use, never at load time: the table's construction is compiled with this
// file's flags, and a CPU without them must never run it (it is called only after cpuid).
const convnd::KernelTable& convnd::avx2Kernels() {
  static const convnd::KernelTable table = [] {
    convnd::KernelTable t = convnd::tiles::makeKernelTable<Avx2, 6, 2, 8, 6, 2, 4, 2, 6>("avx2", &copyStride2);
    t.transposeOut = &transposeOut8x8<Avx2>;
    t.addScalarStep2 = &addScalarStep2;
    t.addStrided = &addStrided8<Avx2>;
    return t;
  }();
  return table;
}
