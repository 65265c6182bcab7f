#include "tokenizer/wordpiece.hpp"

#include <algorithm>

#include "vecformer/error.hpp"

namespace vecformer::detail {

TokenIndex::TokenIndex(const std::vector<std::string>& tokens) {
  size_t capacity = 16;
  while (capacity < 2 * tokens.size()) capacity *= 2;
  slots_.resize(capacity);
  mask_ = capacity - 1;
  for (size_t id = 0; id < tokens.size(); ++id) {
    const std::string& token = tokens[id];
    const uint64_t h = hash(token);
    size_t i = h & mask_;
    while (slots_[i].id >= 0 &&
           !(slots_[i].hash == h &&
             std::string_view(text_).substr(slots_[i].offset, slots_[i].size) == token)) {
      i = (i + 1) & mask_;
    }
    if (slots_[i].id < 0) {
      if (text_.size() + token.size() > UINT32_MAX) throw Error("vocabulary text over 4 GiB");
      slots_[i] = {h, static_cast<uint32_t>(text_.size()), static_cast<uint32_t>(token.size()), 0};
      text_ += token;
    }
    slots_[i].id = static_cast<int64_t>(id);
  }
}

int64_t TokenIndex::find(std::string_view token) const {
  const uint64_t h = hash(token);
  for (size_t i = h & mask_; slots_[i].id >= 0; i = (i + 1) & mask_) {
    const Slot& slot = slots_[i];
    if (slot.hash == h && slot.size == token.size() &&
        std::string_view(text_).substr(slot.offset, slot.size) == token) {
      return slot.id;
    }
  }
  return -1;
}

WordPiece::WordPiece(WordPieceConfig config)
    : vocab_(std::move(config.vocab)),
      ids_(vocab_),
      unk_token_(std::move(config.unk_token)),
      prefix_(std::move(config.continuing_subword_prefix)),
      max_chars_(config.max_input_chars_per_word) {
  for (const std::string& token : vocab_) {
    longest_token_bytes_ = std::max(longest_token_bytes_, token.size());
  }
  unk_id_ = ids_.find(unk_token_);
}

void WordPiece::tokenize(std::string_view word, std::vector<ModelToken>& out) const {
  // Byte offset of each code point of the word, then its size. One buffer per thread: no
  // allocation per word once it has grown.
  thread_local std::vector<uint32_t> offsets;
  thread_local std::string piece;
  offsets.clear();
  for (size_t i = 0; i < word.size(); ++i) {
    if ((static_cast<unsigned char>(word[i]) & 0xC0) != 0x80) {
      offsets.push_back(static_cast<uint32_t>(i));
    }
  }
  const size_t chars = offsets.size();
  offsets.push_back(static_cast<uint32_t>(word.size()));
  const auto unk = [&] {
    if (unk_id_ < 0)
      throw Error("WordPiece: the unk_token " + unk_token_ + " is not in the vocabulary");
    out.push_back({unk_id_, 0, static_cast<uint32_t>(word.size())});
  };
  if (chars > max_chars_) {
    unk();
    return;
  }

  const size_t first_piece = out.size();
  size_t start = 0;
  while (start < chars) {
    // The candidates are prefixes of `base`: the word itself, or prefix + the rest of the word.
    std::string_view base = word;
    size_t prefix_size = 0;
    if (start > 0) {
      piece.assign(prefix_);
      piece.append(word.substr(offsets[start]));
      base = piece;
      prefix_size = prefix_.size();
    }
    int64_t id = -1;
    // The longest candidate that can be a vocabulary entry at all: tokenizer.json may raise
    // max_input_chars_per_word far above 100, and trying every end of a long word from each start
    // would take quadratic time.
    const size_t fits =
        offsets[start] + longest_token_bytes_ - std::min(prefix_size, longest_token_bytes_);
    const auto first = offsets.begin() + static_cast<std::ptrdiff_t>(start);
    size_t end =
        static_cast<size_t>(std::upper_bound(first, offsets.end(), fits) - offsets.begin()) - 1;
    for (; end > start; --end) {
      const size_t size = prefix_size + offsets[end] - offsets[start];
      if (size > longest_token_bytes_) continue;
      id = ids_.find(base.substr(0, size));
      if (id >= 0) break;
    }
    if (id < 0) {
      out.resize(first_piece);
      unk();
      return;
    }
    out.push_back({id, offsets[start], offsets[end]});
    start = end;
  }
}

}  // namespace vecformer::detail
