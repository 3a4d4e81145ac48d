// Channel mode of the windowed GEMM: the transposed register tile (channelTile in
// kernel_table.h) holds output channels in its vector lanes and broadcasts one input per
// position, so a row tile can be any number of positions from 1 to the kernel's maximum.
// Rows whose width is not a multiple of the vector width (28, 56) waste nothing, nor do
// channel counts that are multiples of it (64 on a 6-channel wide tile pads to 66).
//
// The input comes through the same row buffers and row cache as row mode, or, along an axis
// without padding, is read in place (stride 1 or 2); results collect in a [position][channel]
// accumulator per task and are transposed into the output at the end.
#pragma once
#include "gemm_plan.h"
#include "kernel_table.h"
#include "windowed_gemm.h"

namespace convnd {

void runChannelGemm(const KernelTable& kernels, const WindowedGemm& p, GemmPlan& plan);

}  // namespace convnd
