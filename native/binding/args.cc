#include "args.h"

#include <cmath>

namespace convnd {
namespace binding {

namespace {

// What one engine call tells of a typed array (node-addon-api's wrappers make one call per
// property asked for).
struct TypedArrayInfo {
  bool valid = false;  // false when the value is no typed array
  napi_typedarray_type type = napi_int8_array;
  size_t length = 0;
  void* data = nullptr;
  napi_value buffer = nullptr;
};

TypedArrayInfo typedArrayInfo(const Napi::Value& v) {
  TypedArrayInfo info;
  bool isTyped = false;
  size_t offset = 0;
  info.valid = napi_is_typedarray(v.Env(), v, &isTyped) == napi_ok && isTyped &&
               napi_get_typedarray_info(v.Env(), v, &info.type, &info.length, &info.data, &info.buffer, &offset) == napi_ok;
  return info;
}

// The descriptor: a Float64Array of `length` integers. A typed array is read in one call,
// where a plain array would cost one engine call per element (microseconds a call).
const double* descriptorValues(const Napi::CallbackInfo& info, size_t index, size_t length) {
  const TypedArrayInfo a = typedArrayInfo(info.Length() > index ? info[index] : info.Env().Undefined());
  if (!a.valid || a.type != napi_float64_array)
    throw ArgError{true, "descriptor must be a Float64Array of " + std::to_string(length) + " integers"};
  if (a.length != length) throw ArgError{false, "descriptor must hold " + std::to_string(length) + " integers"};
  return static_cast<const double*>(a.data);
}

int64_t integerAt(const double* values, size_t i) {
  const double d = values[i];
  if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9007199254740991.0)
    throw ArgError{false, "descriptor[" + std::to_string(i) + "] must be a safe integer"};
  return static_cast<int64_t>(d);
}

}  // namespace

FloatArray floatArray(const Napi::CallbackInfo& info, size_t index, const char* name,
                      int64_t length, bool optional) {
  FloatArray out;
  Napi::Value v = info.Length() > index ? info[index] : info.Env().Undefined();
  out.value = v;
  if (optional && (v.IsNull() || v.IsUndefined())) return out;
  const TypedArrayInfo a = typedArrayInfo(v);
  if (!a.valid || a.type != napi_float32_array)
    throw ArgError{true, std::string(name) + " must be a Float32Array"};
  if (static_cast<int64_t>(a.length) != length) {
    // A detached buffer reads as length 0; say so rather than report a length mismatch.
    if (Napi::ArrayBuffer(info.Env(), a.buffer).IsDetached())
      throw ArgError{true, std::string(name) + " is backed by a detached ArrayBuffer"};
    throw ArgError{false, std::string(name) + " must hold " + std::to_string(length) +
                              " elements but holds " + std::to_string(a.length)};
  }
  out.data = static_cast<float*>(a.data);
  out.length = length;
  return out;
}

ConvDesc convDesc(const Napi::CallbackInfo& info, size_t index) {
  const double* a = descriptorValues(info, index, 22);
  ConvDesc d;
  size_t i = 0;
  d.batch = integerAt(a, i++);
  d.inChannels = integerAt(a, i++);
  d.outChannels = integerAt(a, i++);
  d.groups = integerAt(a, i++);
  for (int64_t* field : {d.in, d.kernel, d.out, d.stride, d.dilation, d.padBefore})
    for (int ax = 0; ax < kAxes; ++ax) field[ax] = integerAt(a, i++);
  std::string problem = checkConvDesc(d);
  if (!problem.empty()) throw ArgError{false, "invalid convolution: " + problem};
  return d;
}

PoolDesc poolDesc(const Napi::CallbackInfo& info, size_t index) {
  const double* a = descriptorValues(info, index, 24);
  PoolDesc d;
  size_t i = 0;
  const int64_t kind = integerAt(a, i++);
  if (kind < 0 || kind > 2) throw ArgError{false, "invalid pooling: unknown kind"};
  d.kind = static_cast<PoolKind>(kind);
  d.countIncludePad = integerAt(a, i++) != 0;
  d.planes = integerAt(a, i++);
  for (int64_t* field : {d.in, d.kernel, d.out, d.stride, d.dilation, d.padBefore, d.padAfter})
    for (int ax = 0; ax < kAxes; ++ax) field[ax] = integerAt(a, i++);
  std::string problem = checkPoolDesc(d);
  if (!problem.empty()) throw ArgError{false, "invalid pooling: " + problem};
  return d;
}

void checkNoOverlap(const FloatArray& out, const char* outName, const FloatArray& in, const char* inName) {
  if (!out.data || !in.data) return;
  const uintptr_t a0 = reinterpret_cast<uintptr_t>(out.data), a1 = a0 + out.length * sizeof(float);
  const uintptr_t b0 = reinterpret_cast<uintptr_t>(in.data), b1 = b0 + in.length * sizeof(float);
  if (a0 < b1 && b0 < a1)
    throw ArgError{false, std::string(outName) + " must not share memory with " + inName};
}

}  // namespace binding
}  // namespace convnd
