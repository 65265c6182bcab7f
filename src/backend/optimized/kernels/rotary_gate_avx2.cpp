// The rotary and gate kernels for AVX2 with FMA. The build compiles this file with the AVX2 flags.
#include "backend/optimized/kernels/rotary_gate_impl.hpp"

namespace vecformer::detail::kernels {

template struct RotaryGateKernels<Avx2>;

}  // namespace vecformer::detail::kernels
