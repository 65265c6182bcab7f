// The tokenizer pipeline's components on hand-made cases. Every expected token, offset and type id
// below is what Hugging Face's tokenizers 0.23.2 (npm `tokenizers`, the Rust library) gives for the
// same tokenizer.json: a BPE over single characters (plus the merges' results), so each token shows
// where one normalized code point or merged piece came from in the input.
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/temp_path.hpp"
#include "tokenizer/model_cases.hpp"
#include "tokenizer/normalizers.hpp"
#include "tokenizer/pre_tokenizers.hpp"
#include "tokenizer/unicode.hpp"
#include "vecformer/error.hpp"
#include "vecformer/tokenizer.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using vecformer::Error;
using vecformer::Tokenizer;
using Offsets = std::vector<std::pair<size_t, size_t>>;

struct Case {
  const char* name;
  const char* chars;   // the vocabulary: <unk> <s> </s>, these code points, then `tokens`
  const char* tokens;  // JSON array
  const char* merges;  // JSON array of pairs
  const char* normalizer;
  const char* pre_tokenizer;
  const char* post_processor;
  const char* added_tokens;
  const char* text;
  std::optional<std::string> pair;
  size_t max_length;
  std::vector<std::string> expected_tokens;
  Offsets expected_offsets;
  std::vector<int64_t> expected_type_ids;
};

std::string tokenizer_json(const Case& c) {
  json vocab = json::object();
  vocab["<unk>"] = 0;
  vocab["<s>"] = 1;
  vocab["</s>"] = 2;
  const auto add = [&](const std::string& token) {
    if (!vocab.contains(token)) vocab[token] = vocab.size();
  };
  std::vector<char32_t> chars;
  vecformer::detail::decode_utf8(c.chars, chars);
  for (const char32_t ch : chars) {
    std::string token;
    vecformer::detail::append_utf8(ch, token);
    add(token);
  }
  for (const json& token : json::parse(c.tokens)) add(token.get<std::string>());
  json root = {{"version", "1.0"},
               {"added_tokens", json::parse(c.added_tokens)},
               {"normalizer", json::parse(c.normalizer)},
               {"pre_tokenizer", json::parse(c.pre_tokenizer)},
               {"post_processor", json::parse(c.post_processor)},
               {"model",
                {{"type", "BPE"},
                 {"unk_token", "<unk>"},
                 {"vocab", vocab},
                 {"merges", json::parse(c.merges)}}}};
  return root.dump();
}

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      {"nfkc",
       "fi\xe3\x82\xab"
       "\xe3\x82\xac"
       "\xc3\xa9"
       "\xe2\x96\x81"
       " ",
       "[]",
       "[]",
       "{\"type\": \"NFKC\"}",
       "null",
       "null",
       "[]",
       "\xef\xac\x81"
       " \xef\xbd\xb6"
       "\xef\xbe\x9e"
       " e\xcc\x81",
       std::nullopt,
       0,
       {"f", "i", " ", "\xe3\x82\xac", " ", "\xc3\xa9"},
       {{0, 1}, {0, 1}, {1, 2}, {2, 3}, {4, 5}, {5, 6}},
       {0, 0, 0, 0, 0, 0}},
      {"nfd_strip_lower",
       "cae\xcc\x96",
       "[]",
       "[]",
       "{\"type\": \"Sequence\", \"normalizers\": [{\"type\": \"NFD\"}, {\"type\": "
       "\"StripAccents\"}, {\"type\": \"Lowercase\"}]}",
       "{\"type\": \"WhitespaceSplit\"}",
       "null",
       "[]",
       "\xc3\x87"
       "\xc3\xa0"
       "\xcc\x96"
       " \xc3\x89",
       std::nullopt,
       0,
       {"c", "a", "e"},
       {{0, 1}, {1, 2}, {4, 5}},
       {0, 0, 0}},
      {"replace_prepend_strip",
       "ab\xe2\x96\x81"
       "\"",
       "[]",
       "[]",
       "{\"type\": \"Sequence\", \"normalizers\": [{\"type\": \"Strip\", \"strip_left\": true, "
       "\"strip_right\": true}, {\"type\": \"Replace\", \"pattern\": {\"Regex\": \" +\"}, "
       "\"content\": \"\xe2\x96\x81"
       "\"}, {\"type\": \"Replace\", \"pattern\": {\"String\": \"``\"}, \"content\": \"\\\"\"}, "
       "{\"type\": \"Prepend\", \"prepend\": \"\xe2\x96\x81"
       "\"}]}",
       "null",
       "null",
       "[]",
       "  a   ``b  ",
       std::nullopt,
       0,
       {"\xe2\x96\x81", "a", "\xe2\x96\x81", "\"", "b"},
       {{2, 3}, {2, 3}, {5, 6}, {7, 8}, {8, 9}},
       {0, 0, 0, 0, 0}},
      {"metaspace_first",
       "\xe2\x96\x81"
       "abc",
       "[]",
       "[]",
       "null",
       "{\"type\": \"Metaspace\", \"replacement\": \"\xe2\x96\x81"
       "\", \"prepend_scheme\": \"first\", \"split\": true}",
       "null",
       "[{\"id\": 7, \"content\": \"<m>\", \"single_word\": false, \"lstrip\": true, \"rstrip\": "
       "false, \"normalized\": false, \"special\": true}]",
       "ab <m>c  a",
       std::nullopt,
       0,
       {"\xe2\x96\x81", "a", "b", " <m>", "c", "\xe2\x96\x81", "\xe2\x96\x81", "a"},
       {{0, 1}, {0, 1}, {1, 2}, {2, 6}, {6, 7}, {7, 8}, {8, 9}, {9, 10}},
       {0, 0, 0, 0, 0, 0, 0, 0}},
      {"split_isolated",
       "ab-",
       "[\"ab\"]",
       "[[\"a\", \"b\"]]",
       "null",
       "{\"type\": \"Split\", \"pattern\": {\"String\": \"-\"}, \"behavior\": \"Isolated\", "
       "\"invert\": false}",
       "null",
       "[]",
       "ab-ab--a",
       std::nullopt,
       0,
       {"ab", "-", "ab", "-", "-", "a"},
       {{0, 2}, {2, 3}, {3, 5}, {5, 6}, {6, 7}, {7, 8}},
       {0, 0, 0, 0, 0, 0}},
      {"split_removed",
       "ab-",
       "[\"ab\"]",
       "[[\"a\", \"b\"]]",
       "null",
       "{\"type\": \"Split\", \"pattern\": {\"String\": \"-\"}, \"behavior\": \"Removed\", "
       "\"invert\": false}",
       "null",
       "[]",
       "ab-ab--a",
       std::nullopt,
       0,
       {"ab", "ab", "a"},
       {{0, 2}, {3, 5}, {7, 8}},
       {0, 0, 0}},
      {"split_prev",
       "ab-",
       "[\"ab\", \"b-\"]",
       "[[\"a\", \"b\"], [\"b\", \"-\"]]",
       "null",
       "{\"type\": \"Split\", \"pattern\": {\"String\": \"-\"}, \"behavior\": "
       "\"MergedWithPrevious\", \"invert\": false}",
       "null",
       "[]",
       "ab-ab--a",
       std::nullopt,
       0,
       {"ab", "-", "ab", "-", "-", "a"},
       {{0, 2}, {2, 3}, {3, 5}, {5, 6}, {6, 7}, {7, 8}},
       {0, 0, 0, 0, 0, 0}},
      {"split_next",
       "ab-",
       "[\"ab\", \"-a\"]",
       "[[\"a\", \"b\"], [\"-\", \"a\"]]",
       "null",
       "{\"type\": \"Split\", \"pattern\": {\"String\": \"-\"}, \"behavior\": \"MergedWithNext\", "
       "\"invert\": false}",
       "null",
       "[]",
       "ab-ab--a",
       std::nullopt,
       0,
       {"ab", "-", "ab", "-", "-a"},
       {{0, 2}, {2, 3}, {3, 5}, {5, 6}, {6, 8}},
       {0, 0, 0, 0, 0}},
      {"split_contiguous",
       "ab-",
       "[\"ab\", \"--\"]",
       "[[\"a\", \"b\"], [\"-\", \"-\"]]",
       "null",
       "{\"type\": \"Split\", \"pattern\": {\"Regex\": \"-\"}, \"behavior\": \"Contiguous\", "
       "\"invert\": false}",
       "null",
       "[]",
       "ab-ab--a",
       std::nullopt,
       0,
       {"ab", "-", "ab", "--", "a"},
       {{0, 2}, {2, 3}, {3, 5}, {5, 7}, {7, 8}},
       {0, 0, 0, 0, 0}},
      {"split_invert",
       "ab-",
       "[]",
       "[]",
       "null",
       "{\"type\": \"Split\", \"pattern\": {\"Regex\": \"a+\"}, \"behavior\": \"Removed\", "
       "\"invert\": true}",
       "null",
       "[]",
       "aab-a",
       std::nullopt,
       0,
       {"a", "a", "a"},
       {{0, 1}, {1, 2}, {4, 5}},
       {0, 0, 0}},
      {"digits_punct",
       "a12.!",
       "[\"12\", \".!\"]",
       "[[\"1\", \"2\"], [\".\", \"!\"]]",
       "null",
       "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Digits\", \"individual_digits\": "
       "false}, {\"type\": \"Punctuation\", \"behavior\": \"Contiguous\"}]}",
       "null",
       "[]",
       "a12.!1",
       std::nullopt,
       0,
       {"a", "12", ".!", "1"},
       {{0, 1}, {1, 3}, {3, 5}, {5, 6}},
       {0, 0, 0, 0}},
      {"bytelevel_roberta_pair",
       "\xc4\xa0"
       "abcd\xc3\x83"
       "\xc2\xa9",
       "[\"\xc4\xa0"
       "a\", \"\xc4\xa0"
       "ab\"]",
       "[[\"\xc4\xa0"
       "\", \"a\"], [\"\xc4\xa0"
       "a\", \"b\"]]",
       "null",
       "{\"type\": \"ByteLevel\", \"add_prefix_space\": true, \"trim_offsets\": true, "
       "\"use_regex\": true}",
       "{\"type\": \"RobertaProcessing\", \"sep\": [\"</s>\", 2], \"cls\": [\"<s>\", 1], "
       "\"trim_offsets\": true, \"add_prefix_space\": true}",
       "[]",
       "ab  c\xc3\xa9",
       std::optional<std::string>(" d"),
       0,
       {"<s>",
        "\xc4\xa0"
        "ab",
        "\xc4\xa0", "\xc4\xa0", "c", "\xc3\x83", "\xc2\xa9", "</s>", "</s>", "\xc4\xa0", "d",
        "</s>"},
       {{0, 0},
        {0, 2},
        {3, 3},
        {4, 4},
        {4, 5},
        {5, 6},
        {5, 6},
        {0, 0},
        {0, 0},
        {0, 0},
        {1, 2},
        {0, 0}},
       {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
      {"template_truncate",
       "abcd",
       "[]",
       "[]",
       "null",
       "{\"type\": \"WhitespaceSplit\"}",
       "{\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\": \"<s>\", "
       "\"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}], \"pair\": "
       "[{\"SpecialToken\": {\"id\": \"<s>\", \"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\", "
       "\"type_id\": 0}}, {\"SpecialToken\": {\"id\": \"</s>\", \"type_id\": 1}}, {\"Sequence\": "
       "{\"id\": \"B\", \"type_id\": 1}}], \"special_tokens\": {\"<s>\": {\"id\": \"<s>\", "
       "\"ids\": [1], \"tokens\": [\"<s>\"]}, \"</s>\": {\"id\": \"</s>\", \"ids\": [2], "
       "\"tokens\": [\"</s>\"]}}}",
       "[]",
       "a b c d a b",
       std::optional<std::string>("c d"),
       7,
       {"<s>", "a", "b", "c", "</s>", "c", "d"},
       {{0, 0}, {0, 1}, {2, 3}, {4, 5}, {0, 0}, {0, 1}, {2, 3}},
       {0, 0, 0, 0, 1, 1, 1}},
      {"added_single_word",
       "ab",
       "[]",
       "[]",
       "{\"type\": \"Lowercase\"}",
       "null",
       "null",
       "[{\"id\": 5, \"content\": \"ab\", \"single_word\": true, \"lstrip\": false, \"rstrip\": "
       "true, \"normalized\": true, \"special\": false}]",
       "AB xab AB  b",
       std::nullopt,
       0,
       {"ab ", "<unk>", "a", "b", "<unk>", "ab  ", "b"},
       {{0, 3}, {3, 4}, {4, 5}, {5, 6}, {6, 7}, {7, 11}, {11, 12}},
       {0, 0, 0, 0, 0, 0, 0}},
  };
  return all;
}

void write_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
}

}  // namespace

TEST_CASE("pipeline: normalizers, pre-tokenizers and post-processors as Hugging Face",
          "[tokenizer][pipeline]") {
  vecformer::test::TempPath temp("pipeline");
  for (const Case& c : cases()) {
    INFO("case " << c.name);
    write_file(temp.path() / "tokenizer.json", tokenizer_json(c));
    const Tokenizer tokenizer = Tokenizer::load(temp.path());
    vecformer::EncodingOptions options;
    options.max_length = c.max_length;
    const vecformer::Encoding e = c.pair ? tokenizer.encode_pair(c.text, *c.pair, options)
                                         : tokenizer.encode_text(c.text, options);
    CHECK(e.tokens == c.expected_tokens);
    CHECK(e.offsets == c.expected_offsets);
    CHECK(e.type_ids == c.expected_type_ids);
    REQUIRE(e.ids.size() == e.tokens.size());
    for (size_t i = 0; i < e.ids.size(); ++i) {
      // Added tokens show the text they matched (lstrip / rstrip spaces included), as in HF.
      if (e.tokens[i] != tokenizer.id_to_token(e.ids[i])) CHECK(e.ids[i] >= 3);
    }
  }
}

TEST_CASE("pipeline: word ids, sequence ids and the special tokens mask", "[tokenizer][pipeline]") {
  const Tokenizer tokenizer = Tokenizer::from_vocab(
      {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "!", "##s", "x"});
  const vecformer::Encoding e = tokenizer.encode_pair("Hello worlds!", "x [MASK]");
  CHECK(e.tokens == std::vector<std::string>{"[CLS]", "hello", "world", "##s", "!", "[SEP]", "x",
                                             "[MASK]", "[SEP]"});
  CHECK(e.word_ids == std::vector<int64_t>{-1, 0, 1, 1, 2, -1, 0, 1, -1});
  CHECK(e.sequence_ids == std::vector<int32_t>{-1, 0, 0, 0, 0, -1, 1, 1, -1});
  CHECK(e.type_ids == std::vector<int64_t>{0, 0, 0, 0, 0, 0, 1, 1, 1});
  // [MASK] typed in the text is an added token, not a post-processor's special token.
  CHECK(e.special_tokens_mask == std::vector<uint8_t>{1, 0, 0, 0, 0, 1, 0, 0, 1});
  CHECK(e.offsets ==
        Offsets{{0, 0}, {0, 5}, {6, 11}, {11, 12}, {12, 13}, {0, 0}, {0, 1}, {2, 8}, {0, 0}});
  CHECK(tokenizer.cls_token().token == "[CLS]");
  CHECK(tokenizer.cls_token().id == 2);
  CHECK(tokenizer.sep_token().id == 3);
  CHECK(tokenizer.pad_token().id == 0);
  CHECK(tokenizer.mask_token().id == 4);
  CHECK(tokenizer.unk_token().id == 1);

  vecformer::EncodingOptions options;
  options.add_special_tokens = false;
  const vecformer::Encoding plain = tokenizer.encode_pair("Hello worlds!", "x", options);
  CHECK(plain.ids == std::vector<int64_t>{5, 6, 8, 7, 9});
  CHECK(plain.type_ids == std::vector<int64_t>{0, 0, 0, 0, 1});
  CHECK(plain.special_tokens_mask == std::vector<uint8_t>{0, 0, 0, 0, 0});
  // longest_first: the longer text loses tokens first; the special tokens count.
  options.add_special_tokens = true;
  options.max_length = 5;
  CHECK(tokenizer.encode_pair("Hello worlds!", "x", options).tokens ==
        std::vector<std::string>{"[CLS]", "hello", "[SEP]", "x", "[SEP]"});
  options.max_length = 2;
  CHECK_THROWS_AS(tokenizer.encode_pair("a", "b", options), Error);
}

TEST_CASE("pipeline: tokenizer.json errors name the JSON path", "[tokenizer][pipeline]") {
  vecformer::test::TempPath temp("pipeline-errors");
  const fs::path path = temp.path() / "tokenizer.json";
  const auto error = [&](const std::string& fields) -> std::string {
    write_file(path,
               R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []})" + fields + "}");
    try {
      Tokenizer::load(temp.path());
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  CHECK(
      error(
          R"(, "normalizer": {"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "Nope"}]})") ==
      path.string() + ": normalizer.normalizers[1].type \"Nope\" is not supported");
  CHECK(
      error(
          R"(, "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "("}, "behavior": "Isolated"})")
          .starts_with(path.string() + ": pre_tokenizer.pattern.Regex \"(\": "));
  CHECK(
      error(
          R"(, "pre_tokenizer": {"type": "Split", "pattern": {"String": "x"}, "behavior": "Sideways"})") ==
      path.string() + ": pre_tokenizer.behavior \"Sideways\" is not supported");
  CHECK(error(R"(, "pre_tokenizer": {"type": "Metaspace", "replacement": "ab"})") ==
        path.string() + ": pre_tokenizer.replacement must be one character, got \"ab\"");
  CHECK(
      error(
          R"(, "post_processor": {"type": "BertProcessing", "cls": ["a", 0], "sep": ["b", 7]})") ==
      path.string() +
          ": post_processor: the special token \"b\" has id 7, outside the vocabulary of 1 tokens");
  CHECK(error(R"(, "normalizer": {"type": "Precompiled", "precompiled_charsmap": "@@@"})")
            .starts_with(path.string() + ": normalizer.precompiled_charsmap: "));
  CHECK(error("") == "no error");
}

TEST_CASE("pipeline: invalid UTF-8 in a pair names the byte", "[tokenizer][pipeline]") {
  const Tokenizer tokenizer = Tokenizer::from_vocab({"[UNK]", "[CLS]", "[SEP]", "a"});
  try {
    tokenizer.encode_pair("a", "a\xff");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()) == "text is not valid UTF-8 at byte 1");
  }
}

namespace {

std::vector<std::pair<uint32_t, uint32_t>> spans(const vecformer::detail::NormalizedString& s) {
  std::vector<std::pair<uint32_t, uint32_t>> out;
  for (const auto& a : s.align) out.emplace_back(a.begin, a.end);
  return out;
}

}  // namespace

TEST_CASE("pipeline: NormalizedString alignments follow HF's transform", "[tokenizer][pipeline]") {
  using vecformer::detail::NormalizedString;
  NormalizedString s, scratch;
  s.assign_original(U"abcd", 10);
  CHECK(spans(s) ==
        std::vector<std::pair<uint32_t, uint32_t>>{{10, 11}, {11, 12}, {12, 13}, {13, 14}});
  // HF's transform: change 0 replaces the next original code point, -k also removes the k after
  // it, +1 inserts (aligned with the code point before).
  vecformer::detail::transform(s, {{'x', 0}, {'y', 1}, {'z', -1}, {'w', 0}}, 0, scratch);
  CHECK(s.chars == std::vector<char32_t>{'x', 'y', 'z', 'w'});
  CHECK(spans(s) ==
        std::vector<std::pair<uint32_t, uint32_t>>{{10, 11}, {10, 11}, {11, 12}, {13, 14}});
  // An initial offset skips (removes) code points at the start.
  s.assign_original(U"abcd", 0);
  vecformer::detail::transform(s, {{'c', 0}, {'d', 0}}, 2, scratch);
  CHECK(spans(s) == std::vector<std::pair<uint32_t, uint32_t>>{{2, 3}, {3, 4}});
  CHECK(s.span(0, 2).begin == 2);
  CHECK(s.span(0, 2).end == 4);

  // NFC of a + U+0301 + U+0316: U+00E1 takes a's place and absorbs the next code point, so U+0316
  // keeps its own (as npm tokenizers reports: offsets [0,1] and [2,3]).
  const vecformer::detail::UnicodeNormalizer nfc(vecformer::detail::NormalForm::kNFC);
  s.assign_original(U"a\u0301\u0316", 0);
  nfc.normalize(s, scratch);
  CHECK(s.chars == std::vector<char32_t>{0xE1, 0x316});
  CHECK(spans(s) == std::vector<std::pair<uint32_t, uint32_t>>{{0, 1}, {2, 3}});
  // NFKD of U+FB01 (fi): both letters come from the ligature.
  const vecformer::detail::UnicodeNormalizer nfkd(vecformer::detail::NormalForm::kNFKD);
  s.assign_original(U"x\uFB01", 0);
  nfkd.normalize(s, scratch);
  CHECK(s.chars == std::vector<char32_t>{'x', 'f', 'i'});
  CHECK(spans(s) == std::vector<std::pair<uint32_t, uint32_t>>{{0, 1}, {1, 2}, {1, 2}});
}

TEST_CASE("pipeline: RoBERTa's vocab.json + merges.txt as RobertaTokenizerFast builds it",
          "[tokenizer][pipeline]") {
  vecformer::test::TempPath temp("pipeline-roberta");
  write_file(temp.path() / "vocab.json",
             R"({"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "\u0120": 4, "a": 5, "b": 6,
                 "\u0120a": 7, "ab": 8, "\u0120ab": 9, "<mask>": 10, "\u00c3": 11, "\u00a9": 12})");
  write_file(temp.path() / "merges.txt",
             "#version: 0.2\n\xc4\xa0 a\na b\n\xc4\xa0"
             "a b\n");
  const Tokenizer tokenizer = Tokenizer::load(temp.path());
  // npm tokenizers 0.23.2 on the tokenizer.json transformers writes for this folder (ByteLevel
  // without prefix space, RobertaProcessing with trim_offsets, <mask> with lstrip).
  const vecformer::Encoding e = tokenizer.encode_pair("ab \xc3\xa9 <mask> ab", "a <s>");
  CHECK(e.ids == std::vector<int64_t>{0, 8, 4, 11, 12, 10, 9, 2, 2, 5, 4, 0, 2});
  CHECK(e.tokens == std::vector<std::string>{"<s>", "ab", "\xc4\xa0", "\xc3\x83", "\xc2\xa9",
                                             " <mask>",
                                             "\xc4\xa0"
                                             "ab",
                                             "</s>", "</s>", "a", "\xc4\xa0", "<s>", "</s>"});
  CHECK(e.offsets == Offsets{{0, 0},
                             {0, 2},
                             {3, 3},
                             {3, 4},
                             {3, 4},
                             {5, 11},
                             {12, 14},
                             {0, 0},
                             {0, 0},
                             {0, 1},
                             {2, 2},
                             {2, 5},
                             {0, 0}});
  CHECK(e.type_ids == std::vector<int64_t>(13, 0));
  CHECK(e.word_ids == std::vector<int64_t>{-1, 0, 1, 1, 1, 2, 3, -1, -1, 0, 1, 2, -1});
  CHECK(e.special_tokens_mask == std::vector<uint8_t>{1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1});
  CHECK(tokenizer.cls_token().id == 0);
  CHECK(tokenizer.sep_token().id == 2);
  CHECK(tokenizer.pad_token().id == 1);
  CHECK(tokenizer.mask_token().id == 10);
  CHECK(tokenizer.unk_token().id == 3);

  write_file(temp.path() / "merges.txt", "#version: 0.2\nab\n");
  CHECK_THROWS_WITH(Tokenizer::load(temp.path()),
                    Catch::StartsWith((temp.path() / "merges.txt").string() + ":2: "));
}

TEST_CASE("pipeline: one BPE tokenizer serves many threads (per-thread word cache and scratch)",
          "[tokenizer][pipeline]") {
  vecformer::test::TempPath temp("pipeline-threads");
  write_file(temp.path() / "vocab.json",
             R"({"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "\u0120": 4, "a": 5, "b": 6,
                 "\u0120a": 7, "ab": 8, "\u0120ab": 9, "<mask>": 10})");
  write_file(temp.path() / "merges.txt",
             "\xc4\xa0 a\na b\n\xc4\xa0"
             "a b\n");
  const Tokenizer tokenizer = Tokenizer::load(temp.path());
  // A second tokenizer in the same threads must not be served the first one's cached words.
  write_file(temp.path() / "merges.txt", "a b\n");
  const Tokenizer other = Tokenizer::load(temp.path());
  const std::vector<std::string> texts = {"ab ab a b", "b a ab", "aab abb a", ""};
  std::vector<vecformer::Encoding> expected, expected_other;
  for (const std::string& text : texts) {
    expected.push_back(tokenizer.encode_text(text));
    expected_other.push_back(other.encode_text(text));
  }
  CHECK(expected[0].ids != expected_other[0].ids);
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < mismatches.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 200; ++round) {
        for (size_t i = 0; i < texts.size(); ++i) {
          const bool first = (round + i + t) % 2 == 0;
          const vecformer::Encoding e = (first ? tokenizer : other).encode_text(texts[i]);
          const vecformer::Encoding& want = first ? expected[i] : expected_other[i];
          if (e.ids != want.ids || e.offsets != want.offsets || e.tokens != want.tokens) {
            ++mismatches[t];
          }
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(mismatches == std::vector<int>(4, 0));
}

TEST_CASE("pipeline: 1 MB words and runs go through every stage in linear time",
          "[tokenizer][pipeline][hostile]") {
  vecformer::test::TempPath temp("pipeline-hostile");
  // Byte-level BPE (GPT-2's regex, RobertaProcessing's offset trimming), then SentencePiece-style
  // NFKC + Metaspace + Unigram: the regex, the byte mapping, the alignments, the splits.
  json byte_vocab = json::object();
  for (int b = 0; b < 256; ++b) {
    std::string token;
    vecformer::detail::append_utf8(vecformer::detail::byte_to_unicode(static_cast<uint8_t>(b)),
                                   token);
    byte_vocab[token] = byte_vocab.size();
  }
  byte_vocab["<s>"] = byte_vocab.size();
  byte_vocab["</s>"] = byte_vocab.size();
  const std::string bpe =
      json{{"pre_tokenizer",
            {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"use_regex", true}}},
           {"post_processor",
            {{"type", "RobertaProcessing"}, {"cls", {"<s>", 256}}, {"sep", {"</s>", 257}}}},
           {"model", {{"type", "BPE"}, {"vocab", byte_vocab}, {"merges", json::array()}}}}
          .dump();
  const json pieces = json::array({json::array({"<unk>", 0.0}), json::array({"\xe2\x96\x81", -1.0}),
                                   json::array({"a", -2.0}), json::array({"aa", -2.5})});
  json unigram_json;
  unigram_json["normalizer"] = {{"type", "NFKC"}};
  unigram_json["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "\xe2\x96\x81"}};
  unigram_json["model"] = {{"type", "Unigram"}, {"unk_id", 0}, {"vocab", pieces}};
  const std::string unigram = unigram_json.dump();
  const std::vector<std::string> texts = {std::string(1 << 20, 'a'),
                                          std::string(1 << 20, ' ') + "x", "a" + [] {
                                            std::string marks;
                                            for (int i = 0; i < (1 << 19); ++i) marks += "\xcc\x81";
                                            return marks;
                                          }()};
  for (const std::string* config : {&bpe, &unigram}) {
    write_file(temp.path() / "tokenizer.json", *config);
    const Tokenizer tokenizer = Tokenizer::load(temp.path());
    for (const std::string& text : texts) {
      size_t chars = 0;
      for (const char c : text) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
      const auto start = std::chrono::steady_clock::now();
      const vecformer::Encoding e = tokenizer.encode_text(text);
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      INFO((config == &bpe ? "byte-level BPE" : "Unigram") << " on " << chars << " code points");
      CHECK(seconds < vecformer::test::time_limit_seconds());
      REQUIRE(!e.offsets.empty());
      size_t end = 0;
      for (const auto& offsets : e.offsets) end = std::max(end, offsets.second);
      CHECK(end <= chars);
      // Byte-level BPE has every byte in its vocabulary: every code point is in some token.
      if (config == &bpe) CHECK(end == chars);
    }
  }
}

TEST_CASE("pipeline: regular expressions use Oniguruma's \\w and \\s, as Hugging Face's",
          "[tokenizer][pipeline]") {
  vecformer::test::TempPath temp("pipeline-onig");
  // \w: letters (Alphabetic), marks, decimal digits and connector punctuation, not U+2460 (No) nor
  // U+200D (a joiner); \s: White_Space. Expected values from npm tokenizers 0.23.2.
  write_file(temp.path() / "tokenizer.json", R"({
    "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "\\w+|[^\\w\\s]+"},
                      "behavior": "Isolated", "invert": false},
    "model": {"type": "BPE", "unk_token": "<unk>",
      "vocab": {"<unk>": 0, "a": 1, "b": 2, "\u0301": 3, "\u2460": 4, "x": 5, " ": 6, "_": 7, "-": 8,
                "ab": 9, "ab\u0301": 10, "ab\u0301b": 11, "\u2460x": 12, "x_": 13, "z\u200d": 14,
                "z\u200dq": 15, "z": 16, "\u200d": 17, "q": 18, "y": 19},
      "merges": [["a", "b"], ["ab", "\u0301"], ["ab\u0301", "b"], ["\u2460", "x"], ["x", "_"],
                 ["z", "\u200d"], ["z\u200d", "q"]]}})");
  const vecformer::Encoding e = Tokenizer::load(temp.path())
                                    .encode_text(
                                        "ab\xcc\x81"
                                        "b \xe2\x91\xa0x_y - z\xe2\x80\x8dq");
  CHECK(e.ids == std::vector<int64_t>{11, 6, 4, 13, 19, 6, 8, 6, 16, 17, 18});
  CHECK(e.offsets == Offsets{{0, 4},
                             {4, 5},
                             {5, 6},
                             {6, 8},
                             {8, 9},
                             {9, 10},
                             {10, 11},
                             {11, 12},
                             {12, 13},
                             {13, 14},
                             {14, 15}});
  CHECK(e.word_ids == std::vector<int64_t>{0, 1, 2, 3, 3, 4, 5, 6, 7, 8, 9});
}
