// Blocking constants and helpers shared by the drivers.
#pragma once
#include <cstdint>

namespace convnd {

// Row buffers up to this many floats (96 KiB) stay in L2 while every output-channel block of
// a tile reads them.
constexpr int64_t kRowBufferFloats = 24 * 1024;

// The input rows one register tile reads are kept to this many floats (16 KiB; rows start
// anywhere in a cache line, so they take more in L1), so that they stay in L1 or near it while
// every output-channel block reads them. 2048 split a 1-d 64 -> 64 k3 layer's channels in two
// chunks, whose second pass reloaded every output tile: one chunk made its forward and data
// gradient 6% faster on AVX-512 (one and two threads, in-process alternation); stem, tiny, 1-d
// k255, 16- and 24-channel 3x3 layers and 3x3 stride-2 data gradients measured the same.
constexpr int64_t kTileRowsFloats = 4096;

// The same for channel mode (channel_gemm.h), whose tiles reload their accumulators once per
// chunk: fewer reloads outweigh rows spilling from L1 to L2. 4096 floats measured 2-9% faster
// than 2048 on 3x3 and 1x1 layers; 8192 another 5-8% on a 1x1 layer (whose chunks, one tap a
// channel, hold the fewest multiply-adds per reload); 32768 (128 KiB, still in L2) another
// 5-9% on that layer in the machine's slow phases (the same in its fast ones, and on 3x3 layers,
// in-process alternation). 131072 (512 KiB, half of Zen 5's L2): pointwise layers in fewer
// chunks (256 -> 64 at 56x56 in one), its forward 2.7% faster on one thread and two, 512 -> 128 28x28
// 3-5%, 1024 -> 256 14x14 1-3%, the 64 -> 256 data gradient 2.5%; 1-d k3 512 -> 512 2-3%; 3x3
// and 3x3x3 layers the same (one thread and two, in-process alternation).
constexpr int64_t kChannelTileRowsFloats = 131072;

// Output positions one task covers along the innermost axis (several register tiles).
constexpr int64_t kTaskWidth = 256;

// Multiply-adds below which a task is not worth a dispatch: rows are grouped up to this.
constexpr int64_t kTaskWork = 1 << 17;

inline int64_t floorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

inline int64_t roundUp(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

}  // namespace convnd
