#include "tokenizer/tokenizer_files.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "io/config_json.hpp"
#include "io/printable.hpp"
#include "tokenizer/bpe.hpp"
#include "tokenizer/normalizers.hpp"
#include "tokenizer/post_processors.hpp"
#include "tokenizer/pre_tokenizers.hpp"
#include "tokenizer/regex.hpp"
#include "tokenizer/unicode.hpp"
#include "tokenizer/unigram.hpp"
#include "tokenizer/wordpiece.hpp"
#include "vecformer/error.hpp"

namespace vecformer::detail {

namespace {

using nlohmann::json;

// A string from the file, quoted for a message: escaped and bounded (io/printable.hpp).
std::string json_string(std::string_view text) {
  return printable_json(json(std::string(text.substr(0, 100))), 100);
}

std::string describe(const json& value) {
  return ConfigReader::describe(value);
}

// One JSON value of a file, with its path from the root ("normalizer.normalizers[1]") for
// messages: `file: path.key must be ...`.
class Node {
 public:
  Node(const std::filesystem::path& file, const json& value, std::string path)
      : file_(file), value_(value), path_(std::move(path)) {}

  const std::filesystem::path& file() const { return file_; }
  const json& value() const { return value_; }
  const std::string& path() const { return path_; }

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(file_.string() + ": " + what);
  }
  std::string name(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }
  const json* find(const char* key) const {
    if (!value_.is_object()) return nullptr;
    const auto it = value_.find(key);
    return it == value_.end() ? nullptr : &*it;
  }
  bool has(const char* key) const {
    const json* value = find(key);
    return value != nullptr && !value->is_null();
  }

  bool boolean(const char* key, bool fallback) const {
    const json* value = find(key);
    if (value == nullptr || value->is_null()) return fallback;
    if (!value->is_boolean()) fail(name(key) + " must be true or false, got " + describe(*value));
    return value->get<bool>();
  }
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
    if (value == nullptr || (fallback != nullptr && value->is_null())) {
      if (fallback == nullptr) fail("missing " + name(key));
      return fallback;
    }
    if (!value->is_string()) fail(name(key) + " must be a string, got " + describe(*value));
    const std::string& text = value->get_ref<const std::string&>();
    if (!is_valid_utf8(text)) fail(name(key) + " is not valid UTF-8");
    return text;
  }
  std::string required_string(const char* key) const { return string(key, nullptr); }
  uint64_t unsigned_integer(const char* key, uint64_t fallback) const {
    const json* value = find(key);
    if (value == nullptr || value->is_null()) return fallback;
    if (!value->is_number_unsigned()) {
      fail(name(key) + " must be a non-negative integer, got " + describe(*value));
    }
    return value->get<uint64_t>();
  }
  Node child(const char* key) const {
    const json* value = find(key);
    if (value == nullptr) fail("missing " + name(key));
    return Node(file_, *value, name(key));
  }
  Node object(const char* key) const {
    Node node = child(key);
    if (!node.value_.is_object()) {
      fail(node.path_ + " must be an object, got " + describe(node.value_));
    }
    return node;
  }
  std::vector<Node> array(const char* key) const {
    const json* value = find(key);
    if (value == nullptr) fail("missing " + name(key));
    if (!value->is_array()) fail(name(key) + " must be an array, got " + describe(*value));
    std::vector<Node> items;
    for (size_t i = 0; i < value->size(); ++i) {
      items.emplace_back(file_, (*value)[i], name(key) + "[" + std::to_string(i) + "]");
    }
    return items;
  }
  void require_object() const {
    if (!value_.is_object()) fail(path_ + " must be an object, got " + describe(value_));
  }
  std::string type() const {
    require_object();
    return required_string("type");
  }
  [[noreturn]] void unsupported(const std::string& type) const {
    fail(name("type") + " " + json_string(type) + " is not supported");
  }

 private:
  const std::filesystem::path& file_;
  const json& value_;
  std::string path_;
};

std::u32string to_u32(std::string_view text) {
  std::vector<char32_t> chars;
  decode_utf8(text, chars);
  return {chars.begin(), chars.end()};
}

// {"String": s} or {"Regex": r}.
std::shared_ptr<const Pattern> read_pattern(const Node& parent, const char* key) {
  const Node node = parent.object(key);
  if (node.has("String")) return Pattern::literal(to_u32(node.required_string("String")));
  if (node.has("Regex")) {
    const std::string regex = node.required_string("Regex");
    return Pattern::regex(
        to_u32(regex), node.file().string() + ": " + node.name("Regex") + " " + json_string(regex));
  }
  node.fail(node.path() + " must be {\"String\": ...} or {\"Regex\": ...}, got " +
            describe(node.value()));
}

SplitBehavior read_behavior(const Node& node, const char* fallback) {
  const std::string behavior = node.string("behavior", fallback);
  if (behavior == "Removed") return SplitBehavior::kRemoved;
  if (behavior == "Isolated") return SplitBehavior::kIsolated;
  if (behavior == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (behavior == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (behavior == "Contiguous") return SplitBehavior::kContiguous;
  node.fail(node.name("behavior") + " " + json_string(behavior) + " is not supported");
}

// The BertNormalizer options tokenizer_config.json may override.
struct BertOverrides {
  std::optional<bool> lowercase;
  bool strip_accents_set = false;
  std::optional<bool> strip_accents;
  std::optional<bool> handle_chinese_chars;
};

std::shared_ptr<const Normalizer> read_normalizer(const Node& node,
                                                  const BertOverrides& overrides) {
  const std::string type = node.type();
  if (type == "BertNormalizer") {
    const bool lowercase = overrides.lowercase.value_or(node.boolean("lowercase", true));
    const std::optional<bool> strip = overrides.strip_accents_set
                                          ? overrides.strip_accents
                                          : node.optional_boolean("strip_accents");
    return std::make_shared<BertNormalizer>(
        node.boolean("clean_text", true),
        overrides.handle_chinese_chars.value_or(node.boolean("handle_chinese_chars", true)), strip,
        lowercase);
  }
  if (type == "Lowercase") return std::make_shared<LowercaseNormalizer>();
  if (type == "StripAccents") return std::make_shared<StripAccentsNormalizer>();
  if (type == "Strip") {
    return std::make_shared<StripNormalizer>(node.boolean("strip_left", true),
                                             node.boolean("strip_right", true));
  }
  if (type == "Prepend")
    return std::make_shared<PrependNormalizer>(to_u32(node.required_string("prepend")));
  if (type == "Replace") {
    return std::make_shared<ReplaceNormalizer>(read_pattern(node, "pattern"),
                                               to_u32(node.required_string("content")));
  }
  if (type == "Nmt") return std::make_shared<NmtNormalizer>();
  if (type == "Precompiled") {
    const std::string name = node.name("precompiled_charsmap");
    try {
      return std::make_shared<PrecompiledNormalizer>(
          base64_decode(node.required_string("precompiled_charsmap")));
    } catch (const Error& e) {
      const std::string what = e.what();
      if (what.starts_with(node.file().string())) throw;
      node.fail(name + ": " + what);
    }
  }
  if (type == "NFC") return std::make_shared<UnicodeNormalizer>(NormalForm::kNFC);
  if (type == "NFD") return std::make_shared<UnicodeNormalizer>(NormalForm::kNFD);
  if (type == "NFKC") return std::make_shared<UnicodeNormalizer>(NormalForm::kNFKC);
  if (type == "NFKD") return std::make_shared<UnicodeNormalizer>(NormalForm::kNFKD);
  if (type == "Sequence") {
    std::vector<std::shared_ptr<const Normalizer>> normalizers;
    for (const Node& child : node.array("normalizers")) {
      normalizers.push_back(read_normalizer(child, overrides));
    }
    return std::make_shared<SequenceNormalizer>(std::move(normalizers));
  }
  node.unsupported(type);
}

std::shared_ptr<const PreTokenizer> read_pre_tokenizer(const Node& node) {
  const std::string type = node.type();
  if (type == "BertPreTokenizer") return std::make_shared<BertPreTokenizer>();
  if (type == "Whitespace") return std::make_shared<WhitespacePreTokenizer>();
  if (type == "WhitespaceSplit") return std::make_shared<WhitespaceSplitPreTokenizer>();
  if (type == "Punctuation") {
    return std::make_shared<PunctuationPreTokenizer>(read_behavior(node, "Isolated"));
  }
  if (type == "Digits") {
    return std::make_shared<DigitsPreTokenizer>(node.boolean("individual_digits", false));
  }
  if (type == "Split") {
    return std::make_shared<SplitPreTokenizer>(
        read_pattern(node, "pattern"), read_behavior(node, nullptr), node.boolean("invert", false));
  }
  if (type == "ByteLevel") {
    return std::make_shared<ByteLevelPreTokenizer>(node.boolean("add_prefix_space", true),
                                                   node.boolean("use_regex", true));
  }
  if (type == "Metaspace") {
    const std::u32string replacement = to_u32(node.required_string("replacement"));
    if (replacement.size() != 1) {
      node.fail(node.name("replacement") + " must be one character, got " +
                json_string(node.required_string("replacement")));
    }
    const std::string scheme_name = node.string("prepend_scheme", "always");
    PrependScheme scheme = PrependScheme::kAlways;
    if (scheme_name == "first") {
      scheme = PrependScheme::kFirst;
    } else if (scheme_name == "never") {
      scheme = PrependScheme::kNever;
    } else if (scheme_name != "always") {
      node.fail(node.name("prepend_scheme") + " " + json_string(scheme_name) + " is not supported");
    }
    if (node.optional_boolean("add_prefix_space") == false) {
      if (scheme != PrependScheme::kNever && node.has("prepend_scheme")) {
        node.fail(node.name("add_prefix_space") + " is false but " + node.name("prepend_scheme") +
                  " is " + json_string(scheme_name));
      }
      scheme = PrependScheme::kNever;
    }
    return std::make_shared<MetaspacePreTokenizer>(replacement[0], scheme,
                                                   node.boolean("split", true));
  }
  if (type == "Sequence") {
    std::vector<std::shared_ptr<const PreTokenizer>> pre_tokenizers;
    for (const Node& child : node.array("pretokenizers")) {
      pre_tokenizers.push_back(read_pre_tokenizer(child));
    }
    return std::make_shared<SequencePreTokenizer>(std::move(pre_tokenizers));
  }
  node.unsupported(type);
}

// ["[SEP]", 102]
SpecialTokenIds read_special_pair(const Node& node, const char* key) {
  const Node pair = node.child(key);
  const json& value = pair.value();
  if (!value.is_array() || value.size() != 2 || !value[0].is_string() ||
      !value[1].is_number_unsigned()) {
    node.fail(pair.path() + " must be [token, id], got " + describe(value));
  }
  return {value[0].get<std::string>(), static_cast<int64_t>(value[1].get<uint64_t>())};
}

std::vector<TemplateProcessing::Item> read_template(
    const Node& node, const char* key,
    const std::map<std::string, TemplateProcessing::Special>& specials) {
  std::vector<TemplateProcessing::Item> items;
  for (const Node& piece : node.array(key)) {
    piece.require_object();
    TemplateProcessing::Item item;
    if (piece.has("Sequence")) {
      const Node sequence = piece.object("Sequence");
      const std::string id = sequence.required_string("id");
      if (id != "A" && id != "B") {
        sequence.fail(sequence.name("id") + " must be \"A\" or \"B\", got " + json_string(id));
      }
      item.sequence = true;
      item.sequence_index = id == "A" ? 0 : 1;
      item.type_id = static_cast<int64_t>(sequence.unsigned_integer("type_id", 0));
    } else if (piece.has("SpecialToken")) {
      const Node special = piece.object("SpecialToken");
      item.special = special.required_string("id");
      if (!specials.contains(item.special)) {
        special.fail(special.name("id") + " " + json_string(item.special) + " is not in " +
                     node.name("special_tokens"));
      }
      item.type_id = static_cast<int64_t>(special.unsigned_integer("type_id", 0));
    } else {
      piece.fail(piece.path() + " must be {\"Sequence\": ...} or {\"SpecialToken\": ...}, got " +
                 describe(piece.value()));
    }
    items.push_back(std::move(item));
  }
  return items;
}

std::shared_ptr<const PostProcessor> read_post_processor(const Node& node) {
  const std::string type = node.type();
  if (type == "BertProcessing") {
    return std::make_shared<BertProcessing>(read_special_pair(node, "cls"),
                                            read_special_pair(node, "sep"));
  }
  if (type == "RobertaProcessing") {
    return std::make_shared<RobertaProcessing>(
        read_special_pair(node, "cls"), read_special_pair(node, "sep"),
        node.boolean("trim_offsets", true), node.boolean("add_prefix_space", true));
  }
  if (type == "ByteLevel") {
    return std::make_shared<ByteLevelProcessing>(node.boolean("trim_offsets", true),
                                                 node.boolean("add_prefix_space", true));
  }
  if (type == "TemplateProcessing") {
    std::map<std::string, TemplateProcessing::Special> specials;
    const Node special_tokens = node.object("special_tokens");
    for (const auto& [name, value] : special_tokens.value().items()) {
      const Node entry(node.file(), value, special_tokens.name(name));
      entry.require_object();
      TemplateProcessing::Special special;
      for (const Node& id : entry.array("ids")) {
        if (!id.value().is_number_unsigned()) {
          entry.fail(id.path() + " must be a non-negative integer, got " + describe(id.value()));
        }
        special.ids.push_back(static_cast<int64_t>(id.value().get<uint64_t>()));
      }
      for (const Node& token : entry.array("tokens")) {
        if (!token.value().is_string()) {
          entry.fail(token.path() + " must be a string, got " + describe(token.value()));
        }
        special.tokens.push_back(token.value().get<std::string>());
      }
      if (special.ids.size() != special.tokens.size()) {
        entry.fail(entry.path() + " has " + std::to_string(special.ids.size()) + " ids but " +
                   std::to_string(special.tokens.size()) + " tokens");
      }
      specials.emplace(name, std::move(special));
    }
    auto single = read_template(node, "single", specials);
    auto pair = read_template(node, "pair", specials);
    return std::make_shared<TemplateProcessing>(std::move(single), std::move(pair),
                                                std::move(specials));
  }
  if (type == "Sequence") {
    std::vector<std::shared_ptr<const PostProcessor>> processors;
    for (const Node& child : node.array("processors")) {
      processors.push_back(read_post_processor(child));
    }
    return std::make_shared<SequenceProcessing>(std::move(processors));
  }
  node.unsupported(type);
}

// model.vocab as {token: id} with ids 0..n-1.
std::vector<std::string> read_vocab_map(const Node& model) {
  const Node vocab = model.child("vocab");
  if (!vocab.value().is_object()) {
    model.fail(vocab.path() + " must map tokens to ids, got " + describe(vocab.value()));
  }
  if (vocab.value().empty()) model.fail(vocab.path() + " is empty");
  std::vector<std::string> tokens(vocab.value().size());
  std::vector<bool> seen(tokens.size());
  for (const auto& [token, value] : vocab.value().items()) {
    if (!value.is_number_unsigned()) {
      model.fail(vocab.path() + ": the id of " + json_string(token) +
                 " must be a non-negative integer, got " + describe(value));
    }
    const uint64_t id = value.get<uint64_t>();
    if (id >= tokens.size()) {
      model.fail(vocab.path() + ": " + json_string(token) + " has id " + std::to_string(id) +
                 ", but ids must run from 0 to " + std::to_string(tokens.size() - 1));
    }
    if (seen[id]) {
      model.fail(vocab.path() + ": id " + std::to_string(id) + " belongs to both " +
                 json_string(tokens[id]) + " and " + json_string(token));
    }
    if (!is_valid_utf8(token))
      model.fail(vocab.path() + ": token " + std::to_string(id) + " is not valid UTF-8");
    seen[id] = true;
    tokens[id] = token;
  }
  return tokens;
}

// Runs `make`, naming the node in a one-line Error the model's constructor throws.
template <typename Make>
auto with_path(const Node& node, Make&& make) {
  try {
    return make();
  } catch (const Error& e) {
    const std::string what = e.what();
    if (what.starts_with(node.file().string())) throw;
    node.fail(node.path() + ": " + what);
  }
}

std::optional<std::string> optional_string(const Node& node, const char* key) {
  if (!node.has(key)) return std::nullopt;
  return node.required_string(key);
}

std::shared_ptr<const TokenizerModel> read_bpe(const Node& node) {
  BpeConfig config;
  const Node vocab = node.child("vocab");
  if (!vocab.value().is_object()) {
    node.fail(vocab.path() + " must map tokens to ids, got " + describe(vocab.value()));
  }
  for (const auto& [token, value] : vocab.value().items()) {
    if (!value.is_number_unsigned() || value.get<uint64_t>() > UINT32_MAX) {
      node.fail(vocab.path() + ": the id of " + json_string(token) +
                " must be an integer from 0 to 2^32 - 1, got " + describe(value));
    }
    if (!is_valid_utf8(token)) node.fail(vocab.path() + ": a token is not valid UTF-8");
    config.vocab.emplace_back(token, static_cast<int64_t>(value.get<uint64_t>()));
  }
  if (node.has("merges")) {
    for (const Node& merge : node.array("merges")) {
      const json& value = merge.value();
      if (value.is_string()) {
        config.merges.push_back(
            with_path(merge, [&] { return split_merge_line(value.get<std::string>()); }));
      } else if (value.is_array() && value.size() == 2 && value[0].is_string() &&
                 value[1].is_string()) {
        config.merges.emplace_back(value[0].get<std::string>(), value[1].get<std::string>());
      } else {
        node.fail(merge.path() + " must be \"a b\" or [\"a\", \"b\"], got " + describe(value));
      }
    }
  }
  config.unk_token = optional_string(node, "unk_token");
  config.continuing_subword_prefix = node.string("continuing_subword_prefix", "");
  config.end_of_word_suffix = node.string("end_of_word_suffix", "");
  config.fuse_unk = node.boolean("fuse_unk", false);
  config.byte_fallback = node.boolean("byte_fallback", false);
  config.ignore_merges = node.boolean("ignore_merges", false);
  // dropout only matters in training (it is random); encoders ship without it.
  return with_path(node, [&] { return std::make_shared<Bpe>(config); });
}

std::shared_ptr<const TokenizerModel> read_unigram(const Node& node) {
  UnigramConfig config;
  for (const Node& entry : node.array("vocab")) {
    const json& value = entry.value();
    if (!value.is_array() || value.size() != 2 || !value[0].is_string() || !value[1].is_number()) {
      node.fail(entry.path() + " must be [piece, score], got " + describe(value));
    }
    const std::string& piece = value[0].get_ref<const std::string&>();
    if (!is_valid_utf8(piece)) node.fail(entry.path() + ": the piece is not valid UTF-8");
    config.pieces.emplace_back(piece, value[1].get<double>());
  }
  if (node.has("unk_id")) config.unk_id = node.unsigned_integer("unk_id", 0);
  config.byte_fallback = node.boolean("byte_fallback", false);
  return with_path(node, [&] { return std::make_shared<Unigram>(config); });
}

std::shared_ptr<const TokenizerModel> read_model(const Node& node) {
  const std::string type = node.type();
  if (type == "BPE") return read_bpe(node);
  if (type == "Unigram") return read_unigram(node);
  if (type == "WordPiece") {
    WordPieceConfig config;
    config.vocab = read_vocab_map(node);
    config.unk_token = node.string("unk_token", "[UNK]");
    config.continuing_subword_prefix = node.string("continuing_subword_prefix", "##");
    config.max_input_chars_per_word = node.unsigned_integer("max_input_chars_per_word", 100);
    return std::make_shared<WordPiece>(std::move(config));
  }
  node.unsupported(type);
}

std::vector<AddedToken> read_added_tokens(const Node& root, const TokenizerModel& model) {
  std::vector<AddedToken> tokens;
  if (!root.has("added_tokens")) return tokens;
  for (const Node& entry : root.array("added_tokens")) {
    entry.require_object();
    AddedToken token;
    token.content = entry.required_string("content");
    if (!entry.has("id")) entry.fail("missing " + entry.name("id"));
    token.id = static_cast<int64_t>(entry.unsigned_integer("id", 0));
    token.special = entry.boolean("special", false);
    token.normalized = entry.boolean("normalized", !token.special);
    token.single_word = entry.boolean("single_word", false);
    token.lstrip = entry.boolean("lstrip", false);
    token.rstrip = entry.boolean("rstrip", false);
    const auto id = static_cast<size_t>(token.id);
    if (id < model.vocab_size()) {
      const std::string* entry_token = model.id_to_token(token.id);
      if (entry_token == nullptr || *entry_token != token.content) {
        entry.fail(entry.path() + ": " + json_string(token.content) + " has id " +
                   std::to_string(id) + ", which is " +
                   json_string(entry_token ? *entry_token : std::string()) + " in model.vocab");
      }
    }
    tokens.push_back(std::move(token));
  }
  // Tokens past the model's vocabulary extend the id range and must fill it without gaps.
  std::vector<size_t> extra;
  for (const AddedToken& token : tokens) {
    if (static_cast<size_t>(token.id) >= model.vocab_size()) extra.push_back(token.id);
  }
  std::sort(extra.begin(), extra.end());
  extra.erase(std::unique(extra.begin(), extra.end()), extra.end());
  for (size_t i = 0; i < extra.size(); ++i) {
    if (extra[i] != model.vocab_size() + i) {
      root.fail("added_tokens: ids past model.vocab must continue it without gaps (expected " +
                std::to_string(model.vocab_size() + i) + ", got " + std::to_string(extra[i]) + ")");
    }
  }
  return tokens;
}

// What tokenizer_config.json says.
struct TokenizerConfigJson {
  BertOverrides bert;
  std::map<std::string, std::string> specials;  // "cls_token" -> "[CLS]"
  std::optional<bool> add_prefix_space;
  size_t model_max_length = 0;
};

TokenizerConfigJson read_tokenizer_config(const std::filesystem::path& path) {
  TokenizerConfigJson config;
  const json root_value = read_json_object(path);
  const Node root(path, root_value, "");
  config.bert.lowercase = root.optional_boolean("do_lower_case");
  if (root.find("strip_accents") != nullptr) {
    config.bert.strip_accents_set = true;
    config.bert.strip_accents = root.optional_boolean("strip_accents");
  }
  config.bert.handle_chinese_chars = root.optional_boolean("tokenize_chinese_chars");
  config.add_prefix_space = root.optional_boolean("add_prefix_space");
  for (const char* key : {"cls_token", "sep_token", "pad_token", "mask_token", "unk_token",
                          "bos_token", "eos_token"}) {
    const json* value = root.find(key);
    if (value == nullptr || value->is_null()) continue;
    if (value->is_string()) {
      config.specials[key] = value->get<std::string>();
    } else if (value->is_object() && value->contains("content") &&
               (*value)["content"].is_string()) {
      config.specials[key] = (*value)["content"].get<std::string>();
    } else {
      root.fail(std::string(key) + " must be a string or an object with \"content\", got " +
                describe(*value));
    }
  }
  // transformers writes a huge sentinel (1e30) when the length is unknown.
  if (const json* value = root.find("model_max_length");
      value != nullptr && value->is_number_unsigned() && value->get<uint64_t>() <= (1u << 24)) {
    config.model_max_length = value->get<uint64_t>();
  }
  return config;
}

std::vector<std::string> read_vocab_txt(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path.string() + ": cannot open");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw Error(path.string() + ": read error");
  const std::string text = std::move(buffer).str();
  std::vector<std::string> vocab;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (!is_valid_utf8(line)) {
      throw Error(path.string() + ":" + std::to_string(vocab.size() + 1) + ": not valid UTF-8");
    }
    vocab.emplace_back(line);
    pos = end + 1;
  }
  if (vocab.empty()) throw Error(path.string() + ": empty vocabulary");
  return vocab;
}

PipelineConfig read_tokenizer_json(const std::filesystem::path& path,
                                   const BertOverrides& overrides) {
  const json root_value = read_json_object(path);
  const Node root(path, root_value, "");
  const json* model = root.find("model");
  if (model == nullptr || !model->is_object()) {
    root.fail("model must be an object, got " + (model ? describe(*model) : "nothing"));
  }
  PipelineConfig config;
  config.model = read_model(root.object("model"));
  if (const Node model_node = root.object("model");
      model_node.type() == "Unigram" && model_node.has("unk_id")) {
    config.unk_shows_text = static_cast<int64_t>(model_node.unsigned_integer("unk_id", 0));
  }
  if (root.has("normalizer"))
    config.normalizer = read_normalizer(root.child("normalizer"), overrides);
  if (root.has("pre_tokenizer"))
    config.pre_tokenizer = read_pre_tokenizer(root.child("pre_tokenizer"));
  if (root.has("post_processor")) {
    config.post_processor = read_post_processor(root.child("post_processor"));
  }
  config.added_tokens = read_added_tokens(root, *config.model);
  return config;
}

// The first of `names` the tokenizer knows, else "".
std::string first_known(const PipelineConfig& config, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (config.model->token_to_id(name) >= 0) return name;
    for (const AddedToken& token : config.added_tokens) {
      if (token.content == name) return name;
    }
  }
  return {};
}

void name_specials(PipelineConfig& config, const TokenizerConfigJson* files) {
  const auto from_files = [&](const char* key) -> std::string {
    if (files == nullptr) return {};
    const auto it = files->specials.find(key);
    return it == files->specials.end() ? std::string() : it->second;
  };
  std::pair<std::string, std::string> cls_sep;
  if (config.post_processor) cls_sep = config.post_processor->cls_sep();
  const auto pick = [](std::initializer_list<std::string> options) {
    for (const std::string& option : options) {
      if (!option.empty()) return option;
    }
    return std::string();
  };
  config.cls_token = pick({from_files("cls_token"), from_files("bos_token"), cls_sep.first,
                           first_known(config, {"[CLS]", "<s>"})});
  config.sep_token = pick({from_files("sep_token"), from_files("eos_token"), cls_sep.second,
                           first_known(config, {"[SEP]", "</s>"})});
  config.pad_token = pick({from_files("pad_token"), first_known(config, {"[PAD]", "<pad>"})});
  config.mask_token = pick({from_files("mask_token"), first_known(config, {"[MASK]", "<mask>"})});
  std::string model_unk;
  if (const auto* wordpiece = dynamic_cast<const WordPiece*>(config.model.get())) {
    model_unk = wordpiece->unk_token();
  }
  config.unk_token = pick({from_files("unk_token"), first_known(config, {model_unk.c_str()}),
                           first_known(config, {"[UNK]", "<unk>"})});
  if (files) config.model_max_length = files->model_max_length;
}

// What RobertaTokenizerFast builds from vocab.json + merges.txt (transformers' RobertaConverter):
// ByteLevel(add_prefix_space) pre-tokenizer, BPE, RobertaProcessing(<s>, </s>, trim_offsets);
// the special tokens are special added tokens, <mask> with lstrip.
PipelineConfig roberta_pipeline(const std::filesystem::path& vocab_json,
                                const std::filesystem::path& merges_txt,
                                const TokenizerConfigJson* files) {
  const json vocab_value = read_json_object(vocab_json);
  BpeConfig bpe;
  for (const auto& [token, value] : vocab_value.items()) {
    if (!value.is_number_unsigned() || value.get<uint64_t>() > UINT32_MAX) {
      throw Error(vocab_json.string() + ": the id of " + json_string(token) +
                  " must be an integer from 0 to 2^32 - 1, got " + describe(value));
    }
    if (!is_valid_utf8(token)) throw Error(vocab_json.string() + ": a token is not valid UTF-8");
    bpe.vocab.emplace_back(token, static_cast<int64_t>(value.get<uint64_t>()));
  }
  std::ifstream in(merges_txt, std::ios::binary);
  if (!in) throw Error(merges_txt.string() + ": cannot open");
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.starts_with("#version")) continue;
    if (!is_valid_utf8(line))
      throw Error(merges_txt.string() + ":" + std::to_string(number) + ": not valid UTF-8");
    try {
      bpe.merges.push_back(split_merge_line(line));
    } catch (const Error& e) {
      throw Error(merges_txt.string() + ":" + std::to_string(number) + ": " + e.what());
    }
  }
  if (in.bad()) throw Error(merges_txt.string() + ": read error");
  PipelineConfig config;
  try {
    config.model = std::make_shared<Bpe>(bpe);
  } catch (const Error& e) {
    throw Error(merges_txt.string() + ": " + e.what());
  }
  const auto name = [&](const char* key, const char* fallback) {
    if (files != nullptr) {
      const auto it = files->specials.find(key);
      if (it != files->specials.end()) return it->second;
    }
    return std::string(fallback);
  };
  bool add_prefix_space = false;
  if (files != nullptr && files->add_prefix_space) add_prefix_space = *files->add_prefix_space;
  config.pre_tokenizer = std::make_shared<ByteLevelPreTokenizer>(add_prefix_space, true);
  const std::string cls = name("cls_token", "<s>");
  const std::string sep = name("sep_token", "</s>");
  const auto id_of = [&](const std::string& token) {
    const int64_t id = config.model->token_to_id(token);
    if (id < 0)
      throw Error(vocab_json.string() + ": the vocabulary has no " + printable(token) + " token");
    return id;
  };
  config.post_processor = std::make_shared<RobertaProcessing>(
      SpecialTokenIds{cls, id_of(cls)}, SpecialTokenIds{sep, id_of(sep)}, true, add_prefix_space);
  for (const auto& [key, fallback] : {std::pair{"bos_token", "<s>"},
                                      {"eos_token", "</s>"},
                                      {"unk_token", "<unk>"},
                                      {"sep_token", "</s>"},
                                      {"cls_token", "<s>"},
                                      {"pad_token", "<pad>"},
                                      {"mask_token", "<mask>"}}) {
    const std::string token = name(key, fallback);
    const int64_t id = config.model->token_to_id(token);
    if (id < 0) continue;
    bool listed = false;
    for (const AddedToken& added : config.added_tokens) listed = listed || added.content == token;
    if (listed) continue;
    AddedToken added;
    added.content = token;
    added.id = id;
    added.special = true;
    added.normalized = false;
    added.lstrip = std::string(key) == "mask_token";
    config.added_tokens.push_back(std::move(added));
  }
  return config;
}

}  // namespace

PipelineConfig bert_pipeline(std::vector<std::string> vocab, bool clean_text,
                             bool handle_chinese_chars, std::optional<bool> strip_accents,
                             bool lowercase, const std::string& source) {
  PipelineConfig config;
  std::vector<AddedToken> added;
  for (const char* name : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}) {
    // BertTokenizer reads vocab.txt into a dict, so a repeated token takes its last line's id.
    const auto it = std::find(vocab.rbegin(), vocab.rend(), name);
    if (it == vocab.rend()) continue;
    AddedToken token;
    token.content = name;
    token.id = static_cast<int64_t>(vocab.rend() - it - 1);
    token.normalized = false;
    token.special = true;
    added.push_back(std::move(token));
  }
  const auto id_of = [&](const char* name) -> int64_t {
    for (const AddedToken& token : added) {
      if (token.content == name) return token.id;
    }
    throw Error(source + "the vocabulary has no " + name + " token");
  };
  const int64_t cls = id_of("[CLS]");
  const int64_t sep = id_of("[SEP]");
  id_of("[UNK]");
  WordPieceConfig model;
  model.vocab = std::move(vocab);
  config.model = std::make_shared<WordPiece>(std::move(model));
  config.normalizer =
      std::make_shared<BertNormalizer>(clean_text, handle_chinese_chars, strip_accents, lowercase);
  config.pre_tokenizer = std::make_shared<BertPreTokenizer>();
  config.post_processor = std::make_shared<BertProcessing>(SpecialTokenIds{"[CLS]", cls},
                                                           SpecialTokenIds{"[SEP]", sep});
  config.added_tokens = std::move(added);
  name_specials(config, nullptr);
  return config;
}

PipelineConfig read_tokenizer_folder(const std::filesystem::path& folder) {
  std::error_code ec;
  if (!std::filesystem::is_directory(folder, ec)) {
    throw Error(folder.string() + ": not a folder");
  }
  const std::filesystem::path tokenizer_json = folder / "tokenizer.json";
  const std::filesystem::path vocab_txt = folder / "vocab.txt";
  const std::filesystem::path tokenizer_config = folder / "tokenizer_config.json";

  std::optional<TokenizerConfigJson> files;
  if (std::filesystem::exists(tokenizer_config, ec))
    files = read_tokenizer_config(tokenizer_config);
  const BertOverrides overrides = files ? files->bert : BertOverrides{};

  PipelineConfig config;
  if (std::filesystem::exists(tokenizer_json, ec)) {
    config = read_tokenizer_json(tokenizer_json, overrides);
  } else if (std::filesystem::exists(vocab_txt, ec)) {
    const bool lowercase = overrides.lowercase.value_or(true);
    config = bert_pipeline(read_vocab_txt(vocab_txt), true,
                           overrides.handle_chinese_chars.value_or(true),
                           overrides.strip_accents_set ? overrides.strip_accents : std::nullopt,
                           lowercase, vocab_txt.string() + ": ");
  } else if (std::filesystem::exists(folder / "vocab.json", ec) &&
             std::filesystem::exists(folder / "merges.txt", ec)) {
    config =
        roberta_pipeline(folder / "vocab.json", folder / "merges.txt", files ? &*files : nullptr);
  } else {
    throw Error(folder.string() +
                ": no tokenizer.json or vocab.txt (WordPiece), nor vocab.json + merges.txt (BPE)");
  }
  name_specials(config, files ? &*files : nullptr);
  return config;
}

}  // namespace vecformer::detail
