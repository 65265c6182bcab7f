// The BERT family: Hugging Face BertModel tensor names, with or without the "bert." prefix that
// BertFor... task checkpoints carry. Tensors the encoder does not use (pooler, heads) are ignored.
// JinaBERT (jina-embeddings-v2: model_type bert, position_embedding_type "alibi", feed_forward_type
// "geglu" / "reglu") is the same layout with no position table and a GLU feed-forward block:
// mlp.gated_layers [2·I, H] (no bias; the first I rows activated), mlp.wo, mlp.layernorm.
#include <string>

#include "encoder/positional.hpp"
#include "model/checkpoint_reader.hpp"
#include "model/family.hpp"

namespace vecformer::detail {

Config read_bert_family_config(const ConfigReader& reader) {
  return read_bert_config(reader);
}

EncoderWeights load_bert_weights(const Config& config, const Checkpoint& checkpoint) {
  return load_bert_layout(config, checkpoint,
                          detect_prefix(checkpoint, "embeddings.word_embeddings.weight", "bert."));
}

EncoderWeights load_bert_layout(const Config& config, const Checkpoint& checkpoint,
                                const std::string& prefix) {
  const CheckpointReader reader(checkpoint, prefix);
  const int64_t hidden = config.hidden_size;
  const int64_t inner = config.intermediate_size;

  EncoderWeights w;
  w.config = config;
  w.word_embeddings = reader.matrix("embeddings.word_embeddings.weight", config.vocab_size, hidden);
  switch (config.position_embedding_type) {
    case PositionEmbedding::learned:
      w.position_embeddings = reader.matrix("embeddings.position_embeddings.weight",
                                            config.max_position_embeddings, hidden);
      break;
    case PositionEmbedding::sinusoidal:
      w.position_embeddings = sinusoidal_positions(config.max_position_embeddings, hidden);
      break;
    case PositionEmbedding::alibi:  // inside attention: a stored table would be another model
      reader.reject("embeddings.position_embeddings.weight",
                    "with position_embedding_type \"alibi\" the model has no position table");
      break;
    case PositionEmbedding::none:
    case PositionEmbedding::rotary:
      break;
  }
  if (config.type_vocab_size > 0) {
    if (reader.has("embeddings.token_type_embeddings.weight")) {
      w.token_type_embeddings =
          reader.matrix("embeddings.token_type_embeddings.weight", config.type_vocab_size, hidden);
    } else {
      // Some real checkpoints declare token types in config.json but ship no table for them: the
      // model has none, so that input validation rejects a non-zero type id instead of the
      // encoder silently ignoring it.
      w.config.type_vocab_size = 0;
    }
  }
  w.embedding_norm = reader.norm("embeddings.LayerNorm", hidden, /*optional=*/true);

  w.layers = read_layers(config.num_hidden_layers, [&](int64_t l) {
    const std::string layer = "encoder.layer." + std::to_string(l) + ".";
    LayerWeights lw;
    const std::string self = layer + "attention.self.";
    lw.qkv = reader.stacked_linear({self + "query", self + "key", self + "value"}, hidden, hidden);
    lw.attention_out = reader.linear(layer + "attention.output.dense", hidden, hidden);
    lw.attention_norm = reader.norm(layer + "attention.output.LayerNorm", hidden);
    if (config.feed_forward == FeedForward::gated) {
      // jina-embeddings-v2-base-code's variant (jina-bert-v2-qk-post-norm) norms queries and keys.
      reader.reject(
          self + "layer_norm_q.weight",
          "JinaBERT's QK-post-norm variant (jina-embeddings-v2-base-code) is not supported");
      // JinaBertGLUMLP: act(h[:, :I]) * h[:, I:] — the stored order is already activated-first.
      lw.ffn_in = reader.linear(layer + "mlp.gated_layers", 2 * inner, hidden, /*bias=*/false);
      lw.ffn_out = reader.linear(layer + "mlp.wo", hidden, inner);
      lw.ffn_norm = reader.norm(layer + "mlp.layernorm", hidden);
      return lw;
    }
    lw.ffn_in = reader.linear(layer + "intermediate.dense", inner, hidden);
    lw.ffn_out = reader.linear(layer + "output.dense", hidden, inner);
    lw.ffn_norm = reader.norm(layer + "output.LayerNorm", hidden);
    return lw;
  });
  // Hugging Face BERT checkpoints have none; converted PyTorch encoders (pre- or post-norm) may.
  w.final_norm = reader.norm("encoder.LayerNorm", hidden, /*optional=*/true);
  return w;
}

}  // namespace vecformer::detail
