#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "support/temp_path.hpp"
#include "vecformer/error.hpp"
#include "vecformer/tokenizer.hpp"

namespace {

namespace fs = std::filesystem;
using vecformer::Error;
using vecformer::Tokenizer;
using vecformer::TokenizerOptions;
using Ids = std::vector<int64_t>;
using Pieces = std::vector<std::string>;

const fs::path kSourceDir = VECFORMER_SOURCE_DIR;
const fs::path kVocabFolder = kSourceDir / "models/vocab/bert-base-uncased";
// The same vocabulary as tokenizer.json, the file transformers.js produced the expected ids from.
const fs::path kJsonFolder = kSourceDir / "tests/tokenizer/data/bert-base-uncased-json";

// Loading parses 30,522 tokens; once per test program is enough.
const Tokenizer& bert() {
  static const Tokenizer tokenizer = Tokenizer::load(kVocabFolder);
  return tokenizer;
}

const Tokenizer& bert_from_json() {
  static const Tokenizer tokenizer = Tokenizer::load(kJsonFolder);
  return tokenizer;
}

struct Expected {
  size_t line;
  std::string text;
  Ids ids;
};

std::vector<Expected> read_expected(const std::string& name) {
  const fs::path path = kSourceDir / "tests/tokenizer/data" / name;
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.is_open());
  std::vector<Expected> cases;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const nlohmann::json entry = nlohmann::json::parse(line);
    cases.push_back(
        {cases.size() + 1, entry.at("text").get<std::string>(), entry.at("ids").get<Ids>()});
  }
  return cases;
}

// Every line must match exactly; the failures name the line and the text.
size_t count_mismatches(const Tokenizer& tokenizer, const std::vector<Expected>& cases) {
  size_t mismatches = 0;
  for (const Expected& expected : cases) {
    const Ids ids = tokenizer.encode(expected.text);
    if (ids != expected.ids) {
      ++mismatches;
      INFO("line " << expected.line << ": " << nlohmann::json(expected.text).dump());
      CHECK(ids == expected.ids);
    }
  }
  return mismatches;
}

void write_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::string load_error(const fs::path& folder) {
  try {
    Tokenizer::load(folder);
  } catch (const Error& e) {
    return e.what();
  }
  FAIL("Tokenizer::load(" << folder << ") did not throw");
  return {};
}

// A small vocabulary where every piece is easy to follow by hand.
const std::vector<std::string> kSmallVocab = {
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "a",  "##b",
    "ab",    "##c",   "hello", "world", "!",      ",",  "cafe",  "café",   "中", "𠀀",
    "b",     "σ",     "ς",     "x",     "##x",    "i",  "##σ",   "##ς",
};

Tokenizer small(const TokenizerOptions& options = {}) {
  return Tokenizer::from_vocab(kSmallVocab, options);
}

}  // namespace

TEST_CASE("wordpiece: known bert-base-uncased ids", "[tokenizer]") {
  const Tokenizer& tokenizer = bert();
  CHECK(tokenizer.vocab_size() == 30522);
  CHECK(tokenizer.token_to_id("the") == 1996);
  CHECK(tokenizer.token_to_id("cat") == 4937);
  CHECK(tokenizer.token_to_id("[PAD]") == 0);
  CHECK(tokenizer.token_to_id("[UNK]") == 100);
  CHECK(tokenizer.token_to_id("[CLS]") == 101);
  CHECK(tokenizer.token_to_id("[SEP]") == 102);
  CHECK(tokenizer.token_to_id("[MASK]") == 103);
  CHECK(tokenizer.token_to_id("##s") == 2015);
  CHECK(tokenizer.token_to_id("not a token") == -1);
  CHECK(tokenizer.id_to_token(1996) == "the");
  CHECK_THROWS_AS(tokenizer.id_to_token(30522), Error);
  CHECK_THROWS_AS(tokenizer.id_to_token(-1), Error);

  CHECK(tokenizer.encode("the cat sat") == Ids{101, 1996, 4937, 2938, 102});
  CHECK(tokenizer.encode("The CAT sat.") == Ids{101, 1996, 4937, 2938, 1012, 102});
  CHECK(tokenizer.tokenize("unaffable tokenization") ==
        Pieces{"una", "##ffa", "##ble", "token", "##ization"});
  // Hugging Face gives an empty text its two special tokens, nothing else.
  CHECK(tokenizer.encode("") == Ids{101, 102});
  CHECK(tokenizer.tokenize(" \t\n").empty());
}

TEST_CASE("wordpiece: matches Hugging Face on expected_ids.jsonl", "[tokenizer]") {
  const std::vector<Expected> cases = read_expected("expected_ids.jsonl");
  REQUIRE(cases.size() >= 200);
  CHECK(count_mismatches(bert(), cases) == 0);
  // tokenizer.json (what transformers.js read) and vocab.txt + tokenizer_config.json agree.
  CHECK(count_mismatches(bert_from_json(), cases) == 0);
}

TEST_CASE("wordpiece: matches Hugging Face on held-out heldout_ids.jsonl", "[tokenizer]") {
  const std::vector<Expected> cases = read_expected("heldout_ids.jsonl");
  REQUIRE(cases.size() >= 200);
  CHECK(count_mismatches(bert(), cases) == 0);
  CHECK(count_mismatches(bert_from_json(), cases) == 0);
}

TEST_CASE("wordpiece: greedy longest match with ## continuations", "[tokenizer]") {
  const Tokenizer tokenizer = small();
  CHECK(tokenizer.tokenize("unaffable") == Pieces{"un", "##aff", "##able"});
  // "ab" beats "a" + "##b": the longest piece that starts the word wins.
  CHECK(tokenizer.tokenize("ab abc") == Pieces{"ab", "ab", "##c"});
  CHECK(tokenizer.tokenize("abx") == Pieces{"ab", "##x"});
  // One unmatched rest makes the whole word [UNK], not just its tail.
  CHECK(tokenizer.tokenize("abz hello") == Pieces{"[UNK]", "hello"});
  CHECK(tokenizer.tokenize("hello, world!") == Pieces{"hello", ",", "world", "!"});
  CHECK(tokenizer.encode("hello, world!") == Ids{2, 12, 15, 13, 14, 3});
}

TEST_CASE("wordpiece: words over 100 characters are [UNK]", "[tokenizer]") {
  const Tokenizer tokenizer = small();
  const Pieces hundred = tokenizer.tokenize(std::string(100, 'x'));
  REQUIRE(hundred.size() == 100);
  CHECK(hundred.front() == "x");
  CHECK(hundred.back() == "##x");
  CHECK(tokenizer.tokenize(std::string(101, 'x')) == Pieces{"[UNK]"});
  // Characters, not bytes: 100 two-byte "é" (stripped to "e" or kept) are still 100 characters.
  std::string accents;
  for (int i = 0; i < 101; ++i) accents += "\xc3\xa9";
  CHECK(tokenizer.tokenize(accents) == Pieces{"[UNK]"});
}

TEST_CASE("wordpiece: options follow BertTokenizer", "[tokenizer]") {
  CHECK(small().tokenize("CAFÉ") == Pieces{"cafe"});
  TokenizerOptions keep_accents;
  keep_accents.strip_accents = false;
  CHECK(small(keep_accents).tokenize("CAFÉ") == Pieces{"café"});
  // Nothing composes "e" + U+0301 into "é" (neither does Hugging Face's BertNormalizer), so without
  // stripping the mark stays, and "##\u0301" is not in the vocabulary.
  CHECK(small(keep_accents).tokenize("cafe\xcc\x81") == Pieces{"[UNK]"});
  TokenizerOptions cased;
  cased.lowercase = false;
  cased.strip_accents = false;
  CHECK(small(cased).tokenize("Hello hello") == Pieces{"[UNK]", "hello"});

  CHECK(small().tokenize("ab中ab") == Pieces{"ab", "中", "ab"});
  TokenizerOptions no_chinese;
  no_chinese.tokenize_chinese_chars = false;
  CHECK(small(no_chinese).tokenize("ab中ab") == Pieces{"[UNK]"});
}

TEST_CASE("wordpiece: where transformers.js differs, Rust is followed", "[tokenizer]") {
  const Tokenizer tokenizer = small();
  // U+20000 (CJK Extension B) is spaced like any ideograph; transformers.js looks at UTF-16 code
  // units and misses it.
  CHECK(tokenizer.tokenize("a\xf0\xa0\x80\x80"
                           "b") == Pieces{"a", "𠀀", "b"});
  // Unassigned code points (U+0378) stay (HF's Rust is_other() does not count Cn), private use
  // ones (U+F0000, Co) are dropped as control characters.
  CHECK(tokenizer.tokenize("a\xcd\xb8"
                           "b") == Pieces{"[UNK]"});
  CHECK(tokenizer.tokenize("a\xf3\xb0\x80\x80"
                           "b") == Pieces{"ab"});
  // Rust's char::to_lowercase, as HF's Rust tokenizers (npm `tokenizers` 0.23.2 gives these): a
  // capital sigma is always "σ", with no final-sigma rule (Python's str.lower() has one).
  CHECK(tokenizer.tokenize("xΣ") == Pieces{"x", "##σ"});
  CHECK(tokenizer.tokenize("xΣx") == Pieces{"x", "##σ", "##x"});
  CHECK(tokenizer.tokenize("Σ xΣ") == Pieces{"σ", "x", "##σ"});
  CHECK(tokenizer.tokenize("x.Σ") == Pieces{"x", "[UNK]", "σ"});
  // U+0130 lowercases to "i" + U+0307, and stripping accents leaves "i".
  CHECK(tokenizer.tokenize("İ") == Pieces{"i"});
}

TEST_CASE("wordpiece: special tokens in the text are matched as HF added tokens", "[tokenizer]") {
  const Tokenizer& tokenizer = bert();
  CHECK(tokenizer.encode("hello [SEP] world") == Ids{101, 7592, 102, 2088, 102});
  CHECK(tokenizer.encode("x[MASK]y") == Ids{101, 1060, 103, 1061, 102});
  // Case-sensitive and only the five special tokens: "[sep]" and "[unused1]" are ordinary text.
  const Pieces lowercase = tokenizer.tokenize("[sep]");
  REQUIRE(lowercase.size() >= 3);
  CHECK(lowercase.front() == "[");
  CHECK(lowercase.back() == "]");
  CHECK(tokenizer.tokenize("[unused1]").size() > 1);
}

TEST_CASE("wordpiece: truncation keeps [CLS] and [SEP]", "[tokenizer]") {
  const Tokenizer& tokenizer = bert();
  const Ids full = tokenizer.encode("the quick brown fox jumps over the lazy dog");
  REQUIRE(full.size() == 11);
  CHECK(tokenizer.encode("the quick brown fox jumps over the lazy dog", 5) ==
        Ids{101, 1996, 4248, 2829, 102});
  CHECK(tokenizer.encode("the quick brown fox", 2) == Ids{101, 102});
  CHECK(tokenizer.encode("the quick brown fox jumps over the lazy dog", 11) == full);
  CHECK(tokenizer.encode("the quick brown fox jumps over the lazy dog", 512) == full);
  CHECK_THROWS_AS(tokenizer.encode("the", 1), Error);
}

TEST_CASE("wordpiece: invalid UTF-8 names the byte", "[tokenizer]") {
  const Tokenizer tokenizer = small();
  const auto message = [&](const std::string& text) -> std::string {
    try {
      tokenizer.encode(text);
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  CHECK(message("abc\xff") == "text is not valid UTF-8 at byte 3");
  CHECK(message("\x80") == "text is not valid UTF-8 at byte 0");
  CHECK(message("ok \xe4\xb8") == "text is not valid UTF-8 at byte 3");        // truncated
  CHECK(message("\xc0\x80") == "text is not valid UTF-8 at byte 0");           // overlong NUL
  CHECK(message("ab\xe0\x80\xaf") == "text is not valid UTF-8 at byte 2");     // overlong '/'
  CHECK(message("\xed\xa0\x80") == "text is not valid UTF-8 at byte 0");       // surrogate
  CHECK(message("a\xf4\x90\x80\x80") == "text is not valid UTF-8 at byte 1");  // > U+10FFFF
  CHECK(message("\xc3\xa9\xc3") == "text is not valid UTF-8 at byte 2");
  CHECK(message("\xf0\x9f\x98\x80 ok") == "no error");
  CHECK_THROWS_AS(tokenizer.tokenize("\xfe"), Error);
}

TEST_CASE("wordpiece: load() options from tokenizer_config.json", "[tokenizer]") {
  vecformer::test::TempPath temp("tokenizer");
  std::string vocab;
  for (const std::string& token : kSmallVocab) vocab += token + "\r\n";  // CRLF lines work too
  write_file(temp.path() / "vocab.txt", vocab);
  CHECK(Tokenizer::load(temp.path()).tokenize("CAFÉ") == Pieces{"cafe"});
  CHECK(Tokenizer::load(temp.path()).token_to_id("##aff") == 6);

  write_file(temp.path() / "tokenizer_config.json", R"({"do_lower_case": false})");
  CHECK(Tokenizer::load(temp.path()).tokenize("café Café") == Pieces{"café", "[UNK]"});
  write_file(temp.path() / "tokenizer_config.json",
             R"({"do_lower_case": true, "strip_accents": false, "tokenize_chinese_chars": false})");
  CHECK(Tokenizer::load(temp.path()).tokenize("CAFÉ ab中") == Pieces{"café", "[UNK]"});
  write_file(temp.path() / "tokenizer_config.json",
             R"({"do_lower_case": true, "strip_accents": null})");
  CHECK(Tokenizer::load(temp.path()).tokenize("CAFÉ") == Pieces{"cafe"});
}

TEST_CASE("wordpiece: load() errors name the folder or file", "[tokenizer]") {
  vecformer::test::TempPath temp("tokenizer");
  const fs::path folder = temp.path();
  CHECK_THAT(load_error(folder / "missing"), Catch::Contains("missing: not a folder"));

  fs::create_directories(folder);
  CHECK_THAT(load_error(folder),
             Catch::Contains(folder.string() + ": no tokenizer.json or vocab.txt"));

  write_file(folder / "vocab.txt", "[PAD]\n[UNK]\n[SEP]\nhello\n");
  CHECK(load_error(folder) ==
        (folder / "vocab.txt").string() + ": the vocabulary has no [CLS] token");
  write_file(folder / "vocab.txt", "");
  CHECK(load_error(folder) == (folder / "vocab.txt").string() + ": empty vocabulary");
  write_file(folder / "vocab.txt", "[UNK]\n[CLS]\n[SEP]\nbad\xff\n");
  CHECK(load_error(folder) == (folder / "vocab.txt").string() + ":4: not valid UTF-8");

  write_file(folder / "vocab.txt", "[UNK]\n[CLS]\n[SEP]\n");
  write_file(folder / "tokenizer_config.json", R"({"do_lower_case": "yes"})");
  CHECK(load_error(folder) == (folder / "tokenizer_config.json").string() +
                                  ": do_lower_case must be true, false or null, got \"yes\"");
  write_file(folder / "tokenizer_config.json", "{");
  CHECK_THAT(load_error(folder),
             Catch::StartsWith((folder / "tokenizer_config.json").string() + ": not valid JSON"));
  fs::remove(folder / "tokenizer_config.json");

  const std::string json_path = (folder / "tokenizer.json").string();
  // A minimal WordPiece tokenizer.json with `fields` (the default vocabulary, normalizer and
  // pre-tokenizer when not given).
  const auto write_json = [&](const std::string& fields) {
    std::string text = "{" + fields;
    if (fields.find("\"model\"") == std::string::npos) {
      text += R"(, "model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2}})";
    }
    if (fields.find("\"pre_tokenizer\"") == std::string::npos) {
      text += R"(, "pre_tokenizer": {"type": "BertPreTokenizer"})";
    }
    write_file(folder / "tokenizer.json", text + "}");
  };

  // tokenizer.json comes first; an unknown model is an error, not a fallback to vocab.txt.
  write_json(R"("model": {"type": "WordLevel", "vocab": {}})");
  CHECK(load_error(folder) == json_path + ": model.type \"WordLevel\" is not supported");
  fs::remove(folder / "vocab.txt");

  write_json(R"("normalizer": {"type": "BertNormalizer"})");
  CHECK(Tokenizer::load(folder).vocab_size() == 3);
  write_json(
      R"("normalizer": {"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "Foo"}]})");
  CHECK(load_error(folder) ==
        json_path + ": normalizer.normalizers[1].type \"Foo\" is not supported");
  write_json(R"("normalizer": {"type": "BertNormalizer", "lowercase": 1})");
  CHECK(load_error(folder) == json_path + ": normalizer.lowercase must be true or false, got 1");
  write_json(R"("pre_tokenizer": {"type": "UnicodeScripts"})");
  CHECK(load_error(folder) ==
        json_path + ": pre_tokenizer.type \"UnicodeScripts\" is not supported");
  write_json(
      R"("post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "[X]", "type_id": 0}}], "pair": [], "special_tokens": {}})");
  CHECK(load_error(folder) == json_path +
                                  ": post_processor.single[0].SpecialToken.id \"[X]\" is not in "
                                  "post_processor.special_tokens");
  write_json(R"("model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "[CLS]": 1, "[SEP]": 5}})");
  CHECK(load_error(folder) ==
        json_path + ": model.vocab: \"[SEP]\" has id 5, but ids must run from 0 to 2");
  write_json(R"("added_tokens": [{"id": 1, "content": "[SEP]", "special": true}])");
  CHECK(load_error(folder) ==
        json_path + ": added_tokens[0]: \"[SEP]\" has id 1, which is \"[CLS]\" in model.vocab");
  write_file(folder / "tokenizer.json", "not json");
  CHECK_THAT(load_error(folder), Catch::StartsWith(json_path + ": not valid JSON"));
}

TEST_CASE("wordpiece: tokenizer.json added tokens", "[tokenizer]") {
  vecformer::test::TempPath temp("tokenizer");
  write_file(temp.path() / "tokenizer.json", R"({
    "added_tokens": [
      {"id": 3, "content": "[MASK]", "special": true, "normalized": false},
      {"id": 4, "content": "NewWord", "special": false, "normalized": true}],
    "normalizer": {"type": "BertNormalizer", "lowercase": true},
    "pre_tokenizer": {"type": "BertPreTokenizer"},
    "model": {"type": "WordPiece",
              "vocab": {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "[MASK]": 3, "x": 5, "##x": 6}}
  })");
  // Id 5 follows the added token at 4; the model's vocabulary must start at 0 without gaps.
  CHECK_THROWS_AS(Tokenizer::load(temp.path()), Error);
  write_file(temp.path() / "tokenizer.json", R"({
    "added_tokens": [
      {"id": 3, "content": "[MASK]", "special": true, "normalized": false},
      {"id": 6, "content": "NewWord", "special": false, "normalized": true}],
    "normalizer": {"type": "BertNormalizer", "lowercase": true},
    "pre_tokenizer": {"type": "BertPreTokenizer"},
    "post_processor": {"type": "BertProcessing", "cls": ["[CLS]", 1], "sep": ["[SEP]", 2]},
    "model": {"type": "WordPiece",
              "vocab": {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "[MASK]": 3, "x": 4, "##x": 5}}
  })");
  const Tokenizer tokenizer = Tokenizer::load(temp.path());
  CHECK(tokenizer.vocab_size() == 7);
  CHECK(tokenizer.token_to_id("NewWord") == 6);
  // A normalized added token matches the normalized (here lowercased) text, inside words too.
  CHECK(tokenizer.encode("xx NEWWORD xnewwordx [MASK] [mask]") ==
        Ids{1, 4, 5, 6, 4, 6, 4, 3, 0, 0, 0, 2});
}

TEST_CASE("wordpiece: one tokenizer serves many threads", "[tokenizer]") {
  const Tokenizer& tokenizer = bert();
  const std::string text = "Tokenizers are immutable after load, so encode() may run concurrently.";
  const Ids expected = tokenizer.encode(text);
  std::vector<Ids> results(4);
  std::vector<std::thread> threads;
  for (auto& result : results) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) result = tokenizer.encode(text);
    });
  }
  for (auto& thread : threads) thread.join();
  for (const Ids& result : results) CHECK(result == expected);
}
