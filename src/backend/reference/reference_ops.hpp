#pragma once

// Row-level operations of the reference backend, exposed so that each fast kernel can be tested
// against its plain twin on exactly the same inputs.
#include <cstdint>

#include "vecformer/config.hpp"

namespace vecformer::detail::reference {

// x[i] = act(x[i]) for n values.
void activation(float* x, int64_t n, Activation act);

// x = exp(x - max) / sum, over n values.
void softmax(float* x, int64_t n);

// x += delta (delta may be null), then normed = (x - mean) / sqrt(var + eps) · gamma + beta over
// one row of n values; beta null: no bias term. normed may alias x.
void add_layer_norm_row(float* x, const float* delta, const float* gamma, const float* beta,
                        float eps, int64_t n, float* normed);

// One head of scaled dot-product attention over one sequence of `length` tokens. Token t's query
// starts at qkv + t·row_stride, its key `key_offset` floats later and its value 2·key_offset later;
// each is head_dim long. Token t's attention value is written at context + t·context_stride.
// Steps 1 to 5 are attention_weights; 6 to 8 follow in attention_head.
//
// The head's share of an AttentionSpec (backend.hpp): `alibi_slope` s subtracts s·|i - j| from
// the scaled similarity of query i and key j before the softmax (ALiBi; 0: none); `window` w > 0
// lets query i attend only to the keys j with |i - j| <= w / 2 (ModernBERT's local attention; 0:
// every key).
void attention_head(const float* qkv, int64_t row_stride, int64_t key_offset, int64_t length,
                    int64_t head_dim, float* context, int64_t context_stride,
                    float alibi_slope = 0.0f, int64_t window = 0);

// The keys query `focus` attends to: [first, last) of the `length` tokens (all of them when
// window is 0, else those within window / 2 positions).
struct AttendedKeys {
  int64_t first = 0;
  int64_t last = 0;
};
AttendedKeys attended_keys(int64_t focus, int64_t length, int64_t window);

// Step 3's dot product q · k over head_dim values, summed in double in index order.
double query_key_dot(const float* query, const float* key, int64_t head_dim);

// Steps 1 to 5 of attention_head for the query of token `focus` (same layout and options): its
// attention weights over the `length` tokens, written to weights[0, length) (0 outside the
// window).
void attention_weights(const float* qkv, int64_t row_stride, int64_t key_offset, int64_t length,
                       int64_t head_dim, int64_t focus, float* weights, float alibi_slope = 0.0f,
                       int64_t window = 0);

// x rounded to bf16 (kept as a float32): to nearest, ties to even, as the AVX512-BF16 conversion
// instructions round, which also flush denormals to (signed) zero and keep NaN a NaN.
float round_to_bf16(float x);

// attention_head as bf16 compute runs it: the query, key and value elements and, after the
// float32 softmax, the attention weights rounded to bf16 before they are multiplied. Same options.
void attention_head_bf16(const float* qkv, int64_t row_stride, int64_t key_offset, int64_t length,
                         int64_t head_dim, float* context, int64_t context_stride,
                         float alibi_slope = 0.0f, int64_t window = 0);

// Rotary position embedding of one head's first `dim` features by one table row's angles
// (cos, sin [dim / 2]): the pair (x[i], x[i + dim/2]) (NeoX rotate-half), or (x[2i], x[2i + 1])
// when interleaved (GPT-J), becomes (a·cos_i − b·sin_i, b·cos_i + a·sin_i).
void rotate(float* x, const float* cos, const float* sin, int64_t dim, bool interleaved);

// The gated feed-forward's product over one row u of 2·n values: y[i] = act(u[i]) · u[n + i].
void gate(const float* u, int64_t n, Activation act, float* y);

}  // namespace vecformer::detail::reference
