// Software prefetch of a run of floats, for reads (and writes) that jump from one channel plane or
// row to the next, which the hardware prefetchers do not follow. Nothing where the compiler has no builtin.
#pragma once
#include <cstdint>

namespace convnd {

// Fetches the cache lines of [first, first + count), count >= 1; with ForWrite = 1 in a state
// that takes a write (lines about to be stored to).
template <int ForWrite = 0>
inline void prefetchFloats(const float* first, int64_t count) {
#if defined(__GNUC__) || defined(__clang__)
  for (int64_t i = 0; i < count; i += 16) __builtin_prefetch(first + i, ForWrite);
  __builtin_prefetch(first + count - 1, ForWrite);
#else
  (void)first;
  (void)count;
#endif
}

}  // namespace convnd
