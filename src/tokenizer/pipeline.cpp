#include "tokenizer/pipeline.hpp"

#include <unicode/uchar.h>

#include <algorithm>

#include "tokenizer/unicode.hpp"
#include "vecformer/error.hpp"

namespace vecformer::detail {

void NormalizedString::assign_original(std::u32string_view text, uint32_t first) {
  chars.assign(text.begin(), text.end());
  align.resize(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    align[i] = {first + static_cast<uint32_t>(i), first + static_cast<uint32_t>(i) + 1};
  }
}

void PreTokens::add(const NormalizedString& from, size_t begin, size_t end, int64_t token) {
  if (begin >= end) return;
  const auto start = static_cast<uint32_t>(text.size());
  text.append(from, begin, end);
  pieces.push_back({start, static_cast<uint32_t>(text.size()), token});
}

void append_utf8(std::u32string_view text, std::string& out) {
  for (const char32_t c : text) append_utf8(c, out);
}

namespace {

// Rust regex's \w: Alphabetic, marks, decimal digits, connector punctuation, Join_Control.
bool is_word_char(char32_t c) {
  if (c < 128)
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  const auto cp = static_cast<UChar32>(c);
  if (u_hasBinaryProperty(cp, UCHAR_ALPHABETIC) || u_hasBinaryProperty(cp, UCHAR_JOIN_CONTROL)) {
    return true;
  }
  const int32_t mask = U_GET_GC_MASK(cp);
  return (mask & (U_GC_M_MASK | U_GC_ND_MASK | U_GC_PC_MASK)) != 0;
}

}  // namespace

struct Pipeline::Scratch {
  std::vector<char32_t> original;
  NormalizedString normalized;
  NormalizedString normalized_scratch;
  PreTokens pre;
  PreTokens pre_scratch;
  std::string word;
  std::vector<uint32_t> char_of_byte;  // per byte of `word`: the index of its code point
  std::vector<ModelToken> tokens;
};

Pipeline::Pipeline(PipelineConfig config) : config_(std::move(config)) {
  if (!config_.model) throw Error("a tokenizer needs a model");
  const size_t model_size = config_.model->vocab_size();
  vocab_size_ = model_size;
  std::vector<const AddedToken*> past;
  for (const AddedToken& token : config_.added_tokens) {
    if (token.id < 0) throw Error("added token \"" + token.content + "\" has a negative id");
    const auto id = static_cast<size_t>(token.id);
    if (id < model_size) {
      const std::string* entry = config_.model->id_to_token(token.id);
      if (entry == nullptr || *entry != token.content) {
        throw Error("added token \"" + token.content + "\" has id " + std::to_string(id) +
                    ", which is \"" + (entry ? *entry : std::string()) + "\" in the vocabulary");
      }
    } else {
      past.push_back(&token);
    }
  }
  std::sort(past.begin(), past.end(),
            [](const AddedToken* a, const AddedToken* b) { return a->id < b->id; });
  for (const AddedToken* token : past) {
    const auto id = static_cast<size_t>(token->id);
    if (id == vocab_size_) {
      added_by_id_.push_back(token->content);
      ++vocab_size_;
    } else if (id + 1 == vocab_size_ && added_by_id_.back() == token->content) {
      continue;  // listed twice
    } else {
      throw Error("added token \"" + token->content + "\" has id " + std::to_string(id) +
                  ", leaving a gap after the " + std::to_string(vocab_size_) + " tokens before it");
    }
  }
  for (const AddedToken& token : config_.added_tokens) {
    added_ids_.emplace_back(token.content, token.id);
  }
  std::stable_sort(added_ids_.begin(), added_ids_.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  // The last listing of a content wins, as HF's map insertions do.
  std::vector<std::pair<std::string, int64_t>> unique;
  for (auto& entry : added_ids_) {
    if (!unique.empty() && unique.back().first == entry.first) {
      unique.back() = std::move(entry);
    } else {
      unique.push_back(std::move(entry));
    }
  }
  added_ids_ = std::move(unique);

  for (size_t i = 0; i < config_.added_tokens.size(); ++i) {
    const AddedToken& token = config_.added_tokens[i];
    if (token.content.empty()) continue;  // HF ignores empty added tokens
    std::vector<char32_t> text;
    decode_utf8(token.content, text);
    if (token.normalized && config_.normalizer) {
      // HF matches normalized tokens in their normalized form.
      NormalizedString normalized, scratch;
      normalized.assign_original({text.data(), text.size()}, 0);
      config_.normalizer->normalize(normalized, scratch);
      text = normalized.chars;
      if (text.empty()) continue;
    }
    add_patterns(token.normalized ? normalized_patterns_ : raw_patterns_,
                 std::u32string(text.begin(), text.end()), i);
  }
}

void Pipeline::add_patterns(Patterns& patterns, std::u32string text, size_t added) {
  const char32_t first = text.front();
  patterns.first_chars[(first & 255) >> 6] |= uint64_t{1} << (first & 63);
  // A content listed twice: the later listing replaces the earlier one.
  for (Pattern& pattern : patterns.list) {
    if (pattern.text == text) {
      pattern.added = added;
      return;
    }
  }
  patterns.list.push_back({std::move(text), added});
}

int64_t Pipeline::token_to_id(std::string_view token) const {
  const auto it = std::lower_bound(added_ids_.begin(), added_ids_.end(), token,
                                   [](const auto& entry, std::string_view value) {
                                     return std::string_view(entry.first) < value;
                                   });
  if (it != added_ids_.end() && it->first == token) return it->second;
  return config_.model->token_to_id(token);
}

const std::string* Pipeline::id_to_token(int64_t id) const {
  if (id < 0) return nullptr;
  const size_t model_size = config_.model->vocab_size();
  if (static_cast<size_t>(id) >= model_size) {
    const size_t index = static_cast<size_t>(id) - model_size;
    return index < added_by_id_.size() ? &added_by_id_[index] : nullptr;
  }
  return config_.model->id_to_token(id);
}

template <typename OnText, typename OnToken>
void Pipeline::split_added(std::u32string_view text, const Patterns& patterns, OnText&& on_text,
                           OnToken&& on_token) const {
  size_t start_offset = 0;
  size_t pos = 0;
  if (!patterns.list.empty()) {
    while (pos < text.size()) {
      if (!patterns.may_start(text[pos])) {
        ++pos;
        continue;
      }
      // Leftmost-longest, as HF's Aho-Corasick automaton.
      const Pattern* best = nullptr;
      for (const Pattern& pattern : patterns.list) {
        if (pattern.text.size() <= text.size() - pos &&
            (best == nullptr || pattern.text.size() > best->text.size()) &&
            text.substr(pos, pattern.text.size()) == pattern.text) {
          best = &pattern;
        }
      }
      if (best == nullptr) {
        ++pos;
        continue;
      }
      size_t start = pos;
      size_t stop = pos + best->text.size();
      pos = stop;  // matches do not overlap
      const AddedToken& token = config_.added_tokens[best->added];
      if (token.single_word) {
        const bool start_space = start == 0 || !is_word_char(text[start - 1]);
        const bool stop_space = stop == text.size() || !is_word_char(text[stop]);
        if (!start_space || !stop_space) continue;
      }
      if (token.lstrip) {
        while (start > start_offset && is_rust_whitespace(text[start - 1])) --start;
      }
      if (token.rstrip) {
        while (stop < text.size() && is_rust_whitespace(text[stop])) ++stop;
        pos = stop;
      }
      if (start_offset < start) on_text(start_offset, start);
      on_token(start, stop, best->added);
      start_offset = stop;
    }
  }
  if (start_offset < text.size()) on_text(start_offset, text.size());
}

void Pipeline::encode_sequence(std::string_view text, uint32_t type_id, Scratch& scratch,
                               Encoding& out, bool ids_only) const {
  std::vector<char32_t>& original = scratch.original;
  original.clear();
  decode_utf8(text, original);
  const std::u32string_view chars(original.data(), original.size());

  PreTokens& pre = scratch.pre;
  pre.clear();
  NormalizedString& normalized = scratch.normalized;
  split_added(
      chars, raw_patterns_,
      [&](size_t begin, size_t end) {
        normalized.assign_original(chars.substr(begin, end - begin), static_cast<uint32_t>(begin));
        if (config_.normalizer)
          config_.normalizer->normalize(normalized, scratch.normalized_scratch);
        const std::u32string_view view(normalized.chars.data(), normalized.chars.size());
        split_added(
            view, normalized_patterns_, [&](size_t b, size_t e) { pre.add(normalized, b, e); },
            [&](size_t b, size_t e, size_t added) {
              pre.add(normalized, b, e, config_.added_tokens[added].id);
            });
      },
      [&](size_t begin, size_t end, size_t added) {
        normalized.assign_original(chars.substr(begin, end - begin), static_cast<uint32_t>(begin));
        pre.add(normalized, 0, normalized.size(), config_.added_tokens[added].id);
      });

  if (config_.pre_tokenizer) config_.pre_tokenizer->pre_tokenize(pre, scratch.pre_scratch);

  const auto push = [&](int64_t id, std::string_view token, Alignment offsets, size_t word) {
    out.ids.push_back(id);
    out.type_ids.push_back(type_id);
    if (ids_only) {
      out.tokens.emplace_back();
    } else {
      out.tokens.emplace_back(token);
    }
    out.offsets.emplace_back(offsets.begin, offsets.end);
    out.sequence_ids.push_back(static_cast<int32_t>(type_id));
    out.word_ids.push_back(static_cast<int64_t>(word));
    out.special_tokens_mask.push_back(0);
  };
  // Room for the tokens of a typical text and the special tokens around it, in one allocation.
  const size_t expected = pre.pieces.size() + pre.pieces.size() / 4 + 4;
  out.ids.reserve(expected);
  out.type_ids.reserve(expected);
  out.tokens.reserve(expected);
  out.offsets.reserve(expected);
  out.sequence_ids.reserve(expected);
  out.word_ids.reserve(expected);
  out.special_tokens_mask.reserve(expected);
  std::string& word = scratch.word;
  std::vector<uint32_t>& char_of_byte = scratch.char_of_byte;
  for (size_t w = 0; w < pre.pieces.size(); ++w) {
    const Piece& piece = pre.pieces[w];
    const std::u32string_view piece_chars = pre.view(piece);
    word.clear();
    char_of_byte.clear();
    for (size_t i = 0; i < piece_chars.size(); ++i) {
      append_utf8(piece_chars[i], word);
      char_of_byte.resize(word.size(), static_cast<uint32_t>(i));
    }
    if (piece.token >= 0) {
      push(piece.token, word, pre.text.span(piece.begin, piece.end), w);
      continue;
    }
    scratch.tokens.clear();
    config_.model->tokenize(word, scratch.tokens);
    for (const ModelToken& token : scratch.tokens) {
      const std::string* value = ids_only ? nullptr : id_to_token(token.id);
      Alignment offsets;
      if (token.begin < token.end && token.end <= word.size()) {
        offsets = pre.text.span(piece.begin + char_of_byte[token.begin],
                                piece.begin + char_of_byte[token.end - 1] + 1);
      } else {
        const size_t at = std::min<size_t>(token.begin, word.size());
        const size_t c = at < word.size() ? char_of_byte[at] : piece_chars.size();
        offsets = pre.text.span(piece.begin + c, piece.begin + c);
      }
      if (token.id == config_.unk_shows_text && token.begin < token.end &&
          token.end <= word.size()) {
        push(token.id, word.substr(token.begin, token.end - token.begin), offsets, w);
      } else {
        push(token.id, value ? std::string_view(*value) : std::string_view(), offsets, w);
      }
    }
  }
}

namespace {

void truncate(Encoding& e, size_t n) {
  if (e.ids.size() <= n) return;
  e.ids.resize(n);
  e.type_ids.resize(n);
  e.tokens.resize(n);
  e.offsets.resize(n);
  e.sequence_ids.resize(n);
  e.word_ids.resize(n);
  e.special_tokens_mask.resize(n);
}

// HF's truncate_encodings with LongestFirst, direction right, stride 0.
void truncate_longest_first(Encoding& first, Encoding* second, size_t max_length) {
  const size_t total = first.ids.size() + (second ? second->ids.size() : 0);
  if (total <= max_length) return;
  if (second == nullptr) {
    truncate(first, max_length);
    return;
  }
  size_t n1 = first.ids.size();
  size_t n2 = second->ids.size();
  const bool swap = n1 > n2;
  if (swap) std::swap(n1, n2);
  n2 = n1 > max_length ? n1 : std::max(n1, max_length - n1);
  if (n1 + n2 > max_length) {
    n1 = max_length / 2;
    n2 = n1 + max_length % 2;
  }
  if (swap) std::swap(n1, n2);
  truncate(first, n1);
  truncate(*second, n2);
}

void append(Encoding& to, Encoding&& from) {
  const auto move_all = [](auto& a, auto& b) {
    a.insert(a.end(), std::make_move_iterator(b.begin()), std::make_move_iterator(b.end()));
  };
  if (to.ids.empty()) {
    to = std::move(from);
    return;
  }
  move_all(to.ids, from.ids);
  move_all(to.type_ids, from.type_ids);
  move_all(to.tokens, from.tokens);
  move_all(to.offsets, from.offsets);
  move_all(to.sequence_ids, from.sequence_ids);
  move_all(to.word_ids, from.word_ids);
  move_all(to.special_tokens_mask, from.special_tokens_mask);
}

}  // namespace

Encoding Pipeline::encode(std::string_view text, const std::string_view* pair,
                          const EncodingOptions& options, bool ids_only) const {
  // One scratch per thread: its buffers keep their capacity from one call to the next.
  thread_local Scratch scratch;
  std::vector<Encoding> encodings(pair ? 2 : 1);
  encode_sequence(text, 0, scratch, encodings[0], ids_only);
  if (pair) encode_sequence(*pair, 1, scratch, encodings[1], ids_only);

  const PostProcessor* processor = config_.post_processor.get();
  if (options.max_length > 0) {
    const size_t added =
        processor && options.add_special_tokens ? processor->added_tokens(pair != nullptr) : 0;
    if (options.max_length < added) {
      throw Error("max_length " + std::to_string(options.max_length) + " leaves no room for the " +
                  std::to_string(added) + " special tokens");
    }
    truncate_longest_first(encodings[0], pair ? &encodings[1] : nullptr,
                           options.max_length - added);
  }
  // HF's PostProcessor::process: sequence i gets sequence id i and type id i, then the processor
  // adds its tokens, then the encodings are merged.
  if (processor) {
    for (size_t i = 0; i < encodings.size(); ++i) {
      std::fill(encodings[i].sequence_ids.begin(), encodings[i].sequence_ids.end(),
                static_cast<int32_t>(i));
      std::fill(encodings[i].type_ids.begin(), encodings[i].type_ids.end(),
                static_cast<int64_t>(i));
    }
    processor->process_encodings(encodings, options.add_special_tokens);
  }
  Encoding result;
  for (Encoding& encoding : encodings) append(result, std::move(encoding));
  return result;
}

}  // namespace vecformer::detail
