// Inputs built to hurt the readers rather than to be wrong in one field: error messages that would
// carry terminal escapes or megabytes of the input, JSON nested deep enough to overflow a recursive
// printer, and texts on which a tokenizer step used to take quadratic time. Each was found while
// fuzzing or reviewing for docs/RELIABILITY.md; these pin the fixes.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "io/config_json.hpp"
#include "io/safetensors.hpp"
#include "io/token_input.hpp"
#include "model/sentence_transformers.hpp"
#include "support/temp_path.hpp"
#include "tokenizer/unicode.hpp"
#include "vecformer/error.hpp"
#include "vecformer/tokenizer.hpp"

using namespace vecformer;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

std::string safetensors_bytes(const std::string& header, const std::string& data = "") {
  std::string out(8, '\0');
  const uint64_t size = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((size >> (8 * i)) & 0xff);
  return out + header + data;
}

// The message of the Error that `call` throws.
template <class Call>
std::string error_of(Call call) {
  try {
    call();
  } catch (const Error& e) {
    return e.what();
  }
  FAIL("no vecformer::Error thrown");
  return "";
}

// One line of printable ASCII, as every message naming input must be.
bool printable_ascii(const std::string& message) {
  for (const char c : message) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) return false;
  }
  return true;
}

Config small_config() {
  Config config;
  config.hidden_size = 8;
  config.num_attention_heads = 2;
  config.intermediate_size = 16;
  config.num_hidden_layers = 1;
  config.vocab_size = 100;
  config.max_position_embeddings = 16;
  config.type_vocab_size = 2;
  return config;
}

std::string token_input_error(const std::string& text) {
  std::istringstream in(text);
  return error_of([&] { detail::read_token_input(in, "tokens.txt", small_config()); });
}

}  // namespace

TEST_CASE("input bytes in error messages are escaped and bounded", "[reliability][hostile]") {
  // A token with a terminal escape (clear screen), a NUL and invalid UTF-8.
  const char raw[] = "1 2\n3 \x1b[2J\0\xff\n";
  std::string message = token_input_error(std::string(raw, sizeof raw - 1));
  CHECK(message ==
        "tokens.txt:2: token 2 (\"\\x1B[2J\\x00\\xFF\") is not a non-negative decimal integer");

  // A megabyte-long token is quoted by its first 40 bytes.
  message = token_input_error("1 " + std::string(1 << 20, 'x') + "\n");
  CHECK(message.size() < 200);
  CHECK_THAT(message, Catch::Contains("\"" + std::string(40, 'x') + "...\""));

  // JSON strings are escaped as JSON: non-ASCII and control characters as \uXXXX.
  message = token_input_error("{\"input_ids\": [\"\\u001b[31m\xc3\xa9\"]}\n");
  CHECK_THAT(message, Catch::Contains("got \"\\u001b[31m\\u00e9\""));
  CHECK(printable_ascii(message));

  // Names and values from a safetensors header and from config.json.
  test::TempPath temp("hostile-names");
  fs::create_directories(temp.path());
  const fs::path weights = temp.path() / "model.safetensors";
  write(weights, safetensors_bytes(
                     "{\"t\\u001b]0;pwned\\u0007\": {\"dtype\": \"F\\u009b32\", \"shape\": [1], "
                     "\"data_offsets\": [0, 4]}}",
                     std::string(4, '\0')));
  message = error_of([&] { detail::SafetensorsFile::open(weights); });
  CHECK(printable_ascii(message));
  CHECK_THAT(message,
             Catch::Contains("tensor 't\\x1B]0;pwned\\x07' has unsupported dtype F\\xC2\\x9B32"));

  const std::string long_name(1 << 20, 'n');
  write(weights, safetensors_bytes("{\"" + long_name +
                                       "\": {\"dtype\": \"F32\", \"shape\": [2], "
                                       "\"data_offsets\": [0, 4]}}",
                                   std::string(4, '\0')));
  message = error_of([&] { detail::SafetensorsFile::open(weights); });
  CHECK(message.size() < 500);
  CHECK_THAT(message, Catch::Contains("has 4 bytes but shape [2] of F32 needs 8"));

  std::string shape = "[1";
  for (int i = 0; i < 100000; ++i) shape += ",1";
  write(weights, safetensors_bytes("{\"x\": {\"dtype\": \"F32\", \"shape\": " + shape +
                                       "], \"data_offsets\": [0, 8]}}",
                                   std::string(8, '\0')));
  message = error_of([&] { detail::SafetensorsFile::open(weights); });
  CHECK(message.size() < 500);
  CHECK_THAT(message, Catch::Contains("(100001 dimensions)] of F32 needs 4"));

  const fs::path config = temp.path() / "config.json";
  write(config,
        "{\"hidden_size\": 8, \"num_attention_heads\": 2, \"intermediate_size\": 16, "
        "\"num_hidden_layers\": 1, \"vocab_size\": 10, \"max_position_embeddings\": 8, "
        "\"hidden_act\": \"\\u001b[2Jmish\"}");
  message = error_of([&] { detail::read_config(config); });
  CHECK(message == config.string() +
                       ": field 'hidden_act' is \"\\x1B[2Jmish\", which is not supported "
                       "(supported: gelu, gelu_new, gelu_pytorch_tanh, relu, silu, swish)");
}

TEST_CASE("sentence-transformers values in error messages are escaped", "[reliability][hostile]") {
  test::TempPath temp("hostile-modules");
  fs::create_directories(temp.path() / "pool");
  const fs::path modules = temp.path() / "modules.json";
  const auto layout_error = [&](const std::string& json_text) {
    write(modules, json_text);
    return error_of([&] { detail::read_model_layout(temp.path()); });
  };
  // A terminal escape (clear screen), a NUL, and U+009B (a C1 CSI; UTF-8 C2 9B) in module types.
  std::string message = layout_error("[{\"type\": \"x\\u001b[2J\\u0000\\u009b\", \"path\": \"\"}]");
  CHECK(message == modules.string() +
                       ": module 0 has type \"x\\x1B[2J\\x00\\xC2\\x9B\", which is not a "
                       "sentence-transformers module");
  message = layout_error(
      "[{\"type\": \"sentence_transformers.models.\\u001b]0;pwned\\u0007\", \"path\": \"\"}]");
  CHECK(printable_ascii(message));
  CHECK_THAT(message,
             Catch::Contains("has type \"sentence_transformers.models.\\x1B]0;pwned\\x07\""));
  // A module path goes into later messages as a path: control characters are refused up front.
  message = layout_error(
      "[{\"type\": \"sentence_transformers.models.Transformer\", \"path\": \"t\\u001b[2J\"}]");
  CHECK(message ==
        modules.string() + ": module 0 has path \"t\\x1B[2J\", which holds control characters");
  // A pooling key from the file.
  write(temp.path() / "pool" / "config.json", "{\"pooling_mode_\\u001b[31m\": true}");
  message =
      layout_error("[{\"type\": \"sentence_transformers.models.Pooling\", \"path\": \"pool\"}]");
  CHECK(printable_ascii(message));
  CHECK_THAT(message, Catch::Contains("field 'pooling_mode_\\x1B[31m' is true"));
}

TEST_CASE("deeply nested JSON is an Error, not a stack overflow", "[reliability][hostile]") {
  // A million levels: nlohmann parses and frees these without recursion, but its dump() recurses
  // once per level, and the messages used to quote the offending value with it.
  const size_t depth = 1'000'000;
  const std::string nested = std::string(depth, '[') + std::string(depth, ']');
  test::TempPath temp("hostile-deep");
  fs::create_directories(temp.path());

  const fs::path config = temp.path() / "config.json";
  write(config, nested);
  CHECK_THAT(error_of([&] { detail::read_config(config); }),
             Catch::Contains("must hold a JSON object, got [[[[[["));

  const fs::path weights = temp.path() / "model.safetensors";
  write(weights, safetensors_bytes("{\"x\": {\"dtype\": \"F32\", \"shape\": " + nested +
                                   ", \"data_offsets\": [0, 0]}}"));
  CHECK_THAT(error_of([&] { detail::SafetensorsFile::open(weights); }),
             Catch::Contains("shape must be an array of non-negative integers, got [[[[[["));

  CHECK_THAT(token_input_error("{\"input_ids\": [" + nested + "]}\n"),
             Catch::Contains("token 1 of \"input_ids\" must be an integer, got [[[[[["));

  write(temp.path() / "tokenizer.json", "{\"model\": " + nested + "}");
  CHECK_THAT(error_of([&] { Tokenizer::load(temp.path()); }),
             Catch::Contains("model must be an object, got [[[[[["));
}

TEST_CASE("a long run of combining marks is put in canonical order", "[reliability][hostile]") {
  // U+0301 (class 230) and U+0316 (class 220) alternating: canonical ordering moves every U+0316
  // before every U+0301, stably. An insertion sort took minutes over this (quadratic).
  const size_t pairs = 100'000;
  std::vector<char32_t> text{U'a'};
  for (size_t i = 0; i < pairs; ++i) {
    text.push_back(0x301);
    text.push_back(0x316);
  }
  std::vector<char32_t> nfd;
  detail::append_nfd(text, nfd);
  std::vector<char32_t> expected{U'a'};
  expected.insert(expected.end(), pairs, 0x316);
  expected.insert(expected.end(), pairs, 0x301);
  CHECK(nfd == expected);

  // Runs end at starters; a decomposed character's own marks join the run around them.
  nfd.clear();
  detail::append_nfd(std::u32string_view(U"\u00e9\u0316x\u0301\u0316"), nfd);
  CHECK(nfd == std::vector<char32_t>{U'e', 0x316, 0x301, U'x', 0x316, 0x301});
}

TEST_CASE("a very long word with a large max_input_chars_per_word is split in linear time",
          "[reliability][hostile]") {
  // tokenizer.json may raise max_input_chars_per_word; the longest-match search then must not try
  // every end of the word from every start.
  test::TempPath temp("hostile-word");
  fs::create_directories(temp.path());
  write(temp.path() / "tokenizer.json",
        R"({"model": {"type": "WordPiece", "max_input_chars_per_word": 1000000000,
            "vocab": {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "a": 3, "##a": 4, "##aa": 5}},
            "normalizer": null, "pre_tokenizer": {"type": "BertPreTokenizer"},
            "post_processor": {"type": "BertProcessing", "cls": ["[CLS]", 1], "sep": ["[SEP]", 2]}})");
  const Tokenizer tokenizer = Tokenizer::load(temp.path());
  const size_t length = 200'001;
  const std::vector<int64_t> ids = tokenizer.encode(std::string(length, 'a'));
  // [CLS] a ##aa ... ##aa [SEP]: greedy longest match takes "##aa" whenever two are left.
  REQUIRE(ids.size() == 2 + 1 + (length - 1) / 2);
  CHECK(ids[1] == 3);
  CHECK(ids[2] == 5);
  CHECK(ids[ids.size() - 2] == 5);
}
