// Channel mode's input for a 2-d window at stride 1 with padding along the row where tap runs
// (channel_gemm.cc, RowSource::kInPlaceSplitTaps) cannot read it in place (channel planes that
// crowd L1's sets, rows too narrow for a tile with a tap valid everywhere): each task copies,
// for a block of its consecutive output rows, the input rows they read (every channel's, with the
// zeros around them) once, and the tiles read that copy in place. The row cache copied the same
// rows but looked every window's rows up; a padded copy of the whole input made once per call
// (padded_input.h) measured 2-3% faster than it on 3x3 56x56 layers' forward and data gradient,
// 1-2% on batch-8 28x28 (one thread, in-process alternation, AVX-512), and staged rows as fast as
// that copy on one thread and within 1% on two. With the copy, though, each thread reads lines the
// other wrote: in a stretch where the two vCPUs exchanged data slowly, a 3x3 64 -> 64 56x56 forward
// took 1.57 ms on two threads with it and 1.16 ms with staged rows, which each thread writes and
// reads itself. With AVX2's kernels (on the same Zen 4), staged rows measured 1-3% faster than the
// row cache on one thread and 0-3% on two (3x3 56x56 forward and dilated data gradient, batch 8).
#pragma once
#include <cstdint>
#include "windowed_gemm.h"

namespace convnd {

class StagedRows {
 public:
  // For problem p (one D tap, unit stride along the row), whose columns are at most `span`
  // positions wide.
  StagedRows(const WindowedGemm& p, int64_t span);

  // Floats of storage a worker needs (large for very many channels: see kMaxStagedFloats).
  int64_t storageFloats() const { return storageFloats_; }
  static constexpr int64_t kMaxStagedFloats = int64_t(4) << 20;

  // Whether the windows of a block read at least half the rows it copies (not so for taps many
  // rows apart, where the row cache fetches just the rows read).
  bool dense() const { return dense_; }

  // Makes `storage` hold output row th of batch item n, group g, D row td, for the column
  // starting at output position t0 (identified by `column`); a new block runs from th for at most
  // `rows` rows (those of the task and of the D row left).
  void ensure(float* storage, int64_t n, int64_t g, int64_t column, int64_t t0, int64_t td, int64_t th, int64_t rows);

  // Input row ih of channel c as staged: element e holds input element inStep * t0 + lowest + e,
  // lowest being the row axis' leftmost tap offset.
  const float* row(const float* storage, int64_t c, int64_t ih) const {
    return storage + (c * rows_ + ih - ihFirst_) * rowFloats_;
  }

 private:
  const WindowedGemm& p_;
  int64_t lowest_, hLowest_, windowRows_, rowFloats_, outputRows_, storageFloats_;
  bool dense_;
  // The block staged: output rows [thFirst_, thEnd_) of (n_, g_, column_, td_), input rows
  // ihFirst_ to ihFirst_ + rows_ of each channel.
  int64_t n_ = -1, g_ = -1, column_ = -1, td_ = -1, thFirst_ = 0, thEnd_ = 0, ihFirst_ = 0, rows_ = 0;
};

}  // namespace convnd
