#include "reused_buffer.h"

#include <utility>

namespace convnd {

namespace {

// Two kept buffers: a merged data gradient holds its phased output while each GEMM packs weights.
constexpr int kKeptBuffers = 2;

struct Spare {
  AlignedFloats data;
  size_t capacity = 0;
};

Spare* spares() {
  static thread_local Spare kept[kKeptBuffers];
  return kept;
}

}  // namespace

ReusedBuffer::ReusedBuffer(int64_t floats) {
  const size_t wanted = static_cast<size_t>(floats);
  if (wanted == 0) return;
  // The smallest kept buffer that is large enough.
  Spare* const kept = spares();  // one thread-local lookup
  Spare* best = nullptr;
  for (Spare* s = kept; s < kept + kKeptBuffers; ++s)
    if (s->capacity >= wanted && (!best || s->capacity < best->capacity)) best = s;
  if (best) {
    data_ = std::move(best->data);
    capacity_ = best->capacity;
    best->capacity = 0;
    return;
  }
  data_ = allocateAligned(wanted);
  capacity_ = wanted;
}

ReusedBuffer::~ReusedBuffer() {
  // A moved-from buffer holds nothing. It takes an empty slot, or the smallest kept one's if larger.
  if (!data_ || capacity_ > static_cast<size_t>(kKeptFloats)) return;
  Spare* const kept = spares();
  Spare* smallest = kept;
  for (Spare* s = kept; s < kept + kKeptBuffers; ++s)
    if (s->capacity < smallest->capacity) smallest = s;
  if (capacity_ > smallest->capacity) {
    smallest->data = std::move(data_);
    smallest->capacity = capacity_;
  }
}

}  // namespace convnd
