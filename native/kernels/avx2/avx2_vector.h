// The AVX2 vector type of the generic kernels (8 floats a register), shared by the AVX2 kernel
// file and the AVX-512 one, whose dot-product kernels run on 256-bit registers (see there).
// In an anonymous namespace, as in the files that include it: each ISA's copy is compiled with
// its own flags and keeps internal linkage.
#pragma once
#include <immintrin.h>
#include <cstdint>

namespace {

struct Avx2 {
  using reg = __m256;
  using mask = __m256;
  static constexpr int lanes = 8;
  static reg zero() { return _mm256_setzero_ps(); }
  static reg load(const float* p) { return _mm256_loadu_ps(p); }
  // p[0], p[2], ..., p[14]: an even-lane shuffle and a 64-bit lane permute.
  static reg loadEven(const float* p) {
    const __m256 even = _mm256_shuffle_ps(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8), _MM_SHUFFLE(2, 0, 2, 0));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(even), _MM_SHUFFLE(3, 1, 2, 0)));
  }
  // p[0], p[2], ... and p[1], p[3], ...: the same two loads serve two taps one float apart.
  static void loadEvenOdd(const float* p, reg& even, reg& odd) {
    const __m256 a = _mm256_loadu_ps(p), b = _mm256_loadu_ps(p + 8);
    even = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0))), _MM_SHUFFLE(3, 1, 2, 0)));
    odd = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1))), _MM_SHUFFLE(3, 1, 2, 0)));
  }
  // p[0], ..., p[n - 1] and zeros (0 < n < 8): a masked load reads nothing past p[n - 1].
  static reg loadPartial(const float* p, int n) {
    static const int32_t kMask[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_maskload_ps(p, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMask + 8 - n)));
  }
  static void store(float* p, reg r) { _mm256_storeu_ps(p, r); }
  static reg set1(float f) { return _mm256_set1_ps(f); }
  static reg fmadd(reg a, reg b, reg c) { return _mm256_fmadd_ps(a, b, c); }
  static reg add(reg a, reg b) { return _mm256_add_ps(a, b); }
  static reg mul(reg a, reg b) { return _mm256_mul_ps(a, b); }
  template <bool IsMax>
  static mask beats(reg v, reg acc) {
    reg better = IsMax ? _mm256_cmp_ps(v, acc, _CMP_GT_OQ) : _mm256_cmp_ps(v, acc, _CMP_LT_OQ);
    reg newNan = _mm256_and_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q), _mm256_cmp_ps(acc, acc, _CMP_ORD_Q));
    return _mm256_or_ps(better, newNan);
  }
  static reg blend(mask m, reg ifTrue, reg ifFalse) { return _mm256_blendv_ps(ifFalse, ifTrue, m); }
  // max_ps(a, b) returns b when either is NaN: a NaN v comes through; a NaN acc is kept.
  template <bool IsMax>
  static reg extreme(reg acc, reg v) {
    reg m = IsMax ? _mm256_max_ps(acc, v) : _mm256_min_ps(acc, v);
    return _mm256_blendv_ps(m, acc, _mm256_cmp_ps(acc, acc, _CMP_UNORD_Q));
  }
};

}  // namespace
