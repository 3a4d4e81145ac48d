#include "gemm_plan.h"

#include <algorithm>
#include <utility>
#include "thread_pool.h"
#include "tiling.h"
#include "weight_packer.h"

namespace convnd {

namespace {

// The four-row tile's rate relative to the wide tile's, measured on AVX2 (two x loads and
// four broadcasts per 8 FMAs instead of per 12); the three-row tile's three loads and three
// broadcasts per 9 FMAs taken as the same. A 7x7 stride-2 data gradient into 3 channels ran
// 17% faster on it than on gemmQuad (one channel of four padding).
constexpr double kQuadEfficiency = 0.93;
constexpr double kTripleEfficiency = 0.93;
// AVX-512's eight-row tile (3 loads and 8 broadcasts per 24 FMAs) ran as fast as the 12 x 32
// one where both pad nothing (1x1 64 -> 192, 1-d k3 64 -> 96: 0-2% faster). Where 12 pads, against
// the tiles chosen before it: the 7x7 stem forward (64 channels, gemmQuad before) 9-10% faster,
// 3x3 16 -> 16 7-11%, 1-d k3 64 -> 64 forward and data gradient 3-4%, 1-d k255 forward 3%, the
// 1x1 256 -> 64 data gradient (256 outputs, 264 on the wide tile) 2-3%; the tiny 3 -> 8 call
// 0.5 us slower at its fastest (in-process alternation, one thread).
constexpr double kOctetEfficiency = 1.0;

// Channel mode collects its results in an accumulator and transposes them into the output at
// the end: outputs must sum enough products to amortise that. Measured: a 1-d 64 -> 64 k3
// layer (192 products an output) ran 5-10% slower than row mode, a 1x1 layer of 256 inputs
// 10% faster.
constexpr int64_t kChannelModeMinDepth = 256;
// Where outputs are strided (a stride phase of a data gradient), row and band mode cannot store
// their tiles into the output and scatter them from an accumulator: channel mode, whose transpose
// writes them, pays from 128 products an output. A 3x3 stride-2 data gradient's one-tap phase
// (128 channels) and its 2-tap phases of 64 channels, and 1-d k3 stride-2 ones: 2-8% faster on
// one thread, 0.5-10% on two (in-process alternation, AVX-512).
constexpr int64_t kChannelModeMinDepthStrided = 128;

// The channel-mode tile for the problem, or null (row or band mode). Channel mode needs every
// output to sum enough products to amortise the transpose. The wide tile serves when it pads
// the output channels no more than the wide row tile does. The narrow one (one register of
// channels) when it pads less than the row tile, or as little as the wide row tile on a layer
// of several output rows (whose row tiles end each row with a short one), or as little as
// gemmQuad on a 3-d window over adjacent D rows. Measured against the row tiles (in-process
// alternation, one thread): 3x3 layers of 48, 80 and 112 channels 1-26% faster, 1-d layers of
// 80 the same and of 48 5% slower; 3x3x3 layers of 16 -> 16, 32 -> 16 and 32 -> 48 from 1%
// slower to 18% faster (forward and data gradient, dilated along H and W or not), but 8-18%
// slower with a dilation along D; 2-d and 1-d 16-channel layers 1-12% slower than on gemmQuad.
const ChannelTileKernel* chooseChannelTile(const KernelTable& kernels, const WindowedGemm& p, const GemmKernel& rowTile) {
  const int64_t depth = p.inPerGroup * p.axes[0].taps() * p.axes[1].taps() * p.axes[2].taps();
  if (depth < (p.axes[2].outStep > 1 ? kChannelModeMinDepthStrided : kChannelModeMinDepth)) return nullptr;
  const int64_t k = p.outPerGroup;
  const ChannelTileKernel &wide = kernels.channelTile, &narrow = kernels.channelTileNarrow;
  if (k >= wide.mr && roundUp(k, wide.mr) <= roundUp(k, kernels.gemmWide.mr)) return &wide;
  if (narrow.mr == 0 || k < narrow.mr) return nullptr;
  const int64_t narrowPadded = roundUp(k, narrow.mr), rowPadded = roundUp(k, rowTile.mr);
  const AxisMap& ad = p.axes[0];
  const auto [lowest, highest] = std::minmax_element(ad.offset.begin(), ad.offset.end());
  const bool window3d = ad.taps() > 1 && *highest - *lowest + 1 == ad.taps();
  const bool severalRows = p.axes[0].count > 1 || p.axes[1].count > 1;
  const bool asLittle = narrowPadded == rowPadded && ((&rowTile == &kernels.gemmWide && severalRows) || window3d);
  return narrowPadded < rowPadded || asLittle ? &narrow : nullptr;
}

// Row mode's tile (and its one-register tail) for the problem's output channels.
void chooseRowTile(const KernelTable& kernels, const WindowedGemm& p, GemmPlan& plan) {
  plan.kernel = &kernels.gemmWide;
  plan.tail = &kernels.gemmTail;
  if (p.outPerGroup <= 2) {
    // One or two output channels per group (depthwise) would waste most of a wider tile.
    plan.kernel = plan.tail = &kernels.gemmNarrow;
    return;
  }
  // The tile with the least padded channels over its rate: 8 -> 8 on gemmQuad instead of 12,
  // 32 -> 32 instead of 36, 3 -> 3 on gemmTriple instead of 4 (on AVX-512 multiples of 8 on
  // gemmOctet: 64 instead of 72, 256 instead of 264).
  const auto cost = [&](const GemmKernel& k, double rate) {
    return static_cast<double>(roundUp(p.outPerGroup, k.mr)) / rate;
  };
  double best = cost(kernels.gemmWide, 1.0);
  if (cost(kernels.gemmTriple, kTripleEfficiency) < best) {
    best = cost(kernels.gemmTriple, kTripleEfficiency);
    plan.kernel = &kernels.gemmTriple;
    plan.tail = &kernels.gemmTripleTail;
  }
  if (kernels.gemmOctet.mr > 0 && cost(kernels.gemmOctet, kOctetEfficiency) < best) {
    best = cost(kernels.gemmOctet, kOctetEfficiency);
    plan.kernel = &kernels.gemmOctet;
    plan.tail = &kernels.gemmOctetTail;
  }
  if (cost(kernels.gemmQuad, kQuadEfficiency) < best) {
    plan.kernel = &kernels.gemmQuad;
    plan.tail = &kernels.gemmQuadTail;
  }
}

}  // namespace

bool runsInChannelMode(const KernelTable& kernels, const WindowedGemm& p) {
  GemmPlan plan;
  chooseRowTile(kernels, p, plan);
  return chooseChannelTile(kernels, p, *plan.kernel) != nullptr;
}

GemmPlan makeGemmPlan(const KernelTable& kernels, const WindowedGemm& p) {
  GemmPlan plan;
  chooseRowTile(kernels, p, plan);
  plan.channelTile = chooseChannelTile(kernels, p, *plan.kernel);
  plan.channelMode = plan.channelTile != nullptr;
  plan.mr = plan.channelMode ? plan.channelTile->mr : plan.kernel->mr;
  plan.T = plan.kernel->tileWidth;
  plan.kPadded = roundUp(p.outPerGroup, plan.mr);
  plan.tD = p.axes[0].taps();
  plan.tH = p.axes[1].taps();
  plan.tW = p.axes[2].taps();
  plan.rowsPerChannel = plan.tD * plan.tH;
  plan.blockFloats = p.inPerGroup * plan.rowsPerChannel * plan.tW * plan.mr;
  if (p.bias) {
    plan.biasPadded.assign(static_cast<size_t>(p.groups * plan.kPadded), 0.0f);
    for (int64_t g = 0; g < p.groups; ++g)
      std::copy(p.bias + g * p.outPerGroup, p.bias + (g + 1) * p.outPerGroup, plan.biasPadded.begin() + g * plan.kPadded);
  }
  return plan;
}

void packWeights(const KernelTable& kernels, const WindowedGemm& p, GemmPlan& plan) {
  const int mr = plan.mr;
  const int64_t blocksPerGroup = plan.kPadded / mr;
  plan.packed = ReusedBuffer(p.groups * blocksPerGroup * plan.blockFloats);
  const WeightPacker packer(kernels, p, mr);
  ThreadPool::instance().parallelFor(p.groups * blocksPerGroup, [&](int64_t block, int) {
    packer.pack(block / blocksPerGroup, block % blocksPerGroup * mr, 0, p.inPerGroup, plan.packed.data() + block * plan.blockFloats);
  }, p.groups * blocksPerGroup * plan.blockFloats * packer.workPerFloat());
}

float* outputRow(const WindowedGemm& p, int64_t n, int64_t g, int64_t td, int64_t th, int64_t k) {
  const AxisMap &ad = p.axes[0], &ah = p.axes[1], &aw = p.axes[2];
  const int64_t od = ad.outStart + ad.outStep * td, oh = ah.outStart + ah.outStep * th;
  return outputPlane(p, n, g, k) + (od * p.outExtent[1] + oh) * p.outExtent[2] + aw.outStart;
}

int64_t channelChunk(int64_t rowsPerChannel, int64_t tileRowFloats, int64_t budgetFloats) {
  return std::max<int64_t>(1, budgetFloats / std::max<int64_t>(1, rowsPerChannel * tileRowFloats));
}

TaskRuns::TaskRuns(int64_t itemWork, int64_t items, int threads) {
  itemWork = std::max<int64_t>(1, itemWork);
  const int64_t least = (kTaskWork + itemWork - 1) / itemWork;
  starts_.push_back(0);
  for (int64_t left = items; left > 0;) {
    const int64_t run = std::min(left, std::max(least, (left + 2 * threads - 1) / (2 * threads)));
    starts_.push_back(starts_.back() + run);
    left -= run;
  }
}

int64_t itemsPerTask(int64_t itemWork, int64_t items, int threads) {
  itemWork = std::max<int64_t>(1, itemWork);
  return std::max<int64_t>({int64_t(1), (kTaskWork + itemWork - 1) / itemWork, items / (4 * int64_t(threads))});
}

}  // namespace convnd
