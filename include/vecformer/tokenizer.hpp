#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace vecformer {

namespace detail {
class WordPiece;
}

struct TokenizerOptions {
  bool lowercase = true;
  // Strip accents (NFD, drop combining marks). Hugging Face's default: follow `lowercase`.
  bool strip_accents = true;
  bool tokenize_chinese_chars = true;
};

// WordPiece exactly as Hugging Face's BertTokenizer: clean text, split CJK characters, lowercase and
// strip accents (per options), split on whitespace and punctuation, then greedy longest-match-first
// sub-words with "##" continuations; a word over 100 characters, or one that cannot be matched, becomes
// [UNK]. Immutable after load; safe to use from many threads.
class Tokenizer {
 public:
  // From a model folder: tokenizer.json (when it holds a WordPiece model) or vocab.txt, with options
  // from tokenizer_config.json (do_lower_case, strip_accents, tokenize_chinese_chars) when present.
  // Throws vecformer::Error naming the file at fault.
  static Tokenizer load(const std::filesystem::path& folder);
  // From a vocabulary in id order.
  static Tokenizer from_vocab(std::vector<std::string> vocab, const TokenizerOptions& options = {});

  // Word pieces of `text`, without special tokens. Text must be valid UTF-8 (vecformer::Error if not).
  std::vector<std::string> tokenize(std::string_view text) const;
  // [CLS] pieces [SEP] as ids; max_length > 0 truncates the pieces so that the result (with [CLS] and
  // [SEP]) is at most max_length long.
  std::vector<int64_t> encode(std::string_view text, size_t max_length = 0) const;

  // -1 when absent.
  int64_t token_to_id(std::string_view token) const;
  const std::string& id_to_token(int64_t id) const;
  size_t vocab_size() const;

  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

 private:
  explicit Tokenizer(std::shared_ptr<const detail::WordPiece> impl);
  std::shared_ptr<const detail::WordPiece> impl_;
};

}  // namespace vecformer
