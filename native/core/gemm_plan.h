// What the modes of the windowed GEMM (row mode in windowed_gemm.cc, band mode in
// band_gemm.cc, channel mode in channel_gemm.cc) share: the kernels chosen for the problem,
// the weights packed in the order the kernels read them, the bias padded to whole register
// tiles, and where outputs go.
#pragma once
#include <cstdint>
#include <vector>
#include "kernel_table.h"
#include "reused_buffer.h"
#include "tiling.h"
#include "windowed_gemm.h"

namespace convnd {

struct GemmPlan {
  bool channelMode;          // the transposed tile (channel_gemm.h): mr is its; kernel, tail, T unused
  const ChannelTileKernel* channelTile;  // channel mode's tile (kernels' wide or narrow one), or null
  const GemmKernel* kernel;  // wide, quad or triple by padded channels, narrow for 1 or 2 a group
  const GemmKernel* tail;    // the same channels over one register of positions
  int mr;
  int64_t T;                 // kernel->tileWidth
  int64_t kPadded;           // output channels per group rounded up to whole tiles
  int64_t tD, tH, tW;        // taps per axis
  int64_t rowsPerChannel;    // tD * tH: rows a window reads per input channel
  int64_t blockFloats;       // packed floats of one block of mr output channels
  ReusedBuffer packed;       // [group][k block][c][jd][jh][jw][mr], once packWeights has run
  std::vector<float> biasPadded;  // [group][kPadded], or empty without bias

  // Packed weights of output block kb (a multiple of mr) of group g, from input channel c0.
  const float* weights(int64_t g, int64_t kb, int64_t c0) const {
    return packed.data() + (g * kPadded + kb) / mr * blockFloats + c0 * rowsPerChannel * tW * mr;
  }

  // Padded bias of output block kb of group g, or null without bias.
  const float* bias(int64_t g, int64_t kb) const {
    return biasPadded.empty() ? nullptr : biasPadded.data() + g * kPadded + kb;
  }
};

// Everything but the packed weights (see packWeights).
GemmPlan makeGemmPlan(const KernelTable& kernels, const WindowedGemm& p);

// Fills plan.packed (weight_packer.h), its blocks in parallel: for a large layer packing is a
// few percent of the call, too much to leave on one thread.
void packWeights(const KernelTable& kernels, const WindowedGemm& p, GemmPlan& plan);

// Whether makeGemmPlan would choose channel mode (channel_gemm.h) for the problem.
bool runsInChannelMode(const KernelTable& kernels, const WindowedGemm& p);

// Output channel k of group g, batch item n, output row (td, th): the address of position 0.
float* outputRow(const WindowedGemm& p, int64_t n, int64_t g, int64_t td, int64_t th, int64_t k);

// Input channels per chunk, so that the rows one register tile reads (tileRowFloats each,
// rowsPerChannel per channel, budgetFloats in all) stay in L1 while every output-channel block
// passes over them.
int64_t channelChunk(int64_t rowsPerChannel, int64_t tileRowFloats, int64_t budgetFloats = kTileRowsFloats);

// Consecutive work items per parallel task: enough work to be worth a dispatch, and about
// four tasks a thread so that uneven items still balance.
int64_t itemsPerTask(int64_t itemWork, int64_t items, int threads);

// Consecutive runs of work items, one per parallel task, that shrink towards the end: each takes
// about a 2 * threads-th of the items left (never less than is worth a dispatch), so that the
// threads finish together. Equal runs, four a thread, left one thread waiting up to a whole run:
// these measured 5-10% faster on two threads' fastest calls of 56-row and 1-d layers, 1-5% on
// their medians (in-process alternation), and the same on one thread.
class TaskRuns {
 public:
  TaskRuns(int64_t itemWork, int64_t items, int threads);
  int64_t tasks() const { return static_cast<int64_t>(starts_.size()) - 1; }
  int64_t begin(int64_t task) const { return starts_[static_cast<size_t>(task)]; }
  int64_t end(int64_t task) const { return starts_[static_cast<size_t>(task) + 1]; }

 private:
  std::vector<int64_t> starts_;
};

}  // namespace convnd
