// Run-time choice of the rotary and gate kernels' instruction set: the one kernels.hpp selected
// (VECFORMER_ISA included). Compiled for baseline x86-64, like kernels.cpp.
#include "backend/optimized/kernels/rotary_gate.hpp"

#include "backend/optimized/kernels/kernels.hpp"
#include "backend/optimized/kernels/rotary_gate_arch.hpp"

namespace vecformer::detail::kernels {

namespace {

struct RotaryGateTable {
  decltype(&RotaryGateKernels<Avx2>::rotate) rotate;
  decltype(&RotaryGateKernels<Avx2>::gate) gate;
};

template <class Arch>
RotaryGateTable table_for() {
  return {&RotaryGateKernels<Arch>::rotate, &RotaryGateKernels<Arch>::gate};
}

const RotaryGateTable& table() {
  static const RotaryGateTable chosen =
      selected_isa() == isa_name<Avx512> ? table_for<Avx512>() : table_for<Avx2>();
  return chosen;
}

}  // namespace

void rotate(float* x, const float* cos, const float* sin, int64_t dim, bool interleaved) {
  table().rotate(x, cos, sin, dim, interleaved);
}

void gate(const float* u, int64_t n, Activation act, float* y) {
  table().gate(u, n, act, y);
}

}  // namespace vecformer::detail::kernels
