// Micro-kernels written once over a small vector interface V and compiled once per ISA.
// Each ISA translation unit defines V in an anonymous namespace, so every instantiation below
// has internal linkage: no AVX code can be merged into another ISA's object by the linker.
// This header deliberately uses no standard-library templates for the same reason.
//
// V provides: reg, mask, lanes, zero(), load(p), store(p, r), set1(f), fmadd(a, b, c) = a*b+c,
// add(a, b), mul(a, b), beats<IsMax>(v, acc) (v > acc, or v is NaN and acc is not),
// extreme<IsMax>(acc, v) (the larger/smaller, a NaN in acc or v wins),
// blend(m, ifTrue, ifFalse), and tapIndex registers as float vectors.
#pragma once
#include <cmath>  // INFINITY (a macro: no library code is instantiated here)
#include <cstdint>
#include "../../core/kernel_table.h"

// Register tiles only stay in registers when their fixed-count loops are fully unrolled;
// GCC and Clang otherwise keep some accumulators on the stack.
#if defined(__clang__)
#define CONVND_UNROLL _Pragma("clang loop unroll(full)")
#elif defined(__GNUC__)
#define CONVND_UNROLL _Pragma("GCC unroll 32")
#else
#define CONVND_UNROLL
#endif

// Keeps the array `a` in memory, not registers, where the compiler would otherwise run out of them.
#if defined(__GNUC__) || defined(__clang__)
#define CONVND_IN_MEMORY(a) asm volatile("" : : "r"(a) : "memory")
#else
#define CONVND_IN_MEMORY(a)
#endif

// A hint to fetch the cache line holding p (to read it, or to write it); nothing where the
// compiler has no builtin.
#if defined(__GNUC__) || defined(__clang__)
#define CONVND_PREFETCH(p) __builtin_prefetch(p)
#define CONVND_PREFETCH_WRITE(p) __builtin_prefetch(p, 1)
#else
#define CONVND_PREFETCH(p) ((void)(p))
#define CONVND_PREFETCH_WRITE(p) ((void)(p))
#endif

// Makes the compiler treat p as unknown from here on: each input is then read at p plus a
// constant, where GCC otherwise kept every input's offset from the row start (which it
// hoisted out of the row loop) in a register of its own, spilling them to vector registers.
#if defined(__GNUC__) || defined(__clang__)
#define CONVND_OPAQUE(p) __asm__("" : "+r"(p))
#else
#define CONVND_OPAQUE(p) ((void)(p))
#endif

namespace convnd {
namespace tiles {

// Calls onRow(row) and then tap(row + tapOffsets[j]) for every tap j of every row of a GEMM
// tile, row after row (row r starts at a.rows[r] + a.rowOffset). Taps > 0 fixes the taps per
// row at compile time, so that the tap loop unrolls.
template <int Taps, class OnRow, class Tap>
inline void forEachTap(const GemmTileArgs& a, OnRow onRow, Tap& tap) {
  int32_t offsets[Taps > 0 ? Taps : 1];
  if constexpr (Taps > 0)
    for (int j = 0; j < Taps; ++j) offsets[j] = a.tapOffsets[j];
  for (int64_t r = 0; r < a.rowCount; ++r) {
    const float* row = a.rows[r] + a.rowOffset;
    onRow(row);
    if constexpr (Taps > 0) {
      CONVND_UNROLL
      for (int j = 0; j < Taps; ++j) tap(row + offsets[j]);
    } else {
      for (int32_t j = 0; j < a.taps; ++j) tap(row + a.tapOffsets[j]);
    }
  }
}

// acc[m][v] += w[m] * x[v]: the x row is loaded once per tap and reused by MR channels.
// Taps > 0 fixes the taps per row at compile time (1 for pointwise layers, 3 for 3-wide
// windows, 2 and 4 for the stride-2 data gradients of 3- and 7-wide ones): the tap loop
// unrolls, so a row costs no loop overhead beyond its FMAs (a 7x7 stride-2 data gradient: 10%
// fewer instructions with 4 fixed).
template <class V, int MR, int NV, int Taps>
void gemmTileTaps(const GemmTileArgs& a) {
  constexpr int L = V::lanes;
  constexpr int T = NV * L;
  typename V::reg acc[MR][NV];
  CONVND_UNROLL
  for (int m = 0; m < MR; ++m)
    CONVND_UNROLL
    for (int v = 0; v < NV; ++v)
      acc[m][v] = a.accumulate ? V::load(a.out + m * a.outStride + v * L)
                               : (a.bias ? V::set1(a.bias[m]) : V::zero());
  const float* w = a.weights;
  // One tap: T positions of x times MR weights.
  auto tap = [&](const float* xp) {
    typename V::reg x[NV];
    CONVND_UNROLL
    for (int v = 0; v < NV; ++v) x[v] = V::load(xp + v * L);
    CONVND_UNROLL
    for (int m = 0; m < MR; ++m) {
      typename V::reg wm = V::set1(w[m]);
      CONVND_UNROLL
      for (int v = 0; v < NV; ++v) acc[m][v] = V::fmadd(wm, x[v], acc[m][v]);
    }
    w += MR;
  };
  // The next tile's output lines, for writing: a tile stored straight into the output writes
  // MR channel planes, more streams than the hardware prefetchers follow, so each store missed
  // (a 1x1 256 -> 64 data gradient 3-8% faster on medians, a 7x7 stem 2-5%, in-process
  // alternation). Not for one channel (depthwise), whose calls are short.
  if constexpr (MR > 1) {
    CONVND_UNROLL
    for (int m = 0; m < MR; ++m) CONVND_PREFETCH_WRITE(a.out + m * a.outStride + T);
  }
  // The next tile's positions of each row: rows are many separate streams (one per input
  // channel), more than the hardware prefetchers follow.
  forEachTap<Taps>(a, [](const float* row) { CONVND_PREFETCH(row + T); }, tap);
  CONVND_UNROLL
  for (int m = 0; m < MR; ++m)
    CONVND_UNROLL
    for (int v = 0; v < NV; ++v) V::store(a.out + m * a.outStride + v * L, acc[m][v]);
}

template <class V, int MR, int NV>
void gemmTile(const GemmTileArgs& a) {
  switch (a.taps) {
    case 1: return gemmTileTaps<V, MR, NV, 1>(a);
    case 2: return gemmTileTaps<V, MR, NV, 2>(a);  // stride-2 phases of a 3-wide data gradient
    case 3: return gemmTileTaps<V, MR, NV, 3>(a);
    case 4: return gemmTileTaps<V, MR, NV, 4>(a);  // stride-2 phases of a 7-wide data gradient
    default: return gemmTileTaps<V, MR, NV, 0>(a);
  }
}

// Register tiles' accumulators: R rows of NK registers, row i at base + i * stride.
template <class V, int R, int NK>
inline void loadRows(typename V::reg (&acc)[R][NK], const float* base, int64_t stride) {
  CONVND_UNROLL
  for (int i = 0; i < R; ++i)
    CONVND_UNROLL
    for (int k = 0; k < NK; ++k) acc[i][k] = V::load(base + i * stride + k * V::lanes);
}

template <class V, int R, int NK>
inline void storeRows(typename V::reg (&acc)[R][NK], float* base, int64_t stride) {
  CONVND_UNROLL
  for (int i = 0; i < R; ++i)
    CONVND_UNROLL
    for (int k = 0; k < NK; ++k) V::store(base + i * stride + k * V::lanes, acc[i][k]);
}

// A channel tile's starting sums: the last chunk's, the bias or zeros.
template <class V, int NP, int NK>
inline void startChannelTile(typename V::reg (&acc)[NP][NK], const GemmTileArgs& a) {
  if (a.accumulate) return loadRows<V, NP, NK>(acc, a.out, a.outStride);
  CONVND_UNROLL
  for (int p = 0; p < NP; ++p)
    CONVND_UNROLL
    for (int k = 0; k < NK; ++k) acc[p][k] = a.bias ? V::load(a.bias + k * V::lanes) : V::zero();
}

// The transposed tile: acc[p][k] += x[p] * w[k] for NP positions and NK registers of output
// channels. The channels of one tap are one vector load and every position's input is
// broadcast, so a row tile can be any width from 1 to NP: narrow rows (28 positions at 6 a
// tile = 5 + 6 + 5 + 6 + 6) and channel counts that are multiples of the register width waste
// nothing.
// `out` holds [position][channel] (position p at out + p * outStride); the driver transposes.
// Position p reads tap j at xp[S * p]: S = 2 reads a strided layer's input rows in place.
template <class V, int NK, int NP, int Taps, int S>
void channelTileTaps(const GemmTileArgs& a) {
  constexpr int L = V::lanes;
  typename V::reg acc[NP][NK];
  startChannelTile<V, NP, NK>(acc, a);
  // The next tap's weights at a.weights + w; each row's start weightSkip floats past where the
  // last row's taps ended (an index, so that no pointer before the weights is formed).
  int64_t w = -static_cast<int64_t>(a.weightSkip);
  auto tap = [&](const float* xp) {
    typename V::reg wk[NK];
    CONVND_UNROLL
    for (int k = 0; k < NK; ++k) wk[k] = V::load(a.weights + w + k * L);
    CONVND_UNROLL
    for (int p = 0; p < NP; ++p) {
      const typename V::reg xv = V::set1(xp[S * p]);
      CONVND_UNROLL
      for (int k = 0; k < NK; ++k) acc[p][k] = V::fmadd(wk[k], xv, acc[p][k]);
    }
    w += NK * L;
  };
  forEachTap<Taps>(a, [&](const float*) { w += a.weightSkip; }, tap);
  storeRows<V, NP, NK>(acc, a.out, a.outStride);
}

// The same tile where a row's Taps taps read adjacent inputs, in order (Step = 1: offsets
// o, o + 1, ..., a forward pass without dilation along the row) or in reverse (Step = -1: the
// data gradient's flipped kernel). Each input of the row serves every tap that reads it, at a
// position of its own, so it is broadcast once, with all the taps' weights held in registers:
// 3 taps at stride 1 load 3 + NP + 2 floats per 3 NP multiply-adds instead of 3 + 3 NP (a
// 3x3x3 16 -> 16 layer 14% faster on Zen 5). Inputs are visited in the order that gives each
// accumulator its taps in order j = 0, 1, ..., so the sums are the same bits as channelTileTaps'.
template <class V, int NK, int NP, int Taps, int S, int Step>
void channelTileAdjacentTaps(const GemmTileArgs& a) {
  constexpr int L = V::lanes;
  constexpr int Inputs = S * (NP - 1) + Taps;
  typename V::reg acc[NP][NK];
  startChannelTile<V, NP, NK>(acc, a);
  const float* w = a.weights;
  // Input q of a row (from its lowest tap's input) is tap j's at position (q - lowest(j)) / S.
  const int64_t first = a.rowOffset + a.tapOffsets[Step > 0 ? 0 : Taps - 1];
  for (int64_t r = 0; r < a.rowCount; ++r) {
    const float* xp = a.rows[r] + first;
    CONVND_OPAQUE(xp);
    typename V::reg wk[Taps][NK];
    CONVND_UNROLL
    for (int j = 0; j < Taps; ++j)
      CONVND_UNROLL
      for (int k = 0; k < NK; ++k) wk[j][k] = V::load(w + (j * NK + k) * L);
    CONVND_UNROLL
    for (int i = 0; i < Inputs; ++i) {
      const int q = Step > 0 ? i : Inputs - 1 - i;
      const typename V::reg xv = V::set1(xp[q]);
      CONVND_UNROLL
      for (int j = 0; j < Taps; ++j) {
        const int lowest = Step > 0 ? j : Taps - 1 - j;
        if (q < lowest || (q - lowest) % S != 0 || (q - lowest) / S >= NP) continue;
        const int p = (q - lowest) / S;
        CONVND_UNROLL
        for (int k = 0; k < NK; ++k) acc[p][k] = V::fmadd(wk[j][k], xv, acc[p][k]);
      }
    }
    w += Taps * NK * L + a.weightSkip;
  }
  storeRows<V, NP, NK>(acc, a.out, a.outStride);
}

// 1 where the tile's taps read adjacent inputs in order, -1 in reverse, else 0.
inline int adjacentTapStep(const GemmTileArgs& a) {
  const int steps[2] = {1, -1};
  for (const int step : steps) {
    int32_t j = 1;
    while (j < a.taps && a.tapOffsets[j] == a.tapOffsets[0] + step * j) ++j;
    if (j == a.taps) return step;
  }
  return 0;
}

// Taps fixed at compile time; adjacent ones through channelTileAdjacentTaps where the ISA has
// the registers for it (Adjacent).
template <class V, int NK, int NP, int Taps, int S, bool Adjacent>
void channelTileFixedTaps(const GemmTileArgs& a) {
  // The accumulators, every tap's weights and a broadcast in 32 registers.
  if constexpr (Adjacent && NK * (NP + Taps) + 1 <= 32) {
    const int step = adjacentTapStep(a);
    if (step > 0) return channelTileAdjacentTaps<V, NK, NP, Taps, S, 1>(a);
    if (step < 0) return channelTileAdjacentTaps<V, NK, NP, Taps, S, -1>(a);
  }
  channelTileTaps<V, NK, NP, Taps, S>(a);
}

template <class V, int NK, int NP, int S, bool Adjacent>
void channelTile(const GemmTileArgs& a) {
  switch (a.taps) {
    case 1: return channelTileTaps<V, NK, NP, 1, S>(a);
    case 2: return channelTileFixedTaps<V, NK, NP, 2, S, Adjacent>(a);
    case 3: return channelTileFixedTaps<V, NK, NP, 3, S, Adjacent>(a);
    default: return channelTileTaps<V, NK, NP, 0, S>(a);
  }
}

// fn[s - 1][np] = channelTile<V, NK, np, s> for np in [1, NP], s in {1, 2}.
template <class V, int NK, int NP, bool Adjacent>
void fillChannelTiles(GemmTileFn (*fn)[kMaxChannelTilePositions + 1]) {
  fn[0][NP] = &channelTile<V, NK, NP, 1, Adjacent>;
  fn[1][NP] = &channelTile<V, NK, NP, 2, Adjacent>;
  if constexpr (NP > 1) fillChannelTiles<V, NK, NP - 1, Adjacent>(fn);
}

// The transposed tile of NK registers of channels and up to NP positions; Adjacent: with
// channelTileAdjacentTaps for the widths whose accumulators, taps' weights and broadcast fit
// 32 registers (AVX-512's count).
template <class V, int NK, int NP, bool Adjacent = false>
ChannelTileKernel makeChannelTile() {
  static_assert(NP <= kMaxChannelTilePositions, "the table holds kMaxChannelTilePositions widths");
  ChannelTileKernel tile;
  tile.mr = NK * V::lanes;
  tile.maxPositions = NP;
  fillChannelTiles<V, NK, NP, Adjacent>(tile.fn);
  return tile;
}

// dst[k * dstStride + u * step] = src[u * srcStride + k] for k < channels, u < positions: the
// transposed tile's [position][channel] results into NCHW. The portable version; an ISA with
// register transposes (AVX2) supplies its own.
template <class V>
void transposeOut(float* dst, int64_t dstStride, int64_t step, const float* src, int64_t srcStride, int64_t channels,
                  int64_t positions) {
  for (int64_t k = 0; k < channels; ++k) {
    float* __restrict d = dst + k * dstStride;
    const float* __restrict s = src + k;
    for (int64_t u = 0; u < positions; ++u) d[u * step] = s[u * srcStride];
  }
}

// acc[c][k] += sum_u col[c][u] * dyT[u][k]: the dy vector is loaded once per u and reused by
// NC columns; the reduction runs over every row tile given in registers, row after row (the
// same order as one call a row).
template <class V, int NC, int NK, int S>
void weightGradTileStep(const WeightGradArgs& a) {
  constexpr int L = V::lanes;
  typename V::reg acc[NC][NK];
  loadRows<V, NC, NK>(acc, a.acc, a.accStride);
  for (int64_t r = 0; r < a.rows; ++r) {
    const float* const* columns = a.columns + r * a.columnsPitch;
    const float* dyT = a.dyT + r * a.dyTPitch;
    for (int64_t u = 0; u < a.length; ++u) {
      typename V::reg d[NK];
      CONVND_UNROLL
      for (int k = 0; k < NK; ++k) d[k] = V::load(dyT + u * a.kStride + k * L);
      CONVND_UNROLL
      for (int c = 0; c < NC; ++c) {
        typename V::reg xc = V::set1(columns[c][S * u]);
        CONVND_UNROLL
        for (int k = 0; k < NK; ++k) acc[c][k] = V::fmadd(xc, d[k], acc[c][k]);
      }
    }
  }
  storeRows<V, NC, NK>(acc, a.acc, a.accStride);
}

// Column element u at columns[c][columnStep * u]: step 2 reads a stride-2 layer's input rows in
// place.
template <class V, int NC, int NK>
void weightGradTile(const WeightGradArgs& a) {
  if (a.columnStep == 2) return weightGradTileStep<V, NC, NK, 2>(a);
  return weightGradTileStep<V, NC, NK, 1>(a);
}

// The weight-gradient tile for 3-wide windows (NR window rows x Taps adjacent taps = NC
// columns): column j of a window row reads x[u + j], so input q of the row serves column j at
// u = q - j and is broadcast once for all of them: NR + Taps x NK loads per NR x Taps x NK
// multiply-adds, where weightGradTile loads NC + NK per NC x NK (9 for 8 at one register of
// channels). Each accumulator still sums its products in order of u, so the bits are
// weightGradTile's, which takes calls whose columns are not adjacent (the chunk's last tile,
// dilated windows, other widths).
template <class V, int NR, int NK, int Taps>
void weightGradAdjacentTaps(const WeightGradArgs& a) {
  constexpr int L = V::lanes;
  constexpr int NC = NR * Taps;
  bool adjacent = a.columnStep == 1;
  for (int64_t r = 0; r < a.rows && adjacent; ++r) {
    const float* const* columns = a.columns + r * a.columnsPitch;
    for (int i = 0; i < NR; ++i)
      for (int j = 1; j < Taps; ++j) adjacent = adjacent && columns[i * Taps + j] == columns[i * Taps] + j;
  }
  if (!adjacent) return weightGradTile<V, NC, NK>(a);
  typename V::reg acc[NC][NK];
  loadRows<V, NC, NK>(acc, a.acc, a.accStride);
  for (int64_t r = 0; r < a.rows; ++r) {
    const float* const* columns = a.columns + r * a.columnsPitch;
    const float* dyT = a.dyT + r * a.dyTPitch;
    const float* x[NR];
    CONVND_UNROLL
    for (int i = 0; i < NR; ++i) x[i] = columns[i * Taps];
    // Input q of every window row, for the columns j whose position q - j lies in [0, length).
    // (NC x NK accumulators, NR broadcasts and one column's NK registers of dY.)
    auto input = [&](int64_t q, bool edge) {
      typename V::reg xv[NR];
      CONVND_UNROLL
      for (int i = 0; i < NR; ++i) xv[i] = V::set1(x[i][q]);
      CONVND_UNROLL
      for (int j = 0; j < Taps; ++j) {
        if (edge && (q - j < 0 || q - j >= a.length)) continue;
        typename V::reg d[NK];
        CONVND_UNROLL
        for (int k = 0; k < NK; ++k) d[k] = V::load(dyT + (q - j) * a.kStride + k * L);
        CONVND_UNROLL
        for (int i = 0; i < NR; ++i)
          CONVND_UNROLL
          for (int k = 0; k < NK; ++k) acc[i * Taps + j][k] = V::fmadd(xv[i], d[k], acc[i * Taps + j][k]);
      }
    };
    const int64_t end = a.length + Taps - 1;  // inputs the row's columns read
    const int64_t bodyBegin = Taps - 1 < end ? Taps - 1 : end, bodyEnd = a.length > bodyBegin ? a.length : bodyBegin;
    for (int64_t q = 0; q < bodyBegin; ++q) input(q, true);
    for (int64_t q = bodyBegin; q < bodyEnd; ++q) input(q, false);
    for (int64_t q = bodyEnd; q < end; ++q) input(q, true);
  }
  storeRows<V, NC, NK>(acc, a.acc, a.accStride);
}

// The broadcast tiles' starting sums: the bias or zeros.
template <class V, int MK, int NV>
inline void startBroadcastTile(typename V::reg (&acc)[MK][NV], const float* bias) {
  CONVND_UNROLL
  for (int i = 0; i < MK; ++i)
    CONVND_UNROLL
    for (int j = 0; j < NV; ++j) acc[i][j] = bias ? V::set1(bias[i]) : V::zero();
}

// One row of the reduction: NV registers of `column` times the MK weights w[i * weightStride],
// each broadcast.
template <class V, int MK, int NV>
inline void broadcastRow(typename V::reg (&acc)[MK][NV], const float* column, const float* w, int64_t weightStride) {
  typename V::reg x[NV];
  CONVND_UNROLL
  for (int j = 0; j < NV; ++j) x[j] = V::load(column + j * V::lanes);
  CONVND_UNROLL
  for (int i = 0; i < MK; ++i) {
    const typename V::reg b = V::set1(w[i * weightStride]);
    CONVND_UNROLL
    for (int j = 0; j < NV; ++j) acc[i][j] = V::fmadd(b, x[j], acc[i][j]);
  }
}

// KernelTable::broadcastTile: MK x NV accumulators, NV column loads and MK broadcast weights
// per row of the reduction, each weight row read straight from the caller's layout.
template <class V, int MK, int NV>
void broadcastTile(const BroadcastTileArgs& a) {
  typename V::reg acc[MK][NV];
  startBroadcastTile<V, MK, NV>(acc, a.bias);
  const float* column = a.columns;
  for (int64_t r = 0; r < a.depth; ++r, column += a.columnStride) broadcastRow<V, MK, NV>(acc, column, a.weights + r, a.weightStride);
  storeRows<V, MK, NV>(acc, a.out, a.outStride);
}

// KernelTable::broadcastTile.withLast: broadcastTile and one more position, the column
// a.lastColumn (depth floats), as MK dot products taken every register of the reduction, over
// the weights its last rows broadcast (in L1 then): a separate pass re-read them from L2 (a 3x3
// 512 -> 512 7x7 forward 2-5% faster on one thread, the same on two). Its sums go to
// out[i * outStride + NV * lanes], the bias first and the lanes in order, as the dot tile's. In
// memory: in registers (8 x 3 + 8 beside 3 loads and a broadcast) GCC spilled the tile's
// accumulators, as it did with the row loop unrolled; a 7-row tile holding them ran no faster.
template <class V, int MK, int NV>
void broadcastTileWithLast(const BroadcastTileArgs& a) {
  constexpr int L = V::lanes;
  typename V::reg acc[MK][NV];
  startBroadcastTile<V, MK, NV>(acc, a.bias);
  alignas(64) float last[MK][L] = {};
  const float* column = a.columns;
  int64_t r = 0;
  for (; r + L <= a.depth; r += L) {
    for (int k = 0; k < L; ++k, column += a.columnStride) broadcastRow<V, MK, NV>(acc, column, a.weights + r + k, a.weightStride);
    const typename V::reg x = V::load(a.lastColumn + r);
    CONVND_UNROLL
    for (int i = 0; i < MK; ++i) V::store(last[i], V::fmadd(V::load(a.weights + i * a.weightStride + r), x, V::load(last[i])));
    CONVND_IN_MEMORY(last);
  }
  if (r < a.depth) {
    const int n = static_cast<int>(a.depth - r);
    for (int k = 0; k < n; ++k, column += a.columnStride) broadcastRow<V, MK, NV>(acc, column, a.weights + r + k, a.weightStride);
    const typename V::reg x = V::loadPartial(a.lastColumn + r, n);
    CONVND_UNROLL
    for (int i = 0; i < MK; ++i) V::store(last[i], V::fmadd(V::loadPartial(a.weights + i * a.weightStride + r, n), x, V::load(last[i])));
  }
  storeRows<V, MK, NV>(acc, a.out, a.outStride);
  for (int i = 0; i < MK; ++i) {
    float sum = a.bias ? a.bias[i] : 0.0f;
    for (int l = 0; l < L; ++l) sum += last[i][l];
    a.out[i * a.outStride + NV * L] = sum;
  }
}

// BroadcastTileArgs::segmentAcc's sums for channel c, whose run of weights starts at `run`. In
// memory, not registers: the tile's accumulators take nearly all of them. The last register's
// weights are the run's last lanes floats (all of it when shorter): nothing past the run is read.
template <class V>
inline void segmentDots(const BroadcastTileArgs& a, int64_t c, const float* run) {
  constexpr int L = V::lanes;
  const int64_t body = a.segmentLength / L * L;
  const int tail = static_cast<int>(a.segmentLength - body);
  for (int64_t q = 0; q < a.segmentPositions; ++q) {
    const float* const x = a.segmentX + (q * a.channels + c) * a.segmentFloats;
    float* const acc = a.segmentAcc + q * a.segmentFloats;
    for (int64_t m = 0; m < body; m += L) V::store(acc + m, V::fmadd(V::load(run + m), V::load(x + m), V::load(acc + m)));
    if (tail > 0) {
      const typename V::reg w = a.segmentLength > L ? V::load(run + a.segmentLength - L) : V::loadPartial(run, tail);
      V::store(acc + body, V::fmadd(w, V::load(x + body), V::load(acc + body)));
    }
  }
}

// The same with the weights in any layout: weight (i, c, tap) at weights[i * weightStride +
// c * channelStride + tapOffsets[tap]], row c * taps + tap of the reduction (a data gradient's
// weights, read in the forward's layout). A channel's weights for the next channels lie a
// channelStride apart, further than the hardware prefetchers look; each is prefetched
// prefetchChannels early, over [spanStart, spanStart + span) of its channel.
template <class V, int MK, int NV>
void broadcastTileStrided(const BroadcastTileArgs& a) {
  typename V::reg acc[MK][NV];
  startBroadcastTile<V, MK, NV>(acc, a.bias);
  const float* column = a.columns;
  const float* channel = a.weights;
  for (int64_t c = 0; c < a.channels; ++c, channel += a.channelStride) {
    // Past the last channel too: a prefetch never faults.
    const float* ahead = channel + a.prefetchChannels * a.channelStride + a.spanStart;
    for (int64_t f = 0; f < a.span; f += 16) CONVND_PREFETCH(ahead + f);
    CONVND_PREFETCH(ahead + a.span - 1);
    for (int64_t t = 0; t < a.taps; ++t, column += a.columnStride)
      broadcastRow<V, MK, NV>(acc, column, channel + a.tapOffsets[t], a.weightStride);
    if (a.segmentAcc) segmentDots<V>(a, c, channel + a.spanStart);
  }
  storeRows<V, MK, NV>(acc, a.out, a.outStride);
}

// acc[k][c][lane] += col[c][u] * dy[k][u] over the u of each lane, row by row, for NK channels
// of dY and NC columns: per register of positions, NC column loads and NK dy loads feed NK x NC
// multiply-adds (4 x 3: 7 loads for 12, where one channel at a time takes 9 for 8). A row's
// ragged end goes to the first lanes (V::loadPartial: the floats past it are never read, so an
// inf there cannot turn a sum into NaN). Every sum keeps a fixed order whatever NK and NC, so
// results depend neither on threads nor on the blocking.
template <class V, int NK, int NC>
void weightDotTile(const WeightDotArgs& a) {
  constexpr int L = V::lanes;
  typename V::reg acc[NK][NC];
  CONVND_UNROLL
  for (int k = 0; k < NK; ++k)
    CONVND_UNROLL
    for (int c = 0; c < NC; ++c) acc[k][c] = V::load(a.acc + k * a.accStride + c * L);
  const int64_t whole = a.length / L * L;
  const int rest = static_cast<int>(a.length - whole);
  for (int64_t r = 0; r < a.rows; ++r) {
    const float* dy = a.dy + r * a.dyPitch;
    const int64_t at = r * a.columnPitch;
    for (int64_t u = 0; u < whole; u += L) {
      typename V::reg x[NC];
      CONVND_UNROLL
      for (int c = 0; c < NC; ++c) x[c] = V::load(a.columns[c] + at + u);
      CONVND_UNROLL
      for (int k = 0; k < NK; ++k) {
        const typename V::reg d = V::load(dy + k * a.dyStride + u);
        CONVND_UNROLL
        for (int c = 0; c < NC; ++c) acc[k][c] = V::fmadd(x[c], d, acc[k][c]);
      }
    }
    if (rest > 0) {
      typename V::reg x[NC];
      CONVND_UNROLL
      for (int c = 0; c < NC; ++c) x[c] = V::loadPartial(a.columns[c] + at + whole, rest);
      CONVND_UNROLL
      for (int k = 0; k < NK; ++k) {
        const typename V::reg d = V::loadPartial(dy + k * a.dyStride + whole, rest);
        CONVND_UNROLL
        for (int c = 0; c < NC; ++c) acc[k][c] = V::fmadd(x[c], d, acc[k][c]);
      }
    }
  }
  CONVND_UNROLL
  for (int k = 0; k < NK; ++k)
    CONVND_UNROLL
    for (int c = 0; c < NC; ++c) V::store(a.acc + k * a.accStride + c * L, acc[k][c]);
}

// Max (IsMax) or min pooling: the first tap in row-major window order that beats the running
// extreme wins; a NaN beats any number, so a NaN in the window makes the output NaN. Without
// argTap (the forward pass) only the values are tracked: V::extreme keeps a NaN once seen.
template <class V, bool IsMax, int NV>
void extremePoolTile(const PoolTileArgs& a) {
  constexpr int L = V::lanes;
  typename V::reg best[NV], arg[NV];
  const float fill = IsMax ? -INFINITY : INFINITY;
  CONVND_UNROLL
  for (int v = 0; v < NV; ++v) {
    best[v] = V::set1(fill);
    arg[v] = V::set1(-1.0f);
  }
  if (!a.argTap) {
    for (int64_t r = 0; r < a.rowCount; ++r) {
      const float* row = a.rows[r] + a.rowOffset;
      for (int32_t j = 0; j < a.taps; ++j) {
        const float* xp = row + a.tapOffsets[j];
        CONVND_UNROLL
        for (int v = 0; v < NV; ++v) best[v] = V::template extreme<IsMax>(best[v], V::load(xp + v * L));
      }
    }
    CONVND_UNROLL
    for (int v = 0; v < NV; ++v) V::store(a.out + v * L, best[v]);
    return;
  }
  float tap = 0.0f;  // exact: windows have far fewer than 2^24 taps
  for (int64_t r = 0; r < a.rowCount; ++r) {
    const float* row = a.rows[r] + a.rowOffset;
    for (int32_t j = 0; j < a.taps; ++j, tap += 1.0f) {
      const float* xp = row + a.tapOffsets[j];
      typename V::reg t = V::set1(tap);
      CONVND_UNROLL
      for (int v = 0; v < NV; ++v) {
        typename V::reg x = V::load(xp + v * L);
        typename V::mask m = V::template beats<IsMax>(x, best[v]);
        best[v] = V::blend(m, x, best[v]);
        arg[v] = V::blend(m, t, arg[v]);
      }
    }
  }
  CONVND_UNROLL
  for (int v = 0; v < NV; ++v) V::store(a.out + v * L, best[v]);
  float tmp[NV * L];
  CONVND_UNROLL
  for (int v = 0; v < NV; ++v) V::store(tmp + v * L, arg[v]);
  for (int i = 0; i < NV * L; ++i) a.argTap[i] = static_cast<int32_t>(tmp[i]);
}

template <class V, int NV>
void sumPoolTile(const PoolTileArgs& a) {
  constexpr int L = V::lanes;
  typename V::reg sum[NV];
  CONVND_UNROLL
  for (int v = 0; v < NV; ++v) sum[v] = V::zero();
  for (int64_t r = 0; r < a.rowCount; ++r) {
    const float* row = a.rows[r] + a.rowOffset;
    for (int32_t j = 0; j < a.taps; ++j) {
      const float* xp = row + a.tapOffsets[j];
      CONVND_UNROLL
      for (int v = 0; v < NV; ++v) sum[v] = V::add(sum[v], V::load(xp + v * L));
    }
  }
  CONVND_UNROLL
  for (int v = 0; v < NV; ++v) V::store(a.out + v * L, sum[v]);
}

// Independent FMA chains, enough to cover FMA latency x ports on every target: the loop runs
// at the core's peak FMA rate and serves to measure it (the benchmark's "% of peak").
constexpr int kFmaChains = 12;

template <class V>
float fmaPeakLoop(int64_t iterations) {
  typename V::reg acc[kFmaChains];
  CONVND_UNROLL
  for (int j = 0; j < kFmaChains; ++j) acc[j] = V::set1(0.001f * static_cast<float>(j));
  const typename V::reg a = V::set1(0.9999999f), b = V::set1(1e-7f);
  for (int64_t i = 0; i < iterations; ++i)
    CONVND_UNROLL
    for (int j = 0; j < kFmaChains; ++j) acc[j] = V::fmadd(acc[j], a, b);
  typename V::reg sum = acc[0];
  CONVND_UNROLL
  for (int j = 1; j < kFmaChains; ++j) sum = V::add(sum, acc[j]);
  float out[V::lanes];
  V::store(out, sum);
  return out[0];
}

// Kind: 0 max, 1 min, 2 sum. For S = 2, V::loadEven(p) gives p[0], p[2], ... (reads 2 * lanes),
// V::loadEvenOdd(p) that and p[1], p[3], ...
// NV independent accumulators hide the latency of the max/blend chain.
template <class V, int Kind, int S, int NV>
int64_t poolRowsBlock(const PoolRowsArgs& a, int64_t u0) {
  constexpr int L = V::lanes;
  const float fill = Kind == 0 ? -INFINITY : Kind == 1 ? INFINITY : 0.0f;
  int64_t u = u0;
  for (; u + NV * L <= a.count; u += NV * L) {
    typename V::reg acc[NV];
    CONVND_UNROLL
    for (int v = 0; v < NV; ++v) acc[v] = V::set1(fill);
    for (int64_t r = 0; r < a.rowCount; ++r) {
      const float* row = a.rows[r] + u * S;
      for (int32_t j = 0; j < a.taps; ++j) {
        const float* p = row + a.tapOffsets[j];
        if (S == 2 && j + 1 < a.taps && a.tapOffsets[j + 1] == a.tapOffsets[j] + 1) {
          // Two adjacent taps (a 2- or 3-wide window without dilation) de-interleave one pair of loads.
          CONVND_UNROLL
          for (int v = 0; v < NV; ++v) {
            typename V::reg even, odd;
            V::loadEvenOdd(p + v * L * S, even, odd);
            acc[v] = Kind == 2 ? V::add(acc[v], V::add(even, odd))
                               : V::template extreme<Kind == 0>(V::template extreme<Kind == 0>(acc[v], even), odd);
          }
          ++j;
          continue;
        }
        CONVND_UNROLL
        for (int v = 0; v < NV; ++v) {
          const typename V::reg x = S == 1 ? V::load(p + v * L) : V::loadEven(p + v * L * S);
          acc[v] = Kind == 2 ? V::add(acc[v], x) : V::template extreme<Kind == 0>(acc[v], x);
        }
      }
    }
    CONVND_UNROLL
    for (int v = 0; v < NV; ++v) V::store(a.out + u + v * L, acc[v]);
  }
  return u;
}

template <class V, int Kind, int S>
void poolRowsTile(const PoolRowsArgs& a) {
  poolRowsBlock<V, Kind, S, 1>(a, poolRowsBlock<V, Kind, S, 2>(a, poolRowsBlock<V, Kind, S, 4>(a, 0)));
}

// out[i] = the reduction over r of rows[r][i], i in [0, n) (Kind: 0 max, 1 min, 2 sum; no rows
// gives the fill value): the vertical half of a separable pooling window. The same rules as
// V::extreme in the scalar remainder: a NaN wins and is kept. Rows > 0 fixes the row count at
// compile time (rows are short, so the loop over them would cost as much as the arithmetic).
template <class V, int Kind, int Rows>
void poolColumnsRows(const float* const* rows, int64_t rowCount, int64_t n, float* out) {
  constexpr int L = V::lanes;
  const int64_t count = Rows > 0 ? Rows : rowCount;
  const float fill = Kind == 0 ? -INFINITY : Kind == 1 ? INFINITY : 0.0f;
  int64_t i = 0;
  for (; i + 2 * L <= n; i += 2 * L) {
    typename V::reg a0 = V::set1(fill), a1 = a0;
    for (int64_t r = 0; r < count; ++r) {
      const typename V::reg x0 = V::load(rows[r] + i), x1 = V::load(rows[r] + i + L);
      a0 = Kind == 2 ? V::add(a0, x0) : V::template extreme<Kind == 0>(a0, x0);
      a1 = Kind == 2 ? V::add(a1, x1) : V::template extreme<Kind == 0>(a1, x1);
    }
    V::store(out + i, a0);
    V::store(out + i + L, a1);
  }
  for (; i + L <= n; i += L) {
    typename V::reg a = V::set1(fill);
    for (int64_t r = 0; r < count; ++r)
      a = Kind == 2 ? V::add(a, V::load(rows[r] + i)) : V::template extreme<Kind == 0>(a, V::load(rows[r] + i));
    V::store(out + i, a);
  }
  // Fewer than a register's worth: selects rather than branches, which random data mispredicts.
  for (; i < n; ++i) {
    float acc = fill;
    for (int64_t r = 0; r < count; ++r) {
      const float v = rows[r][i];
      if (Kind == 2) {
        acc += v;
      } else {
        const bool take = acc == acc && (v != v || (Kind == 0 ? v > acc : v < acc));
        acc = take ? v : acc;
      }
    }
    out[i] = acc;
  }
}

// Max (IsMax) or min pooling backward, the vertical half of a separable window: for i in
// [0, n), best[i] = the extreme of rows[r][i] over r in [0, count) (count >= 1) and arg[i] the
// first r holding it, as a float. The rules of extremePoolTile: a later row wins only by
// beating the running extreme, a NaN beats any number and is kept.
template <class V, bool IsMax>
void poolColumnsArg(const float* const* rows, int64_t count, int64_t n, float* best, float* arg) {
  constexpr int L = V::lanes;
  // The extreme and its first row over the rows' floats at i, read by load(row + i).
  auto column = [&](int64_t i, auto load, typename V::reg& b, typename V::reg& a) {
    b = load(rows[0] + i);
    a = V::zero();
    for (int64_t r = 1; r < count; ++r) {
      const typename V::reg x = load(rows[r] + i);
      const typename V::mask m = V::template beats<IsMax>(x, b);
      b = V::blend(m, x, b);
      a = V::blend(m, V::set1(static_cast<float>(r)), a);
    }
  };
  typename V::reg b, a;
  int64_t i = 0;
  for (; i + L <= n; i += L) {
    column(i, [](const float* p) { return V::load(p); }, b, a);
    V::store(best + i, b);
    V::store(arg + i, a);
  }
  if (i == n) return;
  // The last few through partial loads (branches on random data mispredicted often enough to
  // cost a 2x2x2 pooling's backward a third of its time on 56-float rows).
  const int rest = static_cast<int>(n - i);
  column(i, [rest](const float* p) { return V::loadPartial(p, rest); }, b, a);
  float bestTail[L], argTail[L];
  V::store(bestTail, b);
  V::store(argTail, a);
  for (int u = 0; u < rest; ++u) {
    best[i + u] = bestTail[u];
    arg[i + u] = argTail[u];
  }
}

// The horizontal half: for u in [0, a.count) (a multiple of the lane count), over taps j, the
// value best[S * u + tapOffsets[j]] and the key arg[...] * keyScale + j; out[u] = the key of
// the winner, the extreme with the smallest key among its ties (NaNs tie with NaNs). With
// keyScale above the last j, that is the first cell of the window in row-major order holding
// the extreme, as extremePoolTile finds it. Padding holds the fill value and a key larger than
// any cell's, so it never wins.
template <class V, bool IsMax, int S>
void poolRowsArg(const PoolRowsArgArgs& a) {
  constexpr int L = V::lanes;
  const typename V::reg scale = V::set1(a.keyScale);
  auto at = [](const float* p) { return S == 1 ? V::load(p) : V::loadEven(p); };
  for (int64_t u = 0; u < a.count; u += L) {
    const int64_t base = S * u;
    typename V::reg best = at(a.best + base + a.tapOffsets[0]);
    typename V::reg key = V::mul(at(a.arg + base + a.tapOffsets[0]), scale);
    for (int32_t j = 1; j < a.taps; ++j) {
      const typename V::reg v = at(a.best + base + a.tapOffsets[j]);
      const typename V::reg k = V::add(V::mul(at(a.arg + base + a.tapOffsets[j]), scale), V::set1(static_cast<float>(j)));
      // Beaten: take the tap; beating: keep; a tie: the smaller key.
      const typename V::mask beaten = V::template beats<IsMax>(v, best), beating = V::template beats<IsMax>(best, v);
      const typename V::reg smaller = V::blend(V::template beats<false>(k, key), k, key);
      key = V::blend(beating, key, V::blend(beaten, k, smaller));
      best = V::blend(beaten, v, best);
    }
    V::store(a.out + u, key);
  }
}

// poolColumnsRows for each of a block's output rows in one call (a call a row, 112 floats wide,
// cost a 3x3 stride-2 max pooling as much again as its loop).
template <class V, int Kind>
void poolColumns(const float* const* rows, const int64_t* firstRow, int64_t count, int64_t n, float* out,
                 int64_t outPitch) {
  for (int64_t r = 0; r < count; ++r, out += outPitch) {
    const float* const* window = rows + (firstRow[r] - firstRow[0]);
    const int64_t rowCount = firstRow[r + 1] - firstRow[r];
    switch (rowCount) {
      case 2: poolColumnsRows<V, Kind, 2>(window, rowCount, n, out); break;
      case 3: poolColumnsRows<V, Kind, 3>(window, rowCount, n, out); break;
      case 4: poolColumnsRows<V, Kind, 4>(window, rowCount, n, out); break;
      default: poolColumnsRows<V, Kind, 0>(window, rowCount, n, out); break;
    }
  }
}

// dst[r * dstStride + i] = src[r * srcStride + i] * (rowScale[r] * scale[i]) for r < rows,
// i < n: window sums to averages, a block of rows a call.
template <class V>
void scaleRows(float* dst, int64_t dstStride, const float* src, int64_t srcStride, int64_t rows, int64_t n,
               const float* scale, const float* rowScale) {
  constexpr int L = V::lanes;
  for (int64_t r = 0; r < rows; ++r, dst += dstStride, src += srcStride) {
    const float s = rowScale[r];
    const typename V::reg sv = V::set1(s);
    int64_t i = 0;
    for (; i + L <= n; i += L) V::store(dst + i, V::mul(V::load(src + i), V::mul(sv, V::load(scale + i))));
    for (; i < n; ++i) dst[i] = src[i] * (s * scale[i]);
  }
}

// dst[r * dstStride + i] = src[r * srcStride + i] + b for r < rows, i < n: accumulators to the
// output with the bias added. The drivers are compiled for the baseline ISA; on a small layer
// this copy is a tenth of the call, and a call per row would cost as much again.
template <class V>
void addScalar(float* dst, int64_t dstStride, const float* src, int64_t srcStride, int64_t rows, int64_t n, float b) {
  constexpr int L = V::lanes;
  const typename V::reg bv = V::set1(b);
  for (int64_t r = 0; r < rows; ++r, dst += dstStride, src += srcStride) {
    int64_t i = 0;
    for (; i + 2 * L <= n; i += 2 * L) {
      V::store(dst + i, V::add(V::load(src + i), bv));
      V::store(dst + i + L, V::add(V::load(src + i + L), bv));
    }
    for (; i + L <= n; i += L) V::store(dst + i, V::add(V::load(src + i), bv));
    for (; i < n; ++i) dst[i] = src[i] + b;
  }
}

// addScalar into every second float of dst (KernelTable::addScalarStep2), the portable way.
// A template on V, as everything here, so that each ISA's copy keeps internal linkage.
template <class V>
void addScalarStep2(float* dst, int64_t dstStride, const float* src, int64_t srcStride, int64_t rows, int64_t n,
                    float b) {
  for (int64_t r = 0; r < rows; ++r, dst += dstStride, src += srcStride)
    for (int64_t i = 0; i < n; ++i) dst[2 * i] = src[i] + b;
}

// dst[step * u] += v[u] for u < n: one tap of an average pooling's gradient spread along a row.
// The portable version; AVX2 supplies its own at step 2.
template <class V>
void addStrided(float* dst, const float* v, int64_t n, int64_t step) {
  constexpr int L = V::lanes;
  int64_t u = 0;
  if (step == 1)
    for (; u + L <= n; u += L) V::store(dst + u, V::add(V::load(dst + u), V::load(v + u)));
  for (; u < n; ++u) dst[step * u] += v[u];
}

// dst[r * dstStride + i] = src[r * srcStride + i] for r < rows, i < n: a block of short rows in
// one call (a library call a row cost max pooling 8% of its time).
template <class V>
void copyRows(float* dst, int64_t dstStride, const float* src, int64_t srcStride, int64_t rows, int64_t n) {
  constexpr int L = V::lanes;
  for (int64_t r = 0; r < rows; ++r, dst += dstStride, src += srcStride) {
    int64_t i = 0;
    for (; i + 2 * L <= n; i += 2 * L) {
      V::store(dst + i, V::load(src + i));
      V::store(dst + i + L, V::load(src + i + L));
    }
    for (; i + L <= n; i += L) V::store(dst + i, V::load(src + i));
    for (; i < n; ++i) dst[i] = src[i];
  }
}

template <class V, int MK>
BroadcastTileKernel makeBroadcastTile() {
  static_assert(kMaxBroadcastVectors == 3, "one instance per register count");
  BroadcastTileKernel k;
  k.mk = MK;
  k.fn[1] = &broadcastTile<V, MK, 1>;
  k.fn[2] = &broadcastTile<V, MK, 2>;
  k.fn[3] = &broadcastTile<V, MK, 3>;
  k.strided[1] = &broadcastTileStrided<V, MK, 1>;
  k.strided[2] = &broadcastTileStrided<V, MK, 2>;
  k.strided[3] = &broadcastTileStrided<V, MK, 3>;
  k.withLast[1] = &broadcastTileWithLast<V, MK, 1>;
  k.withLast[2] = &broadcastTileWithLast<V, MK, 2>;
  k.withLast[3] = &broadcastTileWithLast<V, MK, 3>;
  k.dotColumns = 8;
  k.dotLanes = V::lanes;
  k.dot = &weightDotTile<V, 1, 8>;
  k.dotSingle = &weightDotTile<V, 1, 1>;
  return k;
}

// Builds an ISA's table from its vector type and register-blocking choices.
template <class V, int WideMR, int WideNV, int NarrowNV, int GradNC, int GradNK, int PoolNV, int ChannelNK,
          int ChannelNP, bool AdjacentTaps = false>
KernelTable makeKernelTable(const char* isa, void (*copyStride2)(float*, const float*, int64_t)) {
  KernelTable t;
  t.copyStride2 = copyStride2;
  t.isa = isa;
  t.gemmWide = {WideMR, WideNV * V::lanes, &gemmTile<V, WideMR, WideNV>};
  t.gemmTail = {WideMR, V::lanes, &gemmTile<V, WideMR, 1>};
  t.gemmNarrow = {1, NarrowNV * V::lanes, &gemmTile<V, 1, NarrowNV>};
  t.gemmQuad = {4, WideNV * V::lanes, &gemmTile<V, 4, WideNV>};
  t.gemmQuadTail = {4, V::lanes, &gemmTile<V, 4, 1>};
  t.gemmTriple = {3, 3 * V::lanes, &gemmTile<V, 3, 3>};
  t.gemmTripleTail = {3, V::lanes, &gemmTile<V, 3, 1>};
  t.gemmOctet = t.gemmOctetTail = {0, 0, nullptr};
  t.channelTile = makeChannelTile<V, ChannelNK, ChannelNP, AdjacentTaps>();
  t.channelInPlaceWeightBytes = 18 * 1024;
  t.transposeOut = &transposeOut<V>;
  t.packSpans = nullptr;
  t.gatherTaps = nullptr;
  t.gatherPlane = nullptr;
  t.weightGrad = {GradNC, GradNK * V::lanes, &weightGradTile<V, GradNC, GradNK>};
  t.weightGradNarrow = {0, 0, nullptr};
  t.weightGradWide = {0, 0, nullptr};
  t.weightDotColumns = 8;
  t.lanes = V::lanes;
  t.weightDotLanes = V::lanes;
  t.weightDot = &weightDotTile<V, 1, 8>;
  t.weightDotSingle = &weightDotTile<V, 1, 1>;
  t.weightDotBlockChannels = 4;
  t.weightDotBlockColumns = 3;
  t.weightDotBlock = &weightDotTile<V, 4, 3>;
  t.poolTileWidth = PoolNV * V::lanes;
  t.maxPool = &extremePoolTile<V, true, PoolNV>;
  t.minPool = &extremePoolTile<V, false, PoolNV>;
  t.sumPool = &sumPoolTile<V, PoolNV>;
  t.poolRows[0][0] = &poolRowsTile<V, 0, 1>;
  t.poolRows[0][1] = &poolRowsTile<V, 0, 2>;
  t.poolRows[1][0] = &poolRowsTile<V, 1, 1>;
  t.poolRows[1][1] = &poolRowsTile<V, 1, 2>;
  t.poolRows[2][0] = &poolRowsTile<V, 2, 1>;
  t.poolRows[2][1] = &poolRowsTile<V, 2, 2>;
  t.poolColumns[0] = &poolColumns<V, 0>;
  t.poolColumns[1] = &poolColumns<V, 1>;
  t.poolColumns[2] = &poolColumns<V, 2>;
  t.poolColumnsArg[0] = &poolColumnsArg<V, true>;
  t.poolColumnsArg[1] = &poolColumnsArg<V, false>;
  t.poolRowsArg[0][0] = &poolRowsArg<V, true, 1>;
  t.poolRowsArg[0][1] = &poolRowsArg<V, true, 2>;
  t.poolRowsArg[1][0] = &poolRowsArg<V, false, 1>;
  t.poolRowsArg[1][1] = &poolRowsArg<V, false, 2>;
  t.addScalar = &addScalar<V>;
  t.addScalarStep2 = &addScalarStep2<V>;
  t.scaleRows = &scaleRows<V>;
  t.copyRows = &copyRows<V>;
  t.addStrided = &addStrided<V>;
  t.fmaFlopsPerIteration = 2 * kFmaChains * V::lanes;
  t.fmaPeakLoop = &fmaPeakLoop<V>;
  return t;
}

}  // namespace tiles
}  // namespace convnd
