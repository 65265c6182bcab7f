#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "vecformer/export.hpp"

namespace vecformer {

enum class Activation {
  gelu_erf,
  gelu_tanh,
  relu,
  silu,  // x · sigmoid(x) (SwiGLU's activation)
};

enum class PositionEmbedding {
  learned,     // "absolute": a trained table in the checkpoint
  sinusoidal,  // computed: PE[p, 2i] = sin(p / 10000^(2i/hidden)), PE[p, 2i+1] = cos(...)
  none,        // no positional information at all (a vecformer extension)
  rotary,      // RoPE: each head's queries and keys rotated by position inside attention (no table)
  alibi,       // ALiBi: score(i, j) -= slope_h · |i - j| inside attention (no table)
};

// The feed-forward block's kind.
enum class FeedForward {
  plain,  // ffn_out(act(ffn_in(x)))
  gated,  // ffn_in gives 2·intermediate values u: ffn_out(act(u[0, inner)) ⊙ u[inner, 2·inner)) —
          // the activated half first, whatever order the checkpoint stores them in
};

// How a rotary table's base grows for sequences longer than the trained positions.
enum class RotaryScaling {
  none,
  ntk,          // static NTK-aware: the base scaled once, for every length
  dynamic_ntk,  // per sequence longer than max_trained_positions (NomicBERT)
};

// Rotary position embedding (RoPE), used when position_embedding_type is rotary.
struct RotaryConfig {
  int64_t dim = 0;           // rotated features: the first `dim` of each head's q and k (even)
  bool interleaved = false;  // false: NeoX rotate-half pairs (i, i + dim/2); true: pairs (2i, 2i+1)
  double base = 10000.0;     // θ of global layers
  double local_base = 10000.0;  // θ of local-window layers (ModernBERT's local_rope_theta)
  RotaryScaling scaling = RotaryScaling::none;
  double scaling_factor = 1.0;
  int64_t max_trained_positions = 0;  // dynamic_ntk: lengths up to this use the unscaled base
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
  FeedForward feed_forward = FeedForward::plain;
  RotaryConfig rotary;
  // Local attention (ModernBERT): 0, every layer attends to the whole sequence; otherwise layer l
  // is global when l % global_every == 0, and on the other layers query i sees only keys j with
  // |i - j| <= local_window / 2.
  int64_t local_window = 0;
  int64_t global_every = 1;

  bool layer_is_global(int64_t layer) const {
    return local_window == 0 || layer % global_every == 0;
  }

  int64_t head_dim() const { return hidden_size / num_attention_heads; }
  // The longest sequence the position table can take.
  int64_t max_length() const { return max_position_embeddings - position_offset; }
};

VECFORMER_API std::string_view to_string(Activation activation);
VECFORMER_API std::string_view to_string(PositionEmbedding position);
VECFORMER_API std::string_view to_string(FeedForward feed_forward);

}  // namespace vecformer
