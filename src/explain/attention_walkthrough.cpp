#include "explain/attention_walkthrough.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "backend/reference/reference_ops.hpp"

namespace vecformer::detail {

namespace {

// Steps 1 to 5 for one focus token, by the specification itself (reference::attention_weights).
std::vector<float> weights_of(const QkvView& qkv, int64_t head, int64_t focus) {
  std::vector<float> weights(static_cast<size_t>(qkv.tokens));
  reference::attention_weights(qkv.query(0, head), 3 * qkv.hidden(), qkv.hidden(), qkv.tokens,
                               qkv.head_dim, focus, weights.data(), qkv.alibi_slope(head),
                               qkv.window);
  return weights;
}

}  // namespace

AttentionSteps walk_through_attention(const QkvView& qkv, int64_t head, int64_t focus) {
  const int64_t tokens = qkv.tokens, dim = qkv.head_dim;
  AttentionSteps s;
  s.head = head;
  s.focus = focus;
  s.head_dim = dim;
  s.scale = 1.0 / std::sqrt(static_cast<double>(dim));

  // 1. Query: the focus token's query vector.
  const float* query = qkv.query(focus, head);
  s.query.assign(query, query + dim);
  // 2. Keys: every token's key vector.
  for (int64_t j = 0; j < tokens; ++j)
    s.keys.emplace_back(qkv.key(j, head), qkv.key(j, head) + dim);
  // 3. Similarity: the query-key dot product, scaled by 1/sqrt(head_dim), minus the head's ALiBi
  // slope times the tokens' distance (the specification's dot product, and its rounding of the
  // similarity to float, kept for display). A key outside a local window is not compared: −inf.
  const double slope = qkv.alibi_slope(head);
  for (int64_t j = 0; j < tokens; ++j) {
    const auto distance = static_cast<double>(focus > j ? focus - j : j - focus);
    s.dot_products.push_back(reference::query_key_dot(query, qkv.key(j, head), dim));
    s.similarities.push_back(
        qkv.window > 0 && distance > static_cast<double>(qkv.window / 2)
            ? -std::numeric_limits<float>::infinity()
            : static_cast<float>(s.dot_products.back() * s.scale - slope * distance));
  }
  // 4. Softmax over the similarities (the terms reference::softmax forms, kept for display) ...
  s.similarity_max = s.similarities[0];
  for (float v : s.similarities)
    s.similarity_max = std::max(s.similarity_max, static_cast<double>(v));
  for (float v : s.similarities) {
    s.exponentials.push_back(std::exp(v - s.similarity_max));
    s.exponential_sum += s.exponentials.back();
  }
  // 5. ... gives the attention weights, which sum to 1.
  s.weights = weights_of(qkv, head, focus);
  for (float w : s.weights) s.weight_sum += w;
  // 6. Scaled values: each token's value vector times its weight;
  s.sum.assign(static_cast<size_t>(dim), 0.0);
  for (int64_t j = 0; j < tokens; ++j) {
    const float* value = qkv.value(j, head);
    s.values.emplace_back(value, value + dim);
    std::vector<double> weighted(static_cast<size_t>(dim));
    for (int64_t d = 0; d < dim; ++d) weighted[d] = static_cast<double>(s.weights[j]) * value[d];
    // 7. multiply-and-sum: added up over all tokens, in token order as the specification adds ...
    for (int64_t d = 0; d < dim; ++d) s.sum[d] += weighted[d];
    s.weighted_values.push_back(std::move(weighted));
  }
  // 8. ... is the attention value of the focus token.
  for (double v : s.sum) s.attention_value.push_back(static_cast<float>(v));
  return s;
}

std::vector<float> attention_weights(const QkvView& qkv, int64_t head) {
  std::vector<float> matrix;
  matrix.reserve(static_cast<size_t>(qkv.tokens * qkv.tokens));
  for (int64_t focus = 0; focus < qkv.tokens; ++focus) {
    const std::vector<float> row = weights_of(qkv, head, focus);
    matrix.insert(matrix.end(), row.begin(), row.end());
  }
  return matrix;
}

std::vector<float> reference_context(const QkvView& qkv) {
  const int64_t hidden = qkv.hidden();
  std::vector<float> context(static_cast<size_t>(qkv.tokens * hidden));
  for (int64_t h = 0; h < qkv.heads; ++h) {
    reference::attention_head(qkv.query(0, h), 3 * hidden, hidden, qkv.tokens, qkv.head_dim,
                              context.data() + h * qkv.head_dim, hidden, qkv.alibi_slope(h),
                              qkv.window);
  }
  return context;
}

HeadSummary summarize_head(std::span<const float> weights, int64_t tokens) {
  HeadSummary summary;
  for (int64_t q = 0; q < tokens; ++q) {
    const std::span<const float> row = weights.subspan(q * tokens, tokens);
    int64_t best = 0;
    double entropy = 0.0;
    for (int64_t k = 0; k < tokens; ++k) {
      if (row[k] > row[best]) best = k;
      if (row[k] > 0.0f) entropy -= row[k] * std::log(static_cast<double>(row[k]));
    }
    summary.argmax.push_back(best);
    summary.entropy.push_back(entropy);
    summary.mean_entropy += entropy / static_cast<double>(tokens);
  }
  return summary;
}

double l2_norm(std::span<const float> v) {
  double sum = 0.0;
  for (float x : v) sum += static_cast<double>(x) * x;
  return std::sqrt(sum);
}

double l2_norm(std::span<const double> v) {
  double sum = 0.0;
  for (double x : v) sum += x * x;
  return std::sqrt(sum);
}

double max_abs_difference(std::span<const float> a, std::span<const float> b) {
  double worst = 0.0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    const double diff = std::abs(static_cast<double>(a[i]) - b[i]);
    // A NaN must not pass for agreement: it makes the result NaN.
    if (std::isnan(diff)) return diff;
    worst = std::max(worst, diff);
  }
  return worst;
}

}  // namespace vecformer::detail
