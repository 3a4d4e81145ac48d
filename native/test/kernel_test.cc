// Native test: every kernel set this CPU supports against the double-precision reference, on
// random problems covering 1-3 axes, stride, dilation, padding, groups and pooling options.
// Built and run by scripts/test-native-kernels.sh (x86-64) and scripts/test-neon-qemu.sh
// (arm64 under qemu). Prints "N passed, M failed" and exits non-zero on any failure.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>
#include "../core/isa_dispatch.h"
#include "../core/ops.h"
#include "../core/reference.h"

using namespace convnd;

namespace {

std::mt19937 rng(12345);

int64_t pick(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); }

std::vector<float> randomData(int64_t n) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& f : v) f = u(rng);
  return v;
}

// |got - want| <= tol * (scale + 1), scale = max |want| over the tensor.
bool close(const std::vector<float>& got, const std::vector<float>& want, double tol, std::string& why) {
  double scale = 0.0;
  for (float w : want) scale = std::fmax(scale, std::fabs(w));
  for (size_t i = 0; i < got.size(); ++i) {
    bool bothNan = std::isnan(got[i]) && std::isnan(want[i]);
    if (!bothNan && !(std::fabs(double(got[i]) - want[i]) <= tol * (scale + 1.0))) {
      why = "element " + std::to_string(i) + ": got " + std::to_string(got[i]) + ", want " + std::to_string(want[i]);
      return false;
    }
  }
  return true;
}

// `wide`: the shapes of channel mode (16 or more output channels a group, every output a sum
// of 256 or more products), often unpadded along the row (read in place), rows up to 300 wide
// (several tasks a row); otherwise few channels (row and band modes).
ConvDesc randomConv(bool wide) {
  ConvDesc d;
  const int axes = static_cast<int>(pick(1, 3));
  d.batch = pick(1, 2);
  d.groups = pick(1, wide ? 2 : 3);
  int64_t taps = 1;
  for (int a = kAxes - axes; a < kAxes; ++a) {
    d.kernel[a] = pick(wide ? 2 : 1, 4);
    taps *= d.kernel[a];
    d.stride[a] = pick(1, 3);
    d.dilation[a] = pick(1, 2);
    d.padBefore[a] = wide && pick(0, 1) == 0 ? 0 : pick(0, 3);
    const int64_t padAfter = d.padBefore[a] == 0 && wide ? 0 : pick(0, 3);
    const int64_t span = d.dilation[a] * (d.kernel[a] - 1) + 1;
    const int64_t least = std::max<int64_t>(1, span - d.padBefore[a] - padAfter);
    d.in[a] = pick(least, std::max<int64_t>(least, a == 2 ? (wide ? 300 : 40) : (wide ? 5 : 9)));
    d.out[a] = (d.in[a] + d.padBefore[a] + padAfter - span) / d.stride[a] + 1;
  }
  d.inChannels = d.groups * (wide ? (255 + taps) / taps + pick(0, 16) : pick(1, 4));
  // Channel mode takes counts its tile pads no more than the wide tile: on AVX2 16, 31, 32, ...
  const int64_t wideCounts[] = {16, 31, 32, 47, 48, 64};
  d.outChannels = d.groups * (wide ? wideCounts[pick(0, 5)] : pick(1, 9));
  if (!wide && pick(0, 5) == 0) d.inChannels = d.outChannels = d.groups;  // depthwise
  return d;
}

PoolDesc randomPool() {
  for (;;) {
    PoolDesc d;
    d.kind = static_cast<PoolKind>(pick(0, 2));
    d.countIncludePad = pick(0, 1);
    d.planes = pick(1, 5);
    const int axes = static_cast<int>(pick(1, 3));
    for (int a = kAxes - axes; a < kAxes; ++a) {
      d.kernel[a] = pick(1, 4);
      d.stride[a] = pick(1, 3);
      d.dilation[a] = pick(1, 2);
      d.padBefore[a] = pick(0, d.kernel[a] / 2);
      d.padAfter[a] = pick(0, d.kernel[a] / 2);
      const int64_t span = d.dilation[a] * (d.kernel[a] - 1) + 1;
      d.in[a] = pick(std::max<int64_t>(1, span - d.padBefore[a] - d.padAfter[a]), a == 2 ? 40 : 9);
      d.out[a] = (d.in[a] + d.padBefore[a] + d.padAfter[a] - span) / d.stride[a] + 1;
    }
    if (checkPoolDesc(d).empty()) return d;
  }
}

// Fixed problems large enough to cross every blocking boundary: several tasks per output row,
// several channel chunks, the pointwise collapse, depthwise, 3D, channel mode.
std::vector<ConvDesc> largeConvs() {
  auto make = [](int64_t c, int64_t k, int64_t g, std::vector<int64_t> in, std::vector<int64_t> kernel,
                 int64_t stride, int64_t pad) {
    ConvDesc d;
    d.batch = 2;
    d.inChannels = c;
    d.outChannels = k;
    d.groups = g;
    const size_t axes = in.size();
    for (size_t i = 0; i < axes; ++i) {
      const int a = kAxes - static_cast<int>(axes) + static_cast<int>(i);
      d.in[a] = in[i];
      d.kernel[a] = kernel[i];
      d.stride[a] = stride;
      d.padBefore[a] = pad;
      d.out[a] = (in[i] + 2 * pad - kernel[i]) / stride + 1;
    }
    return d;
  };
  return {
      make(100, 13, 1, {3, 300}, {3, 3}, 1, 1),   // 2 tasks a row, 2 channel chunks
      make(300, 20, 1, {2, 300}, {1, 1}, 1, 0),   // pointwise: collapsed to one axis of 600
      make(24, 24, 24, {4, 270}, {3, 3}, 2, 1),   // depthwise, strided
      make(40, 17, 1, {4, 15, 37}, {3, 3, 3}, 1, 1),  // 3D: H rows in blocks (weight gradient 14 and 1)
      // 3D in channel mode, H rows in blocks of 6, 6 and 2 (rows of too many floats for longer blocks)
      make(48, 48, 1, {2, 14, 40}, {3, 3, 3}, 1, 1),
      make(24, 16, 1, {3, 7, 30}, {3, 3, 3}, 1, 1),   // 16 output channels: AVX-512's narrow channel tile
      make(30, 80, 1, {4, 29}, {3, 3}, 1, 1),         // 80: five blocks of the narrow channel tile
      make(12, 30, 3, {700}, {5}, 3, 2),          // 1D, grouped, strided
      make(64, 64, 1, {3, 250}, {3, 3}, 1, 1),    // channel mode: 2 columns a row, channel chunks
      make(256, 32, 1, {2, 300}, {1, 1}, 1, 0),   // channel mode, pointwise, in place: columns 208, 208, 184
      make(1100, 256, 1, {60}, {1}, 1, 0),        // weight gradient: 10 chunks of 110 channels (whole tiles), not 9 of 123
      make(2400, 32, 1, {60}, {1}, 1, 0),         // channel mode on AVX-512 in 2 chunks (2184 + 216 channels' rows)
      make(96, 200, 1, {3, 20}, {1, 1}, 1, 0),    // channel mode, 2 rows: output-channel blocks split between threads
      make(64, 96, 1, {4, 9}, {3, 3}, 1, 1),      // channel mode: rows of 9 in groups of 4 and 2 (and 3 of the other item)
      make(64, 96, 1, {9, 19}, {3, 3}, 2, 1),     // ... at stride 2 with edge copies: rows of 10 in groups of 6 and 3
      // Weight-stationary (2.4M weights, 30 positions, forward too: fewer than a register of
      // positions a group, where the weight-broadcast forward needs one): a last block of 8
      // channels, a last chunk of 20 channels (of 32), the data gradient's packing by span
      // transposes; grouped, without padding.
      make(500, 520, 1, {3, 5}, {3, 3}, 1, 1),
      make(1024, 1024, 2, {3, 4}, {3, 3}, 1, 0),
      // Data gradients packed by whole spans (KernelTable::packSpans) of 16 and 10 taps.
      make(64, 64, 1, {6, 20}, {4, 4}, 1, 2),
      make(96, 48, 1, {8, 17}, {2, 5}, 1, 1),
      // Weight-broadcast forward (1x1, 1M weights a group): 49 positions (a last position for the
      // dot products), a last block of 3 channels; 64 positions; stride 2; grouped.
      make(2048, 515, 1, {7, 7}, {1, 1}, 1, 0),
      make(1024, 520, 1, {8, 8}, {1, 1}, 1, 0),
      make(1024, 516, 1, {13, 13}, {1, 1}, 2, 0),
      make(2048, 2048, 2, {5, 5}, {1, 1}, 1, 0),
      make(1024, 520, 1, {6, 6}, {1, 1}, 1, 1),   // ... padded: zero runs in its im2col
      make(1024, 516, 1, {13, 13}, {1, 1}, 2, 1), // ... padded at stride 2
      // ... of 3x3 and 3x3x3 windows: a row of X a tap, zeros gathered from the padding; a last
      // block of 3 channels; stride 2; grouped, 9 positions by dot products.
      make(256, 515, 1, {7, 7}, {3, 3}, 1, 1),
      make(256, 512, 1, {13, 13}, {3, 3}, 2, 1),
      make(512, 1024, 2, {5, 5}, {3, 3}, 1, 1),
      make(96, 512, 1, {3, 4, 4}, {3, 3, 3}, 1, 1),
      // ... the reduction in two slices (batch 2: 2 x 4608 x 25 floats of im2col a group), two
      // groups, a last block of 4 channels, 9 positions by dot products.
      make(1024, 520, 2, {5, 5}, {3, 3}, 1, 1),
      // Data gradients through it (weights read in the forward's layout, the last positions' dot
      // products over runs of a block's weights): a last block of 3 channels; two slices,
      // grouped, 2 last positions; 3-d in two slices with whole registers of positions only.
      make(515, 256, 1, {7, 7}, {3, 3}, 1, 1),
      make(512, 512, 2, {5, 10}, {3, 3}, 1, 1),
      make(256, 128, 1, {2, 4, 4}, {3, 3, 3}, 1, 1),
      make(256, 512, 1, {7, 7}, {3, 3}, 2, 1),    // weight gradient as one GEMM, at stride 2 with padding
      make(128, 512, 1, {5, 6, 6}, {3, 3, 3}, 2, 1),  // ... and 3-d
      make(512, 256, 1, {3, 3}, {3, 3}, 1, 3),    // ... windows wholly in the padding (KernelTable::gatherTaps)
      make(256, 512, 1, {3, 27}, {2, 5}, 1, 0),   // ... windows over 32 floats of a plane, the most gatherTaps takes
      make(256, 512, 1, {3, 28}, {2, 5}, 1, 0),   // ... and over 33, which it does not
      make(512, 2050, 1, {7, 7}, {1, 1}, 1, 0),   // ... 3 runs of channels, their output-channel blocks split, the last partial
      make(96, 64, 2, {5, 57}, {3, 3}, 2, 1),     // channel mode, grouped, strided
      make(128, 128, 1, {5, 61}, {3, 3}, 2, 1),   // data gradient phases in channel mode at step 2
      make(64, 64, 1, {64, 64}, {3, 3}, 2, 1),    // ... sharing a padded dY (planes of 4 KiB crowd L1)
      // ... packing from one transposed copy of the weights: spans of 16 and 8 taps, two groups
      // at stride 3.
      make(48, 64, 1, {6, 20}, {4, 4}, 2, 1),
      make(32, 48, 2, {7, 26}, {2, 4}, 3, 1),
      // ... made a slice of dx's channels at a time (4.9M weights, more than a thread keeps):
      // four slices of 128 channels and one of 16.
      make(528, 1024, 1, {6, 7}, {3, 3}, 2, 1),
      make(10, 7, 1, {20, 32}, {3, 3}, 1, 1),     // band row tiles: 4 channels direct, 3 scattered
      make(3, 64, 1, {9, 64}, {3, 3}, 1, 1),      // band row tiles of 48 positions and a 16-position tail (AVX-512)
      make(3, 20, 1, {9, 64}, {5, 5}, 1, 2),      // ... 16 channels direct, 4 scattered
      make(100, 7, 1, {20, 32}, {3, 3}, 1, 1),    // band mode (virtual rows) in 3 channel chunks
      // Staged rows (planes a multiple of 4 KiB apart, which tap runs do not read in place): one
      // task over several D rows, two outside; two groups.
      make(32, 32, 1, {3, 16, 64}, {1, 3, 3}, 1, 1),
      make(64, 64, 2, {8, 128}, {3, 3}, 1, 1),
      make(48, 32, 1, {3, 5, 9}, {1, 3, 3}, 1, 2),  // tap runs at pad 2: two of three taps miss positions in each tile
      make(16, 32, 1, {3, 4200}, {3, 3}, 2, 1),   // weight gradient in place at stride 2 (padded x), 4 row tiles of 525
      make(16, 32, 1, {4200}, {3}, 2, 0),         // ... and without padding
      make(16, 32, 1, {2600}, {3}, 1, 1),         // weight gradient: row-cache tiles of 650, the middle ones read in place
      make(16, 32, 1, {4200}, {3}, 2, 1),         // ... at stride 2
      make(64, 32, 1, {1500}, {3}, 1, 1),         // ... all 64 channels in one chunk (edge rows only), tiles of 375
      make(400, 32, 1, {1500}, {3}, 1, 1),        // ... in tiles of 256: 400 channels' rows of 750 overflow the budget
      make(16, 32, 1, {3, 3200}, {3, 3}, 3, 1),   // ... and at stride 3 (every row filled): tiles of 256, not 534
      make(8, 16, 1, {5000}, {1}, 1, 0),          // weight gradient: 16 row tiles of 625 (8 a row) in 4 partitions
      make(8, 160, 1, {900}, {1}, 1, 0),          // ... 160 channels: tiles of at most 819 (4 of 225)
      make(16, 24, 1, {7, 30}, {3, 3}, 1, 1),     // weight gradient: 14 row tiles in 4 uneven partitions
  };
}

// Pooling problems whose output rows span several of poolForwardDirect's blocks (about 8K
// floats of reduced rows each), so that a block starts in the middle of the plane.
std::vector<PoolDesc> largePools() {
  auto make = [](PoolKind kind, std::vector<int64_t> in, int64_t kernel, int64_t stride, int64_t pad) {
    PoolDesc d;
    d.kind = kind;
    d.countIncludePad = false;
    d.planes = 3;
    const size_t axes = in.size();
    for (size_t i = 0; i < axes; ++i) {
      const int a = kAxes - static_cast<int>(axes) + static_cast<int>(i);
      d.in[a] = in[i];
      d.kernel[a] = kernel;
      d.stride[a] = stride;
      d.padBefore[a] = d.padAfter[a] = pad;
      d.out[a] = (in[i] + 2 * pad - kernel) / stride + 1;
    }
    return d;
  };
  return {
      make(PoolKind::Max, {301, 203}, 3, 2, 1),   // 151 output rows, 42 a block
      make(PoolKind::Avg, {301, 203}, 3, 2, 1),   // per-row divisors at the padded edges
      make(PoolKind::Min, {250, 180}, 2, 1, 0),
      make(PoolKind::Avg, {9, 60, 150}, 2, 2, 0),  // 3-d: 4-row windows
  };
}

int passed = 0, failed = 0;

void report(bool ok, const char* isa, const char* op, int trial, const std::string& why) {
  if (ok) {
    ++passed;
  } else {
    ++failed;
    std::printf("FAIL %s %s trial %d: %s\n", isa, op, trial, why.c_str());
  }
}

// Pooling forward and backward by every kernel set against the reference loops.
void checkPool(const std::vector<const KernelTable*>& sets, const PoolDesc& p, int trial, const std::string& label) {
  const std::vector<float> px = randomData(p.xLength()), pdy = randomData(p.yLength());
  std::vector<float> py0(p.yLength()), pdx0(p.xLength());
  reference::poolForward(p, px.data(), py0.data());
  reference::poolBackward(p, pdy.data(), px.data(), pdx0.data());
  for (const KernelTable* k : sets) {
    std::string why;
    std::vector<float> py(p.yLength()), pdx(p.xLength());
    poolForward(*k, p, px.data(), py.data());
    report(close(py, py0, 1e-6, why), k->isa, (label + "poolForward").c_str(), trial, why);
    poolBackward(*k, p, pdy.data(), px.data(), pdx.data());
    report(close(pdx, pdx0, 1e-5, why), k->isa, (label + "poolBackward").c_str(), trial, why);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int trials = argc > 1 ? std::atoi(argv[1]) : 300;
  const std::vector<const KernelTable*> sets = supportedKernelSets();
  std::printf("kernel sets:");
  for (const KernelTable* t : sets) std::printf(" %s", t->isa);
  std::printf("\n");
  for (int trial = 0; trial < trials; ++trial) {
    const ConvDesc d = randomConv(trial % 4 == 3);
    if (!checkConvDesc(d).empty()) { std::printf("bad random conv\n"); return 2; }
    const std::vector<float> x = randomData(d.xLength()), w = randomData(d.wLength()),
                             b = randomData(d.outChannels), dy = randomData(d.yLength()),
                             bx = randomData(d.inChannels);
    std::vector<float> y0(d.yLength()), dx0(d.xLength()), dw0(d.wLength());
    reference::convForward(d, x.data(), w.data(), b.data(), y0.data());
    reference::convBackwardData(d, dy.data(), w.data(), bx.data(), dx0.data());
    reference::convBackwardWeight(d, dy.data(), x.data(), dw0.data());
    const PoolDesc p = randomPool();
    for (const KernelTable* k : sets) {
      std::string why;
      std::vector<float> y(d.yLength()), dx(d.xLength()), dw(d.wLength());
      convForward(*k, d, x.data(), w.data(), b.data(), y.data());
      report(close(y, y0, 1e-5, why), k->isa, "convForward", trial, why);
      convBackwardData(*k, d, dy.data(), w.data(), bx.data(), dx.data());
      report(close(dx, dx0, 1e-5, why), k->isa, "convBackwardData", trial, why);
      convBackwardWeight(*k, d, dy.data(), x.data(), dw.data());
      report(close(dw, dw0, 1e-5, why), k->isa, "convBackwardWeight", trial, why);
    }
    checkPool(sets, p, trial, "");
  }
  int trial = trials;
  for (const ConvDesc& d : largeConvs()) {
    const std::vector<float> x = randomData(d.xLength()), w = randomData(d.wLength()),
                             b = randomData(d.outChannels), dy = randomData(d.yLength()),
                             bx = randomData(d.inChannels);
    std::vector<float> y0(d.yLength()), dx0(d.xLength()), dw0(d.wLength());
    reference::convForward(d, x.data(), w.data(), b.data(), y0.data());
    reference::convBackwardData(d, dy.data(), w.data(), bx.data(), dx0.data());
    reference::convBackwardWeight(d, dy.data(), x.data(), dw0.data());
    for (const KernelTable* k : sets) {
      std::string why;
      std::vector<float> y(d.yLength()), dx(d.xLength()), dw(d.wLength());
      convForward(*k, d, x.data(), w.data(), b.data(), y.data());
      report(close(y, y0, 1e-5, why), k->isa, "large convForward", trial, why);
      convBackwardData(*k, d, dy.data(), w.data(), bx.data(), dx.data());
      report(close(dx, dx0, 1e-5, why), k->isa, "large convBackwardData", trial, why);
      convBackwardWeight(*k, d, dy.data(), x.data(), dw.data());
      report(close(dw, dw0, 1e-5, why), k->isa, "large convBackwardWeight", trial, why);
    }
    ++trial;
  }
  for (const PoolDesc& p : largePools()) {
    if (!checkPoolDesc(p).empty()) { std::printf("bad large pool\n"); return 2; }
    checkPool(sets, p, trial++, "large ");
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
