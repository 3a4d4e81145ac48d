// Node-API glue: unwrap the arguments, keep them referenced while work runs, and turn C++
// errors into JavaScript exceptions. No arithmetic lives here.
//
// Every operation comes in a sync form, fn(...args), and an async form, fnAsync(...args)
// returning a Promise that settles on the JavaScript thread after the work ran off it.
#include <napi.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <new>
#include <string>
#include <vector>
#include "../core/isa_dispatch.h"
#include "../core/ops.h"
#include "../core/thread_pool.h"
#include "args.h"

namespace convnd {
namespace binding {

namespace {

// What an operation needs once its arguments are read: the work and the values to keep alive.
struct Job {
  std::function<void()> run;
  std::vector<Napi::Value> keepAlive;
};

using Prepare = Job (*)(const Napi::CallbackInfo&);

Napi::Error toJsError(Napi::Env env, const char* fn, const ArgError& e) {
  std::string message = std::string("convnd native ") + fn + ": " + e.message;
  if (e.isType) return Napi::TypeError::New(env, message);
  return Napi::RangeError::New(env, message);
}

class JobWorker : public Napi::AsyncWorker {
 public:
  JobWorker(Napi::Env env, Job job, const char* fn)
      : Napi::AsyncWorker(env, fn), deferred_(Napi::Promise::Deferred::New(env)), fn_(fn),
        run_(std::move(job.run)) {
    for (Napi::Value& v : job.keepAlive)
      if (v.IsObject()) refs_.push_back(Napi::Persistent(v.As<Napi::Object>()));
  }
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      run_();
    } catch (const std::bad_alloc&) {
      SetError("out of memory");
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& e) override {
    deferred_.Reject(Napi::RangeError::New(Env(), std::string("convnd native ") + fn_ + ": " + e.Message()).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  const char* fn_;
  std::function<void()> run_;
  std::vector<Napi::ObjectReference> refs_;
};

template <Prepare prepare>
Napi::Value runSync(const Napi::CallbackInfo& info, const char* fn) {
  Napi::Env env = info.Env();
  try {
    Job job = prepare(info);
    job.run();
  } catch (const ArgError& e) {
    toJsError(env, fn, e).ThrowAsJavaScriptException();
  } catch (const std::bad_alloc&) {
    Napi::RangeError::New(env, std::string("convnd native ") + fn + ": out of memory").ThrowAsJavaScriptException();
  }
  return env.Undefined();
}

template <Prepare prepare>
Napi::Value runAsync(const Napi::CallbackInfo& info, const char* fn) {
  Napi::Env env = info.Env();
  try {
    JobWorker* worker = new JobWorker(env, prepare(info), fn);
    Napi::Promise promise = worker->promise();
    worker->Queue();
    return promise;
  } catch (const ArgError& e) {
    Napi::Promise::Deferred d = Napi::Promise::Deferred::New(env);
    d.Reject(toJsError(env, fn, e).Value());
    return d.Promise();
  }
}

// convForward(x, w, bias | null, y, desc)
Job prepareConvForward(const Napi::CallbackInfo& info) {
  const ConvDesc d = convDesc(info, 4);
  FloatArray x = floatArray(info, 0, "x", d.xLength());
  FloatArray w = floatArray(info, 1, "w", d.wLength());
  FloatArray b = floatArray(info, 2, "bias", d.outChannels, true);
  FloatArray y = floatArray(info, 3, "y", d.yLength());
  checkNoOverlap(y, "y", x, "x");
  checkNoOverlap(y, "y", w, "w");
  checkNoOverlap(y, "y", b, "bias");
  const KernelTable* k = &activeKernels();
  return {[=] { convForward(*k, d, x.data, w.data, b.data, y.data); }, {x.value, w.value, b.value, y.value}};
}

// convBackwardData(dy, w, bias | null, dx, desc): also the transposed convolution.
Job prepareConvBackwardData(const Napi::CallbackInfo& info) {
  const ConvDesc d = convDesc(info, 4);
  FloatArray dy = floatArray(info, 0, "dy", d.yLength());
  FloatArray w = floatArray(info, 1, "w", d.wLength());
  FloatArray b = floatArray(info, 2, "bias", d.inChannels, true);
  FloatArray dx = floatArray(info, 3, "dx", d.xLength());
  checkNoOverlap(dx, "dx", dy, "dy");
  checkNoOverlap(dx, "dx", w, "w");
  checkNoOverlap(dx, "dx", b, "bias");
  const KernelTable* k = &activeKernels();
  return {[=] { convBackwardData(*k, d, dy.data, w.data, b.data, dx.data); }, {dy.value, w.value, b.value, dx.value}};
}

// convBackwardWeight(dy, x, dw, desc)
Job prepareConvBackwardWeight(const Napi::CallbackInfo& info) {
  const ConvDesc d = convDesc(info, 3);
  FloatArray dy = floatArray(info, 0, "dy", d.yLength());
  FloatArray x = floatArray(info, 1, "x", d.xLength());
  FloatArray dw = floatArray(info, 2, "dw", d.wLength());
  checkNoOverlap(dw, "dw", dy, "dy");
  checkNoOverlap(dw, "dw", x, "x");
  const KernelTable* k = &activeKernels();
  return {[=] { convBackwardWeight(*k, d, dy.data, x.data, dw.data); }, {dy.value, x.value, dw.value}};
}

// convBackwardBias(dy, db, desc)
Job prepareConvBackwardBias(const Napi::CallbackInfo& info) {
  const ConvDesc d = convDesc(info, 2);
  FloatArray dy = floatArray(info, 0, "dy", d.yLength());
  FloatArray db = floatArray(info, 1, "db", d.outChannels);
  checkNoOverlap(db, "db", dy, "dy");
  return {[=] { convBackwardBias(d, dy.data, db.data); }, {dy.value, db.value}};
}

// poolForward(x, y, desc)
Job preparePoolForward(const Napi::CallbackInfo& info) {
  const PoolDesc d = poolDesc(info, 2);
  FloatArray x = floatArray(info, 0, "x", d.xLength());
  FloatArray y = floatArray(info, 1, "y", d.yLength());
  checkNoOverlap(y, "y", x, "x");
  const KernelTable* k = &activeKernels();
  return {[=] { poolForward(*k, d, x.data, y.data); }, {x.value, y.value}};
}

// poolBackward(dy, x, dx, desc)
Job preparePoolBackward(const Napi::CallbackInfo& info) {
  const PoolDesc d = poolDesc(info, 3);
  FloatArray dy = floatArray(info, 0, "dy", d.yLength());
  FloatArray x = floatArray(info, 1, "x", d.xLength());
  FloatArray dx = floatArray(info, 2, "dx", d.xLength());
  checkNoOverlap(dx, "dx", dy, "dy");
  checkNoOverlap(dx, "dx", x, "x");
  const KernelTable* k = &activeKernels();
  return {[=] { poolBackward(*k, d, dy.data, x.data, dx.data); }, {dy.value, x.value, dx.value}};
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
              }, name "Async"))

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
  return exports;
}

}  // namespace

}  // namespace binding
}  // namespace convnd

static Napi::Object initConvnd(Napi::Env env, Napi::Object exports) {
  return convnd::binding::init(env, exports);
}

NODE_API_MODULE(convnd, initConvnd)
