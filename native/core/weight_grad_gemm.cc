#include "weight_grad_gemm.h"

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>
#include "aligned_floats.h"
#include "axis_map.h"
#include "gemm_plan.h"
#include "prefetch.h"
#include "reused_buffer.h"
#include "thread_pool.h"
#include "windowed_gemm.h"

namespace convnd {

namespace {

// Output positions (batch included) at most, and weights a group at least (4 MiB): measured
// against the register-tile path (one thread, in-process alternation), 3x3 512 -> 512 at 7x7
// 21-23% faster, batch 2 3-5%, batch 4 5% slower; 1024 -> 1024 at 7x7 2.5x as fast; 1x1
// 512 -> 2048 and 2048 -> 512 at 7x7 2x and 15%; 3x3 stride-2 256 -> 512 from 14x14 15%. Fewer
// weights ran slower: 256 -> 256 and 512 -> 128 at 7x7 7% and 40%, 128 -> 128 50%, 64 -> 64 at
// 8x8 2.3x as slow (their accumulators fit the caches; the GEMM's calls are short).
constexpr int64_t kMaxPositions = 128;
constexpr int64_t kMinWeightFloats = int64_t(1) << 20;
// Columns of dW a task computes, about: whole register tiles of whole input channels (a 3x3
// layer's 16 channels, 144 columns, on AVX-512's 48-position tile; a 1x1 layer's 240).
constexpr int64_t kTaskColumns = 256;

// Whether KernelTable::gatherTaps takes every window of `offsets` ([position][tap], -1 outside
// the plane): more than 4 taps, at most 16, those inside the plane within 32 floats. A 1x1
// gradient's single taps ran 2-16% slower through it (512 -> 2048 and 2048 -> 512 7x7), a 2x2
// one's the same (in-process alternation).
bool windowsFitGather(const std::vector<int64_t>& offsets, int64_t taps) {
  if (taps <= 4 || taps > 16) return false;
  const int64_t windows = static_cast<int64_t>(offsets.size()) / taps;
  for (int64_t o = 0; o < windows; ++o) {
    int64_t least = INT64_MAX, most = -1;
    for (int64_t tap = 0; tap < taps; ++tap) {
      const int64_t at = offsets[static_cast<size_t>(o * taps + tap)];
      if (at >= 0) {
        least = std::min(least, at);
        most = std::max(most, at);
      }
    }
    if (most >= 0 && most - least >= 32) return false;
  }
  return true;
}

}  // namespace

bool runWeightGradAsGemm(const KernelTable& kernels, const ConvDesc& d, const float* dy, const float* x, float* dw) {
  const int64_t Kg = d.outPerGroup(), Cg = d.inPerGroup(), vol = d.kernelVolume();
  const int64_t P = d.outVolume(), positions = d.batch * P, columns = Cg * vol;
  if (positions == 0 || positions > kMaxPositions || Kg * columns < kMinWeightFloats) return false;
  ThreadPool& pool = ThreadPool::instance();
  // X's row of position o holds, for each channel c, the input each tap reads: an offset into
  // the input plane per (o, tap), -1 outside it, the same for every channel.
  std::vector<int64_t> source(static_cast<size_t>(P * vol));
  {
    int64_t* at = source.data();
    for (int64_t od = 0; od < d.out[0]; ++od)
      for (int64_t oh = 0; oh < d.out[1]; ++oh)
        for (int64_t ow = 0; ow < d.out[2]; ++ow)
          for (int64_t kd = 0; kd < d.kernel[0]; ++kd)
            for (int64_t kh = 0; kh < d.kernel[1]; ++kh)
              for (int64_t kw = 0; kw < d.kernel[2]; ++kw) {
                const int64_t id = od * d.stride[0] + kd * d.dilation[0] - d.padBefore[0];
                const int64_t ih = oh * d.stride[1] + kh * d.dilation[1] - d.padBefore[1];
                const int64_t iw = ow * d.stride[2] + kw * d.dilation[2] - d.padBefore[2];
                const bool inside = id >= 0 && id < d.in[0] && ih >= 0 && ih < d.in[1] && iw >= 0 && iw < d.in[2];
                *at++ = inside ? (id * d.in[1] + ih) * d.in[2] + iw : -1;
              }
  }
  const int64_t inVolume = d.inVolume();
  const bool gather = kernels.gatherTaps && windowsFitGather(source, vol);
  // dY as the GEMM's weights, W(g, k, p): read in place for one batch item, else copied to
  // [g][k][n * P + o].
  ReusedBuffer dyCopy(d.batch > 1 ? d.outChannels * positions : 0);
  const float* weights = dy;
  if (d.batch > 1) {
    for (int64_t n = 0; n < d.batch; ++n)
      for (int64_t k = 0; k < d.outChannels; ++k)
        std::copy_n(dy + (n * d.outChannels + k) * P, P, dyCopy.data() + k * positions + n * P);
    weights = dyCopy.data();
  }
  // A pointwise GEMM whose input channels are the positions and whose output row is dW's
  // columns, for the row tiles' choice and dY's packing; its input rows are built by the tasks.
  WindowedGemm p;
  p.batch = 1;
  p.groups = d.groups;
  p.inPerGroup = positions;
  p.outPerGroup = Kg;
  p.input = nullptr;
  p.output = dw;
  p.outExtent[0] = p.outExtent[1] = 1;
  p.outExtent[2] = columns;
  p.axes[0] = p.axes[1] = forwardAxis(1, 1, 1, 1, 0, 1);
  p.axes[2] = forwardAxis(columns, 1, 1, 1, 0, columns);
  p.weights = weights;
  p.weightStrides = {Kg * positions, positions, 1, {0, 0, 0}};
  p.bias = nullptr;
  GemmPlan plan = makeGemmPlan(kernels, p);
  if (plan.channelMode) return false;  // never: its depth (the positions) is under channel mode's least
  packWeights(kernels, p, plan);
  const GemmKernel &kernel = *plan.kernel, &tail = *plan.tail;
  const int mr = plan.mr;
  const int64_t T = plan.T, kPadded = plan.kPadded;

  // A task builds X's columns of a run of channels, for every position, into a buffer of its
  // own (a 3x3 layer's 144 columns at 49 positions: 28 KiB, in L1) and runs the row tiles over
  // them, each output-channel block in turn. Built whole beforehand (900 KB for 3x3 512 -> 512
  // at 7x7, out of L2 by the time the GEMM read it, and written on two threads no faster than on
  // one), X took 60 us of that gradient's 1.02 ms on one thread and 58 of 0.56 ms on two. This
  // way (in-process alternation, calls back to back; one thread / two): that gradient 3-4% /
  // 9-11% faster, batch 2 10% / 17%, 1024 -> 1024 7x7 7% / 9%, 3x3 stride-2 256 -> 512 from
  // 14x14 4% / 11%, 1x1 2048 -> 512 7x7 6% / 17%, stride-2 1024 -> 2048 3.5% / 10%; 1x1
  // 512 -> 2048 7x7 1% slower / 8% faster; a 3x3x3 stride-2 one the same.
  const int64_t channelStep = T / std::gcd(T, vol);  // channels whose columns are whole tiles
  const int64_t taskChannels = std::min(Cg, channelStep * std::max<int64_t>(1, kTaskColumns / (channelStep * vol)));
  const int64_t rowFloats = roundUp(taskChannels * vol, T);
  const int64_t chunks = (Cg + taskChannels - 1) / taskChannels;
  // Too few runs of channels for about 4 tasks a thread (a 1x1 512 -> 2048 layer has 3): each
  // run's output-channel blocks are split as well, every split building the run's columns again.
  const int64_t blocks = kPadded / mr;
  const int64_t blockRuns = std::clamp<int64_t>((4 * int64_t(pool.threads()) + d.groups * chunks - 1) / (d.groups * chunks), 1, blocks);
  struct alignas(64) Workspace {
    AlignedFloats rows;  // [position][rowFloats]
    std::vector<const float*> rowStarts;
    AlignedFloats scratch;  // one tile's outputs where they do not all go to dW
  };
  std::vector<Workspace> spaces(static_cast<size_t>(pool.threads()));
  const int32_t noOffset = 0;
  pool.parallelFor(d.groups * chunks * blockRuns, [&](int64_t task, int worker) {
    Workspace& ws = spaces[static_cast<size_t>(worker)];
    if (!ws.rows) {
      // Zeroed once: the columns past a short last run are computed but never stored.
      ws.rows = allocateAligned(static_cast<size_t>(positions * rowFloats));
      std::fill_n(ws.rows.get(), positions * rowFloats, 0.0f);
      for (int64_t r = 0; r < positions; ++r) ws.rowStarts.push_back(ws.rows.get() + r * rowFloats);
      ws.scratch = allocateAligned(static_cast<size_t>(mr * T));
    }
    const int64_t item = task / blockRuns, run = task % blockRuns;
    const int64_t g = item / chunks, c0 = item % chunks * taskChannels, c1 = std::min(Cg, c0 + taskChannels);
    const int64_t kbBegin = blocks * run / blockRuns * mr, kbEnd = blocks * (run + 1) / blockRuns * mr;
    for (int64_t n = 0; n < d.batch; ++n) {
      const float* planes = x + (n * d.inChannels + g * Cg + c0) * inVolume;
      for (int64_t o = 0; o < P; ++o) {
        float* row = ws.rows.get() + (n * P + o) * rowFloats;
        const int64_t* from = source.data() + o * vol;
        if (gather) {
          kernels.gatherTaps(row, planes, inVolume, c1 - c0, from, static_cast<int>(vol));
          continue;
        }
        for (int64_t c = 0; c < c1 - c0; ++c) {
          const float* plane = planes + c * inVolume;
          float* dst = row + c * vol;
          for (int64_t tap = 0; tap < vol; ++tap) {
            // Branch-free: the load always reads inside the plane.
            const float v = plane[from[tap] < 0 ? 0 : from[tap]];
            dst[tap] = from[tap] < 0 ? 0.0f : v;
          }
        }
      }
    }
    GemmTileArgs args;
    args.rows = ws.rowStarts.data();
    args.rowCount = positions;
    args.tapOffsets = &noOffset;
    args.taps = 1;
    args.accumulate = false;
    args.bias = nullptr;
    const int64_t width = (c1 - c0) * vol;
    for (int64_t u = 0; u < width; u += T) {
      const int64_t valid = std::min(T, width - u);
      const GemmKernel& tile = valid <= tail.tileWidth ? tail : kernel;
      args.rowOffset = u;
      for (int64_t kb = kbBegin; kb < kbEnd; kb += mr) {
        args.weights = plan.weights(g, kb, 0);
        float* out = dw + (g * Kg + kb) * columns + c0 * vol + u;
        if (valid == tile.tileWidth && kb + mr <= Kg) {
          // The next block's outputs, mr rows a dW row apart where no hardware prefetcher looks:
          // their lines fetched for writing while this tile computes. The stage-4 3x3 512 -> 512
          // 7x7 gradient from JavaScript, calls back to back: 2.42-2.44 ms against 2.57-3.02
          // (medians) on one thread, 1.27-1.41 against 1.26-1.42 on two.
          if (kb + 2 * mr <= std::min(kbEnd, Kg))
            for (int m = 0; m < mr; ++m) prefetchFloats<1>(out + (mr + m) * columns, tile.tileWidth);
          args.out = out;
          args.outStride = columns;
          tile.fn(args);
          continue;
        }
        args.out = ws.scratch.get();
        args.outStride = tile.tileWidth;
        tile.fn(args);
        for (int64_t m = 0; m < std::min<int64_t>(mr, Kg - kb); ++m)
          std::copy_n(ws.scratch.get() + m * tile.tileWidth, valid, out + m * columns);
      }
    }
  }, kPadded * positions * roundUp(columns, T) * d.groups);
  return true;
}

}  // namespace convnd
