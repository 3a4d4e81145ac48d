// Channel mode's columns (runs of output positions of every output row), their register tiles,
// and how one output row's tiles run: shared by its row-stationary driver (channel_gemm.cc) and
// its weight-stationary one (weight_stationary.h).
#pragma once
#include <cstdint>
#include <vector>
#include "axis_map.h"
#include "kernel_table.h"

namespace convnd {

// Output positions one task covers at most along the innermost axis: a whole row of the usual
// widths, so that a row's inputs are filled once; long rows are split to keep the accumulators
// in L2. Shorter columns (120) made a 1-d layer's fills 10% slower: short runs from many
// channel planes are more than the hardware prefetchers follow.
constexpr int64_t kChannelSpan = 240;

// Taps [j0, j1) of each row, valid (inside the input) at the tile's positions [p0, p1).
struct TapRun {
  int32_t j0, j1;
  int p0, p1;
};

// A run of output positions [t0, t0 + width) of every output row.
struct Column {
  int64_t t0, width;
  std::vector<int> tiles;  // tile widths
  std::vector<char> edge;  // per tile: reads a zero-padded copy (RowSource::kInPlaceWithEdgeCopies)
  int64_t edgeTiles = 0;
  // Per tile (RowSource::kInPlaceSplitTaps): its taps in runs, the run valid at every position
  // first; empty where every tap is valid at every position.
  std::vector<std::vector<TapRun>> splits;
};

// The fewest columns of at most kChannelSpan positions, all of one width but the last, each
// split into tiles of at most tile.maxPositions (edge and splits left empty).
std::vector<Column> makeColumns(const AxisMap& aw, const ChannelTileKernel& tile);

// The runs of taps of the tile at positions [t, t + width) that are valid at the same positions,
// the one valid at all of them first; or false when no run is (the tile needs a padded copy).
bool splitTaps(const AxisMap& aw, int64_t t, int width, std::vector<TapRun>& runs);

// Appends where each window row (jd, jh) of output row (td, th) lies in a channel plane, -1 where
// it lies outside the input (read as zeros): the same for every channel, so worked out once for
// all of them (per channel, the pointers took 5% of a 3x3 stride-2 128 -> 128 data gradient).
void appendWindowOffsets(const AxisMap& ad, const AxisMap& ah, const AxisMap& aw, int64_t td, int64_t th,
                         std::vector<int64_t>& offsets);

// How the tiles of one output row read their inputs and where they write.
struct RowTiles {
  const GemmTileFn* fns;       // the channel tile's functions by width
  bool splitTapRuns;           // run each tile's column.splits (RowSource::kInPlaceSplitTaps)
  int64_t positionStep;        // input elements from one position to the next
  int64_t columnStep;          // input elements a column's first position lies in: its t0 times this
  const int32_t* tapOffsets;   // per tap, its input element from a position's
  const int32_t* edgeOffsets;  // the same in an edge tile's copy
  int64_t taps;                // taps a row
  int mr;

  // The tiles of one output row of `column`. args holds everything but where they read and write:
  // rowInputs, args.rowCount rows; edgeRows, the edge tiles' copies, advanced past those used;
  // rowAcc, the row's first position, positions args.outStride floats apart.
  void run(const Column& column, GemmTileArgs& args, const float* const* rowInputs, const float* const*& edgeRows,
           float* rowAcc) const;
};

}  // namespace convnd
