// A zero-padded copy of an input, made once per call, so that every tap of every output
// position lies inside it and rows are read in place, where the row cache would copy each padded
// row and look every window's rows up. Used where one copy serves several passes: the stride
// phases of a 2-d data gradient in channel mode whose dY planes crowd L1's sets (elsewhere they
// read dY in place by runs of taps, channel_gemm.cc), and the weight gradient's register tiles
// (conv_backward_weight.cc: 2-d windows at stride 1 or 2, and 3-d ones of at least 32 output
// channels a group). A single channel-mode problem that cannot use tap runs stages its rows task
// by task instead (staged_rows.h). Not used where it measured slower: 1-d layers in channel mode (k5 and k9,
// 1-2%), 3-d windows in channel mode (a 3x3x3 16 -> 16 64^3 volume 4-12%), row and band mode
// (1-d k3 3%, the 7x7 stem 1%, the tiny 3 -> 8 call). (One thread, in-process alternation,
// AVX-512.)
#pragma once
#include <cstdint>
#include <vector>
#include "axis_map.h"
#include "descriptors.h"
#include "kernel_table.h"
#include "reused_buffer.h"
#include "windowed_gemm.h"

namespace convnd {

// Zeros added before and after an input along each axis.
struct InputMargins {
  int64_t before[kAxes] = {0, 0, 0}, after[kAxes] = {0, 0, 0};
  // Widens axis a's margins to hold every tap of every position of `map` inside.
  void include(int a, const AxisMap& map);
  bool any() const;
  // Moves `map` (of axis a) onto the padded input.
  void shift(AxisMap& map, int a) const;
};

// Copies `planes` consecutive planes of extents inSize from `input` into `buffer`, each with the
// margins' zeros around it, and returns the copy; or returns null (nothing copied) when the copy
// would exceed what a thread keeps between calls or its planes would crowd L1's sets.
const float* copyPadded(const float* input, int64_t planes, const int64_t inSize[kAxes], const InputMargins& margins,
                        ReusedBuffer& buffer);

// Pads the input that `problems` share (one input, batch, group and channel count; their maps
// differ, as a data gradient's stride phases do) into `buffer` when that pays (see above: two
// problems or more), and points every problem at the copy, its maps shifted onto it. Returns
// whether it did.
bool readPaddedInput(const KernelTable& kernels, std::vector<WindowedGemm>& problems, ReusedBuffer& buffer);

}  // namespace convnd
