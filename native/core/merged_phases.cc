#include "merged_phases.h"

#include <algorithm>
#include <vector>
#include "reused_buffer.h"
#include "thread_pool.h"

namespace convnd {

namespace {

// Merged only while the virtual channels fit one wide register tile or two: beyond that the
// phases' own GEMMs already run on full tiles.
constexpr int64_t kMaxMergedChannels = 16;
// The most extra multiply-adds (zero weights) the merge may add, as a ratio.
constexpr double kMaxTapGrowth = 1.25;

}  // namespace

bool runMergedRowPhases(const KernelTable& kernels, const ConvDesc& d, const float* dy, const float* w,
                        const WeightStrides& f, const float* bias, float* dx) {
  const int64_t phases = std::min(d.stride[2], d.in[2]);
  const int64_t Cg = d.inPerGroup(), Kg = d.outPerGroup(), V = phases * Cg;
  if (phases < 2 || V > kMaxMergedChannels) return false;

  // Each phase's taps along the row, and the union of their offsets into dY.
  std::vector<AxisMap> rowPhases;
  std::vector<int64_t> offsets;
  for (int64_t q = 0; q < phases; ++q) {
    rowPhases.push_back(dataGradientAxis(d, 2, q));
    offsets.insert(offsets.end(), rowPhases.back().offset.begin(), rowPhases.back().offset.end());
  }
  std::sort(offsets.begin(), offsets.end());
  offsets.erase(std::unique(offsets.begin(), offsets.end()), offsets.end());
  if (offsets.empty()) return false;
  const int64_t U = static_cast<int64_t>(offsets.size());
  // Every phase computes all U taps: a 3-wide stride-2 kernel (taps 1 + 2 -> 2 + 2) would
  // multiply a third more, more than the passes saved; a 7-wide one (4 + 3 -> 4 + 4) an eighth.
  int64_t taps = 0;
  for (const AxisMap& rq : rowPhases) taps += rq.taps();
  if (static_cast<double>(phases * U) > kMaxTapGrowth * static_cast<double>(taps)) return false;
  // Phase 0 has the most positions: the others compute one more at most, never scattered.
  const int64_t count = rowPhases[0].count;

  // Merged weights [g][q * Cg + c][k][kd][kh][u]: phase q's weight for the tap at offsets[u],
  // zero where the phase has no tap there.
  const int64_t kd = d.kernel[0], kh = d.kernel[1];
  const WeightStrides m = {V * Kg * kd * kh * U, Kg * kd * kh * U, kd * kh * U, {kh * U, U, 1}};
  std::vector<float> merged(static_cast<size_t>(d.groups * m.group), 0.0f);
  for (int64_t q = 0; q < phases; ++q) {
    const AxisMap& rq = rowPhases[static_cast<size_t>(q)];
    for (int64_t j = 0; j < rq.taps(); ++j) {
      const int64_t u = std::lower_bound(offsets.begin(), offsets.end(), rq.offset[static_cast<size_t>(j)]) - offsets.begin();
      const int64_t r = rq.weightIndex[static_cast<size_t>(j)];
      for (int64_t g = 0; g < d.groups; ++g)
        for (int64_t c = 0; c < Cg; ++c)
          for (int64_t k = 0; k < Kg; ++k)
            for (int64_t a = 0; a < kd; ++a)
              for (int64_t b = 0; b < kh; ++b)
                merged[static_cast<size_t>(g * m.group + (q * Cg + c) * m.outChannel + k * m.inChannel + a * m.axis[0] + b * m.axis[1] + u)] =
                    w[g * f.group + c * f.inChannel + k * f.outChannel + a * f.axis[0] + b * f.axis[1] + r * f.axis[2]];
    }
  }
  std::vector<float> mergedBias;
  if (bias) {
    for (int64_t g = 0; g < d.groups; ++g)
      for (int64_t q = 0; q < phases; ++q) mergedBias.insert(mergedBias.end(), bias + g * Cg, bias + (g + 1) * Cg);
  }

  // The GEMMs write [n][g][q * Cg + c][dx's D and H][count]; a last pass interleaves the phases.
  WindowedGemm p;
  p.batch = d.batch;
  p.groups = d.groups;
  p.inPerGroup = Kg;
  p.outPerGroup = V;
  p.input = dy;
  p.weights = merged.data();
  p.weightStrides = m;
  p.bias = bias ? mergedBias.data() : nullptr;
  p.outExtent[0] = d.in[0];
  p.outExtent[1] = d.in[1];
  p.outExtent[2] = count;
  const int64_t planeFloats = d.in[0] * d.in[1] * count;
  ReusedBuffer phased(d.batch * d.groups * V * planeFloats);
  p.output = phased.data();
  AxisMap& row = p.axes[2];
  row.inSize = d.out[2];
  row.count = count;
  row.offset = offsets;
  for (int64_t u = 0; u < U; ++u) row.weightIndex.push_back(u);
  for (int64_t pd = 0; pd < std::min(d.stride[0], d.in[0]); ++pd)
    for (int64_t ph = 0; ph < std::min(d.stride[1], d.in[1]); ++ph) {
      p.axes[0] = dataGradientAxis(d, 0, pd);
      p.axes[1] = dataGradientAxis(d, 1, ph);
      runWindowedGemm(kernels, p);
    }

  // The interleave, in blocks of rows so that a few planes (the stem's 3) still split evenly
  // over the threads: one task a plane left one of two threads idle for a third of it.
  const int64_t rows = d.in[0] * d.in[1], width = d.in[2], step = d.stride[2];
  constexpr int64_t kScatterRows = 16;
  const int64_t blocksPerPlane = (rows + kScatterRows - 1) / kScatterRows;
  ThreadPool::instance().parallelFor(d.batch * d.groups * Cg * blocksPerPlane, [&](int64_t item, int) {
    const int64_t plane = item / blocksPerPlane, r0 = item % blocksPerPlane * kScatterRows;
    const int64_t c = plane % Cg, ng = plane / Cg;
    float* out = dx + plane * rows * width;
    for (int64_t q = 0; q < phases; ++q) {
      const float* src = phased.data() + (ng * V + q * Cg + c) * planeFloats;
      const int64_t valid = rowPhases[static_cast<size_t>(q)].count;
      for (int64_t r = r0; r < std::min(rows, r0 + kScatterRows); ++r)
        for (int64_t t = 0; t < valid; ++t) out[r * width + q + step * t] = src[r * count + t];
    }
  }, d.batch * d.groups * Cg * rows * width);
  return true;
}

}  // namespace convnd
