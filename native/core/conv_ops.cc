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

// The stride phases of a data gradient pack their weights from a transposed copy, w[g][k][c][taps]
// as [g][k][taps][c] (KernelTable::packSpans, whole spans of 8 to 16 taps, where the ISA has it),
// each run of a packed block one copy: a phase takes a few of each span's taps (1 to 4 of a 3x3
// window's 9 at stride 2), which it otherwise gathered a float at a time, and transposing the
// whole span for each phase cost more than the gather. Against the gather (one thread / two,
// in-process alternation, AVX-512): 3x3 stride-2 256 -> 512 from 14x14 19-22% / 20-29% faster,
// 512 -> 512 from 14x14 12-17% / 10-11% on medians (its fastest samples about the same),
// 128 -> 128 from 56x56 1-4% / 2-3%, 64 -> 128 from 112x112 and batch-8 128 -> 128 from 28x28
// about 1%; the same bits.
//
// Only a copy a thread keeps between calls (ReusedBuffer::kKeptFloats): larger, allocated afresh
// on every call and through memory twice, it made 3x3 1024 -> 1024's stride-2 data gradient from
// 14x14 (38 MB of weights) 23-26% slower than the gather. Such a layer without groups has its
// copy made a slice of input channels (of w) at a time, every phase running over that slice's
// channels of dx before the next slice is transposed. Against the gather (one thread / two,
// in-process alternation, medians): 3x3 stride-2 from 14x14 1024 -> 1024 3.3x / 2.9x as fast,
// 768 -> 768 2.1-2.4x / 1.7x (batch 4: 1.5x / 1.1x), 512 -> 1024 1.9-2.0x / 1.5x; 2048 -> 2048
// from 8x8 3.8x / 3.0x.
// Slices of about 8 MiB, whole multiples of 128 channels: two threads each take two of AVX-512's
// 32-channel tiles of every phase (64-channel steps left one of three to one thread).
constexpr int64_t kSliceFloats = int64_t(1) << 21;
constexpr int64_t kSliceStep = 128;

// Input channels (of w) a transposed copy covers, or 0 where the phases pack without one.
int64_t transposedSliceChannels(const KernelTable& kernels, const ConvDesc& d, size_t phaseCount) {
  const int64_t vol = d.kernelVolume(), Kg = d.outPerGroup(), Cg = d.inPerGroup();
  if (phaseCount < 2 || !kernels.packSpans || Cg % 16 != 0 || vol < 8 || vol > 16) return 0;
  if (static_cast<double>(d.groups * Kg) * static_cast<double>(Cg * vol) <= static_cast<double>(ReusedBuffer::kKeptFloats))
    return Cg;
  if (d.groups > 1) return 0;  // a slice is one range of dx's channels
  // Not sized by the thread count: which driver a slice's phases take, and so the order of their
  // sums, depends on its size, and results are the same on any number of threads.
  const int64_t slice = std::max(kSliceStep, kSliceFloats / (Kg * vol) / kSliceStep * kSliceStep);
  return slice < Cg && static_cast<double>(Kg * vol) * static_cast<double>(slice) <= static_cast<double>(ReusedBuffer::kKeptFloats) ? slice : 0;
}

// Input channels [c0, c1) of w, of every group, transposed into dst as [g][k][taps][c1 - c0].
void transposeWeightSlice(const KernelTable& kernels, const ConvDesc& d, const float* w, int64_t c0, int64_t c1, float* dst) {
  const int64_t vol = d.kernelVolume(), Kg = d.outPerGroup(), Cg = d.inPerGroup(), width = c1 - c0;
  constexpr int64_t kTaskChannels = 16;  // output channels (of w) a task transposes
  const int64_t tasks = (Kg + kTaskChannels - 1) / kTaskChannels;
  ThreadPool::instance().parallelFor(d.groups * tasks, [&](int64_t item, int) {
    const int64_t g = item / tasks, k0 = item % tasks * kTaskChannels, k1 = std::min(Kg, k0 + kTaskChannels);
    // width is at most kKeptFloats / vol floats (transposedSliceChannels): an int.
    kernels.packSpans(dst + (g * Kg + k0) * vol * width, w + (g * Kg + k0) * Cg * vol + c0 * vol, Cg * vol, vol, vol, k1 - k0,
                      static_cast<int>(width));
  }, d.groups * Kg * width * vol * WeightPacker::kTransposeWorkPerFloat);
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
  // Several stride phases read one padded copy of dY, and pack from transposed copies of w.
  ReusedBuffer padded;
  readPaddedInput(k, phases, padded);
  const int64_t slice = transposedSliceChannels(k, d, phases.size()), Cg = d.inPerGroup(), vol = d.kernelVolume();
  if (slice == 0) {
    for (const WindowedGemm& phase : phases) runWindowedGemm(k, phase);
    return;
  }
  ReusedBuffer transposed(d.groups * d.outPerGroup() * vol * slice);
  for (WindowedGemm& phase : phases) {
    phase.transposed = transposed.data();
    phase.transposedColumns = vol;
  }
  for (int64_t c0 = 0; c0 < Cg; c0 += slice) {
    const int64_t c1 = std::min(Cg, c0 + slice);
    transposeWeightSlice(k, d, w, c0, c1, transposed.data());
    // The phases narrowed in place (no copies of their axis maps) to dx's channels [c0, c1),
    // of one group (transposedSliceChannels).
    for (WindowedGemm& phase : phases) {
      if (slice < Cg) {
        phase.outPerGroup = c1 - c0;
        phase.outBatchChannels = Cg;
        phase.output = dx + c0 * d.inVolume();
        phase.weights = w + c0 * f.inChannel;
        phase.bias = bias ? bias + c0 : nullptr;
      }
      runWindowedGemm(k, phase);
    }
  }
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
