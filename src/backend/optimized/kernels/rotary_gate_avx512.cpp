// The rotary and gate kernels for AVX-512. The build compiles this file with the AVX-512 flags.

// GCC 12 reports xsimd's AVX-512 intrinsics as uninitialised use (bug 105593): see
// kernels_avx512.cpp.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "backend/optimized/kernels/rotary_gate_impl.hpp"

namespace vecformer::detail::kernels {

template struct RotaryGateKernels<Avx512>;

}  // namespace vecformer::detail::kernels

#pragma GCC diagnostic pop
