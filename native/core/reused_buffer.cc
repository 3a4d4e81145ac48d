#include "reused_buffer.h"

#include <utility>

namespace convnd {

namespace {

// Kept up to this size (16 MiB: a 3x3 512 -> 512 layer's packed weights take 9 MiB, a 3-d
// 16-channel 64^3 layer's transposed dY 16 MiB); larger buffers are freed after the call.
constexpr size_t kKeptFloats = size_t(4) << 20;

struct Spare {
  std::unique_ptr<float[]> data;
  size_t capacity = 0;
};

Spare& spare() {
  static thread_local Spare kept;
  return kept;
}

}  // namespace

ReusedBuffer::ReusedBuffer(int64_t floats) {
  const size_t wanted = static_cast<size_t>(floats);
  if (wanted == 0) return;
  Spare& kept = spare();
  if (kept.capacity >= wanted) {
    data_ = std::move(kept.data);
    capacity_ = kept.capacity;
    kept.capacity = 0;
    return;
  }
  data_.reset(new float[wanted]);
  capacity_ = wanted;
}

ReusedBuffer::~ReusedBuffer() {
  // A moved-from buffer holds nothing; of two candidates the larger is kept.
  Spare& kept = spare();
  if (data_ && capacity_ <= kKeptFloats && capacity_ > kept.capacity) {
    kept.data = std::move(data_);
    kept.capacity = capacity_;
  }
}

}  // namespace convnd
