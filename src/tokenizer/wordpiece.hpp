#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace vecformer::detail {

// A token matched in the text before word splitting ("[SEP]" in the input is the [SEP] token), as
// Hugging Face's added tokens. `normalized` tokens are matched in the normalized (e.g. lowercased)
// text, the others in the raw text.
struct AddedToken {
  std::string content;
  int64_t id = 0;
  bool normalized = false;
};

// Everything a WordPiece tokenizer is made of, as read from a model folder (tokenizer_files.hpp) or
// given to Tokenizer::from_vocab. Field names follow tokenizer.json.
struct WordPieceConfig {
  // The WordPiece model's vocabulary in id order. Added tokens with ids past its end extend it.
  std::vector<std::string> vocab;
  std::string unk_token = "[UNK]";
  std::string cls_token = "[CLS]";
  std::string sep_token = "[SEP]";
  std::string continuing_subword_prefix = "##";
  size_t max_input_chars_per_word = 100;
  // BertNormalizer
  bool clean_text = true;
  bool handle_chinese_chars = true;
  bool lowercase = true;
  bool strip_accents = true;
  std::vector<AddedToken> added_tokens;
};

// What BertTokenizer does with a plain vocab.txt: the special tokens [PAD], [UNK], [CLS], [SEP] and
// [MASK] that are in the vocabulary become added tokens matched in the raw text.
void add_bert_special_tokens(WordPieceConfig& config);

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

// Hugging Face's BertTokenizer pipeline: added tokens, then per stretch of text between them clean
// text, space CJK ideographs, lowercase, strip accents (NFD, drop Mn), split on whitespace and
// punctuation, and greedy longest-match-first WordPiece. Immutable; encode() is safe from many
// threads.
class WordPiece {
 public:
  // Added tokens either repeat a vocabulary entry (same id, same text) or continue the ids after it
  // without gaps; the unk, cls and sep tokens must exist. Callers validate this first, naming their
  // file; a violation here throws vecformer::Error without one.
  explicit WordPiece(WordPieceConfig config);

  // Appends the ids of the word pieces of `text` (no [CLS] / [SEP]). Throws vecformer::Error for
  // invalid UTF-8.
  void encode(std::string_view text, std::vector<int64_t>& ids) const;

  int64_t token_to_id(std::string_view token) const;  // -1 when absent
  const std::string& id_to_token(int64_t id) const { return vocab_[static_cast<size_t>(id)]; }
  size_t vocab_size() const { return vocab_.size(); }
  int64_t cls_id() const { return cls_id_; }
  int64_t sep_id() const { return sep_id_; }
  int64_t unk_id() const { return unk_id_; }

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // An added token as code points, the form it is matched in.
  struct Pattern {
    std::u32string text;
    int64_t id;
  };
  // Per-call buffers, reused across the stretches and words of one text.
  struct Scratch;

  void encode_stretch(std::u32string_view text, Scratch& scratch, std::vector<int64_t>& ids) const;
  void normalize(std::u32string_view text, Scratch& scratch) const;
  void encode_normalized(std::u32string_view text, Scratch& scratch,
                         std::vector<int64_t>& ids) const;
  void encode_word(std::u32string_view word, Scratch& scratch, std::vector<int64_t>& ids) const;

  WordPieceConfig config_;
  std::vector<std::string> vocab_;  // the model's vocabulary, then added tokens past its end
  TokenIndex model_ids_;            // what word pieces are looked up in
  std::unordered_map<std::string, int64_t, StringHash, std::equal_to<>> added_ids_;
  std::vector<Pattern> raw_patterns_;         // added tokens matched before normalization
  std::vector<Pattern> normalized_patterns_;  // ... and after it
  size_t longest_token_bytes_ = 0;
  int64_t unk_id_ = -1;
  int64_t cls_id_ = -1;
  int64_t sep_id_ = -1;
};

}  // namespace vecformer::detail
