#pragma once

// Vectorized row kernels of the optimized backend (xsimd). Each function picks the best instruction
// set of the running CPU (AVX-512, else AVX2) once, at run time; the ISA-specific bodies live in
// their own translation units compiled with their own flags. Every kernel is single-threaded: the
// backend spreads rows and attention blocks over OpenMP threads. Each has a plain twin in
// backend/reference/reference_ops.
//
// The choice is made on the first call of any function here, which throws vecformer::Error if the
// CPU lacks AVX2 and FMA (call selected_isa() early to report that at load time rather than
// mid-run). Setting the environment variable VECFORMER_ISA to "avx2" or "avx512" before that first
// call forces that instruction set instead (an unknown name, or avx512 on a CPU without it,
// throws). The per-ISA implementations are ArchKernels<Arch> in kernels_arch.hpp, which the tests
// call directly.
#include <cstdint>
#include <string_view>

#include "vecformer/config.hpp"

namespace vecformer::detail::kernels {

// The instruction set the kernels run with on this CPU: "avx512" or "avx2".
std::string_view selected_isa();

// x[i] = act(x[i]) over n values.
void activation(float* x, int64_t n, Activation act);

// x = softmax(x) over n values (n >= 1).
void softmax(float* x, int64_t n);

// x += delta (delta may be null), then normed = LayerNorm(x) · gamma + beta over one row of n
// values; beta null: no bias term. normed may alias x.
void add_layer_norm_row(float* x, const float* delta, const float* gamma, const float* beta,
                        float eps, int64_t n, float* normed);

// y[i] += x[i] over n values.
void add(float* y, const float* x, int64_t n);

// out[i] = a[i] + b[i] (+ c[i] when c is not null) over n values: one embedding row.
void sum_rows(float* out, const float* a, const float* b, const float* c, int64_t n);

// Symmetric quantization of one row: q[i] = clamp(round(x[i] / s), -127, 127) with
// s = max |x| / 127 over the finite values (1 when none is non-zero); NaN gives 0, ±Inf ±127.
// Returns s. Twin: detail::quantize_row.
float quantize_row(const float* x, int64_t n, int8_t* q);

// y[i] = fma(y[i], scale, bias[i]) over n values (one rounding).
void scale_add_row(float* y, int64_t n, float scale, const float* bias);

// One head of scaled dot-product attention over one sequence, with the same layout and options
// (ALiBi slope, local window) as reference::attention_head, computed for kAttentionQueryBlock
// queries at a time. `scratch` holds at least attention_scratch_floats(length, head_dim) floats: a
// block of queries' weight rows, the head's keys transposed and its values, contiguous (rows
// padded to a multiple of 16 floats), whatever the window. With a window, a block of queries
// computes scores and products only over the keys its queries attend to (rounded out to whole
// 16-key batches): its cost grows with the window, not with the length.
inline constexpr int64_t kAttentionQueryBlock = 4;
inline int64_t attention_scratch_floats(int64_t length, int64_t head_dim) {
  return (2 * head_dim + kAttentionQueryBlock) * ((length + 15) / 16 * 16);
}

void attention_head(const float* qkv, int64_t row_stride, int64_t key_offset, int64_t length,
                    int64_t head_dim, float* context, int64_t context_stride, float* scratch,
                    float alibi_slope = 0.0f, int64_t window = 0);

// Whether this CPU runs attention_head_bf16 and to_bf16: the AVX-512 kernels selected and the
// AVX512-BF16 extension.
bool avx512_bf16_supported();

// attention_head for bf16 compute: its two products (queries · keys, weights · values) take their
// inputs rounded to bf16 (to nearest even, as the bf16 GEMMs round theirs) and accumulate in
// float32 with vdpbf16ps, twice the products per instruction of float32 FMAs; the scaling and the
// softmax (with the ALiBi bias and the window as attention_head applies them) stay float32. Plain
// twin: reference::attention_head_bf16. Needs avx512_bf16_supported(); `scratch` holds
// attention_bf16_scratch_floats(length, head_dim), whatever the window.
inline int64_t attention_bf16_scratch_floats(int64_t length, int64_t head_dim) {
  const int64_t padded = (length + 31) / 32 * 32, dim_pairs = (head_dim + 1) / 2;
  return kAttentionQueryBlock * (padded + padded / 2 + dim_pairs) + dim_pairs * padded +
         (length + 1) / 2 * ((head_dim + 15) / 16 * 16) + dim_pairs;
}

void attention_head_bf16(const float* qkv, int64_t row_stride, int64_t key_offset, int64_t length,
                         int64_t head_dim, float* context, int64_t context_stride, float* scratch,
                         float alibi_slope = 0.0f, int64_t window = 0);

// out[i] = x[i] in bf16 over n values (the bits; to nearest even, denormals flushed to zero, as
// the AVX512-BF16 conversions round). Plain twin: reference::round_to_bf16. Needs
// avx512_bf16_supported().
void to_bf16(const float* x, int64_t n, uint16_t* out);

}  // namespace vecformer::detail::kernels
