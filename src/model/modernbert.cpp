// The ModernBERT family (model_type "modernbert"): Hugging Face ModernBertModel, with or without
// the "model." prefix of ModernBertFor... checkpoints. Pre-norm layers (layer 0 has no attn_norm:
// the embeddings' norm precedes it), a final norm, GeGLU feed-forward (mlp.Wi [2·I, H], the first I
// rows activated: `input, gate = Wi(x).chunk(2)`; act(input) · gate), rotary positions over the
// whole head with θ = global_rope_theta on global layers and local_rope_theta on the others, which
// see only keys within local_attention / 2 positions. The bias flags (norm_bias, attention_bias,
// mlp_bias) default to false, as ModernBertConfig's do. Heads (head.*, decoder.*, classifier.*) are
// ignored here.
#include <cmath>
#include <string>

#include "model/checkpoint_reader.hpp"
#include "model/family.hpp"

namespace vecformer::detail {

namespace {

// rope_parameters[layer_type] of newer configs: {"rope_type": "default", "rope_theta": θ}. Returns
// `fallback` when absent.
double rope_theta(const ConfigReader& reader, const char* layer_type, double fallback) {
  const json* parameters = reader.value("rope_parameters");
  if (!parameters) return fallback;
  const std::string where = std::string("rope_parameters.") + layer_type;
  if (!parameters->is_object()) {
    reader.fail("field 'rope_parameters' must be an object, got " +
                ConfigReader::describe(*parameters));
  }
  const auto it = parameters->find(layer_type);
  if (it == parameters->end() || it->is_null()) return fallback;
  if (!it->is_object()) {
    reader.fail("field '" + where + "' must be an object, got " + ConfigReader::describe(*it));
  }
  const ConfigReader inner(reader.path(), *it);
  const std::string type = inner.string("rope_type", "default");
  if (type != "default") {
    reader.fail("field '" + where + ".rope_type' is \"" + printable(type) +
                "\", which is not supported (supported: default)");
  }
  const json* theta = inner.value("rope_theta");
  if (!theta) return fallback;
  if (!theta->is_number() || !(theta->get<double>() > 0) || !std::isfinite(theta->get<double>())) {
    reader.fail("field '" + where + ".rope_theta' must be a positive number, got " +
                ConfigReader::describe(*theta));
  }
  return theta->get<double>();
}

// layer_types, when given, must be the pattern global_attn_every_n_layers gives: Hugging Face picks
// the window from global_attn_every_n_layers but the rotary base from layer_types.
void check_layer_types(const ConfigReader& reader, const Config& config) {
  const json* types = reader.value("layer_types");
  if (!types) return;
  if (!types->is_array() || static_cast<int64_t>(types->size()) != config.num_hidden_layers) {
    reader.fail("field 'layer_types' must be a list of num_hidden_layers (" +
                std::to_string(config.num_hidden_layers) + ") strings, got " +
                ConfigReader::describe(*types));
  }
  for (int64_t l = 0; l < config.num_hidden_layers; ++l) {
    const json& type = (*types)[static_cast<size_t>(l)];
    const char* expected = l % config.global_every == 0 ? "full_attention" : "sliding_attention";
    if (!type.is_string() || type.get_ref<const std::string&>() != expected) {
      reader.fail("field 'layer_types' element " + std::to_string(l) + " is " +
                  ConfigReader::describe(type) + ", but global_attn_every_n_layers (" +
                  std::to_string(config.global_every) + ") makes it \"" + expected +
                  "\" (vecformer supports only that pattern)");
    }
  }
}

}  // namespace

Config read_modernbert_config(const ConfigReader& reader) {
  Config config;
  config.model_type = "modernbert";
  read_bert_sizes(reader, config);
  config.type_vocab_size = 0;
  config.hidden_act =
      parse_activation(reader, "hidden_activation", reader.string("hidden_activation", "gelu"));
  config.layer_norm_eps = reader.positive_number("norm_eps", 1e-5);
  config.position_embedding_type = PositionEmbedding::rotary;
  config.norm_first = true;
  config.feed_forward = FeedForward::gated;
  check_heads_divide_hidden(reader, config, "hidden_size", "num_attention_heads");
  if (config.head_dim() % 2 != 0) {
    reader.fail("field 'hidden_size' / field 'num_attention_heads' gives an odd head dimension (" +
                std::to_string(config.head_dim()) + "): rotary positions need an even one");
  }
  // The rotary table's width (ModernBertRotaryEmbedding reads head_dim when set); attention always
  // uses hidden_size / num_attention_heads, so another value would rotate only part of each head.
  if (reader.value("head_dim") &&
      reader.positive_int("head_dim", max_dimension) != config.head_dim()) {
    reader.fail("field 'head_dim' (" +
                std::to_string(reader.positive_int("head_dim", max_dimension)) +
                ") differs from hidden_size / num_attention_heads (" +
                std::to_string(config.head_dim()) + "), which is not supported");
  }
  if (reader.value("rope_scaling")) {
    reader.fail(
        "field 'rope_scaling' is not supported for modernbert (only default rotary "
        "positions)");
  }
  config.rotary.dim = config.head_dim();
  config.rotary.interleaved = false;
  config.rotary.base =
      rope_theta(reader, "full_attention", reader.positive_number("global_rope_theta", 160000.0));
  config.rotary.local_base =
      rope_theta(reader, "sliding_attention", reader.positive_number("local_rope_theta", 10000.0));
  config.global_every = reader.non_negative_int("global_attn_every_n_layers", 3, max_dimension);
  if (config.global_every == 0) {
    reader.fail("field 'global_attn_every_n_layers' must be a positive integer, got 0");
  }
  config.local_window = reader.non_negative_int("local_attention", 128, max_dimension);
  if (config.local_window == 0) reader.fail("field 'local_attention' must be positive, got 0");
  if (config.local_window > config.max_position_embeddings) {
    reader.fail("field 'local_attention' (" + std::to_string(config.local_window) +
                ") is larger than field 'max_position_embeddings' (" +
                std::to_string(config.max_position_embeddings) + ")");
  }
  check_layer_types(reader, config);
  return config;
}

EncoderWeights load_modernbert_weights(const Config& config, const ConfigReader& json,
                                       const Checkpoint& checkpoint) {
  struct {
    bool norm, attention, mlp;
  } const biases{json.boolean("norm_bias", false), json.boolean("attention_bias", false),
                 json.boolean("mlp_bias", false)};
  const CheckpointReader reader(
      checkpoint, detect_prefix(checkpoint, "embeddings.tok_embeddings.weight", "model."));
  const int64_t hidden = config.hidden_size;
  const int64_t inner = config.intermediate_size;

  EncoderWeights w;
  w.config = config;
  w.word_embeddings = reader.matrix("embeddings.tok_embeddings.weight", config.vocab_size, hidden);
  w.embedding_norm = reader.norm("embeddings.norm", hidden, false, biases.norm);
  w.layers = read_layers(config.num_hidden_layers, [&](int64_t l) {
    const std::string layer = "layers." + std::to_string(l) + ".";
    LayerWeights lw;
    if (l == 0) {
      reader.reject(layer + "attn_norm.weight",
                    "ModernBERT's first layer has no attn_norm (nn.Identity)");
    } else {
      lw.attention_norm = reader.norm(layer + "attn_norm", hidden, false, biases.norm);
    }
    lw.qkv = reader.linear(layer + "attn.Wqkv", 3 * hidden, hidden, biases.attention);
    lw.attention_out = reader.linear(layer + "attn.Wo", hidden, hidden, biases.attention);
    lw.ffn_norm = reader.norm(layer + "mlp_norm", hidden, false, biases.norm);
    lw.ffn_in = reader.linear(layer + "mlp.Wi", 2 * inner, hidden, biases.mlp);
    lw.ffn_out = reader.linear(layer + "mlp.Wo", hidden, inner, biases.mlp);
    return lw;
  });
  reader.reject("layers." + std::to_string(config.num_hidden_layers) + ".attn.Wqkv.weight",
                "the checkpoint has more layers than num_hidden_layers (" +
                    std::to_string(config.num_hidden_layers) + ")");
  w.final_norm = reader.norm("final_norm", hidden, false, biases.norm);
  return w;
}

}  // namespace vecformer::detail
