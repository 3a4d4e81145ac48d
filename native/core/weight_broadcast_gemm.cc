#include "weight_broadcast_gemm.h"

#include <algorithm>
#include <vector>
#include "gemm_plan.h"
#include "aligned_floats.h"
#include "reused_buffer.h"
#include "thread_pool.h"
#include "tiling.h"

namespace convnd {

namespace {

// Weights a group at least (2 MiB, as weight_stationary.cc): the layers that driver took, the only
// ones measured against this one.
constexpr int64_t kMinWeightFloats = int64_t(1) << 19;
// im2col floats a group at most (1 MiB): every block of output channels reads all of it, from L2.
constexpr int64_t kMaxColumnFloats = int64_t(1) << 18;
constexpr int64_t kCacheLineFloats = 16;
// How many channels ahead the strided tile prefetches a channel's weights: 4 and 8 ran alike on
// the stage-4 data gradient (in-process alternation), 2 slower, none 1.2x slower.
constexpr int64_t kPrefetchChannels = 4;

// Where a group's weights lie: weight (k, c, tap) at k * outChannel + c * inChannel +
// tapOffsets[tap], taps numbered (jd * tH + jh) * tW + jw as X's rows. Natural: the forward
// layout, each output channel's weights one run in the order of X's rows (inChannel = taps,
// tapOffsets[tap] = tap). Otherwise (a data gradient's: the forward's weights read across its
// output channels) the tiles read them in place, prefetched (BroadcastTileKernel::strided);
// segmented where a block of mk channels holds one channel's weights as one run (outChannel =
// taps, the taps a permutation of a run): the last positions' dot products read that run.
struct WeightLayout {
  std::vector<int64_t> tapOffsets;
  int64_t low = 0, high = 0;  // the lowest and highest tap offset
  bool natural = true, segmented = true;

  explicit WeightLayout(const WindowedGemm& p) {
    const WeightStrides& s = p.weightStrides;
    const AxisMap &ad = p.axes[0], &ah = p.axes[1], &aw = p.axes[2];
    for (int64_t jd = 0; jd < ad.taps(); ++jd)
      for (int64_t jh = 0; jh < ah.taps(); ++jh)
        for (int64_t jw = 0; jw < aw.taps(); ++jw)
          tapOffsets.push_back(ad.weightIndex[jd] * s.axis[0] + ah.weightIndex[jh] * s.axis[1] + aw.weightIndex[jw] * s.axis[2]);
    const int64_t taps = static_cast<int64_t>(tapOffsets.size());
    low = *std::min_element(tapOffsets.begin(), tapOffsets.end());
    high = *std::max_element(tapOffsets.begin(), tapOffsets.end());
    std::vector<int64_t> sorted = tapOffsets;
    std::sort(sorted.begin(), sorted.end());
    for (int64_t t = 0; t < taps; ++t) {
      natural = natural && tapOffsets[static_cast<size_t>(t)] == t;
      segmented = segmented && sorted[static_cast<size_t>(t)] == low + t;
    }
    natural = natural && s.inChannel == taps;
    segmented = segmented && s.outChannel == taps;
  }
};

// Where X's entries come from: for each tap of the window, each output position's input offset in
// a channel's plane, or the plane's size where it reads padding (build reads a zero there, past a
// copy of the plane). A tap whose first `whole` positions read long runs of consecutive inputs
// (a stride-1 1x1 layer: one run a row) copies them as runs; the others gather float by float,
// without a branch. A stride-2 layer's runs are single floats: with a loop a run, the 3x3
// stride-2 256 -> 512 forward from 14x14 ran 7% slower than the packing driver on two threads,
// this way 7-13% faster (in-process alternation).
struct ColumnSource {
  // A tap's runs go as copies where they average at least this many floats.
  static constexpr int64_t kMinRunFloats = 16;
  int64_t taps, positions, planeFloats;
  bool readsPadding = false;
  std::vector<int64_t> offset;  // [tap][output position]
  struct Run {
    int64_t position, source, length;  // a zero (source planeFloats) is a run of its own
  };
  std::vector<std::vector<Run>> runs;  // per tap: its copies, or none where it gathers
  // Planes of at most kGatherPlaneFloats (ResNet's last stage, 7 x 7) through the ISA's gather
  // from registers (KernelTable::gatherPlane): planeIndex [tap][position < whole], -1 outside.
  // The 3x3 512 -> 512 7x7 forward and data gradient 3-4% faster on one thread, 1-6% on two
  // (in-process alternation; from JavaScript the forward 1-5% on two).
  void (*gatherPlane)(float*, const float*, int64_t, const int32_t*, int64_t) = nullptr;
  std::vector<int32_t> planeIndex;

  ColumnSource(const KernelTable& kernels, const WindowedGemm& p, int64_t whole) {
    const AxisMap &ad = p.axes[0], &ah = p.axes[1], &aw = p.axes[2];
    taps = ad.taps() * ah.taps() * aw.taps();
    positions = ad.count * ah.count * aw.count;
    planeFloats = ad.inSize * ah.inSize * aw.inSize;
    if (kernels.gatherPlane && planeFloats <= kGatherPlaneFloats) gatherPlane = kernels.gatherPlane;
    for (int64_t jd = 0; jd < ad.taps(); ++jd)
      for (int64_t jh = 0; jh < ah.taps(); ++jh)
        for (int64_t jw = 0; jw < aw.taps(); ++jw) {
          const size_t first = offset.size();
          for (int64_t td = 0; td < ad.count; ++td)
            for (int64_t th = 0; th < ah.count; ++th)
              for (int64_t tw = 0; tw < aw.count; ++tw) {
                const int64_t id = ad.inStep * td + ad.offset[jd], ih = ah.inStep * th + ah.offset[jh], iw = aw.inStep * tw + aw.offset[jw];
                const bool inside = id >= 0 && id < ad.inSize && ih >= 0 && ih < ah.inSize && iw >= 0 && iw < aw.inSize;
                offset.push_back(inside ? (id * ah.inSize + ih) * aw.inSize + iw : planeFloats);
                readsPadding = readsPadding || !inside;
              }
          if (gatherPlane) {
            for (int64_t u = 0; u < whole; ++u) {
              const int64_t from = offset[first + static_cast<size_t>(u)];
              planeIndex.push_back(from == planeFloats ? -1 : static_cast<int32_t>(from));
            }
            continue;
          }
          std::vector<Run>& tapRuns = runs.emplace_back();
          for (int64_t u = 0; u < whole; ++u) {
            const int64_t from = offset[first + static_cast<size_t>(u)];
            if (tapRuns.empty() || tapRuns.back().source + tapRuns.back().length != from || from == planeFloats)
              tapRuns.push_back({u, from, 0});
            ++tapRuns.back().length;
          }
          if (static_cast<int64_t>(tapRuns.size()) * kMinRunFloats > whole) tapRuns.clear();
        }
  }

  // X's rows of input channel c (`plane`), one a tap: the input each output position reads (zero
  // outside it), its first `whole` positions in x ([c][tap][position], rows of `whole`), the
  // others in xT ([position - whole][c][tap], rows of `depth`). `scratch` holds planeFloats + 1:
  // the plane and a zero, where the layer reads padding.
  void build(const float* plane, int64_t c, int64_t whole, int64_t depth, float* x, float* xT, float* scratch) const {
    if (gatherPlane) {
      gatherPlane(x + c * taps * whole, plane, planeFloats, planeIndex.data(), taps * whole);
    } else {
      const float* source = plane;
      if (readsPadding) {
        std::copy_n(plane, planeFloats, scratch);
        scratch[planeFloats] = 0.0f;
        source = scratch;
      }
      for (int64_t tap = 0; tap < taps; ++tap) {
        float* const dst = x + (c * taps + tap) * whole;
        const int64_t* const from = offset.data() + tap * positions;
        const std::vector<Run>& tapRuns = runs[static_cast<size_t>(tap)];
        if (tapRuns.empty())
          for (int64_t u = 0; u < whole; ++u) dst[u] = source[from[u]];
        else
          for (const Run& run : tapRuns) std::copy_n(source + run.source, run.length, dst + run.position);
      }
    }
    // The few last positions, with a branch for the padding.
    for (int64_t tap = 0; tap < taps; ++tap) {
      const int64_t* const from = offset.data() + tap * positions;
      for (int64_t u = whole; u < positions; ++u) xT[(u - whole) * depth + c * taps + tap] = from[u] == planeFloats ? 0.0f : plane[from[u]];
    }
  }
};

// This thread's X buffer, at least `floats` long, kept for its next call: every thread builds the X
// it reads. One X shared by the threads (built by the caller: it is smaller than what waking the
// workers pays for) took 0.29 ms of a 3x3 512 -> 512 7x7 forward's 1.4 ms on two threads, against
// 0.13 ms on one: each call's writes had to take the lines back from the other core's L2, which
// the last call's tiles had read them into. Not a ReusedBuffer: that hands its storage back to the
// thread that destroys it, and the workspaces holding the workers' buffers die on the caller's.
// One X a thread (about 1 MiB at most: kMaxColumnFloats), kept for the thread's life.
float* threadColumns(int64_t floats) {
  static thread_local AlignedFloats kept;
  static thread_local int64_t capacity = 0;
  if (capacity < floats) {
    kept = allocateAligned(static_cast<size_t>(floats));
    capacity = floats;
  }
  return kept.get();
}

// Where the strided tile's dot products keep element m of a run of `length` weights (xR's floats
// and their sums, `floats` a run): whole registers from the run's start, and a last one that ends
// where the run does (BroadcastTileArgs::segmentLength), its lanes over the registers before it
// zero in xR. A masked load of the run's last floats instead: the stage-4 data gradient 2-5% slower
// (in-process alternation).
struct SegmentSlots {
  int64_t body, shift, floats;
  SegmentSlots(int64_t length, int lanes)
      : body(length / lanes * lanes),
        shift(length > lanes && length % lanes != 0 ? lanes - length % lanes : 0),
        floats(roundUp(length, lanes)) {}
  int64_t of(int64_t m) const { return m < body ? m : m + shift; }
};

// xR of one batch item from its xT ([position][channel * taps + tap], `rest` positions of
// `channels` channels): xR[position][channel][slots.of(i * taps + tapOffsets[tap] - low)] = xT's
// [position][channel * taps + tap] for each i < mk, where a block's run of one channel's weights
// has weight (i, tap); zero elsewhere, up to slots.floats.
void spreadSegments(const WeightLayout& layout, const SegmentSlots& slots, int mk, int64_t channels, int64_t rest, const float* xT,
                    float* xR) {
  const int64_t taps = static_cast<int64_t>(layout.tapOffsets.size());
  for (int64_t q = 0; q < rest; ++q)
    for (int64_t c = 0; c < channels; ++c) {
      float* const run = xR + (q * channels + c) * slots.floats;
      const float* const from = xT + q * channels * taps + c * taps;
      std::fill_n(run, slots.floats, 0.0f);
      for (int64_t i = 0; i < mk; ++i)
        for (int64_t t = 0; t < taps; ++t) run[slots.of(i * taps + layout.tapOffsets[static_cast<size_t>(t)] - layout.low)] = from[t];
    }
}

// The reduction (input channels x taps) cut into slices of whole input channels, each with an im2col
// of at most kSliceColumnFloats: X of a 3x3 512 -> 512 7x7 layer (900 KB) is built by every thread
// that reads it, so on two threads both built all of it (0.13-0.15 ms of a 1.14 ms call); in two
// slices, one a thread, each builds half. The slices follow from the shape alone, never from the
// thread count: slice 0 writes the output (bias included), the others partial sums that the caller
// adds after it in slice order, so the sums round the same at any thread count.
struct ReductionSlices {
  static constexpr int64_t kSliceColumnFloats = int64_t(1) << 17;
  int64_t count, inPerGroup;
  ReductionSlices(int64_t columnFloats, int64_t inPerGroup)
      : count(std::min<int64_t>(inPerGroup, (columnFloats + kSliceColumnFloats - 1) / kSliceColumnFloats)),
        inPerGroup(inPerGroup) {}
  int64_t begin(int64_t slice) const { return slice * inPerGroup / count; }
  int64_t channels(int64_t slice) const { return begin(slice + 1) - begin(slice); }
};

}  // namespace

bool runWeightBroadcastGemm(const KernelTable& kernels, const WindowedGemm& p) {
  const BroadcastTileKernel& tile = kernels.broadcastTile;
  const int lanes = kernels.lanes, mk = tile.mk;
  const AxisMap &ad = p.axes[0], &ah = p.axes[1], &aw = p.axes[2];
  const int64_t positions = ad.count * ah.count * aw.count;
  const int64_t taps = ad.taps() * ah.taps() * aw.taps(), depth = p.inPerGroup * taps;
  bool inOrder = true;
  for (int a = 0; a < kAxes; ++a)
    inOrder = inOrder && p.axes[a].outStart == 0 && p.axes[a].outStep == 1 && p.axes[a].count == p.outExtent[a];
  // As doubles: with padding the im2col outgrows the input.
  const double columnFloats = static_cast<double>(p.batch) * static_cast<double>(depth) * static_cast<double>(positions);
  if (mk == 0 || !inOrder || positions < lanes || p.outPerGroup * depth < kMinWeightFloats || columnFloats > kMaxColumnFloats)
    return false;
  const int64_t whole = positions / lanes * lanes, rest = positions - whole;
  const WeightLayout layout(p);
  const ReductionSlices slices(static_cast<int64_t>(columnFloats), p.inPerGroup);
  const int64_t sliceChannelsMax = slices.channels(slices.count - 1), sliceDepthMax = sliceChannelsMax * taps;
  // X's rows hold whole registers of positions only (the rest go to xT): they start on cache
  // lines, and X takes no padding.
  const int64_t columnsFloats = roundUp(sliceDepthMax * positions, kCacheLineFloats);  // X and xT of one (batch item, group, slice)
  // With weights not in the natural layout, the last positions' dot products read a block's
  // weights of one channel as one run of mk * taps (segmentFloats as registers) against xR:
  // [position - whole][channel][segment], each of X's floats where the run has its weight.
  const SegmentSlots slots(int64_t(mk) * taps, lanes);
  const int64_t segmentFloats = slots.floats;
  const bool segments = !layout.natural && rest > 0;
  const int64_t segmentRowsFloats = segments ? rest * sliceChannelsMax * segmentFloats : 0;
  // Weights read in place across output channels: only with two registers of positions or more
  // (at 3x6 positions, batch 2, the 1024 -> 512 data gradient ran 6-13% slower than the packing
  // driver; at 4x8 and 7x7, batch 1, 25-48% faster), and dot products (a load and a store of
  // their sums with each multiply-add) at most 1/16 of the tiles' multiply-adds. Against the
  // packing driver (in-process alternation): 5x5 128 -> 512 data gradients at 7x7 (one position's
  // 13 registers against 3 x 8 x 25) 13-17% faster, at 6x6 (4 x 13 against 2 x 8 x 25) 4% faster
  // on one thread and 7% slower on two; 3x3 256 -> 256 at 5x7 (3 x 5 against 2 x 8 x 9) 25-34%
  // slower, at 4x13 (4 x 5 against 3 x 8 x 9) 16-33% slower.
  const int64_t dotRegisters = rest * (segmentFloats / lanes), tileRegisters = whole / lanes * mk * taps;
  if (!layout.natural &&
      (tile.strided[1] == nullptr || whole < 2 * lanes ||
       (segments && (!layout.segmented || segmentRowsFloats > columnsFloats || 16 * dotRegisters > tileRegisters))))
    return false;
  const ColumnSource source(kernels, p, whole);
  const int64_t itemFloats = columnsFloats + segmentRowsFloats;  // X, xT and xR of one (batch item, group, slice)
  const int64_t inVolume = ad.inSize * ah.inSize * aw.inSize;
  ThreadPool& pool = ThreadPool::instance();

  const WeightStrides& s = p.weightStrides;
  const int64_t outVolume = p.outExtent[0] * p.outExtent[1] * p.outExtent[2];
  const int64_t blocks = (p.outPerGroup + mk - 1) / mk;
  const int dotColumns = tile.dotColumns, dotLanes = tile.dotLanes;
  // Slices past the first: [slice - 1][batch item][group][output channel][position].
  const int64_t partialSliceFloats = p.batch * p.groups * p.outPerGroup * positions;
  ReusedBuffer partials((slices.count - 1) * partialSliceFloats);
  // Aligned so that one thread's buffers' bookkeeping never shares a cache line with another's.
  struct alignas(64) Workspace {
    const float* x = nullptr;  // X of (slice, group) `xKey`, every batch item's (threadColumns)
    int64_t xKey = -1;
    std::vector<float> plane;  // ColumnSource::build's scratch
    std::vector<float> weights, bias, out;  // a last, partial block's, padded to mk channels
    std::vector<float> dot;                 // the dot products' lane sums
  };
  std::vector<Workspace> spaces(static_cast<size_t>(pool.threads()));
  // Each task one slice's run of (group, block) items, so that a thread builds one slice's X.
  const int64_t items = p.groups * blocks;
  const int64_t tasksPerSlice = std::min<int64_t>(items, (pool.threads() + slices.count - 1) / slices.count);
  const int64_t itemWork = int64_t(mk) * depth * positions * p.batch;
  const TaskRuns runs(itemWork, items, pool.threads());
  const bool sliced = slices.count > 1;
  // What every tile call shares: the weights' layout for the strided tile, what it prefetches and
  // the shape of its dot products (segmentX and segmentAcc are set for a block's last call).
  BroadcastTileArgs layoutArgs;
  layoutArgs.columnStride = whole;
  layoutArgs.channelStride = s.inChannel;
  layoutArgs.taps = taps;
  layoutArgs.tapOffsets = layout.tapOffsets.data();
  layoutArgs.prefetchChannels = kPrefetchChannels;
  layoutArgs.spanStart = layout.low;
  layoutArgs.span = layout.high - layout.low + (mk - 1) * s.outChannel + 1;
  layoutArgs.segmentPositions = rest;
  layoutArgs.segmentFloats = segmentFloats;
  layoutArgs.segmentLength = int64_t(mk) * taps;
  pool.parallelFor(sliced ? slices.count * tasksPerSlice : runs.tasks(), [&](int64_t task, int worker) {
    Workspace& ws = spaces[static_cast<size_t>(worker)];
    ws.plane.resize(static_cast<size_t>(inVolume + 1));
    std::vector<const float*> weightRows(static_cast<size_t>(dotColumns));
    const int64_t slice = sliced ? task / tasksPerSlice : 0, part = task % tasksPerSlice;
    const int64_t c0 = slices.begin(slice), sliceDepth = slices.channels(slice) * taps;
    const int64_t first = sliced ? part * items / tasksPerSlice : runs.begin(task);
    const int64_t last = sliced ? (part + 1) * items / tasksPerSlice : runs.end(task);
    for (int64_t item = first; item < last; ++item) {
      const int64_t g = item / blocks, kb = item % blocks * mk, rows = std::min<int64_t>(mk, p.outPerGroup - kb);
      if (ws.xKey != slice * p.groups + g) {
        float* const x = threadColumns(p.batch * itemFloats);
        for (int64_t n = 0; n < p.batch; ++n) {
          const float* input = p.input + ((n * p.groups + g) * p.inPerGroup + c0) * inVolume;
          float* at = x + n * itemFloats;
          for (int64_t c = 0; c < slices.channels(slice); ++c)
            source.build(input + c * inVolume, c, whole, sliceDepth, at, at + sliceDepth * whole, ws.plane.data());
          if (segments) spreadSegments(layout, slots, mk, slices.channels(slice), rest, at + sliceDepth * whole, at + columnsFloats);
        }
        ws.x = x;
        ws.xKey = slice * p.groups + g;
      }
      BroadcastTileArgs args = layoutArgs;
      args.weights = p.weights + g * s.group + kb * s.outChannel + c0 * s.inChannel;
      args.weightStride = s.outChannel;
      args.depth = sliceDepth;
      args.bias = p.bias && slice == 0 ? p.bias + g * p.outPerGroup + kb : nullptr;
      args.channels = slices.channels(slice);
      const bool natural = layout.natural || rows < mk;  // a partial block's weights are copied into the natural layout
      if (rows < mk) {
        // The tile computes mk channels: the missing ones read zero weights into a scratch output.
        ws.weights.assign(static_cast<size_t>(mk * sliceDepth), 0.0f);
        for (int64_t i = 0; i < rows; ++i) {
          const float* from = args.weights + i * s.outChannel;
          float* to = ws.weights.data() + i * sliceDepth;
          if (layout.natural)
            std::copy_n(from, sliceDepth, to);
          else
            for (int64_t c = 0; c < args.channels; ++c)
              for (int64_t t = 0; t < taps; ++t) to[c * taps + t] = from[c * s.inChannel + layout.tapOffsets[static_cast<size_t>(t)]];
        }
        args.weights = ws.weights.data();
        args.weightStride = sliceDepth;
        if (args.bias) {
          ws.bias.assign(static_cast<size_t>(mk), 0.0f);
          std::copy_n(args.bias, rows, ws.bias.data());
          args.bias = ws.bias.data();
        }
        ws.out.resize(static_cast<size_t>(mk * positions));
      }
      for (int64_t n = 0; n < p.batch; ++n) {
        const float* x = ws.x + n * itemFloats;
        // Where this slice's sums of channels kb... go: the output's rows, or a slice of partials.
        float* const dest = slice == 0 ? outputPlane(p, n, g, kb)
                                       : partials.data() + (slice - 1) * partialSliceFloats + ((n * p.groups + g) * p.outPerGroup + kb) * positions;
        const int64_t destStride = slice == 0 ? outVolume : positions;
        float* const out = rows < mk ? ws.out.data() : dest;
        args.outStride = rows < mk ? positions : destStride;
        // The last positions: each a dot product of X's column (a row of xT) with every weight row,
        // or (strided) of xR's rows with the block's runs of weights. The last tile of a block
        // takes the strided ones, and a single natural one (withLast), beside its own.
        const bool stridedDots = !natural && rest > 0;
        if (stridedDots) ws.dot.assign(static_cast<size_t>(rest * segmentFloats), 0.0f);
        for (int64_t u = 0; u < whole;) {
          const int nv = static_cast<int>(std::min<int64_t>(kMaxBroadcastVectors, (whole - u) / lanes));
          args.columns = x + u;
          args.out = out + u;
          u += nv * lanes;
          if (stridedDots && u == whole) {
            args.segmentX = x + columnsFloats;
            args.segmentAcc = ws.dot.data();
          }
          if (natural && rest == 1 && u == whole) {
            args.lastColumn = x + sliceDepth * whole;  // xT's one row
            tile.withLast[nv](args);
          } else {
            (natural ? tile.fn : tile.strided)[nv](args);
          }
        }
        args.segmentAcc = nullptr;
        if (stridedDots) {
          for (int64_t q = 0; q < rest; ++q)
            for (int64_t i = 0; i < mk; ++i) {
              float sum = args.bias ? args.bias[i] : 0.0f;
              for (int64_t m = i * taps; m < (i + 1) * taps; ++m) sum += ws.dot[static_cast<size_t>(q * segmentFloats + slots.of(m))];
              out[i * args.outStride + whole + q] = sum;
            }
        } else if (natural && rest > 1) {
          const float* xT = x + sliceDepth * whole;
          for (int64_t i0 = 0; i0 < rows; i0 += dotColumns) {
            const int count = static_cast<int>(std::min<int64_t>(dotColumns, rows - i0));
            for (int i = 0; i < count; ++i) weightRows[static_cast<size_t>(i)] = args.weights + (i0 + i) * args.weightStride;
            for (int64_t q = 0; q < rest; ++q) {
              ws.dot.assign(static_cast<size_t>(dotColumns * dotLanes), 0.0f);
              WeightDotArgs dot;
              dot.dy = xT + q * sliceDepth;
              dot.length = sliceDepth;
              if (count == dotColumns) {
                dot.columns = weightRows.data();
                dot.acc = ws.dot.data();
                tile.dot(dot);
              } else {
                for (int i = 0; i < count; ++i) {
                  dot.columns = weightRows.data() + i;
                  dot.acc = ws.dot.data() + i * dotLanes;
                  tile.dotSingle(dot);
                }
              }
              for (int i = 0; i < count; ++i) {
                float sum = args.bias ? args.bias[i0 + i] : 0.0f;
                for (int lane = 0; lane < dotLanes; ++lane) sum += ws.dot[static_cast<size_t>(i * dotLanes + lane)];
                out[(i0 + i) * args.outStride + whole + q] = sum;
              }
            }
          }
        }
        if (rows < mk)
          for (int64_t i = 0; i < rows; ++i) std::copy_n(out + i * positions, positions, dest + i * destStride);
      }
    }
  }, itemWork * items);
  // The later slices' sums, added in slice order.
  for (int64_t slice = 1; slice < slices.count; ++slice)
    for (int64_t n = 0; n < p.batch; ++n)
      for (int64_t g = 0; g < p.groups; ++g)
        for (int64_t k = 0; k < p.outPerGroup; ++k) {
          float* const row = outputPlane(p, n, g, k);
          const float* add = partials.data() + (slice - 1) * partialSliceFloats + ((n * p.groups + g) * p.outPerGroup + k) * positions;
          for (int64_t u = 0; u < positions; ++u) row[u] += add[u];
        }
  return true;
}

}  // namespace convnd
