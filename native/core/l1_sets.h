// How rows a fixed stride apart spread over the sets of a 32 KiB, 8-way L1 (64 sets of 64-byte
// lines), for the drivers and the ISA kernels alike. In an anonymous namespace, and without
// standard templates (no std::gcd), like the kernel headers (see tile_kernels.h): each
// translation unit, ISA-compiled ones included, keeps its own copy.
#pragma once
#include <cstdint>

namespace {

// The sets that rows strideFloats apart fall into under one column: rows a whole number of
// lines apart use 64 / gcd(lines, 64) of them; rows that shift within the line use every set.
inline int64_t l1SetsUnderColumn(int64_t strideFloats) {
  if (strideFloats % 16 != 0) return 64;
  int64_t a = strideFloats / 16 % 64, b = 64;
  while (a != 0) {
    const int64_t t = b % a;
    b = a;
    a = t;
  }
  return 64 / b;
}

// Whether rows read in place from consecutive channel planes (planeFloats apart) spread over
// L1's sets. Planes a multiple of 4 KiB apart (a 1-d signal of 16384, a 64^3 volume) put the
// same position of every channel in one set, where 8 lines fit: such rows are better read from
// a densely packed copy (the row cache's).
inline bool planesSpreadOverL1(int64_t planeFloats) { return l1SetsUnderColumn(planeFloats) >= 16; }

}  // namespace
