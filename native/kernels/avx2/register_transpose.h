// Stores and transposes built from 256-bit registers, shared by the AVX2 kernels and the
// AVX-512 ones (AVX-512F includes AVX2): an 8 x 8 register transpose measured as fast as the
// scalar loop was slow there too (a 1-d k3 64 -> 64 weight gradient 7.4 -> 5.1 ms on AVX-512).
// Everything here is in an anonymous namespace, as in the files that include it, so each ISA's
// copy is compiled with its own flags and keeps internal linkage.
#pragma once
#include <immintrin.h>
#include "../generic/tile_kernels.h"
#include "avx2_vector.h"
#include "../../core/l1_sets.h"

namespace {

// v into the even lanes of the 16 floats at d (d[2i] = v[i]), the odd lanes read and written
// back unchanged: stride-2 outputs a register at a time.
inline void storeEvenLanes(float* d, __m256 v) {
  const __m256i lowHalf = _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3), highHalf = _mm256_setr_epi32(4, 4, 5, 5, 6, 6, 7, 7);
  _mm256_storeu_ps(d, _mm256_blend_ps(_mm256_loadu_ps(d), _mm256_permutevar8x32_ps(v, lowHalf), 0x55));
  _mm256_storeu_ps(d + 8, _mm256_blend_ps(_mm256_loadu_ps(d + 8), _mm256_permutevar8x32_ps(v, highHalf), 0x55));
}

// How many of `rows` rows `strideFloats` apart share each L1 set under one column.
inline int64_t rowsPerL1Set(int64_t strideFloats, int64_t rows) { return rows / l1SetsUnderColumn(strideFloats); }

// Whether transposeOut's outer loop walks the positions (source rows) rather than the channels
// (destination rows). The inner loop touches one line of every row on its side at one column, and
// the next column reuses those lines: it walks the side whose rows crowd the L1 sets less. dY's
// channel planes of a 1-d signal of 16384 floats (64 KiB apart) all fell into one set, and
// transposing it across them took 15% of a 1-d k3 64 -> 64 weight gradient (6% the other way). A
// destination of rows at most 4 lines apart (packed weights, transposed dY) is one stream written
// in order, which holds no set: the source rows then go 8 at a time only when they overflow a set's
// 8 ways (packing a 512-channel layer's weights, rows 18 KiB apart, 16 a set: 1.5x as fast, its 7x7
// forward 5-12%; a 64-channel layer's, 2 a set, 60% slower that way). Otherwise every source row at
// once keeps more misses in flight (8 at a time took 20% longer on a 3x3 128 -> 128 layer's dY, 784
// floats a plane, from memory).
inline bool positionsOuter(int64_t dstStride, int64_t srcStride, int64_t channels, int64_t positions) {
  const int64_t srcCrowding = rowsPerL1Set(srcStride, positions);
  return srcCrowding > (dstStride <= 64 ? 8 : rowsPerL1Set(dstStride, channels));
}

// The transposed tile's [position][channel] results into NCHW rows, 8 x 8 at a time through a
// register transpose (the portable loop's strided single-float reads and writes took 4% of a
// 3x3 64 -> 64 layer). Positions past the last whole block are read as garbage and not stored.
// At step 2 (a stride-2 data gradient's phase), each 8 positions go into the even lanes of the
// 16 floats they span, the odd lanes read and written back: the scalar strided loop took 9% of
// a 3x3 stride-2 128 -> 128 data gradient.
template <class V>
void transposeOut8x8(float* dst, int64_t dstStride, int64_t step, const float* src, int64_t srcStride, int64_t channels,
                     int64_t positions) {
  if (step != 1 && step != 2) return convnd::tiles::transposeOut<V>(dst, dstStride, step, src, srcStride, channels, positions);
  const int64_t wholeChannels = channels / 8 * 8;
  const bool positionsFirst = positionsOuter(dstStride, srcStride, channels, positions);
  const int64_t outerEnd = positionsFirst ? positions : wholeChannels, innerEnd = positionsFirst ? wholeChannels : positions;
  for (int64_t a = 0; a < outerEnd; a += 8)
    for (int64_t b = 0; b < innerEnd; b += 8) {
      // The 8 x 8 block of channels [k, k + 8) and positions [u, u + 8).
      const int64_t k = positionsFirst ? b : a, u = positionsFirst ? a : b;
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
          for (int64_t v = 0; v < 8 && u + v < positions; ++v) dst[(k + i) * dstStride + (u + v) * step] = tmp[v];
        }
      }
    }
  convnd::tiles::transposeOut<V>(dst + wholeChannels * dstStride, dstStride, step, src + wholeChannels, srcStride,
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

// addStrided at step 2: each 8 values are added to the even lanes of the 16 floats they span
// (a de-interleaving load), which go back in through storeEvenLanes, the odd lanes unchanged.
// The last block goes one float at a time, so nothing past dst[2n - 2] is touched.
template <class V>
void addStrided8(float* dst, const float* v, int64_t n, int64_t step) {
  if (step != 2) return convnd::tiles::addStrided<V>(dst, v, n, step);
  int64_t u = 0;
  for (; u + 8 < n; u += 8) storeEvenLanes(dst + 2 * u, _mm256_add_ps(Avx2::loadEven(dst + 2 * u), _mm256_loadu_ps(v + u)));
  for (; u < n; ++u) dst[2 * u] += v[u];
}

}  // namespace
