#pragma once

// The bodies of ArchKernels<Arch>, written once over the xsimd architecture. Include this only from
// the per-ISA translation units (kernels_avx512.cpp, kernels_avx2.cpp), which are compiled with
// that ISA's flags and instantiate ArchKernels for it.
//
// Everything here is a template over Arch, and the kernels call no non-template inline function (no
// std::max, std::sqrt, ...): such a function would be emitted in both ISA translation units with
// different flags, the linker would keep one copy, and an AVX2-only CPU could end up running the
// AVX-512 one. Scalar work uses plain operators; math goes through xsimd batches.
#include <cstdint>
#include <limits>
#include <type_traits>

#include <xsimd/xsimd.hpp>

// kernels.hpp for kAttentionQueryBlock only: no inline function of it is called here.
#include "backend/optimized/kernels/kernels.hpp"
#include "backend/optimized/kernels/kernels_arch.hpp"

namespace vecformer::detail::kernels {

namespace simd {

template <class Arch>
using Batch = xsimd::batch<float, Arch>;

template <class Arch>
inline constexpr int64_t kWidth = static_cast<int64_t>(Batch<Arch>::size);

// a · b + c with one rounding. xsimd 8.1 has no AVX-512 fma of its own (its generic a * b + c is
// fused only when the compiler contracts it, which GCC 12 does from -O2 under its C++ default
// -ffp-contract=fast, -std=c++20 included, but not in the -O1 sanitizer builds), so AVX-512 calls
// the instruction itself: every build computes the same values. (A plain a * b + c elsewhere in
// these kernels may be contracted from -O2, so where the same bits in every build matter, the
// kernels call this.)
template <class Arch>
Batch<Arch> fma(const Batch<Arch>& a, const Batch<Arch>& b, const Batch<Arch>& c) {
  if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>) {
    return _mm512_fmadd_ps(a, b, c);
  } else {
    return xsimd::fma(a, b, c);
  }
}

// Lanes [0, count) from p, the others `fill`. Row tails are processed as whole batches this way, so
// that exp and erfc need no scalar twin and nothing past the end of a row is read.
template <class Arch>
Batch<Arch> load_partial(const float* p, int64_t count, float fill) {
  alignas(Arch::alignment()) float lanes[kWidth<Arch>];
  for (int64_t j = 0; j < kWidth<Arch>; ++j) lanes[j] = j < count ? p[j] : fill;
  return Batch<Arch>::load_aligned(lanes);
}

// Writes lanes [0, count) of b to p and nothing else.
template <class Arch>
void store_partial(float* p, int64_t count, const Batch<Arch>& b) {
  alignas(Arch::alignment()) float lanes[kWidth<Arch>];
  b.store_aligned(lanes);
  for (int64_t j = 0; j < count; ++j) p[j] = lanes[j];
}

// True in lanes [0, count): keeps padding lanes out of sums whose padding value is not neutral.
template <class Arch>
xsimd::batch_bool<float, Arch> lanes_below(int64_t count) {
  alignas(Arch::alignment()) float index[kWidth<Arch>];
  for (int64_t j = 0; j < kWidth<Arch>; ++j) index[j] = static_cast<float>(j);
  return Batch<Arch>::load_aligned(index) < Batch<Arch>(static_cast<float>(count));
}

// x[i] = op(x[i]) over n values, op taking and returning a batch.
template <class Arch, class Op>
void transform_in_place(float* x, int64_t n, Op op) {
  int64_t i = 0;
  for (; i + kWidth<Arch> <= n; i += kWidth<Arch>) {
    op(Batch<Arch>::load_unaligned(x + i)).store_unaligned(x + i);
  }
  if (i < n) store_partial<Arch>(x + i, n - i, op(load_partial<Arch>(x + i, n - i, 0.0f)));
}

// Writes the kWidth int32 lanes of `codes`, each within [-127, 127], to q as int8: one narrowing
// store instead of a scalar store per lane.
template <class Arch>
void store_int8(int8_t* q, const xsimd::batch<int32_t, Arch>& codes) {
  if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q), _mm512_cvtepi32_epi8(codes));
  } else {
    static_assert(kWidth<Arch> == 8, "AVX2: eight lanes");
    const __m256i lanes = codes;
    const __m128i words =
        _mm_packs_epi32(_mm256_castsi256_si128(lanes), _mm256_extracti128_si256(lanes, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(q), _mm_packs_epi16(words, words));
  }
}

template <class Arch>
float horizontal_max(const Batch<Arch>& b) {
  alignas(Arch::alignment()) float lanes[kWidth<Arch>];
  b.store_aligned(lanes);
  float max = lanes[0];
  for (int64_t j = 1; j < kWidth<Arch>; ++j) max = lanes[j] > max ? lanes[j] : max;
  return max;
}

// x[k] -= slope · |offset + k| over n values, with one rounding: the ALiBi bias of n consecutive
// keys, the first `offset` positions from the query (distances are exact in float up to 2^24).
template <class Arch>
void subtract_alibi(float* x, int64_t n, int64_t offset, float slope) {
  constexpr int64_t w = kWidth<Arch>;
  alignas(Arch::alignment()) float index[w];
  for (int64_t j = 0; j < w; ++j) index[j] = static_cast<float>(j);
  const Batch<Arch> lane = Batch<Arch>::load_aligned(index), minus_slope(-slope);
  for (int64_t k = 0; k < n; k += w) {
    const Batch<Arch> distance = xsimd::abs(lane + Batch<Arch>(static_cast<float>(offset + k)));
    if (k + w <= n) {
      fma<Arch>(distance, minus_slope, Batch<Arch>::load_unaligned(x + k)).store_unaligned(x + k);
    } else {
      store_partial<Arch>(x + k, n - k,
                          fma<Arch>(distance, minus_slope, load_partial<Arch>(x + k, n - k, 0.0f)));
    }
  }
}

// Attention tiles: R queries at once, so that every key or value batch loaded from memory feeds R
// FMAs and every broadcast query (or weight) element feeds several batches. R·C accumulators stay
// in registers (16 of AVX-512's 32, 8 of AVX2's 16).

// Keys are stored transposed in panels of kKeyPanel tokens: panel p holds keys [16p, 16p + 16) as
// [head_dim][16], so the 16 keys' dimension d sit in one cache line, and the keys a block of
// queries reads (the whole sequence, or its window) are contiguous: no column of a [head_dim,
// length] matrix strided by the length (which for lengths that are multiples of 1024 maps every
// dimension to the same L1 set).
inline constexpr int64_t kKeyPanel = 16;

// The attention products as one register tile: for R rows and C batches of columns,
//   out[r·out_stride + c·w + lane] = scale · Σ_k a[r·a_stride + k] · b(k, c·w + lane),
// b(k, j) = b[k·b_stride + j] (Panels false), or, with Panels, column j of b in panel j / 16,
// panels b_stride floats apart: b[(j / 16)·b_stride + k·16 + j % 16].
// Scores: a = the queries, b = the key panels. Context: a = the weight rows, b = the values.
template <class Arch, int64_t R, int64_t C, bool Panels = false>
void tile(const float* a, int64_t a_stride, const float* b, int64_t b_stride, int64_t depth,
          float scale, float* out, int64_t out_stride) {
  using B = Batch<Arch>;
  constexpr int64_t w = kWidth<Arch>;
  B acc[R][C];
  for (int64_t r = 0; r < R; ++r)
    for (int64_t c = 0; c < C; ++c) acc[r][c] = B(0.0f);
  for (int64_t k = 0; k < depth; ++k) {
    B row[C];
    for (int64_t c = 0; c < C; ++c) {
      const float* at =
          Panels ? b + (c * w / kKeyPanel) * b_stride + k * kKeyPanel + (c * w) % kKeyPanel
                 : b + k * b_stride + c * w;
      row[c] = B::load_unaligned(at);
    }
    for (int64_t r = 0; r < R; ++r) {
      const B x(a[r * a_stride + k]);
      for (int64_t c = 0; c < C; ++c) acc[r][c] = simd::fma<Arch>(x, row[c], acc[r][c]);
    }
  }
  const B s(scale);
  for (int64_t r = 0; r < R; ++r)
    for (int64_t c = 0; c < C; ++c) (acc[r][c] * s).store_unaligned(out + r * out_stride + c * w);
}

// GELU with the exact Gaussian CDF Φ(x) = erfc(-x/√2) / 2 rather than (1 + erf(x/√2)) / 2: erfc
// keeps full relative precision where Φ is tiny (large negative x), where 1 + erf cancels. For
// large positive x erfc(-x/√2) is exactly 2, so the result is exactly x; halving x first keeps x
// near FLT_MAX from overflowing.
template <class Arch>
Batch<Arch> gelu_erf(const Batch<Arch>& x) {
  const Batch<Arch> minus_inv_sqrt2(-0.70710678118654752f);
  return (Batch<Arch>(0.5f) * x) * xsimd::erfc(x * minus_inv_sqrt2);
}

// GELU with the tanh approximation, using (1 + tanh(u)) / 2 = 1 / (1 + e^(-2u)): one exp instead of
// tanh, no cancellation for negative x, and the right limits (e^(-2u) → 0 gives x, → inf gives -0).
template <class Arch>
Batch<Arch> gelu_tanh(const Batch<Arch>& x) {
  const Batch<Arch> minus_two_sqrt_2_over_pi(-1.5957691216057308f);  // -2 · sqrt(2 / pi)
  const Batch<Arch> cubic(0.044715f);
  const Batch<Arch> minus_two_u = minus_two_sqrt_2_over_pi * simd::fma<Arch>(cubic * x * x, x, x);
  return x / (Batch<Arch>(1.0f) + xsimd::exp(minus_two_u));
}

// SiLU x · sigmoid(x) as x / (1 + e^(-x)): one exp and one division, no cancellation; for large
// negative x, e^(-x) overflows to inf and the result is -0 (the limit), for large positive x it is
// exactly x.
template <class Arch>
Batch<Arch> silu(const Batch<Arch>& x) {
  return x / (Batch<Arch>(1.0f) + xsimd::exp(-x));
}

// max(x, 0) with the reference's treatment of NaN and -0 (both give +0).
template <class Arch>
Batch<Arch> relu(const Batch<Arch>& x) {
  return xsimd::select(x > Batch<Arch>(0.0f), x, Batch<Arch>(0.0f));
}

}  // namespace simd

template <class Arch>
void ArchKernels<Arch>::activation(float* x, int64_t n, Activation act) {
  using B = simd::Batch<Arch>;
  switch (act) {
    case Activation::gelu_erf:
      simd::transform_in_place<Arch>(x, n, [](const B& v) { return simd::gelu_erf<Arch>(v); });
      break;
    case Activation::gelu_tanh:
      simd::transform_in_place<Arch>(x, n, [](const B& v) { return simd::gelu_tanh<Arch>(v); });
      break;
    case Activation::relu:
      simd::transform_in_place<Arch>(x, n, [](const B& v) { return simd::relu<Arch>(v); });
      break;
    case Activation::silu:
      simd::transform_in_place<Arch>(x, n, [](const B& v) { return simd::silu<Arch>(v); });
      break;
  }
}

template <class Arch>
void ArchKernels<Arch>::softmax(float* x, int64_t n) {
  using B = simd::Batch<Arch>;
  constexpr int64_t w = simd::kWidth<Arch>;
  const int64_t full = n - n % w;
  const int64_t tail = n - full;
  // -inf pads the tail: it never wins the max and its exp is 0, so it adds nothing to the sum.
  constexpr float pad = -std::numeric_limits<float>::infinity();

  B max_acc(pad);
  for (int64_t i = 0; i < full; i += w) max_acc = xsimd::max(max_acc, B::load_unaligned(x + i));
  if (tail) max_acc = xsimd::max(max_acc, simd::load_partial<Arch>(x + full, tail, pad));
  // Subtracting the max keeps every exponent <= 0: no overflow, whatever the magnitude of x.
  const B max(simd::horizontal_max<Arch>(max_acc));

  B sum_acc(0.0f);
  for (int64_t i = 0; i < full; i += w) {
    const B e = xsimd::exp(B::load_unaligned(x + i) - max);
    e.store_unaligned(x + i);
    sum_acc += e;
  }
  if (tail) {
    const B e = xsimd::exp(simd::load_partial<Arch>(x + full, tail, pad) - max);
    simd::store_partial<Arch>(x + full, tail, e);
    sum_acc += e;
  }

  const B inv_sum = B(1.0f) / B(xsimd::hadd(sum_acc));
  simd::transform_in_place<Arch>(x, n, [&](const B& e) { return e * inv_sum; });
}

template <class Arch>
void ArchKernels<Arch>::add_layer_norm_row(float* x, const float* delta, const float* gamma,
                                           const float* beta, float eps, int64_t n, float* normed) {
  using B = simd::Batch<Arch>;
  constexpr int64_t w = simd::kWidth<Arch>;
  const int64_t full = n - n % w;
  const int64_t tail = n - full;
  if (delta) add(x, delta, n);

  // The statistics are taken of x - pivot, with the row's first value as pivot: the differences are
  // about as large as the spread of the row, not as its magnitude, so float sums stay accurate for
  // rows like 1e4 + N(0, 1), whose mean a float cannot even hold to better than 1e-3. The mean
  // itself is then never formed; centered values are (x - pivot) - mean_shift.
  const float pivot_value = x[0];
  const B pivot(pivot_value);

  B shift_acc(0.0f);
  for (int64_t i = 0; i < full; i += w) shift_acc += B::load_unaligned(x + i) - pivot;
  // Padding with the pivot makes the padding lanes' differences exactly 0.
  if (tail) shift_acc += simd::load_partial<Arch>(x + full, tail, pivot_value) - pivot;
  const B count(static_cast<float>(n));
  const B mean_shift = B(xsimd::hadd(shift_acc)) / count;

  // Second pass over centered values, not E[x²] - E[x]², which cancels catastrophically.
  B square_acc(0.0f);
  for (int64_t i = 0; i < full; i += w) {
    const B centered = (B::load_unaligned(x + i) - pivot) - mean_shift;
    square_acc = simd::fma<Arch>(centered, centered, square_acc);
  }
  if (tail) {
    const B centered = xsimd::select(
        simd::lanes_below<Arch>(tail),
        (simd::load_partial<Arch>(x + full, tail, pivot_value) - pivot) - mean_shift, B(0.0f));
    square_acc = simd::fma<Arch>(centered, centered, square_acc);
  }
  const B variance = B(xsimd::hadd(square_acc)) / count;
  const B inv_std = B(1.0f) / xsimd::sqrt(variance + B(eps));

  // Reads x[i..i+w) before writing normed[i..i+w), so normed may alias x. Without beta the bias
  // is +0, added by the same fma, so a zero beta and no beta give the same bits.
  for (int64_t i = 0; i < full; i += w) {
    const B centered = (B::load_unaligned(x + i) - pivot) - mean_shift;
    const B bias = beta ? B::load_unaligned(beta + i) : B(0.0f);
    simd::fma<Arch>(centered * inv_std, B::load_unaligned(gamma + i), bias)
        .store_unaligned(normed + i);
  }
  if (tail) {
    const B centered = (simd::load_partial<Arch>(x + full, tail, pivot_value) - pivot) - mean_shift;
    const B bias = beta ? simd::load_partial<Arch>(beta + full, tail, 0.0f) : B(0.0f);
    const B out = simd::fma<Arch>(centered * inv_std,
                                  simd::load_partial<Arch>(gamma + full, tail, 0.0f), bias);
    simd::store_partial<Arch>(normed + full, tail, out);
  }
}

template <class Arch>
void ArchKernels<Arch>::add(float* y, const float* x, int64_t n) {
  using B = simd::Batch<Arch>;
  constexpr int64_t w = simd::kWidth<Arch>;
  int64_t i = 0;
  for (; i + w <= n; i += w) {
    (B::load_unaligned(y + i) + B::load_unaligned(x + i)).store_unaligned(y + i);
  }
  for (; i < n; ++i) y[i] += x[i];
}

template <class Arch>
void ArchKernels<Arch>::sum_rows(float* out, const float* a, const float* b, const float* c,
                                 int64_t n) {
  using B = simd::Batch<Arch>;
  constexpr int64_t w = simd::kWidth<Arch>;
  int64_t i = 0;
  if (c) {
    for (; i + w <= n; i += w) {
      (B::load_unaligned(a + i) + B::load_unaligned(b + i) + B::load_unaligned(c + i))
          .store_unaligned(out + i);
    }
    for (; i < n; ++i) out[i] = a[i] + b[i] + c[i];
  } else {
    for (; i + w <= n; i += w) {
      (B::load_unaligned(a + i) + B::load_unaligned(b + i)).store_unaligned(out + i);
    }
    for (; i < n; ++i) out[i] = a[i] + b[i];
  }
}

template <class Arch>
float ArchKernels<Arch>::quantize_row(const float* x, int64_t n, int8_t* q) {
  using B = simd::Batch<Arch>;
  constexpr int64_t w = simd::kWidth<Arch>;
  const B zero(0.0f), infinity(std::numeric_limits<float>::infinity());
  B largest(0.0f);
  for (int64_t i = 0; i < n; i += w) {
    const B v =
        i + w <= n ? B::load_unaligned(x + i) : simd::load_partial<Arch>(x + i, n - i, 0.0f);
    // Finite values only (the comparison is false for NaN and ±Inf), as the plain twin.
    const B magnitude = xsimd::abs(v);
    largest = xsimd::max(largest, xsimd::select(magnitude < infinity, magnitude, zero));
  }
  const float max_abs = simd::horizontal_max<Arch>(largest);
  // The same operations as the plain twin, so the results are identical.
  const float scale = max_abs > 0.0f ? max_abs / 127.0f : 1.0f;
  const B inverse(1.0f / scale), lo(-127.0f), hi(127.0f);
  alignas(Arch::alignment()) int32_t lanes[w];
  for (int64_t i = 0; i < n; i += w) {
    const int64_t count = i + w <= n ? w : n - i;
    const B v =
        count == w ? B::load_unaligned(x + i) : simd::load_partial<Arch>(x + i, count, 0.0f);
    const B rounded = xsimd::nearbyint(v * inverse);
    // NaN to 0 before the clamp, whose min/max would pass on an operand of their own choosing.
    const B defined = xsimd::select(rounded == rounded, rounded, zero);
    const auto codes = xsimd::to_int(xsimd::min(xsimd::max(defined, lo), hi));
    if (count == w) {
      simd::store_int8<Arch>(q + i, codes);
    } else {
      codes.store_aligned(lanes);
      for (int64_t j = 0; j < count; ++j) q[i + j] = static_cast<int8_t>(lanes[j]);
    }
  }
  return scale;
}

template <class Arch>
void ArchKernels<Arch>::scale_add_row(float* y, int64_t n, float scale, const float* bias) {
  using B = simd::Batch<Arch>;
  constexpr int64_t w = simd::kWidth<Arch>;
  const B s(scale);
  int64_t i = 0;
  for (; i + w <= n; i += w) {
    simd::fma<Arch>(B::load_unaligned(y + i), s, B::load_unaligned(bias + i))
        .store_unaligned(y + i);
  }
  if (i < n) {
    const B tail = simd::fma<Arch>(simd::load_partial<Arch>(y + i, n - i, 0.0f), s,
                                   simd::load_partial<Arch>(bias + i, n - i, 0.0f));
    simd::store_partial<Arch>(y + i, n - i, tail);
  }
}

template <class Arch>
void ArchKernels<Arch>::attention_head(const float* qkv, int64_t row_stride, int64_t key_offset,
                                       int64_t length, int64_t head_dim, float* context,
                                       int64_t context_stride, float* scratch, float alibi_slope,
                                       int64_t window) {
  using B = simd::Batch<Arch>;
  constexpr int64_t w = simd::kWidth<Arch>;
  constexpr int64_t R = kAttentionQueryBlock;
  constexpr int64_t C = w == 16 ? 4 : 2;  // batches of tokens (scores) or dimensions (context)
  const int64_t full = head_dim - head_dim % w;
  const float scale = (B(1.0f) / xsimd::sqrt(B(static_cast<float>(head_dim)))).get(0);
  const float* keys = qkv + key_offset;
  const float* values = qkv + 2 * key_offset;
  // Padded to 16 floats (a multiple of every width) so that score batches never need a tail.
  const int64_t padded = (length + 15) / 16 * 16;
  float* weights = scratch;              // [R][padded]: a block of queries' weight rows
  float* keys_t = scratch + R * padded;  // [padded / 16][head_dim][16]: the keys in panels
  const int64_t panel = head_dim * simd::kKeyPanel;
  // [length][head_dim]: the head's values, contiguous. In the packed rows they are row_stride
  // apart (a page per token at BERT-base width).
  float* values_c = keys_t + head_dim * padded;
  // Query i attends to keys j with |i - j| <= reach (every key without a window).
  const int64_t reach = window > 0 ? window / 2 : length;

  // Transposed once per head (in panels of 16), the keys let similarities be computed as
  // broadcast-FMAs over contiguous rows, many tokens per instruction, instead of one horizontal
  // sum per key. Token by token: each key and value is read once, contiguously.
  for (int64_t t = 0; t < length; ++t) {
    const float* key = keys + t * row_stride;
    float* column = keys_t + t / simd::kKeyPanel * panel + t % simd::kKeyPanel;
    for (int64_t d = 0; d < head_dim; ++d) column[d * simd::kKeyPanel] = key[d];
    const float* value = values + t * row_stride;
    for (int64_t d = 0; d < head_dim; ++d) values_c[t * head_dim + d] = value[d];
  }
  for (int64_t t = length; t < padded; ++t) {
    float* column = keys_t + t / simd::kKeyPanel * panel + t % simd::kKeyPanel;
    for (int64_t d = 0; d < head_dim; ++d) column[d * simd::kKeyPanel] = 0.0f;
  }

  // A block of `rows` queries (R, or 1 for the last length % R): their weight rows are computed,
  // normalized and used while they sit in L1; no [length, length] matrix is ever stored. Only the
  // keys [lo, hi) that some query of the block attends to are read (from `start`, lo rounded down
  // to whole batches of 16): with a local window, a block costs O(window), not O(length).
  const auto block = [&]<int64_t Rows>(std::integral_constant<int64_t, Rows>, int64_t focus) {
    const int64_t lo = focus - reach > 0 ? focus - reach : 0;
    const int64_t hi = focus + Rows + reach < length ? focus + Rows + reach : length;
    const int64_t start = lo / 16 * 16;
    const int64_t end = (hi + 15) / 16 * 16;  // <= padded
    const float* query = qkv + focus * row_stride;
    int64_t j = start;
    // j is a multiple of w (and of 16 for whole C·w tiles): a tile's batches never straddle panels.
    for (; j + C * w <= end; j += C * w) {
      simd::tile<Arch, Rows, C, true>(query, row_stride,
                                      keys_t + j / simd::kKeyPanel * panel + j % simd::kKeyPanel,
                                      panel, head_dim, scale, weights + j, padded);
    }
    for (; j < end; j += w) {
      simd::tile<Arch, Rows, 1, true>(query, row_stride,
                                      keys_t + j / simd::kKeyPanel * panel + j % simd::kKeyPanel,
                                      panel, head_dim, scale, weights + j, padded);
    }
    for (int64_t r = 0; r < Rows; ++r) {
      // Query i's own keys [first, last) within the block's: the ALiBi bias after the scaling,
      // the softmax over them alone, and weight 0 for the block's other keys.
      const int64_t i = focus + r;
      const int64_t first = i - reach > 0 ? i - reach : 0;
      const int64_t last = i + reach + 1 < length ? i + reach + 1 : length;
      float* row = weights + r * padded;
      if (alibi_slope != 0.0f) {
        simd::subtract_alibi<Arch>(row + first, last - first, first - i, alibi_slope);
      }
      softmax(row + first, last - first);
      for (int64_t t = start; t < first; ++t) row[t] = 0.0f;
      for (int64_t t = last; t < hi; ++t) row[t] = 0.0f;
    }

    // The products over the keys [start, hi).
    const float* block_weights = weights + start;
    const float* block_values = values_c + start * head_dim;
    const int64_t depth = hi - start;
    float* out = context + focus * context_stride;
    int64_t d = 0;
    for (; d + C * w <= full; d += C * w) {
      simd::tile<Arch, Rows, C>(block_weights, padded, block_values + d, head_dim, depth, 1.0f,
                                out + d, context_stride);
    }
    for (; d < full; d += w) {
      simd::tile<Arch, Rows, 1>(block_weights, padded, block_values + d, head_dim, depth, 1.0f,
                                out + d, context_stride);
    }
    for (; d < head_dim; ++d) {
      for (int64_t r = 0; r < Rows; ++r) {
        float sum = 0.0f;
        for (int64_t t = 0; t < depth; ++t) {
          sum += block_weights[r * padded + t] * block_values[t * head_dim + d];
        }
        out[r * context_stride + d] = sum;
      }
    }
  };
  int64_t focus = 0;
  for (; focus + R <= length; focus += R) block(std::integral_constant<int64_t, R>{}, focus);
  for (; focus < length; ++focus) block(std::integral_constant<int64_t, 1>{}, focus);
}

}  // namespace vecformer::detail::kernels
