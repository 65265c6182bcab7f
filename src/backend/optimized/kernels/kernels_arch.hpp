#pragma once

// The kernels of kernels.hpp, one class per instruction set. ArchKernels<Arch> is defined in
// kernels_impl.hpp and instantiated only in kernels_avx512.cpp / kernels_avx2.cpp, each compiled
// with its ISA's flags; everyone else (the dispatch in kernels.cpp, the tests) sees the `extern
// template` declarations below and links to those instances, so no other translation unit ever
// emits AVX code. Calling ArchKernels<Arch> directly is how the tests exercise every ISA the CPU
// runs in one process.
#include <cstdint>
#include <string_view>

#include <xsimd/xsimd.hpp>

#include "vecformer/config.hpp"

namespace vecformer::detail::kernels {

// AVX-512 with BW/DQ/CD (Skylake-SP and later; every such CPU also has VL, which the flags enable).
using Avx512 = xsimd::avx512bw;
// AVX2 with FMA: every AVX2 CPU has FMA, and only the fma3 arch makes xsimd::fma the fused
// instruction itself. On plain avx2 it is a * b + c, fused only when GCC contracts it: GCC 12's
// default is -ffp-contract=fast for C++ even with -std=c++20 (the ISO-mode "off" default is C's
// only), but contraction happens from -O2, not in the -O1 sanitizer builds (see simd::fma in
// kernels_impl.hpp).
using Avx2 = xsimd::fma3<xsimd::avx2>;
// Best first, as xsimd::dispatch expects.
using SupportedIsas = xsimd::arch_list<Avx512, Avx2>;

// The name selected_isa() reports.
template <class Arch>
inline constexpr std::string_view isa_name = Arch::name();
template <>
inline constexpr std::string_view isa_name<Avx512> = "avx512";
template <>
inline constexpr std::string_view isa_name<Avx2> = "avx2";

// Whether this CPU runs Arch, by the rule xsimd::dispatch uses (the best available arch's version).
template <class Arch>
bool cpu_supports() {
  return xsimd::available_architectures().best >= Arch::version();
}

// Same contracts as the functions of the same names in kernels.hpp.
template <class Arch>
struct ArchKernels {
  static void activation(float* x, int64_t n, Activation act);
  static void softmax(float* x, int64_t n);
  static void add_layer_norm_row(float* x, const float* delta, const float* gamma,
                                 const float* beta, float eps, int64_t n, float* normed);
  static void add(float* y, const float* x, int64_t n);
  static void sum_rows(float* out, const float* a, const float* b, const float* c, int64_t n);
  static float quantize_row(const float* x, int64_t n, int8_t* q);
  static void scale_add_row(float* y, int64_t n, float scale, const float* bias);
  static void attention_head(const float* qkv, int64_t row_stride, int64_t key_offset,
                             int64_t length, int64_t head_dim, float* context,
                             int64_t context_stride, float* scratch, float alibi_slope = 0.0f,
                             int64_t window = 0);
};

extern template struct ArchKernels<Avx512>;
extern template struct ArchKernels<Avx2>;

}  // namespace vecformer::detail::kernels
