#include "explain/focus.hpp"

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "vecformer/error.hpp"

namespace vecformer::detail {

std::string token_list(const Tokenizer& tokenizer, std::span<const int64_t> ids) {
  std::string text;
  for (int64_t id : ids) text += (text.empty() ? "" : " ") + tokenizer.id_to_token(id);
  return text;
}

FocusToken find_focus(const Tokenizer& tokenizer, std::span<const int64_t> ids,
                      std::string_view focus, int64_t occurrence) {
  // Without the special tokens ([CLS] and [SEP]) the post-processor would put around the pieces
  // (a tokenizer may have none).
  EncodingOptions options;
  options.add_special_tokens = false;
  const std::vector<int64_t> encoded = tokenizer.encode_text(focus, options).ids;
  const std::span<const int64_t> pieces(encoded);
  const std::string quoted = "focus \"" + std::string(focus) + "\"";
  if (pieces.empty()) throw Error(quoted + " has no tokens (it is empty once tokenized)");
  // Byte-level BPE and SentencePiece mark a word after a space in its first piece ("Ġcat", "▁cat"):
  // the focus inside the text is the focus tokenized after a space, at its start the focus alone.
  const std::vector<int64_t> spaced = tokenizer.encode_text(" " + std::string(focus), options).ids;

  FocusToken found;
  for (int64_t id : pieces) found.pieces.push_back(tokenizer.id_to_token(id));
  const auto n = static_cast<int64_t>(ids.size());
  const auto starts_word = [&](int64_t i) {
    const std::string token = tokenizer.id_to_token(ids[i]);
    if (token.starts_with("##")) return false;  // WordPiece: a continuation
    if (spaced == encoded) return true;         // the tokenizer marks no word starts
    // A word start carries the space mark, or is not a letter or digit (punctuation).
    return token.starts_with("\xC4\xA0") || token.starts_with("\xE2\x96\x81") ||
           !std::isalnum(static_cast<unsigned char>(token.front()));
  };
  for (int64_t start = 0; start < n; ++start) {
    for (const std::vector<int64_t>* variant : {&encoded, &spaced}) {
      const auto m = static_cast<int64_t>(variant->size());
      if (m == 0 || start + m > n) continue;
      if (!std::equal(variant->begin(), variant->end(), ids.begin() + start)) continue;
      if (start + m < n && !starts_word(start + m)) continue;  // the word goes on
      found.occurrences.push_back(start);
      break;
    }
  }

  if (found.occurrences.empty()) {
    std::string pieces_text;
    if (found.pieces.size() > 1 || found.pieces[0] != focus) {
      pieces_text = " (word pieces: " + token_list(tokenizer, pieces) + ")";
    }
    throw Error(quoted + pieces_text +
                " is not among the text's tokens: " + token_list(tokenizer, ids));
  }
  const auto count = static_cast<int64_t>(found.occurrences.size());
  if (occurrence < 1 || occurrence > count) {
    throw Error("occurrence " + std::to_string(occurrence) + " of " + quoted +
                " asked for, but it " + "appears " + std::to_string(count) +
                (count == 1 ? " time" : " times") + " (occurrences are counted from 1)");
  }
  found.occurrence = occurrence;
  found.index = found.occurrences[occurrence - 1];
  return found;
}

}  // namespace vecformer::detail
