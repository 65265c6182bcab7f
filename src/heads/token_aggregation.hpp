#pragma once

// Token classification to entities, with the semantics of Hugging Face's
// TokenClassificationPipeline (transformers/pipelines/token_classification.py): per-token labels,
// optionally fused into words (first / max / average) and grouped into entities (B-/I- runs),
// entities labelled "O" dropped.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vecformer::detail {

enum class Aggregation { none, simple, first, max, average };

// One token of the input, special tokens excluded (the pipeline's "pre-entity").
struct PreEntity {
  std::string word;     // its vocabulary string (the text itself for an unknown token)
  const float* scores;  // softmax over the labels
  int64_t start = -1;   // code points into the text; -1 without offsets
  int64_t end = -1;
  int64_t index = 0;  // row of the token in the sequence (special tokens counted)
  bool is_subword = false;
};

struct Entity {
  // Aggregation none: the token's label as is; otherwise the label without its B- / I- prefix.
  std::string entity_group;
  float score = 0;
  std::string word;
  int64_t start = -1;
  int64_t end = -1;
  int64_t index = -1;  // aggregation none only: the token's row
};

// How the tokenizer spells a list of tokens back as text (Hugging Face's
// convert_tokens_to_string: the tokenizer's decoder).
using TokensToString = std::function<std::string(const std::vector<std::string>&)>;

// The tokens of one sequence as pre-entities. tokens, offsets (code points into `text`), special
// and scores ([tokens, labels]) are per token; `word_aware` is whether the tokenizer marks word
// continuations (WordPiece's "##"): then a token is a subword when its string is not as long as the
// text it covers; otherwise (byte-level BPE, ...) when the character before it is not a space.
// An unknown token (unk_id) takes the text it covers as its word and starts a word.
std::vector<PreEntity> gather_pre_entities(std::string_view text, const std::vector<int64_t>& ids,
                                           const std::vector<std::string>& tokens,
                                           const std::vector<std::pair<size_t, size_t>>& offsets,
                                           const std::vector<uint8_t>& special, const float* scores,
                                           int64_t labels, bool word_aware, int64_t unk_id,
                                           bool have_offsets = true);

// The entities of one sequence, entities whose label is in `ignore` (default "O") left out.
std::vector<Entity> aggregate_entities(const std::vector<PreEntity>& pre,
                                       const std::vector<std::string>& labels,
                                       Aggregation aggregation, const TokensToString& to_string,
                                       const std::vector<std::string>& ignore = {"O"});

// Hugging Face's decoders as convert_tokens_to_string uses them: WordPiece ("##" continuations
// joined, other tokens spaced, then its cleanup of " ." " ," " 's" ...) and ByteLevel (GPT-2's byte
// alphabet mapped back to bytes, invalid UTF-8 replaced by U+FFFD).
std::string wordpiece_tokens_to_string(const std::vector<std::string>& tokens);
std::string byte_level_tokens_to_string(const std::vector<std::string>& tokens);
// Metaspace (SentencePiece, XLM-RoBERTa): "▁" is a space, the first token's leading one dropped.
std::string metaspace_tokens_to_string(const std::vector<std::string>& tokens);

// The number of code points of UTF-8 text, and the byte offset of each code point (plus the end).
std::vector<size_t> code_point_offsets(std::string_view text);

}  // namespace vecformer::detail
