#include "weight_grad_gemm.h"

#include <algorithm>
#include <cstdint>
#include <vector>
#include "axis_map.h"
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
// Floats of the im2col matrix at most (16 MiB).
constexpr int64_t kMaxColumnFloats = int64_t(4) << 20;
// Input channels an im2col task builds.
constexpr int64_t kBuildChannels = 16;

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
  if (positions == 0 || positions > kMaxPositions || Kg * columns < kMinWeightFloats ||
      static_cast<double>(d.groups) * static_cast<double>(positions) * static_cast<double>(columns) > kMaxColumnFloats)
    return false;
  ThreadPool& pool = ThreadPool::instance();
  // X as rows[g][n * P + o][c * vol + tap], built straight from the input through an offset into
  // the input plane per (o, tap) (-1 outside it), the same for every channel. Built column by
  // column (each output row a run) and then transposed, it took 13% of a 3x3 512 -> 512 7x7
  // gradient; this way that gradient ran 1-3% faster on one thread and 4-5% on two, 3-d 3x3x3
  // stride-2 128 -> 512 11% and 15-19%, 1024 -> 1024 7x7 2-4%, a 1x1 512 -> 2048 7x7 one 1-2%
  // slower on one thread (its columns were plain copies, then one transpose).
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
  ReusedBuffer im2col(d.groups * positions * columns);
  const int64_t inVolume = d.inVolume();
  const bool gather = kernels.gatherTaps && windowsFitGather(source, vol);
  // A task fills a run of channels in every row: a channel a task (its 49 rows 18 KiB apart, in
  // two of L1's sets) took 2-5% longer on one thread.
  const int64_t chunks = (Cg + kBuildChannels - 1) / kBuildChannels;
  pool.parallelFor(d.groups * chunks, [&](int64_t item, int) {
    const int64_t g = item / chunks, c0 = item % chunks * kBuildChannels, c1 = std::min(Cg, c0 + kBuildChannels);
    for (int64_t n = 0; n < d.batch; ++n) {
      const float* planes = x + (n * d.inChannels + g * Cg) * inVolume;
      float* row = im2col.data() + (g * positions + n * P) * columns;
      for (int64_t o = 0; o < P; ++o, row += columns) {
        if (gather) {
          kernels.gatherTaps(row + c0 * vol, planes + c0 * inVolume, inVolume, c1 - c0, source.data() + o * vol,
                             static_cast<int>(vol));
          continue;
        }
        for (int64_t c = c0; c < c1; ++c) {
          const float* plane = planes + c * inVolume;
          const int64_t* from = source.data() + o * vol;
          float* dst = row + c * vol;
          for (int64_t tap = 0; tap < vol; ++tap) {
            // Branch-free: the load always reads inside the plane.
            const float v = plane[from[tap] < 0 ? 0 : from[tap]];
            dst[tap] = from[tap] < 0 ? 0.0f : v;
          }
        }
      }
    }
  }, d.groups * columns * positions);
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
  WindowedGemm p;
  p.batch = 1;
  p.groups = d.groups;
  p.inPerGroup = positions;
  p.outPerGroup = Kg;
  p.input = im2col.data();
  p.output = dw;
  p.outExtent[0] = p.outExtent[1] = 1;
  p.outExtent[2] = columns;
  p.axes[0] = p.axes[1] = forwardAxis(1, 1, 1, 1, 0, 1);
  p.axes[2] = forwardAxis(columns, 1, 1, 1, 0, columns);
  p.weights = weights;
  p.weightStrides = {Kg * positions, positions, 1, {0, 0, 0}};
  p.bias = nullptr;
  runWindowedGemm(kernels, p);
  return true;
}

}  // namespace convnd
