// Float arrays that start on a cache-line boundary. new float[] starts 16 bytes past one (glibc's
// chunk header), so every 64-byte vector load or store of a buffer laid out in whole lines
// (packed weights, accumulators) spanned two lines.
#pragma once
#include <cstddef>
#include <memory>
#include <new>

namespace convnd {

constexpr std::align_val_t kCacheLineAlignment{64};

struct AlignedDelete {
  void operator()(float* p) const { ::operator delete[](p, kCacheLineAlignment); }
};

using AlignedFloats = std::unique_ptr<float[], AlignedDelete>;

// `floats` floats, not initialised.
inline AlignedFloats allocateAligned(size_t floats) {
  return AlignedFloats(static_cast<float*>(::operator new[](floats * sizeof(float), kCacheLineAlignment)));
}

}  // namespace convnd
