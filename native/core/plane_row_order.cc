#include "plane_row_order.h"

#include <algorithm>
#include "tiling.h"

namespace convnd {

PlaneRowOrder::PlaneRowOrder(const AxisMap& ad, const AxisMap& ah, int64_t multiple)
    : dCount_(ad.count), hCount_(ah.count), blocked_(ad.count > 1 && ad.taps() > 1) {
  rowBlock_ = blocked_ ? std::min(roundUp(kRowBlock, multiple), hCount_) : hCount_;
}

PlaneRowOrder::Row PlaneRowOrder::at(int64_t index) const {
  const int64_t first = index / (dCount_ * rowBlock_) * rowBlock_;
  const int64_t blockRows = std::min(rowBlock_, hCount_ - first);  // the last block may be shorter
  const int64_t within = index - first * dCount_;
  return {within / blockRows, first + within % blockRows, first + blockRows};
}

}  // namespace convnd
