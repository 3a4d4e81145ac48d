#include "plane_row_order.h"

#include <algorithm>
#include "tiling.h"

namespace convnd {

PlaneRowOrder::PlaneRowOrder(const AxisMap& ad, const AxisMap& ah, int64_t rowFloats, int64_t multiple)
    : dCount_(ad.count), hCount_(ah.count), blocked_(ad.count > 1 && ad.taps() > 1) {
  // A block of b output rows holds (b - 1) * inStep + taps input rows in each of the D taps'
  // planes; the bound below takes taps - inStep rows off b * inStep without dividing by the
  // stride, a little short of the largest fitting block at stride 2. In doubles: a huge stride
  // may make the product overflow.
  const double perOutputRow = std::max(1.0, static_cast<double>(rowFloats) * static_cast<double>(ad.taps() * ah.inStep));
  const int64_t fitting = static_cast<int64_t>(kBlockFloats / perOutputRow) - std::max<int64_t>(0, ah.taps() - ah.inStep);
  rowBlock_ = blocked_ ? std::min(roundUp(std::max(kRowBlock, fitting), multiple), hCount_) : hCount_;
}

PlaneRowOrder::Row PlaneRowOrder::at(int64_t index) const {
  const int64_t first = index / (dCount_ * rowBlock_) * rowBlock_;
  const int64_t blockRows = std::min(rowBlock_, hCount_ - first);  // the last block may be shorter
  const int64_t within = index - first * dCount_;
  return {within / blockRows, first + within % blockRows, first + blockRows};
}

}  // namespace convnd
