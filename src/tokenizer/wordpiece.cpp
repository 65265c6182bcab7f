#include "tokenizer/wordpiece.hpp"

#include <algorithm>

#include "tokenizer/unicode.hpp"
#include "vecformer/error.hpp"

namespace vecformer::detail {

namespace tables = unicode_tables;

struct WordPiece::Scratch {
  std::vector<char32_t> text;     // the decoded input
  std::vector<char32_t> cleaned;  // normalization stages
  std::vector<char32_t> lowered;
  std::vector<char32_t> decomposed;
  std::string word;             // UTF-8 of the word being split into pieces
  std::vector<size_t> offsets;  // byte offset of each of its code points, then its size
  std::string piece;            // continuing_subword_prefix + the rest of the word
};

namespace {

std::u32string_view view(const std::vector<char32_t>& text) {
  return {text.data(), text.size()};
}

// Calls on_text for the stretches between added tokens and on_token for each token, matching the
// leftmost and, among those starting there, the longest token, as Hugging Face's added-token
// splitter.
template <typename Pattern, typename OnText, typename OnToken>
void split_on_patterns(std::u32string_view text, const std::vector<Pattern>& patterns,
                       OnText&& on_text, OnToken&& on_token) {
  size_t stretch_begin = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const Pattern* best = nullptr;
    for (const Pattern& pattern : patterns) {
      if (text.substr(pos).starts_with(pattern.text) &&
          (best == nullptr || pattern.text.size() > best->text.size())) {
        best = &pattern;
      }
    }
    if (best == nullptr) {
      ++pos;
      continue;
    }
    if (pos > stretch_begin) on_text(text.substr(stretch_begin, pos - stretch_begin));
    on_token(best->id);
    pos += best->text.size();
    stretch_begin = pos;
  }
  if (stretch_begin < text.size()) on_text(text.substr(stretch_begin));
}

}  // namespace

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

void add_bert_special_tokens(WordPieceConfig& config) {
  for (const char* name : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}) {
    // BertTokenizer reads vocab.txt into a dict, so a repeated token takes its last line's id.
    const auto it = std::find(config.vocab.rbegin(), config.vocab.rend(), name);
    if (it == config.vocab.rend()) continue;
    const auto id = static_cast<int64_t>(config.vocab.rend() - it - 1);
    config.added_tokens.push_back({name, id, false});
  }
}

WordPiece::WordPiece(WordPieceConfig config)
    : config_(std::move(config)), vocab_(std::move(config_.vocab)), model_ids_(vocab_) {
  for (const std::string& token : vocab_) {
    longest_token_bytes_ = std::max(longest_token_bytes_, token.size());
  }

  std::vector<AddedToken> added = config_.added_tokens;
  std::sort(added.begin(), added.end(),
            [](const AddedToken& a, const AddedToken& b) { return a.id < b.id; });
  for (const AddedToken& token : added) {
    const auto id = static_cast<size_t>(token.id);
    if (token.id < 0 || id > vocab_.size()) {
      throw Error("added token \"" + token.content + "\" has id " + std::to_string(token.id) +
                  ", leaving a gap after the " + std::to_string(vocab_.size()) +
                  " tokens before it");
    }
    if (id == vocab_.size()) {
      vocab_.push_back(token.content);
    } else if (vocab_[id] != token.content) {
      throw Error("added token \"" + token.content + "\" has id " + std::to_string(token.id) +
                  ", which is \"" + vocab_[id] + "\" in the vocabulary");
    }
    added_ids_.insert_or_assign(token.content, token.id);
    if (token.content.empty()) continue;  // an empty token never matches
    Pattern pattern{{}, token.id};
    std::vector<char32_t> text;
    decode_utf8(token.content, text);
    if (token.normalized) {
      // Matched where the text has been normalized, so normalized the same way.
      Scratch scratch;
      normalize(view(text), scratch);
      text.assign(scratch.decomposed.begin(), scratch.decomposed.end());
      if (text.empty()) continue;
    }
    pattern.text.assign(text.begin(), text.end());
    (token.normalized ? normalized_patterns_ : raw_patterns_).push_back(std::move(pattern));
  }

  for (const std::string* name : {&config_.unk_token, &config_.cls_token, &config_.sep_token}) {
    if (token_to_id(*name) < 0) throw Error("the vocabulary has no " + *name + " token");
  }
  unk_id_ = token_to_id(config_.unk_token);
  cls_id_ = token_to_id(config_.cls_token);
  sep_id_ = token_to_id(config_.sep_token);
}

int64_t WordPiece::token_to_id(std::string_view token) const {
  if (const auto it = added_ids_.find(token); it != added_ids_.end()) return it->second;
  return model_ids_.find(token);
}

void WordPiece::encode(std::string_view text, std::vector<int64_t>& ids) const {
  Scratch scratch;
  decode_utf8(text, scratch.text);
  // The stretch views point into scratch.text, which nothing below modifies.
  split_on_patterns(
      view(scratch.text), raw_patterns_,
      [&](std::u32string_view stretch) { encode_stretch(stretch, scratch, ids); },
      [&](int64_t id) { ids.push_back(id); });
}

void WordPiece::encode_stretch(std::u32string_view text, Scratch& scratch,
                               std::vector<int64_t>& ids) const {
  normalize(text, scratch);
  const std::u32string_view normalized = view(scratch.decomposed);
  if (normalized_patterns_.empty()) {
    encode_normalized(normalized, scratch, ids);
    return;
  }
  split_on_patterns(
      normalized, normalized_patterns_,
      [&](std::u32string_view stretch) { encode_normalized(stretch, scratch, ids); },
      [&](int64_t id) { ids.push_back(id); });
}

// BertNormalizer, leaving the result in scratch.decomposed. The steps run in BertTokenizer's order
// (lowercase before stripping accents), and each step sees the whole stretch: whitespace is neither
// cased nor case-ignorable, so the final-sigma rule sees the same context as Python's per-word
// lower().
void WordPiece::normalize(std::u32string_view text, Scratch& scratch) const {
  std::vector<char32_t>& cleaned = scratch.cleaned;
  cleaned.clear();
  for (const char32_t c : text) {
    if (config_.clean_text) {
      const uint8_t flags = char_flags(c);
      if (c == 0 || c == 0xFFFD || (flags & tables::kControl)) continue;
      if (flags & tables::kWhitespace) {
        cleaned.push_back(' ');
        continue;
      }
    }
    if (config_.handle_chinese_chars && is_cjk_ideograph(c)) {
      cleaned.push_back(' ');
      cleaned.push_back(c);
      cleaned.push_back(' ');
      continue;
    }
    cleaned.push_back(c);
  }

  const std::vector<char32_t>* current = &cleaned;
  if (config_.lowercase) {
    scratch.lowered.clear();
    append_lowercase(*current, scratch.lowered);
    current = &scratch.lowered;
  }
  std::vector<char32_t>& out = scratch.decomposed;
  out.clear();
  if (config_.strip_accents) {
    append_nfd(*current, out);
    out.erase(std::remove_if(out.begin(), out.end(), is_nonspacing_mark), out.end());
  } else {
    out.assign(current->begin(), current->end());
  }
}

// BertPreTokenizer: words are maximal runs of neither whitespace nor punctuation, and every
// punctuation character is a word of its own.
void WordPiece::encode_normalized(std::u32string_view text, Scratch& scratch,
                                  std::vector<int64_t>& ids) const {
  size_t pos = 0;
  while (pos < text.size()) {
    const uint8_t flags = char_flags(text[pos]);
    if (flags & tables::kWhitespace) {
      ++pos;
      continue;
    }
    size_t end = pos + 1;
    if (!(flags & tables::kPunctuation)) {
      while (end < text.size() &&
             !(char_flags(text[end]) & (tables::kWhitespace | tables::kPunctuation))) {
        ++end;
      }
    }
    encode_word(text.substr(pos, end - pos), scratch, ids);
    pos = end;
  }
}

// Greedy longest-match-first: the longest vocabulary entry that starts the word, then the longest
// "##" entry that continues it, and so on; a word with any unmatched rest is one [UNK].
void WordPiece::encode_word(std::u32string_view word, Scratch& scratch,
                            std::vector<int64_t>& ids) const {
  if (word.size() > config_.max_input_chars_per_word) {
    ids.push_back(unk_id_);
    return;
  }
  std::string& bytes = scratch.word;
  std::vector<size_t>& offsets = scratch.offsets;
  bytes.clear();
  offsets.clear();
  for (const char32_t c : word) {
    offsets.push_back(bytes.size());
    append_utf8(c, bytes);
  }
  offsets.push_back(bytes.size());

  const std::string& prefix = config_.continuing_subword_prefix;
  const size_t first_piece = ids.size();
  size_t start = 0;
  while (start < word.size()) {
    // The candidates are prefixes of `base`: the word itself, or prefix + the rest of the word.
    std::string_view base = bytes;
    size_t prefix_size = 0;
    if (start > 0) {
      scratch.piece.assign(prefix);
      scratch.piece.append(bytes, offsets[start]);
      base = scratch.piece;
      prefix_size = prefix.size();
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
      id = model_ids_.find(base.substr(0, size));
      if (id >= 0) break;
    }
    if (id < 0) {
      ids.resize(first_piece);
      ids.push_back(unk_id_);
      return;
    }
    ids.push_back(id);
    start = end;
  }
}

}  // namespace vecformer::detail
