#include "tokenizer/pre_tokenizers.hpp"

#include <unicode/uchar.h>

#include <algorithm>
#include <array>

#include "tokenizer/unicode.hpp"

namespace vecformer::detail {

namespace {

namespace tables = unicode_tables;

// Calls split(in, piece, out) for every piece that is not an added token, which pass through.
template <typename Split>
void split_pieces(PreTokens& pieces, PreTokens& scratch, Split&& split) {
  scratch.clear();
  for (const Piece& piece : pieces.pieces) {
    if (piece.token >= 0) {
      scratch.add(pieces.text, piece.begin, piece.end, piece.token);
    } else {
      split(pieces.text, piece, scratch);
    }
  }
  std::swap(pieces, scratch);
}

// HF's NormalizedString::split: the spans (relative to `first`) of `text` become pieces of `out`
// per `behavior`.
void emit(const NormalizedString& text, size_t first, std::vector<TextSpan>& spans,
          SplitBehavior behavior, PreTokens& out) {
  switch (behavior) {
    case SplitBehavior::kRemoved:
      break;
    case SplitBehavior::kIsolated:
      for (TextSpan& span : spans) span.match = false;
      break;
    case SplitBehavior::kContiguous:
    case SplitBehavior::kMergedWithPrevious: {
      const bool contiguous = behavior == SplitBehavior::kContiguous;
      size_t n = 0;
      bool previous = false;
      for (size_t i = 0; i < spans.size(); ++i) {
        const TextSpan span = spans[i];  // a copy: spans[n] may be this one
        const bool merge = contiguous ? span.match == previous : span.match && !previous;
        if (merge && n > 0) {
          spans[n - 1].end = span.end;
        } else {
          spans[n++] = {span.begin, span.end, false};
        }
        previous = span.match;
      }
      spans.resize(n);
      break;
    }
    case SplitBehavior::kMergedWithNext: {
      // Right to left, so the kept spans are built from the back.
      size_t n = spans.size();
      bool previous = false;
      size_t write = spans.size();
      for (size_t i = n; i-- > 0;) {
        const TextSpan span = spans[i];
        if (span.match && !previous && write < spans.size()) {
          spans[write].begin = span.begin;
        } else {
          spans[--write] = {span.begin, span.end, false};
        }
        previous = span.match;
      }
      spans.erase(spans.begin(), spans.begin() + static_cast<std::ptrdiff_t>(write));
      break;
    }
  }
  for (const TextSpan& span : spans) {
    if (!span.match) out.add(text, first + span.begin, first + span.end);
  }
}

// Spans of one code point per match of `is_match`, non-matches between them.
template <typename Predicate>
void char_spans(std::u32string_view text, Predicate&& is_match, std::vector<TextSpan>& spans) {
  spans.clear();
  uint32_t last = 0;
  for (uint32_t i = 0; i < text.size(); ++i) {
    if (!is_match(text[i])) continue;
    if (last < i) spans.push_back({last, i, false});
    spans.push_back({i, i + 1, true});
    last = i + 1;
  }
  if (last < text.size()) spans.push_back({last, static_cast<uint32_t>(text.size()), false});
}

std::vector<TextSpan>& spans_buffer() {
  thread_local std::vector<TextSpan> spans;
  return spans;
}

bool is_punctuation_char(char32_t c) {
  return char_flags(c) & tables::kPunctuation;
}

// Rust regex's \w.
bool is_word(char32_t c) {
  if (c < 128) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  }
  const auto cp = static_cast<UChar32>(c);
  return u_hasBinaryProperty(cp, UCHAR_ALPHABETIC) || u_hasBinaryProperty(cp, UCHAR_JOIN_CONTROL) ||
         (U_GET_GC_MASK(cp) & (U_GC_M_MASK | U_GC_ND_MASK | U_GC_PC_MASK)) != 0;
}

bool is_numeric(char32_t c) {
  if (c < 128) return c >= '0' && c <= '9';
  return (U_GET_GC_MASK(static_cast<UChar32>(c)) & U_GC_N_MASK) != 0;
}

}  // namespace

void BertPreTokenizer::pre_tokenize(PreTokens& pieces, PreTokens& scratch) const {
  split_pieces(pieces, scratch,
               [](const NormalizedString& text, const Piece& piece, PreTokens& out) {
                 size_t pos = piece.begin;
                 while (pos < piece.end) {
                   const char32_t c = text.chars[pos];
                   if (is_rust_whitespace(c)) {
                     ++pos;
                     continue;
                   }
                   size_t end = pos + 1;
                   if (!is_punctuation_char(c)) {
                     while (end < piece.end && !is_rust_whitespace(text.chars[end]) &&
                            !is_punctuation_char(text.chars[end])) {
                       ++end;
                     }
                   }
                   out.add(text, pos, end);
                   pos = end;
                 }
               });
}

void WhitespacePreTokenizer::pre_tokenize(PreTokens& pieces, PreTokens& scratch) const {
  split_pieces(pieces, scratch,
               [](const NormalizedString& text, const Piece& piece, PreTokens& out) {
                 size_t pos = piece.begin;
                 while (pos < piece.end) {
                   const char32_t c = text.chars[pos];
                   if (is_rust_whitespace(c)) {
                     ++pos;
                     continue;
                   }
                   const bool word = is_word(c);
                   size_t end = pos + 1;
                   while (end < piece.end && is_word(text.chars[end]) == word &&
                          (word || !is_rust_whitespace(text.chars[end]))) {
                     ++end;
                   }
                   out.add(text, pos, end);
                   pos = end;
                 }
               });
}

void WhitespaceSplitPreTokenizer::pre_tokenize(PreTokens& pieces, PreTokens& scratch) const {
  split_pieces(pieces, scratch,
               [](const NormalizedString& text, const Piece& piece, PreTokens& out) {
                 size_t pos = piece.begin;
                 while (pos < piece.end) {
                   if (is_rust_whitespace(text.chars[pos])) {
                     ++pos;
                     continue;
                   }
                   size_t end = pos + 1;
                   while (end < piece.end && !is_rust_whitespace(text.chars[end])) ++end;
                   out.add(text, pos, end);
                   pos = end;
                 }
               });
}

void PunctuationPreTokenizer::pre_tokenize(PreTokens& pieces, PreTokens& scratch) const {
  split_pieces(pieces, scratch,
               [&](const NormalizedString& text, const Piece& piece, PreTokens& out) {
                 std::vector<TextSpan>& spans = spans_buffer();
                 char_spans({text.chars.data() + piece.begin, piece.end - piece.begin},
                            is_punctuation_char, spans);
                 emit(text, piece.begin, spans, behavior_, out);
               });
}

void DigitsPreTokenizer::pre_tokenize(PreTokens& pieces, PreTokens& scratch) const {
  split_pieces(
      pieces, scratch, [&](const NormalizedString& text, const Piece& piece, PreTokens& out) {
        std::vector<TextSpan>& spans = spans_buffer();
        char_spans({text.chars.data() + piece.begin, piece.end - piece.begin}, is_numeric, spans);
        emit(text, piece.begin, spans,
             individual_ ? SplitBehavior::kIsolated : SplitBehavior::kContiguous, out);
      });
}

void SplitPreTokenizer::pre_tokenize(PreTokens& pieces, PreTokens& scratch) const {
  split_pieces(pieces, scratch,
               [&](const NormalizedString& text, const Piece& piece, PreTokens& out) {
                 std::vector<TextSpan>& spans = spans_buffer();
                 pattern_->find({text.chars.data() + piece.begin, piece.end - piece.begin}, spans);
                 if (invert_) {
                   for (TextSpan& span : spans) span.match = !span.match;
                 }
                 emit(text, piece.begin, spans, behavior_, out);
               });
}

namespace {

const std::array<char32_t, 256>& bytes_to_unicode() {
  static const std::array<char32_t, 256> table = [] {
    std::array<char32_t, 256> t{};
    std::array<bool, 256> printable{};
    for (int b = '!'; b <= '~'; ++b) printable[b] = true;
    for (int b = 0xA1; b <= 0xAC; ++b) printable[b] = true;
    for (int b = 0xAE; b <= 0xFF; ++b) printable[b] = true;
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) t[b] = printable[b] ? static_cast<char32_t>(b) : next++;
    return t;
  }();
  return table;
}

constexpr char32_t kGpt2Pattern[] =
    U"'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

}  // namespace

char32_t byte_to_unicode(uint8_t byte) {
  return bytes_to_unicode()[byte];
}

ByteLevelPreTokenizer::ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex)
    : add_prefix_space_(add_prefix_space), use_regex_(use_regex) {
  if (use_regex_) regex_ = std::make_unique<Regex>(kGpt2Pattern, "the GPT-2 pattern");
}

void ByteLevelPreTokenizer::pre_tokenize(PreTokens& pieces, PreTokens& scratch) const {
  thread_local NormalizedString prefixed;
  thread_local PreTokens split;
  const std::array<char32_t, 256>& table = bytes_to_unicode();
  split_pieces(pieces, scratch,
               [&](const NormalizedString& text, const Piece& piece, PreTokens& out) {
                 prefixed.clear();
                 if (add_prefix_space_ && text.chars[piece.begin] != ' ')
                   prefixed.push(' ', text.align[piece.begin]);
                 prefixed.append(text, piece.begin, piece.end);
                 split.clear();
                 if (use_regex_) {
                   std::vector<TextSpan>& spans = spans_buffer();
                   regex_->find({prefixed.chars.data(), prefixed.size()}, spans);
                   emit(prefixed, 0, spans, SplitBehavior::kIsolated, split);
                 } else {
                   split.add(prefixed, 0, prefixed.size());
                 }
                 // Every UTF-8 byte of every code point becomes a code point of its own.
                 std::string bytes;
                 for (const Piece& p : split.pieces) {
                   const auto begin = static_cast<uint32_t>(out.text.size());
                   for (size_t i = p.begin; i < p.end; ++i) {
                     const char32_t c = split.text.chars[i];
                     const Alignment a = split.text.align[i];
                     if (c < 0x80) {
                       out.text.push(table[c], a);
                       continue;
                     }
                     bytes.clear();
                     append_utf8(c, bytes);
                     for (const char b : bytes) out.text.push(table[static_cast<uint8_t>(b)], a);
                   }
                   out.pieces.push_back({begin, static_cast<uint32_t>(out.text.size()), -1});
                 }
               });
}

void MetaspacePreTokenizer::pre_tokenize(PreTokens& pieces, PreTokens& scratch) const {
  thread_local NormalizedString replaced;
  split_pieces(
      pieces, scratch, [&](const NormalizedString& text, const Piece& piece, PreTokens& out) {
        replaced.clear();
        const bool prepend =
            text.chars[piece.begin] != ' ' && text.chars[piece.begin] != replacement_ &&
            (scheme_ == PrependScheme::kAlways ||
             (scheme_ == PrependScheme::kFirst && text.align[piece.begin].begin == 0));
        if (prepend) replaced.push(replacement_, text.align[piece.begin]);
        for (size_t i = piece.begin; i < piece.end; ++i) {
          replaced.push(text.chars[i] == ' ' ? replacement_ : text.chars[i], text.align[i]);
        }
        if (!split_) {
          out.add(replaced, 0, replaced.size());
          return;
        }
        // MergedWithNext on the replacement character: each piece starts at one.
        size_t begin = 0;
        for (size_t i = 1; i < replaced.size(); ++i) {
          if (replaced.chars[i] == replacement_) {
            out.add(replaced, begin, i);
            begin = i;
          }
        }
        out.add(replaced, begin, replaced.size());
      });
}

}  // namespace vecformer::detail
