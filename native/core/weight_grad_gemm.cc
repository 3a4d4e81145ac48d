#include "weight_grad_gemm.h"

#include <algorithm>
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

}  // namespace

bool runWeightGradAsGemm(const KernelTable& kernels, const ConvDesc& d, const float* dy, const float* x, float* dw) {
  const int64_t Kg = d.outPerGroup(), Cg = d.inPerGroup(), vol = d.kernelVolume();
  const int64_t P = d.outVolume(), positions = d.batch * P, columns = Cg * vol;
  if (positions == 0 || positions > kMaxPositions || Kg * columns < kMinWeightFloats ||
      static_cast<double>(d.groups) * static_cast<double>(positions) * static_cast<double>(columns) > kMaxColumnFloats)
    return false;
  ThreadPool& pool = ThreadPool::instance();
  // X, built column by column, each output row's positions a run (a zero-padded copy of an input
  // row at stride 1), as columns[g][c * vol + tap][n * P + o], then transposed into
  // rows[g][n * P + o][c * vol + tap]: built row by row, one bounds-checked float at a time, it took
  // a fifth of a 3x3 512 -> 512 7x7 gradient. transposeOut may read 8 columns past the last.
  ReusedBuffer byColumn((d.groups * columns + 8) * positions);
  const int64_t inVolume = d.inVolume();
  pool.parallelFor(d.groups * Cg, [&](int64_t channel, int) {
    const int64_t g = channel / Cg, c = channel % Cg;
    float* dst = byColumn.data() + channel * vol * positions;
    for (int64_t kd = 0; kd < d.kernel[0]; ++kd)
      for (int64_t kh = 0; kh < d.kernel[1]; ++kh)
        for (int64_t kw = 0; kw < d.kernel[2]; ++kw) {
          // Position ow reads input stride * ow + first of its row.
          const int64_t first = kw * d.dilation[2] - d.padBefore[2];
          const InsidePositions valid = insidePositions(first, d.stride[2], d.in[2]);
          const int64_t insideLo = std::clamp<int64_t>(valid.lo, 0, d.out[2]), insideHi = std::clamp<int64_t>(valid.hi, insideLo, d.out[2]);
          for (int64_t n = 0; n < d.batch; ++n) {
            const float* plane = x + (n * d.inChannels + g * Cg + c) * inVolume;
            for (int64_t od = 0; od < d.out[0]; ++od) {
              const int64_t id = od * d.stride[0] + kd * d.dilation[0] - d.padBefore[0];
              for (int64_t oh = 0; oh < d.out[1]; ++oh, dst += d.out[2]) {
                const int64_t ih = oh * d.stride[1] + kh * d.dilation[1] - d.padBefore[1];
                const bool inside = id >= 0 && id < d.in[0] && ih >= 0 && ih < d.in[1];
                const int64_t lo = inside ? insideLo : d.out[2], hi = inside ? insideHi : d.out[2];
                const int64_t start = (id * d.in[1] + ih) * d.in[2] + first;  // of position 0, maybe outside
                for (int64_t ow = 0; ow < lo; ++ow) dst[ow] = 0.0f;
                for (int64_t ow = lo; ow < hi; ++ow) dst[ow] = plane[start + ow * d.stride[2]];
                for (int64_t ow = hi; ow < d.out[2]; ++ow) dst[ow] = 0.0f;
              }
            }
          }
        }
  }, d.groups * columns * positions * 2);
  ReusedBuffer im2col(d.groups * positions * columns);
  constexpr int64_t kColumnsATask = 64;
  const int64_t columnRuns = (columns + kColumnsATask - 1) / kColumnsATask;
  pool.parallelFor(d.groups * columnRuns, [&](int64_t run, int) {
    const int64_t g = run / columnRuns, c0 = run % columnRuns * kColumnsATask, c1 = std::min(columns, c0 + kColumnsATask);
    kernels.transposeOut(im2col.data() + g * positions * columns + c0, columns, 1,
                         byColumn.data() + (g * columns + c0) * positions, positions, positions, c1 - c0);
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
