// The kernels for AVX2 with FMA. The build compiles only this file with the AVX2 flags.
#include "backend/optimized/kernels/kernels_impl.hpp"

namespace vecformer::detail::kernels {

template struct ArchKernels<Avx2>;

}  // namespace vecformer::detail::kernels
