// AVX2 + FMA kernels (8 floats a register, 16 registers). Compiled with -mavx2 -mfma only.
#include <immintrin.h>
#include "../generic/tile_kernels.h"

namespace {

struct Avx2 {
  using reg = __m256;
  using mask = __m256;
  static constexpr int lanes = 8;
  static reg zero() { return _mm256_setzero_ps(); }
  static reg load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, reg r) { _mm256_storeu_ps(p, r); }
  static reg set1(float f) { return _mm256_set1_ps(f); }
  static reg fmadd(reg a, reg b, reg c) { return _mm256_fmadd_ps(a, b, c); }
  static reg add(reg a, reg b) { return _mm256_add_ps(a, b); }
  template <bool IsMax>
  static mask beats(reg v, reg acc) {
    reg better = IsMax ? _mm256_cmp_ps(v, acc, _CMP_GT_OQ) : _mm256_cmp_ps(v, acc, _CMP_LT_OQ);
    reg newNan = _mm256_and_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q), _mm256_cmp_ps(acc, acc, _CMP_ORD_Q));
    return _mm256_or_ps(better, newNan);
  }
  static reg blend(mask m, reg ifTrue, reg ifFalse) { return _mm256_blendv_ps(ifFalse, ifTrue, m); }
};

// 6x16 GEMM tile: 12 accumulators + 2 input registers + 1 broadcast of the 16 ymm registers.
const convnd::KernelTable table =
    convnd::tiles::makeKernelTable<Avx2, 6, 2, 4, 6, 2, 4>("avx2");

}  // namespace

const convnd::KernelTable& convnd::avx2Kernels() { return table; }
