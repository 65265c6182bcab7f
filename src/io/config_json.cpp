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

// Far beyond any real encoder, yet small enough that products such as hidden × intermediate or
// vocab × hidden cannot overflow 64 bits further down.
constexpr int64_t max_dimension = int64_t{1} << 20;
constexpr int64_t max_vocab_size = int64_t{1} << 24;

class ConfigReader {
 public:
  ConfigReader(const std::filesystem::path& path, const json& root) : path_(path), root_(root) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(path_.string() + ": " + what);
  }

  int64_t positive_int(const char* key, int64_t limit) const {
    const json& value = required(key);
    if (!value.is_number_unsigned() || value.get<uint64_t>() == 0) {
      fail(field(key) + " must be a positive integer, got " + describe(value));
    }
    return bounded(key, value.get<uint64_t>(), limit);
  }

  int64_t non_negative_int(const char* key, int64_t fallback, int64_t limit) const {
    const json* value = optional(key);
    if (!value) return fallback;
    // nlohmann stores every non-negative JSON integer as unsigned; negatives and floats fall
    // outside.
    if (!value->is_number_unsigned()) {
      fail(field(key) + " must be a non-negative integer, got " + describe(*value));
    }
    return bounded(key, value->get<uint64_t>(), limit);
  }

  std::string string(const char* key, const char* fallback) const {
    const json* value = optional(key);
    if (!value) return fallback;
    if (!value->is_string() || value->get_ref<const std::string&>().empty()) {
      fail(field(key) + " must be a non-empty string, got " + describe(*value));
    }
    return value->get<std::string>();
  }

  double positive_number(const char* key, double fallback) const {
    const json* value = optional(key);
    if (!value) return fallback;
    if (!value->is_number() || !(value->get<double>() > 0) ||
        !std::isfinite(value->get<double>())) {
      fail(field(key) + " must be a positive number, got " + describe(*value));
    }
    return value->get<double>();
  }

  bool boolean(const char* key, bool fallback) const {
    const json* value = optional(key);
    if (!value) return fallback;
    if (!value->is_boolean()) fail(field(key) + " must be true or false, got " + describe(*value));
    return value->get<bool>();
  }

  static std::string field(std::string_view key) { return "field '" + std::string(key) + "'"; }

  // Long values (a whole nested object, say) would drown the message, so they are cut short.
  static std::string describe(const json& value) {
    std::string text = value.dump();
    constexpr size_t max_length = 60;
    if (text.size() > max_length) text = text.substr(0, max_length) + "...";
    return text;
  }

 private:
  const json& required(const char* key) const {
    const auto it = root_.find(key);
    if (it == root_.end()) fail("missing required " + field(key));
    return *it;
  }

  const json* optional(const char* key) const {
    const auto it = root_.find(key);
    return it == root_.end() ? nullptr : &*it;
  }

  int64_t bounded(const char* key, uint64_t value, int64_t limit) const {
    if (value > static_cast<uint64_t>(limit)) {
      fail(field(key) + " is " + std::to_string(value) + ", more than the limit " +
           std::to_string(limit));
    }
    return static_cast<int64_t>(value);
  }

  const std::filesystem::path& path_;
  const json& root_;
};

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

Activation parse_activation(const ConfigReader& reader, const std::string& name) {
  if (name == "gelu") return Activation::gelu_erf;
  // Two spellings of the same tanh approximation in Hugging Face.
  if (name == "gelu_new" || name == "gelu_pytorch_tanh") return Activation::gelu_tanh;
  if (name == "relu") return Activation::relu;
  reader.fail("field 'hidden_act' is \"" + name +
              "\", which is not supported (supported: gelu, gelu_new, gelu_pytorch_tanh, relu)");
}

PositionEmbedding parse_position_embedding(const ConfigReader& reader, const std::string& name) {
  if (name == "absolute") return PositionEmbedding::learned;
  if (name == "sinusoidal") return PositionEmbedding::sinusoidal;
  if (name == "none") return PositionEmbedding::none;
  reader.fail("field 'position_embedding_type' is \"" + name +
              "\", which is not supported (supported: absolute, sinusoidal, none)");
}

}  // namespace

Config read_config(const std::filesystem::path& path) {
  const std::string text = read_file(path);
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception& e) {
    throw Error(path.string() + ": not valid JSON: " + json_message(e));
  }
  if (!root.is_object()) {
    throw Error(path.string() + ": must hold a JSON object, got " + ConfigReader::describe(root));
  }
  const ConfigReader reader(path, root);

  Config config;
  config.model_type = reader.string("model_type", "bert");
  config.hidden_size = reader.positive_int("hidden_size", max_dimension);
  config.num_attention_heads = reader.positive_int("num_attention_heads", max_dimension);
  config.intermediate_size = reader.positive_int("intermediate_size", max_dimension);
  config.num_hidden_layers = reader.positive_int("num_hidden_layers", max_dimension);
  config.vocab_size = reader.positive_int("vocab_size", max_vocab_size);
  config.max_position_embeddings = reader.positive_int("max_position_embeddings", max_dimension);
  // 0 means the model has no token type embedding at all.
  config.type_vocab_size = reader.non_negative_int("type_vocab_size", 2, max_dimension);
  config.hidden_act = parse_activation(reader, reader.string("hidden_act", "gelu"));
  config.layer_norm_eps = reader.positive_number("layer_norm_eps", 1e-12);
  config.position_embedding_type =
      parse_position_embedding(reader, reader.string("position_embedding_type", "absolute"));
  config.norm_first = reader.boolean("norm_first", false);

  if (config.hidden_size % config.num_attention_heads != 0) {
    reader.fail("field 'hidden_size' (" + std::to_string(config.hidden_size) +
                ") must be divisible by field 'num_attention_heads' (" +
                std::to_string(config.num_attention_heads) + ")");
  }
  return config;
}

}  // namespace vecformer::detail
