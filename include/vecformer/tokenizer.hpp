#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vecformer/export.hpp"

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

// WordPiece exactly as Hugging Face's BertTokenizer: clean text, split CJK characters, lowercase
// and strip accents (per options), split on whitespace and punctuation, then greedy
// longest-match-first sub-words with "##" continuations; a word over 100 characters, or one that
// cannot be matched, becomes [UNK]. Immutable after load; safe to use from many threads.
//
// As in Hugging Face, special tokens written in the text ("[SEP]", case-sensitive) are those
// tokens, and, as in its fast (Rust) and JavaScript tokenizers, there is no NFC step (Python's slow
// BertTokenizer has one, which can matter only when accents are kept). Lowercasing is Python's
// str.lower(), final sigma included; character classes are Unicode 14
// (tools/gen_unicode_tables.py). Tested id for id against Hugging Face's own tokenizer
// (tests/tokenizer/data).
class VECFORMER_API Tokenizer {
 public:
  // From a model folder: tokenizer.json (when it holds a WordPiece model) or vocab.txt, with
  // options from tokenizer_config.json (do_lower_case, strip_accents, tokenize_chinese_chars) when
  // present. The vocabulary must hold [CLS], [SEP] and [UNK]. Throws vecformer::Error naming the
  // folder or the file (and field or line) at fault.
  static Tokenizer load(const std::filesystem::path& folder);
  // From a vocabulary in id order; those of [PAD] [UNK] [CLS] [SEP] [MASK] it holds are its special
  // tokens, and [UNK], [CLS] and [SEP] must be there (vecformer::Error if not).
  static Tokenizer from_vocab(std::vector<std::string> vocab, const TokenizerOptions& options = {});

  // Word pieces of `text`, without [CLS] and [SEP] around them. Text must be valid UTF-8: if not,
  // vecformer::Error "text is not valid UTF-8 at byte N" (N counted from 0).
  std::vector<std::string> tokenize(std::string_view text) const;
  // [CLS] pieces [SEP] as ids; max_length > 0 truncates the pieces so that the result (with [CLS]
  // and [SEP]) is at most max_length long (max_length 1 is an Error). An empty text gives [CLS]
  // [SEP].
  std::vector<int64_t> encode(std::string_view text, size_t max_length = 0) const;

  // -1 when absent.
  int64_t token_to_id(std::string_view token) const;
  // vecformer::Error when id is outside [0, vocab_size()).
  const std::string& id_to_token(int64_t id) const;
  // Every id: the WordPiece vocabulary and any added tokens of tokenizer.json past its end.
  size_t vocab_size() const;

  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

 private:
  explicit Tokenizer(std::shared_ptr<const detail::WordPiece> impl);
  std::shared_ptr<const detail::WordPiece> impl_;
};

}  // namespace vecformer
