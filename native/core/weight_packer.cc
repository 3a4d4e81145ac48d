#include "weight_packer.h"

#include <algorithm>

namespace convnd {

namespace {

// Blocks of up to 4 KiB are copied a channel at a time (see pack).
constexpr int64_t kSmallBlockFloats = 1024;
// The most floats of one input channel's transposed weight span (see the constructor): 32 KiB.
constexpr int64_t kSpanScratchFloats = 8192;
// A gather moves a float in about two cycles (0.08 ms for a 3x3 stride-2 128 -> 128 data
// gradient's 147K floats), a register transpose in about a third (WeightPacker::
// kTransposeWorkPerFloat). Counted as 4 for both, a data gradient's packing (every layout it read
// was gathered) ran on the calling thread alone: 0.1 ms of that gradient's 1.2 ms on two threads.
// Counted as 32: that gradient 2.5% faster on two threads, 3x3 64 -> 64 56x56 1.7%, 1x1
// 256 -> 64 3.8%; 3x3x3, 1-d and the tiny 3 -> 8 layer the same (in-process alternation).
constexpr int64_t kGatherWorkPerFloat = 32;

}  // namespace

WeightPacker::WeightPacker(const KernelTable& kernels, const WindowedGemm& p, int mr) : kernels_(kernels), p_(p), mr_(mr) {
  const WeightStrides& s = p.weightStrides;
  for (const int64_t jd : p.axes[0].weightIndex)
    for (const int64_t jh : p.axes[1].weightIndex)
      for (const int64_t jw : p.axes[2].weightIndex) tapOffset_.push_back(jd * s.axis[0] + jh * s.axis[1] + jw * s.axis[2]);
  const int64_t taps = this->taps();
  // The forward layout with every tap in its natural order: each output channel's weights are
  // one contiguous run.
  contiguous_ = s.inChannel == taps;
  for (int64_t t = 0; t < taps; ++t) contiguous_ = contiguous_ && tapOffset_[static_cast<size_t>(t)] == t;
  // A whole block of a tile whose channels are whole groups of 8 is the transpose of mr
  // contiguous runs: the ISA's 8 x 8 register transpose did it in 0.7% of a 3x3 stride-2
  // 128 -> 128 layer, where the run-by-run loop below took 3.6%.
  transposable_ = contiguous_ && mr % 8 == 0;
  // Otherwise, where one input channel's weights for a block's mr output channels lie in mr
  // rows (s.outChannel apart) of spanColumns floats, as the data gradient's [k][c][taps] do (its
  // taps flipped, or a stride phase's subset): each such span is transposed whole into a
  // [column][mr] scratch in L1 and the taps copied from it in packed order. Gathering a float at
  // a time took 60% of a 3x3 512 -> 512 7x7 data gradient. Not where the taps are fewer than
  // half the span's columns (a stride phase of 1-4 taps of 9): transposing them all for each
  // phase made a 3x3 stride-2 data gradient's packing 1.5x as slow as the gather.
  const auto [lowest, highest] = std::minmax_element(tapOffset_.begin(), tapOffset_.end());
  spanColumns_ = taps > 0 ? *highest + 1 : 0;
  spanTransposable_ = !transposable_ && mr % 8 == 0 && taps > 0 && *lowest >= 0 && spanColumns_ <= s.outChannel &&
                      spanColumns_ >= 8 && spanColumns_ * mr <= kSpanScratchFloats && 2 * taps >= spanColumns_;
  // Spans whose taps are all their columns, in order (a stride-1 data gradient's), go to
  // KernelTable::packSpans where the ISA has it.
  wholeSpans_ = spanTransposable_ && taps == spanColumns_ && spanColumns_ <= 16 && mr % 16 == 0;
  for (int64_t t = 0; t < taps; ++t) wholeSpans_ = wholeSpans_ && tapOffset_[static_cast<size_t>(t)] == t;
}

int64_t WeightPacker::workPerFloat() const {
  return transposable_ || spanTransposable_ || p_.transposed ? kTransposeWorkPerFloat : kGatherWorkPerFloat;
}

void WeightPacker::pack(int64_t g, int64_t kb, int64_t c0, int64_t c1, float* __restrict dst) const {
  const WeightStrides& s = p_.weightStrides;
  const int mr = mr_;
  const int64_t rows = std::min<int64_t>(mr, p_.outPerGroup - kb), taps = this->taps();
  const float* first = p_.weights + g * s.group + kb * s.outChannel;
  if (p_.transposed && rows == mr) {
    // Every packed run is a run of the transposed copy: a tap's runs for all the channels in one
    // copyRows call (a library call per run of 32 floats was slow).
    const int64_t columns = p_.transposedColumns, kg = p_.outPerGroup;
    const float* from = p_.transposed + (g * p_.inPerGroup + c0) * columns * kg + kb;
    for (int64_t t = 0; t < taps; ++t)
      kernels_.copyRows(dst + t * mr, taps * mr, from + tapOffset_[static_cast<size_t>(t)] * kg, columns * kg, c1 - c0, mr);
    return;
  }
  if (transposable_ && rows == mr) {
    kernels_.transposeOut(dst, mr, 1, first + c0 * taps, s.outChannel, (c1 - c0) * taps, mr);
    return;
  }
  if (wholeSpans_ && rows == mr && kernels_.packSpans) {
    kernels_.packSpans(dst, first + c0 * s.inChannel, s.inChannel, s.outChannel, spanColumns_, c1 - c0, mr);
    return;
  }
  if (spanTransposable_ && rows == mr) {
    alignas(64) float scratch[kSpanScratchFloats];
    for (int64_t c = c0; c < c1; ++c) {
      kernels_.transposeOut(scratch, mr, 1, first + c * s.inChannel, s.outChannel, spanColumns_, mr);
      for (const int64_t tap : tapOffset_) {
        std::copy_n(scratch + tap * mr, mr, dst);
        dst += mr;
      }
    }
    return;
  }
  const int64_t depth = (c1 - c0) * taps;
  if (contiguous_ && depth * mr <= kSmallBlockFloats) {
    // A channel at a time: a plain strided copy, half the instructions of the loop below
    // when runs are short (4 floats), for a block that stays in L1 meanwhile.
    for (int64_t m = 0; m < mr; ++m) {
      const float* src = first + m * s.outChannel + c0 * taps;
      for (int64_t i = 0; i < depth; ++i) dst[i * mr + m] = m < rows ? src[i] : 0.0f;
    }
    return;
  }
  // Each packed run of mr floats is written whole, in order: a large block does not fit in
  // L1, and writing it one channel (one float in every run) at a time fetched every line mr
  // times.
  for (int64_t c = c0; c < c1; ++c)
    for (const int64_t tap : tapOffset_) {
      const float* src = first + c * s.inChannel + tap;
      for (int64_t m = 0; m < rows; ++m, src += s.outChannel) dst[m] = *src;
      for (int64_t m = rows; m < mr; ++m) dst[m] = 0.0f;
      dst += mr;
    }
}

}  // namespace convnd
