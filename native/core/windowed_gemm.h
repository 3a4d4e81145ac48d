// The one engine behind forward convolution, the data gradient and transposed convolution:
// a windowed GEMM over a strided view of the input, never materialised.
//
// For every group g, batch n and output channel k of the group,
//   out[n, g, k, pos(t)] = bias[g, k] + sum_{c, jd, jh, jw} W(g, k, c, jd, jh, jw) *
//                          in[n, g, c, inStep * t + offset[j]]   (per axis, zero outside)
// where the axis maps (axis_map.h) say which positions and taps take part.
#pragma once
#include <cstdint>
#include "axis_map.h"
#include "descriptors.h"
#include "kernel_table.h"

namespace convnd {

// Where weight (g, k, c, tap) lives: base[g*group + k*outChannel + c*inChannel +
// weightIndexD*axis[0] + weightIndexH*axis[1] + weightIndexW*axis[2]].
struct WeightStrides {
  int64_t group, outChannel, inChannel, axis[kAxes];
};

struct WindowedGemm {
  int64_t batch, groups, inPerGroup, outPerGroup;
  const float* input;        // [batch][groups * inPerGroup][axes' inSize...]
  float* output;             // [batch][groups * outPerGroup, or outBatchChannels][outExtent...]
  int64_t outExtent[kAxes];  // full output extents (the maps may cover a strided subset)
  AxisMap axes[kAxes];
  const float* weights;
  WeightStrides weightStrides;
  const float* bias;         // per output channel of the problem (groups * outPerGroup), or null
  // The weights again, transposed per input channel, where the caller made that copy for several
  // problems to pack from (a data gradient's stride phases, conv_ops.cc), or null: weight
  // (g, k, c, tap) also at transposed[((g * inPerGroup + c) * transposedColumns + o) * outPerGroup + k],
  // o being the tap's offset from (g, k, c)'s first weight (WeightStrides' axis terms).
  const float* transposed = nullptr;
  int64_t transposedColumns = 0;
  // Channels of one batch item of `output` where the problem writes a range of them (a data
  // gradient's slice, conv_ops.cc; one group), or 0: groups * outPerGroup.
  int64_t outBatchChannels = 0;
};

// Output channel k of group g, batch item n: its first float.
inline float* outputPlane(const WindowedGemm& p, int64_t n, int64_t g, int64_t k) {
  const int64_t batchChannels = p.outBatchChannels > 0 ? p.outBatchChannels : p.groups * p.outPerGroup;
  return p.output + (n * batchChannels + g * p.outPerGroup + k) * p.outExtent[0] * p.outExtent[1] * p.outExtent[2];
}

void runWindowedGemm(const KernelTable& kernels, const WindowedGemm& problem);

// Axis a of stride phase `phase` of the data gradient of the forward problem `d`.
AxisMap dataGradientAxis(const ConvDesc& d, int a, int64_t phase);

}  // namespace convnd
