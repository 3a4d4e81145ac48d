// Asynchronous calls, safe against everything JavaScript can do meanwhile.
//
// A job copies its inputs when it is submitted (on the JavaScript thread) and computes into
// memory it owns, so that nothing JavaScript does while it runs (mutating, detaching or
// transferring a buffer, a worker thread exiting) can make native code touch freed memory.
// Jobs from every thread and worker wait in one FIFO queue, served by one scheduler thread
// that runs each on the addon's pool; the result is delivered on the submitting thread
// through a thread-safe function: copied into the caller's `out` (if that is still attached)
// or handed over as a new ArrayBuffer without a copy.
#pragma once
#include <napi.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace convnd {
namespace binding {

struct AsyncJob {
  // Inputs copied at submission; the work reads them and writes `result`.
  std::vector<std::vector<float>> inputs;
  float* result = nullptr;  // malloc'd; ownership passes to JavaScript on success
  int64_t resultLength = 0;
  std::function<void(const std::vector<const float*>& inputs, float* result)> work;

  // JavaScript-side state, touched only on the submitting thread.
  const char* fn = "";
  napi_deferred deferred = nullptr;
  std::vector<napi_ref> watched;  // arrays that must not be detached before settling
  napi_ref out = nullptr;         // the caller's output array, or null

  // Set by the scheduler.
  std::atomic<bool> cancelled{false};
  bool started = false;
  std::string error;  // empty on success

  ~AsyncJob();
};

// Installs the per-environment state (call once from module init).
void initAsync(Napi::Env env);

// Queues `job` (prepared on the JavaScript thread) and returns [promise, jobId].
Napi::Value submit(Napi::Env env, AsyncJob* job, const std::vector<Napi::Value>& watched, Napi::Value out);

// cancelJob(id): cancels a job that has not started; returns whether it did.
Napi::Value cancelJob(const Napi::CallbackInfo& info);

}  // namespace binding
}  // namespace convnd
