// The DistilBERT family: its own config keys (dim, n_heads, hidden_dim, n_layers, activation,
// sinusoidal_pos_embds) and tensor names (transformer.layer.N.attention.q_lin, ..., an optional
// "distilbert." prefix); post-norm layers, no token types. Its checkpoints always hold the position
// table (with sinusoidal_pos_embds the table holds the sinusoids), so it is read, never computed.
#include <string>

#include "model/checkpoint_reader.hpp"
#include "model/family.hpp"

namespace vecformer::detail {

Config read_distilbert_config(const ConfigReader& reader) {
  Config config;
  config.model_type = "distilbert";
  config.hidden_size = reader.positive_int("dim", max_dimension);
  config.num_attention_heads = reader.positive_int("n_heads", max_dimension);
  config.intermediate_size = reader.positive_int("hidden_dim", max_dimension);
  config.num_hidden_layers = reader.positive_int("n_layers", max_dimension);
  config.vocab_size = reader.positive_int("vocab_size", max_vocab_size);
  config.max_position_embeddings = reader.positive_int("max_position_embeddings", max_dimension);
  config.type_vocab_size = 0;
  config.hidden_act = parse_activation(reader, "activation", reader.string("activation", "gelu"));
  config.layer_norm_eps = 1e-12;  // fixed in Hugging Face's DistilBERT
  config.position_embedding_type = PositionEmbedding::learned;
  check_heads_divide_hidden(reader, config, "dim", "n_heads");
  return config;
}

EncoderWeights load_distilbert_weights(const Config& config, const Checkpoint& checkpoint) {
  const CheckpointReader reader(
      checkpoint, detect_prefix(checkpoint, "embeddings.word_embeddings.weight", "distilbert."));
  const int64_t hidden = config.hidden_size;
  const int64_t inner = config.intermediate_size;

  EncoderWeights w;
  w.config = config;
  w.word_embeddings = reader.matrix("embeddings.word_embeddings.weight", config.vocab_size, hidden);
  w.position_embeddings = reader.matrix("embeddings.position_embeddings.weight",
                                        config.max_position_embeddings, hidden);
  w.embedding_norm = reader.norm("embeddings.LayerNorm", hidden);
  w.layers = read_layers(config.num_hidden_layers, [&](int64_t l) {
    const std::string layer = "transformer.layer." + std::to_string(l) + ".";
    LayerWeights lw;
    const std::string attention = layer + "attention.";
    lw.qkv = reader.stacked_linear({attention + "q_lin", attention + "k_lin", attention + "v_lin"},
                                   hidden, hidden);
    lw.attention_out = reader.linear(layer + "attention.out_lin", hidden, hidden);
    lw.attention_norm = reader.norm(layer + "sa_layer_norm", hidden);
    lw.ffn_in = reader.linear(layer + "ffn.lin1", inner, hidden);
    lw.ffn_out = reader.linear(layer + "ffn.lin2", hidden, inner);
    lw.ffn_norm = reader.norm(layer + "output_layer_norm", hidden);
    return lw;
  });
  return w;
}

}  // namespace vecformer::detail
