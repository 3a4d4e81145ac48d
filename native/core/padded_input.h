// A zero-padded copy of an input, made once per call, so that every tap of every output
// position lies inside it and rows are read in place, where the row cache would copy each padded
// row and look every window's rows up. Used by 2-d channel-mode layers (forward and every stride
// phase of the data gradient, one copy of dY for all) and by the weight gradient's register tiles
// (conv_backward_weight.cc). Measured (one thread, in-process alternation, AVX-512): 3x3 56x56
// layers' forward and data gradient 2-3% faster (a stride-2 data gradient, whose four phases
// each filled dY's rows, 4%), batch-8 28x28 2%, 14x14 and 112x112 layers up to 1%; on two
// threads the same to 2% faster: there the copy takes longer (70 against 45 us for a 64-channel
// 56x56 input, likely as each thread writes lines the other read in the last call). Not used
// where it measured slower: 1-d layers in channel mode (k5 and k9, 1-2%), 3-d windows (a 3x3x3
// 16 -> 16 64^3 volume 4-12%), row and band mode (1-d k3 3%, the 7x7 stem 1%, the tiny 3 -> 8
// call).
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
// may differ, as a data gradient's stride phases do) into `buffer` when that pays (see above),
// and points every problem at the copy, its maps shifted onto it. Returns whether it did.
bool readPaddedInput(const KernelTable& kernels, std::vector<WindowedGemm>& problems, ReusedBuffer& buffer);

}  // namespace convnd
