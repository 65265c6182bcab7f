// The NomicBERT family (model_type "nomic_bert", nomic-embed-text): nomic-ai's NomicBertModel
// (contrastors' modeling_hf_nomic_bert.py; NomicBertConfig is a GPT2Config: n_embd, n_head,
// n_layer, n_inner, n_positions, layer_norm_epsilon, activation_function), with or without the
// "bert." prefix of NomicBertForPreTraining. Post-norm layers (norm1 after attention, norm2 after
// the MLP), emb_ln after the embeddings, Wqkv fused, rotary positions on the first head_dim ·
// rotary_emb_fraction features (dynamic NTK past max_trained_positions when rotary_scaling_factor
// is set), and for swiglu / geglu a gated MLP y = fc11(x) · act(fc12(x)): fc12 is the activated
// half.
#include <cmath>
#include <string>

#include "model/checkpoint_reader.hpp"
#include "model/family.hpp"

namespace vecformer::detail {

namespace {

bool gated_activation(const std::string& name) {
  return name == "swiglu" || name == "geglu" || name == "glu";
}

// The options of NomicBertConfig this implementation cannot honour, each an error rather than a
// silently different model.
void reject_unsupported(const ConfigReader& reader) {
  const auto must_be_false = [&](const char* key, const char* why) {
    if (reader.boolean(key, false)) {
      reader.fail(ConfigReader::field(key) + " is true, which is not supported (" + why + ")");
    }
  };
  // Hugging Face's prenorm path returns the last MLP output without its residual and no final norm.
  must_be_false("prenorm", "the pre-norm NomicBertBlock's output has no vecformer equivalent");
  must_be_false("parallel_block", "parallel attention and MLP blocks");
  must_be_false("use_rms_norm", "RMSNorm");
  must_be_false("causal", "a causal mask in an encoder");
  must_be_false("rotary_head_dim", "rotary positions along the head axis");
  must_be_false("norm_mlp", "a LayerNorm inside the gated MLP");
  if (reader.value("rotary_emb_scale_base")) {
    reader.fail("field 'rotary_emb_scale_base' is set, which is not supported (xPos scaling)");
  }
  if (reader.number("moe_every_n_layers", 0) > 0) {
    reader.fail("field 'moe_every_n_layers' is set, which is not supported (mixture of experts)");
  }
  if (const json* kv = reader.value("num_heads_kv");
      kv && !(kv->is_number_unsigned() &&
              kv->get<int64_t>() == reader.positive_int("n_head", max_dimension))) {
    reader.fail("field 'num_heads_kv' " + ConfigReader::describe(*kv) +
                " differs from field 'n_head', which is not supported (grouped attention)");
  }
}

// NomciBertGatedMLP's width: n_inner (else int(8 · n_embd / 3)) rounded up to a multiple of 256.
int64_t gated_width(const ConfigReader& reader, int64_t hidden) {
  const int64_t inner =
      reader.value("n_inner") ? reader.positive_int("n_inner", max_dimension) : 8 * hidden / 3;
  return (inner + 255) / 256 * 256;
}

}  // namespace

Config read_nomic_bert_config(const ConfigReader& reader) {
  reject_unsupported(reader);
  Config config;
  config.model_type = "nomic_bert";
  config.hidden_size = reader.positive_int("n_embd", max_dimension);
  config.num_attention_heads = reader.positive_int("n_head", max_dimension);
  config.num_hidden_layers = reader.positive_int("n_layer", max_dimension);
  config.max_position_embeddings = reader.positive_int("n_positions", max_dimension);
  check_heads_divide_hidden(reader, config, "n_embd", "n_head");
  // NomicBertModel pads the vocabulary (and so the word table) to pad_vocab_size_multiple.
  const int64_t vocab = reader.positive_int("vocab_size", max_vocab_size);
  const int64_t multiple = reader.non_negative_int("pad_vocab_size_multiple", 1, max_dimension);
  config.vocab_size = multiple > 1 ? (vocab + multiple - 1) / multiple * multiple : vocab;
  config.type_vocab_size = reader.non_negative_int("type_vocab_size", 2, max_dimension);
  config.layer_norm_eps = reader.positive_number("layer_norm_epsilon", 1e-5);

  const std::string activation = reader.string("activation_function", "gelu_new");
  if (activation == "swiglu" || activation == "geglu") {
    config.feed_forward = FeedForward::gated;
    config.hidden_act = activation == "swiglu" ? Activation::silu : Activation::gelu_erf;
    config.intermediate_size = gated_width(reader, config.hidden_size);
  } else if (activation == "gelu" || activation == "gelu_new" || activation == "gelu_fast" ||
             activation == "gelu_pytorch_tanh") {
    // NomicBertBlock hands F.gelu (exact) to the MLP for every GELU name.
    config.hidden_act = Activation::gelu_erf;
    config.intermediate_size = reader.value("n_inner")
                                   ? reader.positive_int("n_inner", max_dimension)
                                   : 4 * config.hidden_size;
  } else if (gated_activation(activation)) {
    reader.fail("field 'activation_function' is \"glu\" (a sigmoid gate), which is not supported");
  } else {
    reader.fail("field 'activation_function' is \"" + printable(activation) +
                "\", which is not supported (supported: swiglu, geglu, gelu, gelu_new, gelu_fast, "
                "gelu_pytorch_tanh)");
  }

  const double fraction = reader.number("rotary_emb_fraction", 0.0);
  if (fraction <= 0) {
    // NomicBertEmbeddings' learned table (n_positions rows) instead of rotary positions.
    config.position_embedding_type = PositionEmbedding::learned;
    return config;
  }
  const double dim = static_cast<double>(config.head_dim()) * fraction;
  // (The range test first: a huge fraction must not reach the integer conversion.)
  if (dim > static_cast<double>(config.head_dim()) || dim != std::floor(dim) ||
      static_cast<int64_t>(dim) % 2 != 0) {
    reader.fail("field 'rotary_emb_fraction' (" +
                ConfigReader::describe(*reader.value("rotary_emb_fraction")) +
                ") times the head dimension (" + std::to_string(config.head_dim()) +
                ") is not an even whole number of rotated features at most the head dimension");
  }
  config.position_embedding_type = PositionEmbedding::rotary;
  config.rotary.dim = static_cast<int64_t>(dim);
  config.rotary.interleaved = reader.boolean("rotary_emb_interleaved", false);
  config.rotary.base = reader.positive_number("rotary_emb_base", 10000.0);
  config.rotary.local_base = config.rotary.base;
  // A null, absent or zero factor is "no scaling" (the Python truthiness test).
  const double factor = reader.number("rotary_scaling_factor", 0.0);
  if (factor < 0) reader.fail("field 'rotary_scaling_factor' must not be negative");
  if (factor > 0) {
    config.rotary.scaling = RotaryScaling::dynamic_ntk;
    config.rotary.scaling_factor = factor;
    config.rotary.max_trained_positions =
        reader.non_negative_int("max_trained_positions", 2048, max_dimension);
    if (config.rotary.max_trained_positions == 0) {
      reader.fail("field 'max_trained_positions' must be positive with rotary_scaling_factor");
    }
  }
  return config;
}

EncoderWeights load_nomic_bert_weights(const Config& config, const ConfigReader& json,
                                       const Checkpoint& checkpoint) {
  const CheckpointReader reader(
      checkpoint, detect_prefix(checkpoint, "embeddings.word_embeddings.weight", "bert."));
  const int64_t hidden = config.hidden_size;
  const int64_t inner = config.intermediate_size;
  const bool qkv_bias = json.boolean("qkv_proj_bias", true);
  const bool fc1_bias = json.boolean("mlp_fc1_bias", true);
  const bool fc2_bias = json.boolean("mlp_fc2_bias", true);

  EncoderWeights w;
  w.config = config;
  reader.embeddings(config, "with rotary_emb_fraction > 0 the model has no position table", w);
  w.embedding_norm = reader.norm("emb_ln", hidden);
  w.layers = read_layers(config.num_hidden_layers, [&](int64_t l) {
    const std::string layer = "encoder.layers." + std::to_string(l) + ".";
    LayerWeights lw;
    lw.qkv = reader.linear(layer + "attn.Wqkv", 3 * hidden, hidden, qkv_bias);
    lw.attention_out = reader.linear(layer + "attn.out_proj", hidden, hidden, qkv_bias);
    lw.attention_norm = reader.norm(layer + "norm1", hidden);
    if (config.feed_forward == FeedForward::gated) {
      // y = fc11(x) · act(fc12(x)): fc12's rows first.
      lw.ffn_in =
          reader.stacked_linear({layer + "mlp.fc12", layer + "mlp.fc11"}, inner, hidden, fc1_bias);
    } else {
      lw.ffn_in = reader.linear(layer + "mlp.fc1", inner, hidden, fc1_bias);
    }
    lw.ffn_out = reader.linear(layer + "mlp.fc2", hidden, inner, fc2_bias);
    lw.ffn_norm = reader.norm(layer + "norm2", hidden);
    return lw;
  });
  reader.reject("encoder.layers." + std::to_string(config.num_hidden_layers) + ".attn.Wqkv.weight",
                "the checkpoint has more layers than n_layer (" +
                    std::to_string(config.num_hidden_layers) + ")");
  return w;
}

}  // namespace vecformer::detail
