#include "model/sentence_transformers.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "io/config_json.hpp"
#include "io/printable.hpp"
#include "vecformer/error.hpp"

namespace vecformer::detail {

namespace {

constexpr std::string_view kModulePrefix = "sentence_transformers.models.";

Pooling read_pooling(const std::filesystem::path& path, int64_t& dimension) {
  const json root = read_json_object(path);
  const ConfigReader reader(path, root);
  dimension = reader.non_negative_int("word_embedding_dimension", 0, max_dimension);
  // sentence-transformers concatenates every enabled mode; vecformer supports one at a time.
  const std::vector<std::pair<const char*, Pooling>> modes = {
      {"pooling_mode_cls_token", Pooling::cls},
      {"pooling_mode_mean_tokens", Pooling::mean},
      {"pooling_mode_max_tokens", Pooling::max},
      {"pooling_mode_mean_sqrt_len_tokens", Pooling::mean_sqrt_len},
  };
  // Any other mode (weightedmean, lasttoken, ...) would change the output; refuse rather than
  // ignore.
  for (const auto& [key, value] : root.items()) {
    const bool known = std::any_of(modes.begin(), modes.end(),
                                   [&](const auto& mode) { return key == mode.first; });
    if (key.starts_with("pooling_mode_") && !known && value.is_boolean() && value.get<bool>()) {
      reader.fail(ConfigReader::field(key) +
                  " is true, which vecformer does not support (supported: cls_token, mean_tokens, "
                  "max_tokens, mean_sqrt_len_tokens)");
    }
  }
  std::vector<Pooling> enabled;
  for (const auto& [key, mode] : modes) {
    if (reader.boolean(key, false)) enabled.push_back(mode);
  }
  if (enabled.size() != 1) {
    reader.fail(
        "exactly one of pooling_mode_cls_token, pooling_mode_mean_tokens, "
        "pooling_mode_max_tokens, pooling_mode_mean_sqrt_len_tokens must be true (" +
        std::to_string(enabled.size()) + " are)");
  }
  return enabled.front();
}

}  // namespace

ModelLayout read_model_layout(const std::filesystem::path& folder) {
  ModelLayout layout;
  layout.transformer_folder = folder;
  const std::filesystem::path modules_path = folder / "modules.json";
  std::error_code ec;
  if (!std::filesystem::exists(modules_path, ec)) {
    layout.max_length = read_max_length(folder);
    return layout;
  }

  const json modules = read_json_file(modules_path);
  if (!modules.is_array())
    throw Error(modules_path.string() + ": must hold a JSON array of modules");
  for (size_t i = 0; i < modules.size(); ++i) {
    const json& module = modules[i];
    const std::string where = modules_path.string() + ": module " + std::to_string(i);
    if (!module.is_object() || !module.contains("type") || !module["type"].is_string() ||
        !module.contains("path") || !module["path"].is_string()) {
      throw Error(where + " must be an object with string fields 'type' and 'path'");
    }
    const std::string type = module["type"].get<std::string>();
    const std::string relative = module["path"].get<std::string>();
    // The path goes into every later message about the files under it, unescaped (as paths are).
    if (std::any_of(relative.begin(), relative.end(),
                    [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
      throw Error(where + " has path \"" + printable(relative) +
                  "\", which holds control characters");
    }
    const std::filesystem::path path = folder / relative;
    if (!type.starts_with(kModulePrefix)) {
      throw Error(where + " has type \"" + printable(type) +
                  "\", which is not a sentence-transformers module");
    }
    const std::string_view name = std::string_view(type).substr(kModulePrefix.size());
    if (name == "Transformer") {
      layout.transformer_folder = path;
    } else if (name == "Pooling") {
      layout.pooling_config = path / "config.json";
      layout.pooling = read_pooling(layout.pooling_config, layout.pooling_dimension);
    } else if (name == "Normalize") {
      layout.normalize = true;
    } else {
      throw Error(where + " has type \"" + printable(type) +
                  "\", which vecformer does not support (supported: Transformer, Pooling, "
                  "Normalize)");
    }
  }
  layout.max_length = read_max_length(layout.transformer_folder);
  return layout;
}

int64_t read_max_length(const std::filesystem::path& transformer_folder) {
  std::error_code ec;
  const std::filesystem::path sentence_bert = transformer_folder / "sentence_bert_config.json";
  if (std::filesystem::exists(sentence_bert, ec)) {
    const json root = read_json_object(sentence_bert);
    const int64_t length =
        ConfigReader(sentence_bert, root).non_negative_int("max_seq_length", 0, max_dimension);
    if (length > 0) return length;
  }
  const std::filesystem::path tokenizer = transformer_folder / "tokenizer_config.json";
  if (std::filesystem::exists(tokenizer, ec)) {
    // The tokenizer's own reader validates the rest of this file; a limit it does not understand
    // is no limit, as for transformers' "very large integer" placeholder.
    const json root = read_json_object(tokenizer);
    const auto it = root.find("model_max_length");
    if (it != root.end() && it->is_number_unsigned() && it->get<uint64_t>() > 0 &&
        it->get<uint64_t>() <= static_cast<uint64_t>(max_dimension)) {
      return static_cast<int64_t>(it->get<uint64_t>());
    }
  }
  return 0;
}

}  // namespace vecformer::detail
