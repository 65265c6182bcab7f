#pragma once

// The kernels of rotary_gate.hpp, one class per instruction set: defined in rotary_gate_impl.hpp,
// instantiated only in rotary_gate_avx512.cpp / rotary_gate_avx2.cpp (compiled with that ISA's
// flags), as ArchKernels is (see kernels_arch.hpp).
#include <cstdint>

#include "backend/optimized/kernels/kernels_arch.hpp"
#include "vecformer/config.hpp"

namespace vecformer::detail::kernels {

// Same contracts as the functions of the same names in rotary_gate.hpp.
template <class Arch>
struct RotaryGateKernels {
  static void rotate(float* x, const float* cos, const float* sin, int64_t dim, bool interleaved);
  static void gate(const float* u, int64_t n, Activation act, float* y);
};

extern template struct RotaryGateKernels<Avx512>;
extern template struct RotaryGateKernels<Avx2>;

}  // namespace vecformer::detail::kernels
