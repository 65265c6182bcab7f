#pragma once

namespace vecformer::detail {

// How one call runs: the size of every OpenMP team its ops start. It is passed down to the backend
// explicitly, so that no op reads the calling thread's OpenMP settings back or changes them for its
// caller (the one exception, oneDNN's thread count, is scoped to each oneDNN call: see
// OneDnnThreads in backend/optimized/onednn_threads.hpp).
struct Execution {
  int threads = 1;
};

// The execution of a call made from the calling thread that asks for `requested` threads (0: every
// core; the caller has validated the range), never more than OMP_THREAD_LIMIT. Inside an OpenMP
// parallel region the call runs on the calling thread alone: the caller's team is the parallelism
// there, a nested team has one thread unless the caller enabled nesting, and oneDNN runs its
// primitives on one thread inside a parallel region whatever they were planned for.
Execution execution_for(int requested);

}  // namespace vecformer::detail
