#include "channel_columns.h"

#include <algorithm>
#include "tiling.h"

namespace convnd {

namespace {

constexpr int64_t kFloatsPerLine = 16;

// Splits `count` positions into the fewest tiles of at most maxWidth, of widths that differ by
// at most one (240 at 14 = 6 x 14 + 12 x 13): a narrow last tile has too few accumulators to
// keep the FMA units busy.
std::vector<int> splitPositions(int64_t count, int maxWidth) {
  const int64_t tiles = (count + maxWidth - 1) / maxWidth;
  std::vector<int> widths;
  for (int64_t i = 0; i < tiles; ++i) widths.push_back(static_cast<int>(count * (i + 1) / tiles - count * i / tiles));
  return widths;
}

}  // namespace

bool splitTaps(const AxisMap& aw, int64_t t, int width, std::vector<TapRun>& runs) {
  runs.clear();
  for (int32_t j = 0; j < static_cast<int32_t>(aw.offset.size()); ++j) {
    // Position p reads inStep * p + offset[j].
    const InsidePositions inside = insidePositions(aw.offset[static_cast<size_t>(j)], aw.inStep, aw.inSize);
    const int p0 = static_cast<int>(std::clamp<int64_t>(inside.lo - t, 0, width));
    const int p1 = static_cast<int>(std::clamp<int64_t>(inside.hi - t, p0, width));
    if (!runs.empty() && runs.back().p0 == p0 && runs.back().p1 == p1 && runs.back().j1 == j)
      ++runs.back().j1;
    else
      runs.push_back({j, j + 1, p0, p1});
  }
  if (runs.size() == 1 && runs[0].p0 == 0 && runs[0].p1 == width) {
    runs.clear();  // every tap valid everywhere
    return true;
  }
  const auto full = std::find_if(runs.begin(), runs.end(), [&](const TapRun& r) { return r.p0 == 0 && r.p1 == width; });
  if (full == runs.end()) return false;
  std::rotate(runs.begin(), full, full + 1);
  return true;
}

// The fewest columns of at most kChannelSpan positions, all of one width but the last: a short
// last column (3136 = 13 x 240 + 16) left one of two threads idle for most of a column's time at
// the end of a pointwise layer. Widths are whole cache lines (3136 = 14 x 224): columns that
// start inside a line read one more line per input row, which cost 6% on one thread.
std::vector<Column> makeColumns(const AxisMap& aw, const ChannelTileKernel& tile) {
  const int64_t count = (aw.count + kChannelSpan - 1) / kChannelSpan;
  const int64_t span = std::min(kChannelSpan, roundUp((aw.count + count - 1) / count, kFloatsPerLine));
  std::vector<Column> columns;
  for (int64_t t = 0; t < aw.count; t += span) {
    const int64_t width = std::min(span, aw.count - t);
    columns.push_back({t, width, splitPositions(width, tile.maxPositions), {}, 0, {}});
  }
  return columns;
}

void appendWindowOffsets(const AxisMap& ad, const AxisMap& ah, const AxisMap& aw, int64_t td, int64_t th,
                         std::vector<int64_t>& offsets) {
  for (const int64_t od : ad.offset)
    for (const int64_t oh : ah.offset) {
      const int64_t id = ad.inStep * td + od, ih = ah.inStep * th + oh;
      const bool inside = id >= 0 && id < ad.inSize && ih >= 0 && ih < ah.inSize;
      offsets.push_back(inside ? (id * ah.inSize + ih) * aw.inSize : -1);
    }
}

void RowTiles::run(const Column& column, GemmTileArgs& args, const float* const* rowInputs, const float* const*& edgeRows,
                   float* rowAcc) const {
  const int64_t firstOffset = columnStep * column.t0;
  int64_t u = 0;
  for (size_t t = 0; t < column.tiles.size(); ++t) {
    const int width = column.tiles[t];
    if (splitTapRuns && !column.splits[t].empty()) {
      // Each run of taps over the positions where they are valid; the first (valid at all of
      // them) starts the sums.
      GemmTileArgs run = args;
      for (const TapRun& r : column.splits[t]) {
        if (r.p1 > r.p0) {
          run.rows = rowInputs;
          run.rowOffset = firstOffset + positionStep * (u + r.p0);
          run.tapOffsets = tapOffsets + r.j0;
          run.taps = r.j1 - r.j0;
          run.weights = args.weights + r.j0 * mr;
          run.weightSkip = static_cast<int32_t>((taps - run.taps) * mr);
          run.out = rowAcc + (u + r.p0) * args.outStride;
          fns[r.p1 - r.p0](run);
        }
        run.accumulate = true;
        run.bias = nullptr;
      }
      u += width;
      continue;
    }
    if (column.edge[t]) {
      args.rows = edgeRows;
      args.rowOffset = 0;
      args.tapOffsets = edgeOffsets;
      edgeRows += args.rowCount;
    } else {
      args.rows = rowInputs;
      args.rowOffset = firstOffset + positionStep * u;
      args.tapOffsets = tapOffsets;
    }
    args.out = rowAcc + u * args.outStride;
    fns[width](args);
    u += width;
  }
}

}  // namespace convnd
