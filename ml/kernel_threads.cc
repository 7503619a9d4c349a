#include "ml/kernel_threads.h"

#include <immintrin.h>

namespace deepsweep::ml {
namespace {

thread_local KernelThreads* current = nullptr;

// A training step runs a dozen products a few hundred microseconds apart, so
// waiting threads spin this many pause instructions (some tens of
// microseconds) before they sleep on the atomic.
constexpr int kSpins = 20000;

}  // namespace

KernelThreads::KernelThreads(int threads) : outer_(current) {
  for (int p = 1; p < threads; ++p) helpers_.emplace_back([this, p] { HelperLoop(p); });
  current = this;
}

KernelThreads::~KernelThreads() {
  current = outer_;
  stop_.store(true, std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  generation_.notify_all();
  for (std::thread& t : helpers_) t.join();
}

KernelThreads* KernelThreads::Current() { return current; }

void KernelThreads::Run(void (*part)(void* context, int p), void* context) {
  if (helpers_.empty()) {
    part(context, 0);
    return;
  }
  part_ = part;
  context_ = context;
  done_.store(0, std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  part(context, 0);
  const int helpers = static_cast<int>(helpers_.size());
  for (int spin = 0; done_.load(std::memory_order_acquire) != helpers; ++spin) {
    if (spin < kSpins) {
      _mm_pause();
    } else {
      std::this_thread::yield();
    }
  }
}

void KernelThreads::HelperLoop(int p) {
  uint64_t seen = 0;
  while (true) {
    uint64_t now = generation_.load(std::memory_order_acquire);
    for (int spin = 0; now == seen && spin < kSpins; ++spin) {
      _mm_pause();
      now = generation_.load(std::memory_order_acquire);
    }
    if (now == seen) {
      generation_.wait(seen, std::memory_order_acquire);
      continue;
    }
    seen = now;
    if (stop_.load(std::memory_order_acquire)) return;
    part_(context_, p);
    done_.fetch_add(1, std::memory_order_acq_rel);
  }
}

}  // namespace deepsweep::ml
