#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/model.hpp"
#include "vecformer/tokenizer.hpp"

// Hugging Face's tokenizer pipeline (tokenizers/src/tokenizer): added tokens are split off the raw
// text, each stretch between them is normalized, normalized added tokens are split off, the
// pre-tokenizer cuts words, the model cuts tokens, and the post-processor adds special tokens.
// Every code point keeps the range of original code points it came from, so that every token has
// its offsets in the input text, as HF's NormalizedString alignments give them.
namespace vecformer::detail {

// [begin, end) in code points of the original text of one sequence.
struct Alignment {
  uint32_t begin = 0;
  uint32_t end = 0;
};

// Text under normalization: code points, each with the original range it came from (HF keeps one
// alignment per byte, but every byte of a character gets the same one, so per code point is the
// same information).
struct NormalizedString {
  std::vector<char32_t> chars;
  std::vector<Alignment> align;

  size_t size() const { return chars.size(); }
  bool empty() const { return chars.empty(); }
  void clear() {
    chars.clear();
    align.clear();
  }
  void push(char32_t c, Alignment a) {
    chars.push_back(c);
    align.push_back(a);
  }
  // Appends [begin, end) of `from`.
  void append(const NormalizedString& from, size_t begin, size_t end) {
    chars.insert(chars.end(), from.chars.begin() + static_cast<std::ptrdiff_t>(begin),
                 from.chars.begin() + static_cast<std::ptrdiff_t>(end));
    align.insert(align.end(), from.align.begin() + static_cast<std::ptrdiff_t>(begin),
                 from.align.begin() + static_cast<std::ptrdiff_t>(end));
  }
  // Code points with themselves as alignment: chars[i] of `text` is original code point
  // `first + i`.
  void assign_original(std::u32string_view text, uint32_t first);
  // HF's expand_alignments over [begin, end): the first one's begin to the last one's end.
  Alignment span(size_t begin, size_t end) const {
    if (begin >= end)
      return begin < align.size() ? Alignment{align[begin].begin, align[begin].begin} : Alignment{};
    return {align[begin].begin, align[end - 1].end};
  }
};

// One split of the pre-tokenized text: [begin, end) of PreTokens::text. `token` >= 0 when the
// split is an added token (then later stages leave it alone).
struct Piece {
  uint32_t begin = 0;
  uint32_t end = 0;
  int64_t token = -1;
};

// HF's PreTokenizedString: the pieces, back to back in one buffer.
struct PreTokens {
  NormalizedString text;
  std::vector<Piece> pieces;

  void clear() {
    text.clear();
    pieces.clear();
  }
  // Appends [begin, end) of `from` as a piece; empty pieces are dropped, as HF drops them.
  void add(const NormalizedString& from, size_t begin, size_t end, int64_t token = -1);
  // The piece's code points.
  std::u32string_view view(const Piece& piece) const {
    return {text.chars.data() + piece.begin, piece.end - piece.begin};
  }
};

// HF's Normalizer.
class Normalizer {
 public:
  virtual ~Normalizer() = default;
  // Rewrites `text`; `scratch` is a buffer to build into (its contents are undefined after).
  virtual void normalize(NormalizedString& text, NormalizedString& scratch) const = 0;
};

// HF's PreTokenizer: splits (and may rewrite) every piece that is not an added token.
class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Replaces `pieces` with its split; `scratch` is a buffer (its contents are undefined after).
  virtual void pre_tokenize(PreTokens& pieces, PreTokens& scratch) const = 0;
};

// HF's PostProcessor::process_encodings: adds special tokens (and sets type ids) on the encodings
// of the sequences (one or two); PostProcessing::process merges them.
class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  virtual size_t added_tokens(bool pair) const = 0;
  virtual void process_encodings(std::vector<Encoding>& encodings,
                                 bool add_special_tokens) const = 0;
  // The first and last special token of the single-sequence template (cls / sep), when it has
  // them.
  virtual std::pair<std::string, std::string> cls_sep() const { return {}; }
  // Every special token the processor may add, with its id.
  virtual std::vector<std::pair<std::string, int64_t>> specials() const { return {}; }
};

// HF's AddedToken, as tokenizer.json's added_tokens lists them.
struct AddedToken {
  std::string content;
  int64_t id = 0;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = true;
  bool special = false;
};

// Everything a tokenizer is made of.
struct PipelineConfig {
  std::shared_ptr<const TokenizerModel> model;
  std::shared_ptr<const Normalizer> normalizer;         // may be null
  std::shared_ptr<const PreTokenizer> pre_tokenizer;    // may be null
  std::shared_ptr<const PostProcessor> post_processor;  // may be null
  std::vector<AddedToken> added_tokens;
  // Named special tokens (tokenizer_config.json, else the usual names found in the vocabulary).
  std::string cls_token, sep_token, pad_token, mask_token, unk_token;
  size_t model_max_length = 0;  // 0: unknown
  // Tokens with this id show the text they cover rather than the vocabulary entry, as HF's
  // Unigram unk tokens do (-1: none).
  int64_t unk_shows_text = -1;
};

// The whole tokenizer. Immutable; encode() is safe from many threads.
class Pipeline {
 public:
  // Added tokens either repeat a vocabulary entry or continue the ids after it; vecformer::Error
  // (without a file name; callers validate first) otherwise.
  explicit Pipeline(PipelineConfig config);

  // HF's encode_char_offsets(text or pair, add_special_tokens) with truncation longest_first to
  // max_length (0: none).
  // With ids_only, tokens are left empty strings (their offsets are then not trimmed by ByteLevel
  // post-processing): for callers that want only ids, without a string per token.
  Encoding encode(std::string_view text, const std::string_view* pair,
                  const EncodingOptions& options, bool ids_only = false) const;

  int64_t token_to_id(std::string_view token) const;  // -1 when absent
  const std::string* id_to_token(int64_t id) const;   // nullptr when absent
  size_t vocab_size() const { return vocab_size_; }
  const PipelineConfig& config() const { return config_; }

 private:
  struct Pattern {
    std::u32string text;
    size_t added;  // index into config_.added_tokens
  };
  struct Patterns {
    std::vector<Pattern> list;
    uint64_t first_chars[4] = {0, 0, 0, 0};  // bitset of (first code point & 255)
    bool may_start(char32_t c) const { return first_chars[(c & 255) >> 6] >> (c & 63) & 1; }
  };
  struct Scratch;

  void add_patterns(Patterns& patterns, std::u32string text, size_t added);
  // HF's AddedVocabulary::find_matches: calls on_text(begin, end) and on_token(begin, end, added)
  // in order over [0, text.size()).
  template <typename OnText, typename OnToken>
  void split_added(std::u32string_view text, const Patterns& patterns, OnText&& on_text,
                   OnToken&& on_token) const;
  void encode_sequence(std::string_view text, uint32_t type_id, Scratch& scratch, Encoding& out,
                       bool ids_only) const;

  PipelineConfig config_;
  std::vector<std::string> added_by_id_;  // content of added ids past the model's vocabulary
  std::vector<std::pair<std::string, int64_t>> added_ids_;  // sorted by content
  Patterns raw_patterns_;
  Patterns normalized_patterns_;
  size_t vocab_size_ = 0;
};

// Rust's char::is_whitespace (Unicode White_Space), which HF's pre-tokenizers and strip use.
inline bool is_rust_whitespace(char32_t c) {
  if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0D);
  switch (c) {
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

void append_utf8(std::u32string_view text, std::string& out);

}  // namespace vecformer::detail
