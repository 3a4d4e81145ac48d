#include "args.h"

#include <cmath>

namespace convnd {
namespace binding {

namespace {

int64_t integerAt(const Napi::Array& a, uint32_t i, const char* what) {
  Napi::Value v = a.Get(i);
  if (!v.IsNumber()) throw ArgError{true, std::string(what) + "[" + std::to_string(i) + "] must be a number"};
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9007199254740991.0)
    throw ArgError{false, std::string(what) + "[" + std::to_string(i) + "] must be a safe integer"};
  return static_cast<int64_t>(d);
}

Napi::Array descriptorArray(const Napi::CallbackInfo& info, size_t index, uint32_t length) {
  if (info.Length() <= index || !info[index].IsArray())
    throw ArgError{true, "descriptor must be an array of " + std::to_string(length) + " integers"};
  Napi::Array a = info[index].As<Napi::Array>();
  if (a.Length() != length)
    throw ArgError{false, "descriptor must hold " + std::to_string(length) + " integers"};
  return a;
}

}  // namespace

FloatArray floatArray(const Napi::CallbackInfo& info, size_t index, const char* name,
                      int64_t length, bool optional) {
  FloatArray out;
  Napi::Value v = info.Length() > index ? info[index] : info.Env().Undefined();
  out.value = v;
  if (optional && (v.IsNull() || v.IsUndefined())) return out;
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw ArgError{true, std::string(name) + " must be a Float32Array"};
  Napi::Float32Array a = v.As<Napi::Float32Array>();
  if (a.ArrayBuffer().IsDetached())
    throw ArgError{true, std::string(name) + " is backed by a detached ArrayBuffer"};
  if (static_cast<int64_t>(a.ElementLength()) != length)
    throw ArgError{false, std::string(name) + " must hold " + std::to_string(length) +
                              " elements but holds " + std::to_string(a.ElementLength())};
  out.data = a.Data();
  out.length = length;
  return out;
}

ConvDesc convDesc(const Napi::CallbackInfo& info, size_t index) {
  Napi::Array a = descriptorArray(info, index, 22);
  ConvDesc d;
  uint32_t i = 0;
  d.batch = integerAt(a, i++, "descriptor");
  d.inChannels = integerAt(a, i++, "descriptor");
  d.outChannels = integerAt(a, i++, "descriptor");
  d.groups = integerAt(a, i++, "descriptor");
  for (int64_t* field : {d.in, d.kernel, d.out, d.stride, d.dilation, d.padBefore})
    for (int ax = 0; ax < kAxes; ++ax) field[ax] = integerAt(a, i++, "descriptor");
  std::string problem = checkConvDesc(d);
  if (!problem.empty()) throw ArgError{false, "invalid convolution: " + problem};
  return d;
}

PoolDesc poolDesc(const Napi::CallbackInfo& info, size_t index) {
  Napi::Array a = descriptorArray(info, index, 24);
  PoolDesc d;
  uint32_t i = 0;
  const int64_t kind = integerAt(a, i++, "descriptor");
  if (kind < 0 || kind > 2) throw ArgError{false, "invalid pooling: unknown kind"};
  d.kind = static_cast<PoolKind>(kind);
  d.countIncludePad = integerAt(a, i++, "descriptor") != 0;
  d.planes = integerAt(a, i++, "descriptor");
  for (int64_t* field : {d.in, d.kernel, d.out, d.stride, d.dilation, d.padBefore, d.padAfter})
    for (int ax = 0; ax < kAxes; ++ax) field[ax] = integerAt(a, i++, "descriptor");
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
