#include "windowed_gemm.h"

#include <algorithm>
#include <memory>
#include <vector>
#include "row_buffer.h"
#include "row_cache.h"
#include "thread_pool.h"
#include "tiling.h"

namespace convnd {

namespace {

// Packs weights as [group][k block][c][jd][jh][jw][MR], zero for channels past outPerGroup,
// the order in which the tile kernel consumes them.
std::vector<float> packWeights(const WindowedGemm& p, int mr) {
  const int64_t tD = p.axes[0].taps(), tH = p.axes[1].taps(), tW = p.axes[2].taps();
  const int64_t kPadded = roundUp(p.outPerGroup, mr);
  const int64_t perBlock = p.inPerGroup * tD * tH * tW * mr;
  std::vector<float> packed(static_cast<size_t>(p.groups * (kPadded / mr) * perBlock), 0.0f);
  const WeightStrides& s = p.weightStrides;
  // Offsets of each tap in the source layout, computed once.
  std::vector<int64_t> tapOffset;
  for (int64_t jd = 0; jd < tD; ++jd)
    for (int64_t jh = 0; jh < tH; ++jh)
      for (int64_t jw = 0; jw < tW; ++jw)
        tapOffset.push_back(p.axes[0].weightIndex[jd] * s.axis[0] + p.axes[1].weightIndex[jh] * s.axis[1] +
                            p.axes[2].weightIndex[jw] * s.axis[2]);
  float* dst = packed.data();
  for (int64_t g = 0; g < p.groups; ++g)
    for (int64_t kb = 0; kb < kPadded; kb += mr) {
      const int64_t rows = std::min<int64_t>(mr, p.outPerGroup - kb);
      for (int64_t c = 0; c < p.inPerGroup; ++c) {
        const float* base = p.weights + g * s.group + c * s.inChannel + kb * s.outChannel;
        for (int64_t tap : tapOffset) {
          for (int64_t m = 0; m < rows; ++m) dst[m] = base[tap + m * s.outChannel];
          dst += mr;
        }
      }
    }
  return packed;
}

}  // namespace

void runWindowedGemm(const KernelTable& kernels, const WindowedGemm& p) {
  const AxisMap &ad = p.axes[0], &ah = p.axes[1], &aw = p.axes[2];
  if (ad.count == 0 || ah.count == 0 || aw.count == 0) return;
  // Few output channels per group (depthwise) would waste most of a wide tile's rows.
  const GemmKernel& kernel =
      p.outPerGroup * 2 < kernels.gemmWide.mr ? kernels.gemmNarrow : kernels.gemmWide;
  const int mr = kernel.mr;
  const int64_t T = kernel.tileWidth;
  // Same channels, fewer positions: for a row's last tile when it is short.
  const GemmKernel& tail = &kernel == &kernels.gemmWide ? kernels.gemmTail : kernel;
  // A task covers several register tiles of one output row, so that one fill of the row
  // buffer serves them all and every output-channel block.
  const int64_t tilesPerRow = (aw.count + T - 1) / T;
  const int64_t tilesPerTask = std::min<int64_t>(tilesPerRow, std::max<int64_t>(1, kTaskWidth / T));
  const int64_t span = tilesPerTask * T;
  const int64_t kPadded = roundUp(p.outPerGroup, mr);
  const int64_t tD = ad.taps(), tH = ah.taps(), tW = aw.taps();
  const RowLayout layout = makeRowLayout(aw, span, kernels);
  const std::vector<float> packed = packWeights(p, mr);
  const int64_t blockFloats = p.inPerGroup * tD * tH * tW * mr;
  const int64_t rowsPerChannel = tD * tH;
  // Channel chunk: the rows one register tile reads (about T + halo floats each) stay in L1
  // while every output-channel block passes over them.
  const int64_t tileRowFloats = layout.rowLength - span + T;
  const int64_t channelChunk =
      std::max<int64_t>(1, kTileRowsFloats / std::max<int64_t>(1, rowsPerChannel * tileRowFloats));

  const int64_t inVolume = ad.inSize * ah.inSize * aw.inSize;
  const int64_t outVolume = p.outExtent[0] * p.outExtent[1] * p.outExtent[2];
  const int64_t chunksPerRow = (tilesPerRow + tilesPerTask - 1) / tilesPerTask;
  ThreadPool& pool = ThreadPool::instance();
  const int64_t rowWork = std::max<int64_t>(1, kPadded * p.inPerGroup * tD * tH * tW * span);
  const int64_t rowCount = p.batch * p.groups * ad.count * ah.count * chunksPerRow;
  // Each task is a contiguous run of rows, about 4 a thread: consecutive rows share input
  // rows through the row cache, and a few tasks a thread still balance the load.
  const int64_t rowsPerTask = std::max<int64_t>(
      {int64_t(1), (kTaskWork + rowWork - 1) / rowWork, rowCount / (4 * pool.threads())});
  const int64_t tasks = (rowCount + rowsPerTask - 1) / rowsPerTask;

  struct Workspace {
    std::unique_ptr<RowCache> rows;
    std::vector<float> acc;
  };
  std::vector<Workspace> spaces(static_cast<size_t>(pool.threads()));

  // Where output channel k (of group g) of output row (n, td, th) starts, at position 0.
  auto outputRow = [&](int64_t n, int64_t g, int64_t td, int64_t th, int64_t k) {
    const int64_t od = ad.outStart + ad.outStep * td, oh = ah.outStart + ah.outStep * th;
    return p.output + (n * p.groups * p.outPerGroup + g * p.outPerGroup + k) * outVolume +
           (od * p.outExtent[1] + oh) * p.outExtent[2] + aw.outStart;
  };
  // A register tile whose positions are contiguous and all valid, and whose channels all
  // exist, is written straight into the output (bias included): no copy through `acc`.
  auto direct = [&](int64_t u0, int64_t kb) {
    return aw.outStep == 1 && u0 + T <= aw.count && kb + mr <= p.outPerGroup;
  };
  // Bias per group padded to kPadded, as the kernels read it (MR values a tile).
  std::vector<float> biasPadded;
  if (p.bias) {
    biasPadded.assign(static_cast<size_t>(p.groups * kPadded), 0.0f);
    for (int64_t g = 0; g < p.groups; ++g)
      std::copy(p.bias + g * p.outPerGroup, p.bias + (g + 1) * p.outPerGroup, biasPadded.begin() + g * kPadded);
  }

  // One output row (or one chunk of a long row) of one group and batch item.
  auto runRow = [&](Workspace& ws, int64_t rowIndex) {
    // Consecutive indices walk down the rows of one column chunk, so that the row cache of
    // a task sees the rows it shares with the previous output row.
    int64_t rest = rowIndex;
    const int64_t th = rest % ah.count; rest /= ah.count;
    const int64_t chunk = rest % chunksPerRow; rest /= chunksPerRow;
    const int64_t td = rest % ad.count; rest /= ad.count;
    const int64_t g = rest % p.groups;
    const int64_t n = rest / p.groups;
    const int64_t t0 = chunk * span;
    const int64_t tiles = std::min(tilesPerTask, (aw.count - t0 + T - 1) / T);

    const float* inGroup = p.input + (n * p.groups + g) * p.inPerGroup * inVolume;
    GemmTileArgs args;
    args.tapOffsets = layout.tapOffset.data();
    args.taps = static_cast<int32_t>(tW);

    bool first = true;
    for (int64_t c0 = 0; c0 < p.inPerGroup || first; c0 += channelChunk) {
      const int64_t cEnd = std::min(p.inPerGroup, c0 + channelChunk);
      args.rows = ws.rows->window(n * p.groups + g, c0, cEnd, td, th, t0,
                                  [&](int64_t c) { return inGroup + c * inVolume; });
      args.rowCount = (cEnd - c0) * rowsPerChannel;
      args.accumulate = !first;
      for (int64_t tile = 0; tile < tiles; ++tile) {
        args.rowOffset = tile * T;
        const bool shortTail = aw.count - (t0 + tile * T) <= tail.tileWidth;
        const GemmTileFn fn = shortTail ? tail.fn : kernel.fn;
        for (int64_t kb = 0; kb < kPadded; kb += mr) {
          args.weights = packed.data() + (g * kPadded + kb) / mr * blockFloats +
                         c0 * rowsPerChannel * tW * mr;
          if (direct(t0 + tile * T, kb)) {
            args.out = outputRow(n, g, td, th, kb) + t0 + tile * T;
            args.outStride = outVolume;
            args.bias = biasPadded.empty() ? nullptr : biasPadded.data() + g * kPadded + kb;
          } else {
            args.out = ws.acc.data() + (tile * kPadded + kb) * T;
            args.outStride = T;
            args.bias = nullptr;  // the scatter below adds it
          }
          fn(args);
        }
      }
      first = false;
    }

    // Scatter the other tiles to their (possibly strided) output positions, adding the bias.
    for (int64_t k = 0; k < p.outPerGroup; ++k) {
      const float b = p.bias ? p.bias[g * p.outPerGroup + k] : 0.0f;
      float* dstRow = outputRow(n, g, td, th, k);
      for (int64_t tile = 0; tile < tiles; ++tile) {
        const int64_t u0 = t0 + tile * T;
        if (direct(u0, k / mr * mr)) continue;
        const int64_t valid = std::min(T, aw.count - u0);
        const float* __restrict src = ws.acc.data() + (tile * kPadded + k) * T;
        float* __restrict dst = dstRow + aw.outStep * u0;
        if (aw.outStep == 1) {
          for (int64_t u = 0; u < valid; ++u) dst[u] = src[u] + b;  // vectorised: no aliasing
        } else {
          for (int64_t u = 0; u < valid; ++u) dst[u * aw.outStep] = src[u] + b;
        }
      }
    }
  };

  const int64_t totalWork = rowWork * rowCount;
  pool.parallelFor(tasks, [&](int64_t task, int worker) {
    Workspace& ws = spaces[static_cast<size_t>(worker)];
    if (!ws.rows) {
      ws.rows = std::make_unique<RowCache>(ad, ah, aw, layout, p.inPerGroup, std::min(channelChunk, p.inPerGroup), 0.0f);
      ws.acc.assign(static_cast<size_t>(tilesPerTask * kPadded * T), 0.0f);
    }
    const int64_t end = std::min(rowCount, (task + 1) * rowsPerTask);
    for (int64_t row = task * rowsPerTask; row < end; ++row) runRow(ws, row);
  }, totalWork);
}

}  // namespace convnd