#pragma once

// Random encoders and batches for backend cross-checks and property tests, built in memory.
#include <cmath>
#include <random>
#include <vector>

#include "encoder/positional.hpp"
#include "encoder/weights.hpp"
#include "vecformer/model.hpp"

namespace vecformer::test {

struct RandomModelSpec {
  int64_t heads = 2;
  int64_t head_dim = 16;
  int64_t layers = 1;
  int64_t intermediate = 64;
  int64_t vocab = 50;
  int64_t max_positions = 64;
  int64_t type_vocab = 2;
  Activation activation = Activation::gelu_erf;
  PositionEmbedding positions = PositionEmbedding::learned;
  bool norm_first = false;
  bool embedding_norm = true;
  bool final_norm = false;
};

inline std::vector<float> random_values(std::mt19937& rng, size_t n, float stddev, float mean = 0) {
  std::normal_distribution<float> dist(mean, stddev);
  std::vector<float> values(n);
  for (float& v : values) v = dist(rng);
  return values;
}

inline detail::Matrix random_matrix(std::mt19937& rng, int64_t rows, int64_t cols, float stddev) {
  return detail::Matrix{rows, cols, random_values(rng, rows * cols, stddev)};
}

inline detail::LinearWeights random_linear(std::mt19937& rng, int64_t out, int64_t in) {
  // 1/sqrt(in) keeps each projection's outputs O(1) for O(1) inputs, so errors are not hidden by scale.
  return {random_matrix(rng, out, in, 1.0f / std::sqrt(static_cast<float>(in))),
          random_values(rng, out, 0.1f)};
}

inline detail::Norm random_norm(std::mt19937& rng, int64_t n) {
  return {random_values(rng, n, 0.1f, 1.0f), random_values(rng, n, 0.1f)};
}

inline Config config_of(const RandomModelSpec& spec) {
  Config c;
  c.hidden_size = spec.heads * spec.head_dim;
  c.num_attention_heads = spec.heads;
  c.intermediate_size = spec.intermediate;
  c.num_hidden_layers = spec.layers;
  c.hidden_act = spec.activation;
  c.layer_norm_eps = 1e-5;
  c.vocab_size = spec.vocab;
  c.max_position_embeddings = spec.max_positions;
  c.type_vocab_size = spec.type_vocab;
  c.position_embedding_type = spec.positions;
  c.norm_first = spec.norm_first;
  return c;
}

inline detail::EncoderWeights random_weights(const RandomModelSpec& spec, uint32_t seed) {
  std::mt19937 rng(seed);
  detail::EncoderWeights w;
  w.config = config_of(spec);
  const int64_t hidden = w.config.hidden_size;
  w.word_embeddings = random_matrix(rng, spec.vocab, hidden, 1.0f);
  if (spec.positions == PositionEmbedding::learned) {
    w.position_embeddings = random_matrix(rng, spec.max_positions, hidden, 0.5f);
  } else if (spec.positions == PositionEmbedding::sinusoidal) {
    w.position_embeddings = detail::sinusoidal_positions(spec.max_positions, hidden);
  }
  if (spec.type_vocab > 0) w.token_type_embeddings = random_matrix(rng, spec.type_vocab, hidden, 0.5f);
  if (spec.embedding_norm) w.embedding_norm = random_norm(rng, hidden);
  for (int64_t l = 0; l < spec.layers; ++l) {
    detail::LayerWeights layer;
    layer.qkv = random_linear(rng, 3 * hidden, hidden);
    layer.attention_out = random_linear(rng, hidden, hidden);
    layer.attention_norm = random_norm(rng, hidden);
    layer.ffn_in = random_linear(rng, spec.intermediate, hidden);
    layer.ffn_out = random_linear(rng, hidden, spec.intermediate);
    layer.ffn_norm = random_norm(rng, hidden);
    w.layers.push_back(std::move(layer));
  }
  if (spec.final_norm) w.final_norm = random_norm(rng, hidden);
  return w;
}

inline std::vector<Sequence> random_sequences(std::mt19937& rng, const std::vector<int64_t>& lengths,
                                              int64_t vocab, int64_t type_vocab) {
  std::uniform_int_distribution<int64_t> id(0, vocab - 1);
  std::uniform_int_distribution<int64_t> type(0, std::max<int64_t>(type_vocab - 1, 0));
  std::vector<Sequence> sequences;
  for (int64_t length : lengths) {
    Sequence s;
    for (int64_t t = 0; t < length; ++t) {
      s.input_ids.push_back(id(rng));
      s.token_type_ids.push_back(type(rng));
    }
    sequences.push_back(std::move(s));
  }
  return sequences;
}

inline float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  float worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}

}  // namespace vecformer::test
