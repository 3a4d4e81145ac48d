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
  // How a window row (jd, jh) is found for every channel: outside the input (the fill row),
  // in place (offset: from the channel's plane), kept (offset: its slot within the channel's
  // slots, tag: what says it is there), or filled into the window's own slot (uncached).
  struct RowKey {
    enum Kind { kOutside, kInPlace, kCached, kUncached } kind;
    int64_t id, ih, offset, tag;
  };
  // keys_ for the window at output row (td, th) and tile start t0.
  void planWindow(int64_t td, int64_t th, int64_t t0);
  // Fills `key`'s row of the channel whose plane is planeData into `slot`. `aheadPlane`: the
  // plane kPrefetchChannelsAhead channels on (or null), whose same row is prefetched.
  const float* fill(const RowKey& key, int64_t slot, const float* planeData, const float* aheadPlane);
  int64_t tag(int64_t id, int64_t ih) const { return id * (ah_.inSize + 1) + ih; }

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
  std::vector<RowKey> keys_;  // the current window's rows, in order (jd, jh)
};

template <class Plane>
const float* const* RowCache::window(int64_t planeSet, int64_t c0, int64_t c1, int64_t td, int64_t th, int64_t t0, Plane plane) {
  if (t0 != t0_ || planeSet != planeSet_) {
    invalidate();
    if (t0 != t0_) planFills(t0);
    t0_ = t0;
    planeSet_ = planeSet;
  }
  // Where each window row lives, worked out once for all the channels: a channel's row is then
  // a tag compare at a fixed distance from the first channel's. Against working out position,
  // slot and tag per (channel, row) (with rows shared with the last window taken from it): a
  // 1-d k3 64 -> 64 forward 7% faster, its data gradient 3-4%, 3x3x3 16 -> 16 forward and data
  // gradient 3%, weight gradient 1.5%, 32 -> 32 forward 1% (one thread, in-process alternation).
  planWindow(td, th, t0);
  pointers_.resize(static_cast<size_t>((c1 - c0) * static_cast<int64_t>(keys_.size())));
  size_t i = 0;
  for (int64_t c = c0; c < c1; ++c) {
    const float* data = plane(c);
    const float* ahead = c + kPrefetchChannelsAhead < c1 ? plane(c + kPrefetchChannelsAhead) : nullptr;
    const int64_t channelSlot = c * slotsPerChannel_;
    for (const RowKey& key : keys_) {
      const float* row;
      switch (key.kind) {
        case RowKey::kOutside: row = outside_.data(); break;
        case RowKey::kInPlace: row = data + key.offset; break;
        case RowKey::kCached: {
          const int64_t slot = channelSlot + key.offset;
          row = tags_[static_cast<size_t>(slot)] == key.tag ? data_.data() + slot * layout_.rowLength
                                                             : fill(key, slot, data, ahead);
          break;
        }
        default: row = fill(key, static_cast<int64_t>(i), data, ahead);  // uncached: slot i
      }
      pointers_[i++] = row;
    }
  }
  return pointers_.data();
}

}  // namespace convnd
