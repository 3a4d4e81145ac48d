// Band mode of the windowed GEMM, for output rows narrower than a task's span whose width is
// not a multiple of the register tile (28 positions = 16 + 12 wastes a quarter of the second
// tile; 56 = 3 x 16 + 8 ends every row with a short, slower tile).
//
// B consecutive output rows are laid end to end, `pitch` floats apart, as one virtual row, and
// register tiles run across the row ends: the few positions between rows (pitch - width) are
// computed and thrown away. The input rows of a band are filled once per channel chunk into a
// block with the same pitch, so that a tile's tap reads T consecutive floats as in row mode.
// Results go to an accumulator laid out like the virtual row and are scattered to the output.
#pragma once
#include "gemm_plan.h"
#include "kernel_table.h"
#include "windowed_gemm.h"

namespace convnd {

// Runs the problem in band mode and returns true, or returns false without doing anything
// when row mode serves the problem better.
bool runBandedGemm(const KernelTable& kernels, const WindowedGemm& p, const GemmPlan& plan);

}  // namespace convnd
