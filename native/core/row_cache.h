// The filled input rows a task reads, reused across its consecutive output rows: a KxK window
// at stride 1 shares K-1 input rows with the next output row, so each row is filled once
// instead of K times. Slots are direct-mapped by (id mod slotsD, ih mod slotsH), where slots*
// cover a window's extent in input rows, so the rows of one window never collide.
//
// When that would take too much memory (huge dilations, very many channels) the cache runs
// uncached: one slot per (channel, tap row) of the current window, refilled every time.
// Rows that need no padding, no phase split and no copy (stride 1, span inside the input) are
// not copied at all: the kernels read them in place, unless the channel planes lie a multiple
// of 4 KiB apart (their rows would all compete for one set of L1).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>
#include "axis_map.h"
#include "row_buffer.h"

namespace convnd {

class RowCache {
 public:
  // A fill prefetches the same row this many channels ahead: a row's copy is shorter than a
  // fetch from L3, so the next channel's prefetch arrived too late. Four channels ahead made
  // 3x3 128 -> 128 layers at 28x28 2-5% faster (forward and both gradients, in-process
  // alternation), and measured the same as one on 56x56, 1-d, 3-d and stem layers.
  static constexpr int64_t kPrefetchChannelsAhead = 4;

  // Rows of `channels` input channels (a group's); uncached, of `chunk` channels at a time.
  // Cached, the windows of `heldRows` consecutive output rows (of one D row) can be held at
  // once: their pointers stay valid until a window further on is asked for.
  RowCache(const AxisMap& ad, const AxisMap& ah, const AxisMap& aw, const RowLayout& layout,
           int64_t channels, int64_t chunk, float fill, int64_t heldRows = 1);

  // Whether filled rows are kept (else each window's fills reuse the last window's slots).
  bool cached() const { return cached_; }

  // Forgets every filled row: call when the input plane set or the tile start changes.
  void invalidate();

  // Row pointers for channels [c0, c1) of the window at output row (td, th), in the kernels'
  // order (c, jd, jh); `plane(c)` gives channel c's input plane, and `planeSet` names the set
  // of planes (say batch item and group): a new one empties the cache. Fills what is missing.
  template <class Plane>
  const float* const* window(int64_t planeSet, int64_t c0, int64_t c1, int64_t td, int64_t th, int64_t t0, Plane plane);

 private:
  // The fill plan (copies_, readFirst_, readEnd_) for tile start t0.
  void planFills(int64_t t0);
  // `aheadPlane`: the plane kPrefetchChannelsAhead channels on (or null), whose same row is
  // prefetched on a fill. Inline for the common case, a row already in the cache (most rows
  // of a window: a call each was 2-8% of 3x3 and stem layers); fillFor does the rest.
  const float* rowFor(int64_t c, int64_t id, int64_t ih, int64_t slotHint, int64_t t0, const float* planeData,
                      const float* aheadPlane) {
    if (cached_ && !direct_ && id >= 0 && id < ad_.inSize && ih >= 0 && ih < ah_.inSize) {
      const int64_t slot = cachedSlot(c, id, ih);
      if (tags_[static_cast<size_t>(slot)] == tag(id, ih)) return data_.data() + slot * layout_.rowLength;
    }
    return fillFor(c, id, ih, slotHint, t0, planeData, aheadPlane);
  }
  // Where input row (id, ih) of channel c lives when rows are kept (cached_), and the tag that
  // says it is there.
  int64_t cachedSlot(int64_t c, int64_t id, int64_t ih) const {
    return c * slotsPerChannel_ + (id & (slotsD_ - 1)) * slotsH_ + (ih & (slotsH_ - 1));
  }
  int64_t tag(int64_t id, int64_t ih) const { return id * (ah_.inSize + 1) + ih; }
  const float* fillFor(int64_t c, int64_t id, int64_t ih, int64_t slotHint, int64_t t0, const float* planeData,
                       const float* aheadPlane);

  const AxisMap &ad_, &ah_, &aw_;
  const RowLayout& layout_;
  float fill_;
  bool direct_;  // stride-1 rows with one segment: interior spans are read in place
  bool cached_;
  // Slots along D and H: powers of two, so that a row's slot is a mask rather than a division.
  int64_t slotsD_, slotsH_, slotsPerChannel_;
  std::vector<float> data_;
  std::vector<int64_t> tags_;  // id * (inSizeH + 1) + ih, or -1
  std::vector<float> outside_;  // the row for input rows outside the input
  bool outsideReady_ = false;
  int64_t t0_ = -1, planeSet_ = -1;
  std::vector<SegmentCopy> copies_;  // the fill plan for tile start t0_
  int64_t readFirst_ = 0, readEnd_ = 0;  // the input elements [first, end) of a row its fills read
  std::vector<const float*> pointers_;
  // Per tap jh of H: the tap that read the same input row one output row before (offset
  // offset[jh] + inStep), or -1.
  std::vector<int64_t> shiftFrom_;
  std::vector<const float*> lastPointers_;  // the window before pointers_
  // The last window asked for (lastC1_ = -1: none since the cache was emptied).
  int64_t lastTd_ = 0, lastTh_ = 0, lastC0_ = 0, lastC1_ = -1;
};

template <class Plane>
const float* const* RowCache::window(int64_t planeSet, int64_t c0, int64_t c1, int64_t td, int64_t th, int64_t t0, Plane plane) {
  if (t0 != t0_ || planeSet != planeSet_) {
    invalidate();
    if (t0 != t0_) planFills(t0);
    t0_ = t0;
    planeSet_ = planeSet;
  }
  const int64_t tD = ad_.taps(), tH = ah_.taps();
  // The next output row's window over the same channels: the rows it shares with the last
  // window are where that one found them (kept rows never collide within a window), so only
  // the rows it adds are looked up: a 3x3x3 16 -> 16 layer at 64^3 2% faster forward, 1% on
  // the data gradient, 2-3% on the weight gradient (one thread, in-process alternation).
  const bool shifted = cached_ && td == lastTd_ && th == lastTh_ + 1 && c0 == lastC0_ && c1 == lastC1_;
  pointers_.swap(lastPointers_);  // lastPointers_: the last window's rows
  pointers_.resize(static_cast<size_t>((c1 - c0) * tD * tH));
  size_t i = 0;
  for (int64_t c = c0; c < c1; ++c) {
    const float* data = plane(c);
    const float* ahead = c + kPrefetchChannelsAhead < c1 ? plane(c + kPrefetchChannelsAhead) : nullptr;
    for (int64_t jd = 0; jd < tD; ++jd)
      for (int64_t jh = 0; jh < tH; ++jh, ++i) {
        const int64_t from = shifted ? shiftFrom_[static_cast<size_t>(jh)] : -1;
        if (from >= 0) {
          pointers_[i] = lastPointers_[static_cast<size_t>(static_cast<int64_t>(i) + from - jh)];
          continue;
        }
        const int64_t id = ad_.inStep * td + ad_.offset[jd], ih = ah_.inStep * th + ah_.offset[jh];
        pointers_[i] = rowFor(c, id, ih, static_cast<int64_t>(i), t0, data, ahead);
      }
  }
  lastTd_ = td;
  lastTh_ = th;
  lastC0_ = c0;
  lastC1_ = c1;
  return pointers_.data();
}

}  // namespace convnd
