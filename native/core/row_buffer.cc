#include "row_buffer.h"

#include <algorithm>
#include "tiling.h"

namespace convnd {

RowLayout makeRowLayout(const AxisMap& axis, int64_t tileWidth, const KernelTable& kernels) {
  RowLayout layout;
  layout.tileWidth = tileWidth;
  layout.copyStride2 = kernels.copyStride2;
  const int64_t s = axis.inStep;
  struct Tap { int64_t p, q, index; };
  std::vector<Tap> taps;
  for (int64_t j = 0; j < axis.taps(); ++j) {
    int64_t q = floorDiv(axis.offset[j], s);
    taps.push_back({axis.offset[j] - q * s, q, j});
  }
  std::sort(taps.begin(), taps.end(),
            [](const Tap& a, const Tap& b) { return a.p != b.p ? a.p < b.p : a.q < b.q; });
  layout.tapOffset.assign(taps.size(), 0);
  for (size_t i = 0; i < taps.size(); ++i) {
    const Tap& t = taps[i];
    bool extend = !layout.segments.empty() && layout.segments.back().residue == t.p &&
                  t.q - (layout.segments.back().qFirst + layout.segments.back().length - tileWidth) <= tileWidth;
    if (!extend) {
      layout.segments.push_back({t.p, t.q, tileWidth, layout.rowLength});
      layout.rowLength += tileWidth;
    } else {
      RowLayout::Segment& seg = layout.segments.back();
      int64_t needed = t.q - seg.qFirst + tileWidth;
      if (needed > seg.length) {
        layout.rowLength += needed - seg.length;
        seg.length = needed;
      }
    }
    const RowLayout::Segment& seg = layout.segments.back();
    layout.tapOffset[t.index] = static_cast<int32_t>(seg.start + t.q - seg.qFirst);
  }
  return layout;
}

void fillSegment(const RowLayout& layout, const RowLayout::Segment& seg, const AxisMap& axis,
                 const float* input, int64_t t0, float fill, float* dst) {
  const int64_t s = axis.inStep, n = axis.inSize;
  // Element v reads input index s * (t0 + qFirst + v) + residue.
  const int64_t first = s * (t0 + seg.qFirst) + seg.residue;
  if (!input) {
    std::fill(dst, dst + seg.length, fill);
    return;
  }
  // The v range whose index lies inside [0, n).
  int64_t vLo = first >= 0 ? 0 : (-first + s - 1) / s;
  int64_t vHi = first < n ? (n - 1 - first) / s + 1 : 0;
  vLo = std::min(vLo, seg.length);
  vHi = std::max(std::min(vHi, seg.length), vLo);
  std::fill(dst, dst + vLo, fill);
  if (vHi == vLo) {
    // nothing of the input falls in this segment
  } else if (s == 1) {
    std::copy(input + first + vLo, input + first + vHi, dst + vLo);
  } else if (s == 2 && layout.copyStride2) {
    layout.copyStride2(dst + vLo, input + first + vLo * 2, vHi - vLo);
  } else {
    const float* src = input + first + vLo * s;
    for (int64_t v = vLo; v < vHi; ++v, src += s) dst[v] = *src;
  }
  std::fill(dst + vHi, dst + seg.length, fill);
}

void fillRow(const RowLayout& layout, const AxisMap& axis, const float* input, int64_t t0,
             float fill, float* row) {
  for (const RowLayout::Segment& seg : layout.segments) fillSegment(layout, seg, axis, input, t0, fill, row + seg.start);
}

}  // namespace convnd
