#include "async_jobs.h"

#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <new>
#include <thread>
#include <unordered_map>

namespace convnd {
namespace binding {

namespace {

struct EnvState;
void completeOnJsThread(Napi::Env env, Napi::Function, EnvState* state, AsyncJob* job);
using Channel = Napi::TypedThreadSafeFunction<EnvState, AsyncJob, completeOnJsThread>;

// Whether an environment can still take completions. Node deletes a thread-safe function
// when its environment is torn down, so the scheduler calls into the channel only under this
// lock while `alive`; the channel's finalizer clears it first.
struct EnvLink {
  std::mutex mutex;
  bool alive = true;
};

// Per environment (main thread or worker): the channel results come back through, and how
// many jobs are in flight (the channel keeps the event loop alive only while some are).
// It lives as long as the channel: completions reach it as the channel's context, never
// through the environment's instance data, which a stopping worker may already have freed.
struct EnvState {
  Channel channel;
  std::shared_ptr<EnvLink> link = std::make_shared<EnvLink>();
  int64_t pending = 0;  // touched on the environment's own thread only
};

struct Queued {
  AsyncJob* job;
  Channel channel;
  std::shared_ptr<EnvLink> link;
};

// The one queue and its scheduler, shared by every environment of the process.
class Scheduler {
 public:
  static Scheduler& instance() {
    static Scheduler* s = new Scheduler();  // never destroyed: its thread lives until exit
    return *s;
  }

  uint64_t push(AsyncJob* job, Channel channel, std::shared_ptr<EnvLink> link) {
    std::lock_guard<std::mutex> lock(mutex_);
    const uint64_t id = ++lastId_;
    queue_.push_back({job, channel, std::move(link)});
    ids_[id] = job;
    jobIds_[job] = id;
    if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
    wake_.notify_one();
    return id;
  }

  bool cancel(uint64_t id) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = ids_.find(id);
    if (it == ids_.end() || it->second->started) return false;
    it->second->cancelled = true;
    return true;
  }

 private:
  void loop() {
    for (;;) {
      Queued q;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return !queue_.empty(); });
        q = queue_.front();
        queue_.pop_front();
        q.job->started = !q.job->cancelled;
      }
      run(*q.job);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        ids_.erase(jobIds_[q.job]);
        jobIds_.erase(q.job);
      }
      // If the environment is gone (or the call fails) the job owns nothing JavaScript
      // holds any more, and is freed here.
      bool delivered = false;
      {
        std::lock_guard<std::mutex> lock(q.link->mutex);
        delivered = q.link->alive && q.channel.NonBlockingCall(q.job) == napi_ok;
      }
      if (!delivered) {
        q.job->watched.clear();
        q.job->out = nullptr;
        delete q.job;
      }
    }
  }

  static void run(AsyncJob& job) {
    if (job.cancelled) return;
    try {
      job.result = static_cast<float*>(std::malloc(static_cast<size_t>(job.resultLength) * sizeof(float)));
      if (!job.result) throw std::bad_alloc();
      std::vector<const float*> inputs;
      for (const std::vector<float>& in : job.inputs) inputs.push_back(in.empty() ? nullptr : in.data());
      job.work(inputs, job.result);
    } catch (const std::bad_alloc&) {
      job.error = "out of memory";
    } catch (const std::exception& e) {
      job.error = e.what();
    }
    // The copies are not needed any more; free them before the result travels back.
    std::vector<std::vector<float>>().swap(job.inputs);
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Queued> queue_;
  std::unordered_map<uint64_t, AsyncJob*> ids_;
  std::unordered_map<AsyncJob*, uint64_t> jobIds_;
  uint64_t lastId_ = 0;
  std::thread thread_;
};

bool isDetached(Napi::Env env, napi_ref ref) {
  napi_value value;
  if (napi_get_reference_value(env, ref, &value) != napi_ok || value == nullptr) return true;
  Napi::TypedArray array(env, value);
  return array.ArrayBuffer().IsDetached();
}

void settle(Napi::Env env, AsyncJob* job) {
  const std::string prefix = std::string("convnd native ") + job->fn + ": ";
  if (job->cancelled) {
    Napi::Error e = Napi::Error::New(env, prefix + "aborted before it started");
    e.Set("name", Napi::String::New(env, "AbortError"));
    napi_reject_deferred(env, job->deferred, e.Value());
    return;
  }
  if (!job->error.empty()) {
    napi_reject_deferred(env, job->deferred, Napi::RangeError::New(env, prefix + job->error).Value());
    return;
  }
  for (napi_ref ref : job->watched)
    if (isDetached(env, ref)) {
      napi_reject_deferred(env, job->deferred,
                           Napi::TypeError::New(env, prefix + "an argument's ArrayBuffer was detached before the call settled").Value());
      return;
    }
  if (job->out) {
    napi_value value;
    if (napi_get_reference_value(env, job->out, &value) != napi_ok || value == nullptr) return;
    Napi::Float32Array out(env, value);
    std::memcpy(out.Data(), job->result, static_cast<size_t>(job->resultLength) * sizeof(float));
    napi_resolve_deferred(env, job->deferred, value);
    return;
  }
  // Hand the result over without a copy; JavaScript frees it with the ArrayBuffer. Every
  // step is checked: a stopping environment (a worker exiting) refuses them, and the job is
  // then dropped rather than written through a pointer that was never set.
  const size_t bytes = static_cast<size_t>(job->resultLength) * sizeof(float);
  napi_value buffer = nullptr;
  if (napi_create_external_arraybuffer(env, job->result, bytes, [](napi_env, void* data, void*) { std::free(data); },
                                       nullptr, &buffer) == napi_ok) {
    job->result = nullptr;
  } else {
    // Runtimes that forbid external buffers: copy instead.
    void* data = nullptr;
    if (napi_create_arraybuffer(env, bytes, &data, &buffer) != napi_ok || data == nullptr) return;
    std::memcpy(data, job->result, bytes);
  }
  napi_value array;
  if (napi_create_typedarray(env, napi_float32_array, static_cast<size_t>(job->resultLength), buffer, 0, &array) != napi_ok)
    return;
  napi_resolve_deferred(env, job->deferred, array);
}

void completeOnJsThread(Napi::Env env, Napi::Function, EnvState* state, AsyncJob* job) {
  if (env == nullptr) {  // the environment is being torn down: nothing JavaScript may be touched
    job->watched.clear();
    job->out = nullptr;
    delete job;
    return;
  }
  // A stopping environment (worker.terminate(), process.exit() in a worker) can refuse any
  // call into JavaScript; the job is then dropped, never thrown through the event loop.
  try {
    Napi::HandleScope scope(env);
    settle(env, job);
    for (napi_ref ref : job->watched) napi_delete_reference(env, ref);
    if (--state->pending == 0) state->channel.Unref(env);
  } catch (...) {
  }
  job->watched.clear();
  job->out = nullptr;  // it was one of the watched references
  delete job;
}

void keepState(Napi::Env, EnvState*) {}

}  // namespace

AsyncJob::~AsyncJob() { std::free(result); }

void initAsync(Napi::Env env) {
  EnvState* state = new EnvState();
  // The channel owns the state: it is deleted once the channel has delivered (or dropped)
  // its last completion, during the environment's teardown.
  state->channel = Channel::New(env, "convnd", 0, 1, state, [](Napi::Env, void*, EnvState* s) {
    {
      std::lock_guard<std::mutex> lock(s->link->mutex);
      s->link->alive = false;
    }
    delete s;
  });
  state->channel.Unref(env);  // an idle addon must not keep the process alive
  // Instance data only finds the state for submissions; it must not delete it.
  env.SetInstanceData<EnvState, keepState>(state);
}

Napi::Value submit(Napi::Env env, AsyncJob* job, const std::vector<Napi::Value>& watched, Napi::Value out) {
  EnvState* state = env.GetInstanceData<EnvState>();
  napi_value promise;
  if (napi_create_promise(env, &job->deferred, &promise) != napi_ok) {
    delete job;
    throw Napi::Error::New(env, "convnd native: cannot create a promise");
  }
  auto watch = [&](Napi::Value v) {
    napi_ref ref;
    napi_create_reference(env, v, 1, &ref);
    job->watched.push_back(ref);
    return ref;
  };
  for (const Napi::Value& v : watched)
    if (v.IsObject()) watch(v);
  if (out.IsObject()) job->out = watch(out);
  if (state->pending++ == 0) state->channel.Ref(env);
  const uint64_t id = Scheduler::instance().push(job, state->channel, state->link);
  Napi::Array result = Napi::Array::New(env, 2);
  result.Set(0u, promise);
  result.Set(1u, Napi::Number::New(env, static_cast<double>(id)));
  return result;
}

Napi::Value cancelJob(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) return Napi::Boolean::New(env, false);
  return Napi::Boolean::New(env, Scheduler::instance().cancel(static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value())));
}

}  // namespace binding
}  // namespace convnd
