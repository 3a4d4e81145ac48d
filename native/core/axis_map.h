// How one spatial axis of an operation maps output positions to input positions.
// Output position t (0 <= t < count) is written at outStart + outStep * t and reads, for each
// tap j, the input position inStep * t + offset[j] (zero/fill outside [0, inSize)), weighted by
// kernel element weightIndex[j]. Forward convolution, each stride phase of the data gradient
// and pooling are all instances of this one shape.
#pragma once
#include <cstdint>
#include <vector>

namespace convnd {

struct AxisMap {
  int64_t inSize = 1;
  int64_t count = 1;
  int64_t outStart = 0, outStep = 1;
  int64_t inStep = 1;
  std::vector<int64_t> offset;
  std::vector<int64_t> weightIndex;
  int64_t taps() const { return static_cast<int64_t>(offset.size()); }
  // Whether every tap of every position lies inside [0, inSize): rows can then be read in place.
  bool tapsInside() const;
};

// The positions v >= 0 whose reads first + step * v lie inside [0, n): [lo, hi), lo <= hi
// unless the range is empty (hi may then lie below lo; callers clamp).
struct InsidePositions {
  int64_t lo, hi;
};
inline InsidePositions insidePositions(int64_t first, int64_t step, int64_t n) {
  return {first >= 0 ? 0 : (-first + step - 1) / step, first < n ? (n - 1 - first) / step + 1 : 0};
}

// y[o] = sum_r w[r] x[o * stride + r * dilation - padBefore], o in [0, out).
AxisMap forwardAxis(int64_t in, int64_t kernel, int64_t stride, int64_t dilation,
                    int64_t padBefore, int64_t out);

// The data gradient along one axis, for the positions i = phase + stride * t of the forward
// input (size `in`): dx[i] = sum_r w[r] dy[(i + padBefore - r * dilation) / stride] over the taps
// r for which the division is exact. `out` is the size of dy along the axis.
AxisMap backwardDataAxis(int64_t in, int64_t kernel, int64_t stride, int64_t dilation,
                         int64_t padBefore, int64_t out, int64_t phase);

}  // namespace convnd
