#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/model.hpp"

namespace vecformer::detail {

// A Unigram model as tokenizer.json's "model" object of type "Unigram" describes it.
struct UnigramConfig {
  // (piece, score) in id order: pieces[i] has id i. A piece listed twice is matched with its last
  // id (and that id's score), as Hugging Face's token map keeps the last.
  std::vector<std::pair<std::string, double>> pieces;
  std::optional<size_t> unk_id;
  bool byte_fallback = false;
};

// Pieces as a byte trie whose nodes keep their children's labels sorted and contiguous: the
// common-prefix search of the Viterbi pass and token_to_id both walk it.
class PieceTrie {
 public:
  // ids[i] is the id piece i stands for (-1: none).
  PieceTrie(const std::vector<std::string_view>& pieces, const std::vector<int64_t>& ids);

  // The id of `key`, -1 when it is no piece.
  int64_t find(std::string_view key) const;
  // Calls f(length, id) for every piece that is a prefix of `text`, shortest first (the empty
  // piece excepted, as Hugging Face's trie never yields it).
  template <class F>
  void common_prefixes(std::string_view text, F f) const {
    uint32_t node = 0;
    for (size_t i = 0; i < text.size(); ++i) {
      node = child(node, static_cast<unsigned char>(text[i]));
      if (node == kNone) return;
      if (nodes_[node].id >= 0) f(i + 1, nodes_[node].id);
    }
  }

 private:
  static constexpr uint32_t kNone = 0xFFFFFFFF;
  struct Node {
    uint32_t first_child = 0;  // into labels_ and nodes_ (children are numbered contiguously)
    uint32_t child_count = 0;
    int64_t id = -1;
  };
  uint32_t child(uint32_t node, unsigned char label) const;

  std::vector<Node> nodes_;
  std::vector<unsigned char> labels_;  // labels_[n]: the byte leading to node n
};

// Hugging Face's Unigram model (tokenizers/src/models/unigram, encode_optimized): Viterbi over the
// pieces' scores (log probabilities), each piece found by a common-prefix search of the trie from
// every character start; a character no single-character piece covers may also be the unk piece at
// min score − 10. On the best path, consecutive unk nodes (and any piece whose id is unk_id) fuse
// into one string; a fused string is then the piece it spells if there is one, else with
// byte_fallback its bytes' "<0xAB>" pieces (all of them must exist; each spans the whole string, as
// in Hugging Face), else unk. Equal scores keep the path found first. O(n · longest piece).
// Offsets are byte ranges of the word.
class Unigram final : public TokenizerModel {
 public:
  // Throws vecformer::Error (one line, without a file name: the caller adds it) when unk_id is
  // outside the pieces or there are more than 2^32 pieces.
  explicit Unigram(const UnigramConfig& config);

  // Throws vecformer::Error when the word needs the unk piece and there is no unk_id (as Hugging
  // Face's MissingUnkId). `word` is UTF-8; should it hold invalid sequences, each invalid byte
  // counts as one character.
  void tokenize(std::string_view word, std::vector<ModelToken>& out) const override;
  int64_t token_to_id(std::string_view token) const override { return trie_.find(token); }
  const std::string* id_to_token(int64_t id) const override;
  size_t vocab_size() const override { return pieces_.size(); }

 private:
  std::vector<std::string> pieces_;
  std::vector<double> scores_;
  PieceTrie trie_;
  int64_t unk_id_ = -1;
  double unk_score_ = 0;
  bool byte_fallback_ = false;
  int64_t byte_ids_[256];  // "<0xAB>" ids, -1 when absent
};

}  // namespace vecformer::detail
