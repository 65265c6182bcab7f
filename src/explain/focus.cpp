#include "explain/focus.hpp"

#include <algorithm>

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

  FocusToken found;
  for (int64_t id : pieces) found.pieces.push_back(tokenizer.id_to_token(id));
  const auto n = static_cast<int64_t>(ids.size()), m = static_cast<int64_t>(pieces.size());
  for (int64_t start = 0; start + m <= n; ++start) {
    if (!std::equal(pieces.begin(), pieces.end(), ids.begin() + start)) continue;
    const bool word_goes_on =
        start + m < n && tokenizer.id_to_token(ids[start + m]).starts_with("##");
    if (!word_goes_on) found.occurrences.push_back(start);
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
