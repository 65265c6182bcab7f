// The kernels for AVX-512. The build compiles only this file with the AVX-512 flags.

// GCC 12's AVX-512 intrinsics initialise their "undefined" registers from themselves, which -Wall
// reports as uninitialised use wherever xsimd calls them (GCC bug 105593, fixed in GCC 13). The
// same kernel templates are compiled with every warning in kernels_avx2.cpp.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "backend/optimized/kernels/kernels_impl.hpp"

namespace vecformer::detail::kernels {

template struct ArchKernels<Avx512>;

}  // namespace vecformer::detail::kernels

#pragma GCC diagnostic pop
