// KernelThreads: the threads one trial's products are split over.
//
// While a KernelThreads object lives, the small-batch products (ml/kernels.h)
// called on the thread that made it split their output over its threads: the
// caller computes the first part and threads - 1 helper threads the others,
// each a fixed range of W's columns (the backward and update; the forward's
// blocks of 256 columns, summed in block order afterwards, ml/kernels.cc) or
// of output rows, that depends only on the shape and the thread count. Each
// output element is computed by the same operations in the same order
// whatever range holds it (ml/small_batch.h), so the results are
// bit-identical for every thread count.
//
// Thread-safety: one KernelThreads per thread; it must be destroyed on the
// thread that made it. Nested objects on one thread: the innermost is used.
#ifndef DEEPSWEEP_ML_KERNEL_THREADS_H_
#define DEEPSWEEP_ML_KERNEL_THREADS_H_

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace deepsweep::ml {

class KernelThreads {
 public:
  // threads >= 1 (1 = no helpers: products run on the caller alone).
  explicit KernelThreads(int threads);
  ~KernelThreads();
  KernelThreads(const KernelThreads&) = delete;
  KernelThreads& operator=(const KernelThreads&) = delete;

  int threads() const { return static_cast<int>(helpers_.size()) + 1; }

  // The calling thread's innermost KernelThreads, or null.
  static KernelThreads* Current();

  // Calls part(context, p) for p in [0, threads()) in parallel, part 0 on the
  // caller, and returns when all are done.
  void Run(void (*part)(void* context, int p), void* context);

 private:
  void HelperLoop(int p);

  std::vector<std::thread> helpers_;
  KernelThreads* outer_;  // the previous Current() of the owning thread
  // A job: generation_ moves on, helpers run part(context_, p) and count done_.
  void (*part_)(void*, int) = nullptr;
  void* context_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> done_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace deepsweep::ml

#endif  // DEEPSWEEP_ML_KERNEL_THREADS_H_
