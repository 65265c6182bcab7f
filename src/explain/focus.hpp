#pragma once

// Which token of a sentence a word named by a user is, found the way the model sees the text: the
// word is tokenized with the sentence's own tokenizer (same lowercasing, accent stripping and word
// pieces) and its pieces are looked up in the sentence's pieces.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vecformer/tokenizer.hpp"

namespace vecformer::detail {

struct FocusToken {
  std::vector<std::string> pieces;  // the focus text's word pieces
  std::vector<int64_t>
      occurrences;         // token index (in [CLS] ... [SEP]) of each occurrence's 1st piece
  int64_t occurrence = 1;  // the occurrence chosen, 1-based
  int64_t index = 0;       // the focus token: the chosen occurrence's first piece
};

// Finds the pieces of `focus` in `ids` (a sentence's [CLS] ... [SEP]) as whole words: a match
// followed by a "##" continuation is the start of a longer word and does not count. With byte-level
// BPE or SentencePiece pieces, the focus after a space ("Ġcat", "▁cat") matches too, and a match
// followed by a piece without the space mark that starts with a letter or digit does not. Throws
// vecformer::Error when the focus has no pieces, is not there (the message lists the sentence's
// tokens), or appears fewer than `occurrence` (1-based) times.
FocusToken find_focus(const Tokenizer& tokenizer, std::span<const int64_t> ids,
                      std::string_view focus, int64_t occurrence = 1);

// The tokens of `ids`, space-separated, for messages.
std::string token_list(const Tokenizer& tokenizer, std::span<const int64_t> ids);

}  // namespace vecformer::detail
