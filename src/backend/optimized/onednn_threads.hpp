#pragma once

#include <omp.h>

#include "backend/execution.hpp"

namespace vecformer::detail {

// oneDNN 2.6 built for OpenMP has no per-call thread count: a primitive is planned for
// omp_get_max_threads() when it is created, its teams are started with that count, and a team that
// comes out smaller (dynamic teams) leaves the planned work of the missing threads undone. So each
// oneDNN call, creation or execution, runs inside one of these: the calling thread's thread count
// set to the call's and dynamic teams off, both put back as they were when it ends. The caller
// never sees them changed; nothing else in vecformer reads them.
class OneDnnThreads {
 public:
  explicit OneDnnThreads(const Execution& exec)
      : threads_(omp_get_max_threads()), dynamic_(omp_get_dynamic() != 0) {
    if (threads_ != exec.threads) omp_set_num_threads(exec.threads);
    if (dynamic_) omp_set_dynamic(0);
  }
  ~OneDnnThreads() {
    if (omp_get_max_threads() != threads_) omp_set_num_threads(threads_);
    if (dynamic_) omp_set_dynamic(1);
  }
  OneDnnThreads(const OneDnnThreads&) = delete;
  OneDnnThreads& operator=(const OneDnnThreads&) = delete;

 private:
  int threads_;
  bool dynamic_;
};

}  // namespace vecformer::detail
