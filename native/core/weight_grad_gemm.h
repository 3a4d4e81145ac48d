// The weight gradient of a layer with few output positions (ResNet's last stages: 49 at 7x7) as
// one GEMM, dW[g][k][c, tap] = sum_p dY[g][k][p] * X[g][p][c, tap], on the row tiles of a
// pointwise windowed GEMM whose "input channels" are the positions p: X (im2col, one row of
// every column a position, built a run of columns at a time) is small there, and dW comes out in
// its own layout. The register-tile path
// (conv_backward_weight.cc) reduces over just 49 positions per accumulator load, and transposes
// and zeroes 2.4M accumulators for a 3x3 512 -> 512 layer: about a third of its time (C++ profile).
#pragma once
#include "descriptors.h"
#include "kernel_table.h"

namespace convnd {

// Runs the weight gradient of d (pointwise axes collapsed) and returns true, or returns false
// where the problem is not one for this path.
bool runWeightGradAsGemm(const KernelTable& kernels, const ConvDesc& d, const float* dy, const float* x, float* dw);

}  // namespace convnd
