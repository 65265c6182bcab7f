#include "tokenizer/unicode.hpp"

#include <algorithm>

#include "vecformer/error.hpp"

namespace vecformer::detail {

namespace {

namespace tables = unicode_tables;

// The last range whose first code point is <= c, or end when there is none.
template <typename Range>
const Range* find_range(std::span<const Range> ranges, char32_t c) {
  const auto it = std::upper_bound(ranges.begin(), ranges.end(), c,
                                   [](char32_t value, const Range& r) { return value < r.first; });
  if (it == ranges.begin()) return nullptr;
  const Range* range = &*(it - 1);
  return c <= range->last ? range : nullptr;
}

[[noreturn]] void fail_utf8(size_t offset) {
  throw Error("text is not valid UTF-8 at byte " + std::to_string(offset));
}

// Length of the well-formed sequence starting at text[pos] (Unicode table 3-7), or 0.
size_t sequence_length(std::string_view text, size_t pos) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[pos + i]); };
  const unsigned char lead = byte(0);
  size_t length = 0;
  unsigned char second_min = 0x80, second_max = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) second_min = 0xA0;  // overlong
    if (lead == 0xED) second_max = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) second_min = 0x90;  // overlong
    if (lead == 0xF4) second_max = 0x8F;  // above U+10FFFF
  } else {
    return 0;  // continuation byte, overlong C0/C1, or F5..FF
  }
  if (pos + length > text.size()) return 0;
  if (byte(1) < second_min || byte(1) > second_max) return 0;
  for (size_t i = 2; i < length; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  }
  return length;
}

bool is_cased(char32_t c) {
  return char_flags(c) & tables::kCased;
}

bool is_case_ignorable(char32_t c) {
  return char_flags(c) & tables::kCaseIgnorable;
}

// Python's handle_capital_sigma (Objects/unicodeobject.c): final when
// \p{cased} \p{case-ignorable}* U+03A3 !(\p{case-ignorable}* \p{cased}).
bool is_final_sigma(std::span<const char32_t> text, size_t i) {
  size_t j = i;
  while (j > 0 && is_case_ignorable(text[j - 1])) --j;
  if (j == 0 || !is_cased(text[j - 1])) return false;
  j = i + 1;
  while (j < text.size() && is_case_ignorable(text[j])) ++j;
  return j == text.size() || !is_cased(text[j]);
}

constexpr char32_t kHangulFirst = 0xAC00;
constexpr char32_t kHangulLast = 0xD7A3;

// Unicode section 3.12, "Conjoining Jamo Behavior".
void append_hangul_decomposition(char32_t c, std::vector<char32_t>& out) {
  constexpr char32_t l_base = 0x1100, v_base = 0x1161, t_base = 0x11A7;
  constexpr char32_t v_count = 21, t_count = 28, n_count = v_count * t_count;
  const char32_t index = c - kHangulFirst;
  out.push_back(l_base + index / n_count);
  out.push_back(v_base + (index % n_count) / t_count);
  if (index % t_count != 0) out.push_back(t_base + index % t_count);
}

// Decompositions keep their own marks ordered; a run of marks that spans characters still needs
// sorting by combining class (canonical ordering: a stable sort of each run of non-starters). Real
// runs are a few marks long, but a hostile text can be one run of thousands of marks in alternating
// classes, which an insertion sort takes quadratic time over (80 kB of text: minutes), so each run
// is stable-sorted on its classes, looked up once per mark.
void order_combining_marks(std::vector<char32_t>& text, size_t begin) {
  std::vector<std::pair<uint8_t, char32_t>> run;
  size_t i = begin;
  while (i < text.size()) {
    uint8_t ccc = combining_class(text[i]);
    if (ccc == 0) {
      ++i;
      continue;
    }
    run.clear();
    size_t end = i;
    while (ccc != 0) {
      run.emplace_back(ccc, text[end]);
      if (++end == text.size()) break;
      ccc = combining_class(text[end]);
    }
    if (run.size() > 1) {
      std::stable_sort(run.begin(), run.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      for (size_t k = 0; k < run.size(); ++k) text[i + k] = run[k].second;
    }
    i = end;
  }
}

}  // namespace

char32_t lowercase_of(char32_t c) {
  if (c < 128) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  const tables::LowercaseRange* range = find_range(tables::lowercase_ranges(), c);
  if (range == nullptr || (c - range->first) % range->stride != 0) return c;
  return static_cast<char32_t>(static_cast<int32_t>(c) + range->delta);
}

void decode_utf8(std::string_view text, std::vector<char32_t>& out) {
  size_t pos = 0;
  while (pos < text.size()) {
    const auto lead = static_cast<unsigned char>(text[pos]);
    if (lead < 0x80) {
      out.push_back(lead);
      ++pos;
      continue;
    }
    const size_t length = sequence_length(text, pos);
    if (length == 0) fail_utf8(pos);
    char32_t c = lead & (0xFF >> (length + 1));
    for (size_t i = 1; i < length; ++i)
      c = (c << 6) | (static_cast<unsigned char>(text[pos + i]) & 0x3F);
    out.push_back(c);
    pos += length;
  }
}

bool is_valid_utf8(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    if (static_cast<unsigned char>(text[pos]) < 0x80) {
      ++pos;
      continue;
    }
    const size_t length = sequence_length(text, pos);
    if (length == 0) return false;
    pos += length;
  }
  return true;
}

void append_utf8(char32_t c, std::string& out) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

uint8_t char_flags(char32_t c) {
  if (c < 128) return tables::ascii_flags()[c];
  const tables::FlagRange* range = find_range(tables::flag_ranges(), c);
  return range ? range->flags : 0;
}

uint8_t combining_class(char32_t c) {
  if (c < 0x300) return 0;
  const tables::CombiningClassRange* range = find_range(tables::combining_class_ranges(), c);
  return range ? range->combining_class : 0;
}

void append_lowercase(std::span<const char32_t> text, std::vector<char32_t>& out) {
  for (size_t i = 0; i < text.size(); ++i) {
    const char32_t c = text[i];
    if (c == 0x130) {  // the one multi-character lowercase mapping without a condition
      out.push_back('i');
      out.push_back(0x307);
    } else if (c == 0x3A3) {
      out.push_back(is_final_sigma(text, i) ? 0x3C2 : 0x3C3);
    } else {
      out.push_back(lowercase_of(c));
    }
  }
}

void append_nfd(std::span<const char32_t> text, std::vector<char32_t>& out) {
  const size_t begin = out.size();
  bool has_marks = false;
  const std::span<const tables::Decomposition> decompositions = tables::decompositions();
  const std::span<const char32_t> data = tables::decomposition_data();
  for (const char32_t c : text) {
    if (c < 0xC0) {  // nothing below U+00C0 decomposes or combines
      out.push_back(c);
      continue;
    }
    if (c >= kHangulFirst && c <= kHangulLast) {
      append_hangul_decomposition(c, out);
      continue;
    }
    const auto it = std::lower_bound(
        decompositions.begin(), decompositions.end(), c,
        [](const tables::Decomposition& d, char32_t value) { return d.code_point < value; });
    if (it != decompositions.end() && it->code_point == c) {
      out.insert(out.end(), data.begin() + it->offset, data.begin() + it->offset + it->length);
      has_marks = true;
    } else {
      out.push_back(c);
      has_marks = has_marks || c >= 0x300;
    }
  }
  if (has_marks) order_combining_marks(out, begin);
}

}  // namespace vecformer::detail
