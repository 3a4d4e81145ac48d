// AVX2 + FMA kernels (8 floats a register, 16 registers). Compiled with -mavx2 -mfma only.
#include <immintrin.h>
#include <algorithm>
#include "../generic/tile_kernels.h"

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

// Stride-2 rows: two loads, an even-lane shuffle and a 64-bit lane permute per 8 floats.
void copyStride2(float* dst, const float* src, int64_t n) {
  int64_t v = 0;
  for (; v + 9 <= n; v += 8) _mm256_storeu_ps(dst + v, Avx2::loadEven(src + 2 * v));  // reads src[2v, 2v + 16) < 2n - 1
  for (; v < n; ++v) dst[v] = src[2 * v];
}

// v into the even lanes of the 16 floats at d (d[2i] = v[i]), the odd lanes read and written
// back unchanged: stride-2 outputs a register at a time.
inline void storeEvenLanes(float* d, __m256 v) {
  const __m256i lowHalf = _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3), highHalf = _mm256_setr_epi32(4, 4, 5, 5, 6, 6, 7, 7);
  _mm256_storeu_ps(d, _mm256_blend_ps(_mm256_loadu_ps(d), _mm256_permutevar8x32_ps(v, lowHalf), 0x55));
  _mm256_storeu_ps(d + 8, _mm256_blend_ps(_mm256_loadu_ps(d + 8), _mm256_permutevar8x32_ps(v, highHalf), 0x55));
}

// The transposed tile's [position][channel] results into NCHW rows, 8 x 8 at a time through a
// register transpose (the portable loop's strided single-float reads and writes took 4% of a
// 3x3 64 -> 64 layer). Positions past the last whole block are read as garbage and not stored.
// At step 2 (a stride-2 data gradient's phase), each 8 positions go into the even lanes of the
// 16 floats they span, the odd lanes read and written back: the scalar strided loop took 9% of
// a 3x3 stride-2 128 -> 128 data gradient.
void transposeOut(float* dst, int64_t dstStride, int64_t step, const float* src, int64_t srcStride, int64_t channels,
                  int64_t positions) {
  if (step != 1 && step != 2) return convnd::tiles::transposeOut<Avx2>(dst, dstStride, step, src, srcStride, channels, positions);
  const int64_t wholeChannels = channels / 8 * 8;
  for (int64_t k = 0; k < wholeChannels; k += 8) {
    for (int64_t u = 0; u < positions; u += 8) {
      __m256 r[8];
      for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src + (u + i) * srcStride + k);
      // 8 x 8 transpose: pairs, then quads, then 128-bit halves.
      const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
      const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
      const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
      const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
      const __m256 q0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0)), q1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
      const __m256 q2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0)), q3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
      const __m256 q4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0)), q5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
      const __m256 q6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0)), q7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
      const __m256 c[8] = {
          _mm256_permute2f128_ps(q0, q4, 0x20), _mm256_permute2f128_ps(q1, q5, 0x20),
          _mm256_permute2f128_ps(q2, q6, 0x20), _mm256_permute2f128_ps(q3, q7, 0x20),
          _mm256_permute2f128_ps(q0, q4, 0x31), _mm256_permute2f128_ps(q1, q5, 0x31),
          _mm256_permute2f128_ps(q2, q6, 0x31), _mm256_permute2f128_ps(q3, q7, 0x31)};
      if (u + 8 <= positions && step == 1) {
        for (int i = 0; i < 8; ++i) _mm256_storeu_ps(dst + (k + i) * dstStride + u, c[i]);
      } else if (u + 8 < positions) {
        // Step 2, and not the row's last block: dst[2u + 15] lies before the last write.
        for (int i = 0; i < 8; ++i) storeEvenLanes(dst + (k + i) * dstStride + 2 * u, c[i]);
      } else {
        alignas(32) float tmp[8];
        for (int i = 0; i < 8; ++i) {
          _mm256_store_ps(tmp, c[i]);
          for (int64_t v = 0; v < std::min<int64_t>(8, positions - u); ++v) dst[(k + i) * dstStride + (u + v) * step] = tmp[v];
        }
      }
    }
  }
  convnd::tiles::transposeOut<Avx2>(dst + wholeChannels * dstStride, dstStride, step, src + wholeChannels, srcStride,
                                    channels - wholeChannels, positions);
}

// addScalar into every second float: each 8 results go into the even lanes of the 16 floats
// they span, the odd lanes read and written back (an average pooling's backward, whose
// stride-2 phases' scalar strided stores took 40% of it). A row's last block goes one float at
// a time: its span would reach past the row's last output, into a row another thread may own.
void addScalarStep2(float* dst, int64_t dstStride, const float* src, int64_t srcStride, int64_t rows, int64_t n,
                    float b) {
  const __m256 bv = _mm256_set1_ps(b);
  for (int64_t r = 0; r < rows; ++r, dst += dstStride, src += srcStride) {
    int64_t i = 0;
    for (; i + 8 < n; i += 8) storeEvenLanes(dst + 2 * i, _mm256_add_ps(_mm256_loadu_ps(src + i), bv));
    for (; i < n; ++i) dst[2 * i] = src[i] + b;
  }
}

}  // namespace

// 6x16 GEMM tile: 12 accumulators + 2 input registers + 1 broadcast of the 16 ymm registers.
// The one-channel (narrow) tile has 8 accumulators: FMA latency 4 x 2 ports needs 8 chains.
// Built on first use, never at load time: the table's construction is compiled with this
// file's flags, and a CPU without them must never run it (it is called only after cpuid).
const convnd::KernelTable& convnd::avx2Kernels() {
  static const convnd::KernelTable table = [] {
    convnd::KernelTable t = convnd::tiles::makeKernelTable<Avx2, 6, 2, 8, 6, 2, 4, 2, 6>("avx2", &copyStride2);
    t.transposeOut = &transposeOut;
    t.addScalarStep2 = &addScalarStep2;
    return t;
  }();
  return table;
}
