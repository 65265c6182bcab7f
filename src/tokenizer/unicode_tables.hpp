#pragma once

#include <cstdint>
#include <span>

// The Unicode data behind the tokenizer, generated from Python's unicodedata and str.lower() by
// tools/gen_unicode_tables.py (so it matches Hugging Face's Python BertTokenizer character for
// character). Every table is sorted by code point; unicode.cpp holds the lookups.
namespace vecformer::detail::unicode_tables {

enum CharFlag : uint8_t {
  kPunctuation = 1,     // P* or ASCII 33-47, 58-64, 91-96, 123-126
  kControl = 2,         // C* (Cc, Cf, Co, Cn) except \t \n \r
  kWhitespace = 4,      // Zs, \t \n \r, and the rest of Python's str.split() whitespace
  kNonspacingMark = 8,  // Mn: what strip_accents removes after NFD
  kCased = 16,          // Lowercase | Uppercase | Lt, for the final-sigma rule
  kCaseIgnorable = 32,  // Case_Ignorable, for the final-sigma rule
};

// Code points first..last (inclusive) all have `flags`; code points in no range have none.
struct FlagRange {
  char32_t first;
  char32_t last;
  uint8_t flags;
};

// Code points first, first + stride, ..., last lowercase to code point + delta.
struct LowercaseRange {
  char32_t first;
  char32_t last;
  int32_t delta;
  uint8_t stride;
};

// Code points first..last have canonical combining class `combining_class` (never 0).
struct CombiningClassRange {
  char32_t first;
  char32_t last;
  uint8_t combining_class;
};

// The full canonical decomposition of `code_point` (already recursive and canonically ordered) is
// decomposition_data()[offset, offset + length). Hangul syllables are decomposed by formula
// instead.
struct Decomposition {
  char32_t code_point;
  uint16_t offset;
  uint8_t length;
};

extern const char* const kUnicodeVersion;

std::span<const uint8_t, 128> ascii_flags();
// Code points from 128 up.
std::span<const FlagRange> flag_ranges();
// Every single-character lowercase mapping; U+0130 (lowercase "i" + U+0307) and the final sigma are
// the two rules the lowercasing code adds.
std::span<const LowercaseRange> lowercase_ranges();
std::span<const CombiningClassRange> combining_class_ranges();
std::span<const Decomposition> decompositions();
std::span<const char32_t> decomposition_data();

}  // namespace vecformer::detail::unicode_tables
