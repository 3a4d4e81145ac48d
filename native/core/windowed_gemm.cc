#include "windowed_gemm.h"

#include <algorithm>
#include <memory>
#include <vector>
#include "band_gemm.h"
#include "channel_gemm.h"
#include "gemm_plan.h"
#include "plane_row_order.h"
#include "row_buffer.h"
#include "row_cache.h"
#include "thread_pool.h"
#include "tiling.h"
#include "weight_broadcast_gemm.h"

namespace convnd {

void runWindowedGemm(const KernelTable& kernels, const WindowedGemm& p) {
  const AxisMap &ad = p.axes[0], &ah = p.axes[1], &aw = p.axes[2];
  if (ad.count == 0 || ah.count == 0 || aw.count == 0) return;
  if (runWeightBroadcastGemm(kernels, p)) return;
  GemmPlan plan = makeGemmPlan(kernels, p);
  if (plan.channelMode) return runChannelGemm(kernels, p, plan);
  packWeights(kernels, p, plan);
  if (runBandedGemm(kernels, p, plan)) return;
  const GemmKernel &kernel = *plan.kernel, &tail = *plan.tail;
  const int mr = plan.mr;
  const int64_t T = plan.T, kPadded = plan.kPadded, tW = plan.tW, rowsPerChannel = plan.rowsPerChannel;
  // Row mode: a task covers several register tiles of one output row, so that one fill of the
  // row buffer serves them all and every output-channel block.
  const int64_t tilesPerRow = (aw.count + T - 1) / T;
  const int64_t tilesPerTask = std::min<int64_t>(tilesPerRow, std::max<int64_t>(1, kTaskWidth / T));
  const int64_t span = tilesPerTask * T;
  const RowLayout layout = makeRowLayout(aw, span, kernels);
  const int64_t channelsPerChunk = channelChunk(rowsPerChannel, layout.rowLength - span + T);

  const int64_t inVolume = ad.inSize * ah.inSize * aw.inSize;
  const int64_t outVolume = p.outExtent[0] * p.outExtent[1] * p.outExtent[2];
  const int64_t chunksPerRow = (tilesPerRow + tilesPerTask - 1) / tilesPerTask;
  ThreadPool& pool = ThreadPool::instance();
  const int64_t rowWork = kPadded * p.inPerGroup * rowsPerChannel * tW * span;
  const int64_t rowCount = p.batch * p.groups * ad.count * ah.count * chunksPerRow;
  // Each task is a contiguous run of rows: consecutive rows share input rows through the
  // row cache.
  const TaskRuns runs(rowWork, rowCount, pool.threads());
  const PlaneRowOrder order(ad, ah, p.inPerGroup * layout.rowLength);

  // Aligned so that one thread's writes to its buffers' bookkeeping never share a cache
  // line with another's (see poolForwardDirect).
  struct alignas(64) Workspace {
    std::unique_ptr<RowCache> rows;
    // [tile][kPadded][T]. Not zeroed: the first channel chunk stores every element read.
    std::unique_ptr<float[]> acc;
  };
  std::vector<Workspace> spaces(static_cast<size_t>(pool.threads()));

  // A register tile whose positions are contiguous and all valid, and whose channels all
  // exist, is written straight into the output (bias included): no copy through `acc`.
  // Those are the blocks below directBlocksEnd of the tiles that end inside the row.
  const int64_t directBlocksEnd = aw.outStep == 1 ? p.outPerGroup / mr * mr : 0;

  // One output row (or one chunk of a long row) of one group and batch item.
  auto runRow = [&](Workspace& ws, int64_t rowIndex) {
    // Consecutive indices walk down the rows of one column chunk, so that the row cache of
    // a task sees the rows it shares with the previous output row.
    const auto [td, th, blockEnd] = order.at(rowIndex % order.rows());
    int64_t rest = rowIndex / order.rows();
    const int64_t column = rest % chunksPerRow; rest /= chunksPerRow;
    const int64_t g = rest % p.groups;
    const int64_t n = rest / p.groups;
    const int64_t t0 = column * span;
    const int64_t tiles = std::min(tilesPerTask, (aw.count - t0 + T - 1) / T);

    const float* inGroup = p.input + (n * p.groups + g) * p.inPerGroup * inVolume;
    float* outBase = outputRow(p, n, g, td, th, 0);  // channel k at outBase + k * outVolume
    // Tiles [0, fullTiles) end inside the row.
    const int64_t fullTiles = std::min(tiles, (aw.count - t0) / T);
    GemmTileArgs args;
    args.tapOffsets = layout.tapOffset.data();
    args.taps = static_cast<int32_t>(tW);

    bool first = true;
    for (int64_t c0 = 0; c0 < p.inPerGroup || first; c0 += channelsPerChunk) {
      const int64_t cEnd = std::min(p.inPerGroup, c0 + channelsPerChunk);
      args.rows = ws.rows->window(n * p.groups + g, c0, cEnd, td, th, t0,
                                  [&](int64_t c) { return inGroup + c * inVolume; });
      args.rowCount = (cEnd - c0) * rowsPerChannel;
      args.accumulate = !first;
      for (int64_t tile = 0; tile < tiles; ++tile) {
        args.rowOffset = tile * T;
        const bool shortTail = aw.count - (t0 + tile * T) <= tail.tileWidth;
        const GemmTileFn fn = shortTail ? tail.fn : kernel.fn;
        const int64_t directEnd = tile < fullTiles ? directBlocksEnd : 0;
        for (int64_t kb = 0; kb < kPadded; kb += mr) {
          args.weights = plan.weights(g, kb, c0);
          if (kb < directEnd) {
            args.out = outBase + kb * outVolume + t0 + tile * T;
            args.outStride = outVolume;
            args.bias = plan.bias(g, kb);
          } else {
            args.out = ws.acc.get() + (tile * kPadded + kb) * T;
            args.outStride = T;
            args.bias = nullptr;  // the scatter below adds it
          }
          fn(args);
        }
      }
      first = false;
    }

    // Scatter the other tiles to their (possibly strided) output positions, adding the bias.
    for (int64_t tile = 0; tile < tiles; ++tile) {
      const int64_t u0 = t0 + tile * T;
      const int64_t valid = std::min(T, aw.count - u0);
      for (int64_t k = tile < fullTiles ? directBlocksEnd : 0; k < p.outPerGroup; ++k) {
        const float b = p.bias ? p.bias[g * p.outPerGroup + k] : 0.0f;
        const float* __restrict src = ws.acc.get() + (tile * kPadded + k) * T;
        float* __restrict dst = outBase + k * outVolume + aw.outStep * u0;
        if (aw.outStep == 1) {
          kernels.addScalar(dst, 0, src, 0, 1, valid, b);
        } else {
          for (int64_t u = 0; u < valid; ++u) dst[u * aw.outStep] = src[u] + b;
        }
      }
    }
  };

  const int64_t totalWork = rowWork * rowCount;
  pool.parallelFor(runs.tasks(), [&](int64_t task, int worker) {
    Workspace& ws = spaces[static_cast<size_t>(worker)];
    if (!ws.rows) {
      ws.rows = std::make_unique<RowCache>(ad, ah, aw, layout, p.inPerGroup, std::min(channelsPerChunk, p.inPerGroup), 0.0f, order.heldRows());
      ws.acc.reset(new float[static_cast<size_t>(tilesPerTask * kPadded * T)]);
    }
    for (int64_t row = runs.begin(task); row < runs.end(task); ++row) runRow(ws, row);
  }, totalWork);
}

}  // namespace convnd