#include "weight_broadcast_gemm.h"

#include <algorithm>
#include <vector>
#include "gemm_plan.h"
#include "reused_buffer.h"
#include "thread_pool.h"
#include "tiling.h"

namespace convnd {

namespace {

// Weights a group at least (2 MiB, as weight_stationary.cc): the layers that driver took, the only
// ones measured against this one.
constexpr int64_t kMinWeightFloats = int64_t(1) << 19;
// im2col floats at most (1 MiB): every block of output channels reads all of it, from L2.
constexpr int64_t kMaxColumnFloats = int64_t(1) << 18;
// Input channels an im2col task builds.
constexpr int64_t kBuildChannels = 16;
constexpr int64_t kCacheLineFloats = 16;

// Whether weight (k, c) of a group of a one-tap window lies at k * outChannel + c: the forward
// layout (each output channel's weights one contiguous run).
bool naturalWeights(const WindowedGemm& p) {
  const WeightStrides& s = p.weightStrides;
  return s.inChannel == 1 &&
         p.axes[0].weightIndex[0] * s.axis[0] + p.axes[1].weightIndex[0] * s.axis[1] + p.axes[2].weightIndex[0] * s.axis[2] == 0;
}

// Where X's entries come from, for a window of one tap: each output position's input offset in a
// channel's plane, -1 where it reads padding. The positions below `whole` go as runs, each a copy
// of consecutive input floats or a run of zeros: a stride-1 1x1 layer's X rows are one copy each (a
// float at a time, building X took a fifth of a 1x1 2048 -> 512 7x7 forward's samples on two
// threads).
struct ColumnSource {
  std::vector<int64_t> offset;  // per output position
  struct Run {
    int64_t position, source, length;  // source -1: zeros
  };
  std::vector<Run> runs;

  ColumnSource(const WindowedGemm& p, int64_t whole) {
    const AxisMap &ad = p.axes[0], &ah = p.axes[1], &aw = p.axes[2];
    for (int64_t td = 0; td < ad.count; ++td)
      for (int64_t th = 0; th < ah.count; ++th)
        for (int64_t tw = 0; tw < aw.count; ++tw) {
          const int64_t id = ad.inStep * td + ad.offset[0], ih = ah.inStep * th + ah.offset[0], iw = aw.inStep * tw + aw.offset[0];
          const bool inside = id >= 0 && id < ad.inSize && ih >= 0 && ih < ah.inSize && iw >= 0 && iw < aw.inSize;
          offset.push_back(inside ? (id * ah.inSize + ih) * aw.inSize + iw : -1);
        }
    for (int64_t u = 0; u < whole; ++u) {
      const int64_t from = offset[static_cast<size_t>(u)];
      const bool extends = !runs.empty() && (from < 0 ? runs.back().source < 0
                                                      : runs.back().source >= 0 && runs.back().source + runs.back().length == from);
      if (!extends) runs.push_back({u, from, 0});
      ++runs.back().length;
    }
  }

  // X's row of input channel c (`plane`): the input each output position reads (zero outside
  // it), its first `whole` positions in x ([c][position], rows of `whole`), the others in xT
  // ([position - whole][c], rows of `depth`).
  void build(const float* plane, int64_t c, int64_t whole, int64_t depth, float* x, float* xT) const {
    float* dst = x + c * whole;
    // Plain loops: a strided layer's runs are single floats, which a library call each made slow.
    for (const Run& run : runs) {
      float* to = dst + run.position;
      if (run.source < 0)
        for (int64_t i = 0; i < run.length; ++i) to[i] = 0.0f;
      else
        for (int64_t i = 0; i < run.length; ++i) to[i] = plane[run.source + i];
    }
    for (int64_t u = whole; u < static_cast<int64_t>(offset.size()); ++u) {
      const int64_t from = offset[static_cast<size_t>(u)];
      xT[(u - whole) * depth + c] = from < 0 ? 0.0f : plane[from];
    }
  }
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
  const double columnFloats = static_cast<double>(p.batch * p.groups) * static_cast<double>(depth) * static_cast<double>(positions);
  if (mk == 0 || taps != 1 || !inOrder || positions < lanes || p.outPerGroup * depth < kMinWeightFloats || columnFloats > kMaxColumnFloats ||
      !naturalWeights(p))
    return false;
  const int64_t whole = positions / lanes * lanes, rest = positions - whole;
  const ColumnSource source(p, whole);
  // X's rows hold whole registers of positions only (the rest go to xT): they start on cache
  // lines, and X takes no padding.
  const int64_t sliceFloats = roundUp(depth * positions, kCacheLineFloats);  // X and xT of one (batch item, group)
  const int64_t inVolume = ad.inSize * ah.inSize * aw.inSize;
  ReusedBuffer columns(p.batch * p.groups * sliceFloats);
  float* const xBase = columns.data();
  ThreadPool& pool = ThreadPool::instance();

  const int64_t chunks = (p.inPerGroup + kBuildChannels - 1) / kBuildChannels;
  pool.parallelFor(p.batch * p.groups * chunks, [&](int64_t item, int) {
    const int64_t slice = item / chunks, c0 = item % chunks * kBuildChannels;
    float* x = xBase + slice * sliceFloats;
    const float* input = p.input + slice * p.inPerGroup * inVolume;
    for (int64_t c = c0; c < std::min(p.inPerGroup, c0 + kBuildChannels); ++c)
      source.build(input + c * inVolume, c, whole, depth, x, x + depth * whole);
  }, p.batch * p.groups * depth * positions);

  const WeightStrides& s = p.weightStrides;
  const int64_t outVolume = p.outExtent[0] * p.outExtent[1] * p.outExtent[2];
  const int64_t blocks = (p.outPerGroup + mk - 1) / mk;
  const int dotColumns = tile.dotColumns, dotLanes = tile.dotLanes;
  // Aligned so that one thread's buffers' bookkeeping never shares a cache line with another's.
  struct alignas(64) Workspace {
    std::vector<float> weights, bias, out;  // a last, partial block's, padded to mk channels
    std::vector<float> dot;                 // the dot products' lane sums
  };
  std::vector<Workspace> spaces(static_cast<size_t>(pool.threads()));
  const int64_t itemWork = int64_t(mk) * depth * positions * p.batch;
  const TaskRuns runs(itemWork, p.groups * blocks, pool.threads());
  pool.parallelFor(runs.tasks(), [&](int64_t task, int worker) {
    Workspace& ws = spaces[static_cast<size_t>(worker)];
    ws.dot.resize(static_cast<size_t>(dotColumns * dotLanes));
    std::vector<const float*> weightRows(static_cast<size_t>(dotColumns));
    for (int64_t item = runs.begin(task); item < runs.end(task); ++item) {
      const int64_t g = item / blocks, kb = item % blocks * mk, rows = std::min<int64_t>(mk, p.outPerGroup - kb);
      BroadcastTileArgs args;
      args.weights = p.weights + g * s.group + kb * s.outChannel;
      args.weightStride = s.outChannel;
      args.depth = depth;
      args.columnStride = whole;
      args.bias = p.bias ? p.bias + g * p.outPerGroup + kb : nullptr;
      if (rows < mk) {
        // The tile computes mk channels: the missing ones read zero weights into a scratch output.
        ws.weights.assign(static_cast<size_t>(mk * depth), 0.0f);
        for (int64_t i = 0; i < rows; ++i) std::copy_n(args.weights + i * s.outChannel, depth, ws.weights.data() + i * depth);
        args.weights = ws.weights.data();
        args.weightStride = depth;
        if (args.bias) {
          ws.bias.assign(static_cast<size_t>(mk), 0.0f);
          std::copy_n(args.bias, rows, ws.bias.data());
          args.bias = ws.bias.data();
        }
        ws.out.resize(static_cast<size_t>(mk * positions));
      }
      for (int64_t n = 0; n < p.batch; ++n) {
        const float* x = xBase + (n * p.groups + g) * sliceFloats;
        float* const output = outputPlane(p, n, g, kb);
        float* const out = rows < mk ? ws.out.data() : output;
        args.outStride = rows < mk ? positions : outVolume;
        for (int64_t u = 0; u < whole;) {
          const int nv = static_cast<int>(std::min<int64_t>(kMaxBroadcastVectors, (whole - u) / lanes));
          args.columns = x + u;
          args.out = out + u;
          tile.fn[nv](args);
          u += nv * lanes;
        }
        // The last positions: each a dot product of X's column (a row of xT) with every weight row.
        const float* xT = x + depth * whole;
        for (int64_t i0 = 0; i0 < rows; i0 += dotColumns) {
          const int count = static_cast<int>(std::min<int64_t>(dotColumns, rows - i0));
          for (int i = 0; i < count; ++i) weightRows[static_cast<size_t>(i)] = args.weights + (i0 + i) * args.weightStride;
          for (int64_t q = 0; q < rest; ++q) {
            std::fill(ws.dot.begin(), ws.dot.end(), 0.0f);
            WeightDotArgs dot;
            dot.dy = xT + q * depth;
            dot.length = depth;
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
        if (rows < mk)
          for (int64_t i = 0; i < rows; ++i) std::copy_n(out + i * positions, positions, output + i * outVolume);
      }
    }
  }, itemWork * p.groups * blocks);
  return true;
}

}  // namespace convnd
