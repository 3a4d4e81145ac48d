#include "channel_gemm.h"

#include <algorithm>
#include <memory>
#include <vector>
#include "row_buffer.h"
#include "row_cache.h"
#include "thread_pool.h"
#include "tiling.h"

namespace convnd {

namespace {

// Output positions one task covers along the innermost axis: a whole row of the usual
// widths, so that a row's inputs are filled once; long rows are split to keep the rows of a
// channel chunk few enough for L1 and the chunks deep enough to amortise the accumulators.
constexpr int64_t kChannelSpan = 120;

// Splits `count` positions into tile widths of at most maxWidth: whole tiles, and a remainder
// too narrow to keep the FMA units busy (below half a tile) merged with the last whole tile
// and split in two (6 + 2 becomes 4 + 4).
std::vector<int> splitPositions(int64_t count, int maxWidth) {
  std::vector<int> widths(static_cast<size_t>(count / maxWidth), maxWidth);
  const int rest = static_cast<int>(count % maxWidth);
  if (rest == 0) return widths;
  if (2 * rest >= maxWidth || widths.empty()) {
    widths.push_back(rest);
    return widths;
  }
  widths.pop_back();
  const int merged = maxWidth + rest;
  widths.push_back(merged - merged / 2);
  widths.push_back(merged / 2);
  return widths;
}

}  // namespace

void runChannelGemm(const KernelTable& kernels, const WindowedGemm& p, const GemmPlan& plan) {
  const AxisMap &ad = p.axes[0], &ah = p.axes[1], &aw = p.axes[2];
  const ChannelTileKernel& tile = kernels.channelTile;
  const int mr = plan.mr;
  const int64_t kPadded = plan.kPadded, rowsPerChannel = plan.rowsPerChannel;
  const int64_t span = std::min(aw.count, kChannelSpan);
  const int64_t chunksPerRow = (aw.count + span - 1) / span;
  const RowLayout layout = makeRowLayout(aw, span, kernels);
  const int64_t channelsPerChunk = channelChunk(rowsPerChannel, layout.rowLength);
  const std::vector<int> fullWidths = splitPositions(span, tile.maxPositions);
  const std::vector<int> lastWidths = splitPositions(aw.count - (chunksPerRow - 1) * span, tile.maxPositions);

  const int64_t inVolume = ad.inSize * ah.inSize * aw.inSize;
  const int64_t outVolume = p.outExtent[0] * p.outExtent[1] * p.outExtent[2];
  ThreadPool& pool = ThreadPool::instance();
  const int64_t rowWork = kPadded * p.inPerGroup * rowsPerChannel * plan.tW * span;
  const int64_t rowCount = p.batch * p.groups * ad.count * ah.count * chunksPerRow;
  const int64_t rowsPerTask = itemsPerTask(rowWork, rowCount, pool.threads());
  const int64_t tasks = (rowCount + rowsPerTask - 1) / rowsPerTask;

  struct Workspace {
    std::unique_ptr<RowCache> rows;
    // [position][kPadded]. Not zeroed: the first channel chunk stores every element.
    std::unique_ptr<float[]> acc;
  };
  std::vector<Workspace> spaces(static_cast<size_t>(pool.threads()));

  auto runRow = [&](Workspace& ws, int64_t rowIndex) {
    // As in row mode: consecutive indices walk down the rows of one column chunk, which share
    // input rows through the row cache.
    int64_t rest = rowIndex;
    const int64_t th = rest % ah.count; rest /= ah.count;
    const int64_t column = rest % chunksPerRow; rest /= chunksPerRow;
    const int64_t td = rest % ad.count; rest /= ad.count;
    const int64_t g = rest % p.groups;
    const int64_t n = rest / p.groups;
    const int64_t t0 = column * span;
    const std::vector<int>& widths = column + 1 < chunksPerRow ? fullWidths : lastWidths;
    const float* inGroup = p.input + (n * p.groups + g) * p.inPerGroup * inVolume;

    GemmTileArgs args;
    args.tapOffsets = layout.tapOffset.data();
    args.taps = static_cast<int32_t>(plan.tW);
    args.outStride = kPadded;
    bool first = true;
    for (int64_t c0 = 0; c0 < p.inPerGroup || first; c0 += channelsPerChunk) {
      const int64_t cEnd = std::min(p.inPerGroup, c0 + channelsPerChunk);
      args.rows = ws.rows->window(n * p.groups + g, c0, cEnd, td, th, t0,
                                  [&](int64_t c) { return inGroup + c * inVolume; });
      args.rowCount = (cEnd - c0) * rowsPerChannel;
      args.accumulate = !first;
      // Each block's packed weights stay in L1 while the tiles of the row sweep the chunk's rows.
      for (int64_t kb = 0; kb < kPadded; kb += mr) {
        args.weights = plan.weights(g, kb, c0);
        args.bias = first && !plan.biasPadded.empty() ? plan.biasPadded.data() + g * kPadded + kb : nullptr;
        int64_t u = 0;
        for (int width : widths) {
          args.rowOffset = u;
          args.out = ws.acc.get() + u * kPadded + kb;
          tile.fn[width](args);
          u += width;
        }
      }
      first = false;
    }
    const int64_t positions = std::min(span, aw.count - t0);
    kernels.transposeOut(outputRow(p, n, g, td, th, 0) + aw.outStep * t0, outVolume, aw.outStep, ws.acc.get(), kPadded,
                         p.outPerGroup, positions, nullptr);
  };

  pool.parallelFor(tasks, [&](int64_t task, int worker) {
    Workspace& ws = spaces[static_cast<size_t>(worker)];
    if (!ws.rows) {
      ws.rows = std::make_unique<RowCache>(ad, ah, aw, layout, p.inPerGroup, std::min(channelsPerChunk, p.inPerGroup), 0.0f);
      ws.acc.reset(new float[static_cast<size_t>(span * kPadded)]);
    }
    const int64_t end = std::min(rowCount, (task + 1) * rowsPerTask);
    for (int64_t row = task * rowsPerTask; row < end; ++row) runRow(ws, row);
  }, rowWork * rowCount);
}

}  // namespace convnd
