#include "row_cache.h"

#include <algorithm>
#include "l1_sets.h"
#include "prefetch.h"

namespace convnd {

namespace {

// Memory a cache may take (floats) before it runs uncached: 16 MiB a thread.
constexpr int64_t kCacheFloats = int64_t(4) << 20;

// Input rows a window spans along one axis.
int64_t extent(const AxisMap& a) {
  if (a.taps() == 0) return 1;
  const auto [lo, hi] = std::minmax_element(a.offset.begin(), a.offset.end());
  return *hi - *lo + 1;
}

int64_t powerOfTwoAtLeast(int64_t v) {
  int64_t p = 1;
  while (p < v) p *= 2;
  return p;
}

}  // namespace

RowCache::RowCache(const AxisMap& ad, const AxisMap& ah, const AxisMap& aw, const RowLayout& layout,
                   int64_t channels, int64_t chunk, float fill, int64_t heldRows)
    : ad_(ad), ah_(ah), aw_(aw), layout_(layout), fill_(fill) {
  direct_ = layout.segments.size() == 1 && aw.inStep == 1 && planesSpreadOverL1(ad.inSize * ah.inSize * aw.inSize);
  slotsD_ = powerOfTwoAtLeast(std::min(extent(ad), ad.inSize));
  const int64_t windowSlotsH = powerOfTwoAtLeast(std::min(extent(ah), ah.inSize));
  const int64_t rowsPerChannel = std::max<int64_t>(1, ad.taps() * ah.taps());
  const bool dense = slotsD_ * windowSlotsH <= 4 * rowsPerChannel;  // sparse windows (dilation) gain little
  // The held windows span (heldRows - 1) * inStep rows more than one.
  slotsH_ = powerOfTwoAtLeast(std::min(extent(ah) + (heldRows - 1) * ah.inStep, ah.inSize));
  cached_ = dense && channels * slotsD_ * slotsH_ * layout.rowLength <= kCacheFloats;
  slotsPerChannel_ = cached_ ? slotsD_ * slotsH_ : rowsPerChannel;
  // Uncached, only the current chunk's rows are held; the caller keeps chunks L1-sized.
  const int64_t slots = std::max<int64_t>(1, (cached_ ? channels : chunk) * slotsPerChannel_);
  data_.assign(static_cast<size_t>(slots * layout.rowLength + 1), 0.0f);
  tags_.assign(static_cast<size_t>(slots), -1);
  outside_.assign(static_cast<size_t>(layout.rowLength + 1), fill);
}

void RowCache::planFills(int64_t t0) {
  copies_ = planRowFill(layout_, aw_, t0);
  readFirst_ = aw_.inSize;
  readEnd_ = 0;
  for (const SegmentCopy& copy : copies_) {
    if (copy.vHi == copy.vLo) continue;
    readFirst_ = std::min(readFirst_, copy.first + aw_.inStep * copy.vLo);
    readEnd_ = std::max(readEnd_, copy.first + aw_.inStep * (copy.vHi - 1) + 1);
  }
}

void RowCache::invalidate() {
  std::fill(tags_.begin(), tags_.end(), -1);
  outsideReady_ = false;
}

void RowCache::planWindow(int64_t td, int64_t th, int64_t t0) {
  keys_.clear();
  // A stride-1 row whose span lies inside the input needs no copy where direct_: it is read in
  // place (its first element `first`).
  const int64_t first = direct_ ? t0 + layout_.segments[0].qFirst : 0;
  const bool inPlace = direct_ && first >= 0 && first + layout_.segments[0].length <= aw_.inSize;
  for (const int64_t od : ad_.offset)
    for (const int64_t oh : ah_.offset) {
      RowKey key;
      key.id = ad_.inStep * td + od;
      key.ih = ah_.inStep * th + oh;
      key.tag = tag(key.id, key.ih);
      if (key.id < 0 || key.id >= ad_.inSize || key.ih < 0 || key.ih >= ah_.inSize) {
        key.kind = RowKey::kOutside;
        key.offset = 0;
        if (!outsideReady_) {
          fillRow(layout_, copies_, aw_.inStep, nullptr, fill_, outside_.data());
          outsideReady_ = true;
        }
      } else if (inPlace) {
        key.kind = RowKey::kInPlace;
        key.offset = (key.id * ah_.inSize + key.ih) * aw_.inSize + first;
      } else if (cached_) {
        key.kind = RowKey::kCached;
        key.offset = (key.id & (slotsD_ - 1)) * slotsH_ + (key.ih & (slotsH_ - 1));
      } else {
        key.kind = RowKey::kUncached;
        key.offset = 0;
      }
      keys_.push_back(key);
    }
}

const float* RowCache::fill(const RowKey& key, int64_t slot, const float* planeData, const float* aheadPlane) {
  float* row = data_.data() + slot * layout_.rowLength;
  const int64_t rowStart = (key.id * ah_.inSize + key.ih) * aw_.inSize;
  // The fills jump from plane to plane, which the hardware prefetchers do not follow: fetch
  // a later channel's row meanwhile (3x3 stride-1 layers 2-5% faster, in-process alternation).
  // Only what the fill reads: prefetching whole 16384-float rows of a 1-d layer made it 60%
  // slower.
  if (aheadPlane && readEnd_ > readFirst_) prefetchFloats(aheadPlane + rowStart + readFirst_, readEnd_ - readFirst_);
  // The same tap's row for the next output row, inStep rows on: the rows it adds in this
  // plane. A 3-d window's 3 planes x 16-32 channels are more concurrent streams than the
  // prefetchers track, so those rows came from memory at the fill. 3-d 3x3x3 layers 3-8%
  // faster (forward and data gradient, 1 and 2 threads, in-process alternation); 2-d layers,
  // whose input stays in L2/L3, the same.
  if (readEnd_ > readFirst_ && key.ih + ah_.inStep < ah_.inSize)
    prefetchFloats(planeData + rowStart + ah_.inStep * aw_.inSize + readFirst_, readEnd_ - readFirst_);
  fillRow(layout_, copies_, aw_.inStep, planeData + rowStart, fill_, row);
  if (cached_) tags_[static_cast<size_t>(slot)] = key.tag;
  return row;
}

}  // namespace convnd
