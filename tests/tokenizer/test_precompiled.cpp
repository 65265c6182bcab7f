#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "tokenizer/model_cases.hpp"
#include "tokenizer/precompiled.hpp"
#include "vecformer/error.hpp"

namespace {

namespace fs = std::filesystem;
using vecformer::Error;
using vecformer::detail::base64_decode;
using vecformer::detail::precompiled_normalize;
using vecformer::detail::PrecompiledCharsmap;

const fs::path kData = fs::path(VECFORMER_SOURCE_DIR) / "tests/tokenizer/data/precompiled";

std::string read_binary(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.is_open());
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// SentencePiece's nmt_nfkc charsmap (tools/make_charsmap.py).
const PrecompiledCharsmap& nmt_nfkc() {
  static const PrecompiledCharsmap charsmap(read_binary(kData / "nmt_nfkc.bin"));
  return charsmap;
}

// Written from RFC 4648, for round trips.
std::string base64_encode(const std::string& bytes) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = static_cast<unsigned char>(bytes[i]) << 16 |
                       static_cast<unsigned char>(bytes[i + 1]) << 8 |
                       static_cast<unsigned char>(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += alphabet[(v >> s) & 63];
  }
  if (bytes.size() - i == 1) {
    const uint32_t v = static_cast<unsigned char>(bytes[i]) << 16;
    out += alphabet[v >> 18];
    out += alphabet[(v >> 12) & 63];
    out += "==";
  } else if (bytes.size() - i == 2) {
    const uint32_t v =
        static_cast<unsigned char>(bytes[i]) << 16 | static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += alphabet[v >> 18];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string base64_error(std::string_view text) {
  try {
    base64_decode(text);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::string parse_error(const std::string& blob) {
  try {
    PrecompiledCharsmap charsmap(blob);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::string u32_le(uint32_t v) {
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(v >> (8 * i));
  return out;
}

struct Piece {
  std::string out;
  size_t begin, end;
  bool changed;
};

std::vector<Piece> pieces_of(const PrecompiledCharsmap& charsmap, std::string_view text) {
  std::vector<Piece> pieces;
  precompiled_normalize(charsmap, text, [&](std::string_view out, size_t b, size_t e, bool c) {
    pieces.push_back({std::string(out), b, e, c});
  });
  return pieces;
}

}  // namespace

TEST_CASE("precompiled: base64", "[tokenizer][precompiled]") {
  CHECK(base64_decode("") == "");
  CHECK(base64_decode("Zg==") == "f");
  CHECK(base64_decode("Zm8=") == "fo");
  CHECK(base64_decode("Zm9v") == "foo");
  CHECK(base64_decode("Zm9vYmFy") == "foobar");
  CHECK(base64_decode("+/+/") == "\xFB\xFF\xBF");
  CHECK(base64_error("Zm9") == "not valid base64: length 3 is not a multiple of 4");
  CHECK(base64_error("Zm9v\n") == "not valid base64: length 5 is not a multiple of 4");
  CHECK(base64_error("Zm-v") == "not valid base64 at character 2");
  CHECK(base64_error("Zg=v") == "not valid base64 at character 2");
  CHECK(base64_error("Z===") == "not valid base64 at character 1");
  CHECK(base64_error("Zh==") == "not valid base64 at character 1");  // unused bits set
  CHECK(base64_error("Zm9=") == "not valid base64 at character 2");
  CHECK(base64_error("Zm9vZ===") == "not valid base64 at character 5");
  std::mt19937 random(3);
  for (int n = 0; n < 200; ++n) {
    std::string bytes(static_cast<size_t>(n), '\0');
    for (char& c : bytes) c = static_cast<char>(random());
    CHECK(base64_decode(base64_encode(bytes)) == bytes);
  }
}

TEST_CASE("precompiled: the charsmap's layout and errors", "[tokenizer][precompiled]") {
  CHECK(parse_error("") == "precompiled_charsmap: 0 bytes, shorter than its 4-byte header");
  CHECK(parse_error(u32_le(8) + "1234") ==
        "precompiled_charsmap: the trie of 8 bytes is longer than the 4 bytes after the header");
  CHECK(parse_error(u32_le(0) + "a\xFF") ==
        "precompiled_charsmap: the normalized strings are not valid UTF-8");
  // An empty trie: every lookup misses.
  const PrecompiledCharsmap empty(u32_le(0));
  CHECK(!empty.transform("a").has_value());
  CHECK(precompiled_normalize(empty, "abc é") == "abc é");
  // trie_size % 4 leftover bytes are the start of the strings, as in the crate.
  CHECK(parse_error(u32_le(6) + "1234" + "xy") == "(no error)");

  // The real charsmap: a known mapping, a miss, and the first (shortest) match.
  const PrecompiledCharsmap& map = nmt_nfkc();
  CHECK(map.transform("\xEF\xBD\x86") == std::optional<std::string_view>("f"));   // ｆ
  CHECK(map.transform("\xEF\xAC\x81") == std::optional<std::string_view>("fi"));  // ﬁ
  CHECK(!map.transform("a").has_value());
  CHECK(map.transform("\xEF\xBD\x86zzz") == std::optional<std::string_view>("f"));
  CHECK(!map.transform("").has_value());
}

TEST_CASE("precompiled: normalization equals Hugging Face's on every reference text",
          "[tokenizer][precompiled]") {
  // tools/make_precompiled_cases.mjs: hard cases, manual page lines in many scripts, random text.
  std::ifstream in(kData / "nmt_nfkc_cases.jsonl", std::ios::binary);
  REQUIRE(in.is_open());
  size_t count = 0, changed = 0;
  for (std::string line; std::getline(in, line);) {
    const auto entry = nlohmann::json::parse(line);
    const std::string text = entry.at("text").get<std::string>();
    const std::string expected = entry.at("normalized").get<std::string>();
    INFO("text " << entry.at("text").dump());
    CHECK(precompiled_normalize(nmt_nfkc(), text) == expected);
    // The pieces cover the input in order; unchanged ones repeat it.
    size_t end = 0;
    for (const Piece& p : pieces_of(nmt_nfkc(), text)) {
      CHECK(p.begin == end);
      CHECK(p.end > p.begin);
      if (!p.changed) CHECK(p.out == text.substr(p.begin, p.end - p.begin));
      end = p.end;
    }
    CHECK(end == text.size());
    ++count;
    changed += text != expected;
  }
  CHECK(count > 500);
  CHECK(changed > 100);
}

TEST_CASE("precompiled: pieces are graphemes or characters", "[tokenizer][precompiled]") {
  // "ｶﾞ" (two characters, one grapheme of 6 bytes: looked up per character) then "ﬁ" (one
  // character) then plain text as one unchanged run.
  const auto pieces = pieces_of(nmt_nfkc(), "\xEF\xBD\xB6\xEF\xBE\x9E\xEF\xAC\x81xy");
  REQUIRE(pieces.size() == 4);
  CHECK((pieces[0].out == "\xE3\x82\xAB" && pieces[0].begin == 0 && pieces[0].end == 3));
  CHECK((pieces[1].out == "\xE3\x82\x99" && pieces[1].begin == 3 && pieces[1].end == 6));
  CHECK((pieces[2].out == "fi" && pieces[2].begin == 6 && pieces[2].end == 9 && pieces[2].changed));
  CHECK((pieces[3].out == "xy" && pieces[3].begin == 9 && !pieces[3].changed));
  CHECK(pieces_of(nmt_nfkc(), "").empty());
}

TEST_CASE("precompiled: a corrupt charsmap is an error or misses, never out of bounds",
          "[tokenizer][precompiled]") {
  // Run under ASan (scripts/sanitize.sh) this also proves the reads stay inside the arrays;
  // fuzz/fuzz_precompiled.cpp does the same with libFuzzer.
  const std::string real = read_binary(kData / "nmt_nfkc.bin");
  std::mt19937 random(11);
  const std::vector<std::string> probes = {
      "\xEF\xBD\x86", "a", "\xE2\x84\xA2", "\xEF\xAC\x81x", "\xF0\x9F\x98\x80", "\x01", "\xC2\xA0"};
  size_t parsed = 0;
  for (int round = 0; round < 200; ++round) {
    // Flipped bytes in the trie (the strings stay valid UTF-8), and in half the rounds a trie
    // cut short by a smaller header size, so that offsets point past its end.
    std::string blob = real;
    uint32_t trie_size = 0;  // the header's
    for (int i = 3; i >= 0; --i) trie_size = trie_size << 8 | static_cast<unsigned char>(real[i]);
    for (int flips = 0; flips < 20; ++flips)
      blob[4 + random() % trie_size] = static_cast<char>(random());
    if (round % 2) {
      const uint32_t cut = static_cast<uint32_t>(random() % 8192);
      blob = u32_le(cut) + blob.substr(4, cut) + "\0";
    }
    try {
      const PrecompiledCharsmap charsmap(blob);
      ++parsed;
      for (const auto& probe : probes) {
        const auto out = charsmap.transform(probe);
        if (out) CHECK(out->size() <= blob.size());
      }
      CHECK_NOTHROW(precompiled_normalize(charsmap, "ｆｕｌｌ ﬁ ™ é 👍🏽"));
    } catch (const Error& e) {
      CHECK(std::string(e.what()).rfind("precompiled_charsmap: ", 0) == 0);
    }
  }
  CHECK(parsed > 0);
}

TEST_CASE("precompiled: 1 MB texts take linear time", "[tokenizer][precompiled]") {
  // ICU's break iterator and one trie walk per grapheme: linear, a fraction of a second for 1 MB;
  // the bound leaves a loaded machine (and a sanitizer build) far more.
  std::string text;
  while (text.size() < (size_t{1} << 20))
    text += "ｆｕｌｌ width ﬁ café e\u0301\u0301 한국어 👍🏽 ";
  std::string out;
  const double run =
      vecformer::test::seconds([&] { out = precompiled_normalize(nmt_nfkc(), text); });
  CHECK(run < 10.0);
  CHECK(out.find("full width fi caf") == 0);
  // One grapheme of a million combining marks.
  std::string marks = "e";
  while (marks.size() < (size_t{1} << 20)) marks += "\xCC\x81";
  const double run2 =
      vecformer::test::seconds([&] { out = precompiled_normalize(nmt_nfkc(), marks); });
  CHECK(run2 < 10.0);
  CHECK(out.size() <= marks.size());
}
