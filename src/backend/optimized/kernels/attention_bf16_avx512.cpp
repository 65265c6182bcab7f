// attention_head_bf16 (kernels.hpp): one head of attention with its two products in bf16
// (vdpbf16ps, float32 accumulation) and the scaling and softmax in float32; and to_bf16, the
// conversion it and the bf16 GEMMs' inputs use. Compiled with the
// AVX-512 flags like kernels_avx512.cpp; the functions that use AVX512-BF16 instructions enable
// them with a target attribute and run only where avx512_bf16_supported() says so.

// GCC 12 false positives on its own AVX-512 intrinsics (GCC bug 105593): see kernels_avx512.cpp.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <immintrin.h>

#include <cstdint>

#include "backend/optimized/kernels/kernels.hpp"
#include "backend/optimized/kernels/kernels_arch.hpp"

namespace vecformer::detail::kernels {
namespace {

constexpr int64_t R = kAttentionQueryBlock;

// Lanes [0, count) of a 16-lane register.
__mmask16 lanes(int64_t count) {
  return count >= 16 ? static_cast<__mmask16>(0xffff)
                     : static_cast<__mmask16>((1u << (count > 0 ? count : 0)) - 1u);
}

// n floats to n bf16 (round to nearest even), then zeros up to `halves` (≥ n, ≤ n + 1 rounded up
// to a whole pair): one row of bf16 pairs.
[[gnu::target("avx512bf16")]] void to_bf16_row(const float* x, int64_t n, int64_t halves,
                                               uint16_t* out) {
  int64_t k = 0;
  for (; k + 32 <= n; k += 32) {
    const __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(x + k + 16), _mm512_loadu_ps(x + k));
    _mm512_storeu_si512(out + k, (__m512i)v);
  }
  if (k < halves) {
    const int64_t left = n - k;
    const __m512 low = _mm512_maskz_loadu_ps(lanes(left), x + k);
    const __m512 high = _mm512_maskz_loadu_ps(lanes(left - 16), x + k + 16);
    const __m512bh v = _mm512_cvtne2ps_pbh(high, low);
    const int64_t count = halves - k;
    const __mmask32 store = count >= 32 ? 0xffffffffu : (1u << count) - 1u;
    _mm512_mask_storeu_epi16(out + k, store, (__m512i)v);
  }
}

// out[r·out_stride + c·16 + lane] = scale · Σ_k dot(a[r·a_stride + k], b[k·b_stride + c·c_stride
// + lane]), every a and b element a pair of bf16 and each dot the sum of the pair's two products:
// R_ rows by C column vectors in registers. The last vector is stored through `last` (columns past
// the end). Values: rows of b_stride, c_stride 16. Keys: panels of 16 tokens ([dim_pairs][16] each,
// c_stride apart), b_stride 16.
template <int64_t R_, int64_t C>
[[gnu::target("avx512bf16")]] void tile(const uint32_t* a, int64_t a_stride, const uint32_t* b,
                                        int64_t b_stride, int64_t c_stride, int64_t depth,
                                        float scale, float* out, int64_t out_stride,
                                        __mmask16 last) {
  __m512 acc[R_][C];
  for (int64_t r = 0; r < R_; ++r)
    for (int64_t c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
  for (int64_t k = 0; k < depth; ++k) {
    __m512bh row[C];
    for (int64_t c = 0; c < C; ++c)
      row[c] = (__m512bh)_mm512_loadu_si512(b + k * b_stride + c * c_stride);
    for (int64_t r = 0; r < R_; ++r) {
      const __m512bh x = (__m512bh)_mm512_set1_epi32(static_cast<int>(a[r * a_stride + k]));
      for (int64_t c = 0; c < C; ++c) acc[r][c] = _mm512_dpbf16_ps(acc[r][c], x, row[c]);
    }
  }
  const __m512 s = _mm512_set1_ps(scale);
  for (int64_t r = 0; r < R_; ++r) {
    for (int64_t c = 0; c + 1 < C; ++c)
      _mm512_storeu_ps(out + r * out_stride + c * 16, _mm512_mul_ps(acc[r][c], s));
    _mm512_mask_storeu_ps(out + r * out_stride + (C - 1) * 16, last,
                          _mm512_mul_ps(acc[r][C - 1], s));
  }
}

// x[k] -= slope · |offset + k| over n values with one rounding (ArchKernels' subtract_alibi).
void subtract_alibi(float* x, int64_t n, int64_t offset, float slope) {
  const __m512 lane = _mm512_setr_ps(0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f,
                                     10.0f, 11.0f, 12.0f, 13.0f, 14.0f, 15.0f);
  const __m512 minus_slope = _mm512_set1_ps(-slope);
  for (int64_t k = 0; k < n; k += 16) {
    const __mmask16 m = lanes(n - k);
    const __m512 distance =
        _mm512_abs_ps(_mm512_add_ps(lane, _mm512_set1_ps(static_cast<float>(offset + k))));
    _mm512_mask_storeu_ps(x + k, m,
                          _mm512_fmadd_ps(distance, minus_slope, _mm512_maskz_loadu_ps(m, x + k)));
  }
}

[[gnu::target("avx512bf16")]] void attention(const float* qkv, int64_t row_stride,
                                             int64_t key_offset, int64_t length, int64_t head_dim,
                                             float* context, int64_t context_stride, float* scratch,
                                             float alibi_slope, int64_t window) {
  // The same numbers as attention_bf16_scratch_floats, spelled out (no inline function of
  // kernels.hpp is called here: see kernels_impl.hpp).
  const int64_t dim_pairs = (head_dim + 1) / 2;
  const int64_t token_pairs = (length + 1) / 2;
  const int64_t padded = (length + 31) / 32 * 32;  // keys per score row, whole registers
  const int64_t dim_padded = (head_dim + 15) / 16 * 16;
  float* weights = scratch;                                                // [R][padded] float32
  auto* weight_pairs = reinterpret_cast<uint32_t*>(weights + R * padded);  // [R][padded / 2]
  uint32_t* query_pairs = weight_pairs + R * padded / 2;                   // [R][dim_pairs]
  // [padded / 16][dim_pairs][16]: the keys in panels of 16 tokens, pair d of key j at
  // (j / 16)·panel + d·16 + j % 16, so that the keys a block of queries reads are contiguous.
  uint32_t* keys_t = query_pairs + R * dim_pairs;
  const int64_t panel = dim_pairs * 16;
  uint32_t* values = keys_t + dim_pairs * padded;  // [token_pairs][dim_padded]: tokens 2j and 2j+1
  uint32_t* key_row = values + token_pairs * dim_padded;  // [dim_pairs]: one key in bf16

  const float scale = 1.0f / _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(static_cast<float>(head_dim))));
  // Query i attends to keys j with |i - j| <= reach (every key without a window).
  const int64_t reach = window > 0 ? window / 2 : length;
  const float* keys = qkv + key_offset;
  const float* vals = qkv + 2 * key_offset;

  // Keys transposed (pairs of dimensions), so that a score row is computed as broadcast dot
  // products over contiguous keys; zero columns past the last token.
  for (int64_t j = 0; j < length; ++j) {
    to_bf16_row(keys + j * row_stride, head_dim, 2 * dim_pairs,
                reinterpret_cast<uint16_t*>(key_row));
    uint32_t* column = keys_t + j / 16 * panel + j % 16;
    for (int64_t d = 0; d < dim_pairs; ++d) column[d * 16] = key_row[d];
  }
  for (int64_t j = length; j < padded; ++j) {
    uint32_t* column = keys_t + j / 16 * panel + j % 16;
    for (int64_t d = 0; d < dim_pairs; ++d) column[d * 16] = 0;
  }
  // Values as pairs of tokens, interleaved lane by lane: lane d of pair j holds token 2j's and
  // token 2j+1's dimension d (a zero token completes an odd length).
  for (int64_t j = 0; j < token_pairs; ++j) {
    const float* first = vals + 2 * j * row_stride;
    const float* second = 2 * j + 1 < length ? first + row_stride : nullptr;
    for (int64_t d = 0; d < dim_padded; d += 16) {
      const __mmask16 m = lanes(head_dim - d);
      const __m512i lo =
          _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, first + d)));
      const __m512i hi = second ? _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(
                                      _mm512_maskz_loadu_ps(m, second + d)))
                                : _mm512_setzero_si512();
      _mm512_storeu_si512(values + j * dim_padded + d,
                          _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16)));
    }
  }

  // A block of queries reads only the keys [lo, hi) some of them attend to, from `start` (lo
  // rounded down to 32: whole token pairs and 16-key registers): O(window) with a local window.
  const auto block = [&]<int64_t Rows>(std::integral_constant<int64_t, Rows>, int64_t focus) {
    const int64_t lo = focus - reach > 0 ? focus - reach : 0;
    const int64_t hi = focus + Rows + reach < length ? focus + Rows + reach : length;
    const int64_t start = lo / 32 * 32;
    const int64_t end = (hi + 15) / 16 * 16;  // <= padded
    for (int64_t r = 0; r < Rows; ++r) {
      to_bf16_row(qkv + (focus + r) * row_stride, head_dim, 2 * dim_pairs,
                  reinterpret_cast<uint16_t*>(query_pairs + r * dim_pairs));
    }
    int64_t j = start;
    for (; j + 64 <= end; j += 64) {
      tile<Rows, 4>(query_pairs, dim_pairs, keys_t + j / 16 * panel, 16, panel, dim_pairs, scale,
                    weights + j, padded, 0xffff);
    }
    for (; j < end; j += 16) {
      tile<Rows, 1>(query_pairs, dim_pairs, keys_t + j / 16 * panel, 16, panel, dim_pairs, scale,
                    weights + j, padded, 0xffff);
    }
    // Each query's own keys [first, last): ALiBi after the scaling, the softmax over them alone,
    // weight 0 for the block's others; then the weights [start, hi) as bf16 token pairs (a zero
    // weight completes an odd count).
    const int64_t depth = hi - start, depth_pairs = (depth + 1) / 2;
    for (int64_t r = 0; r < Rows; ++r) {
      const int64_t i = focus + r;
      const int64_t first = i - reach > 0 ? i - reach : 0;
      const int64_t last = i + reach + 1 < length ? i + reach + 1 : length;
      float* row = weights + r * padded;
      if (alibi_slope != 0.0f) subtract_alibi(row + first, last - first, first - i, alibi_slope);
      ArchKernels<Avx512>::softmax(row + first, last - first);
      for (int64_t t = start; t < first; ++t) row[t] = 0.0f;
      for (int64_t t = last; t < hi; ++t) row[t] = 0.0f;
      to_bf16_row(row + start, depth, 2 * depth_pairs,
                  reinterpret_cast<uint16_t*>(weight_pairs + r * padded / 2 + start / 2));
    }
    const uint32_t* block_weights = weight_pairs + start / 2;
    const uint32_t* block_values = values + start / 2 * dim_padded;
    float* out = context + focus * context_stride;
    int64_t d = 0;
    for (; d + 64 <= dim_padded; d += 64) {
      tile<Rows, 4>(block_weights, padded / 2, block_values + d, dim_padded, 16, depth_pairs, 1.0f,
                    out + d, context_stride, lanes(head_dim - d - 48));
    }
    for (; d < dim_padded; d += 16) {
      tile<Rows, 1>(block_weights, padded / 2, block_values + d, dim_padded, 16, depth_pairs, 1.0f,
                    out + d, context_stride, lanes(head_dim - d));
    }
  };
  int64_t focus = 0;
  for (; focus + R <= length; focus += R) block(std::integral_constant<int64_t, R>{}, focus);
  for (; focus < length; ++focus) block(std::integral_constant<int64_t, 1>{}, focus);
}

}  // namespace

void to_bf16(const float* x, int64_t n, uint16_t* out) {
  to_bf16_row(x, n, n, out);
}

void attention_head_bf16(const float* qkv, int64_t row_stride, int64_t key_offset, int64_t length,
                         int64_t head_dim, float* context, int64_t context_stride, float* scratch,
                         float alibi_slope, int64_t window) {
  attention(qkv, row_stride, key_offset, length, head_dim, context, context_stride, scratch,
            alibi_slope, window);
}

}  // namespace vecformer::detail::kernels

#pragma GCC diagnostic pop
