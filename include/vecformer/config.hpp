#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "vecformer/export.hpp"

namespace vecformer {

enum class Activation { gelu_erf, gelu_tanh, relu };

enum class PositionEmbedding {
  learned,     // "absolute": a trained table in the checkpoint
  sinusoidal,  // computed: PE[p, 2i] = sin(p / 10000^(2i/hidden)), PE[p, 2i+1] = cos(...)
  none,        // no positional information at all (a vecformer extension)
};

// The shape and behaviour of an encoder, as read from a model folder's config.json.
struct Config {
  std::string model_type = "bert";
  int64_t hidden_size = 0;
  int64_t num_attention_heads = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  Activation hidden_act = Activation::gelu_erf;
  double layer_norm_eps = 1e-12;
  int64_t vocab_size = 0;
  int64_t max_position_embeddings = 0;
  int64_t type_vocab_size = 0;
  PositionEmbedding position_embedding_type = PositionEmbedding::learned;
  bool norm_first = false;
  // Position id of each sequence's first token (RoBERTa: pad_token_id + 1; others 0).
  int64_t position_offset = 0;

  int64_t head_dim() const { return hidden_size / num_attention_heads; }
  // The longest sequence the position table can take.
  int64_t max_length() const { return max_position_embeddings - position_offset; }
};

VECFORMER_API std::string_view to_string(Activation activation);
VECFORMER_API std::string_view to_string(PositionEmbedding position);

}  // namespace vecformer
