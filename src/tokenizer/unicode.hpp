#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/unicode_tables.hpp"

// The character-level steps of BERT's text normalization, on code points. The classes and mappings
// are Python's (Unicode 14, see tools/gen_unicode_tables.py), because Hugging Face's reference
// tokenizer is Python.
namespace vecformer::detail {

// Appends the code points of `text` to `out`. Rejects overlong forms, surrogates, code points above
// U+10FFFF and truncated sequences with vecformer::Error "text is not valid UTF-8 at byte N", N
// being the 0-based offset of the first byte of the offending sequence.
void decode_utf8(std::string_view text, std::vector<char32_t>& out);
// `code_point` must be a Unicode scalar value.
void append_utf8(char32_t code_point, std::string& out);
bool is_valid_utf8(std::string_view text);
// Bytes of the UTF-8 character starting at text[pos]; 1 for a byte that does not start a valid
// sequence (the tokenizer models are given valid UTF-8; this only keeps invalid input in bounds).
inline size_t utf8_char_length(std::string_view text, size_t pos) {
  const auto lead = static_cast<unsigned char>(text[pos]);
  size_t length = 1;
  if (lead >= 0xF0 && lead < 0xF8) {
    length = 4;
  } else if (lead >= 0xE0) {
    length = lead < 0xF0 ? 3 : 1;
  } else if (lead >= 0xC0) {
    length = 2;
  }
  if (pos + length > text.size()) return 1;
  for (size_t i = 1; i < length; ++i)
    if ((static_cast<unsigned char>(text[pos + i]) & 0xC0) != 0x80) return 1;
  return length;
}

// Bits of unicode_tables::CharFlag.
uint8_t char_flags(char32_t code_point);

inline bool is_punctuation(char32_t c) {
  return char_flags(c) & unicode_tables::kPunctuation;
}
inline bool is_control(char32_t c) {
  return char_flags(c) & unicode_tables::kControl;
}
inline bool is_whitespace(char32_t c) {
  return char_flags(c) & unicode_tables::kWhitespace;
}
inline bool is_nonspacing_mark(char32_t c) {
  return char_flags(c) & unicode_tables::kNonspacingMark;
}

// BertTokenizer's _is_chinese_char: the CJK Unified Ideographs blocks (with extensions A-E) and the
// CJK Compatibility Ideographs, exactly the ranges Hugging Face lists. Kana and Hangul are not
// included, and neither are the later extensions (F, G, ...): HF's list stops there too.
inline bool is_cjk_ideograph(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// Appends Python's str.lower() of `text`: the full lowercase mapping (U+0130 becomes "i" U+0307)
// and the final-sigma rule (U+03A3 becomes U+03C2 after a cased letter and not before one, skipping
// case-ignorable characters either way).
void append_lowercase(std::span<const char32_t> text, std::vector<char32_t>& out);

// The simple lowercase mapping of one code point (U+0130 is the one character whose full mapping
// has two code points: "i" U+0307; callers handle it).
char32_t lowercase_of(char32_t code_point);

// Appends the canonical decomposition (NFD) of `text`: decompositions, Hangul syllables and the
// canonical ordering of combining marks.
void append_nfd(std::span<const char32_t> text, std::vector<char32_t>& out);

uint8_t combining_class(char32_t code_point);

}  // namespace vecformer::detail
