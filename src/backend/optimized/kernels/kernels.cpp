// Run-time choice of the kernels' instruction set. This file is compiled for baseline x86-64: it
// only takes the addresses of ArchKernels functions, which are instantiated in the per-ISA
// translation units.
#include "backend/optimized/kernels/kernels.hpp"

#include <cstdlib>
#include <string>

#include "backend/optimized/kernels/kernels_arch.hpp"
#include "vecformer/error.hpp"

namespace vecformer::detail::kernels {

namespace {

// One ISA's kernels, chosen once; every call after that is one indirect call.
struct KernelTable {
  std::string_view isa;
  decltype(&ArchKernels<Avx2>::activation) activation;
  decltype(&ArchKernels<Avx2>::softmax) softmax;
  decltype(&ArchKernels<Avx2>::add_layer_norm_row) add_layer_norm_row;
  decltype(&ArchKernels<Avx2>::add) add;
  decltype(&ArchKernels<Avx2>::sum_rows) sum_rows;
  decltype(&ArchKernels<Avx2>::quantize_row) quantize_row;
  decltype(&ArchKernels<Avx2>::scale_add_row) scale_add_row;
  decltype(&ArchKernels<Avx2>::attention_head) attention_head;
};

template <class Arch>
KernelTable table_for() {
  using K = ArchKernels<Arch>;
  return {isa_name<Arch>, &K::activation,   &K::softmax,       &K::add_layer_norm_row, &K::add,
          &K::sum_rows,   &K::quantize_row, &K::scale_add_row, &K::attention_head};
}

// The functor xsimd::dispatch calls with the best arch of SupportedIsas that this CPU runs.
struct TableForCpu {
  template <class Arch>
  KernelTable operator()(Arch) const {
    return table_for<Arch>();
  }
};

KernelTable choose_kernels() {
  // xsimd::dispatch falls back to the last arch of the list without checking it, so check it here.
  if (!cpu_supports<Avx2>()) {
    throw Error("this CPU lacks AVX2 and FMA, which vecformer requires");
  }
  // VECFORMER_ISA=avx2 runs the AVX2 kernels on an AVX-512 CPU, to compare or benchmark the two.
  const char* forced = std::getenv("VECFORMER_ISA");
  if (forced == nullptr || *forced == '\0') {
    return xsimd::dispatch<SupportedIsas>(TableForCpu{})();
  }
  const std::string_view name = forced;
  if (name == isa_name<Avx2>) return table_for<Avx2>();
  if (name == isa_name<Avx512>) {
    if (!cpu_supports<Avx512>()) {
      throw Error("VECFORMER_ISA=avx512: this CPU lacks AVX-512 (F, CD, DQ and BW)");
    }
    return table_for<Avx512>();
  }
  throw Error("VECFORMER_ISA=" + std::string(name) + ": expected avx512 or avx2");
}

const KernelTable& kernels() {
  static const KernelTable table = choose_kernels();
  return table;
}

}  // namespace

std::string_view selected_isa() {
  return kernels().isa;
}

void activation(float* x, int64_t n, Activation act) {
  kernels().activation(x, n, act);
}

void softmax(float* x, int64_t n) {
  kernels().softmax(x, n);
}

void add_layer_norm_row(float* x, const float* delta, const float* gamma, const float* beta,
                        float eps, int64_t n, float* normed) {
  kernels().add_layer_norm_row(x, delta, gamma, beta, eps, n, normed);
}

void add(float* y, const float* x, int64_t n) {
  kernels().add(y, x, n);
}

void sum_rows(float* out, const float* a, const float* b, const float* c, int64_t n) {
  kernels().sum_rows(out, a, b, c, n);
}

float quantize_row(const float* x, int64_t n, int8_t* q) {
  return kernels().quantize_row(x, n, q);
}

void scale_add_row(float* y, int64_t n, float scale, const float* bias) {
  kernels().scale_add_row(y, n, scale, bias);
}

void attention_head(const float* qkv, int64_t row_stride, int64_t key_offset, int64_t length,
                    int64_t head_dim, float* context, int64_t context_stride, float* scratch,
                    float alibi_slope, int64_t window) {
  kernels().attention_head(qkv, row_stride, key_offset, length, head_dim, context, context_stride,
                           scratch, alibi_slope, window);
}

bool avx512_bf16_supported() {
  // The AVX-512 kernels selected (not VECFORMER_ISA=avx2), and the BF16 extension on top.
  static const bool supported =
      selected_isa() == isa_name<Avx512> && __builtin_cpu_supports("avx512bf16");
  return supported;
}

}  // namespace vecformer::detail::kernels
