// libFuzzer target: SentencePiece's precompiled charsmap (src/tokenizer/precompiled.hpp) and
// base64, on hostile blobs and texts.
//
// The first byte picks the mode:
//   0: the input is a text, normalized with the real nmt_nfkc charsmap;
//   1: the input is a charsmap blob: parsed, then used on fixed texts;
//   2: the real charsmap with the input (after 3 offset bytes) XORed in at that offset: a trie
//      whose units point anywhere, used on fixed texts;
//   3: the input is base64 text, decoded.
// Properties: parsing throws nothing but a one-line vecformer::Error; transform() returns a view
// inside the charsmap's strings or nothing; normalization pieces cover the text in order (ASan
// checks every read stays in bounds).
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "support.hpp"
#include "tokenizer/precompiled.hpp"
#include "vecformer/error.hpp"

#ifndef VECFORMER_SOURCE_DIR
#error "VECFORMER_SOURCE_DIR must name the source tree (for the charsmap)"
#endif

namespace {

using vecformer::detail::PrecompiledCharsmap;
using vecformer::fuzz::check_message;
using vecformer::fuzz::require;

const std::string& real_blob() {
  static const std::string blob = [] {
    std::ifstream in(VECFORMER_SOURCE_DIR "/tests/tokenizer/data/precompiled/nmt_nfkc.bin",
                     std::ios::binary);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    require(buffer.str().size() > 1000);
    return buffer.str();
  }();
  return blob;
}

const PrecompiledCharsmap& real() {
  static const PrecompiledCharsmap charsmap(real_blob());
  return charsmap;
}

void check_normalize(const PrecompiledCharsmap& charsmap, std::string_view text) {
  size_t end = 0;
  vecformer::detail::precompiled_normalize(
      charsmap, text, [&](std::string_view out, size_t b, size_t e, bool changed) {
        require(b == end && e > b && e <= text.size());
        if (!changed) require(out == text.substr(b, e - b));
        end = e;
      });
  require(end == text.size());
}

void use(const PrecompiledCharsmap& charsmap) {
  static const std::vector<std::string> probes = {
      "a",    "\xEF\xBD\x86", "\xEF\xAC\x81", "\xE2\x84\xA2", "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD",
      "\x01", "\xC2\xA0",     "\xEA\xB0\x81", "e\xCC\x81"};
  for (const auto& probe : probes) (void)charsmap.transform(probe);
  check_normalize(charsmap,
                  "\xEF\xBD\x86ull \xEF\xAC\x81 \xE2\x84\xA2 caf\xC3\xA9 e\xCC\x81\xCC\x81");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  real();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] & 3) {
    case 0:
      check_normalize(real(), input);
      break;
    case 1:
      try {
        const PrecompiledCharsmap charsmap(input);
        use(charsmap);
      } catch (const vecformer::Error& e) {
        check_message(e);
      }
      break;
    case 2: {
      if (input.size() < 3) return 0;
      std::string blob = real_blob();
      size_t at = (static_cast<uint8_t>(input[0]) | static_cast<uint8_t>(input[1]) << 8 |
                   static_cast<uint8_t>(input[2]) << 16) %
                  blob.size();
      for (size_t i = 3; i < input.size() && at < blob.size(); ++i, ++at) blob[at] ^= input[i];
      try {
        const PrecompiledCharsmap charsmap(blob);
        use(charsmap);
      } catch (const vecformer::Error& e) {
        check_message(e);
      }
      break;
    }
    default:
      try {
        (void)vecformer::detail::base64_decode(input);
      } catch (const vecformer::Error& e) {
        check_message(e);
      }
  }
  return 0;
}
