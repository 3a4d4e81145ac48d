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
  taps.reserve(static_cast<size_t>(axis.taps()));
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

std::vector<SegmentCopy> planRowFill(const RowLayout& layout, const AxisMap& axis, int64_t t0) {
  const int64_t s = axis.inStep, n = axis.inSize;
  std::vector<SegmentCopy> copies;
  copies.reserve(layout.segments.size());
  for (const RowLayout::Segment& seg : layout.segments) {
    // Element v reads input index s * (t0 + qFirst + v) + residue; keep the v inside [0, n).
    const int64_t first = s * (t0 + seg.qFirst) + seg.residue;
    const InsidePositions inside = insidePositions(first, s, n);
    const int64_t vLo = std::min(inside.lo, seg.length);
    const int64_t vHi = std::max(std::min(inside.hi, seg.length), vLo);
    copies.push_back({vLo, vHi, first});
  }
  return copies;
}

void fillSegment(const RowLayout::Segment& seg, const SegmentCopy& copy, const RowLayout& layout, int64_t inStep,
                 const float* input, float fill, float* dst) {
  const int64_t vLo = input ? copy.vLo : seg.length, vHi = input ? copy.vHi : seg.length;
  for (int64_t v = 0; v < vLo; ++v) dst[v] = fill;
  if (vHi == vLo) {
    // nothing of the input falls in this segment
  } else if (inStep == 1) {
    std::copy(input + copy.first + vLo, input + copy.first + vHi, dst + vLo);
  } else if (inStep == 2 && layout.copyStride2) {
    layout.copyStride2(dst + vLo, input + copy.first + vLo * 2, vHi - vLo);
  } else {
    const float* src = input + copy.first + vLo * inStep;
    for (int64_t v = vLo; v < vHi; ++v, src += inStep) dst[v] = *src;
  }
  for (int64_t v = vHi; v < seg.length; ++v) dst[v] = fill;
}

void copyRowPadded(float* dst, int64_t length, const float* row, int64_t first, int64_t inSize) {
  const int64_t lo = row ? std::clamp<int64_t>(-first, 0, length) : length;
  const int64_t hi = row ? std::clamp<int64_t>(inSize - first, lo, length) : length;
  std::fill(dst, dst + lo, 0.0f);
  if (hi > lo) std::copy(row + (first + lo), row + (first + hi), dst + lo);
  std::fill(dst + hi, dst + length, 0.0f);
}

void fillRow(const RowLayout& layout, const std::vector<SegmentCopy>& copies, int64_t inStep, const float* input,
             float fill, float* row) {
  for (size_t i = 0; i < layout.segments.size(); ++i)
    fillSegment(layout.segments[i], copies[i], layout, inStep, input, fill, row + layout.segments[i].start);
}

}  // namespace convnd
