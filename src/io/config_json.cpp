#include "io/config_json.hpp"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <string_view>

#include "io/json_message.hpp"
#include "vecformer/error.hpp"

namespace vecformer::detail {

namespace {

using nlohmann::json;

std::string read_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw Error(path.string() + ": cannot open: is a directory");
  }
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) {
    throw Error(path.string() +
                ": cannot open: " + (errno != 0 ? std::strerror(errno) : "unknown error"));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw Error(path.string() + ": read error");
  return std::move(text).str();
}

}  // namespace

Activation parse_activation(const ConfigReader& reader, const char* key, const std::string& name) {
  if (name == "gelu") return Activation::gelu_erf;
  // Two spellings of the same tanh approximation in Hugging Face.
  if (name == "gelu_new" || name == "gelu_pytorch_tanh") return Activation::gelu_tanh;
  if (name == "relu") return Activation::relu;
  // Hugging Face's ACT2FN: both names are nn.SiLU.
  if (name == "silu" || name == "swish") return Activation::silu;
  reader.fail(
      ConfigReader::field(key) + " is \"" + printable(name) +
      "\", which is not supported (supported: gelu, gelu_new, gelu_pytorch_tanh, relu, silu, "
      "swish)");
}

namespace {

PositionEmbedding parse_position_embedding(const ConfigReader& reader, const std::string& name) {
  if (name == "absolute") return PositionEmbedding::learned;
  if (name == "sinusoidal") return PositionEmbedding::sinusoidal;
  if (name == "none") return PositionEmbedding::none;
  if (name == "alibi") return PositionEmbedding::alibi;  // JinaBERT (jina-embeddings-v2)
  reader.fail("field 'position_embedding_type' is \"" + printable(name) +
              "\", which is not supported (supported: absolute, sinusoidal, none, alibi)");
}

// JinaBERT's feed_forward_type: "original" is BERT's intermediate / output pair; the GLU kinds
// (mlp.gated_layers, mlp.wo, mlp.layernorm) fix the activation themselves, whatever hidden_act
// says: nn.GELU() (exact) for geglu, nn.ReLU() for reglu.
void apply_feed_forward_type(const ConfigReader& reader, Config& config) {
  const std::string kind = reader.string("feed_forward_type", "original");
  if (kind == "original") return;
  if (kind == "geglu" || kind == "reglu") {
    config.feed_forward = FeedForward::gated;
    config.hidden_act = kind == "geglu" ? Activation::gelu_erf : Activation::relu;
    return;
  }
  reader.fail("field 'feed_forward_type' is \"" + printable(kind) +
              "\", which is not supported (supported: original, geglu, reglu)");
}

}  // namespace

nlohmann::json read_json_file(const std::filesystem::path& path) {
  const std::string text = read_file(path);
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    throw Error(path.string() + ": not valid JSON: " + json_message(e));
  }
}

nlohmann::json read_json_object(const std::filesystem::path& path) {
  json root = read_json_file(path);
  if (!root.is_object()) {
    throw Error(path.string() + ": must hold a JSON object, got " + ConfigReader::describe(root));
  }
  return root;
}

void read_bert_sizes(const ConfigReader& reader, Config& config) {
  config.hidden_size = reader.positive_int("hidden_size", max_dimension);
  config.num_attention_heads = reader.positive_int("num_attention_heads", max_dimension);
  config.intermediate_size = reader.positive_int("intermediate_size", max_dimension);
  config.num_hidden_layers = reader.positive_int("num_hidden_layers", max_dimension);
  config.vocab_size = reader.positive_int("vocab_size", max_vocab_size);
  config.max_position_embeddings = reader.positive_int("max_position_embeddings", max_dimension);
}

Config read_bert_config(const ConfigReader& reader) {
  Config config;
  config.model_type = reader.string("model_type", "bert");
  read_bert_sizes(reader, config);
  // 0 means the model has no token type embedding at all.
  config.type_vocab_size = reader.non_negative_int("type_vocab_size", 2, max_dimension);
  config.hidden_act = parse_activation(reader, "hidden_act", reader.string("hidden_act", "gelu"));
  config.layer_norm_eps = reader.positive_number("layer_norm_eps", 1e-12);
  config.position_embedding_type =
      parse_position_embedding(reader, reader.string("position_embedding_type", "absolute"));
  config.norm_first = reader.boolean("norm_first", false);
  apply_feed_forward_type(reader, config);
  check_heads_divide_hidden(reader, config, "hidden_size", "num_attention_heads");
  // A learned table's size is bounded by the checkpoint file; a computed one only by the config, so
  // a tiny file could otherwise ask for gigabytes.
  constexpr int64_t max_computed_table = int64_t{1} << 26;
  if (config.position_embedding_type == PositionEmbedding::sinusoidal &&
      config.max_position_embeddings * config.hidden_size > max_computed_table) {
    reader.fail(
        "field 'max_position_embeddings' (" + std::to_string(config.max_position_embeddings) +
        ") times field 'hidden_size' is more than the " + std::to_string(max_computed_table) +
        " values vecformer computes for sinusoidal "
        "positions");
  }
  return config;
}

void check_heads_divide_hidden(const ConfigReader& reader, const Config& config,
                               const char* hidden_key, const char* heads_key) {
  if (config.hidden_size % config.num_attention_heads != 0) {
    reader.fail(ConfigReader::field(hidden_key) + " (" + std::to_string(config.hidden_size) +
                ") must be divisible by " + ConfigReader::field(heads_key) + " (" +
                std::to_string(config.num_attention_heads) + ")");
  }
}

Config read_config(const std::filesystem::path& path) {
  const json root = read_json_object(path);
  return read_bert_config(ConfigReader(path, root));
}

}  // namespace vecformer::detail
