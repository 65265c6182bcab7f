#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "vecformer/config.hpp"
#include "vecformer/model.hpp"

namespace vecformer::detail {

// Packed tokens: the real tokens of all sequences one after another, no padding. Rows
// offsets[i]..offsets[i+1] are sequence i. Construction validates every id against the config, so the
// engine behind a Batch never sees an invalid one.
class Batch {
 public:
  // Throws vecformer::Error naming the sequence (index from 0) and token position at fault.
  static Batch pack(std::span<const Sequence> sequences, const Config& config);

  int64_t tokens() const { return static_cast<int64_t>(token_ids_.size()); }
  int64_t sequences() const { return static_cast<int64_t>(offsets_.size()) - 1; }
  int64_t length(int64_t i) const { return offsets_[i + 1] - offsets_[i]; }
  int64_t max_length() const;

  std::span<const int32_t> token_ids() const { return token_ids_; }
  std::span<const int32_t> type_ids() const { return type_ids_; }
  // Position of each token inside its own sequence (0-based).
  std::span<const int32_t> positions() const { return positions_; }
  std::span<const int64_t> offsets() const { return offsets_; }

 private:
  std::vector<int32_t> token_ids_;
  std::vector<int32_t> type_ids_;
  std::vector<int32_t> positions_;
  std::vector<int64_t> offsets_{0};
};

}  // namespace vecformer::detail
