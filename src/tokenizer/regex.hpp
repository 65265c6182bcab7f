#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

// A regular expression on code points (PCRE2's 32-bit library, Unicode properties on), for the
// patterns tokenizer.json holds (GPT-2's, Split's, Replace's). Immutable; find() is safe from many
// threads.
namespace vecformer::detail {

// A stretch of a text: [begin, end) in code points, and whether it is a match of the pattern (or,
// between matches, not).
struct TextSpan {
  uint32_t begin = 0;
  uint32_t end = 0;
  bool match = false;
};

class Regex {
 public:
  // vecformer::Error "<what>: <PCRE2's message> at offset N" when the pattern does not compile.
  Regex(std::u32string_view pattern, const std::string& what);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // HF's Pattern::find_matches: replaces `out` with matches and the stretches between them,
  // covering all of `text` (one non-match span for an empty text).
  void find(std::u32string_view text, std::vector<TextSpan>& out) const;

 private:
  void* code_;  // pcre2_code_32
};

// A pattern of tokenizer.json: {"String": s} (matched literally) or {"Regex": r}.
class Pattern {
 public:
  static std::shared_ptr<const Pattern> literal(std::u32string text);
  static std::shared_ptr<const Pattern> regex(std::u32string_view pattern, const std::string& what);
  void find(std::u32string_view text, std::vector<TextSpan>& out) const;

 private:
  std::u32string literal_;
  std::unique_ptr<Regex> regex_;
};

}  // namespace vecformer::detail
