// AVX-512F kernels (16 floats a register, 32 registers). Compiled with -mavx512f -mfma only:
// no BW/VL/DQ instruction is used, so AVX-512F alone is required at run time.
// GCC 12 warns inside its own avx512fintrin.h (_mm512_undefined_ps, as maybe or as surely
// uninitialised, depending on the inlining); nothing here is uninitialised.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>
#include <algorithm>
#include "../generic/tile_kernels.h"
#include "../avx2/avx2_vector.h"
#include "../avx2/register_transpose.h"

namespace {

struct Avx512 {
  using reg = __m512;
  using mask = __mmask16;
  static constexpr int lanes = 16;
  static reg zero() { return _mm512_setzero_ps(); }
  static reg load(const float* p) { return _mm512_loadu_ps(p); }
  // p[0], p[2], ..., p[30]: one two-source permute.
  static reg loadEven(const float* p) {
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    return _mm512_permutex2var_ps(_mm512_loadu_ps(p), even, _mm512_loadu_ps(p + 16));
  }
  static void loadEvenOdd(const float* p, reg& even, reg& odd) {
    const __m512i evenIndex = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i oddIndex = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    const __m512 a = _mm512_loadu_ps(p), b = _mm512_loadu_ps(p + 16);
    even = _mm512_permutex2var_ps(a, evenIndex, b);
    odd = _mm512_permutex2var_ps(a, oddIndex, b);
  }
  // p[0], ..., p[n - 1] and zeros (0 < n < 16): masked lanes are never read.
  static reg loadPartial(const float* p, int n) { return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1), p); }
  static void store(float* p, reg r) { _mm512_storeu_ps(p, r); }
  static reg set1(float f) { return _mm512_set1_ps(f); }
  static reg fmadd(reg a, reg b, reg c) { return _mm512_fmadd_ps(a, b, c); }
  static reg add(reg a, reg b) { return _mm512_add_ps(a, b); }
  static reg mul(reg a, reg b) { return _mm512_mul_ps(a, b); }
  template <bool IsMax>
  static mask beats(reg v, reg acc) {
    mask better = IsMax ? _mm512_cmp_ps_mask(v, acc, _CMP_GT_OQ) : _mm512_cmp_ps_mask(v, acc, _CMP_LT_OQ);
    mask newNan = static_cast<mask>(_mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q) &
                                    _mm512_cmp_ps_mask(acc, acc, _CMP_ORD_Q));
    return static_cast<mask>(better | newNan);
  }
  // _mm512_mask_blend_ps(k, a, b) takes b where k is set.
  static reg blend(mask m, reg ifTrue, reg ifFalse) { return _mm512_mask_blend_ps(m, ifFalse, ifTrue); }
  // max_ps(a, b) returns b when either is NaN: a NaN v comes through; a NaN acc is kept.
  template <bool IsMax>
  static reg extreme(reg acc, reg v) {
    reg m = IsMax ? _mm512_max_ps(acc, v) : _mm512_min_ps(acc, v);
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(acc, acc, _CMP_UNORD_Q), m, acc);
  }
};

// Stride-2 rows: one two-source permute per 16 floats.
void copyStride2(float* dst, const float* src, int64_t n) {
  int64_t v = 0;
  for (; v + 17 <= n; v += 16) _mm512_storeu_ps(dst + v, Avx512::loadEven(src + 2 * v));  // reads src[2v, 2v + 32) < 2n - 1
  for (; v < n; ++v) dst[v] = src[2 * v];
}


// 16 registers transposed in place: afterwards r[i] holds lane i of every register before.
inline void transpose16Registers(__m512 r[16]) {
  __m512 t[16], v[16];
  for (int m = 0; m < 8; ++m) {
    t[2 * m] = _mm512_unpacklo_ps(r[2 * m], r[2 * m + 1]);
    t[2 * m + 1] = _mm512_unpackhi_ps(r[2 * m], r[2 * m + 1]);
  }
  for (int q = 0; q < 4; ++q) {
    v[4 * q + 0] = _mm512_shuffle_ps(t[4 * q], t[4 * q + 2], _MM_SHUFFLE(1, 0, 1, 0));
    v[4 * q + 1] = _mm512_shuffle_ps(t[4 * q], t[4 * q + 2], _MM_SHUFFLE(3, 2, 3, 2));
    v[4 * q + 2] = _mm512_shuffle_ps(t[4 * q + 1], t[4 * q + 3], _MM_SHUFFLE(1, 0, 1, 0));
    v[4 * q + 3] = _mm512_shuffle_ps(t[4 * q + 1], t[4 * q + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int s4 = 0; s4 < 4; ++s4) {
    const __m512 x0 = _mm512_shuffle_f32x4(v[s4], v[4 + s4], 0x88), x1 = _mm512_shuffle_f32x4(v[s4], v[4 + s4], 0xDD);
    const __m512 y0 = _mm512_shuffle_f32x4(v[8 + s4], v[12 + s4], 0x88), y1 = _mm512_shuffle_f32x4(v[8 + s4], v[12 + s4], 0xDD);
    r[s4] = _mm512_shuffle_f32x4(x0, y0, 0x88);
    r[8 + s4] = _mm512_shuffle_f32x4(x0, y0, 0xDD);
    r[4 + s4] = _mm512_shuffle_f32x4(x1, y1, 0x88);
    r[12 + s4] = _mm512_shuffle_f32x4(x1, y1, 0xDD);
  }
}

// The 16 x 16 block of src's positions [0, 16) and channels [0, 16), transposed: out[i] holds
// channel i at the 16 positions.
// Partial: positions from `valid` on are taken as zeros, never read.
template <bool Partial>
inline void transpose16x16(const float* src, int64_t srcStride, int valid, __m512 out[16]) {
  for (int i = 0; i < 16; ++i) out[i] = !Partial || i < valid ? _mm512_loadu_ps(src + i * srcStride) : _mm512_setzero_ps();
  transpose16Registers(out);
}

// transposeOut in 16 x 16 register blocks: each block loads whole 64-byte lines of src and, at
// step 1, stores whole lines. At step 2 (a stride-2 data gradient's phase) each channel's 16
// positions are spread over the even lanes of two registers and stored under a mask, which
// leaves the odd lanes (the other phase's) untouched without reading them: the 8 x 8 transpose
// read and blended them. A row's last positions (28 = 16 + 12) take one more block, loaded and
// stored under masks. Channels past the last whole 16 go through the 8 x 8 transpose; the loop
// order is positionsOuter's (register_transpose.h). Measured against the 8 x 8 one alone at step
// 1 (one thread, in-process alternation): a 1-d k255 weight gradient 3% faster, 1x1 forward and
// weight gradient 1-3%, 3x3 64 -> 64 forward 1%, the other bench layers the same.
void transposeOut16x16(float* dst, int64_t dstStride, int64_t step, const float* src, int64_t srcStride, int64_t channels,
                       int64_t positions) {
  if ((step != 1 && step != 2) || channels < 16 || positions < 16)
    return transposeOut8x8<Avx512>(dst, dstStride, step, src, srcStride, channels, positions);
  const int64_t K16 = channels / 16 * 16, blocks = (positions + 15) / 16 * 16;
  const bool positionsFirst = positionsOuter(dstStride, srcStride, channels, positions);
  const int64_t outerEnd = positionsFirst ? blocks : K16, innerEnd = positionsFirst ? K16 : blocks;
  // Lanes 0-7 and 8-15 of a channel's positions, each into the even lanes of a register.
  const __m512i lowHalf = _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
  const __m512i highHalf = _mm512_set_epi32(15, 15, 14, 14, 13, 13, 12, 12, 11, 11, 10, 10, 9, 9, 8, 8);
  for (int64_t a = 0; a < outerEnd; a += 16)
    for (int64_t b = 0; b < innerEnd; b += 16) {
      const int64_t k = positionsFirst ? b : a, u = positionsFirst ? a : b;
      const int valid = positions - u < 16 ? static_cast<int>(positions - u) : 16;
      __m512 rows[16];
      if (valid == 16) {
        transpose16x16<false>(src + u * srcStride + k, srcStride, valid, rows);
        if (step == 1) {
          for (int i = 0; i < 16; ++i) _mm512_storeu_ps(dst + (k + i) * dstStride + u, rows[i]);
          continue;
        }
      } else {
        transpose16x16<true>(src + u * srcStride + k, srcStride, valid, rows);
      }
      const __mmask16 stored = static_cast<__mmask16>((1u << valid) - 1);
      // At step 2: position j of the block lands in lane 2j of the low register (j < 8) or
      // 2(j - 8) of the high one.
      const unsigned lowLanes = valid < 8 ? 2u * valid : 16u, highLanes = valid > 8 ? 2u * (valid - 8) : 0u;
      const __mmask16 low = static_cast<__mmask16>(((1u << lowLanes) - 1) & 0x5555);
      const __mmask16 high = static_cast<__mmask16>(((1u << highLanes) - 1) & 0x5555);
      for (int i = 0; i < 16; ++i) {
        float* out = dst + (k + i) * dstStride + u * step;
        if (step == 1) {
          _mm512_mask_storeu_ps(out, stored, rows[i]);
        } else {
          _mm512_mask_storeu_ps(out, low, _mm512_permutexvar_ps(lowHalf, rows[i]));
          if (high) _mm512_mask_storeu_ps(out + 16, high, _mm512_permutexvar_ps(highHalf, rows[i]));
        }
      }
    }
  if (K16 < channels)
    transposeOut8x8<Avx512>(dst + K16 * dstStride, dstStride, step, src + K16, srcStride, channels - K16, positions);
}

// KernelTable::packSpans: each 16 rows of a span one 16 x 16 transpose, each column stored
// straight to its packed place. Through transposeOut into a scratch block (8 x 8 transposes and a
// scalar loop for a ninth column) and a copy per tap in packed order, packing took 30% of a 3x3
// 512 -> 512 7x7 data gradient; this made it 7-10% faster on one thread and 9-11% on two,
// 1024 -> 1024 7x7 9-14%, 256 -> 256 14x14 3-7% (in-process alternation). Rows are read whole, 16 floats, the
// floats past a row's columns being the next row's (rowStride >= columns >= 8), except the span's
// last row, read under a mask of its columns: nothing past the span is read. With every row read
// under the mask, the 512 layer gained only 5-8%, and 1024 -> 1024 7x7 (38 MB of weights, more
// than L3 holds) ran 21% slower than before.
// Columns > 0 fixes the columns at compile time: the transposes' shuffles that only feed the
// rows past them are dropped (57 of 64 left at 9 columns).
// Each span is prefetched kPackAheadSpans ahead (2 to 8 measured alike): on a Zen 4, the 512 ->
// 512 7x7 data gradient 9-12% faster on one thread and 6-15% on two; 256 -> 256 at 14x14, 64 -> 64
// at 56x56 and the stride-2 data gradients (their transposed copies) the same or up to 4% faster
// (in-process alternation).
constexpr int64_t kPackAheadSpans = 4;
template <int Columns>
void packSpansOf(float* dst, const float* src, int64_t channelStride, int64_t rowStride, int64_t columns, int64_t channels,
                 int mr) {
  const int64_t count = Columns > 0 ? Columns : columns;
  const __mmask16 read = static_cast<__mmask16>((1u << count) - 1);
  // The bytes the rows of a span read.
  const int64_t spanBytes = static_cast<int64_t>(sizeof(float)) * ((mr - 1) * rowStride + count);
  for (int64_t ch = 0; ch < channels; ++ch, dst += count * mr) {
    const float* span = src + ch * channelStride;
    // The span kPackAheadSpans on, fetched while this one is transposed: spans lie a whole
    // channel's weights apart (18 KiB in a 3x3 512 -> 512 layer), a stride the hardware
    // prefetchers do not follow across pages, and without it the transposes waited on their loads.
    if (ch + kPackAheadSpans < channels) {
      const char* next = reinterpret_cast<const char*>(span + kPackAheadSpans * channelStride);
      for (int64_t b = 0; b < spanBytes; b += 64) _mm_prefetch(next + b, _MM_HINT_T0);
    }
    for (int h = 0; h < mr; h += 16) {
      __m512 rows[16];
      const float* first = span + h * rowStride;
      for (int i = 0; i < 15; ++i) rows[i] = _mm512_loadu_ps(first + i * rowStride);
      rows[15] = h + 16 < mr ? _mm512_loadu_ps(first + 15 * rowStride) : _mm512_maskz_loadu_ps(read, first + 15 * rowStride);
      transpose16Registers(rows);
      // Constant indices into rows[], tested against `count`: a variable index would take rows[]
      // out of the registers.
      CONVND_UNROLL
      for (int i = 0; i < 16; ++i)
        if (i < count) _mm512_storeu_ps(dst + i * mr + h, rows[i]);
    }
  }
}

// 3x3 layers' 9 columns fixed: the 512 -> 512 7x7 data gradient 3-4% faster on one thread, 5%
// on two (in-process alternation).
void packSpans16(float* dst, const float* src, int64_t channelStride, int64_t rowStride, int64_t columns, int64_t channels,
                 int mr) {
  if (columns == 9) return packSpansOf<9>(dst, src, channelStride, rowStride, columns, channels, mr);
  packSpansOf<0>(dst, src, channelStride, rowStride, columns, channels, mr);
}

// Lanes [0, n) of a register (n clamped to [0, 16]).
inline __mmask16 firstLanes(int64_t n) {
  return n <= 0 ? 0 : n >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << n) - 1);
}

// KernelTable::gatherTaps: a plane's 32 floats from the window's least offset, read as two
// registers under a mask of the plane's end, give every tap through one two-source permute that
// zeroes the taps outside the plane, stored under a mask of the taps (a 3x3 window in a 7x7
// plane spans 17 floats). Against the scalar loop's load, test and select a tap: a 3x3
// 512 -> 512 7x7 weight gradient 4-5% faster on one thread, 2-10% on two (in-process
// alternation; the loop took 12% of it). Two permutes over 64 floats and a blend took 1.7x as long
// as one (a microbenchmark).
void gatherTaps32(float* dst, const float* planes, int64_t planeSize, int64_t channels, const int64_t* offsets, int taps) {
  int64_t least = planeSize;
  for (int j = 0; j < taps; ++j)
    if (offsets[j] >= 0) least = std::min(least, offsets[j]);
  alignas(64) int32_t index[16] = {};
  unsigned inside = 0;
  for (int j = 0; j < taps; ++j)
    if (offsets[j] >= 0) {
      index[j] = static_cast<int32_t>(offsets[j] - least);
      inside |= 1u << j;
    }
  const __mmask16 keep = static_cast<__mmask16>(inside), stored = firstLanes(taps);
  if (keep == 0) {  // a window wholly in the padding: no plane address to start from
    for (int64_t c = 0; c < channels; ++c) _mm512_mask_storeu_ps(dst + c * taps, stored, _mm512_setzero_ps());
    return;
  }
  const __m512i lanes = _mm512_load_si512(index);
  const int64_t left = planeSize - least;  // floats from the least offset to the plane's end
  const __mmask16 low = firstLanes(left), high = firstLanes(left - 16);
  const int64_t highAt = left > 16 ? 16 : 0;  // where `high` reads: inside the plane even where it reads nothing
  const float* from = planes + least;
  for (int64_t c = 0; c < channels; ++c, from += planeSize, dst += taps) {
    const __m512 a = _mm512_maskz_loadu_ps(low, from), b = _mm512_maskz_loadu_ps(high, from + highAt);
    _mm512_mask_storeu_ps(dst, stored, _mm512_maskz_permutex2var_ps(keep, a, lanes, b));
  }
}

// KernelTable::gatherPlane: the plane (at most 64 floats) in four registers, each 16 outputs
// two two-source permutes, a blend on the index's bit 5 and a zeroing of negative indices. A
// register past the plane's end is read from its start under an empty mask: no address outside
// the plane.
void gatherPlane64(float* dst, const float* plane, int64_t planeFloats, const int32_t* index, int64_t count) {
  __m512 p[4];
  for (int i = 0; i < 4; ++i) {
    const __mmask16 part = firstLanes(planeFloats - 16 * i);
    p[i] = _mm512_maskz_loadu_ps(part, part ? plane + 16 * i : plane);
  }
  const __m512i upperHalf = _mm512_set1_epi32(32);
  for (int64_t u = 0; u < count; u += 16) {
    const __m512i at = _mm512_loadu_si512(index + u);
    const __m512 low = _mm512_permutex2var_ps(p[0], at, p[1]), high = _mm512_permutex2var_ps(p[2], at, p[3]);
    const __mmask16 upper = _mm512_test_epi32_mask(at, upperHalf);
    const __mmask16 inside = _mm512_cmpge_epi32_mask(at, _mm512_setzero_si512());
    _mm512_storeu_ps(dst + u, _mm512_maskz_mov_ps(inside, _mm512_mask_blend_ps(upper, low, high)));
  }
}

}  // namespace

// 12x32 GEMM tile: 24 accumulators + 2 inputs + 1 broadcast of the 32 zmm registers.
// The one-channel (narrow) tile has 8 accumulators, enough chains to hide FMA latency.
// Weight gradients of 64 channels a group (or a multiple) take a 6-column tile four registers
// wide (see kernel_table.h), those of at most 16 channels a 12-column tile one register wide,
// which broadcasts each input once for the 3 taps of a window row that read it (9 loads per 8
// multiply-adds made the plain tile load-bound on Zen 5, whose FMA units take 512-bit
// operands whole: a 3x3x3 16 -> 16 gradient 15% faster than on the plain 8-column tile, which
// Zen 4 had measured faster than 12 or 16 columns). The channel tiles do the same for their
// taps (channelTileAdjacentTaps: 14% on that layer's forward and data gradient; 3x3 64 -> 64 and
// 3-d 32-channel layers and the wider weight-gradient tiles measured the same or slower with it:
// the two-register channel tile takes it only at the widths whose registers allow, up to 12
// positions at 3 taps and 13 at 2, which its 14-position split of 28- and 56-wide rows never uses).
// The dot products of few-channel weight gradients run on 256-bit
// registers: at 16 floats nearly every load of their shifted columns spans two cache lines,
// and their 7 loads per 12 multiply-adds made the tiny 3 -> 8 gradient 9 µs against 6 on AVX2.
// Channel mode's in-place chunks are not capped (see kernel_table.h). A one-register channel
// tile (16 channels x up to 16 positions) serves 16-channel layers.
// Built on first use, never at load time: the table's construction is compiled with this
// file's flags, and a CPU without them must never run it (it is called only after cpuid).
const convnd::KernelTable& convnd::avx512Kernels() {
  static const convnd::KernelTable table = [] {
    convnd::KernelTable t = convnd::tiles::makeKernelTable<Avx512, 12, 2, 8, 12, 2, 4, 2, 14, true>("avx512", &copyStride2);
    t.channelTileNarrow = convnd::tiles::makeChannelTile<Avx512, 1, 16, true>();
    // The weight-broadcast forward (weight_broadcast_gemm.h) on AVX-512 only: on AVX2's 4 x 3
    // registers of 8 (in-process alternation, one thread / two) 1x1 2048 -> 512 7x7 ran 3% faster /
    // 17-20% slower, 512 -> 2048 6% faster / the same, stride-2 1024 -> 2048 33% / 22% faster.
    t.broadcastTile = convnd::tiles::makeBroadcastTile<Avx512, 8>();
    t.gemmOctet = {8, 3 * Avx512::lanes, &convnd::tiles::gemmTile<Avx512, 8, 3>};
    t.gemmOctetTail = {8, Avx512::lanes, &convnd::tiles::gemmTile<Avx512, 8, 1>};
    // Four rows x 64 positions (16 accumulators), not x 32: 8 accumulators held a row's FMAs to
    // their latency on Zen 5 (two 512-bit FMAs a cycle). The 1-d k255 stride-4 data gradient (its
    // four stride phases as four output rows) 10% faster, a 64 -> 4 3x3 layer 7%.
    t.gemmQuad = {4, 4 * Avx512::lanes, &convnd::tiles::gemmTile<Avx512, 4, 4>};
    t.weightGradNarrow = {12, 16, &convnd::tiles::weightGradAdjacentTaps<Avx512, 4, 1, 3>};
    t.weightGradWide = {6, 64, &convnd::tiles::weightGradTile<Avx512, 6, 4>};
    t.channelInPlaceWeightBytes = 0;
    t.transposeOut = &transposeOut16x16;
    t.packSpans = &packSpans16;
    t.gatherTaps = &gatherTaps32;
    t.gatherPlane = &gatherPlane64;
    t.weightDot = &convnd::tiles::weightDotTile<Avx2, 1, 8>;
    t.weightDotSingle = &convnd::tiles::weightDotTile<Avx2, 1, 1>;
    t.weightDotBlock = &convnd::tiles::weightDotTile<Avx2, 4, 3>;
    t.weightDotLanes = Avx2::lanes;
    t.addScalarStep2 = &addScalarStep2;
    t.addStrided = &addStrided8<Avx512>;
    return t;
  }();
  return table;
}
