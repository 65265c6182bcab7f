// The GTE "new" family (model_type "new": Alibaba-NLP/new-impl, gte-base/large-en-v1.5), with or
// without the "new." prefix of NewFor... checkpoints. BERT-like post-norm layers (attn_ln, mlp_ln)
// with a fused qkv_proj (or q/k/v_proj when pack_qkv is false), o_proj, and a gated MLP
// up_gate_proj [2·I, H] (no bias) split as `up, gate = split(I)`, y = down_proj(act(gate) · up):
// the second half is the activated one. Rotary positions over the whole head
// (position_embedding_type "rope", θ = rope_theta, rope_scaling {"type": "ntk", "factor": f}: fixed
// NTK scaling for every length), or a learned table ("absolute").
#include <cmath>
#include <string>

#include "model/checkpoint_reader.hpp"
#include "model/family.hpp"

namespace vecformer::detail {

namespace {

void read_rope_scaling(const ConfigReader& reader, Config& config) {
  const json* scaling = reader.value("rope_scaling");
  if (!scaling) return;
  if (!scaling->is_object()) {
    reader.fail("field 'rope_scaling' must be an object or null, got " +
                ConfigReader::describe(*scaling));
  }
  const ConfigReader inner(reader.path(), *scaling);
  const std::string type = inner.string("type", "");
  if (type != "ntk") {
    reader.fail("field 'rope_scaling.type' is \"" + printable(type) +
                "\", which is not supported (supported: ntk)");
  }
  if (inner.value("mixed_b")) {
    reader.fail("field 'rope_scaling.mixed_b' is set, which is not supported (mixed NTK scaling)");
  }
  const json* factor = inner.value("factor");
  if (!factor || !factor->is_number() || !(factor->get<double>() > 0) ||
      !std::isfinite(factor->get<double>())) {
    reader.fail("field 'rope_scaling.factor' must be a positive number, got " +
                (factor ? ConfigReader::describe(*factor) : std::string("nothing")));
  }
  config.rotary.scaling = RotaryScaling::ntk;
  config.rotary.scaling_factor = factor->get<double>();
}

}  // namespace

Config read_gte_config(const ConfigReader& reader) {
  Config config;
  config.model_type = "new";
  read_bert_sizes(reader, config);
  config.type_vocab_size = reader.non_negative_int("type_vocab_size", 1, max_dimension);
  config.hidden_act = parse_activation(reader, "hidden_act", reader.string("hidden_act", "gelu"));
  config.layer_norm_eps = reader.positive_number("layer_norm_eps", 1e-12);
  config.feed_forward = FeedForward::gated;
  check_heads_divide_hidden(reader, config, "hidden_size", "num_attention_heads");

  const std::string norm = reader.string("layer_norm_type", "layer_norm");
  if (norm != "layer_norm") {
    reader.fail("field 'layer_norm_type' is \"" + printable(norm) +
                "\", which is not supported (supported: layer_norm)");
  }
  if (reader.boolean("logn_attention_scale", false)) {
    reader.fail("field 'logn_attention_scale' is true, which is not supported");
  }
  const std::string position = reader.string("position_embedding_type", "rope");
  if (position == "absolute") {
    config.position_embedding_type = PositionEmbedding::learned;
    return config;
  }
  if (position != "rope") {
    reader.fail("field 'position_embedding_type' is \"" + printable(position) +
                "\", which is not supported (supported: rope, absolute)");
  }
  if (config.head_dim() % 2 != 0) {
    reader.fail("field 'hidden_size' / field 'num_attention_heads' gives an odd head dimension (" +
                std::to_string(config.head_dim()) + "): rotary positions need an even one");
  }
  config.position_embedding_type = PositionEmbedding::rotary;
  config.rotary.dim = config.head_dim();
  config.rotary.base = reader.positive_number("rope_theta", 10000.0);
  config.rotary.local_base = config.rotary.base;
  read_rope_scaling(reader, config);
  return config;
}

EncoderWeights load_gte_weights(const Config& config, const ConfigReader& json,
                                const Checkpoint& checkpoint) {
  const CheckpointReader reader(
      checkpoint, detect_prefix(checkpoint, "embeddings.word_embeddings.weight", "new."));
  const int64_t hidden = config.hidden_size;
  const int64_t inner = config.intermediate_size;
  const bool pack_qkv = json.boolean("pack_qkv", true);

  EncoderWeights w;
  w.config = config;
  reader.embeddings(config, "with position_embedding_type \"rope\" the model has no position table",
                    w);
  w.embedding_norm = reader.norm("embeddings.LayerNorm", hidden);
  w.layers = read_layers(config.num_hidden_layers, [&](int64_t l) {
    const std::string layer = "encoder.layer." + std::to_string(l) + ".";
    const std::string attention = layer + "attention.";
    LayerWeights lw;
    lw.qkv = pack_qkv ? reader.linear(attention + "qkv_proj", 3 * hidden, hidden)
                      : reader.stacked_linear(
                            {attention + "q_proj", attention + "k_proj", attention + "v_proj"},
                            hidden, hidden);
    lw.attention_out = reader.linear(attention + "o_proj", hidden, hidden);
    lw.attention_norm = reader.norm(layer + "attn_ln", hidden);
    // up, gate = split(up_gate_proj(x), I); act(gate) · up: the gate rows [I, 2·I) go first.
    lw.ffn_in = reader.row_blocks(layer + "mlp.up_gate_proj", 2 * inner, hidden,
                                  {{inner, inner}, {0, inner}}, /*bias=*/false);
    lw.ffn_out = reader.linear(layer + "mlp.down_proj", hidden, inner);
    lw.ffn_norm = reader.norm(layer + "mlp_ln", hidden);
    return lw;
  });
  reader.reject(
      "encoder.layer." + std::to_string(config.num_hidden_layers) + ".attention.o_proj.weight",
      "the checkpoint has more layers than num_hidden_layers (" +
          std::to_string(config.num_hidden_layers) + ")");
  return w;
}

}  // namespace vecformer::detail
