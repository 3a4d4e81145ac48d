#include "padded_input.h"

#include <algorithm>
#include "gemm_plan.h"
#include "row_buffer.h"
#include "thread_pool.h"
#include "l1_sets.h"

namespace convnd {

namespace {

// The largest copy made (floats): what a thread keeps from call to call (reused_buffer.cc), so
// that the copy never costs fresh pages. Larger inputs go through the row cache.
constexpr int64_t kMaxPaddedFloats = int64_t(4) << 20;

// A copied float costs less than a multiply-add's share of a register tile, but waking the
// workers for 64K floats or more pays (a 56x56 64-channel input: 215K floats).
constexpr int64_t kCopyWorkPerFloat = 8;

// Worth it for a 2-d window (several H rows, one D row) in channel mode at unit stride along
// the row: strided rows are read in place already, the tiles at the edges from copies (a 3x3
// stride-2 forward measured the same on one thread and 2.6% slower on two when padded).
bool readsBetterPadded(const KernelTable& kernels, const WindowedGemm& p) {
  // Channel mode reads padded rows in place by runs of taps where the planes spread over L1's
  // sets: the stride phases of a 3x3 stride-2 128 -> 128 data gradient measured the same on one
  // thread without the shared copy and 4% faster on two (in-process alternation).
  const bool tapRuns = planesSpreadOverL1(p.axes[0].inSize * p.axes[1].inSize * p.axes[2].inSize);
  return p.axes[0].taps() == 1 && p.axes[1].taps() > 1 && p.axes[2].inStep == 1 && !tapRuns && runsInChannelMode(kernels, p);
}

}  // namespace

void InputMargins::include(int a, const AxisMap& map) {
  if (map.count == 0) return;
  for (const int64_t o : map.offset) {
    before[a] = std::max(before[a], -o);
    after[a] = std::max(after[a], map.inStep * (map.count - 1) + o - (map.inSize - 1));
  }
}

bool InputMargins::any() const {
  for (int a = 0; a < kAxes; ++a)
    if (before[a] > 0 || after[a] > 0) return true;
  return false;
}

void InputMargins::shift(AxisMap& map, int a) const {
  map.inSize += before[a] + after[a];
  for (int64_t& o : map.offset) o += before[a];
}

const float* copyPadded(const float* input, int64_t planes, const int64_t inSize[kAxes], const InputMargins& margins,
                        ReusedBuffer& buffer) {
  int64_t padded[kAxes];
  for (int a = 0; a < kAxes; ++a) padded[a] = inSize[a] + margins.before[a] + margins.after[a];
  // In doubles: large margins may make the product overflow.
  if (static_cast<double>(planes) * static_cast<double>(padded[0]) * static_cast<double>(padded[1]) *
          static_cast<double>(padded[2]) > static_cast<double>(kMaxPaddedFloats))
    return nullptr;
  const int64_t planeFloats = padded[0] * padded[1] * padded[2];
  if (!planesSpreadOverL1(planeFloats)) return nullptr;

  buffer = ReusedBuffer(planes * planeFloats);
  float* const copy = buffer.data();
  const int64_t inVolume = inSize[0] * inSize[1] * inSize[2];
  ThreadPool::instance().parallelFor(planes, [&](int64_t plane, int) {
    const float* in = input + plane * inVolume;
    float* row = copy + plane * planeFloats;
    for (int64_t i0 = -margins.before[0]; i0 < inSize[0] + margins.after[0]; ++i0)
      for (int64_t i1 = -margins.before[1]; i1 < inSize[1] + margins.after[1]; ++i1, row += padded[2]) {
        const bool inside = i0 >= 0 && i0 < inSize[0] && i1 >= 0 && i1 < inSize[1];
        copyRowPadded(row, padded[2], inside ? in + (i0 * inSize[1] + i1) * inSize[2] : nullptr, -margins.before[2], inSize[2]);
      }
  }, planes * planeFloats * kCopyWorkPerFloat);
  return copy;
}

bool readPaddedInput(const KernelTable& kernels, std::vector<WindowedGemm>& problems, ReusedBuffer& buffer) {
  if (problems.size() < 2) return false;  // channel mode stages one problem's rows itself
  InputMargins margins;
  bool worth = false;
  for (const WindowedGemm& p : problems) {
    for (int a = 0; a < kAxes; ++a) margins.include(a, p.axes[a]);
    worth = worth || readsBetterPadded(kernels, p);
  }
  if (!worth || !margins.any()) return false;
  const WindowedGemm& first = problems.front();
  const int64_t inSize[kAxes] = {first.axes[0].inSize, first.axes[1].inSize, first.axes[2].inSize};
  const float* copy = copyPadded(first.input, first.batch * first.groups * first.inPerGroup, inSize, margins, buffer);
  if (!copy) return false;
  for (WindowedGemm& p : problems) {
    p.input = copy;
    for (int a = 0; a < kAxes; ++a) margins.shift(p.axes[a], a);
  }
  return true;
}

}  // namespace convnd
