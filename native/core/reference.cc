#include "reference.h"

#include <cmath>
#include <vector>

namespace convnd {
namespace reference {

namespace {

// Calls visit(xIndex, wIndex, yIndex) for every multiply of the forward convolution, with
// x and w indices of in-bounds taps only.
template <class Visit>
void forEachTap(const ConvDesc& d, Visit visit) {
  const int64_t Cg = d.inPerGroup(), Kg = d.outPerGroup();
  for (int64_t n = 0; n < d.batch; ++n)
    for (int64_t k = 0; k < d.outChannels; ++k) {
      const int64_t g = k / Kg;
      for (int64_t od = 0; od < d.out[0]; ++od)
        for (int64_t oh = 0; oh < d.out[1]; ++oh)
          for (int64_t ow = 0; ow < d.out[2]; ++ow) {
            const int64_t yi = (((n * d.outChannels + k) * d.out[0] + od) * d.out[1] + oh) * d.out[2] + ow;
            for (int64_t c = 0; c < Cg; ++c)
              for (int64_t rd = 0; rd < d.kernel[0]; ++rd)
                for (int64_t rh = 0; rh < d.kernel[1]; ++rh)
                  for (int64_t rw = 0; rw < d.kernel[2]; ++rw) {
                    const int64_t id = od * d.stride[0] + rd * d.dilation[0] - d.padBefore[0];
                    const int64_t ih = oh * d.stride[1] + rh * d.dilation[1] - d.padBefore[1];
                    const int64_t iw = ow * d.stride[2] + rw * d.dilation[2] - d.padBefore[2];
                    if (id < 0 || id >= d.in[0] || ih < 0 || ih >= d.in[1] || iw < 0 || iw >= d.in[2]) continue;
                    const int64_t xi = (((n * d.inChannels + g * Cg + c) * d.in[0] + id) * d.in[1] + ih) * d.in[2] + iw;
                    const int64_t wi = (((k * Cg + c) * d.kernel[0] + rd) * d.kernel[1] + rh) * d.kernel[2] + rw;
                    visit(xi, wi, yi);
                  }
          }
    }
}

}  // namespace

void convForward(const ConvDesc& d, const float* x, const float* w, const float* b, float* y) {
  std::vector<double> acc(static_cast<size_t>(d.yLength()), 0.0);
  forEachTap(d, [&](int64_t xi, int64_t wi, int64_t yi) { acc[yi] += double(x[xi]) * w[wi]; });
  const int64_t vol = d.outVolume();
  for (int64_t i = 0; i < d.yLength(); ++i)
    y[i] = static_cast<float>(acc[i] + (b ? b[i / vol % d.outChannels] : 0.0f));
}

void convBackwardData(const ConvDesc& d, const float* dy, const float* w, const float* bias, float* dx) {
  std::vector<double> acc(static_cast<size_t>(d.xLength()), 0.0);
  forEachTap(d, [&](int64_t xi, int64_t wi, int64_t yi) { acc[xi] += double(dy[yi]) * w[wi]; });
  const int64_t vol = d.inVolume();
  for (int64_t i = 0; i < d.xLength(); ++i)
    dx[i] = static_cast<float>(acc[i] + (bias ? bias[i / vol % d.inChannels] : 0.0f));
}

void convBackwardWeight(const ConvDesc& d, const float* dy, const float* x, float* dw) {
  std::vector<double> acc(static_cast<size_t>(d.wLength()), 0.0);
  forEachTap(d, [&](int64_t xi, int64_t wi, int64_t yi) { acc[wi] += double(dy[yi]) * x[xi]; });
  for (int64_t i = 0; i < d.wLength(); ++i) dw[i] = static_cast<float>(acc[i]);
}

namespace {

// Calls visit(yIndex, window) with the flat input indices of the in-bounds cells of each
// window, in row-major window order, plus the window's divisor for averages.
template <class Visit>
void forEachWindow(const PoolDesc& d, Visit visit) {
  std::vector<int64_t> cells;
  for (int64_t p = 0; p < d.planes; ++p)
    for (int64_t od = 0; od < d.out[0]; ++od)
      for (int64_t oh = 0; oh < d.out[1]; ++oh)
        for (int64_t ow = 0; ow < d.out[2]; ++ow) {
          cells.clear();
          int64_t padded = 1;
          const int64_t o[3] = {od, oh, ow};
          int64_t inPad[3] = {0, 0, 0};
          for (int a = 0; a < 3; ++a)
            for (int64_t r = 0; r < d.kernel[a]; ++r) {
              const int64_t i = o[a] * d.stride[a] + r * d.dilation[a] - d.padBefore[a];
              inPad[a] += i >= -d.padBefore[a] && i < d.in[a] + d.padAfter[a];
            }
          padded = inPad[0] * inPad[1] * inPad[2];
          for (int64_t rd = 0; rd < d.kernel[0]; ++rd)
            for (int64_t rh = 0; rh < d.kernel[1]; ++rh)
              for (int64_t rw = 0; rw < d.kernel[2]; ++rw) {
                const int64_t id = od * d.stride[0] + rd * d.dilation[0] - d.padBefore[0];
                const int64_t ih = oh * d.stride[1] + rh * d.dilation[1] - d.padBefore[1];
                const int64_t iw = ow * d.stride[2] + rw * d.dilation[2] - d.padBefore[2];
                if (id < 0 || id >= d.in[0] || ih < 0 || ih >= d.in[1] || iw < 0 || iw >= d.in[2]) continue;
                cells.push_back(((p * d.in[0] + id) * d.in[1] + ih) * d.in[2] + iw);
              }
          const int64_t yi = ((p * d.out[0] + od) * d.out[1] + oh) * d.out[2] + ow;
          const double divisor = d.countIncludePad ? double(padded) : double(cells.size());
          visit(yi, cells, divisor);
        }
}

// The first cell holding the extreme; a NaN beats every number, the first NaN wins.
int64_t winner(const PoolDesc& d, const float* x, const std::vector<int64_t>& cells) {
  int64_t best = cells[0];
  for (int64_t i : cells) {
    const float v = x[i], b = x[best];
    if (std::isnan(b)) break;
    if (std::isnan(v) || (d.kind == PoolKind::Max ? v > b : v < b)) best = i;
  }
  return best;
}

}  // namespace

void poolForward(const PoolDesc& d, const float* x, float* y) {
  forEachWindow(d, [&](int64_t yi, const std::vector<int64_t>& cells, double divisor) {
    if (d.kind == PoolKind::Avg) {
      double sum = 0.0;
      for (int64_t i : cells) sum += x[i];
      y[yi] = static_cast<float>(sum / divisor);
    } else {
      y[yi] = x[winner(d, x, cells)];
    }
  });
}

void poolBackward(const PoolDesc& d, const float* dy, const float* x, float* dx) {
  std::vector<double> acc(static_cast<size_t>(d.xLength()), 0.0);
  forEachWindow(d, [&](int64_t yi, const std::vector<int64_t>& cells, double divisor) {
    if (d.kind == PoolKind::Avg) {
      for (int64_t i : cells) acc[i] += dy[yi] / divisor;
    } else {
      acc[winner(d, x, cells)] += dy[yi];
    }
  });
  for (int64_t i = 0; i < d.xLength(); ++i) dx[i] = static_cast<float>(acc[i]);
}

}  // namespace reference
}  // namespace convnd
