// Picks the kernel set once, at load time: the best the CPU and the OS support (x86-64:
// cpuid plus XGETBV, so that the OS is known to save ymm/zmm state), lowered by the
// environment variable CONVND_ISA (avx512 | avx2 | neon | scalar) for tests and comparison.
// A request above what the machine supports falls back to the best supported set.
#pragma once
#include <string>
#include <vector>
#include "kernel_table.h"

namespace convnd {

// Kernel sets this machine can run, best first; "scalar" is always last.
std::vector<const KernelTable*> supportedKernelSets();

// The set in use: chosen on first call and cached.
const KernelTable& activeKernels();

}  // namespace convnd
