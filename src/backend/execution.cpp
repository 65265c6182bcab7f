#include "backend/execution.hpp"

#include <omp.h>

#include <algorithm>

namespace vecformer::detail {

Execution execution_for(int requested) {
  if (omp_in_parallel()) return Execution{1};
  const int threads = requested > 0 ? requested : omp_get_num_procs();
  return Execution{std::max(1, std::min(threads, omp_get_thread_limit()))};
}

}  // namespace vecformer::detail
