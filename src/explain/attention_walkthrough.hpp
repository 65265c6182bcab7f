#pragma once

// The reference attention (reference::attention_head) recomputed for inspection from the qkv that
// one forward pass captured (Model::capture_attention): every step's numbers kept for one (head,
// focus token), every head's full weight matrix for pictures, and how the heads differ (argmax,
// entropy). Used by `vecformer explain`; the numbers shown are the specification's, checked against
// what the backend computed in the same forward.
#include <cstdint>
#include <span>
#include <vector>

namespace vecformer::detail {

// One sequence's packed qkv for one layer: [tokens, 3·hidden], as the encoder's QKV projection
// writes it. Head h's query is columns h·head_dim .. +head_dim, its key the same columns `hidden`
// later, its value 2·hidden later.
struct QkvView {
  const float* data = nullptr;
  int64_t tokens = 0;
  int64_t heads = 0;
  int64_t head_dim = 0;
  // The layer's AttentionSpec: ALiBi slopes [heads] (null: none) and local window (0: none).
  const float* alibi_slopes = nullptr;
  int64_t window = 0;

  int64_t hidden() const { return heads * head_dim; }
  float alibi_slope(int64_t head) const { return alibi_slopes ? alibi_slopes[head] : 0.0f; }
  const float* query(int64_t token, int64_t head) const {
    return data + token * 3 * hidden() + head * head_dim;
  }
  const float* key(int64_t token, int64_t head) const { return query(token, head) + hidden(); }
  const float* value(int64_t token, int64_t head) const {
    return query(token, head) + 2 * hidden();
  }
};

// The eight steps of scaled dot-product attention for one focus token and one head, with the
// numbers of each step kept. Rounding follows reference::attention_head exactly (similarities
// rounded to float before the softmax, float weights, products and sums in double, the sum rounded
// to float), so `attention_value` equals its output bit for bit. Per-token vectors are indexed by
// token position.
struct AttentionSteps {
  int64_t head = 0;
  int64_t focus = 0;
  int64_t head_dim = 0;
  double scale = 0.0;  // 1 / sqrt(head_dim)

  std::vector<float> query;              // 1. the focus token's query [head_dim]
  std::vector<std::vector<float>> keys;  // 2. every token's key [tokens][head_dim]
  std::vector<double> dot_products;      // 3. q · k_j
  std::vector<float> similarities;   // 3. q · k_j · scale (− slope·|i − j| with ALiBi), as
                                     //    float (softmax input); −inf outside a local window
  double similarity_max = 0.0;       // 4. softmax: exp(s_j - max) / sum
  std::vector<double> exponentials;  //    exp(s_j - max)
  double exponential_sum = 0.0;      //    sum_j exp(s_j - max)
  std::vector<float> weights;        // 5. the attention weights
  double weight_sum = 0.0;           //    their sum (1 up to float rounding)
  std::vector<std::vector<float>> values;            // 6. every token's value [tokens][head_dim]
  std::vector<std::vector<double>> weighted_values;  // 6. w_j · v_j [tokens][head_dim]
  std::vector<double> sum;                           // 7. sum_j w_j · v_j [head_dim]
  std::vector<float> attention_value;                // 8. the sum as float: the head's output
};

AttentionSteps walk_through_attention(const QkvView& qkv, int64_t head, int64_t focus);

// Head `head`'s attention weights for every query token: [tokens · tokens], row = query token,
// column = key token; the same numbers walk_through_attention gives as `weights`.
std::vector<float> attention_weights(const QkvView& qkv, int64_t head);

// The layer's attention context [tokens, hidden] as the reference backend computes it from qkv
// (reference::attention_head for each head).
std::vector<float> reference_context(const QkvView& qkv);

// How one head spreads its attention: for each query token, the key token it weighs most (the first
// one on ties) and the Shannon entropy of its weight row in nats (0: all on one token; ln(tokens):
// uniform).
struct HeadSummary {
  std::vector<int64_t> argmax;
  std::vector<double> entropy;
  double mean_entropy = 0.0;
};

HeadSummary summarize_head(std::span<const float> weights, int64_t tokens);

double l2_norm(std::span<const float> v);
double l2_norm(std::span<const double> v);
double max_abs_difference(std::span<const float> a, std::span<const float> b);

}  // namespace vecformer::detail
