// The weight gradient: dW[k, c, r] = sum_{n, o} dY[n, k, o] * X[n, c, o * stride + r * dilation - pad],
// a GEMM whose reduction runs over batch and space. Threads split the gradient's columns
// (input channels), each owning its accumulators and walking every (n, spatial tile) in the
// same order, so the sums come out bit for bit the same at any thread count.
#include <algorithm>
#include <vector>
#include "ops.h"
#include "row_buffer.h"
#include "thread_pool.h"
#include "tiling.h"

namespace convnd {

void convBackwardWeight(const KernelTable& kernels, const ConvDesc& desc, const float* dy,
                        const float* x, float* dw) {
  const ConvDesc d = collapsePointwise(desc);
  AxisMap axes[kAxes];
  for (int a = 0; a < kAxes; ++a)
    axes[a] = forwardAxis(d.in[a], d.kernel[a], d.stride[a], d.dilation[a], d.padBefore[a], d.out[a]);
  const AxisMap &ad = axes[0], &ah = axes[1], &aw = axes[2];
  const WeightGradKernel& kernel = kernels.weightGrad;
  const int nc = kernel.columns;
  const int64_t T = kernels.gemmWide.tileWidth;
  const RowLayout layout = makeRowLayout(aw, T);
  const int64_t Kg = d.outPerGroup(), Cg = d.inPerGroup();
  const int64_t kPadded = roundUp(Kg, kernel.kWidth);
  const int64_t tD = ad.taps(), tH = ah.taps(), tW = aw.taps();
  const int64_t rowsPerChannel = tD * tH;
  const int64_t colsPerChannel = rowsPerChannel * tW;
  const int64_t inVolume = d.inVolume(), outVolume = d.outVolume();
  const int64_t wTiles = (aw.count + T - 1) / T;
  // Channel chunks: small enough for the row buffer, and several per group so that a single
  // group still spreads over the threads.
  const int64_t chunk = std::max<int64_t>(
      1, std::min<int64_t>(kRowBufferFloats / std::max<int64_t>(1, rowsPerChannel * layout.rowLength),
                           (Cg + 7) / 8));
  const int64_t chunksPerGroup = (Cg + chunk - 1) / chunk;

  ThreadPool::instance().parallelFor(d.groups * chunksPerGroup, [&](int64_t task, int) {
    const int64_t g = task / chunksPerGroup;
    const int64_t c0 = task % chunksPerGroup * chunk;
    const int64_t cEnd = std::min(Cg, c0 + chunk);
    const int64_t cols = (cEnd - c0) * colsPerChannel;
    // acc rows past `cols` absorb the padding columns of the last block.
    std::vector<float> acc(static_cast<size_t>((cols + nc) * kPadded), 0.0f);
    std::vector<float> rows(static_cast<size_t>((cEnd - c0) * rowsPerChannel * layout.rowLength + 1), 0.0f);
    std::vector<float> zeros(static_cast<size_t>(T), 0.0f);
    std::vector<float> dyT(static_cast<size_t>(T * kPadded), 0.0f);
    std::vector<const float*> colPtr(static_cast<size_t>(cols + nc), zeros.data());
    for (int64_t n = 0; n < d.batch; ++n)
      for (int64_t td = 0; td < ad.count; ++td)
        for (int64_t th = 0; th < ah.count; ++th)
          for (int64_t tile = 0; tile < wTiles; ++tile) {
            const int64_t t0 = tile * T, valid = std::min(T, aw.count - t0);
            // dY tile, transposed to [u][k] so that k is the vector axis; zero past the edges.
            const float* dyBase = dy + (n * d.outChannels + g * Kg) * outVolume +
                                  (td * d.out[1] + th) * d.out[2] + t0;
            for (int64_t u = 0; u < T; ++u)
              for (int64_t k = 0; k < kPadded; ++k)
                dyT[u * kPadded + k] = u < valid && k < Kg ? dyBase[k * outVolume + u] : 0.0f;
            const float* xGroup = x + (n * d.inChannels + g * Cg) * inVolume;
            float* row = rows.data();
            int64_t col = 0;
            for (int64_t c = c0; c < cEnd; ++c)
              for (int64_t jd = 0; jd < tD; ++jd) {
                const int64_t id = ad.inStep * td + ad.offset[jd];
                for (int64_t jh = 0; jh < tH; ++jh, row += layout.rowLength) {
                  const int64_t ih = ah.inStep * th + ah.offset[jh];
                  const bool inside = id >= 0 && id < ad.inSize && ih >= 0 && ih < ah.inSize;
                  fillRow(layout, aw,
                          inside ? xGroup + (c * d.in[0] + id) * d.in[1] * d.in[2] + ih * d.in[2] : nullptr,
                          t0, 0.0f, row);
                  for (int64_t jw = 0; jw < tW; ++jw) colPtr[static_cast<size_t>(col++)] = row + layout.tapOffset[jw];
                }
              }
            WeightGradArgs args;
            args.kStride = kPadded;
            args.length = T;
            args.accStride = kPadded;
            for (int64_t c = 0; c < cols; c += nc)
              for (int64_t kb = 0; kb < kPadded; kb += kernel.kWidth) {
                args.dyT = dyT.data() + kb;
                args.columns = colPtr.data() + c;
                args.acc = acc.data() + c * kPadded + kb;
                kernel.fn(args);
              }
          }
    // acc[col][k] with col = (c - c0, jd, jh, jw) in the weight's own order.
    const int64_t vol = d.kernelVolume();
    for (int64_t k = 0; k < Kg; ++k) {
      float* dst = dw + ((g * Kg + k) * Cg + c0) * vol;
      for (int64_t col = 0; col < cols; ++col) dst[col] = acc[static_cast<size_t>(col * kPadded + k)];
    }
  });
}

}  // namespace convnd
