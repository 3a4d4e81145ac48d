// The order in which the output rows of one D x H volume are visited: along D first, in blocks
// of H rows, so that the input rows a 3-d window shares with the next D row's window are still
// in the row cache.
#pragma once
#include <cstdint>
#include "axis_map.h"

namespace convnd {

// A 3-d window at unit stride shares two of its three planes' rows with the next D row's. Row
// by row (every H row of one D row, then the next D row), those rows had left the row cache
// and L2 before they were read again: a 3x3x3 layer refilled each input row three times, from
// memory. In blocks (each D row of a block of H rows in turn, then the next block), they stay
// in the cache, which must hold a block's windows (RowCache's heldRows). Blocks of 6 rows (8
// H slots a plane for 3-tall windows) made 3x3x3 layers faster, forward and both gradients, one
// and two threads: the 16-channel 64^3 volume by 9-20%, the 32-channel 16x56x56 one by 3-14%
// (Zen 4, in-process alternation; 2 to 14 rows measured within 4% of each other). Where a
// longer block's input rows still fit in 192 KiB they take longer blocks, which refill fewer
// rows (15 for 13 output rows, not 8 for 6): the 16-channel volume (13 rows) 2-3% faster on
// Zen 5, forward and both gradients, one and two threads. The 32-channel one keeps 6 (9 and 16
// measured 1-1.5% slower forward and data gradient, near the noise). Without a D window (2-d
// and 1-d layers), the H rows in order.
class PlaneRowOrder {
 public:
  static constexpr int64_t kRowBlock = 6;
  static constexpr int64_t kBlockFloats = 48 * 1024;

  // `rowFloats`: the floats of one input row of every channel read together (a row cache's
  // channels times its row length). Blocks are a multiple of `multiple` rows (the weight
  // gradient's rows a call).
  PlaneRowOrder(const AxisMap& ad, const AxisMap& ah, int64_t rowFloats, int64_t multiple = 1);
  int64_t rows() const { return dCount_ * hCount_; }
  // The row cache's heldRows: the block's rows when blocked, else 1.
  int64_t heldRows() const { return blocked_ ? rowBlock_ : 1; }
  struct Row {
    int64_t td, th;
    int64_t blockEnd;  // the first H row past the row's block
  };
  Row at(int64_t index) const;  // index < rows()

 private:
  int64_t dCount_, hCount_;
  bool blocked_;
  int64_t rowBlock_;
};

}  // namespace convnd
