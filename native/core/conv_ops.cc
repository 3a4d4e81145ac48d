// Convolution forward, data gradient (and transposed convolution) on the windowed GEMM.
#include <algorithm>
#include <cstring>
#include <vector>
#include "merged_phases.h"
#include "ops.h"
#include "padded_input.h"
#include "reused_buffer.h"
#include "thread_pool.h"
#include "weight_packer.h"
#include "windowed_gemm.h"

namespace convnd {

namespace {

// Forward weight w[K][C/g][kd][kh][kw] seen from the forward problem.
WeightStrides forwardWeightStrides(const ConvDesc& d) {
  const int64_t vol = d.kernelVolume();
  return {d.outPerGroup() * d.inPerGroup() * vol, d.inPerGroup() * vol, vol,
          {d.kernel[1] * d.kernel[2], d.kernel[2], 1}};
}

// The stride phases of a data gradient pack their weights from one transposed copy, w[g][k][c][taps]
// as [g][k][taps][c] (KernelTable::packSpans, whole spans of 8 to 16 taps, where the ISA has it),
// each run of a packed block one copy: a phase takes a few of each span's taps (1 to 4 of a 3x3
// window's 9 at stride 2), which it otherwise gathered a float at a time, and transposing the
// whole span for each phase cost more than the gather. Against the gather (one thread / two,
// in-process alternation, AVX-512): 3x3 stride-2 256 -> 512 from 14x14 19-22% / 20-29% faster,
// 512 -> 512 from 14x14 12-17% / 10-11% on medians (its fastest samples about the same),
// 128 -> 128 from 56x56 1-4% / 2-3%, 64 -> 128 from 112x112 and batch-8 128 -> 128 from 28x28
// about 1%; the same bits. Only a copy a thread keeps between calls (ReusedBuffer::kKeptFloats):
// 3x3 1024 -> 1024's 38 MB, allocated afresh on every call and through memory twice, made its
// stride-2 data gradient from 14x14 23-26% slower than the gather. Fills `buffer` and points
// every phase at it, or does nothing.
void transposeWeightSpans(const KernelTable& kernels, const ConvDesc& d, const float* w, std::vector<WindowedGemm>& phases,
                          ReusedBuffer& buffer) {
  const int64_t vol = d.kernelVolume(), Kg = d.outPerGroup(), Cg = d.inPerGroup();
  if (phases.size() < 2 || !kernels.packSpans || Cg % 16 != 0 || vol < 8 || vol > 16 ||
      static_cast<double>(d.groups * Kg) * static_cast<double>(Cg * vol) > static_cast<double>(ReusedBuffer::kKeptFloats))
    return;
  // Within that size Cg (packSpans' int mr) is at most 2^19.
  buffer = ReusedBuffer(d.groups * Kg * vol * Cg);
  float* const transposed = buffer.data();
  constexpr int64_t kTaskChannels = 16;  // output channels (of w) a task transposes
  const int64_t tasks = (Kg + kTaskChannels - 1) / kTaskChannels;
  ThreadPool::instance().parallelFor(d.groups * tasks, [&](int64_t item, int) {
    const int64_t g = item / tasks, k0 = item % tasks * kTaskChannels, k1 = std::min(Kg, k0 + kTaskChannels);
    const int64_t first = (g * Kg + k0) * Cg * vol;
    kernels.packSpans(transposed + first, w + first, Cg * vol, vol, vol, k1 - k0, static_cast<int>(Cg));
  }, d.groups * Kg * Cg * vol * WeightPacker::kTransposeWorkPerFloat);
  for (WindowedGemm& phase : phases) {
    phase.transposed = transposed;
    phase.transposedColumns = vol;
  }
}

}  // namespace

void convForward(const KernelTable& k, const ConvDesc& desc, const float* x, const float* w,
                 const float* b, float* y) {
  const ConvDesc d = collapsePointwise(desc);
  WindowedGemm p;
  p.batch = d.batch;
  p.groups = d.groups;
  p.inPerGroup = d.inPerGroup();
  p.outPerGroup = d.outPerGroup();
  p.input = x;
  p.output = y;
  for (int a = 0; a < kAxes; ++a) {
    p.outExtent[a] = d.out[a];
    p.axes[a] = forwardAxis(d.in[a], d.kernel[a], d.stride[a], d.dilation[a], d.padBefore[a], d.out[a]);
  }
  p.weights = w;
  p.weightStrides = forwardWeightStrides(d);
  p.bias = b;
  runWindowedGemm(k, p);
}

AxisMap dataGradientAxis(const ConvDesc& d, int a, int64_t phase) {
  return backwardDataAxis(d.in[a], d.kernel[a], d.stride[a], d.dilation[a], d.padBefore[a], d.out[a], phase);
}

// Every stride phase of dx runs as its own windowed GEMM (or, with few input channels a group,
// the row's phases merged into one: merged_phases.h).
void convBackwardData(const KernelTable& k, const ConvDesc& desc, const float* dy, const float* w,
                      const float* bias, float* dx) {
  const ConvDesc d = collapsePointwise(desc);
  const WeightStrides f = forwardWeightStrides(d);
  if (runMergedRowPhases(k, d, dy, w, f, bias, dx)) return;
  // Roles swap: dy is the input (K channels), dx the output (C channels), and the weight is
  // read transposed, w[g][k][c] as W(g, c, k). Each stride phase of dx is its own stride-1
  // problem over the taps that reach it, so no inserted zeros are ever multiplied.
  WindowedGemm p;
  p.batch = d.batch;
  p.groups = d.groups;
  p.inPerGroup = d.outPerGroup();
  p.outPerGroup = d.inPerGroup();
  p.input = dy;
  p.output = dx;
  p.weights = w;
  p.weightStrides = {f.group, f.inChannel, f.outChannel, {f.axis[0], f.axis[1], f.axis[2]}};
  p.bias = bias;
  for (int a = 0; a < kAxes; ++a) p.outExtent[a] = d.in[a];
  std::vector<WindowedGemm> phases;
  for (int64_t pd = 0; pd < std::min(d.stride[0], d.in[0]); ++pd)
    for (int64_t ph = 0; ph < std::min(d.stride[1], d.in[1]); ++ph)
      for (int64_t pw = 0; pw < std::min(d.stride[2], d.in[2]); ++pw) {
        const int64_t phase[kAxes] = {pd, ph, pw};
        for (int a = 0; a < kAxes; ++a) p.axes[a] = dataGradientAxis(d, a, phase[a]);
        phases.push_back(p);
      }
  // Several stride phases read one padded copy of dY, and pack from one transposed copy of w.
  ReusedBuffer padded, transposed;
  readPaddedInput(k, phases, padded);
  transposeWeightSpans(k, d, w, phases, transposed);
  for (const WindowedGemm& phase : phases) runWindowedGemm(k, phase);
}

void convBackwardBias(const ConvDesc& d, const float* dy, float* db) {
  const int64_t vol = d.outVolume();
  for (int64_t c = 0; c < d.outChannels; ++c) {
    double sum = 0.0;
    for (int64_t n = 0; n < d.batch; ++n) {
      const float* p = dy + (n * d.outChannels + c) * vol;
      for (int64_t i = 0; i < vol; ++i) sum += p[i];
    }
    db[c] = static_cast<float>(sum);
  }
}

}  // namespace convnd
