// Max, min and average pooling, forward and backward, on the same row buffers as convolution.
// Backward passes are separable too: max/min find each window's winning cell from a row of
// column extremes, average spreads each output's share along its row and sums those rows.
#include <algorithm>
#include <memory>
#include <cmath>
#include <vector>
#include "axis_map.h"
#include "ops.h"
#include "row_buffer.h"
#include "row_cache.h"
#include "thread_pool.h"
#include "tiling.h"

namespace convnd {

namespace {

struct PoolAxes {
  AxisMap axes[kAxes];
};

PoolAxes poolAxes(const PoolDesc& d) {
  PoolAxes p;
  for (int a = 0; a < kAxes; ++a)
    p.axes[a] = forwardAxis(d.in[a], d.kernel[a], d.stride[a], d.dilation[a], d.padBefore[a], d.out[a]);
  return p;
}

// Per axis and output position: how many taps count towards the average. With
// countIncludePad, taps inside the padded extent [-padBefore, in + padAfter) (PyTorch clips
// windows that ceil mode lets run past it); otherwise taps inside the input.
std::vector<double> divisors(const PoolDesc& d, int a) {
  std::vector<double> out(static_cast<size_t>(d.out[a]));
  const int64_t lo = d.countIncludePad ? -d.padBefore[a] : 0;
  const int64_t hi = d.countIncludePad ? d.in[a] + d.padAfter[a] : d.in[a];
  for (int64_t o = 0; o < d.out[a]; ++o) {
    int64_t count = 0;
    const int64_t start = o * d.stride[a] - d.padBefore[a];
    for (int64_t r = 0; r < d.kernel[a]; ++r) {
      const int64_t i = start + r * d.dilation[a];
      count += i >= lo && i < hi;
    }
    out[static_cast<size_t>(o)] = static_cast<double>(count);
  }
  return out;
}

// Runs the pooling tile kernel over every (plane, od, oh, tile) and hands each finished tile
// to `finish(plane, od, oh, t0, valid, values, argTaps)`.
template <class Finish>
void forEachPoolTile(const KernelTable& k, const PoolDesc& d, const PoolAxes& pa, const float* x,
                     bool wantArg, Finish finish) {
  const AxisMap &ad = pa.axes[0], &ah = pa.axes[1], &aw = pa.axes[2];
  const int64_t T = k.poolTileWidth;
  // One fill of the row buffer serves a whole output row (up to kTaskWidth positions).
  const int64_t span = std::min(roundUp(aw.count, T), roundUp(kTaskWidth, T));
  const RowLayout layout = makeRowLayout(aw, span, k);
  const int64_t rowsPerTile = ad.taps() * ah.taps();
  const float fill = d.kind == PoolKind::Max ? -INFINITY : d.kind == PoolKind::Min ? INFINITY : 0.0f;
  const PoolTileFn fn = d.kind == PoolKind::Max ? k.maxPool : d.kind == PoolKind::Min ? k.minPool : k.sumPool;
  const int64_t chunks = (aw.count + span - 1) / span;
  const int64_t inVolume = d.inVolume();
  ThreadPool& pool = ThreadPool::instance();
  struct alignas(64) Workspace {  // on its own cache lines, as in poolForwardDirect
    std::unique_ptr<RowCache> rows;
    std::vector<float> values;
    std::vector<int32_t> arg;
  };
  std::vector<Workspace> spaces(static_cast<size_t>(pool.threads()));
  // One task a plane keeps every write of a plane (forward or backward) on one thread.
  pool.parallelFor(d.planes, [&](int64_t plane, int worker) {
    Workspace& ws = spaces[static_cast<size_t>(worker)];
    if (!ws.rows) {
      ws.rows = std::make_unique<RowCache>(ad, ah, aw, layout, 1, 1, fill);
      ws.values.assign(static_cast<size_t>(T), 0.0f);
      ws.arg.assign(static_cast<size_t>(T), -1);
    }
    const float* xPlane = x + plane * inVolume;
    PoolTileArgs args;
    args.rowCount = rowsPerTile;
    args.tapOffsets = layout.tapOffset.data();
    args.taps = static_cast<int32_t>(aw.taps());
    args.out = ws.values.data();
    args.argTap = wantArg ? ws.arg.data() : nullptr;
    for (int64_t chunk = 0; chunk < chunks; ++chunk)
      for (int64_t td = 0; td < ad.count; ++td)
        for (int64_t th = 0; th < ah.count; ++th) {
          const int64_t c0 = chunk * span;
          args.rows = ws.rows->window(plane, 0, 1, td, th, c0, [&](int64_t) { return xPlane; });
          for (int64_t t0 = c0; t0 < std::min(aw.count, c0 + span); t0 += T) {
            args.rowOffset = t0 - c0;
            fn(args);
            finish(plane, td, th, t0, std::min(T, aw.count - t0), ws.values.data(), ws.arg.data());
          }
        }
  }, d.yLength() * ad.taps() * ah.taps() * aw.taps());
}

}  // namespace

namespace {

// The input rows each output row's window covers, in window (row-major) order, as offsets in
// a plane: output row r (over D x H) covers offsets[first[r]] up to offsets[first[r + 1]].
// Rows in the padding are left out.
struct WindowRows {
  std::vector<int64_t> offsets, first{0};
};

WindowRows windowRows(const PoolDesc& d) {
  WindowRows w;
  for (int64_t od = 0; od < d.out[0]; ++od)
    for (int64_t oh = 0; oh < d.out[1]; ++oh) {
      for (int64_t kd = 0; kd < d.kernel[0]; ++kd)
        for (int64_t kh = 0; kh < d.kernel[1]; ++kh) {
          const int64_t id = od * d.stride[0] + kd * d.dilation[0] - d.padBefore[0];
          const int64_t ih = oh * d.stride[1] + kh * d.dilation[1] - d.padBefore[1];
          if (id >= 0 && id < d.in[0] && ih >= 0 && ih < d.in[1]) w.offsets.push_back((id * d.in[1] + ih) * d.in[2]);
        }
      w.first.push_back(static_cast<int64_t>(w.offsets.size()));
    }
  return w;
}

// Average pooling's divisors as reciprocals (multiplying: within 2e-7 of dividing, and
// vectorised): per position along the row, and per output row (over D x H).
struct AverageScales {
  std::vector<float> inverseW, rowScale;
};

AverageScales averageScales(const PoolDesc& d, const std::vector<double>* div) {
  AverageScales a;
  for (double count : div[2]) a.inverseW.push_back(static_cast<float>(1.0 / count));
  for (int64_t od = 0; od < d.out[0]; ++od)
    for (int64_t oh = 0; oh < d.out[1]; ++oh)
      a.rowScale.push_back(static_cast<float>(1.0 / (div[0][static_cast<size_t>(od)] * div[1][static_cast<size_t>(oh)])));
  return a;
}

// Forward pooling with stride 1 or 2 along the innermost axis, separably: per output row, the
// window's input rows are first reduced into one row (poolColumns, contiguous and vectorised),
// written between fill values that stand for the padding (-inf for max, +inf for min, 0 for
// sums, so padding never wins and adds nothing; a NaN still wins); then that row is reduced
// along its taps (poolRows). No edge cases remain, and a 3x3 window costs 3 + 3 reductions a
// position instead of 9. Averages divide by divisors() afterwards.
//
// Rows are short in typical layers (56 or 112 floats), so a call per row would cost as much
// as the arithmetic: each step takes a block of output rows a call. poolColumns reduces every
// window of the block; the reduced rows are laid out `pitch` apart (a multiple of the stride),
// and one poolRows call reduces the taps of the whole block as a single virtual row whose row r
// starts at output position r * pitch / stride; one call copies (or scales) the block's results
// into the output. The first and last steps a call per row made a 3x3 stride-2 max pooling over
// 64 x 112 x 112 about a fifth slower (C++, fastest of 1500 calls: 211-213 against 170-173 µs).
void poolForwardDirect(const KernelTable& k, const PoolDesc& d, const float* x, float* y,
                       const std::vector<double>* div) {
  const int kind = static_cast<int>(d.kind);
  const int64_t s = d.stride[2], W = d.in[2], outW = d.out[2];
  const PoolRowsFn reduceTaps = k.poolRows[kind][s - 1];
  const PoolColumnsFn reduceRows = k.poolColumns[kind];
  std::vector<int64_t> tapOffset;
  for (int64_t j = 0; j < d.kernel[2]; ++j) tapOffset.push_back(j * d.dilation[2]);
  // A row's taps read up to `reach` floats from its start; stride 2 loads one float past the
  // last tap. The pitch keeps every row's first output at a whole output position.
  const int64_t reach = (outW - 1) * s + tapOffset.back() + s;
  const int64_t pitch = roundUp(std::max(reach, d.padBefore[2] + W), s);
  const int64_t outPitch = pitch / s;
  const int64_t rowsOut = d.out[0] * d.out[1];
  // Rows a block holds: about kBlockFloats of reduced rows, which stay in L1/L2 between the
  // two passes.
  constexpr int64_t kBlockFloats = 8 * 1024;
  const int64_t blockRows = std::clamp<int64_t>(kBlockFloats / pitch, 1, rowsOut);
  // The taps kernel computes whole registers, reading up to a register of outputs past the
  // block (each reads s floats more).
  const int64_t blockOutputs = roundUp(blockRows * outPitch, k.lanes);
  const int64_t bufferFloats = blockOutputs * s + tapOffset.back() + s;
  // Per output row, computed once for every plane: which input rows its window covers and, for
  // averages, its scale. Working these out per plane and row (divisions, bounds checks, vector
  // pushes) was a fifth of the instructions of a 3x3 stride-2 max pooling.
  const WindowRows window = windowRows(d);
  const std::vector<int64_t>& rowOffsets = window.offsets;
  const std::vector<int64_t>& firstRow = window.first;
  const AverageScales scales = kind == 2 ? averageScales(d, div) : AverageScales{};
  const int64_t rowsPerWindow = d.kernel[0] * d.kernel[1];
  const float fill = kind == 0 ? -INFINITY : kind == 1 ? INFINITY : 0.0f;
  // Each thread's buffers on their own cache lines: a neighbour's writes to its vectors made
  // two threads slower than one.
  struct alignas(64) Workspace {
    std::vector<float> padded, reduced;
    std::vector<const float*> rows;  // the window rows of a block's output rows
  };
  ThreadPool& pool = ThreadPool::instance();
  std::vector<Workspace> spaces(static_cast<size_t>(pool.threads()));
  pool.parallelFor(d.planes, [&](int64_t plane, int worker) {
    const float* xPlane = x + plane * d.inVolume();
    float* yPlane = y + plane * d.outVolume();
    Workspace& ws = spaces[static_cast<size_t>(worker)];
    // Filled once: only each row's [padBefore, padBefore + W) is ever rewritten. Rows of a
    // short last block keep older rows' values, which only positions thrown away read.
    if (ws.padded.empty()) {
      ws.padded.assign(static_cast<size_t>(bufferFloats), fill);
      ws.reduced.assign(static_cast<size_t>(blockOutputs), 0.0f);
      ws.rows.resize(static_cast<size_t>(blockRows * rowsPerWindow));
    }
    const float** rows = ws.rows.data();
    float* const padded = ws.padded.data();
    const float* paddedRow = padded;
    PoolRowsArgs taps{&paddedRow, 1, tapOffset.data(), static_cast<int32_t>(tapOffset.size()), 0, ws.reduced.data()};
    for (int64_t row0 = 0; row0 < rowsOut; row0 += blockRows) {
      const int64_t count = std::min(blockRows, rowsOut - row0);
      const int64_t begin = firstRow[static_cast<size_t>(row0)], end = firstRow[static_cast<size_t>(row0 + count)];
      for (int64_t i = begin; i < end; ++i) rows[i - begin] = xPlane + rowOffsets[static_cast<size_t>(i)];
      reduceRows(rows, firstRow.data() + row0, count, W, padded + d.padBefore[2], pitch);
      taps.count = roundUp(count * outPitch, k.lanes);
      reduceTaps(taps);
      const float* src = ws.reduced.data();
      float* yRow = yPlane + row0 * outW;
      if (kind == 2)
        k.scaleRows(yRow, outW, src, outPitch, count, outW, scales.inverseW.data(), scales.rowScale.data() + row0);
      else
        k.copyRows(yRow, outW, src, outPitch, count, outW);
    }
  }, d.yLength() * d.kernel[0] * d.kernel[1] * d.kernel[2]);
}

// Max / min pooling backward with stride 1 or 2 along the innermost axis, separably as
// poolForwardDirect: per output row, the window's input rows are reduced to one row of
// extremes and the first row holding each (poolColumnsArg), written between padding cells that
// never win; then each output's taps over that row give its winning cell (poolRowsArg), which
// receives the output's gradient. The winner is the one extremePoolTile finds (the first cell
// in row-major window order holding the extreme; a NaN wins), so the gradients are the same.
// Returns false (nothing done) when a window has more than kMaxKeys keys (see below).
bool poolBackwardExtremeDirect(const KernelTable& k, const PoolDesc& d, const float* dy, const float* x, float* dx) {
  const int kind = static_cast<int>(d.kind);
  const int64_t s = d.stride[2], W = d.in[2], outW = d.out[2], padBefore = d.padBefore[2];
  std::vector<int64_t> tapOffset;
  for (int64_t j = 0; j < d.kernel[2]; ++j) tapOffset.push_back(j * d.dilation[2]);
  // A tap's key is its window row * 2^keyShift + its tap along the row (exact in a float, and
  // ordered as the window's cells): an index into a table of the cells of the output row's
  // window, rebuilt a row. Windows with more keys than kMaxKeys take the generic path.
  constexpr int64_t kMaxKeys = int64_t(1) << 16;
  int keyShift = 0;
  while ((int64_t(1) << keyShift) < d.kernel[2]) ++keyShift;
  if ((d.kernel[0] * d.kernel[1]) << keyShift > kMaxKeys) return false;
  const int64_t count = roundUp(outW, k.lanes);
  // The row pass reads up to s * count + the last tap's offset floats (stride 2 loads 2 lanes).
  const int64_t bufferFloats = std::max(s * count + tapOffset.back(), padBefore + W);
  const WindowRows window = windowRows(d);
  const float fill = kind == 0 ? -INFINITY : INFINITY;
  struct alignas(64) Workspace {  // on its own cache lines, as in poolForwardDirect
    std::vector<float> best, arg, keys;
    std::vector<const float*> rows;
    std::vector<int64_t> cell;
  };
  ThreadPool& pool = ThreadPool::instance();
  std::vector<Workspace> spaces(static_cast<size_t>(pool.threads()));
  pool.parallelFor(d.planes, [&](int64_t plane, int worker) {
    Workspace& ws = spaces[static_cast<size_t>(worker)];
    // Filled once: only [padBefore, padBefore + W) is ever rewritten. The padding's key
    // (row 2^30) is larger than any cell's.
    if (ws.best.empty()) {
      ws.best.assign(static_cast<size_t>(bufferFloats), fill);
      ws.arg.assign(static_cast<size_t>(bufferFloats), 1073741824.0f);
      ws.keys.resize(static_cast<size_t>(count));
      ws.rows.resize(static_cast<size_t>(d.kernel[0] * d.kernel[1]));
      ws.cell.resize(static_cast<size_t>((d.kernel[0] * d.kernel[1]) << keyShift));
    }
    const float* xPlane = x + plane * d.inVolume();
    float* dxPlane = dx + plane * d.inVolume();
    const float* dyRow = dy + plane * d.outVolume();
    PoolRowsArgArgs taps{ws.best.data(), ws.arg.data(), tapOffset.data(), static_cast<int32_t>(tapOffset.size()), count,
                         static_cast<float>(int64_t(1) << keyShift), ws.keys.data()};
    // dx is zeroed row by row just before the first window over each row scatters into it
    // (the window's last row is its furthest, and it never decreases from one output row to the
    // next), not all at once beforehand: 2x2x2 stride-2 backward 11% faster, 3x3 stride-2 6%.
    int64_t zeroed = 0;  // dx floats of the plane zeroed so far
    for (int64_t row = 0; row < d.out[0] * d.out[1]; ++row, dyRow += outW) {
      const int64_t* offsets = window.offsets.data() + window.first[static_cast<size_t>(row)];
      const int64_t rowCount = window.first[static_cast<size_t>(row + 1)] - window.first[static_cast<size_t>(row)];
      if (rowCount == 0) continue;  // never: checkPoolDesc rejects windows without input cells
      if (offsets[rowCount - 1] + W > zeroed) {
        std::fill(dxPlane + zeroed, dxPlane + offsets[rowCount - 1] + W, 0.0f);
        zeroed = offsets[rowCount - 1] + W;
      }
      for (int64_t r = 0; r < rowCount; ++r) ws.rows[static_cast<size_t>(r)] = xPlane + offsets[r];
      k.poolColumnsArg[kind](ws.rows.data(), rowCount, W, ws.best.data() + padBefore, ws.arg.data() + padBefore);
      k.poolRowsArg[kind][s - 1](taps);
      // Each (window row, tap) key's cell, less the output's own offset u * s.
      for (int64_t r = 0; r < rowCount; ++r)
        for (size_t j = 0; j < tapOffset.size(); ++j)
          ws.cell[static_cast<size_t>((r << keyShift) + j)] = offsets[r] + tapOffset[j] - padBefore;
      const int64_t* cell = ws.cell.data();
      const float* keys = ws.keys.data();
      for (int64_t u = 0; u < outW; ++u) dxPlane[cell[static_cast<int32_t>(keys[u])] + u * s] += dyRow[u];
    }
    std::fill(dxPlane + zeroed, dxPlane + d.inVolume(), 0.0f);
  }, d.yLength() * d.kernel[0] * d.kernel[1] * d.kernel[2]);
  return true;
}

// Average pooling backward, separably: input row i of dx is the sum, over the output rows
// whose windows cover it, of that output row spread along the innermost axis (each output's
// gradient over its window's taps, divided by its divisor). Per block of input rows, the
// output rows they need are spread into a buffer once, then poolColumns (sum) adds each input
// row's list of them straight into dx, writing every row of dx once.
void poolBackwardAverageDirect(const KernelTable& k, const PoolDesc& d, const float* dy, float* dx,
                               const std::vector<double>* div) {
  const int64_t s = d.stride[2], W = d.in[2], outW = d.out[2];
  const int64_t inRows = d.in[0] * d.in[1], outRows = d.out[0] * d.out[1];
  // Per input row, the output rows covering it, ascending (first[i] to first[i + 1] in list).
  const WindowRows window = windowRows(d);
  std::vector<int64_t> first(static_cast<size_t>(inRows + 1), 0), list(window.offsets.size());
  for (int64_t offset : window.offsets) ++first[static_cast<size_t>(offset / W + 1)];
  for (int64_t i = 0; i < inRows; ++i) first[static_cast<size_t>(i + 1)] += first[static_cast<size_t>(i)];
  {
    std::vector<int64_t> next(first.begin(), first.end() - 1);
    for (int64_t o = 0; o < outRows; ++o)
      for (int64_t e = window.first[static_cast<size_t>(o)]; e < window.first[static_cast<size_t>(o + 1)]; ++e)
        list[static_cast<size_t>(next[static_cast<size_t>(window.offsets[static_cast<size_t>(e)] / W)]++)] = o;
  }
  // Blocks of input rows whose output rows [lo, hi) spread into about kBlockFloats, at least
  // one input row a block.
  constexpr int64_t kBlockFloats = 16 * 1024;
  struct Block {
    int64_t begin, end, lo, hi;
  };
  std::vector<Block> blocks;
  int64_t widest = 1, longestList = 1;  // the most output rows, and list entries, of a block
  for (int64_t i = 0; i < inRows;) {
    Block b{i, i, outRows, 0};
    while (b.end < inRows) {
      int64_t lo = b.lo, hi = b.hi;
      for (int64_t e = first[static_cast<size_t>(b.end)]; e < first[static_cast<size_t>(b.end + 1)]; ++e) {
        lo = std::min(lo, list[static_cast<size_t>(e)]);
        hi = std::max(hi, list[static_cast<size_t>(e)] + 1);
      }
      if (b.end > b.begin && (hi - lo) * W > kBlockFloats) break;
      b.lo = lo;
      b.hi = hi;
      ++b.end;
    }
    if (b.hi <= b.lo) b.lo = b.hi = 0;  // rows no window covers: dx is zero there
    widest = std::max(widest, b.hi - b.lo);
    longestList = std::max(longestList, first[static_cast<size_t>(b.end)] - first[static_cast<size_t>(b.begin)]);
    blocks.push_back(b);
    i = b.end;
  }
  // Each output's gradient is scaled by the reciprocals of its divisors, as in the forward,
  // then spread tap by tap: tap j of positions [u0, u1) lands inside the row, at
  // s * u + j * dilation - padBefore.
  const AverageScales scales = averageScales(d, div);
  struct TapRun {
    int64_t offset, u0, u1;
  };
  std::vector<TapRun> runs;
  for (int64_t j = 0; j < d.kernel[2]; ++j) {
    const int64_t offset = j * d.dilation[2] - d.padBefore[2];
    const int64_t u0 = offset >= 0 ? 0 : (-offset + s - 1) / s;
    const int64_t u1 = offset >= W ? 0 : std::min(outW, (W - 1 - offset) / s + 1);
    if (u1 > u0) runs.push_back({offset, u0, u1});
  }
  struct alignas(64) Workspace {  // on its own cache lines, as in poolForwardDirect
    std::vector<float> scaled, spread;
    std::vector<const float*> rows;
  };
  ThreadPool& pool = ThreadPool::instance();
  std::vector<Workspace> spaces(static_cast<size_t>(pool.threads()));
  const PoolColumnsFn sumRows = k.poolColumns[2];
  pool.parallelFor(d.planes, [&](int64_t plane, int worker) {
    Workspace& ws = spaces[static_cast<size_t>(worker)];
    if (ws.spread.empty()) {
      ws.scaled.resize(static_cast<size_t>(widest * outW));
      ws.spread.resize(static_cast<size_t>(widest * W));
      ws.rows.resize(static_cast<size_t>(longestList));
    }
    const float* dyPlane = dy + plane * d.outVolume();
    float* dxPlane = dx + plane * d.inVolume();
    for (const Block& b : blocks) {
      k.scaleRows(ws.scaled.data(), outW, dyPlane + b.lo * outW, outW, b.hi - b.lo, outW, scales.inverseW.data(),
                  scales.rowScale.data() + b.lo);
      std::fill(ws.spread.begin(), ws.spread.begin() + (b.hi - b.lo) * W, 0.0f);
      for (int64_t o = b.lo; o < b.hi; ++o) {
        float* row = ws.spread.data() + (o - b.lo) * W;
        const float* v = ws.scaled.data() + (o - b.lo) * outW;
        for (const TapRun& t : runs) k.addStrided(row + s * t.u0 + t.offset, v + t.u0, t.u1 - t.u0, s);
      }
      const int64_t e0 = first[static_cast<size_t>(b.begin)], e1 = first[static_cast<size_t>(b.end)];
      for (int64_t e = e0; e < e1; ++e)
        ws.rows[static_cast<size_t>(e - e0)] = ws.spread.data() + (list[static_cast<size_t>(e)] - b.lo) * W;
      sumRows(ws.rows.data(), first.data() + b.begin, b.end - b.begin, W, dxPlane + b.begin * W, W);
    }
  }, d.xLength() + d.yLength() * d.kernel[0] * d.kernel[1] * d.kernel[2]);
}

}  // namespace

void poolForward(const KernelTable& k, const PoolDesc& d, const float* x, float* y) {
  std::vector<double> div[kAxes];
  if (d.kind == PoolKind::Avg)
    for (int a = 0; a < kAxes; ++a) div[a] = divisors(d, a);
  if (d.stride[2] <= 2) {
    poolForwardDirect(k, d, x, y, div);
    return;
  }
  const PoolAxes pa = poolAxes(d);
  const int64_t outVolume = d.outVolume();
  forEachPoolTile(k, d, pa, x, false,
                  [&](int64_t plane, int64_t od, int64_t oh, int64_t t0, int64_t valid,
                      const float* values, const int32_t*) {
    float* dst = y + plane * outVolume + (od * d.out[1] + oh) * d.out[2] + t0;
    if (d.kind != PoolKind::Avg) {
      std::copy(values, values + valid, dst);
      return;
    }
    const double dh = div[0][static_cast<size_t>(od)] * div[1][static_cast<size_t>(oh)];
    for (int64_t u = 0; u < valid; ++u)
      dst[u] = static_cast<float>(values[u] / (dh * div[2][static_cast<size_t>(t0 + u)]));
  });
}

void poolBackward(const KernelTable& k, const PoolDesc& d, const float* dy, const float* x, float* dx) {
  if (d.kind == PoolKind::Avg) {
    std::vector<double> div[kAxes];
    for (int a = 0; a < kAxes; ++a) div[a] = divisors(d, a);
    poolBackwardAverageDirect(k, d, dy, dx, div);
    return;
  }
  if (d.stride[2] <= 2 && poolBackwardExtremeDirect(k, d, dy, x, dx)) return;
  const PoolAxes pa = poolAxes(d);
  const int64_t inVolume = d.inVolume(), outVolume = d.outVolume();
  // Wider strides: each window's winning tap from the tiled forward kernel (argTap).
  std::fill(dx, dx + d.xLength(), 0.0f);
  const int64_t tH = pa.axes[1].taps(), tW = pa.axes[2].taps();
  // Where tap (jd * tH + jh) * tW + jw of a window lies from the window's first cell, in the
  // plane: a lookup a gradient, where decoding the tap and each axis' position took three
  // divisions and most of the call (3.5 ms for a 3x3 stride-2 max pooling over 64x112x112,
  // 20 times its forward).
  std::vector<int64_t> tapCell;
  for (int64_t jd = 0; jd < pa.axes[0].taps(); ++jd)
    for (int64_t jh = 0; jh < tH; ++jh)
      for (int64_t jw = 0; jw < tW; ++jw)
        tapCell.push_back((jd * d.dilation[0] * d.in[1] + jh * d.dilation[1]) * d.in[2] + jw * d.dilation[2]);
  forEachPoolTile(k, d, pa, x, true,
                  [&](int64_t plane, int64_t od, int64_t oh, int64_t t0, int64_t valid,
                      const float*, const int32_t* arg) {
    const float* g = dy + plane * outVolume + (od * d.out[1] + oh) * d.out[2] + t0;
    float* dxPlane = dx + plane * inVolume;
    const int64_t startD = od * d.stride[0] - d.padBefore[0], startH = oh * d.stride[1] - d.padBefore[1];
    // The first cell of the window of position t0 (outside the plane when it starts in the
    // padding: only taps inside it ever win).
    const int64_t first = (startD * d.in[1] + startH) * d.in[2] + t0 * d.stride[2] - d.padBefore[2];
    for (int64_t u = 0; u < valid; ++u) {
      if (arg[u] >= 0) {
        dxPlane[first + u * d.stride[2] + tapCell[static_cast<size_t>(arg[u])]] += g[u];
        continue;
      }
      // Every cell was -inf (+inf for min): PyTorch routes to the window's first input cell.
      const int64_t o[kAxes] = {od, oh, t0 + u};
      int64_t idx = 0;
      for (int a = 0; a < kAxes; ++a) {
        const int64_t start = o[a] * d.stride[a] - d.padBefore[a];
        idx = idx * d.in[a] + start + firstTapInside(start, d.kernel[a], d.dilation[a], d.in[a]) * d.dilation[a];
      }
      dxPlane[idx] += g[u];
    }
  });
}

}  // namespace convnd
