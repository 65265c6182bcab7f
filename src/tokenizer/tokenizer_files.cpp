#include "tokenizer/tokenizer_files.hpp"

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "io/config_json.hpp"
#include "io/printable.hpp"
#include "tokenizer/unicode.hpp"
#include "vecformer/error.hpp"

namespace vecformer::detail {

namespace {

using nlohmann::json;

// Typed access to the members of one JSON object in a file; messages name the file and the field by
// its path from the root ("normalizer.lowercase").
class Fields {
 public:
  Fields(std::filesystem::path path, const json& object, std::string prefix = "")
      : path_(std::move(path)), object_(object), prefix_(std::move(prefix)) {}

  const std::filesystem::path& path() const { return path_; }

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(path_.string() + ": " + what);
  }

  std::string name(std::string_view key) const { return prefix_ + std::string(key); }

  const json* find(const char* key) const {
    const auto it = object_.find(key);
    return it == object_.end() ? nullptr : &*it;
  }

  bool boolean(const char* key, bool fallback) const {
    const json* value = find(key);
    if (value == nullptr) return fallback;
    if (!value->is_boolean()) fail(name(key) + " must be true or false, got " + describe(*value));
    return value->get<bool>();
  }

  // Absent and null are both "not set".
  std::optional<bool> optional_boolean(const char* key) const {
    const json* value = find(key);
    if (value == nullptr || value->is_null()) return std::nullopt;
    if (!value->is_boolean()) {
      fail(name(key) + " must be true, false or null, got " + describe(*value));
    }
    return value->get<bool>();
  }

  std::string string(const char* key, const char* fallback) const {
    const json* value = find(key);
    if (value == nullptr) return fallback;
    if (!value->is_string()) fail(name(key) + " must be a string, got " + describe(*value));
    return value->get<std::string>();
  }

  uint64_t unsigned_integer(const char* key, uint64_t fallback) const {
    const json* value = find(key);
    if (value == nullptr) return fallback;
    if (!value->is_number_unsigned()) {
      fail(name(key) + " must be a non-negative integer, got " + describe(*value));
    }
    return value->get<uint64_t>();
  }

  static std::string describe(const json& value) { return ConfigReader::describe(value); }

 private:
  std::filesystem::path path_;
  const json& object_;
  std::string prefix_;
};

// A string from the file, quoted for a message: escaped and bounded (io/printable.hpp).
std::string json_string(std::string_view text) {
  return printable_json(json(std::string(text.substr(0, 100))), 100);
}

std::vector<std::string> read_vocab_json(const Fields& model) {
  const json* vocab = model.find("vocab");
  if (vocab == nullptr) model.fail("missing " + model.name("vocab"));
  if (!vocab->is_object()) {
    model.fail(model.name("vocab") + " must map tokens to ids, got " + Fields::describe(*vocab));
  }
  if (vocab->empty()) model.fail(model.name("vocab") + " is empty");
  std::vector<std::string> tokens(vocab->size());
  std::vector<bool> seen(vocab->size());
  for (const auto& [token, value] : vocab->items()) {
    if (!value.is_number_unsigned()) {
      model.fail(model.name("vocab") + ": the id of " + json_string(token) +
                 " must be a non-negative integer, got " + Fields::describe(value));
    }
    const uint64_t id = value.get<uint64_t>();
    if (id >= tokens.size()) {
      model.fail(model.name("vocab") + ": " + json_string(token) + " has id " + std::to_string(id) +
                 ", but ids must run from 0 to " + std::to_string(tokens.size() - 1));
    }
    if (seen[id]) {
      model.fail(model.name("vocab") + ": id " + std::to_string(id) + " belongs to both " +
                 json_string(tokens[id]) + " and " + json_string(token));
    }
    seen[id] = true;
    tokens[id] = token;
  }
  return tokens;
}

// BertNormalizer's options before strip_accents is resolved: unset means "as lowercase".
struct NormalizerOptions {
  bool clean_text = true;
  bool handle_chinese_chars = true;
  bool lowercase = true;
  std::optional<bool> strip_accents;
};

NormalizerOptions read_normalizer(const Fields& root) {
  const json* normalizer = root.find("normalizer");
  if (normalizer == nullptr || normalizer->is_null()) return {false, false, false, false};
  if (!normalizer->is_object()) {
    root.fail("normalizer must be an object or null, got " + Fields::describe(*normalizer));
  }
  const Fields fields(root.path(), *normalizer, "normalizer.");
  const std::string type = fields.string("type", "");
  if (type != "BertNormalizer") {
    fields.fail("normalizer.type is " + json_string(type) +
                ", which is not supported (vecformer's WordPiece supports BertNormalizer)");
  }
  NormalizerOptions options;
  options.clean_text = fields.boolean("clean_text", true);
  options.handle_chinese_chars = fields.boolean("handle_chinese_chars", true);
  options.lowercase = fields.boolean("lowercase", true);
  options.strip_accents = fields.optional_boolean("strip_accents");
  return options;
}

void check_pre_tokenizer(const Fields& root) {
  const json* pre_tokenizer = root.find("pre_tokenizer");
  const json* type = pre_tokenizer && pre_tokenizer->is_object() && pre_tokenizer->contains("type")
                         ? &(*pre_tokenizer)["type"]
                         : nullptr;
  if (type == nullptr || *type != "BertPreTokenizer") {
    root.fail("pre_tokenizer is " + (pre_tokenizer ? Fields::describe(*pre_tokenizer) : "missing") +
              ", which is not supported (vecformer's WordPiece supports BertPreTokenizer)");
  }
}

void read_added_tokens(const Fields& root, WordPieceConfig& config) {
  const json* added = root.find("added_tokens");
  if (added == nullptr || added->is_null()) return;
  if (!added->is_array()) {
    root.fail("added_tokens must be an array, got " + Fields::describe(*added));
  }
  for (size_t i = 0; i < added->size(); ++i) {
    const json& entry = (*added)[i];
    const std::string name = "added_tokens[" + std::to_string(i) + "]";
    if (!entry.is_object()) {
      root.fail(name + " must be an object, got " + Fields::describe(entry));
    }
    const Fields fields(root.path(), entry, name + ".");
    AddedToken token;
    if (!entry.contains("content")) fields.fail("missing " + fields.name("content"));
    if (!entry.contains("id")) fields.fail("missing " + fields.name("id"));
    token.content = fields.string("content", "");
    token.id = static_cast<int64_t>(fields.unsigned_integer("id", 0));
    const bool special = fields.boolean("special", false);
    token.normalized = fields.boolean("normalized", !special);
    // lstrip / rstrip only move whitespace, which never becomes a token, so they cannot change ids.
    if (fields.boolean("single_word", false)) {
      fields.fail(fields.name("single_word") + " is true, which is not supported");
    }
    const auto id = static_cast<size_t>(token.id);
    if (id < config.vocab.size() && config.vocab[id] != token.content) {
      fields.fail(name + ": " + json_string(token.content) + " has id " + std::to_string(id) +
                  ", which is " + json_string(config.vocab[id]) + " in model.vocab");
    }
    config.added_tokens.push_back(std::move(token));
  }
  // Tokens past model.vocab extend the id range and must fill it without gaps.
  std::vector<size_t> extra;
  for (const AddedToken& token : config.added_tokens) {
    if (static_cast<size_t>(token.id) >= config.vocab.size()) extra.push_back(token.id);
  }
  std::sort(extra.begin(), extra.end());
  for (size_t i = 0; i < extra.size(); ++i) {
    if (extra[i] != config.vocab.size() + i) {
      root.fail(
          "added_tokens: ids past model.vocab must continue it without gaps or repeats "
          "(expected " +
          std::to_string(config.vocab.size() + i) + ", got " + std::to_string(extra[i]) + ")");
    }
  }
}

// nullopt when tokenizer.json holds some other model (the caller falls back to vocab.txt).
std::optional<WordPieceConfig> read_tokenizer_json(const std::filesystem::path& path,
                                                   NormalizerOptions& options,
                                                   std::string& other_model) {
  const json root_object = read_json_object(path);
  const Fields root(path, root_object);
  const json* model = root.find("model");
  if (model == nullptr || !model->is_object()) {
    root.fail("model must be an object, got " + (model ? Fields::describe(*model) : "nothing"));
  }
  const Fields model_fields(path, *model, "model.");
  other_model = model_fields.string("type", "");
  if (other_model != "WordPiece") return std::nullopt;

  WordPieceConfig config;
  config.vocab = read_vocab_json(model_fields);
  config.unk_token = model_fields.string("unk_token", "[UNK]");
  config.continuing_subword_prefix = model_fields.string("continuing_subword_prefix", "##");
  config.max_input_chars_per_word = model_fields.unsigned_integer("max_input_chars_per_word", 100);
  options = read_normalizer(root);
  check_pre_tokenizer(root);
  read_added_tokens(root, config);
  return config;
}

WordPieceConfig read_vocab_txt(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path.string() + ": cannot open");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw Error(path.string() + ": read error");
  const std::string text = std::move(buffer).str();

  WordPieceConfig config;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (!is_valid_utf8(line)) {
      throw Error(path.string() + ":" + std::to_string(config.vocab.size() + 1) +
                  ": not valid UTF-8");
    }
    config.vocab.emplace_back(line);
    pos = end + 1;
  }
  if (config.vocab.empty()) throw Error(path.string() + ": empty vocabulary");
  add_bert_special_tokens(config);
  return config;
}

// BertTokenizer(Fast) reads these from tokenizer_config.json and lets them win over tokenizer.json.
void apply_tokenizer_config(const std::filesystem::path& path, NormalizerOptions& options) {
  const json root_object = read_json_object(path);
  const Fields fields(path, root_object);
  options.lowercase = fields.boolean("do_lower_case", options.lowercase);
  if (fields.find("strip_accents") != nullptr) {
    options.strip_accents = fields.optional_boolean("strip_accents");
  }
  options.handle_chinese_chars =
      fields.boolean("tokenize_chinese_chars", options.handle_chinese_chars);
}

void check_special_token(const std::filesystem::path& path, const WordPieceConfig& config,
                         const std::string& token) {
  const auto in_vocab = std::find(config.vocab.begin(), config.vocab.end(), token);
  const auto added = std::find_if(config.added_tokens.begin(), config.added_tokens.end(),
                                  [&](const AddedToken& t) { return t.content == token; });
  if (in_vocab == config.vocab.end() && added == config.added_tokens.end()) {
    throw Error(path.string() + ": the vocabulary has no " + printable(token) + " token");
  }
}

}  // namespace

WordPieceConfig read_tokenizer_folder(const std::filesystem::path& folder) {
  std::error_code ec;
  if (!std::filesystem::is_directory(folder, ec)) {
    throw Error(folder.string() + ": not a folder");
  }
  const std::filesystem::path tokenizer_json = folder / "tokenizer.json";
  const std::filesystem::path vocab_txt = folder / "vocab.txt";
  const std::filesystem::path tokenizer_config = folder / "tokenizer_config.json";

  std::optional<WordPieceConfig> config;
  NormalizerOptions options;
  std::filesystem::path source;
  std::string other_model;
  if (std::filesystem::exists(tokenizer_json, ec)) {
    config = read_tokenizer_json(tokenizer_json, options, other_model);
    source = tokenizer_json;
  }
  if (!config) {
    if (!std::filesystem::exists(vocab_txt, ec)) {
      if (!other_model.empty() || std::filesystem::exists(tokenizer_json, ec)) {
        throw Error(folder.string() + ": tokenizer.json holds a " + json_string(other_model) +
                    " model, not WordPiece, and there is no vocab.txt");
      }
      throw Error(folder.string() + ": no tokenizer.json or vocab.txt (a WordPiece vocabulary)");
    }
    config = read_vocab_txt(vocab_txt);
    source = vocab_txt;
  }
  if (std::filesystem::exists(tokenizer_config, ec)) {
    apply_tokenizer_config(tokenizer_config, options);
  }
  config->clean_text = options.clean_text;
  config->handle_chinese_chars = options.handle_chinese_chars;
  config->lowercase = options.lowercase;
  config->strip_accents = options.strip_accents.value_or(options.lowercase);
  for (const std::string* token : {&config->cls_token, &config->sep_token, &config->unk_token}) {
    check_special_token(source, *config, *token);
  }
  return std::move(*config);
}

}  // namespace vecformer::detail
