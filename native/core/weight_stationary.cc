#include "weight_stationary.h"

#include <algorithm>
#include <numeric>
#include <vector>
#include "aligned_floats.h"
#include "thread_pool.h"
#include "tiling.h"
#include "weight_packer.h"

namespace convnd {

namespace {

// Output positions a group at most: every item's accumulators ([position][mr]) and row pointers
// stay in L2.
constexpr int64_t kMaxPositions = 512;
// Packed weights a group at least (2 MiB). Against the row-stationary driver (in-process
// alternation): 3x3 256 -> 256 at 14x14 and 1x1 2048 -> 512 at 7x7 (2.4 and 4.2 MB of weights)
// 1-3.5% slower on one thread, 20-30% faster on two (each thread packs and reads only its blocks'
// weights); 3x3 512 -> 512 at 7x7 9-18% faster on one thread.
constexpr int64_t kMinWeightFloats = int64_t(1) << 19;
// Floats of one packed chunk (32 KiB, in L1 beside the rows' inputs).
constexpr int64_t kChunkFloats = 8192;
// ... or up to an eighth more, so that a chunk's packed columns are whole 16-column blocks of the
// packing transpose: 3x3 layers 32 channels (36 KiB) instead of 28, whose 252 columns left 12
// to the narrower transpose and the scalar loop. Forward of 3x3 512 -> 512 7x7 1-1.5% faster
// (five runs of six), 256 -> 256 14x14 0-3%, 1024 -> 1024 7x7 3%, on one thread and two; the
// 512 -> 512 data gradient the same (in-process alternation).
constexpr int64_t kChunkSlackFloats = kChunkFloats / 8;
constexpr int64_t kTransposeBlockColumns = 16;

// Input channels a chunk.
int64_t chunkChannels(int64_t columnsPerChannel, int mr) {
  const int64_t fitting = std::max<int64_t>(1, kChunkFloats / (columnsPerChannel * mr));
  const int64_t step = kTransposeBlockColumns / std::gcd(kTransposeBlockColumns, columnsPerChannel);
  const int64_t whole = roundUp(fitting, step);
  return whole * columnsPerChannel * mr <= kChunkFloats + kChunkSlackFloats ? whole : fitting;
}

}  // namespace

bool runsWeightStationary(const WindowedGemm& p, const GemmPlan& plan, int64_t positions) {
  return p.inPerGroup > 0 && positions <= kMaxPositions && plan.kPadded * p.inPerGroup * plan.rowsPerChannel * plan.tW >= kMinWeightFloats;
}

void runWeightStationaryGemm(const KernelTable& kernels, const WindowedGemm& p, const GemmPlan& plan, const Column& column,
                             const RowTiles& tiles, const PlaneRowOrder& order) {
  const AxisMap &ad = p.axes[0], &ah = p.axes[1], &aw = p.axes[2];
  const int mr = plan.mr;
  const int64_t rowsPerChannel = plan.rowsPerChannel, width = column.width;
  const int64_t planeRows = order.rows(), rows = p.batch * planeRows;
  const int64_t inVolume = ad.inSize * ah.inSize * aw.inSize;
  const int64_t outVolume = p.outExtent[0] * p.outExtent[1] * p.outExtent[2];
  const int64_t chunk = chunkChannels(rowsPerChannel * plan.tW, mr);
  const int64_t blocks = plan.kPadded / mr;
  const WeightPacker packer(kernels, p, mr);
  // Rows outside the input read zeros over the same extent.
  const std::vector<float> zeroRow(static_cast<size_t>(aw.inSize), 0.0f);

  // Aligned so that one thread's writes to its buffers' bookkeeping never share a cache line
  // with another's.
  struct alignas(64) Workspace {
    std::vector<const float*> rows;  // of group `rowsGroup`: [batch item][output row][channel][window row]
    int64_t rowsGroup = -1;
    std::vector<int64_t> windowOffsets;  // of one output row (appendWindowOffsets)
    AlignedFloats packed;  // one chunk
    AlignedFloats acc;     // [batch item][output row][position][mr]
  };
  ThreadPool& pool = ThreadPool::instance();
  std::vector<Workspace> spaces(static_cast<size_t>(pool.threads()));
  const int64_t items = p.groups * blocks;
  const int64_t itemWork = int64_t(mr) * p.inPerGroup * rowsPerChannel * plan.tW * width * rows;
  const TaskRuns runs(itemWork, items, pool.threads());
  pool.parallelFor(runs.tasks(), [&](int64_t task, int worker) {
    Workspace& ws = spaces[static_cast<size_t>(worker)];
    if (!ws.acc) {
      ws.rows.resize(static_cast<size_t>(rows * p.inPerGroup * rowsPerChannel));
      ws.packed = allocateAligned(static_cast<size_t>(chunk * rowsPerChannel * plan.tW * mr));
      // transposeOut may read whole blocks of 8 positions past a row's start.
      ws.acc = allocateAligned(static_cast<size_t>((rows * width + 8) * mr));
    }
    for (int64_t item = runs.begin(task); item < runs.end(task); ++item) {
      const int64_t g = item / blocks, kb = item % blocks * mr;
      if (ws.rowsGroup != g) {
        ws.rowsGroup = g;
        const float** row = ws.rows.data();
        for (int64_t r = 0; r < rows; ++r) {
          const PlaneRowOrder::Row at = order.at(r % planeRows);
          const float* inGroup = p.input + (r / planeRows * p.groups + g) * p.inPerGroup * inVolume;
          ws.windowOffsets.clear();
          appendWindowOffsets(ad, ah, aw, at.td, at.th, ws.windowOffsets);
          for (int64_t c = 0; c < p.inPerGroup; ++c)
            for (const int64_t offset : ws.windowOffsets) *row++ = offset >= 0 ? inGroup + c * inVolume + offset : zeroRow.data();
        }
      }
      GemmTileArgs args;
      args.taps = static_cast<int32_t>(plan.tW);
      args.outStride = mr;
      args.weights = ws.packed.get();
      for (int64_t c0 = 0; c0 < p.inPerGroup; c0 += chunk) {
        const int64_t c1 = std::min(p.inPerGroup, c0 + chunk);
        packer.pack(g, kb, c0, c1, ws.packed.get());
        args.rowCount = (c1 - c0) * rowsPerChannel;
        args.accumulate = c0 > 0;
        args.bias = c0 == 0 ? plan.bias(g, kb) : nullptr;
        const float* const* noEdgeRows = nullptr;
        for (int64_t r = 0; r < rows; ++r)
          tiles.run(column, args, ws.rows.data() + (r * p.inPerGroup + c0) * rowsPerChannel, noEdgeRows, ws.acc.get() + r * width * mr);
      }
      for (int64_t r = 0; r < rows; ++r) {
        const PlaneRowOrder::Row at = order.at(r % planeRows);
        kernels.transposeOut(outputRow(p, r / planeRows, g, at.td, at.th, kb) + aw.outStep * column.t0, outVolume, aw.outStep,
                             ws.acc.get() + r * width * mr, mr, std::min<int64_t>(mr, p.outPerGroup - kb), width);
      }
    }
  }, itemWork * items);
}

}  // namespace convnd
