// Node-API glue: unwrap the arguments, keep them referenced while work runs, and turn C++
// errors into JavaScript exceptions. No arithmetic lives here.
//
// Every operation comes in a sync form, fn(...args, out, desc), and an async form,
// fnAsync(...args, out | null, desc) returning [promise, jobId]: the promise settles on the
// JavaScript thread with the output array after the work ran on the addon's threads.
#include <napi.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <new>
#include <string>
#include <vector>
#include "../core/isa_dispatch.h"
#include "../core/ops.h"
#include "../core/reference.h"
#include "../core/thread_pool.h"
#include "args.h"
#include "async_jobs.h"

namespace convnd {
namespace binding {

namespace {

// An operation once its arguments are read: its inputs (a null bias has no data), its
// output, and the work. Sync calls run the work on the caller's arrays; async calls run it
// on private copies (async_jobs.h).
struct OpCall {
  std::vector<FloatArray> inputs;
  FloatArray out;
  int64_t outLength = 0;
  std::function<void(const std::vector<const float*>& inputs, float* out)> work;
  // The same operation by the double-precision reference loops (for property tests).
  std::function<void(const std::vector<const float*>& inputs, float* out)> reference;
};

// Reads the arguments; `async` makes the output optional (null: a new array is returned).
using Prepare = OpCall (*)(const Napi::CallbackInfo&, bool async);

Napi::Error toJsError(Napi::Env env, const char* fn, const ArgError& e) {
  std::string message = std::string("convnd native ") + fn + ": " + e.message;
  if (e.isType) return Napi::TypeError::New(env, message);
  return Napi::RangeError::New(env, message);
}

std::vector<const float*> dataOf(const std::vector<FloatArray>& arrays) {
  std::vector<const float*> data;
  for (const FloatArray& a : arrays) data.push_back(a.data);
  return data;
}

void checkOutputApart(const OpCall& call, const char* outName, const std::vector<const char*>& inNames) {
  for (size_t i = 0; i < call.inputs.size(); ++i) checkNoOverlap(call.out, outName, call.inputs[i], inNames[i]);
}

// fn(...) runs the kernels; fnReference(...) (same arguments) the reference loops, for tests.
template <Prepare prepare, bool reference = false>
Napi::Value runSync(const Napi::CallbackInfo& info, const char* fn) {
  Napi::Env env = info.Env();
  try {
    OpCall call = prepare(info, false);
    (reference ? call.reference : call.work)(dataOf(call.inputs), call.out.data);
  } catch (const ArgError& e) {
    toJsError(env, fn, e).ThrowAsJavaScriptException();
  } catch (const std::bad_alloc&) {
    Napi::RangeError::New(env, std::string("convnd native ") + fn + ": out of memory").ThrowAsJavaScriptException();
  }
  return env.Undefined();
}

// Returns [promise, jobId]; the promise resolves to the output Float32Array.
template <Prepare prepare>
Napi::Value runAsync(const Napi::CallbackInfo& info, const char* fn) {
  Napi::Env env = info.Env();
  try {
    OpCall call = prepare(info, true);
    AsyncJob* job = new AsyncJob();
    job->fn = fn;
    job->resultLength = call.outLength;
    job->work = std::move(call.work);
    std::vector<Napi::Value> watched;
    for (const FloatArray& in : call.inputs) {
      // A null input (no bias) stays an empty copy, passed to the work as null.
      job->inputs.emplace_back(in.data, in.data ? in.data + in.length : in.data);
      watched.push_back(in.value);
    }
    return submit(env, job, watched, call.out.data ? call.out.value : env.Null());
  } catch (const ArgError& e) {
    napi_deferred deferred;
    napi_value promise;
    napi_create_promise(env, &deferred, &promise);
    napi_reject_deferred(env, deferred, toJsError(env, fn, e).Value());
    Napi::Array result = Napi::Array::New(env, 2);
    result.Set(0u, promise);
    result.Set(1u, Napi::Number::New(env, 0));
    return result;
  } catch (const std::bad_alloc&) {
    throw Napi::RangeError::New(env, std::string("convnd native ") + fn + ": out of memory");
  }
}

// convForward(x, w, bias | null, y, desc)
OpCall prepareConvForward(const Napi::CallbackInfo& info, bool async) {
  const ConvDesc d = convDesc(info, 4);
  OpCall call;
  call.inputs = {floatArray(info, 0, "x", d.xLength()), floatArray(info, 1, "w", d.wLength()),
                 floatArray(info, 2, "bias", d.outChannels, true)};
  call.out = floatArray(info, 3, "y", d.yLength(), async);
  call.outLength = d.yLength();
  checkOutputApart(call, "y", {"x", "w", "bias"});
  const KernelTable* k = &activeKernels();
  call.work = [=](const std::vector<const float*>& in, float* y) { convForward(*k, d, in[0], in[1], in[2], y); };
  call.reference = [=](const std::vector<const float*>& in, float* y) { reference::convForward(d, in[0], in[1], in[2], y); };
  return call;
}

// convBackwardData(dy, w, bias | null, dx, desc): also the transposed convolution.
OpCall prepareConvBackwardData(const Napi::CallbackInfo& info, bool async) {
  const ConvDesc d = convDesc(info, 4);
  OpCall call;
  call.inputs = {floatArray(info, 0, "dy", d.yLength()), floatArray(info, 1, "w", d.wLength()),
                 floatArray(info, 2, "bias", d.inChannels, true)};
  call.out = floatArray(info, 3, "dx", d.xLength(), async);
  call.outLength = d.xLength();
  checkOutputApart(call, "dx", {"dy", "w", "bias"});
  const KernelTable* k = &activeKernels();
  call.work = [=](const std::vector<const float*>& in, float* dx) { convBackwardData(*k, d, in[0], in[1], in[2], dx); };
  call.reference = [=](const std::vector<const float*>& in, float* dx) { reference::convBackwardData(d, in[0], in[1], in[2], dx); };
  return call;
}

// convBackwardWeight(dy, x, dw, desc)
OpCall prepareConvBackwardWeight(const Napi::CallbackInfo& info, bool async) {
  const ConvDesc d = convDesc(info, 3);
  OpCall call;
  call.inputs = {floatArray(info, 0, "dy", d.yLength()), floatArray(info, 1, "x", d.xLength())};
  call.out = floatArray(info, 2, "dw", d.wLength(), async);
  call.outLength = d.wLength();
  checkOutputApart(call, "dw", {"dy", "x"});
  const KernelTable* k = &activeKernels();
  call.work = [=](const std::vector<const float*>& in, float* dw) { convBackwardWeight(*k, d, in[0], in[1], dw); };
  call.reference = [=](const std::vector<const float*>& in, float* dw) { reference::convBackwardWeight(d, in[0], in[1], dw); };
  return call;
}

// convBackwardBias(dy, db, desc)
OpCall prepareConvBackwardBias(const Napi::CallbackInfo& info, bool async) {
  const ConvDesc d = convDesc(info, 2);
  OpCall call;
  call.inputs = {floatArray(info, 0, "dy", d.yLength())};
  call.out = floatArray(info, 1, "db", d.outChannels, async);
  call.outLength = d.outChannels;
  checkOutputApart(call, "db", {"dy"});
  call.work = [=](const std::vector<const float*>& in, float* db) { convBackwardBias(d, in[0], db); };
  call.reference = [=](const std::vector<const float*>& in, float* db) { convBackwardBias(d, in[0], db); };
  return call;
}

// poolForward(x, y, desc)
OpCall preparePoolForward(const Napi::CallbackInfo& info, bool async) {
  const PoolDesc d = poolDesc(info, 2);
  OpCall call;
  call.inputs = {floatArray(info, 0, "x", d.xLength())};
  call.out = floatArray(info, 1, "y", d.yLength(), async);
  call.outLength = d.yLength();
  checkOutputApart(call, "y", {"x"});
  const KernelTable* k = &activeKernels();
  call.work = [=](const std::vector<const float*>& in, float* y) { poolForward(*k, d, in[0], y); };
  call.reference = [=](const std::vector<const float*>& in, float* y) { reference::poolForward(d, in[0], y); };
  return call;
}

// poolBackward(dy, x, dx, desc)
OpCall preparePoolBackward(const Napi::CallbackInfo& info, bool async) {
  const PoolDesc d = poolDesc(info, 3);
  OpCall call;
  call.inputs = {floatArray(info, 0, "dy", d.yLength()), floatArray(info, 1, "x", d.xLength())};
  call.out = floatArray(info, 2, "dx", d.xLength(), async);
  call.outLength = d.xLength();
  checkOutputApart(call, "dx", {"dy", "x"});
  const KernelTable* k = &activeKernels();
  call.work = [=](const std::vector<const float*>& in, float* dx) { poolBackward(*k, d, in[0], in[1], dx); };
  call.reference = [=](const std::vector<const float*>& in, float* dx) { reference::poolBackward(d, in[0], in[1], dx); };
  return call;
}

Napi::Value backendInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("isa", activeKernels().isa);
  o.Set("threads", ThreadPool::instance().threads());
  Napi::Array supported = Napi::Array::New(env);
  uint32_t i = 0;
  for (const KernelTable* t : supportedKernelSets()) supported.Set(i++, t->isa);
  o.Set("supported", supported);
  return o;
}

// peakGflops(threads, milliseconds): the FMA rate of the active kernel set, run on `threads`
// threads of the pool for about `milliseconds`: the yardstick for "% of peak" in benchmarks.
Napi::Value peakGflops(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const KernelTable& k = activeKernels();
  const int threads = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 1;
  const double ms = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().DoubleValue() : 200.0;
  if (threads < 1 || threads > 256 || !(ms > 0 && ms <= 10000)) {
    Napi::RangeError::New(env, "convnd native peakGflops: threads must be 1-256 and milliseconds 0-10000").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  ThreadPool& pool = ThreadPool::instance();
  const int saved = pool.threads();
  pool.setThreads(threads);
  // Calibrate on one thread, then time `threads` copies of the loop.
  int64_t iterations = 1 << 16;
  volatile float sink = 0.0f;
  for (;;) {
    auto t0 = std::chrono::steady_clock::now();
    sink = sink + k.fmaPeakLoop(iterations);
    double elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (elapsed > ms / 4 || iterations > (int64_t(1) << 40)) {
      iterations = static_cast<int64_t>(iterations * ms / std::max(elapsed, 1e-3));
      break;
    }
    iterations *= 4;
  }
  auto t0 = std::chrono::steady_clock::now();
  pool.parallelFor(threads, [&](int64_t, int) { sink = sink + k.fmaPeakLoop(iterations); });
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  pool.setThreads(saved);
  return Napi::Number::New(env, double(iterations) * k.fmaFlopsPerIteration * threads / seconds / 1e9);
}

Napi::Value setNumThreads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "convnd native setNumThreads: n must be a number").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  double n = info[0].As<Napi::Number>().DoubleValue();
  if (!(n >= 1 && n <= 256) || n != static_cast<int>(n)) {
    Napi::RangeError::New(env, "convnd native setNumThreads: n must be an integer from 1 to 256").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  ThreadPool::instance().setThreads(static_cast<int>(n));
  return env.Undefined();
}

#define CONVND_EXPORT(name, prepare)                                                          \
  exports.Set(name, Napi::Function::New(env, [](const Napi::CallbackInfo& info) {            \
                return runSync<prepare>(info, name);                                         \
              }, name));                                                                      \
  exports.Set(name "Async", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {    \
                return runAsync<prepare>(info, name);                                        \
              }, name "Async"));                                                              \
  exports.Set(name "Reference", Napi::Function::New(env, [](const Napi::CallbackInfo& info) { \
                return runSync<prepare, true>(info, name);                                    \
              }, name "Reference"))

Napi::Object init(Napi::Env env, Napi::Object exports) {
  CONVND_EXPORT("convForward", prepareConvForward);
  CONVND_EXPORT("convBackwardData", prepareConvBackwardData);
  CONVND_EXPORT("convBackwardWeight", prepareConvBackwardWeight);
  CONVND_EXPORT("convBackwardBias", prepareConvBackwardBias);
  CONVND_EXPORT("poolForward", preparePoolForward);
  CONVND_EXPORT("poolBackward", preparePoolBackward);
  exports.Set("backendInfo", Napi::Function::New(env, backendInfo, "backendInfo"));
  exports.Set("setNumThreads", Napi::Function::New(env, setNumThreads, "setNumThreads"));
  exports.Set("peakGflops", Napi::Function::New(env, peakGflops, "peakGflops"));
  exports.Set("cancelJob", Napi::Function::New(env, cancelJob, "cancelJob"));
  initAsync(env);
  return exports;
}

}  // namespace

}  // namespace binding
}  // namespace convnd

static Napi::Object initConvnd(Napi::Env env, Napi::Object exports) {
  return convnd::binding::init(env, exports);
}

NODE_API_MODULE(convnd, initConvnd)
