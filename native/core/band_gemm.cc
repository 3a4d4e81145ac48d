#include "band_gemm.h"

#include <algorithm>
#include <memory>
#include <vector>
#include "prefetch.h"
#include "row_buffer.h"
#include "thread_pool.h"
#include "tiling.h"

namespace convnd {

namespace {

// A band's virtual row holds at least this many positions when it can, and is capped so that
// its accumulators and one channel chunk's filled rows (kBandFootprintFloats) stay in L2.
constexpr int64_t kMinBandFloats = 256;
constexpr int64_t kMaxBandFloats = 4096;
constexpr int64_t kBandFootprintFloats = 64 * 1024;

// Fixed costs, in multiply-adds of kernel time: per output row (row mode) or band, and per
// row pointer set up (one per input channel and tap row), estimated from profiles of the tiny
// 3 -> 8 call, where row mode spent about as long on them as on its arithmetic.
constexpr double kRowOverhead = 3200, kRowPointerOverhead = 320;

// The input rows one band reads along H. Tap jh reads, for band row b, the input row
// inStep * (th0 + b + q) + p (offset[jh] = inStep * q + p): the taps of one residue p read one
// run of input rows, shifted by q. A block holds every run, row after row, `pitch` apart.
struct VerticalLayout {
  struct Run {
    int64_t residue, qFirst, qSpan;
    int64_t start;  // first row of the run in the block
  };
  std::vector<Run> runs;
  std::vector<int64_t> tapRow;  // per tap of the axis: the block row of its band row 0
  int64_t rows = 0;             // rows of a block
  int64_t halo = 0;             // rows beyond the band's own, over all runs
};

VerticalLayout makeVerticalLayout(const AxisMap& ah, int64_t bandRows) {
  VerticalLayout v;
  const int64_t s = ah.inStep;
  struct Tap { int64_t p, q, index; };
  std::vector<Tap> taps;
  taps.reserve(static_cast<size_t>(ah.taps()));
  for (int64_t j = 0; j < ah.taps(); ++j) {
    const int64_t q = floorDiv(ah.offset[j], s);
    taps.push_back({ah.offset[j] - q * s, q, j});
  }
  std::sort(taps.begin(), taps.end(), [](const Tap& a, const Tap& b) { return a.p != b.p ? a.p < b.p : a.q < b.q; });
  v.tapRow.assign(taps.size(), 0);
  for (const Tap& t : taps) {
    if (v.runs.empty() || v.runs.back().residue != t.p) v.runs.push_back({t.p, t.q, 0, 0});
    VerticalLayout::Run& run = v.runs.back();
    run.qSpan = t.q - run.qFirst;
    v.tapRow[static_cast<size_t>(t.index)] = t.q - run.qFirst;  // made absolute below
  }
  for (VerticalLayout::Run& run : v.runs) {
    run.start = v.rows;
    v.rows += run.qSpan + bandRows;
    v.halo += run.qSpan;
  }
  for (const Tap& t : taps) {
    const auto run = std::find_if(v.runs.begin(), v.runs.end(), [&](const VerticalLayout::Run& r) { return r.residue == t.p; });
    v.tapRow[static_cast<size_t>(t.index)] += run->start;
  }
  return v;
}

// Tiles a band of `rows` rows computes: up to the last row's last valid position.
int64_t bandTiles(int64_t rows, int64_t pitch, int64_t width, int64_t T) {
  return ((rows - 1) * pitch + width + T - 1) / T;
}

// Rows per band, or 0 when row mode is better. Costs count the multiply-adds the kernels
// perform (row mode's short last tile runs slower, band mode computes the positions between
// rows and pays a few percent for its scatter and refilled halo rows) plus the fixed costs
// per row or band, which decide for small layers and depthwise ones. Row tiles (see
// runBandedGemm) compute no positions between rows and need no scatter.
int64_t chooseBandRows(const WindowedGemm& p, const GemmPlan& plan, int64_t pitch, int64_t maxPositions,
                       int64_t halo, bool rowTiles, int threads) {
  const AxisMap& ah = p.axes[1];
  const int64_t width = p.axes[2].count, T = plan.T, rem = width % T;
  if (ah.count < 2 || 2 * pitch > maxPositions || halo > 2 * plan.tH) return 0;
  const double perPosition = static_cast<double>(plan.kPadded * p.inPerGroup * plan.rowsPerChannel * plan.tW);
  const double perRow = kRowOverhead + kRowPointerOverhead * static_cast<double>(p.inPerGroup * plan.rowsPerChannel);
  // The one-register tail tile has only mr accumulators, too few chains to hide FMA latency,
  // and pays its call overhead for few positions: it costs about twice a wide tile's positions
  // (measured on 56-wide 3x3 layers, where band mode then comes out slightly ahead).
  const bool tailKernel = rem != 0 && plan.tail != plan.kernel && rem <= plan.tail->tileWidth;
  const double tailCost = 2.0 * static_cast<double>(plan.tail->tileWidth);
  const double rowPositions = static_cast<double>(width - rem) + (rem == 0 ? 0.0 : tailKernel ? tailCost : T);
  const double rowCost = static_cast<double>(ah.count) * (rowPositions * perPosition + perRow);
  const int64_t planes = p.batch * p.groups * p.axes[0].count;
  int64_t best = 0;
  double bestCost = rowCost;
  for (int64_t B = 2; B <= std::min(ah.count, maxPositions / pitch); ++B) {
    const int64_t full = ah.count / B, last = ah.count % B;
    // Keep two tasks a thread when the plane has the rows for it.
    if (planes * (full + (last > 0)) < 2 * threads && planes * ah.count >= 4 * threads) continue;
    const double positions = rowTiles ? static_cast<double>(ah.count) * rowPositions
                                      : static_cast<double>(T * (full * bandTiles(B, pitch, width, T) +
                                                                 (last ? bandTiles(last, pitch, width, T) : 0)));
    const double cost = (rowTiles ? 1.0 : 1.03) * positions * perPosition + static_cast<double>(full + (last > 0)) * perRow;
    if (cost <= bestCost) {
      best = B;
      bestCost = cost;
    }
  }
  return best;
}

// Each thread's buffers outlive the call: small layers, the ones band mode serves, would
// otherwise spend a tenth of their time allocating and zeroing them.
struct Workspace {
  // Floats between rows that no fill writes are read (and thrown away) by the positions
  // between rows: they hold zeros or an earlier call's values, never uninitialised memory.
  std::vector<float> blocks;
  // Not zeroed: the first channel chunk's tiles store every position before any is read.
  std::vector<float> acc;
  std::vector<const float*> rows;
};

// The calling thread's workspace, looked up once per task: in a shared library every access
// to a thread_local calls __tls_get_addr, and with the lookup inlined the compiler repeated it
// 13 times a band (2.5% of a tiny 3 -> 8 call).
[[gnu::noinline]] Workspace& threadWorkspace() {
  static thread_local Workspace space;
  return space;
}

// Fills `count` rows of a block, `pitch` apart from dst: row i holds input row ihFirst +
// ihStep * i of `plane` (inRows rows of inRowFloats floats; null: none of it exists), each
// segment in its region (regionFloats apart), zeros outside the input. `ahead` > 0 prefetches
// each row that far beyond, in the next channel's plane: the fills jump from plane to plane,
// which the hardware prefetchers do not follow, and they are the band's only read of the input.
// Its arguments are values, so that the loop keeps them in registers across the fills' calls.
void fillRun(const RowLayout& layout, const SegmentCopy* copies, int64_t inStep, const float* plane, int64_t ahead,
             int64_t inRows, int64_t inRowFloats, int64_t ihFirst, int64_t ihStep, int64_t count, float* dst,
             int64_t pitch, int64_t regionFloats) {
  const RowLayout::Segment* segments = layout.segments.data();
  const int64_t segmentCount = static_cast<int64_t>(layout.segments.size());
  for (int64_t i = 0, ih = ihFirst; i < count; ++i, ih += ihStep, dst += pitch) {
    const float* src = plane && ih >= 0 && ih < inRows ? plane + ih * inRowFloats : nullptr;
    if (src && ahead > 0) prefetchFloats(src + ahead, inRowFloats);
    for (int64_t s = 0; s < segmentCount; ++s) fillSegment(segments[s], copies[s], layout, inStep, src, 0.0f, dst + s * regionFloats);
  }
}

}  // namespace

bool runBandedGemm(const KernelTable& kernels, const WindowedGemm& p, const GemmPlan& plan) {
  const AxisMap &ad = p.axes[0], &ah = p.axes[1], &aw = p.axes[2];
  const int64_t width = aw.count, T = plan.T;
  // A phase of the data gradient that no tap reaches is left to row mode's trivial path.
  const int64_t maxPositions = std::clamp(kBandFootprintFloats / (plan.kPadded + p.inPerGroup * plan.rowsPerChannel),
                                         kMinBandFloats, kMaxBandFloats);
  if (width + T > maxPositions || plan.tD == 0 || plan.tH == 0 || plan.tW == 0) return false;
  // One row's segments, each covering the whole output row.
  const RowLayout layout = makeRowLayout(aw, width, kernels);
  int64_t pitch = 0;
  for (const RowLayout::Segment& seg : layout.segments) pitch = std::max(pitch, seg.length);
  ThreadPool& pool = ThreadPool::instance();
  // A call too small to wake the workers runs on one thread: its bands need not be split for them.
  const int64_t work = plan.kPadded * p.inPerGroup * plan.rowsPerChannel * plan.tW * width * ah.count * p.batch * p.groups * ad.count;
  const int threads = work < ThreadPool::kInlineWork ? 1 : pool.threads();
  const int64_t halo = makeVerticalLayout(ah, 1).halo;
  // Input channels per chunk: the floats of a segment one tile reads beyond its T positions,
  // summed over segments, for each channel's rows.
  const int64_t segments = static_cast<int64_t>(layout.segments.size());
  const int64_t tileRowFloats = layout.rowLength - segments * width + segments * T;
  const int64_t chunk = std::min(std::max<int64_t>(1, p.inPerGroup), channelChunk(plan.rowsPerChannel, tileRowFloats));
  // Rows a whole number of tiles wide, with every input channel in one chunk, are tiled row by
  // row rather than along the band's virtual row: no tile computes the positions between rows,
  // and tiles of whole channel blocks write straight into the output, bias included, with no
  // scatter. In-process alternation against virtual-row tiles: 3 -> 8 32x32 9.2 -> 8.0 us,
  // 16 -> 16 64x64 4% faster, 8 -> 16 128x128 4%; against row mode, which they now beat in the
  // cost model, a 7x7 stride-2 stem 5-8% and a 3 -> 32 5x5 64x64 layer 8%. With several chunks
  // the sums went through the output between chunks, not the cache-resident accumulators (the
  // stem's data gradient, 64 channels in 3 chunks, 2-6% slower); with a remainder (28- and
  // 56-wide grouped and depthwise layers) the rows' tail tiles cost more than the scatter saved
  // (5-10% slower), except where it is exactly one tail tile (AVX-512's 8-channel tile: 112 = 2
  // x 48 + 16): the 7x7 stride-2 stem 4% faster on one thread and 7% on two, 3 -> 32 5x5 64x64
  // 8%, 3 -> 64 3x3 112x112 20% (in-process alternation).
  const bool exactTail = plan.tail != plan.kernel && width % T == plan.tail->tileWidth;
  const bool rowTiles = aw.outStep == 1 && (width % T == 0 || exactTail) && chunk >= p.inPerGroup;
  // Band or row mode is decided as for one thread: row mode starts its sums from the bias and band
  // mode's virtual-row tiles add it at the end, so a choice that followed the thread count would
  // change the bits with it. Only the band height adapts to the threads (it does not change any sum).
  const int64_t single = chooseBandRows(p, plan, pitch, maxPositions, halo, rowTiles, 1);
  if (single == 0) return false;
  const int64_t split = threads > 1 ? chooseBandRows(p, plan, pitch, maxPositions, halo, rowTiles, threads) : 0;
  const int64_t bandRows = split > 0 ? split : single;
  const VerticalLayout vertical = makeVerticalLayout(ah, bandRows);

  // A block: per segment, a region of vertical.rows rows `pitch` apart, plus room for the
  // reads of the last tile past the band's end (less than a tile and a row).
  const std::vector<SegmentCopy> copies = planRowFill(layout, aw, 0);
  const int64_t regionFloats = vertical.rows * pitch + T + pitch;
  const int64_t blockFloats = segments * regionFloats;
  std::vector<int32_t> tapOffsets(static_cast<size_t>(plan.tW));
  for (int64_t j = 0; j < plan.tW; ++j) {
    const int32_t off = layout.tapOffset[static_cast<size_t>(j)];
    for (int64_t s = 0; s < segments; ++s) {
      const RowLayout::Segment& seg = layout.segments[static_cast<size_t>(s)];
      if (off >= seg.start && off < seg.start + seg.length)
        tapOffsets[static_cast<size_t>(j)] = static_cast<int32_t>(s * regionFloats + off - seg.start);
    }
  }
  const int64_t accPitch = bandTiles(bandRows, pitch, width, T) * T;

  const int64_t bandsPerPlane = (ah.count + bandRows - 1) / bandRows;
  const int64_t items = p.batch * p.groups * ad.count * bandsPerPlane;
  const int64_t itemWork = plan.kPadded * p.inPerGroup * plan.rowsPerChannel * plan.tW * accPitch;
  const int64_t perTask = itemsPerTask(itemWork, items, pool.threads());
  const int64_t tasks = (items + perTask - 1) / perTask;
  const int64_t inVolume = ad.inSize * ah.inSize * aw.inSize;
  const int64_t outVolume = p.outExtent[0] * p.outExtent[1] * p.outExtent[2];

  // Tiles of whole channel blocks in row-tile mode write straight into the output, bias included.
  const int64_t directBlocksEnd = rowTiles ? p.outPerGroup / plan.mr * plan.mr : 0;
  auto runBand = [&](Workspace& ws, int64_t item) {
    int64_t rest = item;
    const int64_t band = rest % bandsPerPlane; rest /= bandsPerPlane;
    const int64_t td = rest % ad.count; rest /= ad.count;
    const int64_t g = rest % p.groups;
    const int64_t n = rest / p.groups;
    const int64_t th0 = band * bandRows;
    const int64_t rows = std::min(bandRows, ah.count - th0);
    const int64_t positions = (rows - 1) * pitch + width;
    const int64_t tiles = (positions + T - 1) / T;
    const float* inGroup = p.input + (n * p.groups + g) * p.inPerGroup * inVolume;

    float* const outBase = outputRow(p, n, g, td, th0, 0);
    const int64_t outRowStride = ah.outStep * p.outExtent[2];
    GemmTileArgs args;
    args.tapOffsets = tapOffsets.data();
    args.taps = static_cast<int32_t>(plan.tW);
    args.outStride = accPitch;
    args.bias = nullptr;  // the scatter adds it (but see row tiles)
    bool first = true;
    for (int64_t c0 = 0; c0 < p.inPerGroup || first; c0 += chunk) {
      const int64_t cEnd = std::min(p.inPerGroup, c0 + chunk);
      ws.rows.clear();
      for (int64_t c = c0; c < cEnd; ++c)
        for (int64_t jd = 0; jd < plan.tD; ++jd) {
          float* block = ws.blocks.data() + ((c - c0) * plan.tD + jd) * blockFloats;
          const int64_t id = ad.inStep * td + ad.offset[static_cast<size_t>(jd)];
          const float* plane = id >= 0 && id < ad.inSize ? inGroup + c * inVolume + id * ah.inSize * aw.inSize : nullptr;
          const int64_t ahead = c + 1 < cEnd ? inVolume : 0;
          for (const VerticalLayout::Run& run : vertical.runs)
            fillRun(layout, copies.data(), aw.inStep, plane, ahead, ah.inSize, aw.inSize,
                    ah.inStep * (th0 + run.qFirst) + run.residue, ah.inStep, run.qSpan + rows, block + run.start * pitch,
                    pitch, regionFloats);
          for (int64_t jh = 0; jh < plan.tH; ++jh) ws.rows.push_back(block + vertical.tapRow[static_cast<size_t>(jh)] * pitch);
        }
      args.rows = ws.rows.data();
      args.rowCount = (cEnd - c0) * plan.rowsPerChannel;
      args.accumulate = !first;
      // Each block of packed weights stays in L1 while every tile of the band uses it.
      for (int64_t kb = 0; kb < plan.kPadded; kb += plan.mr) {
        args.weights = plan.weights(g, kb, c0);
        if (!rowTiles) {
          for (int64_t tile = 0; tile < tiles; ++tile) {
            args.rowOffset = tile * T;
            args.out = ws.acc.data() + kb * accPitch + tile * T;
            (positions - tile * T <= plan.tail->tileWidth ? plan.tail->fn : plan.kernel->fn)(args);
          }
          continue;
        }
        const bool direct = kb < directBlocksEnd;
        args.outStride = direct ? outVolume : accPitch;
        args.bias = direct ? plan.bias(g, kb) : nullptr;
        for (int64_t b = 0; b < rows; ++b)
          for (int64_t t = 0; t < width; t += T) {
            args.rowOffset = b * pitch + t;
            args.out = direct ? outBase + kb * outVolume + b * outRowStride + t : ws.acc.data() + kb * accPitch + args.rowOffset;
            (width - t < T ? plan.tail->fn : plan.kernel->fn)(args);
          }
      }
      first = false;
    }

    // Scatter each row's valid positions of the channels not written directly to the output,
    // adding the bias. Output channel k of band row r starts at outBase + k * outVolume + r *
    // outRowStride.
    for (int64_t k = directBlocksEnd; k < p.outPerGroup; ++k) {
      const float b = p.bias ? p.bias[g * p.outPerGroup + k] : 0.0f;
      const float* src = ws.acc.data() + k * accPitch;
      float* dst = outBase + k * outVolume;
      if (aw.outStep <= 2) {
        (aw.outStep == 1 ? kernels.addScalar : kernels.addScalarStep2)(dst, outRowStride, src, pitch, rows, width, b);
        continue;
      }
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t u = 0; u < width; ++u) dst[r * outRowStride + u * aw.outStep] = src[r * pitch + u] + b;
    }
  };

  pool.parallelFor(tasks, [&](int64_t task, int) {
    Workspace& ws = threadWorkspace();
    const size_t blockSize = static_cast<size_t>(chunk * plan.tD * blockFloats);
    if (ws.blocks.size() < blockSize) ws.blocks.resize(blockSize, 0.0f);
    if (ws.acc.size() < static_cast<size_t>(plan.kPadded * accPitch)) ws.acc.resize(static_cast<size_t>(plan.kPadded * accPitch));
    const int64_t end = std::min(items, (task + 1) * perTask);
    for (int64_t item = task * perTask; item < end; ++item) runBand(ws, item);
  }, itemWork * items);
  return true;
}

}  // namespace convnd
