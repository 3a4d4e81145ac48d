#include "descriptors.h"

namespace convnd {
namespace {

// Sizes stay below 2^40 elements and every product below 2^53, far inside int64 and exactly
// representable in the JavaScript numbers the descriptors arrive as.
constexpr int64_t kMaxExtent = int64_t(1) << 40;
constexpr int64_t kMaxProduct = int64_t(1) << 53;

bool inRange(int64_t v, int64_t lo, int64_t hi) { return v >= lo && v <= hi; }

// Multiplies into `acc` and reports false on leaving [0, kMaxProduct].
bool mulChecked(int64_t& acc, int64_t v) {
  if (v != 0 && acc > kMaxProduct / v) return false;
  acc *= v;
  return true;
}

std::string checkAxes(const int64_t* in, const int64_t* kernel, const int64_t* out,
                      const int64_t* stride, const int64_t* dilation, const int64_t* padBefore) {
  for (int a = 0; a < kAxes; ++a) {
    if (!inRange(in[a], 1, kMaxExtent) || !inRange(out[a], 1, kMaxExtent) ||
        !inRange(kernel[a], 1, kMaxExtent))
      return "spatial sizes must be between 1 and 2^40";
    if (!inRange(stride[a], 1, kMaxExtent) || !inRange(dilation[a], 1, kMaxExtent))
      return "stride and dilation must be between 1 and 2^40";
    if (!inRange(padBefore[a], 0, kMaxExtent)) return "padding must be between 0 and 2^40";
    int64_t span = kernel[a] - 1;
    if (!mulChecked(span, dilation[a])) return "dilated kernel extent overflows";
    int64_t reach = out[a] - 1;
    if (!mulChecked(reach, stride[a]) || reach + span > kMaxProduct)
      return "output extent times stride overflows";
  }
  return "";
}

}  // namespace

int64_t firstTapInside(int64_t start, int64_t kernel, int64_t dilation, int64_t in) {
  int64_t r = start >= 0 ? 0 : (-start + dilation - 1) / dilation;
  return r < kernel && start + r * dilation < in ? r : -1;
}

ConvDesc collapsePointwise(const ConvDesc& d) {
  for (int a = 0; a < kAxes; ++a)
    if (d.kernel[a] != 1 || d.stride[a] != 1 || d.padBefore[a] != 0 || d.in[a] != d.out[a]) return d;
  ConvDesc flat = d;
  for (int a = 0; a < kAxes; ++a) flat.in[a] = flat.out[a] = 1;
  flat.in[2] = flat.out[2] = d.inVolume();
  return flat;
}

std::string checkConvDesc(const ConvDesc& d) {
  if (!inRange(d.batch, 1, kMaxExtent) || !inRange(d.inChannels, 1, kMaxExtent) ||
      !inRange(d.outChannels, 1, kMaxExtent) || !inRange(d.groups, 1, kMaxExtent))
    return "batch, channels and groups must be between 1 and 2^40";
  if (d.inChannels % d.groups != 0 || d.outChannels % d.groups != 0)
    return "groups must divide both channel counts";
  std::string axes = checkAxes(d.in, d.kernel, d.out, d.stride, d.dilation, d.padBefore);
  if (!axes.empty()) return axes;
  int64_t x = d.batch, y = d.batch, w = d.outChannels;
  bool ok = mulChecked(x, d.inChannels) && mulChecked(y, d.outChannels) &&
            mulChecked(w, d.inPerGroup());
  for (int a = 0; a < kAxes && ok; ++a)
    ok = mulChecked(x, d.in[a]) && mulChecked(y, d.out[a]) && mulChecked(w, d.kernel[a]);
  if (!ok) return "tensor sizes overflow 2^53 elements";
  // Row buffers index taps with int32 offsets.
  if (d.kernel[2] * d.dilation[2] > (int64_t(1) << 28) || d.out[2] > (int64_t(1) << 28) ||
      d.in[2] > (int64_t(1) << 28))
    return "the innermost axis is limited to 2^28 elements";
  return "";
}

std::string checkPoolDesc(const PoolDesc& d) {
  if (d.kind != PoolKind::Max && d.kind != PoolKind::Min && d.kind != PoolKind::Avg)
    return "unknown pooling kind";
  if (!inRange(d.planes, 1, kMaxExtent)) return "planes must be between 1 and 2^40";
  std::string axes = checkAxes(d.in, d.kernel, d.out, d.stride, d.dilation, d.padBefore);
  if (!axes.empty()) return axes;
  int64_t x = d.planes, y = d.planes, taps = 1;
  bool ok = true;
  for (int a = 0; a < kAxes && ok; ++a)
    ok = mulChecked(x, d.in[a]) && mulChecked(y, d.out[a]) && mulChecked(taps, d.kernel[a]) &&
         inRange(d.padAfter[a], 0, kMaxExtent);
  if (!ok) return "tensor sizes overflow 2^53 elements or padding is out of range";
  if (taps >= (int64_t(1) << 24)) return "a pooling window is limited to 2^24 taps";
  if (d.kernel[2] * d.dilation[2] > (int64_t(1) << 28) || d.out[2] > (int64_t(1) << 28) ||
      d.in[2] > (int64_t(1) << 28))
    return "the innermost axis is limited to 2^28 elements";
  // Every window must hold at least one input cell, or max/min and averages are undefined.
  for (int a = 0; a < kAxes; ++a)
    for (int64_t o = 0; o < d.out[a]; ++o)
      if (firstTapInside(o * d.stride[a] - d.padBefore[a], d.kernel[a], d.dilation[a], d.in[a]) < 0)
        return "a pooling window holds no input cell";
  return "";
}

}  // namespace convnd
