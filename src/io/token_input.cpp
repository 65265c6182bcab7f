#include "io/token_input.hpp"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <string_view>

#include "io/json_message.hpp"
#include "io/printable.hpp"
#include "vecformer/error.hpp"

namespace vecformer::detail {

namespace {

using nlohmann::json;

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Keeps a message readable, and one line, when a line holds one enormous malformed token or bytes
// that are not text (see printable()).
std::string shorten(std::string_view text) {
  return printable(text, 40);
}
std::string shorten(const json& value) {
  return printable_json(value, 40);
}

// Validates and converts one line; every message carries the "<source>:<line>: " prefix.
class LineReader {
 public:
  LineReader(const std::string& source, size_t line, const Config& config, size_t max_length)
      : source_(source), line_(line), config_(config), max_length_(max_length) {}

  Sequence read(std::string_view text) const {
    const size_t first = text.find_first_not_of(" \t\r\v\f");
    Sequence sequence = text[first] == '{' ? read_json(text) : read_plain(text);
    truncate(sequence);
    check_length(sequence.input_ids.size());
    return sequence;
  }

 private:
  // As the tokenizer truncates text: the last id ([SEP] in tokenizer output) stays last.
  void truncate(Sequence& sequence) const {
    if (max_length_ == 0 || sequence.input_ids.size() <= max_length_) return;
    for (std::vector<int64_t>* ids : {&sequence.input_ids, &sequence.token_type_ids}) {
      if (ids->empty()) continue;
      (*ids)[max_length_ - 1] = ids->back();
      ids->resize(max_length_);
    }
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(source_ + ":" + std::to_string(line_) + ": " + what);
  }

  static std::string token(size_t index) { return "token " + std::to_string(index + 1); }

  Sequence read_plain(std::string_view text) const {
    Sequence sequence;
    size_t pos = 0;
    while (true) {
      while (pos < text.size() && is_blank(text[pos])) ++pos;
      if (pos == text.size()) break;
      size_t end = pos;
      while (end < text.size() && !is_blank(text[end])) ++end;
      sequence.input_ids.push_back(
          parse_id(text.substr(pos, end - pos), sequence.input_ids.size()));
      pos = end;
    }
    return sequence;
  }

  int64_t parse_id(std::string_view word, size_t index) const {
    // from_chars alone would accept a leading '-', so every character is checked first.
    for (char c : word) {
      if (!is_digit(c)) {
        fail(token(index) + " (\"" + shorten(word) + "\") is not a non-negative decimal integer");
      }
    }
    int64_t id = 0;
    const auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), id);
    if (ec == std::errc::result_out_of_range) {
      fail(token(index) + " (\"" + shorten(word) + "\") is out of range");
    }
    check_id(id, index);
    return id;
  }

  Sequence read_json(std::string_view text) const {
    json object;
    try {
      object = json::parse(text);
    } catch (const json::exception& e) {
      fail("not valid JSON: " + json_message(e));
    }
    if (!object.is_object()) fail("a JSON line must be an object");

    Sequence sequence;
    const auto ids = object.find("input_ids");
    if (ids == object.end()) fail("missing \"input_ids\"");
    check_array(*ids, "input_ids");
    if (ids->empty()) fail("\"input_ids\" is empty");
    sequence.input_ids.reserve(ids->size());
    for (size_t i = 0; i < ids->size(); ++i) {
      const json& value = (*ids)[i];
      check_integer(value, i, "input_ids");
      // Negative values are stored signed, non-negative ones unsigned (possibly above INT64_MAX).
      if (!value.is_number_unsigned() ||
          value.get<uint64_t>() >= static_cast<uint64_t>(config_.vocab_size)) {
        fail_id(value.dump(), i);
      }
      sequence.input_ids.push_back(value.get<int64_t>());
    }

    const auto types = object.find("token_type_ids");
    if (types != object.end()) {
      check_array(*types, "token_type_ids");
      check_same_length(*types, "token_type_ids", ids->size());
      sequence.token_type_ids.reserve(types->size());
      for (size_t i = 0; i < types->size(); ++i) {
        const json& value = (*types)[i];
        check_integer(value, i, "token_type_ids");
        if (!value.is_number_unsigned() || !valid_type(value.get<uint64_t>())) {
          fail_type(value.dump(), i);
        }
        sequence.token_type_ids.push_back(value.get<int64_t>());
      }
    }

    // Hugging Face tokenizers emit attention_mask too; a 0 would mark padding that this reader
    // cannot drop without guessing, and encoding it as a real token would silently change results.
    const auto mask = object.find("attention_mask");
    if (mask != object.end()) {
      check_array(*mask, "attention_mask");
      check_same_length(*mask, "attention_mask", ids->size());
      for (size_t i = 0; i < mask->size(); ++i) {
        if ((*mask)[i] != 1) {
          fail(token(i) + " has attention_mask " + shorten((*mask)[i]) +
               "; padding is not supported, so every mask value must be 1");
        }
      }
    }
    return sequence;
  }

  void check_array(const json& value, const char* key) const {
    if (!value.is_array()) {
      fail(std::string("\"") + key + "\" must be an array of integers, got " + shorten(value));
    }
  }

  void check_same_length(const json& value, const char* key, size_t expected) const {
    if (value.size() != expected) {
      fail(std::string("\"") + key + "\" has " + std::to_string(value.size()) +
           " entries but \"input_ids\" has " + std::to_string(expected));
    }
  }

  void check_integer(const json& value, size_t index, const char* key) const {
    if (!value.is_number_integer()) {
      fail(token(index) + " of \"" + key + "\" must be an integer, got " + shorten(value));
    }
  }

  bool valid_type(uint64_t type) const {
    // With no token type embedding (type_vocab_size 0) every token is implicitly type 0.
    const auto limit = static_cast<uint64_t>(std::max<int64_t>(config_.type_vocab_size, 1));
    return type < limit;
  }

  void check_id(int64_t id, size_t index) const {
    if (id >= config_.vocab_size) fail_id(std::to_string(id), index);
  }

  [[noreturn]] void fail_id(const std::string& id, size_t index) const {
    fail(token(index) + " (id " + id + ") is outside the vocabulary (vocab_size " +
         std::to_string(config_.vocab_size) + ")");
  }

  [[noreturn]] void fail_type(const std::string& type, size_t index) const {
    if (config_.type_vocab_size == 0) {
      fail(token(index) + " (type " + type +
           ") must be 0 because the model has no token types (type_vocab_size 0, or no token type "
           "embedding in its checkpoint)");
    }
    fail(token(index) + " (type " + type + ") is outside the type vocabulary (type_vocab_size " +
         std::to_string(config_.type_vocab_size) + ")");
  }

  void check_length(size_t length) const {
    if (length > static_cast<size_t>(config_.max_length())) {
      fail("sequence has " + std::to_string(length) + " tokens, more than the model's maximum " +
           std::to_string(config_.max_length()));
    }
  }

  const std::string& source_;
  size_t line_;
  const Config& config_;
  size_t max_length_;
};

}  // namespace

std::vector<Sequence> read_token_input(std::istream& in, const std::string& source,
                                       const Config& config, size_t max_length) {
  if (max_length == 1) throw Error("max_length 1 leaves no room for a first and a last token");
  std::vector<Sequence> sequences;
  std::string line;
  size_t line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    // Each line is one output row, so a blank line is not skipped: it has no token to encode.
    if (line.find_first_not_of(" \t\r\v\f") == std::string::npos) {
      throw Error(source + ":" + std::to_string(line_number) +
                  ": empty line (each line is one sequence of at least one token id)");
    }
    sequences.push_back(LineReader(source, line_number, config, max_length).read(line));
  }
  if (in.bad()) throw Error(source + ": read error after line " + std::to_string(line_number));
  return sequences;
}

}  // namespace vecformer::detail
