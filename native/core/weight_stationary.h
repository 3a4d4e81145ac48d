// Channel mode for layers of many weights and few output positions (ResNet's last stages: a
// 3x3 512 -> 512 layer at 7x7 has 2.4M weights and 49 positions): each work item is one block of
// output channels over every output position, and packs that block's weights itself, a chunk of
// input channels at a time into an L1 buffer, just before its tiles use it for all positions.
// Packing every block first, as the row-stationary driver does, wrote 9.4 MB and read it back
// through L3 (that layer's forward 9-20% faster this way, its data gradient 7-14%, a 1024-channel
// one's forward, whose weights outgrow L3, 34%; one thread, in-process alternation), and on two
// threads each thread packs and reads only its own blocks' weights.
#pragma once
#include <cstdint>
#include "channel_columns.h"
#include "gemm_plan.h"
#include "plane_row_order.h"
#include "windowed_gemm.h"

namespace convnd {

// Whether a problem whose rows are read in place, one column a row, takes this driver:
// `positions` output positions a group, and enough weights to outgrow the caches.
bool runsWeightStationary(const WindowedGemm& p, const GemmPlan& plan, int64_t positions);

// Runs the problem (plan.packed unused): `column` is every output row's one column, `order` the
// rows of a D x H plane, `tiles` how a row's tiles read the input in place.
void runWeightStationaryGemm(const KernelTable& kernels, const WindowedGemm& p, const GemmPlan& plan, const Column& column,
                             const RowTiles& tiles, const PlaneRowOrder& order);

}  // namespace convnd
