// The forward and data gradient of layers with many weights and few output positions (ResNet's
// last stages: a 1x1 2048 -> 512 layer at 7x7 has 1M weights for 49 positions, a 3x3 512 -> 512
// one 2.4M), without packing the weights. Every other driver packs them into [c][mr] blocks, a
// 16 x 16 register transpose per 256 floats. Here the roles turn around: the input, smaller than
// the weights, is laid out as an im2col matrix X[c][tap][position] (copies and gathers; each
// thread builds its own copy), and the tile (KernelTable::broadcastTile: AVX-512's alone, see
// kernels_avx512.cc) holds registers of output positions, reading each weight in place as one
// float broadcast over them. Outputs are written straight into NCHW rows. A position count that is
// not a whole number of registers leaves its last few positions to dot products of weight rows
// with X's transposed columns (BroadcastTileKernel::dot).
//
// An im2col of more than 512 KiB is cut into slices of input channels, a thread each
// (ReductionSlices): on two threads the 3x3 512 -> 512 7x7 forward ran 3-5% faster from
// JavaScript, calls back to back (medians 1.13-1.19 ms against 1.18-1.22), the same on one.
//
// A data gradient's weights are the forward's read across its output channels: its tile reads
// them in place with a software prefetch a few channels ahead (BroadcastTileKernel::strided), its
// last positions' dot products over each block's run of one channel's weights
// (BroadcastTileKernel::segmentDot). The stage-4 3x3 512 -> 512 7x7 data gradient against the
// packing driver, from JavaScript, calls back to back, on a Zen 4: 2.42-2.47 ms against
// 2.69-3.20 (medians) on one thread, 1.18-1.22 against 1.20-1.33 on two.
//
// Against the weight-stationary driver (in-process alternation, AVX-512), on a Zen 5: 1x1 512 ->
// 2048 at 7x7 12-13% faster on one thread, 8-10% on two; 2048 -> 512 13% and 7-28%; 1x1 stride-2
// 1024 -> 2048 from 14x14 28-31% and 23-26% (forward). On a Zen 4, where the packing transposes
// cost more: 3x3 512 -> 512 at 7x7 9-15% faster on one thread, 5-15% on two (medians of five runs
// each), 3x3 stride-2 256 -> 512 from 14x14 9-11% and 7-13%. (On the Zen 5, with one X for all
// threads and built a run at a time, that 3x3 layer ran as fast on one thread and up to 10%
// slower on two; it was not measured there with the per-thread X.)
#pragma once
#include "kernel_table.h"
#include "windowed_gemm.h"

namespace convnd {

// Runs the problem and returns true where this driver takes it: every output position written
// once and in order, at least one register of positions (two for a data gradient), and enough
// weights to outgrow the caches beside an im2col that fits L2. Otherwise returns false having
// done nothing.
bool runWeightBroadcastGemm(const KernelTable& kernels, const WindowedGemm& p);

}  // namespace convnd
