// Problem descriptors shared by the binding, the planner and the reference implementation.
// Every rank is normalised to three spatial axes (D, H, W); unused leading axes have size 1.
#pragma once
#include <cstdint>
#include <string>

namespace convnd {

constexpr int kAxes = 3;

// A forward convolution x[N, C, in] * w[K, C/groups, kernel] -> y[N, K, out].
// Its gradients and the transposed convolution are described by the same forward problem.
struct ConvDesc {
  int64_t batch = 1, inChannels = 1, outChannels = 1, groups = 1;
  int64_t in[kAxes] = {1, 1, 1}, kernel[kAxes] = {1, 1, 1}, out[kAxes] = {1, 1, 1};
  int64_t stride[kAxes] = {1, 1, 1}, dilation[kAxes] = {1, 1, 1}, padBefore[kAxes] = {0, 0, 0};

  int64_t inPerGroup() const { return inChannels / groups; }
  int64_t outPerGroup() const { return outChannels / groups; }
  int64_t inVolume() const { return in[0] * in[1] * in[2]; }
  int64_t outVolume() const { return out[0] * out[1] * out[2]; }
  int64_t kernelVolume() const { return kernel[0] * kernel[1] * kernel[2]; }
  int64_t xLength() const { return batch * inChannels * inVolume(); }
  int64_t yLength() const { return batch * outChannels * outVolume(); }
  int64_t wLength() const { return outChannels * inPerGroup() * kernelVolume(); }
};

enum class PoolKind { Max = 0, Min = 1, Avg = 2 };

// Pooling of `planes` independent planes (N * C) of extent `in` into `out`.
struct PoolDesc {
  PoolKind kind = PoolKind::Max;
  bool countIncludePad = true;
  int64_t planes = 1;
  int64_t in[kAxes] = {1, 1, 1}, kernel[kAxes] = {1, 1, 1}, out[kAxes] = {1, 1, 1};
  int64_t stride[kAxes] = {1, 1, 1}, dilation[kAxes] = {1, 1, 1};
  int64_t padBefore[kAxes] = {0, 0, 0}, padAfter[kAxes] = {0, 0, 0};

  int64_t inVolume() const { return in[0] * in[1] * in[2]; }
  int64_t outVolume() const { return out[0] * out[1] * out[2]; }
  int64_t xLength() const { return planes * inVolume(); }
  int64_t yLength() const { return planes * outVolume(); }
};

// A 1x1 kernel with unit stride and no padding reads each output's own input position, so
// the spatial axes collapse into one long innermost axis: a plain GEMM with wide tiles.
// Returns the collapsed descriptor, or `d` itself when that does not apply.
ConvDesc collapsePointwise(const ConvDesc& d);

// The first tap r of a window starting at `start` with r * dilation + start inside [0, in),
// or -1 when the window holds no input cell.
int64_t firstTapInside(int64_t start, int64_t kernel, int64_t dilation, int64_t in);

// The native layer does not trust its caller: these return "" when the descriptor is
// consistent and every derived size fits comfortably in the index types the kernels use,
// otherwise a sentence saying what is wrong.
std::string checkConvDesc(const ConvDesc& d);
std::string checkPoolDesc(const PoolDesc& d);

}  // namespace convnd
