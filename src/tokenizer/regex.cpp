#include "tokenizer/regex.hpp"

#define PCRE2_CODE_UNIT_WIDTH 32
#include <pcre2.h>

#include "tokenizer/pipeline.hpp"
#include "vecformer/error.hpp"

namespace vecformer::detail {

namespace {

// HF's regexes run on Oniguruma, whose \s is Unicode's White_Space (PCRE2's also has U+180E and
// the like) and whose \w is Unicode's word characters. Outside a class \s, \S, \w and \W become
// classes of those; inside one, \s and \w become their members (\S and \W inside a class are left
// to PCRE2).
std::u32string onig_classes(std::u32string_view pattern) {
  static constexpr std::u32string_view space =
      U"\\t\\n\\x{0B}\\f\\r\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{"
      U"202F}\\x{205F}\\x{3000}";
  // Oniguruma's \w is Unicode's word characters: Alphabetic, marks, decimal digits, connector
  // punctuation (PCRE2 10.42's is letters, all numbers and '_').
  static constexpr std::u32string_view word = U"\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}";
  std::u32string out;
  bool in_class = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char32_t c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      const char32_t next = pattern[i + 1];
      if (next == 's' && in_class) {
        out += space;
      } else if (next == 's') {
        out += U"[";
        out += space;
        out += U"]";
      } else if (next == 'S' && !in_class) {
        out += U"[^";
        out += space;
        out += U"]";
      } else if (next == 'w' && in_class) {
        out += word;
      } else if (next == 'w' || (next == 'W' && !in_class)) {
        out += next == 'w' ? U"[" : U"[^";
        out += word;
        out += U"]";
      } else {
        out += c;
        out += next;
      }
      ++i;
      continue;
    }
    if (c == '[' && !in_class) {
      in_class = true;
      out += c;
      // A ']' right after '[' or '[^' is a member, not the end.
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') out += pattern[++i];
      if (i + 1 < pattern.size() && pattern[i + 1] == ']') out += pattern[++i];
      continue;
    }
    if (c == ']' && in_class) in_class = false;
    out += c;
  }
  return out;
}

}  // namespace

Regex::Regex(std::u32string_view original, const std::string& what) {
  const std::u32string pattern = onig_classes(original);
  int error = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code =
      pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                    PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &error, &offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR buffer[256];
    const int n = pcre2_get_error_message(error, buffer, 256);
    std::string message;
    for (int i = 0; i < n; ++i) message += static_cast<char>(buffer[i] < 128 ? buffer[i] : '?');
    throw Error(what + ": " + message + " at offset " + std::to_string(offset));
  }
  pcre2_jit_compile(code,
                    PCRE2_JIT_COMPLETE);  // without JIT (unsupported CPU) matching still works
  code_ = code;
}

Regex::~Regex() {
  pcre2_code_free(static_cast<pcre2_code*>(code_));
}

namespace {

struct MatchData {
  pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
  ~MatchData() { pcre2_match_data_free(data); }
};

}  // namespace

void Regex::find(std::u32string_view text, std::vector<TextSpan>& out) const {
  out.clear();
  if (text.empty()) {
    out.push_back({0, 0, false});
    return;
  }
  thread_local MatchData match;
  const auto* code = static_cast<const pcre2_code*>(code_);
  const auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t prev = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    const int rc =
        pcre2_match(code, subject, text.size(), pos, PCRE2_NO_UTF_CHECK, match.data, nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0 && rc != 0)
      throw Error("regular expression match failed (PCRE2 error " + std::to_string(rc) + ")");
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match.data);
    const size_t begin = ovector[0];
    const size_t end = ovector[1];
    if (begin > prev)
      out.push_back({static_cast<uint32_t>(prev), static_cast<uint32_t>(begin), false});
    out.push_back({static_cast<uint32_t>(begin), static_cast<uint32_t>(end), true});
    prev = end;
    pos = end > begin ? end : end + 1;
  }
  if (prev < text.size()) {
    out.push_back({static_cast<uint32_t>(prev), static_cast<uint32_t>(text.size()), false});
  }
}

std::shared_ptr<const Pattern> Pattern::literal(std::u32string text) {
  auto pattern = std::make_shared<Pattern>();
  pattern->literal_ = std::move(text);
  return pattern;
}

std::shared_ptr<const Pattern> Pattern::regex(std::u32string_view text, const std::string& what) {
  auto pattern = std::make_shared<Pattern>();
  pattern->regex_ = std::make_unique<Regex>(text, what);
  return pattern;
}

void Pattern::find(std::u32string_view text, std::vector<TextSpan>& out) const {
  if (regex_) {
    regex_->find(text, out);
    return;
  }
  out.clear();
  if (literal_.empty() || text.empty()) {
    out.push_back({0, static_cast<uint32_t>(text.size()), false});
    return;
  }
  size_t prev = 0;
  size_t pos = text.find(literal_);
  while (pos != std::u32string_view::npos) {
    if (pos > prev) out.push_back({static_cast<uint32_t>(prev), static_cast<uint32_t>(pos), false});
    out.push_back({static_cast<uint32_t>(pos), static_cast<uint32_t>(pos + literal_.size()), true});
    prev = pos + literal_.size();
    pos = text.find(literal_, prev);
  }
  if (prev < text.size()) {
    out.push_back({static_cast<uint32_t>(prev), static_cast<uint32_t>(text.size()), false});
  }
}

}  // namespace vecformer::detail
