// libFuzzer target: Tokenizer::load on a folder whose tokenizer.json is the fuzz input (every
// model, normalizer, pre-tokenizer and post-processor, their regular expressions, added tokens),
// then a few texts and pairs through whatever loaded.
//
// Property: either vecformer::Error naming the file or the folder, or a tokenizer whose encodings
// have one type id, token, offset pair, word id and mask entry per id, every id inside the
// vocabulary and every offset inside the text's code points; max_length is respected.
#include <stdlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "support.hpp"
#include "vecformer/error.hpp"
#include "vecformer/tokenizer.hpp"

namespace {

using vecformer::fuzz::check_message;
using vecformer::fuzz::require;

// A private folder, removed at exit; only tokenizer.json is ever written into it.
class Folder {
 public:
  Folder() {
    char name[] = "/tmp/vecformer-fuzz-tokenizer-XXXXXX";
    if (::mkdtemp(name) == nullptr) __builtin_trap();
    path_ = name;
  }
  ~Folder() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

const char* const kTexts[] = {
    "Hello, World! [SEP] r\xC3\xA9sum\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 unaffable",
    "",
    "[CLS][UNK]##a a##",
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Folder folder;
  {
    std::ofstream out(folder.path() / "tokenizer.json", std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    if (!out) __builtin_trap();
  }
  std::optional<vecformer::Tokenizer> loaded;
  try {
    loaded.emplace(vecformer::Tokenizer::load(folder.path()));
  } catch (const vecformer::Error& e) {
    check_message(e);
    require(std::string_view(e.what()).starts_with(folder.path().string()));
    return 0;
  }
  // Encoding may fail too, as in Hugging Face (a model whose unk token is missing meets a word it
  // needs it for): a one-line Error then.
  try {
    const vecformer::Tokenizer& tokenizer = *loaded;
    require(tokenizer.vocab_size() > 0);
    const auto check = [&](const vecformer::Encoding& e, size_t chars, size_t max_length) {
      const size_t n = e.ids.size();
      require(e.type_ids.size() == n && e.tokens.size() == n && e.offsets.size() == n &&
              e.sequence_ids.size() == n && e.word_ids.size() == n &&
              e.special_tokens_mask.size() == n);
      require(max_length == 0 || n <= max_length);
      for (size_t i = 0; i < n; ++i) {
        require(e.ids[i] >= 0 && static_cast<size_t>(e.ids[i]) < tokenizer.vocab_size());
        require(e.offsets[i].first <= e.offsets[i].second && e.offsets[i].second <= chars);
      }
    };
    const auto count = [](std::string_view text) {
      size_t chars = 0;
      for (const char c : text) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
      return chars;
    };
    for (const char* text : kTexts) {
      const size_t chars = count(text);
      check(tokenizer.encode_text(text), chars, 0);
      vecformer::EncodingOptions options;
      options.add_special_tokens = false;
      check(tokenizer.encode_text(text, options), chars, 0);
      options.add_special_tokens = true;
      options.max_length = 6;
      try {
        check(tokenizer.encode_pair(text, kTexts[0], options), std::max(chars, count(kTexts[0])),
              6);
      } catch (const vecformer::Error& e) {
        check_message(e);
      }
    }
  } catch (const vecformer::Error& e) {
    check_message(e);
  }
  return 0;
}
