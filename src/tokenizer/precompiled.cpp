#include "tokenizer/precompiled.hpp"

#include <unicode/ubrk.h>
#include <unicode/utext.h>

#include <cstring>
#include <limits>
#include <memory>

#include "tokenizer/unicode.hpp"
#include "vecformer/error.hpp"

namespace vecformer::detail {

namespace {

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

uint32_t read_u32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// Darts double-array unit fields, as the crate's ArrayUnitTrait (64-bit usize arithmetic).
bool has_leaf(uint64_t unit) {
  return ((unit >> 8) & 1) == 1;
}
uint64_t value(uint64_t unit) {
  return unit & ((uint64_t{1} << 31) - 1);
}
uint64_t label(uint64_t unit) {
  return unit & ((uint64_t{1} << 31) | 0xFF);
}
uint64_t offset(uint64_t unit) {
  return (unit >> 10) << ((unit & (uint64_t{1} << 9)) >> 6);
}

struct BreakIteratorDeleter {
  void operator()(UBreakIterator* it) const { ubrk_close(it); }
};
struct TextDeleter {
  void operator()(UText* text) const { utext_close(text); }
};

}  // namespace

std::string base64_decode(std::string_view text) {
  if (text.size() % 4 != 0)
    throw Error("not valid base64: length " + std::to_string(text.size()) +
                " is not a multiple of 4");
  size_t padding = 0;
  if (!text.empty() && text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  const size_t data_chars = text.size() - padding;
  uint32_t bits = 0;
  int count = 0;
  for (size_t i = 0; i < data_chars; ++i) {
    const int v = base64_value(text[i]);
    if (v < 0) throw Error("not valid base64 at character " + std::to_string(i));
    bits = (bits << 6) | static_cast<uint32_t>(v);
    if (++count == 4) {
      out.push_back(static_cast<char>(bits >> 16));
      out.push_back(static_cast<char>(bits >> 8));
      out.push_back(static_cast<char>(bits));
      bits = 0;
      count = 0;
    }
  }
  // The last group: 2 characters give 1 byte, 3 give 2; the bits left over must be zero.
  if (count == 2) {
    if (bits & 0xF) throw Error("not valid base64 at character " + std::to_string(data_chars - 1));
    out.push_back(static_cast<char>(bits >> 4));
  } else if (count == 3) {
    if (bits & 0x3) throw Error("not valid base64 at character " + std::to_string(data_chars - 1));
    out.push_back(static_cast<char>(bits >> 10));
    out.push_back(static_cast<char>(bits >> 2));
  } else if (count == 1) {
    throw Error("not valid base64 at character " + std::to_string(data_chars));
  }
  return out;
}

PrecompiledCharsmap::PrecompiledCharsmap(std::string_view blob) {
  if (blob.size() < 4)
    throw Error("precompiled_charsmap: " + std::to_string(blob.size()) +
                " bytes, shorter than its 4-byte header");
  const uint32_t trie_size = read_u32(blob.data());
  const size_t units = trie_size / 4;
  if (units > (blob.size() - 4) / 4)
    throw Error("precompiled_charsmap: the trie of " + std::to_string(trie_size) +
                " bytes is longer than the " + std::to_string(blob.size() - 4) +
                " bytes after the header");
  units_.resize(units);
  for (size_t i = 0; i < units; ++i) units_[i] = read_u32(blob.data() + 4 + 4 * i);
  strings_.assign(blob.substr(4 + 4 * units));
  if (!is_valid_utf8(strings_))
    throw Error("precompiled_charsmap: the normalized strings are not valid UTF-8");
}

std::optional<std::string_view> PrecompiledCharsmap::transform(std::string_view chunk) const {
  if (units_.empty()) return std::nullopt;
  uint64_t node = 0;
  uint64_t unit = units_[0];
  node ^= offset(unit);
  for (const char ch : chunk) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == 0) break;
    node ^= c;
    if (node >= units_.size()) return std::nullopt;
    unit = units_[node];
    if (label(unit) != c) return std::nullopt;
    node ^= offset(unit);
    if (has_leaf(unit)) {
      if (node >= units_.size()) return std::nullopt;
      const uint64_t index = value(units_[node]);
      if (index > strings_.size()) return std::nullopt;
      // The crate slices a str here: an index inside a character would panic there; a miss here.
      if (index < strings_.size() && (static_cast<unsigned char>(strings_[index]) & 0xC0) == 0x80)
        return std::nullopt;
      const size_t nul = strings_.find('\0', index);
      return std::string_view(strings_).substr(
          index, (nul == std::string::npos ? strings_.size() : nul) - index);
    }
  }
  return std::nullopt;
}

void precompiled_normalize(const PrecompiledCharsmap& charsmap, std::string_view input,
                           const PrecompiledPiece& piece) {
  if (input.empty()) return;
  if (input.size() >= static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    throw Error("Precompiled normalizer: a text of 2 GB or more");
  // One break iterator per thread, reused: opening one loads ICU's rules.
  thread_local std::unique_ptr<UBreakIterator, BreakIteratorDeleter> iterator;
  UErrorCode status = U_ZERO_ERROR;
  if (!iterator) {
    iterator.reset(ubrk_open(UBRK_CHARACTER, "", nullptr, 0, &status));
    if (U_FAILURE(status) || !iterator) {
      iterator.reset();
      throw Error(std::string("Precompiled normalizer: ICU ubrk_open failed: ") +
                  u_errorName(status));
    }
  }
  std::unique_ptr<UText, TextDeleter> text(
      utext_openUTF8(nullptr, input.data(), static_cast<int64_t>(input.size()), &status));
  if (U_SUCCESS(status)) ubrk_setUText(iterator.get(), text.get(), &status);
  if (U_FAILURE(status))
    throw Error(std::string("Precompiled normalizer: ICU failed: ") + u_errorName(status));

  size_t run = 0;  // start of the pending run of unchanged characters
  const auto flush = [&](size_t end) {
    if (end > run) piece(input.substr(run, end - run), run, end, false);
  };
  int32_t begin = ubrk_first(iterator.get());
  for (int32_t end = ubrk_next(iterator.get()); end != UBRK_DONE;
       begin = end, end = ubrk_next(iterator.get())) {
    const auto b = static_cast<size_t>(begin);
    const auto e = static_cast<size_t>(end);
    const std::string_view grapheme = input.substr(b, e - b);
    if (grapheme.size() < 6) {
      if (const auto out = charsmap.transform(grapheme)) {
        flush(b);
        piece(*out, b, e, true);
        run = e;
        continue;
      }
    }
    for (size_t pos = b; pos < e;) {
      const size_t length = std::min(utf8_char_length(input, pos), e - pos);
      if (const auto out = charsmap.transform(input.substr(pos, length))) {
        flush(pos);
        piece(*out, pos, pos + length, true);
        run = pos + length;
      }
      pos += length;
    }
  }
  flush(input.size());
  ubrk_setText(iterator.get(), nullptr, 0, &status);  // drop the reference to `text`
}

std::string precompiled_normalize(const PrecompiledCharsmap& charsmap, std::string_view input) {
  std::string out;
  out.reserve(input.size());
  precompiled_normalize(charsmap, input,
                        [&out](std::string_view piece, size_t, size_t, bool) { out += piece; });
  return out;
}

}  // namespace vecformer::detail
