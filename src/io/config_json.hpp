#pragma once

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "io/printable.hpp"
#include "vecformer/config.hpp"
#include "vecformer/error.hpp"

namespace vecformer::detail {

using json = nlohmann::json;

// Far beyond any real encoder, yet small enough that products such as hidden × intermediate or
// vocab × hidden cannot overflow 64 bits further down.
inline constexpr int64_t max_dimension = int64_t{1} << 20;
inline constexpr int64_t max_vocab_size = int64_t{1} << 24;

// Typed, validated access to the fields of one config file; every failure names the file and the
// field.
class ConfigReader {
 public:
  ConfigReader(const std::filesystem::path& path, const json& root) : path_(path), root_(root) {}

  const std::filesystem::path& path() const { return path_; }

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

  // The value of `key`, or null when the key is missing or JSON null (Hugging Face writes None as
  // null: "not set").
  const json* value(const char* key) const {
    const json* found = optional(key);
    return found && !found->is_null() ? found : nullptr;
  }

  // A finite number of any sign; `fallback` when missing or null.
  double number(const char* key, double fallback) const {
    const json* found = value(key);
    if (!found) return fallback;
    if (!found->is_number() || !std::isfinite(found->get<double>())) {
      fail(field(key) + " must be a number, got " + describe(*found));
    }
    return found->get<double>();
  }

  // Escaped: a key may come from the file (sentence-transformers' pooling_mode_*).
  static std::string field(std::string_view key) { return "field '" + printable(key) + "'"; }

  // Long values (a whole nested object, say) would drown the message, so they are cut short; and
  // non-ASCII or control characters are escaped (see printable_json()).
  static std::string describe(const json& value) { return printable_json(value, 60); }

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

  std::filesystem::path path_;
  const json& root_;
};

// The JSON value in a file; errors (missing, unreadable, not JSON) name the file.
nlohmann::json read_json_file(const std::filesystem::path& path);
// The same, and it must be an object (config.json, tokenizer_config.json, ...).
nlohmann::json read_json_object(const std::filesystem::path& path);

// A Hugging Face BertConfig-style config.json (plus vecformer's "sinusoidal" / "none"
// position_embedding_type and "norm_first"), every field validated. Throws vecformer::Error naming
// the file and the field.
Config read_config(const std::filesystem::path& path);
// The same from an already parsed object: the keys shared by the BERT-like families.
Config read_bert_config(const ConfigReader& reader);

// Shared by the families' config readers. read_bert_sizes reads BertConfig's size keys
// (hidden_size, num_attention_heads, intermediate_size, num_hidden_layers, vocab_size,
// max_position_embeddings), which the families built after it keep.
void read_bert_sizes(const ConfigReader& reader, Config& config);
Activation parse_activation(const ConfigReader& reader, const char* key, const std::string& name);
void check_heads_divide_hidden(const ConfigReader& reader, const Config& config,
                               const char* hidden_key, const char* heads_key);

}  // namespace vecformer::detail
