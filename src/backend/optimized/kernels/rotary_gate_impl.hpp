#pragma once

// The bodies of RotaryGateKernels<Arch>. Include only from rotary_gate_avx512.cpp /
// rotary_gate_avx2.cpp; the rules of kernels_impl.hpp hold (templates over Arch only, no
// non-template inline function called).
#include <cstdint>

#include <xsimd/xsimd.hpp>

#include "backend/optimized/kernels/kernels_impl.hpp"
#include "backend/optimized/kernels/rotary_gate_arch.hpp"

namespace vecformer::detail::kernels {

namespace simd {

// Lane masks of the interleaved rotation: each lane's pair partner (2i <-> 2i + 1), and the table
// entry of each lane's pair (lanes 2i and 2i + 1 both read entry i).
struct PairPartner {
  static constexpr unsigned get(unsigned index, unsigned) { return index ^ 1u; }
};
struct PairEntry {
  static constexpr unsigned get(unsigned index, unsigned) { return index / 2u; }
};

// out = a·c − b·s and b·c + a·s with one rounding inside each fma.
template <class Arch>
void rotate_pair(const Batch<Arch>& a, const Batch<Arch>& b, const Batch<Arch>& c,
                 const Batch<Arch>& s, Batch<Arch>& first, Batch<Arch>& second) {
  first = simd::fma<Arch>(a, c, -(b * s));
  second = simd::fma<Arch>(b, c, a * s);
}

// y[i] = act(u[i]) · u[n + i], act taking and returning a batch.
template <class Arch, class Act>
void gate_with(const float* u, int64_t n, float* y, Act act) {
  using B = Batch<Arch>;
  constexpr int64_t w = kWidth<Arch>;
  int64_t i = 0;
  for (; i + w <= n; i += w) {
    (act(B::load_unaligned(u + i)) * B::load_unaligned(u + n + i)).store_unaligned(y + i);
  }
  if (i < n) {
    const B out =
        act(load_partial<Arch>(u + i, n - i, 0.0f)) * load_partial<Arch>(u + n + i, n - i, 0.0f);
    store_partial<Arch>(y + i, n - i, out);
  }
}

}  // namespace simd

template <class Arch>
void RotaryGateKernels<Arch>::rotate(float* x, const float* cos, const float* sin, int64_t dim,
                                     bool interleaved) {
  using B = simd::Batch<Arch>;
  constexpr int64_t w = simd::kWidth<Arch>;
  const int64_t half = dim / 2;
  B first, second;
  if (!interleaved) {
    // NeoX rotate-half: the pairs are w apart lane for lane, so batches of each half line up.
    float* other = x + half;
    int64_t i = 0;
    for (; i + w <= half; i += w) {
      simd::rotate_pair<Arch>(B::load_unaligned(x + i), B::load_unaligned(other + i),
                              B::load_unaligned(cos + i), B::load_unaligned(sin + i), first,
                              second);
      first.store_unaligned(x + i);
      second.store_unaligned(other + i);
    }
    if (i < half) {
      const int64_t count = half - i;
      simd::rotate_pair<Arch>(simd::load_partial<Arch>(x + i, count, 0.0f),
                              simd::load_partial<Arch>(other + i, count, 0.0f),
                              simd::load_partial<Arch>(cos + i, count, 0.0f),
                              simd::load_partial<Arch>(sin + i, count, 0.0f), first, second);
      simd::store_partial<Arch>(x + i, count, first);
      simd::store_partial<Arch>(other + i, count, second);
    }
    return;
  }
  // Interleaved (GPT-J): a batch holds w / 2 whole pairs. out = x·c' + partner(x)·s', with c' each
  // pair's cos in both its lanes and s' its sin, negated in the pair's first lane.
  using Index = xsimd::batch<uint32_t, Arch>;
  constexpr auto partner = xsimd::make_batch_constant<Index, simd::PairPartner>();
  constexpr auto entry = xsimd::make_batch_constant<Index, simd::PairEntry>();
  alignas(Arch::alignment()) float signs[w];
  for (int64_t j = 0; j < w; ++j) signs[j] = j % 2 == 0 ? -1.0f : 1.0f;
  const B sign = B::load_aligned(signs);
  constexpr int64_t pairs = w / 2;
  for (int64_t p = 0; p < half; p += pairs) {
    const int64_t count = half - p < pairs ? half - p : pairs;  // pairs in this batch
    const B values = count == pairs ? B::load_unaligned(x + 2 * p)
                                    : simd::load_partial<Arch>(x + 2 * p, 2 * count, 0.0f);
    // Only `count` table entries are read: a full batch would run past the table's last row.
    const B c = xsimd::swizzle(simd::load_partial<Arch>(cos + p, count, 0.0f), entry);
    const B s = xsimd::swizzle(simd::load_partial<Arch>(sin + p, count, 0.0f), entry) * sign;
    const B out = simd::fma<Arch>(values, c, xsimd::swizzle(values, partner) * s);
    if (count == pairs) {
      out.store_unaligned(x + 2 * p);
    } else {
      simd::store_partial<Arch>(x + 2 * p, 2 * count, out);
    }
  }
}

template <class Arch>
void RotaryGateKernels<Arch>::gate(const float* u, int64_t n, Activation act, float* y) {
  using B = simd::Batch<Arch>;
  switch (act) {
    case Activation::gelu_erf:
      simd::gate_with<Arch>(u, n, y, [](const B& v) { return simd::gelu_erf<Arch>(v); });
      break;
    case Activation::gelu_tanh:
      simd::gate_with<Arch>(u, n, y, [](const B& v) { return simd::gelu_tanh<Arch>(v); });
      break;
    case Activation::relu:
      simd::gate_with<Arch>(u, n, y, [](const B& v) { return simd::relu<Arch>(v); });
      break;
    case Activation::silu:
      simd::gate_with<Arch>(u, n, y, [](const B& v) { return simd::silu<Arch>(v); });
      break;
  }
}

}  // namespace vecformer::detail::kernels
