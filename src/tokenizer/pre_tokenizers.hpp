#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tokenizer/pipeline.hpp"
#include "tokenizer/regex.hpp"

// tokenizer.json's pre-tokenizers, each as Hugging Face's (tokenizers/src/pre_tokenizers).
namespace vecformer::detail {

// HF's SplitDelimiterBehavior: what becomes of the matches when a piece is split.
enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

// Splits on Rust-whitespace (removed), then on punctuation (each its own piece).
class BertPreTokenizer final : public PreTokenizer {
 public:
  void pre_tokenize(PreTokens& pieces, PreTokens& scratch) const override;
};

// Pieces are the matches of \w+|[^\w\s]+.
class WhitespacePreTokenizer final : public PreTokenizer {
 public:
  void pre_tokenize(PreTokens& pieces, PreTokens& scratch) const override;
};

// Splits on Rust-whitespace, removed.
class WhitespaceSplitPreTokenizer final : public PreTokenizer {
 public:
  void pre_tokenize(PreTokens& pieces, PreTokens& scratch) const override;
};

// Punctuation (ASCII punctuation and Unicode P*) with the given behavior.
class PunctuationPreTokenizer final : public PreTokenizer {
 public:
  explicit PunctuationPreTokenizer(SplitBehavior behavior) : behavior_(behavior) {}
  void pre_tokenize(PreTokens& pieces, PreTokens& scratch) const override;

 private:
  SplitBehavior behavior_;
};

// Numeric code points (N*): each its own piece, or runs of them.
class DigitsPreTokenizer final : public PreTokenizer {
 public:
  explicit DigitsPreTokenizer(bool individual_digits) : individual_(individual_digits) {}
  void pre_tokenize(PreTokens& pieces, PreTokens& scratch) const override;

 private:
  bool individual_;
};

class SplitPreTokenizer final : public PreTokenizer {
 public:
  SplitPreTokenizer(std::shared_ptr<const Pattern> pattern, SplitBehavior behavior, bool invert)
      : pattern_(std::move(pattern)), behavior_(behavior), invert_(invert) {}
  void pre_tokenize(PreTokens& pieces, PreTokens& scratch) const override;

 private:
  std::shared_ptr<const Pattern> pattern_;
  SplitBehavior behavior_;
  bool invert_;
};

// GPT-2's byte-level pre-tokenizer: optional prefix space, the GPT-2 regex (isolated), then every
// UTF-8 byte becomes a printable code point (bytes_to_unicode), aligned with the code point it is
// a byte of.
class ByteLevelPreTokenizer final : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex);
  void pre_tokenize(PreTokens& pieces, PreTokens& scratch) const override;

 private:
  bool add_prefix_space_;
  bool use_regex_;
  std::unique_ptr<Regex> regex_;
};

// The code point GPT-2's bytes_to_unicode maps a byte to.
char32_t byte_to_unicode(uint8_t byte);

enum class PrependScheme { kAlways, kFirst, kNever };

// SentencePiece's spaces: ' ' becomes `replacement`, which is prepended per the scheme, and pieces
// split before each replacement (merged with what follows).
class MetaspacePreTokenizer final : public PreTokenizer {
 public:
  MetaspacePreTokenizer(char32_t replacement, PrependScheme scheme, bool split)
      : replacement_(replacement), scheme_(scheme), split_(split) {}
  void pre_tokenize(PreTokens& pieces, PreTokens& scratch) const override;

 private:
  char32_t replacement_;
  PrependScheme scheme_;
  bool split_;
};

class SequencePreTokenizer final : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::shared_ptr<const PreTokenizer>> pre_tokenizers)
      : pre_tokenizers_(std::move(pre_tokenizers)) {}
  void pre_tokenize(PreTokens& pieces, PreTokens& scratch) const override {
    for (const auto& pre_tokenizer : pre_tokenizers_) pre_tokenizer->pre_tokenize(pieces, scratch);
  }

 private:
  std::vector<std::shared_ptr<const PreTokenizer>> pre_tokenizers_;
};

}  // namespace vecformer::detail
