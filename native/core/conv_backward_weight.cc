// The weight gradient: dW[k, c, r] = sum_{n, o} dY[n, k, o] * X[n, c, o * stride + r * dilation - pad],
// a GEMM whose reduction runs over batch and space. Tasks split the gradient's columns (input
// channels), each owning its accumulators and walking its (n, spatial tile) rows in the same
// order, and a single group of few columns splits the rows into a fixed number of partitions
// added in order, so the sums come out bit for bit the same at any thread count.
//
// Three ways through it: groups with many output channels run register tiles over dY
// transposed per row tile (input rows read in place, or filled once into a row cache); groups
// with few take dot products per column, over every output row of a plane in one reduction
// (the chunk's input planes filled once, padded, so that a column is one strided run), or, for
// rows longer than a tile or planes too large, row tile by row tile.
#include <algorithm>
#include <memory>
#include <vector>
#include "ops.h"
#include "padded_input.h"
#include "plane_row_order.h"
#include "prefetch.h"
#include "reused_buffer.h"
#include "row_cache.h"
#include "row_buffer.h"
#include "thread_pool.h"
#include "tiling.h"
#include "weight_grad_gemm.h"

namespace convnd {

namespace {

// A task's accumulators (floats): at most half of a 512 KiB L2.
constexpr int64_t kGradAccFloats = 32 * 1024;
// Row partitions of a group that fits one chunk (see planGradSplit): fixed, so that the sums
// do not depend on the thread count.
constexpr int64_t kRowPartitions = 4;
// Positions a register tile's call reduces over, at least, when output rows are short: that
// many consecutive rows go to one call, which loads and stores its accumulators once for them
// all. 3x3 stride-2 128 -> 128 (28-wide rows) 5-10% faster, 3x3x3 layers (56- and 64-wide)
// 3-7%, 3x3 128 -> 128 at 28x28 batch 8 3-4%, 56-wide 2-d layers about the same (one thread,
// in-process alternation; 112 and 168 measured in between).
constexpr int64_t kMinGradReduction = 256;
// Long output rows (pointwise layers, 1-d signals) in register tiles of up to 1024 positions,
// of nearly equal widths, where 256 left a short last tile (3136 = 12 x 256 + 64) and four
// times the calls: 1x1 256 -> 64 56x56 6% faster on one thread and 9% on two (4 tiles of 784,
// two row partitions), 512 -> 128 28x28 6% and 2-4%, 64 -> 256 56x56 3% and 6%, 1-d k255
// stride 4 3.5% and 4% (in-process alternation). 512 and 768 at 56x56 made 7 or 5 tiles,
// unevenly split between partitions: 8-30% slower on two threads (hence whole multiples of 4
// tiles since, see balancedWidth).
constexpr int64_t kLongTileWidth = 1024;
// The transposed dY of such a tile at most (512 KiB, in L2): 1024 positions up to 128 channels.
constexpr int64_t kLongTileDyFloats = 128 * 1024;
// A chunk's filled rows where only the edge tiles of a row fill them (see rowBudget): 512 KiB.
constexpr int64_t kEdgeRowsFloats = 128 * 1024;

// The input rows [lo, hi) an axis' windows read, the padding's included.
struct RowSpan {
  int64_t lo, hi;
  int64_t count() const { return hi - lo; }
};

RowSpan rowSpan(const AxisMap& a) {
  if (a.taps() == 0) return {0, a.inSize};
  const auto [least, most] = std::minmax_element(a.offset.begin(), a.offset.end());
  return {std::min<int64_t>(0, *least), std::max(a.inSize, a.inStep * (a.count - 1) + *most + 1)};
}

// How the gradient's work is cut into tasks: chunks of a group's input channels (its columns),
// runs of a chunk's columns, and partitions of dY's rows.
struct GradSplit {
  int64_t chunk, chunksPerGroup, columnSplits, partitions;
};

// Cg channels a group, in chunks of at most largestChunk; colsPerChannel columns a channel of
// kPadded accumulators each, nc a register tile; rowTiles row tiles of dY.
GradSplit planGradSplit(int64_t Cg, int64_t groups, int64_t largestChunk, int64_t colsPerChannel, int64_t kPadded,
                        int nc, int64_t rowTiles, bool dotPath, int threads) {
  GradSplit s;
  // Row partitions: a single group whose columns fit one chunk splits its reduction (the row
  // tiles of dY) into runs, each summed apart, then added in order. Their number follows the
  // shape alone, so the sums are the same at any thread count, and each task reads only its
  // own rows of dY, where the chunks or column splits made for the threads each read all of it.
  // On two threads: stem 7x7/2, 1-d k255 and k3 gradients 17-35% faster than with 8 chunks or
  // column splits, the 3-d 16-channel volume 5%, 1x1 the same; on one thread the extra sums
  // cost < 1% (in-process alternation). 8 partitions measured about the same as 4.
  // Only where the group's accumulators fit the budget, which bounds the partitions' memory.
  const bool oneChunk = groups == 1 && Cg <= largestChunk && Cg * colsPerChannel * kPadded <= kGradAccFloats;
  s.partitions = !dotPath && oneChunk ? std::clamp<int64_t>(rowTiles / 2, 1, kRowPartitions) : 1;
  // Otherwise chunks are split only as far as needed for about 4 tasks a thread (many groups
  // need no split; one group splits 4 ways a thread). Every chunk is another pass over dY:
  // 8 tasks a thread measured 2-20% slower on two threads (the 3-d 16-channel volume the
  // most), and one thread needs no split at all (1-channel chunks of a 7x7 layer also pad 49
  // columns to 54; whole chunks measured 8-14% faster on the stem, 1x1, 1-d and 3-d layers).
  // Chunks of a group are made even (64 = 32 + 32).
  const int64_t wantedPerGroup = threads == 1 || s.partitions > 1 ? 1 : (4 * int64_t(threads) + groups - 1) / groups;
  const int64_t largest = std::min(largestChunk, (Cg + wantedPerGroup - 1) / wantedPerGroup);
  s.chunksPerGroup = (Cg + largest - 1) / largest;
  s.chunk = (Cg + s.chunksPerGroup - 1) / s.chunksPerGroup;
  // One chunk more where that computes fewer columns, counted over the rounds of tasks the
  // threads run: a chunk's columns are computed in whole register tiles. A 1x1 1024 -> 256
  // 14x14 gradient's 8 chunks of 128 channels computed 132 columns each (6 a tile), 9 chunks of
  // 114 none more: 3.5% faster on one thread; on two, 8 chunks are 4 rounds, 9 are 5.
  const auto columnsComputed = [&](int64_t chunks) {
    const int64_t rounds = (groups * chunks + threads - 1) / threads;
    return rounds * roundUp((Cg + chunks - 1) / chunks * colsPerChannel, nc);
  };
  if (!dotPath && s.chunksPerGroup > 1 && columnsComputed(s.chunksPerGroup + 1) < columnsComputed(s.chunksPerGroup)) {
    s.chunk = (Cg + s.chunksPerGroup) / (s.chunksPerGroup + 1);
    s.chunksPerGroup = (Cg + s.chunk - 1) / s.chunk;
  }
  // Too few tasks for the threads: each chunk's columns are split into runs of whole register
  // tiles, one a task. Every split reads all of its rows of dY, so the split goes only as far
  // as about 4 tasks a thread (a thread a task with row partitions: splitting their columns
  // as well made two threads 9-34% slower), and never on one thread.
  const int64_t chunkTiles = (s.chunk * colsPerChannel + nc - 1) / nc;
  const int64_t tasksWanted = s.partitions > 1 ? threads : 4 * int64_t(threads);
  const int64_t tasksMade = groups * s.chunksPerGroup * s.partitions;
  s.columnSplits = dotPath || threads == 1 || tasksMade >= tasksWanted
                       ? 1
                       : std::max<int64_t>(1, std::min((tasksWanted + tasksMade - 1) / tasksMade, chunkTiles / 2));
  return s;
}

}  // namespace

void convBackwardWeight(const KernelTable& kernels, const ConvDesc& desc, const float* dy,
                        const float* x, float* dw) {
  const ConvDesc d = collapsePointwise(desc);
  if (runWeightGradAsGemm(kernels, d, dy, x, dw)) return;
  AxisMap axes[kAxes];
  for (int a = 0; a < kAxes; ++a)
    axes[a] = forwardAxis(d.in[a], d.kernel[a], d.stride[a], d.dilation[a], d.padBefore[a], d.out[a]);
  const AxisMap &ad = axes[0], &ah = axes[1], &aw = axes[2];
  const int64_t Kg = d.outPerGroup(), Cg = d.inPerGroup();
  // The narrow tile where it pads fewer channels than weightGrad (16 of a group, or 48, 80: 1-d,
  // 2-d and 3-d gradients of 48 and 80 channels 11-33% faster than 32 at a time, one thread and
  // two, in-process alternation), the wide one for whole multiples of its channels.
  const WeightGradKernel& narrowTile = kernels.weightGradNarrow;
  const bool narrow = narrowTile.kWidth > 0 && roundUp(Kg, narrowTile.kWidth) < roundUp(Kg, kernels.weightGrad.kWidth);
  const bool wide = kernels.weightGradWide.kWidth > 0 && Kg % kernels.weightGradWide.kWidth == 0;
  const WeightGradKernel& kernel = narrow ? kernels.weightGradNarrow : wide ? kernels.weightGradWide : kernels.weightGrad;
  const int nc = kernel.columns;
  // Few output channels per group take the dot-product path: no transposed dY there.
  const bool dotPath = Kg * 2 <= kernel.kWidth;
  // Register tiles read input rows in place at stride 1 or 2 along the row (see inPlace below);
  // the dot path's vector loads need them contiguous.
  const bool inPlaceStep = aw.inStep == 1 || (aw.inStep == 2 && !dotPath);
  // x padded once (padded_input.h) where register tiles read a 2-d window in place: its rows are
  // then not filled into the row cache. 3x3 64 -> 64 56x56 gradients (dilated or not) 3-4% faster
  // on one thread and two, 128 -> 128 28x28 batch 8 2% on one thread and 1% slower on two. 3-d
  // windows too where the group has at least 32 output channels (3x3x3 32 -> 32, 32 -> 48 and
  // 64 -> 64 1-3% faster on one thread, 1-1.5% on two; 16 -> 16 at 64^3 1% slower: the copy is
  // a larger share of the work). All in-process alternation.
  constexpr int64_t kPadded3dMinChannels = 32;
  ReusedBuffer paddedX;
  const float* input = x;
  InputMargins margins;
  for (int a = 0; a < kAxes; ++a) margins.include(a, axes[a]);
  const bool paddedWindow = ah.taps() > 1 && (ad.taps() == 1 || Kg >= kPadded3dMinChannels);
  if (!dotPath && paddedWindow && inPlaceStep && margins.any()) {
    if (const float* copy = copyPadded(x, d.batch * d.inChannels, d.in, margins, paddedX)) {
      input = copy;
      for (int a = 0; a < kAxes; ++a) margins.shift(axes[a], a);
    }
  }
  // Rows read in place when every tap of every position lies inside the input row (a pointwise
  // layer, or no padding along the row) at stride 1 or 2: copying them cost a pointwise layer's
  // weight gradient 15%; against de-interleaving copies of a stride-2 layer's rows, a 3x3
  // stride-2 128 -> 128 56x56 gradient (x padded) is 6-7% faster on one thread and 8-10% on two,
  // a 1-d k3 stride-2 one (no padding) 10-13% (in-process alternation). Tap jw of position
  // t0 + u then reads input + inStep * (t0 + u) + offset[jw].
  const bool inPlace = inPlaceStep && aw.tapsInside();
  const int64_t kPadded = roundUp(Kg, kernel.kWidth);
  const int64_t tD = ad.taps(), tH = ah.taps(), tW = aw.taps();
  const int64_t rowsPerChannel = tD * tH;
  // Filled rows a chunk may hold: the row buffer's worth, or with one window row a channel
  // (1-d layers with padding) more, as only each row's first and last tiles fill theirs (the
  // others read in place, see tileInPlace below): a 1-d k3 64 -> 64 gradient in one chunk of
  // tiles of 1024 positions, not 256, 3.5% faster on one thread, 1-2.5% on two (in-process
  // alternation).
  const bool rowBufferBound = dotPath || !inPlace;
  const int64_t rowBudget = rowsPerChannel == 1 && inPlaceStep && !dotPath ? kEdgeRowsFloats : kRowBufferFloats;
  // The reduction over a row's positions runs inside the kernel, so a tile may be a whole
  // output row: longer register-resident reductions, fewer row fills. Register tiles split
  // longer rows into tiles of nearly equal widths up to kLongTileWidth where a tile's
  // transposed dY stays within kLongTileDyFloats and, when rows are filled, a chunk of all the
  // group's channels still fits rowBudget; elsewhere up to kTaskWidth.
  // A split row takes a whole number of tiles per row partition (see planGradSplit), so that
  // the partitions are even: 4900 positions in 5 tiles made two partitions of 2 and 3, 6-9%
  // slower on two threads than 256-wide tiles (1x1 at 70x70, 1-d 5000), where 8 tiles of 613
  // make four of 2.
  const auto balancedWidth = [&](int64_t widest) {
    int64_t tiles = (aw.count + widest - 1) / widest;
    if (tiles > 1) tiles = roundUp(tiles, kRowPartitions);
    return (aw.count + tiles - 1) / tiles;
  };
  const int64_t widest = dotPath ? kTaskWidth : std::clamp(kLongTileDyFloats / kPadded, kTaskWidth, kLongTileWidth);
  int64_t T = widest > kTaskWidth ? balancedWidth(widest) : std::min(aw.count, kTaskWidth);
  // In doubles, as dotPlanes below: the product may overflow.
  if (rowBufferBound && static_cast<double>(Cg) * static_cast<double>(rowsPerChannel) *
                                static_cast<double>(makeRowLayout(aw, T, kernels).rowLength) > rowBudget)
    T = std::min(aw.count, kTaskWidth);
  const RowLayout layout = makeRowLayout(aw, T, kernels);
  const int64_t colsPerChannel = rowsPerChannel * tW;
  const int64_t inVolume = ad.inSize * ah.inSize * aw.inSize, outVolume = d.outVolume();
  const int64_t wTiles = (aw.count + T - 1) / T;
  // The dot path over whole planes: the chunk's input planes are filled once per batch item into
  // rows of layout.rowLength, zero rows standing for the padding along D and H, so that the
  // column of a tap over every output row of a plane is one run with a fixed pitch between rows,
  // and each dot reduces over the whole plane in one call. Gathering each column's rows into
  // bands instead (a copy per tap and row) took 40% of a grouped 3x3 layer's gradient, and
  // short dots per output row paid a scalar end each.
  const RowSpan dRows = rowSpan(ad), hRows = rowSpan(ah);
  constexpr int64_t kDotPlanesFloats = 64 * 1024;
  // In doubles: padding may make the product overflow.
  const bool dotPlanes = dotPath && wTiles == 1 && tD > 0 && tH > 0 && tW > 0 &&
                         static_cast<double>(dRows.count()) * static_cast<double>(hRows.count()) *
                                 static_cast<double>(layout.rowLength) <= kDotPlanesFloats;
  const int64_t planeFloats = dotPlanes ? dRows.count() * hRows.count() * layout.rowLength : 0;

  // Channel chunks no larger than the row buffer (register tiles reading rows in place use
  // none) and accumulators that stay in L2 allow. A 1x1 256 -> 64 56x56 gradient in one chunk
  // (its four row partitions, see planGradSplit), not 8 of 32 channels on two threads (6
  // columns a tile: 36 computed for 32): 11% faster on two threads, 1% on one; batch 8 8-14%
  // (in-process alternation).
  const int64_t largestChunk = std::max<int64_t>(1, std::min({rowBufferBound ? rowBudget / std::max<int64_t>(1, rowsPerChannel * layout.rowLength) : Cg,
                                                              kGradAccFloats / std::max<int64_t>(1, colsPerChannel * kPadded),
                                                              dotPlanes ? kDotPlanesFloats / planeFloats : Cg}));
  const int64_t rowTiles = d.batch * ad.count * ah.count * wTiles;
  // The call's multiply-adds (as a double: padding may make the product overflow). A call under
  // the pool's inline threshold runs on the calling thread and is planned for one: waking a worker
  // for the tiny 3 -> 8 32x32 gradient cost more than it computed.
  const double callWork = static_cast<double>(d.batch * d.groups) * static_cast<double>(Kg * Cg) *
                          static_cast<double>(d.kernelVolume()) * static_cast<double>(outVolume);
  const bool inlineCall = callWork < static_cast<double>(ThreadPool::kInlineWork);
  const int64_t loopWork = inlineCall ? 0 : -1;
  const int threadCount = inlineCall ? 1 : ThreadPool::instance().threads();
  const GradSplit plan = planGradSplit(Cg, d.groups, largestChunk, colsPerChannel, kPadded, nc, rowTiles, dotPath, threadCount);
  const int64_t chunk = plan.chunk, chunksPerGroup = plan.chunksPerGroup;
  const int64_t columnSplits = plan.columnSplits, partitions = plan.partitions;

  // Row tile i of the reduction, in the order every task walks them: batch item n, output row
  // (td, th) in PlaneRowOrder's order, tile along the row.
  struct RowTile {
    int64_t n, td, th, tile, blockEnd;
  };
  // Output rows a register tile's call reduces over together (tileRows), when rows are whole
  // tiles: the row cache then holds that many windows at once. Same sums, same order.
  const int64_t tileRows = !dotPath && wTiles == 1 ? std::clamp<int64_t>((kMinGradReduction + T - 1) / T, 1, ah.count) : 1;
  const PlaneRowOrder order(ad, ah, chunk * (inPlace ? aw.inSize : layout.rowLength), tileRows);
  auto rowTileAt = [&](int64_t i) {
    RowTile r;
    r.tile = i % wTiles; i /= wTiles;
    const PlaneRowOrder::Row row = order.at(i % order.rows());
    r.td = row.td;
    r.th = row.th;
    r.blockEnd = row.blockEnd;
    r.n = i / order.rows();
    return r;
  };

  // Off the dot path, dY transposed per row tile to [u][k] so that k is the vector axis, zero
  // past the edges. When several tasks of a group read it (channel chunks, column splits), once
  // for all of them; when one task does (one thread), a row tile at a time just before its use,
  // into a buffer that stays in cache instead of a round trip through memory: one thread's 1-d
  // k255 and 7x7 stem gradients 11% faster, 1-d k3 6%, 3-d 2-5%, 2-d 3x3 the same (in-process
  // alternation).
  const int64_t tileFloats = T * kPadded;
  const bool dyTShared = !dotPath && chunksPerGroup * columnSplits > 1;
  // Where group g's dY of a row tile starts (channel k at src + k * outVolume), and its positions.
  struct DyRun {
    const float* src;
    int64_t valid;
  };
  auto dyRowTile = [&](int64_t g, int64_t rowTile) {
    const auto [n, td, th, tile, blockEnd] = rowTileAt(rowTile);
    const int64_t t0 = tile * T;
    return DyRun{dy + (n * d.outChannels + g * Kg) * outVolume + (td * d.out[1] + th) * d.out[2] + t0,
                 std::min(T, aw.count - t0)};
  };
  // `rows` consecutive row tiles from rowTile, which are whole output rows of one plane when
  // rows > 1 (wTiles == 1, a call's rows): their dY is one run, transposed in one piece.
  auto transposeRowTile = [&](int64_t g, int64_t rowTile, float* dst, int64_t rows = 1) {
    const auto [src, rowValid] = dyRowTile(g, rowTile);
    const int64_t valid = rows * rowValid;
    // Whole blocks of 8 channels through the ISA's transpose (which may read 8 channels past
    // the last it is given: the rest go one by one); the scalar loop took 12% of a pointwise
    // layer's weight gradient.
    const int64_t wholeK = Kg / 8 * 8;
    kernels.transposeOut(dst, kPadded, 1, src, outVolume, valid, wholeK);
    for (int64_t u = 0; u < valid; ++u) {
      for (int64_t k = wholeK; k < Kg; ++k) dst[u * kPadded + k] = src[k * outVolume + u];
      std::fill(dst + u * kPadded + Kg, dst + (u + 1) * kPadded, 0.0f);
    }
    std::fill(dst + valid * kPadded, dst + rows * tileFloats, 0.0f);
  };
  // The dY a row tile's transpose reads: Kg runs in as many channel planes, which the hardware
  // prefetchers do not follow from plane to plane.
  auto prefetchRowTile = [&](int64_t g, int64_t rowTile) {
    const auto [src, valid] = dyRowTile(g, rowTile);
    for (int64_t k = 0; k < Kg; ++k) prefetchFloats(src + k * outVolume, valid);
  };
  ReusedBuffer dyT(dyTShared ? d.groups * rowTiles * tileFloats : 0);
  ThreadPool& pool = ThreadPool::instance();
  pool.parallelFor(dyTShared ? d.groups * rowTiles : 0, [&](int64_t item, int) {
    transposeRowTile(item / rowTiles, item % rowTiles, dyT.data() + item * tileFloats);
  }, loopWork);

  const std::vector<int64_t> tapOffset = inPlace ? aw.offset
                                                 : std::vector<int64_t>(layout.tapOffset.begin(), layout.tapOffset.end());
  // In place with no window row outside the input, consecutive output rows' columns are one
  // shift apart.
  const bool shiftRows = inPlace && ad.tapsInside() && ah.tapsInside();
  const int64_t rowShift = ah.inStep * aw.inSize;
  // In place, rows outside the input (padding along the other axes) read zeros.
  const std::vector<float> zeroRow(
      static_cast<size_t>(inPlace ? aw.inStep * T + *std::max_element(aw.offset.begin(), aw.offset.end()) : 0), 0.0f);

  // Where each segment of a row copies the input, per row tile: computed once, not per row.
  std::vector<std::vector<SegmentCopy>> tileCopies;
  for (int64_t tile = 0; tile < wTiles; ++tile) tileCopies.push_back(planRowFill(layout, aw, tile * T));

  // The partitions' sums, each (columns + ncAll) x kPadded: partitions come only to a single
  // group in one chunk (planGradSplit), so there is one set.
  const int64_t ncAll = std::max<int64_t>(nc, kernels.weightDotColumns);
  const int64_t partialFloats = (chunk * colsPerChannel + ncAll) * kPadded;
  ReusedBuffer partials(partitions > 1 ? partitions * partialFloats : 0);
  const int64_t vol = d.kernelVolume();

  // Each worker's row cache, kept from task to task: one holding 10 windows of a stride-2
  // layer's 128 channels is 1 MiB, and allocating and zeroing one a task made that layer's
  // gradient 3% slower on one thread (four row partitions; in-process alternation).
  struct alignas(64) WorkerCache {
    std::unique_ptr<RowCache> cache;
    int64_t channels = -1, tileRows = 1;
  };
  std::vector<WorkerCache> workerCaches(static_cast<size_t>(pool.threads()));
  // Whether every window row of output row (td, th) and every tap of positions [t0, t0 + valid)
  // lie inside the input.
  auto windowInside = [&](int64_t td, int64_t th, int64_t t0, int64_t valid) {
    auto covers = [](const AxisMap& a, int64_t first, int64_t count) {
      for (const int64_t o : a.offset) {
        const InsidePositions inside = insidePositions(o, a.inStep, a.inSize);
        if (first < inside.lo || first + count > inside.hi) return false;
      }
      return true;
    };
    return aw.taps() > 0 && covers(aw, t0, valid) && covers(ad, td, 1) && covers(ah, th, 1);
  };
  pool.parallelFor(d.groups * chunksPerGroup * columnSplits * partitions, [&](int64_t item, int worker) {
    const int64_t partition = item % partitions;
    const int64_t split = item / partitions % columnSplits;
    const int64_t task = item / partitions / columnSplits;
    const int64_t g = task / chunksPerGroup;
    const int64_t c0 = task % chunksPerGroup * chunk;
    const int64_t cEnd = std::min(Cg, c0 + chunk);
    const int64_t cols = (cEnd - c0) * colsPerChannel;
    // This task's columns [colBegin, colEnd): whole register tiles but the chunk's last.
    const int64_t tiles = (cols + nc - 1) / nc;
    const int64_t colBegin = tiles * split / columnSplits * nc;
    const int64_t colEnd = std::min(cols, tiles * (split + 1) / columnSplits * nc);
    // acc rows past `cols` absorb the padding columns of the last block.
    const int64_t lanes = kernels.weightDotLanes;
    std::vector<float> ownAcc(static_cast<size_t>(partitions > 1 ? 0 : (cols + ncAll) * (dotPath ? Kg * lanes : kPadded)), 0.0f);
    // With partitions, the partition's slot of `partials`, shared by the column splits: each
    // clears its own columns, the last one also the padding rows.
    float* const acc = partitions > 1 ? partials.data() + partition * partialFloats : ownAcc.data();
    if (partitions > 1) std::fill(acc + colBegin * kPadded, acc + (colEnd == cols ? cols + ncAll : colEnd) * kPadded, 0.0f);
    // Rows filled by fillColumns, one per (channel, jd, jh) of the chunk: only on the dot path
    // (register tiles read through the row cache below), and none when read in place.
    std::vector<float> rows(static_cast<size_t>(inPlace || !dotPath || dotPlanes ? 0 : (cEnd - c0) * rowsPerChannel * layout.rowLength));
    // What the padding columns of a register tile point at (read with the columns' step).
    std::vector<float> zeros(static_cast<size_t>(inPlace ? aw.inStep * T : T), 0.0f);
    // On the general path (below), register tiles over rows that need filling read them through
    // a row cache: consecutive output rows share all but one of a window's rows (a 3x3x3 16 -> 16
    // layer filled every row 9 times, 30% of its weight gradient).
    RowCache* cache = nullptr;
    int64_t callTileRows = tileRows;
    if (!dotPath && !inPlace) {
      WorkerCache& kept = workerCaches[static_cast<size_t>(worker)];
      if (kept.channels != cEnd - c0) {
        kept.channels = cEnd - c0;
        kept.tileRows = tileRows;
        kept.cache = std::make_unique<RowCache>(ad, ah, aw, layout, cEnd - c0, cEnd - c0, 0.0f, std::max(tileRows, order.heldRows()));
        if (tileRows > 1 && !kept.cache->cached()) {
          kept.tileRows = 1;
          kept.cache = std::make_unique<RowCache>(ad, ah, aw, layout, cEnd - c0, cEnd - c0, 0.0f);
        }
      } else {
        kept.cache->invalidate();  // another task's channels
      }
      cache = kept.cache.get();
      callTileRows = kept.tileRows;
    }
    // The row tiles' dY transposed, when this task is the only one to read it.
    ReusedBuffer ownDyT(dotPath || dyTShared ? 0 : callTileRows * tileFloats);
    // A set of column pointers per row of a call, each padded with ncAll pointers to zeros.
    const int64_t colsPitch = cols + ncAll;
    std::vector<const float*> colPtr(static_cast<size_t>(callTileRows * colsPitch), zeros.data());
    const float* xGroupBase = input + g * Cg * inVolume;
    // For output row (td, th) of batch item n, gets the filled row of each channel in [c0, cEnd)
    // and window row from rowOf(c, ih, input, slot) (input: the input row, or null outside
    // the input; slot: the index of the row's place in `rows`) and calls tap(col, p) with each
    // column's T floats (tap jw at the row plus offsets[jw]).
    auto columnsVia = [&](int64_t n, int64_t td, int64_t th, const std::vector<int64_t>& offsets, auto&& rowOf, auto&& tap) {
      const float* xGroup = xGroupBase + n * d.inChannels * inVolume;
      int64_t col = 0, slot = 0;
      for (int64_t c = c0; c < cEnd; ++c)
        for (int64_t jd = 0; jd < tD; ++jd) {
          const int64_t id = ad.inStep * td + ad.offset[jd];
          for (int64_t jh = 0; jh < tH; ++jh, ++slot) {
            const int64_t ih = ah.inStep * th + ah.offset[jh];
            const bool inside = id >= 0 && id < ad.inSize && ih >= 0 && ih < ah.inSize;
            const float* row = rowOf(c, ih, inside ? xGroup + (c * ad.inSize + id) * ah.inSize * aw.inSize + ih * aw.inSize : nullptr, slot);
            for (int64_t jw = 0; jw < tW; ++jw) tap(col++, row + offsets[static_cast<size_t>(jw)]);
          }
        }
    };
    // The same for the tile starting at t0, every row read in place or filled afresh.
    auto fillColumns = [&](int64_t n, int64_t td, int64_t th, int64_t t0, auto&& tap) {
      columnsVia(n, td, th, tapOffset, [&](int64_t, int64_t, const float* input, int64_t slot) {
        if (inPlace) return input ? input + aw.inStep * t0 : zeroRow.data();
        float* row = rows.data() + slot * layout.rowLength;
        fillRow(layout, tileCopies[static_cast<size_t>(t0 / T)], aw.inStep, input, 0.0f, row);
        return static_cast<const float*>(row);
      }, tap);
    };
    // Lane partial sums acc[k][col][lane] for each k of the group over rowCount rows of `length`
    // positions of dY from dyRow (channel k at dyRow + k * outVolume, rows `length` apart; the
    // columns' rows columnPitch apart). Channels and columns in blocks (weightDotBlock), each
    // column loaded once for a block of channels; the channels and columns left over one
    // channel at a time, in blocks of dn columns, then the last few one at a time (a depthwise
    // 3x3 has 9 columns: 8 + 1, not 8 + 1 padded to 8). Each column's sums keep one order.
    // The blocks made the grouped 3x3 g32 gradient 31% faster and the tiny 3 -> 8 one 39%
    // (C++, one thread, in-process alternation; the bits are the same).
    auto dots = [&](const float* dyRow, int64_t length, int64_t rowCount = 1, int64_t columnPitch = 0) {
      const int64_t dn = kernels.weightDotColumns;
      const int64_t bk = kernels.weightDotBlockChannels, bc = kernels.weightDotBlockColumns;
      WeightDotArgs dot;
      dot.length = length;
      dot.rows = rowCount;
      dot.dyPitch = length;
      dot.columnPitch = columnPitch;
      dot.dyStride = outVolume;
      dot.accStride = (cols + ncAll) * lanes;
      const int64_t blockedK = Kg / bk * bk, blockedCols = cols / bc * bc;
      for (int64_t k = 0; k < blockedK; k += bk) {
        dot.dy = dyRow + k * outVolume;
        for (int64_t c = 0; c < blockedCols; c += bc) {
          dot.columns = colPtr.data() + c;
          dot.acc = acc + (k * (cols + ncAll) + c) * lanes;
          kernels.weightDotBlock(dot);
        }
      }
      for (int64_t k = 0; k < Kg; ++k) {
        dot.dy = dyRow + k * outVolume;
        for (int64_t c = k < blockedK ? blockedCols : 0; c < cols;) {
          const bool whole = cols - c >= dn || cols - c > 2;
          dot.columns = colPtr.data() + c;
          dot.acc = acc + (k * (cols + ncAll) + c) * lanes;
          (whole ? kernels.weightDot : kernels.weightDotSingle)(dot);
          c += whole ? dn : 1;
        }
      }
    };
    if (dotPlanes) {
      // Row (c - c0, id - dRows.lo, ih - hRows.lo) of `planes` holds the filled input row (zeros outside).
      const int64_t rowLength = layout.rowLength;
      // The thread's kept buffer: every row is filled before it is read.
      ReusedBuffer planes((cEnd - c0) * planeFloats);
      auto planeRow = [&](int64_t c, int64_t id, int64_t ih) {
        return planes.data() + (((c - c0) * dRows.count() + id - dRows.lo) * hRows.count() + ih - hRows.lo) * rowLength;
      };
      // Whole blocks of columns past the last read column 0's rows; their sums are not used.
      for (int64_t col = cols; col < cols + ncAll; ++col) colPtr[static_cast<size_t>(col)] = planeRow(c0, dRows.lo, hRows.lo);
      for (int64_t n = 0; n < d.batch; ++n) {
        const float* xGroup = xGroupBase + n * d.inChannels * inVolume;
        for (int64_t c = c0; c < cEnd; ++c)
          for (int64_t id = dRows.lo; id < dRows.hi; ++id)
            for (int64_t ih = hRows.lo; ih < hRows.hi; ++ih) {
              const bool inside = id >= 0 && id < ad.inSize && ih >= 0 && ih < ah.inSize;
              fillRow(layout, tileCopies[0], aw.inStep, inside ? xGroup + ((c * ad.inSize + id) * ah.inSize + ih) * aw.inSize : nullptr,
                      0.0f, planeRow(c, id, ih));
            }
        for (int64_t td = 0; td < ad.count; ++td) {
          // The columns at output row th = 0; row th lies th * inStep rows further on.
          int64_t col = 0;
          for (int64_t c = c0; c < cEnd; ++c)
            for (int64_t jd = 0; jd < tD; ++jd)
              for (int64_t jh = 0; jh < tH; ++jh)
                for (int64_t jw = 0; jw < tW; ++jw)
                  colPtr[static_cast<size_t>(col++)] =
                      planeRow(c, ad.inStep * td + ad.offset[jd], ah.offset[jh]) + layout.tapOffset[static_cast<size_t>(jw)];
          dots(dy + (n * d.outChannels + g * Kg) * outVolume + td * d.out[1] * d.out[2], T, ah.count,
               ah.inStep * rowLength);
        }
      }
    }
    const int64_t rowEnd = dotPlanes ? 0 : rowTiles * (partition + 1) / partitions;
    // Each call's rows: consecutive output rows of one (batch item, D row), each a whole tile.
    int64_t callRows = 1;
    for (int64_t rowTile = rowTiles * partition / partitions; rowTile < rowEnd; rowTile += callRows) {
      const auto [n, td, th, tile, blockEnd] = rowTileAt(rowTile);
      const int64_t t0 = tile * T;
      // Positions past the row's end read real input cells (which may hold inf): they
      // are left out of the sums, not multiplied by a zero dy.
      const int64_t valid = std::min(T, aw.count - t0);
      callRows = std::min({callTileRows, rowEnd - rowTile, blockEnd - th});
      const float* tileDy = nullptr;
      if (dyTShared) {
        tileDy = dyT.data() + (g * rowTiles + rowTile) * tileFloats;
      } else if (!dotPath) {
        // A call's rows in one transpose: a 28-wide row took its last 12 positions through the
        // narrower 8 x 8 transpose (3x3 128 -> 128 28x28 batch 8 gradient 2-2.5% faster on one
        // thread, other layers the same; in-process alternation).
        transposeRowTile(g, rowTile, ownDyT.data(), callRows);
        tileDy = ownDyT.data();
        for (int64_t next = rowTile + callRows; next < std::min(rowEnd, rowTile + 2 * callRows); ++next) prefetchRowTile(g, next);
      }
      const float* xBatch = xGroupBase + n * d.inChannels * inVolume;
      // A tile of a layer whose rows go through the row cache reads them in place where all its
      // window rows and positions lie inside the input. The row cache copies rows whose channel
      // planes crowd L1's sets, which matters to the forward's tiles (they read every channel)
      // but not to these (a few columns each): a 1-d k3 64 -> 64 gradient (planes 64 KiB apart,
      // padding 4) spent 9% of its time copying. Calls of several output rows cover whole rows,
      // which reach into the padding: they keep the row cache.
      const bool tileInPlace = cache && inPlaceStep && callRows == 1 && windowInside(td, th, t0, valid);
      for (int64_t r = 0; r < callRows; ++r) {
        const float** rowCols = colPtr.data() + r * colsPitch;
        if (tileInPlace) {
          columnsVia(n, td, th + r, aw.offset, [&](int64_t, int64_t, const float* row, int64_t) { return row + aw.inStep * t0; },
                     [&](int64_t col, const float* p) { rowCols[col] = p; });
        } else if (cache) {
          const float* const* windowRows = cache->window(n, 0, cEnd - c0, td, th + r, t0, [&](int64_t c) {
            return xBatch + (c0 + c) * inVolume;
          });
          for (int64_t i = 0, col = 0; i < (cEnd - c0) * rowsPerChannel; ++i)
            for (int64_t jw = 0; jw < tW; ++jw) rowCols[col++] = windowRows[i] + tapOffset[static_cast<size_t>(jw)];
        } else if (r > 0 && shiftRows) {
          // In place with every window row inside the input: the next output row's columns lie
          // inStep input rows further on. Building them afresh took 4% of a 3x3x3 gradient:
          // 3x3x3 32 -> 32 3% faster, 3x3 stride-2 and batch-8 128 -> 128 1-2% (one thread,
          // in-process alternation).
          const float* const* above = rowCols - colsPitch;
          for (int64_t col = 0; col < cols; ++col) rowCols[col] = above[col] + rowShift;
        } else {
          fillColumns(n, td, th + r, t0, [&](int64_t col, const float* p) { rowCols[col] = p; });
        }
      }
      if (dotPath) {
        dots(dy + (n * d.outChannels + g * Kg) * outVolume + (td * d.out[1] + th) * d.out[2] + t0, valid);
        continue;
      }
      WeightGradArgs args;
      args.kStride = kPadded;
      args.length = valid;
      args.columnStep = inPlace || tileInPlace ? aw.inStep : 1;
      args.accStride = kPadded;
      args.rows = callRows;
      args.dyTPitch = tileFloats;
      args.columnsPitch = colsPitch;
      for (int64_t c = colBegin; c < colEnd; c += nc)
        for (int64_t kb = 0; kb < kPadded; kb += kernel.kWidth) {
          args.dyT = tileDy + kb;
          args.columns = colPtr.data() + c;
          args.acc = acc + c * kPadded + kb;
          kernel.fn(args);
        }
    }
    // acc[col][k] with col = (c - c0, jd, jh, jw) in the weight's own order, transposed into dW
    // through the ISA's transpose (column by column, its strided reads of acc took 6% of a
    // 3x3 128 -> 128 gradient). acc's rows past `cols` (ncAll >= 8 of them) absorb the
    // transpose's reads past the last column.
    if (partitions > 1) return;  // added up below
    float* const dwChunk = dw + (g * Kg * Cg + c0) * vol;
    if (!dotPath) {
      kernels.transposeOut(dwChunk + colBegin, Cg * vol, 1, acc + colBegin * kPadded, kPadded, Kg,
                           colEnd - colBegin);
      return;
    }
    for (int64_t k = 0; k < Kg; ++k)
      for (int64_t col = 0; col < cols; ++col) {
        const float* part = acc + (k * (cols + ncAll) + col) * lanes;
        float sum = 0.0f;
        for (int64_t lane = 0; lane < lanes; ++lane) sum += part[lane];
        dwChunk[k * Cg * vol + col] = sum;
      }
  }, loopWork);
  if (partitions == 1) return;
  // The partitions added in order into the first, then transposed into dW.
  float* const sum = partials.data();
  for (int64_t part = 1; part < partitions; ++part) {
    const float* add = sum + part * partialFloats;
    for (int64_t i = 0; i < Cg * colsPerChannel * kPadded; ++i) sum[i] += add[i];
  }
  kernels.transposeOut(dw, Cg * vol, 1, sum, kPadded, Kg, Cg * colsPerChannel);
}

}  // namespace convnd
