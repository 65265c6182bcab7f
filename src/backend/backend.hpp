#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "backend/execution.hpp"
#include "encoder/batch.hpp"
#include "encoder/weights.hpp"
#include "vecformer/config.hpp"
#include "vecformer/model.hpp"

namespace vecformer::detail {

// A linear map prepared by a backend for its own use (a copy in its preferred layout, cached
// primitives).
class PreparedLinear {
 public:
  virtual ~PreparedLinear() = default;
  virtual int64_t in_features() const = 0;
  virtual int64_t out_features() const = 0;
};

// Embedding tables as the embed op reads them.
struct EmbeddingTables {
  const Matrix* word = nullptr;
  const Matrix* position = nullptr;    // null or empty: no positional term
  const Matrix* token_type = nullptr;  // null or empty: no token-type term
  int64_t position_offset = 0;
};

// Rotary angles for positions [0, positions): cos and sin as float32 [positions, dim / 2], row p
// holding cos(p · θ_i), sin(p · θ_i) for θ_i = base^(-2i/dim), computed as the model's own source
// computes them (inverse frequencies and their products with positions in float32).
struct RotaryTable {
  int64_t dim = 0;           // rotated features per head (even)
  bool interleaved = false;  // see RotaryConfig
  int64_t positions = 0;
  std::vector<float> cos;
  std::vector<float> sin;
};

// What one layer's attention adds to plain scaled dot-product attention over the whole sequence.
struct AttentionSpec {
  // [heads]: score(i, j) -= slopes[h] · |i - j| before the softmax (ALiBi); null: none.
  const float* alibi_slopes = nullptr;
  // 0: every key; otherwise query i sees only keys j with |i - j| <= window / 2.
  int64_t window = 0;
  // Rotary positions, applied inside attention to every head's query and key (values untouched):
  // empty, none; otherwise one table per sequence, and the token at position p of sequence s
  // (p = t - offsets[s]) is rotated by row p of rotary[s] (each sequence fits its table). The
  // tables may differ between sequences: dynamic NTK gives long sequences a base of their own.
  std::span<const RotaryTable* const> rotary;
};

// A backend's per-caller state: buffers (GEMM scratchpads, converted inputs, attention scratch)
// and bindings that are reused from call to call, so a forward pass in steady state allocates
// nothing. One Scratch serves one call at a time; each Workspace owns one.
class Scratch {
 public:
  virtual ~Scratch() = default;
};

// The ops the encoder graph is written against. Every op reads and writes row-major float32
// matrices of packed tokens. Ops are const and keep no state between calls (per-call state lives in
// the caller's Scratch), so one backend serves many threads. Each op runs on exec.threads threads.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view name() const = 0;

  // A fresh Scratch for calls to this backend.
  virtual std::unique_ptr<Scratch> make_scratch() const = 0;

  // The rows a matrix that a linear or feed_forward reads or writes must have room for when a call
  // has `rows` token rows (the optimized backend runs its GEMMs on row buckets, see row_bucket()).
  // The rows past `rows` are scratch: any values in, unspecified out; the other ops never touch
  // them.
  virtual int64_t padded_rows(int64_t rows) const = 0;

  // Prepares y = act(x · Wᵀ + b) for later calls, taking over the weights (the bias may be empty:
  // none); `fused` is applied to the output when given.
  virtual std::unique_ptr<PreparedLinear> prepare_linear(LinearWeights weights,
                                                         const Activation* fused) const = 0;

  // Prepares the gated map y = act(x · W_aᵀ + b_a) ⊙ (x · W_gᵀ + b_g) from W = [W_a; W_g] of
  // [2·out, in] (the activated half's rows first; the bias, when given, is [b_a; b_g]).
  // out_features() is out; linear() and feed_forward() compute the gated result.
  virtual std::unique_ptr<PreparedLinear> prepare_gated_linear(LinearWeights weights,
                                                               Activation activation) const = 0;

  // y[rows, out] = act(x[rows, in] · Wᵀ + b).
  virtual void linear(const PreparedLinear& linear, const float* x, int64_t rows, float* y,
                      Scratch& scratch, const Execution& exec) const = 0;

  // y[rows, out] = second(first(x)): the feed-forward block, whose inner activations may stay in
  // the backend's own format between the two products. `inner` is room for [padded_rows(rows),
  // first's outputs] floats.
  virtual void feed_forward(const PreparedLinear& first, const PreparedLinear& second,
                            const float* x, int64_t rows, float* inner, float* y, Scratch& scratch,
                            const Execution& exec) const = 0;

  // x[t] = word[id_t] + position[offset + pos_t] + token_type[type_t], for every packed token t.
  virtual void embed(const EmbeddingTables& tables, const Batch& batch, float* x,
                     const Execution& exec) const = 0;

  // Multi-head self-attention on packed tokens. qkv is [T, 3·heads·head_dim] (queries, keys, values
  // of every head side by side, left unchanged); context is [T, heads·head_dim]. Attention never
  // crosses sequences. The spec adds ALiBi, a local window and rotary positions.
  virtual void attention(const float* qkv, std::span<const int64_t> offsets, int64_t heads,
                         int64_t head_dim, const AttentionSpec& spec, float* context,
                         Scratch& scratch, const Execution& exec) const = 0;

  // x += delta (when delta is not null), then normed = LayerNorm(x) (no bias term when norm.beta is
  // empty). normed may alias x. The norm is present.
  virtual void add_layer_norm(float* x, const float* delta, const Norm& norm, float eps,
                              int64_t rows, int64_t cols, float* normed,
                              const Execution& exec) const = 0;

  // x += delta, elementwise over n values.
  virtual void add(float* x, const float* delta, int64_t n, const Execution& exec) const = 0;
};

std::unique_ptr<Backend> make_reference_backend();
std::unique_ptr<Backend> make_optimized_backend(ComputeType dtype = ComputeType::f32);

// The int8 GEMMs sum products of two codes in [-127, 127] in int32 over the inner dimension K
// (hidden_size for the projections and the first feed-forward GEMM, intermediate_size for the
// second): exact, with no overflow, only while 127 · 127 · K < 2^31.
inline constexpr int64_t kInt8MaxInnerDimension = ((int64_t{1} << 31) - 1) / (127 * 127);

}  // namespace vecformer::detail
