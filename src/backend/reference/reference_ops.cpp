#include "backend/reference/reference_ops.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>

namespace vecformer::detail::reference {

namespace {
constexpr double kSqrt2OverPi = 0.7978845608028654;  // sqrt(2 / pi)

// x · sigmoid(x) = x / (1 + e^(-x)): for large negative x, e^(-x) overflows to inf and the result
// is -0, its limit.
double silu(double x) {
  return x / (1.0 + std::exp(-x));
}
}  // namespace

void activation(float* x, int64_t n, Activation act) {
  for (int64_t i = 0; i < n; ++i) {
    const double v = x[i];
    switch (act) {
      case Activation::gelu_erf:
        x[i] = static_cast<float>(0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))));
        break;
      case Activation::gelu_tanh:
        x[i] = static_cast<float>(0.5 * v *
                                  (1.0 + std::tanh(kSqrt2OverPi * (v + 0.044715 * v * v * v))));
        break;
      case Activation::relu:
        x[i] = v > 0.0 ? static_cast<float>(v) : 0.0f;
        break;
      case Activation::silu:
        x[i] = static_cast<float>(silu(v));
        break;
    }
  }
}

void softmax(float* x, int64_t n) {
  double max = x[0];
  for (int64_t i = 1; i < n; ++i) max = std::max(max, static_cast<double>(x[i]));
  double sum = 0.0;
  std::vector<double> e(n);
  for (int64_t i = 0; i < n; ++i) {
    e[i] = std::exp(x[i] - max);
    sum += e[i];
  }
  for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>(e[i] / sum);
}

void add_layer_norm_row(float* x, const float* delta, const float* gamma, const float* beta,
                        float eps, int64_t n, float* normed) {
  if (delta) {
    for (int64_t i = 0; i < n; ++i) x[i] += delta[i];
  }
  double mean = 0.0;
  for (int64_t i = 0; i < n; ++i) mean += x[i];
  mean /= n;
  double var = 0.0;
  for (int64_t i = 0; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
  var /= n;
  const double inv_std = 1.0 / std::sqrt(var + eps);
  for (int64_t i = 0; i < n; ++i) {
    const double bias = beta ? beta[i] : 0.0;  // ModernBERT's norms have none
    normed[i] = static_cast<float>((x[i] - mean) * inv_std * gamma[i] + bias);
  }
}

double query_key_dot(const float* query, const float* key, int64_t head_dim) {
  double dot = 0.0;
  for (int64_t d = 0; d < head_dim; ++d) dot += static_cast<double>(query[d]) * key[d];
  return dot;
}

AttendedKeys attended_keys(int64_t focus, int64_t length, int64_t window) {
  if (window == 0) return {0, length};
  const int64_t reach = window / 2;  // ModernBERT: |i - j| <= local_attention // 2
  return {std::max<int64_t>(focus - reach, 0), std::min(focus + reach + 1, length)};
}

void attention_weights(const float* qkv, int64_t row_stride, int64_t key_offset, int64_t length,
                       int64_t head_dim, int64_t focus, float* weights, float alibi_slope,
                       int64_t window) {
  const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim));
  const auto [first, last] = attended_keys(focus, length, window);
  // Keys outside the local window take no part: their weight is 0.
  std::fill(weights, weights + length, 0.0f);
  // 1. Query: the focus token's query vector.
  const float* query = qkv + focus * row_stride;
  for (int64_t other = first; other < last; ++other) {
    // 2. Keys: every token's key vector (every one within the window, with a window).
    const float* key = qkv + other * row_stride + key_offset;
    // 3. Similarity: the query-key dot product, scaled by 1/sqrt(head_dim); with ALiBi, minus
    //    the head's slope times the distance between the two tokens (after the scaling, as Jina
    //    adds its bias to the scaled scores).
    const double distance = static_cast<double>(focus > other ? focus - other : other - focus);
    weights[other] = static_cast<float>(query_key_dot(query, key, head_dim) * scale -
                                        static_cast<double>(alibi_slope) * distance);
  }
  // 4. Softmax over the similarities ...
  softmax(weights + first, last - first);
  // 5. ... gives the attention weights, which sum to 1.
}

namespace {

// Steps 6 to 8 for one focus token, from its attention weights over the tokens [first, last)
// (the others' are 0); token t's value starts at values + t·value_stride.
void attention_value(const float* weights, const float* values, int64_t value_stride,
                     AttendedKeys keys, int64_t head_dim, float* value_out) {
  for (int64_t d = 0; d < head_dim; ++d) {
    double sum = 0.0;
    for (int64_t other = keys.first; other < keys.last; ++other) {
      const float* value = values + other * value_stride;
      // 6. Scaled values: each token's value vector times its weight;
      // 7. multiply-and-sum: added up over all (attended) tokens ...
      sum += static_cast<double>(weights[other]) * value[d];
    }
    // 8. ... is the attention value of the focus token.
    value_out[d] = static_cast<float>(sum);
  }
}

}  // namespace

void attention_head(const float* qkv, int64_t row_stride, int64_t key_offset, int64_t length,
                    int64_t head_dim, float* context, int64_t context_stride, float alibi_slope,
                    int64_t window) {
  std::vector<float> weights(length);
  for (int64_t focus = 0; focus < length; ++focus) {
    attention_weights(qkv, row_stride, key_offset, length, head_dim, focus, weights.data(),
                      alibi_slope, window);
    attention_value(weights.data(), qkv + 2 * key_offset, row_stride,
                    attended_keys(focus, length, window), head_dim,
                    context + focus * context_stride);
  }
}

float round_to_bf16(float x) {
  uint32_t bits = std::bit_cast<uint32_t>(x);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return std::bit_cast<float>(bits | 0x00400000u);  // NaN
  if ((bits & 0x7f800000u) == 0) return std::bit_cast<float>(bits & 0x80000000u);  // denormal, 0
  bits += 0x7fffu + ((bits >> 16) & 1u);  // to nearest, ties to even; overflow gives infinity
  return std::bit_cast<float>(bits & 0xffff0000u);
}

void attention_head_bf16(const float* qkv, int64_t row_stride, int64_t key_offset, int64_t length,
                         int64_t head_dim, float* context, int64_t context_stride,
                         float alibi_slope, int64_t window) {
  // The same steps as attention_head, on bf16-rounded copies of the query, key and value rows
  // (packed [q | k | v] per token) and with the weights rounded between steps 5 and 6.
  std::vector<float> rounded(static_cast<size_t>(length * 3 * head_dim));
  for (int64_t t = 0; t < length; ++t) {
    for (int64_t part = 0; part < 3; ++part) {
      const float* in = qkv + t * row_stride + part * key_offset;
      float* out = rounded.data() + (t * 3 + part) * head_dim;
      for (int64_t d = 0; d < head_dim; ++d) out[d] = round_to_bf16(in[d]);
    }
  }
  const int64_t stride = 3 * head_dim;
  std::vector<float> weights(length);
  for (int64_t focus = 0; focus < length; ++focus) {
    attention_weights(rounded.data(), stride, head_dim, length, head_dim, focus, weights.data(),
                      alibi_slope, window);
    for (float& w : weights) w = round_to_bf16(w);
    attention_value(weights.data(), rounded.data() + 2 * head_dim, stride,
                    attended_keys(focus, length, window), head_dim,
                    context + focus * context_stride);
  }
}

void rotate(float* x, const float* cos, const float* sin, int64_t dim, bool interleaved) {
  const int64_t half = dim / 2;
  for (int64_t i = 0; i < half; ++i) {
    // The pair (first, second) is the point rotated by the angle whose cos and sin are row[i].
    float& first = interleaved ? x[2 * i] : x[i];
    float& second = interleaved ? x[2 * i + 1] : x[i + half];
    const double a = first, b = second, c = cos[i], s = sin[i];
    first = static_cast<float>(a * c - b * s);
    second = static_cast<float>(b * c + a * s);
  }
}

void gate(const float* u, int64_t n, Activation act, float* y) {
  for (int64_t i = 0; i < n; ++i) {
    float activated = u[i];
    activation(&activated, 1, act);
    y[i] = static_cast<float>(static_cast<double>(activated) * u[n + i]);
  }
}

}  // namespace vecformer::detail::reference
