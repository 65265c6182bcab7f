#include "tokenizer/post_processors.hpp"

#include "tokenizer/pre_tokenizers.hpp"
#include "tokenizer/unicode.hpp"

namespace vecformer::detail {

namespace {

// Wraps `e` in special tokens: `before` ... `after`, each with type id `type_id`.
void surround(Encoding& e, const std::vector<const SpecialTokenIds*>& before,
              const std::vector<const SpecialTokenIds*>& after, int64_t type_id,
              int32_t sequence_id) {
  Encoding out;
  const size_t n = e.ids.size() + before.size() + after.size();
  out.ids.reserve(n);
  const auto special = [&](const SpecialTokenIds& token) {
    out.ids.push_back(token.id);
    out.type_ids.push_back(type_id);
    out.tokens.push_back(token.token);
    out.offsets.emplace_back(0, 0);
    out.sequence_ids.push_back(-1);
    out.word_ids.push_back(-1);
    out.special_tokens_mask.push_back(1);
  };
  for (const SpecialTokenIds* token : before) special(*token);
  const auto append = [](auto& to, auto& from) {
    to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
  };
  append(out.ids, e.ids);
  append(out.type_ids, e.type_ids);
  append(out.tokens, e.tokens);
  append(out.offsets, e.offsets);
  out.sequence_ids.insert(out.sequence_ids.end(), e.ids.size(), sequence_id);
  append(out.word_ids, e.word_ids);
  append(out.special_tokens_mask, e.special_tokens_mask);
  for (const SpecialTokenIds* token : after) special(*token);
  e = std::move(out);
}

// HF's process_offsets (pre_tokenizers/byte_level.rs): a token that starts or ends with spaces
// (the byte-level space, or whitespace) does not count them in its offsets, except the one space
// add_prefix_space put before the first word.
void trim_offsets(Encoding& e, bool add_prefix_space) {
  const char32_t space = byte_to_unicode(' ');
  std::vector<char32_t> chars;
  for (size_t i = 0; i < e.ids.size(); ++i) {
    chars.clear();
    decode_utf8(e.tokens[i], chars);
    const auto is_space = [&](char32_t c) { return c == space || is_rust_whitespace(c); };
    size_t leading = 0;
    while (leading < chars.size() && is_space(chars[leading])) ++leading;
    size_t trailing = 0;
    while (trailing < chars.size() && is_space(chars[chars.size() - 1 - trailing])) ++trailing;
    auto& [start, end] = e.offsets[i];
    if (leading > 0) {
      const bool is_first = i == 0 || start == 0;
      if (is_first && add_prefix_space && leading == 1) leading = 0;
      start = std::min(start + leading, end);
    }
    if (trailing > 0 && end >= trailing) end = std::max(end - trailing, start);
  }
}

}  // namespace

void BertProcessing::process_encodings(std::vector<Encoding>& encodings,
                                       bool add_special_tokens) const {
  if (!add_special_tokens) return;
  surround(encodings[0], {&cls_}, {&sep_}, 0, 0);
  if (encodings.size() > 1) surround(encodings[1], {}, {&sep_}, 1, 1);
}

void RobertaProcessing::process_encodings(std::vector<Encoding>& encodings,
                                          bool add_special_tokens) const {
  for (Encoding& e : encodings) {
    if (trim_offsets_) trim_offsets(e, add_prefix_space_);
    std::fill(e.type_ids.begin(), e.type_ids.end(), 0);
  }
  if (!add_special_tokens) return;
  surround(encodings[0], {&cls_}, {&sep_}, 0, 0);
  if (encodings.size() > 1) surround(encodings[1], {&sep_}, {&sep_}, 0, 1);
}

void ByteLevelProcessing::process_encodings(std::vector<Encoding>& encodings, bool) const {
  if (!trim_offsets_) return;
  for (Encoding& e : encodings) trim_offsets(e, add_prefix_space_);
}

TemplateProcessing::TemplateProcessing(std::vector<Item> single, std::vector<Item> pair,
                                       std::map<std::string, Special> special_tokens)
    : single_(std::move(single)),
      pair_(std::move(pair)),
      special_tokens_(std::move(special_tokens)) {
  for (const auto* items : {&single_, &pair_}) {
    size_t added = 0;
    for (const Item& item : *items) {
      if (!item.sequence) added += special_tokens_.at(item.special).ids.size();
    }
    (items == &single_ ? added_single_ : added_pair_) = added;
  }
}

void TemplateProcessing::process_encodings(std::vector<Encoding>& encodings,
                                           bool add_special_tokens) const {
  const std::vector<Item>& items = encodings.size() > 1 ? pair_ : single_;
  std::vector<Encoding> out;
  for (const Item& item : items) {
    if (item.sequence) {
      if (item.sequence_index >= encodings.size()) continue;
      Encoding e = encodings[item.sequence_index];
      std::fill(e.type_ids.begin(), e.type_ids.end(), item.type_id);
      std::fill(e.sequence_ids.begin(), e.sequence_ids.end(),
                static_cast<int32_t>(item.sequence_index));
      out.push_back(std::move(e));
    } else if (add_special_tokens) {
      const Special& special = special_tokens_.at(item.special);
      Encoding e;
      for (size_t i = 0; i < special.ids.size(); ++i) {
        e.ids.push_back(special.ids[i]);
        e.type_ids.push_back(item.type_id);
        e.tokens.push_back(i < special.tokens.size() ? special.tokens[i] : std::string());
        e.offsets.emplace_back(0, 0);
        e.sequence_ids.push_back(-1);
        e.word_ids.push_back(-1);
        e.special_tokens_mask.push_back(1);
      }
      out.push_back(std::move(e));
    }
  }
  encodings = std::move(out);
}

std::pair<std::string, std::string> TemplateProcessing::cls_sep() const {
  std::pair<std::string, std::string> result;
  if (!single_.empty() && !single_.front().sequence) {
    const Special& s = special_tokens_.at(single_.front().special);
    if (!s.tokens.empty()) result.first = s.tokens.front();
  }
  if (!single_.empty() && !single_.back().sequence) {
    const Special& s = special_tokens_.at(single_.back().special);
    if (!s.tokens.empty()) result.second = s.tokens.back();
  }
  return result;
}

size_t SequenceProcessing::added_tokens(bool pair) const {
  size_t n = 0;
  for (const auto& processor : processors_) n += processor->added_tokens(pair);
  return n;
}

void SequenceProcessing::process_encodings(std::vector<Encoding>& encodings,
                                           bool add_special_tokens) const {
  for (const auto& processor : processors_)
    processor->process_encodings(encodings, add_special_tokens);
}

std::pair<std::string, std::string> SequenceProcessing::cls_sep() const {
  for (const auto& processor : processors_) {
    auto result = processor->cls_sep();
    if (!result.first.empty() || !result.second.empty()) return result;
  }
  return {};
}

}  // namespace vecformer::detail
