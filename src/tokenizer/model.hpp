#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vecformer::detail {

// One token a tokenizer model cut from a word: its id and its byte range [begin, end) in the word.
struct ModelToken {
  int64_t id = 0;
  uint32_t begin = 0;
  uint32_t end = 0;
};

// The "model" stage of a tokenizer.json pipeline (WordPiece, BPE, Unigram): turns one pre-token
// (UTF-8, already normalized and pre-tokenized) into tokens. Immutable after construction;
// tokenize() is safe from many threads.
class TokenizerModel {
 public:
  virtual ~TokenizerModel() = default;
  // Appends the tokens of `word` to `out` (byte offsets relative to `word`).
  virtual void tokenize(std::string_view word, std::vector<ModelToken>& out) const = 0;
  virtual int64_t token_to_id(std::string_view token) const = 0;  // -1 when absent
  // nullptr when id is outside the model's vocabulary
  virtual const std::string* id_to_token(int64_t id) const = 0;
  virtual size_t vocab_size() const = 0;
};

}  // namespace vecformer::detail
