// A float buffer whose storage the calling thread keeps for its next call: allocating a large
// one afresh cost page faults and a zero fill on every call (a 3-d weight gradient's 16 MiB of
// transposed dY: 6% of the call).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include "aligned_floats.h"

namespace convnd {

class ReusedBuffer {
 public:
  // Buffers up to this size (16 MiB: a 3x3 512 -> 512 layer's packed weights take 9 MiB, a 3-d
  // 16-channel 64^3 layer's transposed dY 16 MiB) are kept for the thread's next call; larger
  // ones are freed after it.
  static constexpr int64_t kKeptFloats = int64_t(4) << 20;

  ReusedBuffer() = default;
  // At least `floats` floats, not initialised, from a cache-line boundary.
  explicit ReusedBuffer(int64_t floats);
  ~ReusedBuffer();
  ReusedBuffer(ReusedBuffer&&) = default;
  ReusedBuffer& operator=(ReusedBuffer&&) = default;
  float* data() { return data_.get(); }
  const float* data() const { return data_.get(); }

 private:
  AlignedFloats data_;
  size_t capacity_ = 0;
};

}  // namespace convnd
