// libFuzzer target: the Unigram model (src/tokenizer/unigram.hpp) built from random pieces, then
// given a random word.
//
// Input: a flags byte (byte_fallback; an unk piece and where it goes), then sections separated by
// "\n\n": pieces one a line (a piece's score is minus its line number's hash, in [-20, 0); when
// byte_fallback, <0x00>..<0xFF> pieces follow at -30), then the word.
// Properties:
// - tokenize() throws (a one-line vecformer::Error) only when there is no unk piece;
// - its tokens have ids of the vocabulary and cover the word with consecutive byte ranges (byte
//   fallback tokens of one run repeat the run's range);
// - a word that is one piece and made of pieces' characters only is never unk.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support.hpp"
#include "tokenizer/unigram.hpp"
#include "vecformer/error.hpp"

namespace {

using vecformer::fuzz::check_message;
using vecformer::fuzz::require;

std::vector<std::string_view> split(std::string_view text, std::string_view separator) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    const size_t end = text.find(separator, start);
    if (end == std::string_view::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, end - start));
    start = end + separator.size();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::vector<std::string_view> sections = split(input, "\n\n");
  if (sections.size() < 2) return 0;

  vecformer::detail::UnigramConfig config;
  config.byte_fallback = flags & 1;
  for (const std::string_view piece : split(sections[0], "\n")) {
    const double score = -static_cast<double>((config.pieces.size() * 2654435761u) % 2000) / 100.0;
    config.pieces.emplace_back(std::string(piece), score);
  }
  if (flags & 2) {
    const size_t at = (flags >> 4) % (config.pieces.size() + 1);
    config.pieces.insert(config.pieces.begin() + static_cast<std::ptrdiff_t>(at), {"<unk>", 0.0});
    config.unk_id = at;
  }
  if (config.byte_fallback) {
    for (int b = 0; b < 256; b += (flags & 4) ? 2 : 1) {
      char name[8];
      std::snprintf(name, sizeof name, "<0x%02X>", b);
      config.pieces.emplace_back(name, -30.0);
    }
  }
  if (flags & 8 && config.unk_id) config.unk_id = config.pieces.size();  // out of range
  std::optional<vecformer::detail::Unigram> model;
  try {
    model.emplace(config);
  } catch (const vecformer::Error& e) {
    check_message(e);
    require(config.unk_id && *config.unk_id >= config.pieces.size());
    return 0;
  }

  const std::string_view word = sections[1];
  std::vector<vecformer::detail::ModelToken> tokens;
  try {
    model->tokenize(word, tokens);
  } catch (const vecformer::Error& e) {
    check_message(e);
    require(!config.unk_id);
    return 0;
  }
  uint32_t end = 0;
  uint32_t begin = 0;
  for (const auto& t : tokens) {
    require(model->id_to_token(t.id) != nullptr);
    require(t.end > t.begin);
    require(t.begin == end || (t.begin == begin && t.end == end));  // a byte-fallback run
    begin = t.begin;
    end = t.end;
  }
  require(end == word.size());
  if (!word.empty() && model->token_to_id(word) >= 0 && tokens.size() == 1)
    require(tokens[0].id == model->token_to_id(word));
  return 0;
}
