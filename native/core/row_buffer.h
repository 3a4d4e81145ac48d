// The row buffer: a small, zero-padded (or fill-padded) copy of the input rows one tile of
// outputs reads along the innermost axis. Padding, stride and dilation are resolved here, so
// that every micro-kernel reads T consecutive floats per tap with unit stride.
//
// A tap j of output position t reads input s * t + off[j]. Writing off[j] = s * q + p with
// 0 <= p < s, the taps of one residue p read one de-interleaved sequence x[s * (t + q) + p], so
// taps sharing a residue share a segment of the buffer; a segment is split where its taps lie
// more than a tile apart (large dilation), which bounds the buffer by taps * tile width.
#pragma once
#include <cstdint>
#include <vector>
#include "axis_map.h"
#include "kernel_table.h"

namespace convnd {

struct RowLayout {
  struct Segment {
    int64_t residue;  // p
    int64_t qFirst;   // smallest q of the segment's taps
    int64_t length;   // floats stored
    int64_t start;    // offset in the row
  };
  int64_t tileWidth = 0;
  int64_t rowLength = 0;  // floats a row occupies
  std::vector<Segment> segments;
  std::vector<int32_t> tapOffset;  // per tap of the axis: where its T floats start
  // The ISA's vectorised stride-2 gather, or null for the plain loop.
  void (*copyStride2)(float* dst, const float* src, int64_t n) = nullptr;
};

RowLayout makeRowLayout(const AxisMap& axis, int64_t tileWidth, const KernelTable& kernels);

// Which elements of one segment copy the input for the tile starting at output position t0:
// element v reads input index first + inStep * v when vLo <= v < vHi, and is the fill value
// otherwise. It depends on t0 alone: callers that fill many rows for one tile start compute
// it once (its divisions cost as much as copying a short row).
struct SegmentCopy {
  int64_t vLo, vHi, first;
};
std::vector<SegmentCopy> planRowFill(const RowLayout& layout, const AxisMap& axis, int64_t t0);

// Fills one segment at dst from `input` (one input row of axis.inSize floats, or null for a
// row outside the input), as `copy` (its entry of planRowFill) says.
void fillSegment(const RowLayout::Segment& seg, const SegmentCopy& copy, const RowLayout& layout, int64_t inStep,
                 const float* input, float fill, float* dst);

// dst[e] = row[first + e] where 0 <= first + e < inSize, zero elsewhere (everywhere when row is
// null), for e < length: a stretch of one input row with the padding around it.
void copyRowPadded(float* dst, int64_t length, const float* row, int64_t first, int64_t inSize);

// Fills every segment of one row.
void fillRow(const RowLayout& layout, const std::vector<SegmentCopy>& copies, int64_t inStep, const float* input,
             float fill, float* row);

}  // namespace convnd
