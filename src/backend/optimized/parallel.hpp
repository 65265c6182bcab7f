#pragma once

#include <omp.h>

#include <cstdint>

#include "backend/execution.hpp"

namespace vecformer::detail {

// Loops over [0, n) on a team of exec.threads threads (the num_threads clause: the calling thread's
// OpenMP settings are neither read nor changed). With one thread they stay out of OpenMP: libgomp
// allocates and frees a team for every one-thread parallel region, and a forward pass in steady
// state allocates nothing. A team may come out smaller than asked (dynamic teams, a nested region):
// the loops split the iterations over the team that actually runs.

// body(i), iterations split evenly between the threads.
template <class Body>
void parallel_for(const Execution& exec, int64_t n, Body&& body) {
  if (exec.threads == 1) {
    for (int64_t i = 0; i < n; ++i) body(i);
    return;
  }
#pragma omp parallel for schedule(static) num_threads(exec.threads)
  for (int64_t i = 0; i < n; ++i) body(i);
}

// body(i, thread) with thread in [0, exec.threads), iterations handed out one at a time (for
// iterations of uneven cost).
template <class Body>
void parallel_for_dynamic(const Execution& exec, int64_t n, Body&& body) {
  if (exec.threads == 1) {
    for (int64_t i = 0; i < n; ++i) body(i, 0);
    return;
  }
#pragma omp parallel num_threads(exec.threads)
  {
    const int thread = omp_get_thread_num();
#pragma omp for schedule(dynamic)
    for (int64_t i = 0; i < n; ++i) body(i, thread);
  }
}

}  // namespace vecformer::detail
