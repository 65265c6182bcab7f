#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/model.hpp"

namespace vecformer::detail {

// Token -> id for the WordPiece lookups: open addressing over a table at most half full, so a
// lookup (most of them misses while the longest match is searched) touches one or two slots instead
// of a chain of separately allocated nodes.
class TokenIndex {
 public:
  // A token listed twice keeps its last id, as a dict built from vocab.txt does.
  explicit TokenIndex(const std::vector<std::string>& tokens);
  int64_t find(std::string_view token) const;  // -1 when absent

 private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t offset = 0;  // into text_
    uint32_t size = 0;
    int64_t id = -1;  // -1: empty
  };
  static uint64_t hash(std::string_view token) { return std::hash<std::string_view>{}(token); }

  std::string text_;  // every token, back to back
  std::vector<Slot> slots_;
  uint64_t mask_ = 0;
};

// tokenizer.json's WordPiece model. Field names follow tokenizer.json.
struct WordPieceConfig {
  std::vector<std::string> vocab;  // in id order
  std::string unk_token = "[UNK]";
  std::string continuing_subword_prefix = "##";
  size_t max_input_chars_per_word = 100;
};

// HF's WordPiece model: greedy longest-match-first, the longest vocabulary entry that starts the
// word, then the longest continuing_subword_prefix entry that continues it, and so on; a word with
// any unmatched rest, or over max_input_chars_per_word code points, is one unk token. Immutable;
// tokenize() is safe from many threads.
class WordPiece final : public TokenizerModel {
 public:
  explicit WordPiece(WordPieceConfig config);

  // vecformer::Error when the word needs the unk token and the vocabulary has none.
  void tokenize(std::string_view word, std::vector<ModelToken>& out) const override;
  int64_t token_to_id(std::string_view token) const override { return ids_.find(token); }
  const std::string* id_to_token(int64_t id) const override {
    return id >= 0 && static_cast<size_t>(id) < vocab_.size() ? &vocab_[static_cast<size_t>(id)]
                                                              : nullptr;
  }
  size_t vocab_size() const override { return vocab_.size(); }
  const std::string& unk_token() const { return unk_token_; }

 private:
  std::vector<std::string> vocab_;
  TokenIndex ids_;
  std::string unk_token_;
  std::string prefix_;
  size_t max_chars_ = 100;
  size_t longest_token_bytes_ = 0;
  int64_t unk_id_ = -1;
};

}  // namespace vecformer::detail
