// The reference backend: the readable specification of every op. Plain loops, double accumulators,
// no SIMD, no threads (the Execution's thread count is not used), no oneDNN. Every fast kernel is
// tested against the op of the same name here.
#include <cmath>
#include <vector>

#include "backend/backend.hpp"
#include "backend/reference/reference_ops.hpp"
#include "vecformer/error.hpp"

namespace vecformer::detail {
namespace {

class ReferenceLinear final : public PreparedLinear {
 public:
  ReferenceLinear(LinearWeights weights, const Activation* fused, bool gated = false)
      : weights_(std::move(weights)), has_activation_(fused != nullptr), gated_(gated) {
    if (fused) activation_ = *fused;
  }
  int64_t in_features() const override { return weights_.weight.cols; }
  int64_t out_features() const override {
    return gated_ ? weights_.weight.rows / 2 : weights_.weight.rows;
  }
  // y = act(first half of x·Wᵀ + b) ⊙ (second half): prepare_gated_linear's map.
  bool gated() const { return gated_; }

  const LinearWeights& weights() const { return weights_; }
  const Activation* activation() const { return has_activation_ ? &activation_ : nullptr; }

 private:
  LinearWeights weights_;
  bool has_activation_;
  bool gated_;
  Activation activation_ = Activation::relu;
};

class ReferenceBackend final : public Backend {
 public:
  std::string_view name() const override { return "reference"; }

  // The specification keeps no buffers between calls.
  std::unique_ptr<Scratch> make_scratch() const override { return std::make_unique<Scratch>(); }

  // No GEMM primitives, no buckets: exactly the call's rows.
  int64_t padded_rows(int64_t rows) const override { return rows; }

  std::unique_ptr<PreparedLinear> prepare_linear(LinearWeights weights,
                                                 const Activation* fused) const override {
    weights.stack();
    weights.weight.own();  // kept: the specification reads it at every call
    return std::make_unique<ReferenceLinear>(std::move(weights), fused);
  }

  void linear(const PreparedLinear& prepared, const float* x, int64_t rows, float* y, Scratch&,
              const Execution&) const override {
    const auto& linear = static_cast<const ReferenceLinear&>(prepared);
    if (linear.gated()) {
      gated_linear(linear, x, rows, y);
      return;
    }
    const Matrix& w = linear.weights().weight;
    const std::vector<float>& b = linear.weights().bias;
    for (int64_t r = 0; r < rows; ++r) {
      const float* xr = x + r * w.cols;
      for (int64_t o = 0; o < w.rows; ++o) {
        const float* wo = w.row(o);
        double sum = b.empty() ? 0.0 : b[o];
        for (int64_t i = 0; i < w.cols; ++i) sum += static_cast<double>(xr[i]) * wo[i];
        y[r * w.rows + o] = static_cast<float>(sum);
      }
      if (const Activation* act = linear.activation()) {
        reference::activation(y + r * w.rows, w.rows, *act);
      }
    }
  }

  void feed_forward(const PreparedLinear& first, const PreparedLinear& second, const float* x,
                    int64_t rows, float* inner, float* y, Scratch& scratch,
                    const Execution& exec) const override {
    linear(first, x, rows, inner, scratch, exec);
    linear(second, inner, rows, y, scratch, exec);
  }

  void embed(const EmbeddingTables& tables, const Batch& batch, float* x,
             const Execution&) const override {
    const int64_t hidden = tables.word->cols;
    const bool has_position = tables.position && !tables.position->empty();
    const bool has_type = tables.token_type && !tables.token_type->empty();
    for (int64_t t = 0; t < batch.tokens(); ++t) {
      const float* word = tables.word->row(batch.token_ids()[t]);
      const float* position =
          has_position ? tables.position->row(tables.position_offset + batch.positions()[t])
                       : nullptr;
      const float* type = has_type ? tables.token_type->row(batch.type_ids()[t]) : nullptr;
      for (int64_t c = 0; c < hidden; ++c) {
        float v = word[c];
        if (position) v += position[c];
        if (type) v += type[c];
        x[t * hidden + c] = v;
      }
    }
  }

  // Each (sequence, head) on its own: the eight steps of reference::attention_head, with the
  // head's ALiBi slope and the layer's local window from the spec. With rotary positions the
  // sequence's rows are copied and their queries and keys rotated first (the token at position p
  // by table row p, every head alike, values untouched); qkv itself stays as it is.
  void attention(const float* qkv, std::span<const int64_t> offsets, int64_t heads,
                 int64_t head_dim, const AttentionSpec& spec, float* context, Scratch&,
                 const Execution&) const override {
    const int64_t hidden = heads * head_dim;
    std::vector<float> rotated;
    for (size_t s = 0; s + 1 < offsets.size(); ++s) {
      const int64_t begin = offsets[s];
      const int64_t length = offsets[s + 1] - begin;
      const float* rows = qkv + begin * 3 * hidden;
      if (!spec.rotary.empty()) {
        const RotaryTable& table = *spec.rotary[s];
        const int64_t half = table.dim / 2;
        rotated.assign(rows, rows + length * 3 * hidden);
        for (int64_t p = 0; p < length; ++p) {
          const float* cos = table.cos.data() + p * half;
          const float* sin = table.sin.data() + p * half;
          float* row = rotated.data() + p * 3 * hidden;
          for (int64_t h = 0; h < heads; ++h) {
            reference::rotate(row + h * head_dim, cos, sin, table.dim, table.interleaved);  // query
            reference::rotate(row + hidden + h * head_dim, cos, sin, table.dim,
                              table.interleaved);  // key
          }
        }
        rows = rotated.data();
      }
      for (int64_t h = 0; h < heads; ++h) {
        const float slope = spec.alibi_slopes ? spec.alibi_slopes[h] : 0.0f;
        reference::attention_head(rows + h * head_dim, 3 * hidden, hidden, length, head_dim,
                                  context + begin * hidden + h * head_dim, hidden, slope,
                                  spec.window);
      }
    }
  }

  std::unique_ptr<PreparedLinear> prepare_gated_linear(LinearWeights weights,
                                                       Activation activation) const override {
    weights.stack();
    weights.weight.own();
    return std::make_unique<ReferenceLinear>(std::move(weights), &activation, /*gated=*/true);
  }

  void add_layer_norm(float* x, const float* delta, const Norm& norm, float eps, int64_t rows,
                      int64_t cols, float* normed, const Execution&) const override {
    for (int64_t r = 0; r < rows; ++r) {
      reference::add_layer_norm_row(
          x + r * cols, delta ? delta + r * cols : nullptr, norm.gamma.data(),
          norm.beta.empty() ? nullptr : norm.beta.data(), eps, cols, normed + r * cols);
    }
  }

  void add(float* x, const float* delta, int64_t n, const Execution&) const override {
    for (int64_t i = 0; i < n; ++i) x[i] += delta[i];
  }

 private:
  // The gated map, spelled out: u = x·Wᵀ + b (2·out values per row, in double, rounded to float32
  // as any linear output), then y = act(u[0, out)) ⊙ u[out, 2·out).
  static void gated_linear(const ReferenceLinear& linear, const float* x, int64_t rows, float* y) {
    const Matrix& w = linear.weights().weight;
    const std::vector<float>& b = linear.weights().bias;
    const int64_t out = linear.out_features();
    std::vector<float> u(static_cast<size_t>(w.rows));
    for (int64_t r = 0; r < rows; ++r) {
      const float* xr = x + r * w.cols;
      for (int64_t o = 0; o < w.rows; ++o) {
        const float* wo = w.row(o);
        double sum = b.empty() ? 0.0 : b[o];
        for (int64_t i = 0; i < w.cols; ++i) sum += static_cast<double>(xr[i]) * wo[i];
        u[o] = static_cast<float>(sum);
      }
      reference::gate(u.data(), out, *linear.activation(), y + r * out);
    }
  }
};

}  // namespace

std::unique_ptr<Backend> make_reference_backend() {
  return std::make_unique<ReferenceBackend>();
}

}  // namespace vecformer::detail
