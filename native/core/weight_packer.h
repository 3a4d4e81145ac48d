// Packs a windowed GEMM's weights in the order the register tiles read them: a block of mr
// output channels as [c][jd][jh][jw][mr], zero for channels past outPerGroup.
#pragma once
#include <cstdint>
#include <vector>
#include "kernel_table.h"
#include "windowed_gemm.h"

namespace convnd {

class WeightPacker {
 public:
  WeightPacker(const KernelTable& kernels, const WindowedGemm& p, int mr);
  // Output channels [kb, kb + mr) of group g, input channels [c0, c1), into dst
  // ((c1 - c0) * taps() * mr floats).
  void pack(int64_t g, int64_t kb, int64_t c0, int64_t c1, float* __restrict dst) const;
  int64_t taps() const { return static_cast<int64_t>(tapOffset_.size()); }
  // What packing a float costs, in the thread pool's units of work (multiply-adds).
  int64_t workPerFloat() const;
  // ... by a register transpose: about a third of a cycle a float (0.7% of a 3x3 stride-2
  // 128 -> 128 forward).
  static constexpr int64_t kTransposeWorkPerFloat = 4;

 private:
  const KernelTable& kernels_;
  const WindowedGemm& p_;
  int mr_;
  std::vector<int64_t> tapOffset_;  // each tap's offset in the source layout, in packed order
  bool contiguous_, transposable_, spanTransposable_;
  bool wholeSpans_;
  int64_t spanColumns_;
};

}  // namespace convnd
