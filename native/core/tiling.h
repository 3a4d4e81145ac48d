// Blocking constants and helpers shared by the drivers.
#pragma once
#include <cstdint>

namespace convnd {

// Row buffers up to this many floats (96 KiB) stay in L2 while every output-channel block of
// a tile reads them.
constexpr int64_t kRowBufferFloats = 24 * 1024;

inline int64_t roundUp(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

}  // namespace convnd
