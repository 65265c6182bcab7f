// libFuzzer target: Tokenizer::load on a folder whose tokenizer.json is the fuzz input (vocabulary,
// normalizer, pre-tokenizer and added-token validation), then a few texts through whatever loaded.
//
// Property: either vecformer::Error naming the file or the folder, or a tokenizer whose ids all lie
// inside its vocabulary and that has [CLS] and [SEP] (the unknown token may be renamed).
#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
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
  try {
    const vecformer::Tokenizer tokenizer = vecformer::Tokenizer::load(folder.path());
    require(tokenizer.vocab_size() > 0);
    for (const char* name : {"[CLS]", "[SEP]"}) require(tokenizer.token_to_id(name) >= 0);
    for (const char* text : kTexts) {
      for (const int64_t id : tokenizer.encode(text)) {
        require(id >= 0 && static_cast<size_t>(id) < tokenizer.vocab_size());
      }
    }
  } catch (const vecformer::Error& e) {
    check_message(e);
    require(std::string_view(e.what()).starts_with(folder.path().string()));
  }
  return 0;
}
