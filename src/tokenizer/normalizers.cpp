#include "tokenizer/normalizers.hpp"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <algorithm>

#include "tokenizer/unicode.hpp"
#include "vecformer/error.hpp"

namespace vecformer::detail {

namespace {

namespace tables = unicode_tables;

// HF's NormalizedString::filter: kept code points keep their alignment.
template <typename Keep>
void filter(NormalizedString& text, Keep&& keep) {
  size_t out = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (!keep(text.chars[i])) continue;
    text.chars[out] = text.chars[i];
    text.align[out] = text.align[i];
    ++out;
  }
  text.chars.resize(out);
  text.align.resize(out);
}

// Rust's char::to_lowercase of each code point; extra code points align with their source.
void lowercase(const NormalizedString& text, NormalizedString& out) {
  out.clear();
  for (size_t i = 0; i < text.size(); ++i) {
    const char32_t c = text.chars[i];
    if (c == 0x130) {
      out.push('i', text.align[i]);
      out.push(0x307, text.align[i]);
    } else {
      out.push(lowercase_of(c), text.align[i]);
    }
  }
}

// HF's is_control: Rust's unicode_categories is_other() (Cc, Cf, Co, Cs; unassigned code points are
// not "other" there) except \t \n \r.
bool is_bert_control(char32_t c) {
  if (c < 0x80) return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F;
  return (U_GET_GC_MASK(static_cast<UChar32>(c)) &
          (U_GC_CC_MASK | U_GC_CF_MASK | U_GC_CO_MASK | U_GC_CS_MASK)) != 0;
}

bool is_combining_mark(char32_t c) {
  if (c < 0x300) return false;
  return (U_GET_GC_MASK(static_cast<UChar32>(c)) & U_GC_M_MASK) != 0;
}

}  // namespace

void transform(NormalizedString& text, const std::vector<std::pair<char32_t, int64_t>>& changes,
               size_t initial_offset, NormalizedString& scratch) {
  scratch.clear();
  size_t cursor = initial_offset;
  const auto old_align = [&](size_t i) { return i < text.size() ? text.align[i] : Alignment{}; };
  for (const auto& [c, change] : changes) {
    if (change > 0) {
      scratch.push(c, cursor == 0 ? Alignment{} : old_align(cursor - 1));
    } else {
      scratch.push(c, old_align(cursor));
      cursor += 1 + static_cast<size_t>(-change);
    }
  }
  std::swap(text, scratch);
}

void PrecompiledNormalizer::normalize(NormalizedString& text, NormalizedString& scratch) const {
  thread_local std::string utf8;
  thread_local std::vector<std::pair<char32_t, int64_t>> changes;
  thread_local std::vector<char32_t> chars;
  utf8.clear();
  for (const char32_t c : text.chars) append_utf8(c, utf8);
  changes.clear();
  bool modified = false;
  precompiled_normalize(
      charsmap_, utf8, [&](std::string_view out, size_t begin, size_t end, bool changed) {
        chars.clear();
        decode_utf8(out, chars);
        if (!changed) {
          for (const char32_t c : chars) changes.emplace_back(c, 0);
          return;
        }
        modified = true;
        // HF's replace(transformations, old, new).
        size_t old_count = 0;
        for (size_t i = begin; i < end; ++i) {
          old_count += (static_cast<unsigned char>(utf8[i]) & 0xC0) != 0x80;
        }
        const auto diff = static_cast<int64_t>(chars.size()) - static_cast<int64_t>(old_count);
        for (const char32_t c : chars) changes.emplace_back(c, 0);
        if (diff > 0) {
          for (int64_t k = 0; k < diff; ++k) changes[changes.size() - 1 - k].second = 1;
        } else if (diff < 0 && !changes.empty()) {
          changes.back().second += diff;
        }
      });
  if (modified) transform(text, changes, 0, scratch);
}

// HF's BertNormalizer: clean text, space CJK ideographs, strip accents (NFD, drop Mn), lowercase,
// in that order.
void BertNormalizer::normalize(NormalizedString& text, NormalizedString& scratch) const {
  if (clean_text_) {
    filter(text, [](char32_t c) { return !(c == 0 || c == 0xFFFD || is_bert_control(c)); });
    for (char32_t& c : text.chars) {
      if (c == '\t' || c == '\n' || c == '\r' || is_rust_whitespace(c)) c = ' ';
    }
  }
  if (handle_chinese_chars_) {
    bool any = false;
    for (const char32_t c : text.chars) any = any || is_cjk_ideograph(c);
    if (any) {
      scratch.clear();
      for (size_t i = 0; i < text.size(); ++i) {
        const char32_t c = text.chars[i];
        if (is_cjk_ideograph(c)) {
          scratch.push(' ', text.align[i]);
          scratch.push(c, text.align[i]);
          scratch.push(' ', text.align[i]);
        } else {
          scratch.push(c, text.align[i]);
        }
      }
      std::swap(text, scratch);
    }
  }
  if (strip_accents_) {
    bool ascii = true;
    for (const char32_t c : text.chars) ascii = ascii && c < 0x80;
    if (!ascii) {
      nfd_.normalize(text, scratch);
      filter(text, [](char32_t c) { return !is_nonspacing_mark(c); });
    }
  }
  if (lowercase_) {
    bool simple = true;
    for (char32_t& c : text.chars) {
      if (c < 0x80) {
        if (c >= 'A' && c <= 'Z') c += 32;
      } else if (c == 0x130) {
        simple = false;
      } else {
        c = lowercase_of(c);
      }
    }
    if (!simple) {
      lowercase(text, scratch);
      std::swap(text, scratch);
    }
  }
}

void LowercaseNormalizer::normalize(NormalizedString& text, NormalizedString& scratch) const {
  lowercase(text, scratch);
  std::swap(text, scratch);
}

void StripAccentsNormalizer::normalize(NormalizedString& text, NormalizedString&) const {
  filter(text, [](char32_t c) { return !is_combining_mark(c); });
}

void StripNormalizer::normalize(NormalizedString& text, NormalizedString&) const {
  size_t begin = 0;
  size_t end = text.size();
  if (left_) {
    while (begin < end && is_rust_whitespace(text.chars[begin])) ++begin;
  }
  if (right_) {
    while (end > begin && is_rust_whitespace(text.chars[end - 1])) --end;
  }
  if (begin == 0 && end == text.size()) return;
  text.chars.erase(text.chars.begin() + static_cast<std::ptrdiff_t>(end), text.chars.end());
  text.align.erase(text.align.begin() + static_cast<std::ptrdiff_t>(end), text.align.end());
  text.chars.erase(text.chars.begin(), text.chars.begin() + static_cast<std::ptrdiff_t>(begin));
  text.align.erase(text.align.begin(), text.align.begin() + static_cast<std::ptrdiff_t>(begin));
}

void PrependNormalizer::normalize(NormalizedString& text, NormalizedString& scratch) const {
  if (text.empty() || prepend_.empty()) return;
  scratch.clear();
  for (const char32_t c : prepend_) scratch.push(c, text.align[0]);
  scratch.append(text, 0, text.size());
  std::swap(text, scratch);
}

void NmtNormalizer::normalize(NormalizedString& text, NormalizedString&) const {
  filter(text, [](char32_t c) {
    return !((c >= 0x01 && c <= 0x08) || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F ||
             c == 0x8F || c == 0x9F);
  });
  for (char32_t& c : text.chars) {
    switch (c) {
      case 0x09:
      case 0x0A:
      case 0x0C:
      case 0x0D:
      case 0x1680:
      case 0x2028:
      case 0x2029:
      case 0x2581:
      case 0xFEFF:
      case 0xFFFD:
        c = ' ';
        break;
      default:
        if (c >= 0x200B && c <= 0x200F) c = ' ';
    }
  }
}

void ReplaceNormalizer::normalize(NormalizedString& text, NormalizedString& scratch) const {
  thread_local std::vector<TextSpan> spans;
  pattern_->find({text.chars.data(), text.size()}, spans);
  bool any = false;
  for (const TextSpan& span : spans) any = any || span.match;
  if (!any) return;
  scratch.clear();
  for (const TextSpan& span : spans) {
    if (!span.match) {
      scratch.append(text, span.begin, span.end);
      continue;
    }
    const Alignment a = span.end > 0 ? text.align[span.end - 1] : Alignment{};
    for (const char32_t c : content_) scratch.push(c, a);
  }
  std::swap(text, scratch);
}

UnicodeNormalizer::UnicodeNormalizer(NormalForm form)
    : form_(form), compose_(form == NormalForm::kNFC || form == NormalForm::kNFKC) {
  UErrorCode status = U_ZERO_ERROR;
  const bool compat = form == NormalForm::kNFKC || form == NormalForm::kNFKD;
  decomposer_ =
      compat ? icu::Normalizer2::getNFKDInstance(status) : icu::Normalizer2::getNFDInstance(status);
  composer_ = icu::Normalizer2::getNFCInstance(status);
  const icu::Normalizer2* normalizer = nullptr;
  switch (form) {
    case NormalForm::kNFC:
      normalizer = icu::Normalizer2::getNFCInstance(status);
      break;
    case NormalForm::kNFD:
      normalizer = icu::Normalizer2::getNFDInstance(status);
      break;
    case NormalForm::kNFKC:
      normalizer = icu::Normalizer2::getNFKCInstance(status);
      break;
    case NormalForm::kNFKD:
      normalizer = icu::Normalizer2::getNFKDInstance(status);
      break;
  }
  if (U_FAILURE(status) || normalizer == nullptr) {
    throw Error(std::string("ICU has no Unicode normalizer: ") + u_errorName(status));
  }
  normalizer_ = normalizer;
}

// HF's unicode-normalization-alignments, whose (char, change) pairs NormalizedString::transform
// applies: every code point decomposes (the first code point of its decomposition with change 0,
// the others inserted, +1); canonical reordering moves the pairs whole; a composition's change is
// its parts' changes summed, minus one per part it absorbed. A code point that normalization leaves
// alone, with boundaries on both sides, keeps (c, 0) without the detour.
void UnicodeNormalizer::normalize(NormalizedString& text, NormalizedString& scratch) const {
  const auto* normalizer = static_cast<const icu::Normalizer2*>(normalizer_);
  const auto* decomposer = static_cast<const icu::Normalizer2*>(decomposer_);
  const auto* composer = static_cast<const icu::Normalizer2*>(composer_);
  thread_local std::vector<std::pair<char32_t, int64_t>> changes;
  thread_local std::vector<std::pair<char32_t, int64_t>> segment;
  changes.clear();
  bool modified = false;
  icu::UnicodeString decomposition;
  size_t i = 0;
  while (i < text.size()) {
    size_t end = i + 1;
    while (end < text.size() &&
           !normalizer->hasBoundaryBefore(static_cast<UChar32>(text.chars[end]))) {
      ++end;
    }
    if (end == i + 1 && normalizer->isInert(static_cast<UChar32>(text.chars[i]))) {
      changes.emplace_back(text.chars[i], 0);
      i = end;
      continue;
    }
    modified = true;
    segment.clear();
    for (size_t k = i; k < end; ++k) {
      const auto c = static_cast<UChar32>(text.chars[k]);
      if (!decomposer->getDecomposition(c, decomposition)) {
        segment.emplace_back(text.chars[k], 0);
        continue;
      }
      int64_t change = 0;
      for (int32_t pos = 0; pos < decomposition.length();) {
        const UChar32 d = decomposition.char32At(pos);
        pos += U16_LENGTH(d);
        segment.emplace_back(static_cast<char32_t>(d), change);
        change = 1;
      }
    }
    // Canonical ordering: a stable sort of each run of non-starters by combining class.
    for (size_t a = 0; a < segment.size();) {
      if (u_getCombiningClass(static_cast<UChar32>(segment[a].first)) == 0) {
        ++a;
        continue;
      }
      size_t b = a;
      while (b < segment.size() &&
             u_getCombiningClass(static_cast<UChar32>(segment[b].first)) != 0) {
        ++b;
      }
      std::stable_sort(segment.begin() + static_cast<std::ptrdiff_t>(a),
                       segment.begin() + static_cast<std::ptrdiff_t>(b),
                       [](const auto& x, const auto& y) {
                         return u_getCombiningClass(static_cast<UChar32>(x.first)) <
                                u_getCombiningClass(static_cast<UChar32>(y.first));
                       });
      a = b;
    }
    if (compose_) {
      // Canonical composition (UAX #15): each character after a starter joins it when not blocked.
      size_t out = 0;
      size_t starter = SIZE_MAX;
      uint8_t last_ccc = 0;
      for (size_t k = 0; k < segment.size(); ++k) {
        const auto c = static_cast<UChar32>(segment[k].first);
        const uint8_t ccc = u_getCombiningClass(c);
        if (starter != SIZE_MAX) {
          const bool blocked = out - 1 != starter && (last_ccc == 0 || last_ccc >= ccc);
          if (!blocked) {
            const UChar32 composite =
                composer->composePair(static_cast<UChar32>(segment[starter].first), c);
            if (composite >= 0) {
              segment[starter].first = static_cast<char32_t>(composite);
              segment[starter].second += segment[k].second - 1;
              continue;
            }
          }
        }
        if (ccc == 0) {
          starter = out;
          last_ccc = 0;
        } else {
          last_ccc = ccc;
        }
        segment[out++] = segment[k];
      }
      segment.resize(out);
    }
    changes.insert(changes.end(), segment.begin(), segment.end());
    i = end;
  }
  if (modified) transform(text, changes, 0, scratch);
}

}  // namespace vecformer::detail
