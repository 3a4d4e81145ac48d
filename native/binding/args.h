// Unwrapping and checking of JavaScript arguments. The native layer re-checks everything the
// TypeScript layer already validated: a wrong call from JavaScript must throw, never crash.
#pragma once
#include <napi.h>
#include <cstdint>
#include <string>
#include "../core/descriptors.h"

namespace convnd {
namespace binding {

// Thrown while reading arguments; turned into a JavaScript TypeError or RangeError.
struct ArgError {
  bool isType;
  std::string message;
};

// A Float32Array argument: its data and length, plus a reference that keeps it alive.
struct FloatArray {
  float* data = nullptr;
  int64_t length = 0;
  Napi::Value value;
};

// Reads argument `index` as a Float32Array of exactly `length` elements (or null when
// `optional` and the argument is null/undefined: data stays nullptr).
FloatArray floatArray(const Napi::CallbackInfo& info, size_t index, const char* name,
                      int64_t length, bool optional = false);

ConvDesc convDesc(const Napi::CallbackInfo& info, size_t index);
PoolDesc poolDesc(const Napi::CallbackInfo& info, size_t index);

// Outputs must not share memory with inputs: the kernels read inputs while writing outputs.
void checkNoOverlap(const FloatArray& out, const char* outName, const FloatArray& in, const char* inName);

}  // namespace binding
}  // namespace convnd
