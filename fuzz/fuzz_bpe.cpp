// libFuzzer target: the BPE model (src/tokenizer/bpe.hpp) built from a random vocabulary and
// merges, then given a random word.
//
// Input: a flags byte (fuse_unk, byte_fallback, ignore_merges, an unk token, a "##" prefix, a
// "</w>" suffix), then sections separated by "\n\n": vocabulary tokens one a line (id = line
// number; when byte_fallback, <0x00>..<0xFF> follow), merges one a line ("a b"), the word.
// Properties:
// - the constructor either builds the model or throws a one-line vecformer::Error;
// - tokenize() throws only for a missing unk token, and its tokens have ids of the vocabulary and
//   consecutive byte ranges; without byte fallback under a prefix or suffix they end inside the
//   word, and with an unk token they cover it all;
// - tokenizing the same word twice gives the same tokens.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "support.hpp"
#include "tokenizer/bpe.hpp"
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
  if (sections.size() < 3) return 0;

  vecformer::detail::BpeConfig config;
  config.fuse_unk = flags & 1;
  config.byte_fallback = flags & 2;
  config.ignore_merges = flags & 4;
  if (flags & 8) config.unk_token = "<unk>";
  if (flags & 16) config.continuing_subword_prefix = "##";
  if (flags & 32) config.end_of_word_suffix = "</w>";
  for (const std::string_view token : split(sections[0], "\n"))
    config.vocab.emplace_back(std::string(token), static_cast<int64_t>(config.vocab.size()));
  if (flags & 64) config.vocab.emplace_back("<unk>", static_cast<int64_t>(config.vocab.size()));
  if (config.byte_fallback) {
    for (int b = 0; b < 256; b += (flags & 128) ? 2 : 1) {
      char name[8];
      std::snprintf(name, sizeof name, "<0x%02X>", b);
      config.vocab.emplace_back(name, static_cast<int64_t>(config.vocab.size()));
    }
  }
  std::optional<vecformer::detail::Bpe> bpe;
  try {
    for (const std::string_view line : split(sections[1], "\n")) {
      if (line.empty()) continue;
      config.merges.push_back(vecformer::detail::split_merge_line(line));
    }
    bpe.emplace(config);
  } catch (const vecformer::Error& e) {
    check_message(e);
    return 0;
  }

  const std::string_view word = sections[2];
  std::vector<vecformer::detail::ModelToken> tokens;
  try {
    bpe->tokenize(word, tokens);
  } catch (const vecformer::Error& e) {
    check_message(e);
    require(config.unk_token && bpe->token_to_id("<unk>") < 0);
    return 0;
  }
  uint32_t end = 0;
  for (const auto& t : tokens) {
    require(bpe->id_to_token(t.id) != nullptr);
    require(t.begin == end && t.end > t.begin);
    end = t.end;
  }
  const bool affixes =
      !config.continuing_subword_prefix.empty() || !config.end_of_word_suffix.empty();
  if (!(config.byte_fallback && affixes)) require(end <= word.size());
  if (config.unk_token && !config.byte_fallback) require(end == word.size());

  std::vector<vecformer::detail::ModelToken> again;
  bpe->tokenize(word, again);
  require(again.size() == tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i)
    require(again[i].id == tokens[i].id && again[i].begin == tokens[i].begin &&
            again[i].end == tokens[i].end);
  return 0;
}
