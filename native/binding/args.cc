#include "args.h"

#include <cmath>

namespace convnd {
namespace binding {

namespace {

// One engine call for everything about a typed array (node-addon-api's wrappers make one per
// property asked for): its element type, length and data. False when `v` is no typed array.
bool typedArrayInfo(const Napi::Value& v, napi_typedarray_type& type, size_t& length, void*& data,
                    napi_value& buffer) {
  bool isTyped = false;
  if (napi_is_typedarray(v.Env(), v, &isTyped) != napi_ok || !isTyped) return false;
  size_t offset = 0;
  return napi_get_typedarray_info(v.Env(), v, &type, &length, &data, &buffer, &offset) == napi_ok;
}

// The descriptor: a Float64Array of `length` integers. A typed array is read in one call,
// where a plain array would cost one engine call per element (microseconds a call).
const double* descriptorValues(const Napi::CallbackInfo& info, size_t index, size_t length) {
  Napi::Value v = info.Length() > index ? info[index] : info.Env().Undefined();
  napi_typedarray_type type;
  size_t elements = 0;
  void* data = nullptr;
  napi_value buffer = nullptr;
  if (!typedArrayInfo(v, type, elements, data, buffer) || type != napi_float64_array)
    throw ArgError{true, "descriptor must be a Float64Array of " + std::to_string(length) + " integers"};
  if (elements != length) throw ArgError{false, "descriptor must hold " + std::to_string(length) + " integers"};
  return static_cast<const double*>(data);
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
  napi_typedarray_type type;
  size_t elements = 0;
  void* data = nullptr;
  napi_value buffer = nullptr;
  if (!typedArrayInfo(v, type, elements, data, buffer) || type != napi_float32_array)
    throw ArgError{true, std::string(name) + " must be a Float32Array"};
  if (static_cast<int64_t>(elements) != length) {
    // A detached buffer reads as length 0; say so rather than report a length mismatch.
    if (Napi::ArrayBuffer(info.Env(), buffer).IsDetached())
      throw ArgError{true, std::string(name) + " is backed by a detached ArrayBuffer"};
    throw ArgError{false, std::string(name) + " must hold " + std::to_string(length) +
                              " elements but holds " + std::to_string(elements)};
  }
  out.data = static_cast<float*>(data);
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
