#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tokenizer/model.hpp"

namespace vecformer::detail {

// A BPE model as tokenizer.json's "model" object of type "BPE" describes it (dropout is not
// supported: it is random, and no encoder ships with it).
struct BpeConfig {
  // (token, id) in the order the file lists them. A token listed twice keeps its last id (as a JSON
  // object read into a map does); ids are in [0, 2^32) (Hugging Face's ids are u32).
  std::vector<std::pair<std::string, int64_t>> vocab;
  // The merges in rank order: merges[i] has rank i. A pair listed twice keeps its last rank.
  std::vector<std::pair<std::string, std::string>> merges;
  std::optional<std::string> unk_token;
  std::string continuing_subword_prefix;  // "" when absent (null): the same behaviour
  std::string end_of_word_suffix;         // "" when absent (null)
  bool fuse_unk = false;
  bool byte_fallback = false;
  bool ignore_merges = false;
};

// A merges.txt line ("a b": the two tokens around the first space) split into its pair. Throws
// vecformer::Error (without a file name: the caller adds it) when the line has no space, as Hugging
// Face's BPE::read_file rejects it.
std::pair<std::string, std::string> split_merge_line(std::string_view line);

// Hugging Face's BPE model (tokenizers/src/models/bpe): a word becomes its characters (the
// continuing_subword_prefix before every character but the first, the end_of_word_suffix after the
// last), characters outside the vocabulary become byte tokens "<0xAB>" (byte_fallback, when every
// byte has one) or the unk token (one per character, or one per run with fuse_unk; dropped when
// there is no unk_token), then the merges are applied lowest rank first, leftmost first among equal
// ranks, with a heap as Word::merge_all does: O(n log n) in the word's length. With ignore_merges a
// word that is itself a token is that token. Token offsets are byte ranges of the word; a symbol's
// range is as long as the bytes it stands for, so, as in Hugging Face, byte-fallback tokens of a
// character that got a prefix or suffix count those bytes too and the ranges can run past the word
// (only with byte_fallback and a prefix or suffix, a combination no released tokenizer uses).
//
// No merge cache: the result is the same, and merging a word is cheap next to the pipeline around.
class Bpe final : public TokenizerModel {
 public:
  // Throws vecformer::Error (one line, without a file name: the caller adds it, e.g.
  // "tokenizer.json: model.") when an id is out of range or a merge names a token outside the
  // vocabulary:
  //   merges[12]: "ab" is not in the vocabulary
  explicit Bpe(const BpeConfig& config);

  // Throws vecformer::Error when the word needs the unk token and unk_token is not in the
  // vocabulary (as Hugging Face's UnkTokenOutOfVocabulary). `word` is UTF-8; should it hold invalid
  // sequences, each invalid byte counts as one character.
  void tokenize(std::string_view word, std::vector<ModelToken>& out) const override;
  int64_t token_to_id(std::string_view token) const override;
  // When several tokens share an id, the last listed.
  const std::string* id_to_token(int64_t id) const override;
  size_t vocab_size() const override { return token_ids_.size(); }

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Merge {
    uint32_t rank;
    uint32_t new_id;
  };
  struct Symbol;

  const Merge* find_merge(uint32_t left, uint32_t right) const;
  void merge_all(std::vector<Symbol>& symbols) const;

  std::unordered_map<std::string, int64_t, StringHash, std::equal_to<>> token_ids_;
  std::unordered_map<int64_t, const std::string*> id_tokens_;  // keys of token_ids_
  std::unordered_map<uint64_t, Merge> merges_;                 // (left << 32 | right)
  std::optional<std::string> unk_token_;
  std::string prefix_;
  std::string suffix_;
  bool fuse_unk_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  int64_t byte_ids_[256];  // "<0xAB>" ids, -1 when absent
};

}  // namespace vecformer::detail
