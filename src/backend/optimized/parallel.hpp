#pragma once

#include <omp.h>

#include <cstdint>

namespace vecformer::detail {

// Loops over [0, n) on the calling thread's OpenMP team. With one thread they stay out of OpenMP:
// libgomp allocates and frees a team for every one-thread parallel region, and a forward pass in
// steady state allocates nothing.

// body(i), iterations split evenly between the threads.
template <class Body>
void parallel_for(int64_t n, Body&& body) {
  if (omp_get_max_threads() == 1) {
    for (int64_t i = 0; i < n; ++i) body(i);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) body(i);
}

// body(i, thread) with thread in [0, omp_get_max_threads()), iterations handed out one at a time
// (for iterations of uneven cost).
template <class Body>
void parallel_for_dynamic(int64_t n, Body&& body) {
  if (omp_get_max_threads() == 1) {
    for (int64_t i = 0; i < n; ++i) body(i, 0);
    return;
  }
#pragma omp parallel
  {
    const int thread = omp_get_thread_num();
#pragma omp for schedule(dynamic)
    for (int64_t i = 0; i < n; ++i) body(i, thread);
  }
}

}  // namespace vecformer::detail
