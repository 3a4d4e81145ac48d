// The contract between the portable core and the per-ISA micro-kernels.
// Each ISA folder under native/kernels/ fills one KernelTable; the core picks one at load time.
#pragma once
#include <cstdint>

namespace convnd {

// One register tile of the windowed GEMM: MR output channels x T output positions along the
// innermost axis. The input is rowCount "rows", each a zero-padded, phase-split copy of one
// input row (see row_buffer.h). Tap j of row r reads T consecutive floats starting at
// rows[r] + rowOffset + tapOffsets[j].
struct GemmTileArgs {
  const float* const* rows;
  int64_t rowOffset;
  int64_t rowCount;
  const int32_t* tapOffsets;
  int32_t taps;
  const float* weights;  // packed [rowCount][taps][MR]
  // Packed floats passed over after each row's taps: a channel tile over some of each row's
  // taps (channel_gemm.cc) reads its rows' weights weightSkip apart. Row tiles take 0.
  int32_t weightSkip = 0;
  float* out;            // MR x T accumulators
  int64_t outStride;     // floats between the accumulator rows of `out` (>= T)
  bool accumulate;       // add to `out` instead of overwriting it
  const float* bias;     // when not accumulating: MR starting values, or null for zeros
};
using GemmTileFn = void (*)(const GemmTileArgs&);

struct GemmKernel {
  int mr;          // output channels per tile
  int tileWidth;   // T, output positions per tile
  GemmTileFn fn;
};

// The transposed tile (tile_kernels.h, channelTile): mr output channels in registers times
// any number of positions from 1 to maxPositions, fn[s - 1][positions]. Tap j of row r at
// position p reads the one float rows[r] + rowOffset + tapOffsets[j] + s * p (s = 1 for row
// buffers, 1 or 2 for input rows read in place); `out` is [position][channel], position p at
// out + p * outStride, and `bias` (mr floats) is read as vectors.
constexpr int kMaxChannelTilePositions = 16;
constexpr int kMaxChannelTileStride = 2;
struct ChannelTileKernel {
  int mr = 0;  // 0: no such tile
  int maxPositions = 0;
  GemmTileFn fn[kMaxChannelTileStride][kMaxChannelTilePositions + 1];
};

// Weight gradient tile: acc[c][k] += sum_u columns[c][u] * dyT[u][k] for NC columns and one
// block of KW output channels (KW = the kernel's kWidth), over `rows` row tiles of `length`
// positions in turn: row r's dyT at dyT + r * dyTPitch, its NC column pointers at
// columns + r * columnsPitch.
struct WeightGradArgs {
  const float* dyT;             // [length][kStride], already offset to the k block
  int64_t kStride;
  const float* const* columns;  // NC pointers, each to `length` floats `columnStep` apart
  int64_t length;
  int64_t columnStep = 1;       // 1 or 2
  float* acc;                   // NC rows of accStride floats, already offset to the k block
  int64_t accStride;
  int64_t rows = 1;
  int64_t dyTPitch = 0;
  int64_t columnsPitch = 0;
};
using WeightGradFn = void (*)(const WeightGradArgs&);

// Weight gradient of a single output channel: acc[c][lane] += columns[c][u] * dy[u] for the u
// of each lane (u mod lanes), NC columns, vectorised over u. Lane sums are kept apart so that
// no horizontal sum is needed per tile; the caller adds the lanes up once, in a fixed order.
// Serves depthwise and other few-channel groups, where k-vector tiles would multiply padding.
// Row r (of `rows`) of the reduction reads `length` floats at dy + r * dyPitch and at
// columns[c] + r * columnPitch.
// The block form (weightDotBlock) takes NK channels of dY at once, channel i at dy + i * dyStride,
// its sums at acc + i * accStride: each column is loaded once for all of them.
struct WeightDotArgs {
  const float* dy;
  const float* const* columns;  // NC pointers
  int64_t length;
  int64_t rows = 1;
  int64_t dyPitch = 0, columnPitch = 0;
  float* acc;                   // NC x lanes floats (a channel's)
  int64_t dyStride = 0, accStride = 0;  // block form only
};
using WeightDotFn = void (*)(const WeightDotArgs&);

struct WeightGradKernel {
  int columns;   // NC
  int kWidth;    // output channels per tile
  WeightGradFn fn;
};

// The weight-broadcast tile (weight_broadcast_gemm.h): mk output channels x nv registers of
// positions, out[i * outStride + u] = bias[i] + sum_r weights[i * weightStride + r] *
// columns[r * columnStride + u] for i < mk, u < nv * lanes, r < depth. Each weight is read as
// one float and broadcast, each column row as nv registers; bias (mk floats) may be null.
struct BroadcastTileArgs {
  const float* weights;
  int64_t weightStride;
  int64_t depth;
  const float* columns;
  int64_t columnStride;
  const float* bias;
  float* out;
  int64_t outStride;
  // BroadcastTileKernel::strided's: the layout (channels x taps rows of the reduction) and what
  // to prefetch.
  int64_t channels = 0, channelStride = 0, taps = 0;
  const int64_t* tapOffsets = nullptr;
  int64_t prefetchChannels = 0, spanStart = 0, span = 1;
  // strided's dot products of the last positions, taken channel by channel beside the tile, while
  // the channel's weights are in L1 (a separate pass re-read them from L2: 10% of the stage-4
  // data gradient): segmentAcc[q * segmentFloats + s] += run(c)[m] * segmentX[(q * channels + c) *
  // segmentFloats + s] for m < segmentLength, q < segmentPositions, every channel c, where run(c)
  // (one channel's weights of the block as one run) starts at spanStart of channel c. The slot s of
  // m: m in the run's whole registers; a last register, of a run longer than one, holds its last
  // lanes floats, the lanes before the whole registers' end zero in segmentX. None where
  // segmentAcc is null.
  const float* segmentX = nullptr;
  float* segmentAcc = nullptr;
  int64_t segmentPositions = 0, segmentFloats = 0, segmentLength = 0;
  // BroadcastTileKernel::withLast's one more position: its column of the reduction (depth floats).
  const float* lastColumn = nullptr;
};
using BroadcastTileFn = void (*)(const BroadcastTileArgs&);
constexpr int kMaxBroadcastVectors = 3;
struct BroadcastTileKernel {
  int mk = 0;                                      // 0: none
  BroadcastTileFn fn[kMaxBroadcastVectors + 1] = {};  // fn[nv], nv in [1, kMaxBroadcastVectors]
  // fn's tile for weights in any layout (BroadcastTileArgs' strided fields), with the dot
  // products of the last positions where asked (a data gradient's block of mk channels has one
  // channel's weights as one run of mk * taps).
  BroadcastTileFn strided[kMaxBroadcastVectors + 1] = {};
  // The driver's dot products (WeightDotArgs, one dY row) for two last positions or more, in the
  // tile's own registers, over dotColumns columns and over one: through weightDot's 256-bit ones
  // (on AVX-512), the last of 49 positions took 10% of a 3x3 512 -> 512 7x7 forward's time.
  int dotColumns = 0, dotLanes = 0;
  WeightDotFn dot = nullptr, dotSingle = nullptr;
  // fn's tile and one position more (BroadcastTileArgs::lastColumn: a 7 x 7 layer's 49th) as dot
  // products taken beside it.
  BroadcastTileFn withLast[kMaxBroadcastVectors + 1] = {};
};
// Pooling over a row buffer (same layout as the GEMM's): T outputs per call.
// For max/min, `argTap` (if not null) receives the index of the first winning tap
// (row * taps + j) or -1 when no tap beat the fill value.
struct PoolTileArgs {
  const float* const* rows;
  int64_t rowOffset;
  int64_t rowCount;
  const int32_t* tapOffsets;
  int32_t taps;
  float* out;       // T values
  int32_t* argTap;  // T indices, or null
};
using PoolTileFn = void (*)(const PoolTileArgs&);

// Forward pooling straight from input rows, for the positions whose windows lie inside the
// input along the innermost axis: out[u] for u in [0, count) (count a multiple of the lane
// count) reduces rows[r][u * S + tapOffsets[j]] over every row r and tap j, S = 1 or 2.
struct PoolRowsArgs {
  const float* const* rows;
  int64_t rowCount;
  const int64_t* tapOffsets;
  int32_t taps;
  int64_t count;
  float* out;
};
using PoolRowsFn = void (*)(const PoolRowsArgs&);

// For each of `count` output rows r: out[r * outPitch + i] = max / min / sum over the rows
// rows[firstRow[r] - firstRow[0]] up to (not including) rows[firstRow[r + 1] - firstRow[0]] of
// row[i], for i in [0, n), any n; no rows gives the fill value (-inf, +inf, 0). A NaN in any
// row makes a max or min NaN.
using PoolColumnsFn = void (*)(const float* const* rows, const int64_t* firstRow, int64_t count, int64_t n,
                               float* out, int64_t outPitch);

// Max / min pooling backward, separably. The vertical half: best[i] = the extreme of
// rows[r][i] over r in [0, count) (count >= 1), arg[i] = the first r holding it (as a float),
// i in [0, n), any n.
using PoolColumnsArgFn = void (*)(const float* const* rows, int64_t count, int64_t n, float* best, float* arg);
// The horizontal half, over a row of such (best, arg) pairs: out[u] for u in [0, count) (a
// multiple of the lane count) = the key arg * keyScale + j of the winning tap j of the cells
// best[S * u + tapOffsets[j]] (the extreme; among ties the smallest key), S = 1 or 2.
struct PoolRowsArgArgs {
  const float* best;
  const float* arg;
  const int64_t* tapOffsets;
  int32_t taps;
  int64_t count;
  float keyScale;
  float* out;
};
using PoolRowsArgFn = void (*)(const PoolRowsArgArgs&);

constexpr int64_t kGatherPlaneFloats = 64;
struct KernelTable {
  const char* isa;       // "avx512" | "avx2" | "neon" | "scalar"
  GemmKernel gemmWide;   // many output channels per group
  GemmKernel gemmTail;   // gemmWide's channels over a single register of positions: the
                         // short last tile of a row (56 = 3 x 16 + 8 wastes nothing)
  GemmKernel gemmNarrow; // one output channel per tile: depthwise and tiny groups
  // Four channels over gemmWide's positions, and its one-register tail: for output channel
  // counts that are multiples of 4 but not of gemmWide's MR (8 = 6 + 2 pads a third).
  GemmKernel gemmQuad, gemmQuadTail;
  // Three channels over three registers of positions (9 accumulators), and its one-register
  // tail: 3 output channels (an RGB input's data gradient) would leave a quarter of gemmQuad idle.
  GemmKernel gemmTriple, gemmTripleTail;
  // Eight channels over three registers of positions (24 accumulators) and its one-register
  // tail, where an ISA has one (mr 0: none): for channel counts that are multiples of 8 but not
  // of gemmWide's MR (64 = 8 x 8 instead of 72 = 6 x 12, see chooseRowTile).
  GemmKernel gemmOctet, gemmOctetTail;
  ChannelTileKernel channelTile;
  // One register of output channels over channelTile's positions (mr 0: none), for channel
  // counts channelTile would pad, where it pads less than the row tiles or runs a 3-d window
  // (see chooseChannelTile): a 3-d 64^3 16 -> 16 layer, forward and data gradient, ran on
  // AVX-512's 3-5% faster than on gemmQuad on one thread, 6-7% on two.
  ChannelTileKernel channelTileNarrow;
  // Channel mode reading input rows in place (stride 2 with padding, or no padding): the most
  // bytes of packed weights one channel block of a chunk may take, so that they stay in L1
  // beside the rows (0: no cap, chunks as large as the rows allow). 18 KiB (32 channels of a
  // 3x3 layer at 16 lanes) made a 3x3 stride-2 layer 5-8% faster on AVX2 (Zen 3); on AVX-512
  // (Zen 4) the cap's 16-channel chunks were 2% slower on one thread and 7% on two.
  int64_t channelInPlaceWeightBytes;
  // dst[k * dstStride + u * step] = src[u * srcStride + k] for k < channels, u < positions:
  // channelTile's results into the output, dY into the weight gradient's [position][channel]
  // tiles, and weights into packed blocks. May read (never write) src up to position positions
  // rounded up to a multiple of 8. With step 2 it may also read the floats between the ones it
  // writes (dst[k * dstStride + 2u + 1], u < positions - 1) and write them back unchanged: no
  // other thread may write them meanwhile (the data gradient's stride phases run one at a time).
  void (*transposeOut)(float* dst, int64_t dstStride, int64_t step, const float* src, int64_t srcStride,
                       int64_t channels, int64_t positions);
  // The data gradient's weight packing (weight_packer.cc), where an ISA has it (null: none): for
  // each of `channels` spans (src + ch * channelStride), rows m < mr (mr a multiple of 16) of
  // `columns` floats (8 to 16) rowStride (>= columns) apart, dst[(ch * columns + j) * mr + m] =
  // row m's column j. Reads nothing outside [span, span + (mr - 1) * rowStride + columns).
  void (*packSpans)(float* dst, const float* src, int64_t channelStride, int64_t rowStride, int64_t columns, int64_t channels,
                    int mr);
  // The one-GEMM weight gradient's im2col (weight_grad_gemm.cc), where an ISA has it (null: none):
  // one output position's window over `channels` input planes of planeSize floats, one after
  // another: dst[c * taps + j] = plane c's float offsets[j] (0 where offsets[j] < 0), j < taps
  // <= 16. The offsets >= 0 lie within 32 floats from the least of them; nothing outside a
  // plane is read.
  void (*gatherTaps)(float* dst, const float* planes, int64_t planeSize, int64_t channels, const int64_t* offsets, int taps);
  // The weight-broadcast driver's im2col (weight_broadcast_gemm.cc) from planes of at most
  // kGatherPlaneFloats, where an ISA has it (null: none): dst[u] = plane[index[u]], 0 where
  // index[u] < 0, for u < count (a multiple of the lane count). Nothing outside the plane is read.
  void (*gatherPlane)(float* dst, const float* plane, int64_t planeFloats, const int32_t* index, int64_t count);
  WeightGradKernel weightGrad;
  // A tile one register of output channels wide, for groups it pads less than weightGrad (kWidth
  // 0: none, weightGrad serves every group). AVX-512's 32-channel weightGrad would leave 16-channel
  // groups half idle, or send them down the dot path: a 3x3x3 16 -> 16 gradient 2.3x slower.
  WeightGradKernel weightGradNarrow;
  // A tile of more output channels and fewer columns, for groups whose channels are a whole
  // number of its kWidth (0: none). AVX-512's 6 columns x 64 channels load 4 dY vectors and
  // broadcast 6 columns per 24 multiply-adds, where 12 x 32 loads 2 and broadcasts 12 (and
  // spills column pointers): on one thread 1x1 256 -> 64 and 3x3 batch-8 128 -> 128 gradients
  // 5% faster, the 7x7 stem 4%, 3x3 stride 2 and 1-d k255 3%, the other 64-channel ones 1-2%;
  // on two 1-5% (in-process alternation).
  WeightGradKernel weightGradWide;
  BroadcastTileKernel broadcastTile;
  int weightDotColumns;
  int lanes;  // floats a register
  int weightDotLanes;  // the lane count of weightDot's accumulators (their register width)
  WeightDotFn weightDot;
  WeightDotFn weightDotSingle;  // the same for one column: a group's last few columns
  // weightDot over weightDotBlockChannels channels and weightDotBlockColumns columns at once.
  int weightDotBlockChannels, weightDotBlockColumns;
  WeightDotFn weightDotBlock;
  int poolTileWidth;
  PoolTileFn maxPool, minPool, sumPool;
  PoolRowsFn poolRows[3][2];  // [max, min, sum][stride 1, stride 2]
  PoolColumnsFn poolColumns[3];  // [max, min, sum]
  PoolColumnsArgFn poolColumnsArg[2];  // [max, min]
  PoolRowsArgFn poolRowsArg[2][2];     // [max, min][stride 1, stride 2]
  // dst[v] = src[2 v] for v < n (stride-2 rows into the row buffer); reads src[0, 2n - 1).
  void (*copyStride2)(float* dst, const float* src, int64_t n);
  // dst[r * dstStride + i] = src[r * srcStride + i] + b for r < rows, i < n (no overlap).
  void (*addScalar)(float* dst, int64_t dstStride, const float* src, int64_t srcStride, int64_t rows, int64_t n, float b);
  // The same into every second float: dst[r * dstStride + 2 * i] = src[r * srcStride + i] + b.
  // The floats between are left as they are, but may be read and written back (never past a
  // row's last output, so rows may belong to other threads).
  void (*addScalarStep2)(float* dst, int64_t dstStride, const float* src, int64_t srcStride, int64_t rows, int64_t n,
                         float b);
  // dst[r * dstStride + i] = src[r * srcStride + i] * (rowScale[r] * scale[i]) for r < rows, i < n.
  void (*scaleRows)(float* dst, int64_t dstStride, const float* src, int64_t srcStride, int64_t rows, int64_t n,
                    const float* scale, const float* rowScale);
  // dst[step * u] += v[u] for u < n (no overlap). At step 2 it may read the floats between
  // (dst[2u + 1], u < n - 1) and write them back unchanged.
  void (*addStrided)(float* dst, const float* v, int64_t n, int64_t step);
  // dst[r * dstStride + i] = src[r * srcStride + i] for r < rows, i < n (no overlap).
  void (*copyRows)(float* dst, int64_t dstStride, const float* src, int64_t srcStride, int64_t rows, int64_t n);
  // Peak-rate probe: fmaPeakLoop(n) performs n * fmaFlopsPerIteration flops of pure FMA.
  int fmaFlopsPerIteration;
  float (*fmaPeakLoop)(int64_t iterations);
};

// Defined by the ISA folders; each is compiled with its own flags.
const KernelTable& scalarKernels();
#if defined(__x86_64__) || defined(_M_X64)
const KernelTable& avx2Kernels();
const KernelTable& avx512Kernels();
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
const KernelTable& neonKernels();
#endif

}  // namespace convnd
