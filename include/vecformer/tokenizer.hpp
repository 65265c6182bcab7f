#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vecformer/export.hpp"

namespace vecformer {

namespace detail {
class Pipeline;
}

// One encoded input (a text, or a pair of texts), as Hugging Face's Encoding.
struct Encoding {
  std::vector<int64_t> ids;
  std::vector<int64_t> type_ids;    // 0 first text, 1 pair (per the post-processor)
  std::vector<std::string> tokens;  // the token strings (vocabulary entries, or added tokens)
  // [start, end) in Unicode code points of the input text the token came from ((0,0) for
  // special tokens added by the post-processor), exactly as HF's Python/Node bindings report.
  std::vector<std::pair<size_t, size_t>> offsets;
  std::vector<int32_t> sequence_ids;         // 0, 1, or -1 for added special tokens
  std::vector<int64_t> word_ids;             // pre-token index within its sequence; -1 for specials
  std::vector<uint8_t> special_tokens_mask;  // 1 for tokens added by the post-processor
};

struct EncodingOptions {
  size_t max_length = 0;           // 0: no truncation; else longest_first to max_length
  bool add_special_tokens = true;  // apply the post-processor
};

struct TokenizerOptions {
  bool lowercase = true;
  // Strip accents (NFD, drop combining marks). Hugging Face's default: follow `lowercase`.
  bool strip_accents = true;
  bool tokenize_chinese_chars = true;
};

// A Hugging Face tokenizer: tokenizer.json's pipeline (added tokens, normalizer, pre-tokenizer,
// model, post-processor) with the same ids, token types and offsets as HF's `tokenizers`, or a
// BERT vocab.txt / RoBERTa vocab.json + merges.txt folder built as transformers' fast tokenizers
// build it. Immutable after load; safe to use from many threads.
//
// From a vocabulary (from_vocab or vocab.txt): HF's BertTokenizerFast: BertNormalizer (clean
// text, CJK spacing, lowercase and strip accents per options), BertPreTokenizer, WordPiece with
// "##" continuations and [UNK] for words over 100 characters, [CLS] text [SEP]; the special tokens
// in the vocabulary are matched in the raw text. Lowercasing is Rust's char::to_lowercase (no
// final-sigma rule), as HF's Rust tokenizers.
class VECFORMER_API Tokenizer {
 public:
  // From a model folder: tokenizer.json, else vocab.txt (BERT) or vocab.json + merges.txt
  // (RoBERTa), with tokenizer_config.json when present (do_lower_case, strip_accents,
  // tokenize_chinese_chars for vocab.txt; special tokens; model_max_length). Throws
  // vecformer::Error naming the folder or the file (and JSON path or line) at fault.
  static Tokenizer load(const std::filesystem::path& folder);
  // From a vocabulary in id order; those of [PAD] [UNK] [CLS] [SEP] [MASK] it holds are its special
  // tokens, and [UNK], [CLS] and [SEP] must be there (vecformer::Error if not).
  static Tokenizer from_vocab(std::vector<std::string> vocab, const TokenizerOptions& options = {});

  // HF's encode(text, add_special_tokens) with char offsets; max_length > 0 truncates
  // (longest_first for pairs) so that the result, special tokens included, is at most max_length
  // long (vecformer::Error when the special tokens alone are longer). Text must be valid UTF-8: if
  // not, vecformer::Error "text is not valid UTF-8 at byte N" (N counted from 0).
  Encoding encode_text(std::string_view text, const EncodingOptions& options = {}) const;
  Encoding encode_pair(std::string_view text, std::string_view pair,
                       const EncodingOptions& options = {}) const;

  // Token strings of `text`, without special tokens: encode_text(text, {0, false}).tokens.
  std::vector<std::string> tokenize(std::string_view text) const;
  // encode_text(text, {max_length}).ids: e.g. [CLS] pieces [SEP]. An empty text gives only the
  // special tokens.
  std::vector<int64_t> encode(std::string_view text, size_t max_length = 0) const;

  // Special tokens as the tokenizer files name them (tokenizer_config.json, the post-processor,
  // else the usual names in the vocabulary); token empty and id -1 when the tokenizer has none.
  struct Special {
    std::string token;
    int64_t id = -1;
  };
  Special cls_token() const;   // [CLS] or <s>
  Special sep_token() const;   // [SEP] or </s>
  Special pad_token() const;   // [PAD] or <pad>
  Special mask_token() const;  // [MASK] or <mask>
  Special unk_token() const;   // [UNK] or <unk>
  // tokenizer_config.json's model_max_length when it is a sensible number, else 0.
  size_t model_max_length() const;

  // -1 when absent.
  int64_t token_to_id(std::string_view token) const;
  // vecformer::Error when id is outside [0, vocab_size()).
  const std::string& id_to_token(int64_t id) const;
  // Every id: the model's vocabulary and any added tokens of tokenizer.json past its end.
  size_t vocab_size() const;

  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

 private:
  explicit Tokenizer(std::shared_ptr<const detail::Pipeline> impl);
  Special special(const std::string& token) const;
  std::shared_ptr<const detail::Pipeline> impl_;
};

}  // namespace vecformer
