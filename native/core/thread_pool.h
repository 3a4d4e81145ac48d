// The addon's own worker threads (not libuv's). One parallel loop runs at a time; a caller that
// arrives while another loop runs waits its turn. Workers run with denormals flushed to zero
// (FTZ/DAZ on x86); the calling thread takes part in the loop with the same setting, restored
// before it returns, so JavaScript's floating-point state never changes and every work item
// computes the same bits whichever thread runs it.
#pragma once
#include <atomic>
#include <condition_variable>
#include <exception>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace convnd {

class ThreadPool {
 public:
  static ThreadPool& instance();

  int threads() const { return threads_; }
  void setThreads(int n);  // clamped to [1, 256]

  // Runs body(item) for every item in [0, count), spread over the threads. Items must be
  // independent. Each participating thread calls body with its own worker index for
  // per-thread workspace: body(item, worker). An exception thrown by any item (say
  // std::bad_alloc) stops the loop and is rethrown here, on the calling thread.
  // `work` (multiply-adds or so, if known) below kInlineWork runs on the calling thread alone:
  // waking workers costs more than such a call computes.
  void parallelFor(int64_t count, const std::function<void(int64_t, int)>& body, int64_t work = -1);

  static constexpr int64_t kInlineWork = int64_t(1) << 19;

  ~ThreadPool();

 private:
  ThreadPool();
  void startWorkers(int n);
  void stopWorkers();
  void workerLoop(int index);
  void runItems(int worker);

  int threads_ = 1;
  std::vector<std::thread> workers_;
  std::mutex callMutex_;  // one parallelFor at a time
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(int64_t, int)>* body_ = nullptr;
  int64_t count_ = 0, next_ = 0;
  // Written under mutex_; atomic so that spinning threads can watch them without it.
  std::atomic<int> active_{0};
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stopping_{false};
  std::exception_ptr error_;
};

// Number of hardware threads, or CONVND_NUM_THREADS when set to a positive integer.
int defaultThreadCount();

}  // namespace convnd
