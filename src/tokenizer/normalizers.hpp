#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tokenizer/pipeline.hpp"
#include "tokenizer/precompiled.hpp"
#include "tokenizer/regex.hpp"

// tokenizer.json's normalizers, each as Hugging Face's (tokenizers/src/normalizers), keeping the
// alignment of every code point as HF's NormalizedString operations do.
namespace vecformer::detail {

class BertNormalizer final : public Normalizer {
 public:
  BertNormalizer(bool clean_text, bool handle_chinese_chars, std::optional<bool> strip_accents,
                 bool lowercase)
      : clean_text_(clean_text),
        handle_chinese_chars_(handle_chinese_chars),
        strip_accents_(strip_accents.value_or(lowercase)),
        lowercase_(lowercase) {}
  void normalize(NormalizedString& text, NormalizedString& scratch) const override;

 private:
  bool clean_text_, handle_chinese_chars_, strip_accents_, lowercase_;
};

// Rust's char::to_lowercase on each code point (no final-sigma rule).
class LowercaseNormalizer final : public Normalizer {
 public:
  void normalize(NormalizedString& text, NormalizedString& scratch) const override;
};

// Drops combining marks (Mn, Mc, Me).
class StripAccentsNormalizer final : public Normalizer {
 public:
  void normalize(NormalizedString& text, NormalizedString& scratch) const override;
};

// Strips Rust-whitespace from the left and/or right.
class StripNormalizer final : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  void normalize(NormalizedString& text, NormalizedString& scratch) const override;

 private:
  bool left_, right_;
};

// Prepends a string to a non-empty text; its code points align with the text's first one.
class PrependNormalizer final : public Normalizer {
 public:
  explicit PrependNormalizer(std::u32string prepend) : prepend_(std::move(prepend)) {}
  void normalize(NormalizedString& text, NormalizedString& scratch) const override;

 private:
  std::u32string prepend_;
};

// SentencePiece's nmt_nfkc control-character removal and whitespace mapping (HF's Nmt).
class NmtNormalizer final : public Normalizer {
 public:
  void normalize(NormalizedString& text, NormalizedString& scratch) const override;
};

enum class NormalForm { kNFC, kNFD, kNFKC, kNFKD };

// Unicode normalization form (ICU's Normalizer2), aligned per code point as HF's
// unicode-normalization-alignments does.
class UnicodeNormalizer final : public Normalizer {
 public:
  explicit UnicodeNormalizer(NormalForm form);
  void normalize(NormalizedString& text, NormalizedString& scratch) const override;

 private:
  NormalForm form_;
  const void* normalizer_;  // icu::Normalizer2, owned by ICU
};

// Replaces every match of a pattern with `content`; the new code points align with the last one of
// the match.
class ReplaceNormalizer final : public Normalizer {
 public:
  ReplaceNormalizer(std::shared_ptr<const Pattern> pattern, std::u32string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void normalize(NormalizedString& text, NormalizedString& scratch) const override;

 private:
  std::shared_ptr<const Pattern> pattern_;
  std::u32string content_;
};

// SentencePiece's precompiled charsmap applied as HF's Precompiled normalizer (grapheme clusters,
// first match; tokenizer/precompiled.hpp), with HF's alignments.
class PrecompiledNormalizer final : public Normalizer {
 public:
  explicit PrecompiledNormalizer(std::string_view blob) : charsmap_(blob) {}
  void normalize(NormalizedString& text, NormalizedString& scratch) const override;

 private:
  PrecompiledCharsmap charsmap_;
};

class SequenceNormalizer final : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::shared_ptr<const Normalizer>> normalizers)
      : normalizers_(std::move(normalizers)) {}
  void normalize(NormalizedString& text, NormalizedString& scratch) const override {
    for (const auto& normalizer : normalizers_) normalizer->normalize(text, scratch);
  }

 private:
  std::vector<std::shared_ptr<const Normalizer>> normalizers_;
};

// HF's NormalizedString::transform(changes, initial_offset) over all of `text`: each new code point
// with change 0 replaces the next old one (taking its alignment), with change -k also removes the k
// after it, with change > 0 is inserted (aligned with the old code point before it).
void transform(NormalizedString& text, const std::vector<std::pair<char32_t, int64_t>>& changes,
               size_t initial_offset, NormalizedString& scratch);

// Canonical decomposition with alignments: each output code point aligns with the one it came
// from, and reordered combining marks carry their alignment along.
void nfd_aligned(const NormalizedString& text, NormalizedString& out);

}  // namespace vecformer::detail
