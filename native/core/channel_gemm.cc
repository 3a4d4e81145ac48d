#include "channel_gemm.h"

#include <algorithm>
#include <memory>
#include <vector>
#include "aligned_floats.h"
#include "channel_columns.h"
#include "l1_sets.h"
#include "plane_row_order.h"
#include "reused_buffer.h"
#include "row_buffer.h"
#include "row_cache.h"
#include "staged_rows.h"
#include "thread_pool.h"
#include "tiling.h"
#include "weight_stationary.h"

namespace convnd {

namespace {

// Short rows read in place run in groups of up to this many positions, each block of packed
// weights passing over every row of the group before the next block: row by row, a layer at 7x7
// reads all its weights (from L3) for each row of 7 positions. Batch 16 of 3x3 256 -> 256 and
// 512 -> 512 at 7x7 (too many positions to run weight-stationary) 10-17% faster forward, 8-12%
// data gradient (one thread, in-process alternation).
constexpr int64_t kGroupPositions = 64;

// How a problem's input rows reach the tiles.
enum class RowSource {
  // In place: every tap of every position lies inside the input (no padding along the axis)
  // and the kernel has the axis' stride.
  kInPlace,
  // Stride 1 or 2 with padding along the row: in place, a tile that reaches into the padding
  // run once per run of taps valid at the same positions, over just those positions (3x3 pad 1:
  // the left tile's first tap from its second position on, its other two at every position).
  // Against the copies below (one thread, in-process alternation, AVX-512): forward 3x3 stride-2
  // 128 -> 128 4-4.5% faster, 3x3 64 -> 64 56x56 2-2.5% (dilated by 2: 4%), 128 -> 128 28x28
  // batch 8 4-5%; their stride-1 data gradients 2-4%; on two threads 2.5-4.5%; AVX2's kernels the
  // same. Not where channel planes crowd L1's sets, nor where a tile's every tap misses some
  // position (those stage or copy as below).
  kInPlaceSplitTaps,
  // Stride 2 with padding: in place for the tiles whose taps all lie inside the input, and a
  // zero-padded copy of just the input it spans for a tile that reaches into the padding. The
  // row cache's de-interleaving copy of every input row took 11% of a 3x3 stride-2 layer; this
  // made it 3-5% faster. At stride 1 the row cache's plain copies measured 3-7% faster.
  kInPlaceWithEdgeCopies,
  // A 2-d window at stride 1 with padding along the row: blocks of rows staged by each task
  // (staged_rows.h), read in place.
  kStaged,
  // Through the row cache's padded, phase-split copies.
  kRowCache,
};

// `staged`: the staged-rows plan of a 2-d window, or null; `splittable`: whether every tile has
// a run of taps valid at all its positions (splitTaps), and planes spread over L1.
RowSource rowSource(const AxisMap& aw, const StagedRows* staged, bool splittable) {
  if (aw.inStep > kMaxChannelTileStride) return RowSource::kRowCache;
  if (aw.tapsInside()) return RowSource::kInPlace;
  if (splittable) return RowSource::kInPlaceSplitTaps;
  if (aw.inStep == 2) return RowSource::kInPlaceWithEdgeCopies;
  return staged && staged->dense() && staged->storageFloats() <= StagedRows::kMaxStagedFloats ? RowSource::kStaged
                                                                                             : RowSource::kRowCache;
}

}  // namespace

void runChannelGemm(const KernelTable& kernels, const WindowedGemm& p, GemmPlan& plan) {
  const AxisMap &ad = p.axes[0], &ah = p.axes[1], &aw = p.axes[2];
  const ChannelTileKernel& tile = *plan.channelTile;
  const int mr = plan.mr;
  const int64_t kPadded = plan.kPadded, rowsPerChannel = plan.rowsPerChannel;
  std::vector<Column> columns = makeColumns(aw, tile);
  const int64_t span = columns.front().width;
  const int64_t inVolume = ad.inSize * ah.inSize * aw.inSize;
  bool splittable = planesSpreadOverL1(inVolume);
  for (Column& column : columns) {
    int64_t u = 0;
    for (int width : column.tiles) {
      column.splits.emplace_back();
      splittable = splittable && splitTaps(aw, column.t0 + u, width, column.splits.back());
      u += width;
    }
  }
  // Each worker's staged rows start as a copy of this plan (2-d windows only, and only
  // where tap runs cannot serve).
  const std::unique_ptr<StagedRows> stagedPlan =
      !splittable && ad.taps() == 1 && ah.taps() > 1 && aw.taps() > 0 ? std::make_unique<StagedRows>(p, span) : nullptr;
  const RowSource source = rowSource(aw, stagedPlan.get(), splittable);
  const bool inPlace = source != RowSource::kRowCache;
  const bool staged = source == RowSource::kStaged;
  const bool splitTapRuns = source == RowSource::kInPlaceSplitTaps;
  const RowLayout layout = makeRowLayout(aw, span, kernels);  // unused in place
  const int64_t rowFloats = inPlace ? aw.inStep * span : layout.rowLength;
  int64_t channelsPerChunk = channelChunk(rowsPerChannel, rowFloats, kChannelTileRowsFloats);
  // Rows read in place lie a channel plane apart, not packed into a cache: where the kernel set
  // asks for it (channelInPlaceWeightBytes), the chunk is also kept to what lets one block's
  // weights stay in L1 beside its rows (see kernel_table.h). Layers through the row cache
  // measured the same or up to 3% slower with the cap, so they keep the larger chunks, and so do
  // staged rows, packed as densely as the row cache's.
  if (inPlace && !staged && kernels.channelInPlaceWeightBytes > 0)
    channelsPerChunk = std::max<int64_t>(
        1, std::min<int64_t>(channelsPerChunk, kernels.channelInPlaceWeightBytes / (int64_t(mr) * rowsPerChannel * plan.tW * 4)));
  // In place, tap j of position t reads input row element inStep * t + offset[j]; rows outside
  // the input read zeros over the same extent.
  const std::vector<int32_t> inPlaceOffsets(aw.offset.begin(), aw.offset.end());
  const std::vector<float> zeroRow(static_cast<size_t>(inPlace ? aw.inSize : 0), 0.0f);
  const GemmTileFn* inPlaceTiles = tile.fn[std::min<int64_t>(aw.inStep, kMaxChannelTileStride) - 1];
  // An edge tile's copy starts at its first position's leftmost tap: element e holds input
  // inStep * t + lowest + e, and tap j of position p reads element inStep * p + offset[j] - lowest.
  const auto extremes = std::minmax_element(aw.offset.begin(), aw.offset.end());
  const int64_t lowest = *extremes.first, highest = *extremes.second;
  std::vector<int32_t> edgeOffsets(inPlaceOffsets);
  for (int32_t& o : edgeOffsets) o -= static_cast<int32_t>(lowest);
  const int64_t edgeFloats = aw.inStep * (tile.maxPositions - 1) + (highest - lowest) + 1;
  // The edge tiles: those whose taps reach past either end of the input row.
  for (Column& column : columns) {
    int64_t u = 0;
    for (int width : column.tiles) {
      const int64_t t = column.t0 + u;
      const bool edge = source == RowSource::kInPlaceWithEdgeCopies &&
                        (aw.inStep * t + lowest < 0 || aw.inStep * (t + width - 1) + highest >= aw.inSize);
      column.edge.push_back(edge);
      column.edgeTiles += edge;
      u += width;
    }
  }

  const int64_t outVolume = p.outExtent[0] * p.outExtent[1] * p.outExtent[2];
  const int64_t columnCount = static_cast<int64_t>(columns.size());
  ThreadPool& pool = ThreadPool::instance();
  const PlaneRowOrder order(ad, ah, p.inPerGroup * rowFloats);
  // Staged rows start at the column's first input, as an edge tile's copy does.
  const RowTiles rowTiles{inPlace ? inPlaceTiles : tile.fn[0],
                          splitTapRuns,
                          inPlace ? aw.inStep : 1,
                          inPlace && !staged ? aw.inStep : 0,
                          staged ? edgeOffsets.data() : inPlace ? inPlaceOffsets.data() : layout.tapOffset.data(),
                          edgeOffsets.data(),
                          plan.tW,
                          mr};

  if ((source == RowSource::kInPlace || source == RowSource::kInPlaceSplitTaps) && columnCount == 1 &&
      runsWeightStationary(p, plan, p.batch * order.rows() * span))
    return runWeightStationaryGemm(kernels, p, plan, columns.front(), rowTiles, order);
  packWeights(kernels, p, plan);

  // Rows a work item takes together: several only where rows are read in place (the row cache
  // and staged rows hold one row's window at a time) and short.
  const int64_t groupRows = inPlace && !staged ? std::clamp<int64_t>(kGroupPositions / span, 1, order.rows()) : 1;
  const int64_t groupsPerPlane = (order.rows() + groupRows - 1) / groupRows;
  const int64_t groupWork = groupRows * kPadded * p.inPerGroup * rowsPerChannel * plan.tW * aw.count / columnCount;
  const int64_t groupCount = p.batch * p.groups * columnCount * groupsPerPlane;
  // Too few row groups for the threads (a 1x1 1024 -> 256 14x14 layer is one row of 196
  // positions, which ran on one thread of two): each group's output-channel blocks are split
  // into runs, a work item each, for about 4 items a thread, of 2 blocks at least: every item
  // reads all of its rows' inputs, and items of one block (32 multiply-adds a float read) made
  // that layer's forward 1.47x faster on two threads than on one, where 2 blocks made it 1.78x
  // (its data gradient 1.8x; 1x1 2048 -> 512 and 512 -> 2048 at 7x7 1.7-1.8x). Every output's
  // sum keeps its order, so the results do not depend on the split, and one thread needs none.
  const int64_t blocks = kPadded / mr;
  const int64_t itemsWanted = 4 * int64_t(pool.threads());
  const int64_t blockRuns = pool.threads() == 1 || groupCount >= itemsWanted
                                ? 1
                                : std::min(std::max<int64_t>(1, blocks / 2), (itemsWanted + groupCount - 1) / groupCount);
  const TaskRuns runs(groupWork / blockRuns, groupCount * blockRuns, pool.threads());

  // Aligned so that one thread's writes to its buffers' bookkeeping never share a cache
  // line with another's (see poolForwardDirect).
  struct alignas(64) Workspace {
    std::unique_ptr<RowCache> rows;  // when not in place
    std::vector<PlaneRowOrder::Row> group;  // the output rows of the current item
    std::vector<const float*> inPlaceRows;  // [group row][channel][window row]
    std::vector<int64_t> windowOffsets;  // in place: per group row and window row, its offset in a channel plane
    std::vector<float> edgeCopies;   // [group row][edge tile][row][edgeFloats]
    std::vector<const float*> edgeRows;
    // [group row][position][kPadded]. Not zeroed: the first channel chunk stores every element.
    AlignedFloats acc;
    std::unique_ptr<StagedRows> staged;  // when staged, with its share of `stagedStorage`
    float* stagedRows = nullptr;
  };
  std::vector<Workspace> spaces(static_cast<size_t>(pool.threads()));
  // One buffer for every worker's staged rows, kept by the calling thread from call to call.
  const int64_t stagedFloats = staged ? stagedPlan->storageFloats() : 0;
  ReusedBuffer stagedStorage(stagedFloats * pool.threads());

  // Copies what the edge tile from position t reads of each of the window's rows into `dst`
  // (edgeFloats a row), zeros outside the input.
  auto copyEdge = [&](const float* const* windowRows, int64_t count, int64_t t, float* dst) {
    for (int64_t r = 0; r < count; ++r, dst += edgeFloats)
      copyRowPadded(dst, edgeFloats, windowRows[r], aw.inStep * t + lowest, aw.inSize);
  };

  // Group groupIndex's output-channel blocks [kbBegin, kbEnd) (multiples of mr); rowsLeft: the
  // rows of the task's groups from this one on, past which a staged block (of one-row groups)
  // never reaches.
  auto runGroup = [&](Workspace& ws, int64_t groupIndex, int64_t kbBegin, int64_t kbEnd, int64_t rowsLeft) {
    // As in row mode: consecutive indices walk down the rows of one column, which share
    // input rows through the row cache.
    const int64_t plane = groupIndex / groupsPerPlane;
    const int64_t firstRow = groupIndex % groupsPerPlane * groupRows;
    const int64_t count = std::min(groupRows, order.rows() - firstRow);
    ws.group.clear();
    for (int64_t i = 0; i < count; ++i) ws.group.push_back(order.at(firstRow + i));
    const int64_t columnIndex = plane % columnCount;
    const Column& column = columns[static_cast<size_t>(columnIndex)];
    const int64_t g = plane / columnCount % p.groups;
    const int64_t n = plane / columnCount / p.groups;
    const float* inGroup = p.input + (n * p.groups + g) * p.inPerGroup * inVolume;
    const auto [td, th, blockEnd] = ws.group.front();
    // The rows of one (batch item, group, column, D row) are consecutive indices up to blockEnd.
    if (staged) ws.staged->ensure(ws.stagedRows, n, g, columnIndex, column.t0, td, th, std::min(blockEnd - th, rowsLeft));

    GemmTileArgs args;
    args.taps = static_cast<int32_t>(plan.tW);
    args.outStride = kPadded;
    if (inPlace && !staged) {
      ws.windowOffsets.clear();
      for (const PlaneRowOrder::Row& row : ws.group) appendWindowOffsets(ad, ah, aw, row.td, row.th, ws.windowOffsets);
    }
    bool first = true;
    for (int64_t c0 = 0; c0 < p.inPerGroup || first; c0 += channelsPerChunk) {
      const int64_t cEnd = std::min(p.inPerGroup, c0 + channelsPerChunk);
      args.rowCount = (cEnd - c0) * rowsPerChannel;
      const float* const* rows;  // args.rowCount a group row
      if (staged) {
        ws.inPlaceRows.clear();
        for (int64_t c = c0; c < cEnd; ++c)
          for (int64_t jh = 0; jh < plan.tH; ++jh)
            ws.inPlaceRows.push_back(ws.staged->row(ws.stagedRows, c, ah.inStep * th + ah.offset[jh]));
        rows = ws.inPlaceRows.data();
      } else if (inPlace) {
        ws.inPlaceRows.resize(static_cast<size_t>(count * args.rowCount));
        const float** row = ws.inPlaceRows.data();
        for (int64_t i = 0; i < count; ++i) {
          const int64_t* offsets = ws.windowOffsets.data() + i * rowsPerChannel;
          for (int64_t c = c0; c < cEnd; ++c)
            for (int64_t r = 0; r < rowsPerChannel; ++r)
              *row++ = offsets[r] >= 0 ? inGroup + c * inVolume + offsets[r] : zeroRow.data();
        }
        rows = ws.inPlaceRows.data();
        // Copies for the edge tiles, made once for every output-channel block.
        const size_t copiedRows = static_cast<size_t>(count * column.edgeTiles * args.rowCount);
        if (ws.edgeRows.size() < copiedRows) {
          ws.edgeCopies.resize(copiedRows * edgeFloats);
          ws.edgeRows.resize(copiedRows);
          for (size_t r = 0; r < copiedRows; ++r) ws.edgeRows[r] = ws.edgeCopies.data() + r * edgeFloats;
        }
        float* copy = ws.edgeCopies.data();
        for (int64_t i = 0; i < count; ++i) {
          int64_t u = 0;
          for (size_t t = 0; t < column.tiles.size(); u += column.tiles[t++]) {
            if (!column.edge[t]) continue;
            copyEdge(rows + i * args.rowCount, args.rowCount, column.t0 + u, copy);
            copy += args.rowCount * edgeFloats;
          }
        }
      } else {
        rows = ws.rows->window(n * p.groups + g, c0, cEnd, td, th, column.t0,
                               [&](int64_t c) { return inGroup + c * inVolume; });
      }
      args.accumulate = !first;
      // Each block's packed weights stay in L1 (or L2) while the tiles of the group's rows sweep
      // the chunk's rows.
      for (int64_t kb = kbBegin; kb < kbEnd; kb += mr) {
        args.weights = plan.weights(g, kb, c0);
        args.bias = first ? plan.bias(g, kb) : nullptr;
        const float* const* edgeRows = ws.edgeRows.data();
        for (int64_t i = 0; i < count; ++i)
          rowTiles.run(column, args, rows + i * args.rowCount, edgeRows, ws.acc.get() + i * column.width * kPadded + kb);
      }
      first = false;
    }
    for (int64_t i = 0; i < count; ++i)
      kernels.transposeOut(outputRow(p, n, g, ws.group[i].td, ws.group[i].th, kbBegin) + aw.outStep * column.t0, outVolume,
                           aw.outStep, ws.acc.get() + i * column.width * kPadded + kbBegin, kPadded,
                           std::min(kbEnd, p.outPerGroup) - kbBegin, column.width);
  };

  pool.parallelFor(runs.tasks(), [&](int64_t task, int worker) {
    Workspace& ws = spaces[static_cast<size_t>(worker)];
    if (!ws.acc) {
      if (staged) {
        ws.staged = std::make_unique<StagedRows>(*stagedPlan);
        ws.stagedRows = stagedStorage.data() + worker * stagedFloats;
      }
      if (!inPlace)
        ws.rows = std::make_unique<RowCache>(ad, ah, aw, layout, p.inPerGroup, std::min(channelsPerChunk, p.inPerGroup), 0.0f, order.heldRows());
      // transposeOut may read whole blocks of 8 positions past a group row's start.
      ws.acc = allocateAligned(static_cast<size_t>((std::max(groupRows * span, kChannelSpan) + 8) * kPadded));
    }
    const int64_t groupEnd = (runs.end(task) + blockRuns - 1) / blockRuns;
    for (int64_t item = runs.begin(task); item < runs.end(task); ++item) {
      const int64_t run = item % blockRuns;
      runGroup(ws, item / blockRuns, blocks * run / blockRuns * mr, blocks * (run + 1) / blockRuns * mr,
               (groupEnd - item / blockRuns) * groupRows);
    }
  }, groupWork * groupCount);
}

}  // namespace convnd
