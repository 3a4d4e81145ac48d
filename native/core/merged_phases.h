// The data gradient of a layer with few input channels per group and a strided row axis (an
// RGB stem, a 1-channel 1-d signal): the stride phases along the row become extra output
// channels of one windowed GEMM per phase of the other axes, instead of a GEMM each. They then
// share every pass over dY and fill wider register tiles (a 7x7 stride-2 stem into 3 channels:
// 6 channels on the wide tile, 2 passes instead of 4), at the cost of zero weights where a
// phase lacks one of the union's taps and a last pass that interleaves the phases into dx.
#pragma once
#include "descriptors.h"
#include "kernel_table.h"
#include "windowed_gemm.h"

namespace convnd {

// Runs the data gradient of `d` (collapsed) that way and returns true, or returns false
// (nothing written) where it does not apply. Arguments as convBackwardData's, with the forward
// weight's strides (element (g, k, c, r) at w[g*group + k*outChannel + c*inChannel + r...*axis]).
bool runMergedRowPhases(const KernelTable& kernels, const ConvDesc& d, const float* dy, const float* w,
                        const WeightStrides& forwardStrides, const float* bias, float* dx);

}  // namespace convnd
