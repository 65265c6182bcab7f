#include "encoder/batch.hpp"

#include <algorithm>
#include <string>

#include "vecformer/error.hpp"

namespace vecformer::detail {

namespace {

[[noreturn]] void reject(size_t sequence, const std::string& what) {
  throw Error("sequence " + std::to_string(sequence) + ": " + what);
}

}  // namespace

Batch Batch::pack(std::span<const Sequence> sequences, const Config& config) {
  Batch batch;
  size_t total = 0;
  for (const Sequence& s : sequences) total += s.input_ids.size();
  batch.token_ids_.reserve(total);
  batch.type_ids_.reserve(total);
  batch.positions_.reserve(total);
  batch.offsets_.reserve(sequences.size() + 1);

  for (size_t i = 0; i < sequences.size(); ++i) {
    const Sequence& s = sequences[i];
    const size_t length = s.input_ids.size();
    if (length == 0) reject(i, "is empty");
    if (static_cast<int64_t>(length) > config.max_length()) {
      reject(i, "has " + std::to_string(length) + " tokens, more than the model's maximum (" +
                    std::to_string(config.max_length()) + ")");
    }
    if (!s.token_type_ids.empty() && s.token_type_ids.size() != length) {
      reject(i, "has " + std::to_string(s.token_type_ids.size()) + " token_type_ids for " +
                    std::to_string(length) + " input_ids");
    }
    for (size_t t = 0; t < length; ++t) {
      const int64_t id = s.input_ids[t];
      if (id < 0 || id >= config.vocab_size) {
        reject(i, "token " + std::to_string(t) + " (id " + std::to_string(id) +
                      ") is outside the vocabulary (vocab_size " +
                      std::to_string(config.vocab_size) + ")");
      }
      const int64_t type = s.token_type_ids.empty() ? 0 : s.token_type_ids[t];
      if (type > 0 && config.type_vocab_size == 0) {
        reject(i, "token " + std::to_string(t) + " has type id " + std::to_string(type) +
                      ", but the model has no token types (type_vocab_size 0, or no token type "
                      "embedding in its checkpoint): every type id must be 0");
      }
      if (type < 0 || type >= std::max<int64_t>(config.type_vocab_size, 1)) {
        reject(i, "token " + std::to_string(t) + " has type id " + std::to_string(type) +
                      ", outside type_vocab_size (" + std::to_string(config.type_vocab_size) + ")");
      }
      batch.token_ids_.push_back(static_cast<int32_t>(id));
      batch.type_ids_.push_back(static_cast<int32_t>(type));
      batch.positions_.push_back(static_cast<int32_t>(t));
    }
    batch.offsets_.push_back(static_cast<int64_t>(batch.token_ids_.size()));
  }
  return batch;
}

int64_t Batch::max_length() const {
  int64_t longest = 0;
  for (int64_t i = 0; i < sequences(); ++i) longest = std::max(longest, length(i));
  return longest;
}

}  // namespace vecformer::detail
