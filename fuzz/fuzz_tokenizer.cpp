// libFuzzer target: the WordPiece tokenizer on arbitrary text, with the bert-base-uncased
// vocabulary under every combination of options, plus one with extra added tokens (raw and
// normalized).
//
// The first byte picks the tokenizer (low 4 bits) and a truncation length (high 4 bits); the rest
// is the text. Properties:
// - encode() and tokenize() throw vecformer::Error exactly when the text is not valid UTF-8, naming
//   the byte where the first ill-formed sequence starts (checked by an independent decoder here);
// - encode() is [CLS] pieces [SEP] with every id inside the vocabulary, and its pieces are
//   tokenize()'s, one for one;
// - encode(text, max_length) is encode(text) cut to max_length - 1 ids, then [SEP].
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support.hpp"
#include "tokenizer/pipeline.hpp"
#include "tokenizer/tokenizer_files.hpp"
#include "vecformer/error.hpp"
#include "vecformer/tokenizer.hpp"

#ifndef VECFORMER_SOURCE_DIR
#error "VECFORMER_SOURCE_DIR must name the source tree (for the vocabulary)"
#endif

namespace {

using vecformer::fuzz::check_message;
using vecformer::fuzz::require;

// The offset of the first ill-formed UTF-8 sequence (Unicode 15, table 3-7), or nullopt. Written
// from the definition, independently of the tokenizer's decoder.
std::optional<size_t> first_invalid_utf8(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    const auto lead = static_cast<unsigned char>(text[pos]);
    size_t length = 0;
    char32_t c = 0;
    if (lead < 0x80) {
      ++pos;
      continue;
    } else if ((lead & 0xE0) == 0xC0) {
      length = 2, c = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3, c = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4, c = lead & 0x07;
    } else {
      return pos;
    }
    if (pos + length > text.size()) return pos;
    for (size_t i = 1; i < length; ++i) {
      const auto byte = static_cast<unsigned char>(text[pos + i]);
      if ((byte & 0xC0) != 0x80) return pos;
      c = (c << 6) | (byte & 0x3F);
    }
    const char32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < smallest[length] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return pos;
    pos += length;
  }
  return std::nullopt;
}

struct Tokenizers {
  std::vector<vecformer::Tokenizer> public_api;  // from_vocab, one per option combination
  std::unique_ptr<vecformer::detail::Pipeline> with_added;
};

std::vector<std::string> read_vocab() {
  std::ifstream in(VECFORMER_SOURCE_DIR "/models/vocab/bert-base-uncased/vocab.txt");
  std::vector<std::string> vocab;
  for (std::string line; std::getline(in, line);) vocab.push_back(line);
  require(vocab.size() == 30522);
  return vocab;
}

const Tokenizers& tokenizers() {
  static const Tokenizers all = [] {
    Tokenizers t;
    const std::vector<std::string> vocab = read_vocab();
    for (int bits = 0; bits < 8; ++bits) {
      vecformer::TokenizerOptions options;
      options.lowercase = bits & 1;
      options.strip_accents = bits & 2;
      options.tokenize_chinese_chars = bits & 4;
      t.public_api.push_back(vecformer::Tokenizer::from_vocab(vocab, options));
    }
    vecformer::detail::PipelineConfig config =
        vecformer::detail::bert_pipeline(vocab, true, true, std::nullopt, true, "");
    const auto next = static_cast<int64_t>(vocab.size());
    // Added tokens past the vocabulary: matched in the raw text, or after normalization (so "ÅB"
    // matches "åb" and "ab" too), with HF's single_word / lstrip / rstrip options.
    const auto add = [&](const char* content, int64_t id, bool normalized, bool single_word,
                         bool lstrip, bool rstrip) {
      vecformer::detail::AddedToken token;
      token.content = content;
      token.id = id;
      token.normalized = normalized;
      token.single_word = single_word;
      token.lstrip = lstrip;
      token.rstrip = rstrip;
      config.added_tokens.push_back(token);
    };
    add("<extra>", next, false, false, true, true);
    add("ÅB", next + 1, true, false, false, false);
    add("\xE4\xB8\xAD\xE6\x96\x87", next + 2, true, true, false, false);  // 中文
    add("[SEP][SEP]", next + 3, false, false, false, false);
    t.with_added = std::make_unique<vecformer::detail::Pipeline>(std::move(config));
    return t;
  }();
  return all;
}

void check_ids(const std::vector<int64_t>& ids, size_t vocab_size) {
  for (const int64_t id : ids) require(id >= 0 && static_cast<size_t>(id) < vocab_size);
}

void check_error(const vecformer::Error& e, std::optional<size_t> invalid) {
  check_message(e);
  require(invalid.has_value());
  require(std::string(e.what()) == "text is not valid UTF-8 at byte " + std::to_string(*invalid));
}

void check_public(const vecformer::Tokenizer& tokenizer, std::string_view text, size_t max_length,
                  std::optional<size_t> invalid) {
  std::vector<int64_t> ids;
  try {
    ids = tokenizer.encode(text);
  } catch (const vecformer::Error& e) {
    check_error(e, invalid);
    return;
  }
  require(!invalid);
  require(ids.size() >= 2);
  require(ids.front() == tokenizer.token_to_id("[CLS]") &&
          ids.back() == tokenizer.token_to_id("[SEP]"));
  check_ids(ids, tokenizer.vocab_size());

  const std::vector<std::string> pieces = tokenizer.tokenize(text);
  require(pieces.size() + 2 == ids.size());
  for (size_t i = 0; i < pieces.size(); ++i)
    require(tokenizer.id_to_token(ids[i + 1]) == pieces[i]);

  if (max_length >= 2) {
    const std::vector<int64_t> cut = tokenizer.encode(text, max_length);
    const size_t kept = std::min(ids.size() - 1, max_length - 1);
    require(cut.size() == kept + 1);
    require(std::equal(cut.begin(), cut.end() - 1, ids.begin()));
    require(cut.back() == ids.back());
  }
}

// Besides the ids: one type id, token, offset pair, word id and mask entry per token; offsets
// inside the text's code points and never decreasing at their start, [CLS] and [SEP] around.
void check_added(const vecformer::detail::Pipeline& tokenizer, std::string_view text,
                 std::optional<size_t> invalid) {
  vecformer::Encoding e;
  try {
    e = tokenizer.encode(text, nullptr, {});
  } catch (const vecformer::Error& error) {
    check_error(error, invalid);
    return;
  }
  require(!invalid);
  check_ids(e.ids, tokenizer.vocab_size());
  const size_t n = e.ids.size();
  require(n >= 2 && e.type_ids.size() == n && e.tokens.size() == n && e.offsets.size() == n &&
          e.word_ids.size() == n && e.special_tokens_mask.size() == n &&
          e.sequence_ids.size() == n);
  require(e.special_tokens_mask.front() == 1 && e.special_tokens_mask.back() == 1);
  size_t chars = 0;
  for (const char c : text) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  size_t last_start = 0;
  for (size_t i = 1; i + 1 < n; ++i) {
    const auto [start, end] = e.offsets[i];
    require(start <= end && end <= chars && start >= last_start);
    last_start = start;
    require(e.tokens[i] == *tokenizer.id_to_token(e.ids[i]) || e.ids[i] >= 30522);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tokenizers();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Tokenizers& all = tokenizers();
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::optional<size_t> invalid = first_invalid_utf8(text);
  const size_t choice = data[0] & 15;
  const size_t max_length = data[0] >> 4;  // 0 (none), 1 (rejected: no room for [CLS] [SEP]) .. 15
  if (choice < all.public_api.size()) {
    check_public(all.public_api[choice], text, max_length, invalid);
    if (max_length == 1) {
      try {
        all.public_api[choice].encode(text, 1);
        require(false);
      } catch (const vecformer::Error&) {
      }
    }
  } else {
    check_added(*all.with_added, text, invalid);
  }
  return 0;
}
