#include "thread_pool.h"

#include <chrono>
#include <cstdlib>
#if defined(__x86_64__) || defined(_M_X64)
#include <xmmintrin.h>
#endif

namespace convnd {

namespace {

// MXCSR bits: flush-to-zero (15) and denormals-are-zero (6).
class FlushDenormals {
 public:
  FlushDenormals() {
#if defined(__x86_64__) || defined(_M_X64)
    saved_ = _mm_getcsr();
    _mm_setcsr(saved_ | 0x8040);
#endif
  }
  ~FlushDenormals() {
#if defined(__x86_64__) || defined(_M_X64)
    _mm_setcsr(saved_);
#endif
  }

 private:
  unsigned saved_ = 0;
};

// A hint to the core that this thread is spin-waiting (frees its pipeline for a sibling).
inline void cpuRelax() {
#if defined(__x86_64__) || defined(_M_X64)
  _mm_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

// How long a thread with nothing to do spins before it sleeps. Waking a sleeping thread costs
// tens of microseconds on a virtual machine (and more when the host has parked its CPU), which
// back-to-back calls would pay twice each: once to wake the workers, once to wake the caller
// when they finish.
constexpr int kSpinMicros = 200;

// Spins until `ready` holds or kSpinMicros pass.
template <class Ready>
void spinFor(Ready ready) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(kSpinMicros);
  for (int i = 1; !ready(); ++i) {
    cpuRelax();
    if (i % 64 == 0 && std::chrono::steady_clock::now() > deadline) return;
  }
}

}  // namespace

int defaultThreadCount() {
  if (const char* env = std::getenv("CONVND_NUM_THREADS")) {
    char* end = nullptr;
    long n = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && n >= 1 && n <= 256) return static_cast<int>(n);
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw > 256 ? 256 : hw);
}

ThreadPool& ThreadPool::instance() {
  // Never destroyed: worker threads must not be joined from a static destructor at exit.
  static ThreadPool* pool = new ThreadPool();
  return *pool;
}

ThreadPool::ThreadPool() { setThreads(defaultThreadCount()); }

ThreadPool::~ThreadPool() { stopWorkers(); }

void ThreadPool::setThreads(int n) {
  if (n < 1) n = 1;
  if (n > 256) n = 256;
  std::lock_guard<std::mutex> call(callMutex_);
  if (n == threads_ && static_cast<int>(workers_.size()) == n - 1) return;
  stopWorkers();
  startWorkers(n);
}

void ThreadPool::startWorkers(int n) {
  threads_ = n;
  stopping_ = false;
  for (int i = 1; i < n; ++i) workers_.emplace_back([this, i] { workerLoop(i); });
}

void ThreadPool::stopWorkers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
}

void ThreadPool::runItems(int worker) {
  for (;;) {
    int64_t item;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (next_ >= count_) return;
      item = next_++;
    }
    try {
      (*body_)(item, worker);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
      next_ = count_;  // no new items start
    }
  }
}

void ThreadPool::workerLoop(int index) {
  FlushDenormals flush;
  uint64_t seen = 0;
  for (;;) {
    spinFor([&] { return stopping_ || generation_ != seen; });
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
      ++active_;
    }
    runItems(index);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (--active_ == 0) done_.notify_all();
    }
  }
}

void ThreadPool::parallelFor(int64_t count, const std::function<void(int64_t, int)>& body, int64_t work) {
  if (count <= 0) return;
  std::lock_guard<std::mutex> call(callMutex_);
  FlushDenormals flush;
  if (workers_.empty() || count == 1 || (work >= 0 && work < kInlineWork)) {
    for (int64_t i = 0; i < count; ++i) body(i, 0);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    error_ = nullptr;
    body_ = &body;
    count_ = count;
    next_ = 0;
    ++generation_;
  }
  wake_.notify_all();
  runItems(0);
  // runItems returned: every item has started. Wait for the workers still running one.
  spinFor([&] { return active_ == 0; });
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [&] { return active_ == 0 && next_ >= count_; });
  body_ = nullptr;
  if (error_) {
    std::exception_ptr e = error_;
    error_ = nullptr;
    std::rethrow_exception(e);
  }
}

}  // namespace convnd
