#include "axis_map.h"

#include <algorithm>

namespace convnd {

bool AxisMap::tapsInside() const {
  if (offset.empty()) return false;
  const auto [lo, hi] = std::minmax_element(offset.begin(), offset.end());
  return *lo >= 0 && inStep * (count - 1) + *hi < inSize;
}

AxisMap forwardAxis(int64_t in, int64_t kernel, int64_t stride, int64_t dilation,
                    int64_t padBefore, int64_t out) {
  AxisMap m;
  m.inSize = in;
  m.count = out;
  m.inStep = stride;
  m.offset.reserve(static_cast<size_t>(kernel));
  m.weightIndex.reserve(static_cast<size_t>(kernel));
  for (int64_t r = 0; r < kernel; ++r) {
    m.offset.push_back(r * dilation - padBefore);
    m.weightIndex.push_back(r);
  }
  return m;
}

AxisMap backwardDataAxis(int64_t in, int64_t kernel, int64_t stride, int64_t dilation,
                         int64_t padBefore, int64_t out, int64_t phase) {
  AxisMap m;
  m.inSize = out;
  m.count = phase < in ? (in - phase + stride - 1) / stride : 0;
  m.outStart = phase;
  m.outStep = stride;
  m.inStep = 1;
  for (int64_t r = 0; r < kernel; ++r) {
    int64_t num = phase + padBefore - r * dilation;
    // Exact division only: other taps meet this phase's positions in the zeros a strided
    // forward pass skips.
    int64_t rem = num % stride;
    if (rem != 0) continue;
    m.offset.push_back(num / stride);
    m.weightIndex.push_back(r);
  }
  return m;
}

}  // namespace convnd
