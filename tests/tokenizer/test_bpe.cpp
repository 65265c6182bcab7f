#include <catch2/catch.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tokenizer/bpe.hpp"
#include "tokenizer/model_cases.hpp"
#include "vecformer/error.hpp"

namespace {

using vecformer::Error;
using vecformer::detail::Bpe;
using vecformer::detail::BpeConfig;
using vecformer::detail::ModelToken;
using vecformer::detail::split_merge_line;

std::string optional_string(const nlohmann::ordered_json& model, const char* key) {
  return model.contains(key) && !model[key].is_null() ? model[key].get<std::string>() : "";
}

// tokenizer.json's model object as a BpeConfig (what tok-core's loader does for real).
BpeConfig config_from_json(const nlohmann::ordered_json& model) {
  BpeConfig config;
  for (const auto& [token, id] : model.at("vocab").items())
    config.vocab.emplace_back(token, id.get<int64_t>());
  for (const auto& merge : model.at("merges")) {
    if (merge.is_string())
      config.merges.push_back(split_merge_line(merge.get<std::string>()));
    else
      config.merges.emplace_back(merge.at(0).get<std::string>(), merge.at(1).get<std::string>());
  }
  if (!model.at("unk_token").is_null()) config.unk_token = model["unk_token"].get<std::string>();
  config.continuing_subword_prefix = optional_string(model, "continuing_subword_prefix");
  config.end_of_word_suffix = optional_string(model, "end_of_word_suffix");
  config.fuse_unk = model.value("fuse_unk", false);
  config.byte_fallback = model.value("byte_fallback", false);
  config.ignore_merges = model.value("ignore_merges", false);
  return config;
}

std::vector<ModelToken> tokenize(const Bpe& bpe, std::string_view word) {
  std::vector<ModelToken> tokens;
  bpe.tokenize(word, tokens);
  return tokens;
}

std::string error_of(const BpeConfig& config) {
  try {
    Bpe bpe(config);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// a, aa, aaaa, ... up to 2^levels a's, each the merge of two of the previous.
BpeConfig doubling_config(int levels) {
  BpeConfig config;
  std::string token = "a";
  config.vocab.emplace_back(token, 0);
  for (int i = 1; i <= levels; ++i) {
    config.merges.emplace_back(token, token);
    token += token;
    config.vocab.emplace_back(token, i);
  }
  return config;
}

}  // namespace

TEST_CASE("bpe: ids and offsets equal Hugging Face's on every reference case", "[tokenizer][bpe]") {
  // Hand-made models for every option, random models and GPT-2's first 3,000 merges
  // (tools/make_model_cases.mjs).
  vecformer::test::check_model_cases(vecformer::test::read_model_cases("bpe_cases.jsonl"),
                                     [](const nlohmann::ordered_json& model) {
                                       return std::make_unique<Bpe>(config_from_json(model));
                                     });
}

TEST_CASE("bpe: merges, unk and byte fallback on a small model", "[tokenizer][bpe]") {
  BpeConfig config;
  config.vocab = {{"<unk>", 0}, {"a", 1}, {"b", 2}, {"ab", 3}, {"<0xC3>", 4}, {"<0xA9>", 5}};
  config.merges = {{"a", "b"}};
  config.unk_token = "<unk>";
  const Bpe plain(config);
  auto tokens = tokenize(plain, "abxab");
  REQUIRE(tokens.size() == 3);
  CHECK((tokens[0].id == 3 && tokens[0].begin == 0 && tokens[0].end == 2));
  CHECK((tokens[1].id == 0 && tokens[1].begin == 2 && tokens[1].end == 3));
  CHECK((tokens[2].id == 3 && tokens[2].begin == 3 && tokens[2].end == 5));
  CHECK(tokenize(plain, "xx").size() == 2);
  CHECK(tokenize(plain, "").empty());

  config.fuse_unk = true;
  tokens = tokenize(Bpe(config), "xxé");
  REQUIRE(tokens.size() == 1);
  CHECK((tokens[0].id == 0 && tokens[0].end == 4));

  config.byte_fallback = true;
  tokens = tokenize(Bpe(config), "aé");
  REQUIRE(tokens.size() == 3);
  CHECK((tokens[1].id == 4 && tokens[1].begin == 1 && tokens[1].end == 2));
  CHECK((tokens[2].id == 5 && tokens[2].begin == 2 && tokens[2].end == 3));

  config.unk_token.reset();  // unknown characters are dropped
  tokens = tokenize(Bpe(config), "xab");
  REQUIRE(tokens.size() == 1);
  CHECK((tokens[0].id == 3 && tokens[0].begin == 0 && tokens[0].end == 2));

  CHECK(plain.token_to_id("ab") == 3);
  CHECK(plain.token_to_id("ba") == -1);
  REQUIRE(plain.id_to_token(3) != nullptr);
  CHECK(*plain.id_to_token(3) == "ab");
  CHECK(plain.id_to_token(6) == nullptr);
  CHECK(plain.id_to_token(-1) == nullptr);
  CHECK(plain.vocab_size() == 6);
}

TEST_CASE("bpe: a token listed twice keeps its last id; ids may have gaps", "[tokenizer][bpe]") {
  BpeConfig config;
  config.vocab = {{"a", 5}, {"b", 9}, {"a", 7}, {"ab", 100}};
  config.merges = {{"a", "b"}};
  const Bpe bpe(config);
  CHECK(bpe.token_to_id("a") == 7);
  CHECK(bpe.id_to_token(5) == nullptr);
  REQUIRE(bpe.id_to_token(100) != nullptr);
  CHECK(*bpe.id_to_token(100) == "ab");
  CHECK(bpe.vocab_size() == 3);
  const auto tokens = tokenize(bpe, "aab");
  REQUIRE(tokens.size() == 2);
  CHECK(tokens[0].id == 7);
  CHECK(tokens[1].id == 100);
}

TEST_CASE("bpe: bad configurations are one-line errors", "[tokenizer][bpe]") {
  BpeConfig config;
  config.vocab = {{"a", 0}, {"b", 1}};
  config.merges = {{"a", "b"}};
  CHECK(error_of(config) == "merges[0]: \"ab\" is not in the vocabulary");
  config.merges = {{"a", "c\n"}};
  CHECK(error_of(config) == "merges[0]: \"c\\x0A\" is not in the vocabulary");
  config.merges = {};
  config.vocab.emplace_back("c", -1);
  CHECK(error_of(config) == "vocab[\"c\"]: id -1 is outside [0, 4294967295]");
  config.vocab.back().second = int64_t{1} << 32;
  CHECK(error_of(config) == "vocab[\"c\"]: id 4294967296 is outside [0, 4294967295]");

  BpeConfig prefixed;
  prefixed.vocab = {{"a", 0}, {"b", 1}, {"##b", 2}, {"ab", 3}};
  prefixed.continuing_subword_prefix = "##";
  prefixed.merges = {{"a", "##b"}};
  CHECK(error_of(prefixed) == "(no error)");
  prefixed.merges = {{"a", "b"}};
  CHECK(error_of(prefixed) == "merges[0]: \"b\" is shorter than the continuing_subword_prefix");

  BpeConfig missing_unk;
  missing_unk.vocab = {{"a", 0}};
  missing_unk.unk_token = "<unk>";
  const Bpe bpe(missing_unk);
  std::vector<ModelToken> tokens;
  CHECK_NOTHROW(bpe.tokenize("aa", tokens));
  CHECK_THROWS_WITH(bpe.tokenize("ab", tokens), "the unk_token \"<unk>\" is not in the vocabulary");
}

TEST_CASE("bpe: merges.txt lines", "[tokenizer][bpe]") {
  CHECK(split_merge_line("a b") == std::pair<std::string, std::string>("a", "b"));
  CHECK(split_merge_line("Ġ t") == std::pair<std::string, std::string>("Ġ", "t"));
  CHECK_THROWS_WITH(split_merge_line("ab"),
                    "merge \"ab\" is not two tokens separated by one space");
  CHECK_THROWS_AS(split_merge_line("a b c"), Error);
  CHECK_THROWS_AS(split_merge_line("a  b"), Error);
}

TEST_CASE("bpe: a 1 MB word is merged in O(n log n)", "[tokenizer][bpe]") {
  // A quadratic merge (rescanning the word per merge, as the naive algorithm does) needs about
  // 10^12 steps here, hours; the heap needs about 2·10^7. The bound leaves a loaded machine (and
  // a sanitizer build) 20 times the few tenths of a second this takes.
  constexpr size_t kSize = size_t{1} << 20;
  const Bpe doubling(doubling_config(12));  // a .. a^4096
  std::vector<ModelToken> tokens;
  const double run =
      vecformer::test::seconds([&] { doubling.tokenize(std::string(kSize, 'a'), tokens); });
  CHECK(run < 10.0);
  REQUIRE(tokens.size() == kSize / 4096);
  CHECK(tokens.back().end == kSize);

  // Alternating merges over a word where every pair is a merge candidate: ab, ba, abab, ...
  BpeConfig config;
  config.vocab = {{"a", 0}, {"b", 1}, {"ab", 2}, {"ba", 3}, {"abab", 4}, {"baba", 5}};
  config.merges = {{"b", "a"}, {"a", "b"}, {"ab", "ab"}, {"ba", "ba"}};
  const Bpe alternating(config);
  std::string word;
  for (size_t i = 0; i < kSize / 2; ++i) word += "ab";
  tokens.clear();
  const double run2 = vecformer::test::seconds([&] { alternating.tokenize(word, tokens); });
  CHECK(run2 < 10.0);
  // "b a" ranks first: a (ba)(ba)...(ba) b, then (baba) pairs.
  REQUIRE(!tokens.empty());
  CHECK(tokens.front().id == 0);
  CHECK(tokens.back().id == 1);

  // A 1 MB run of an unknown character: one unk per character, or one fused.
  BpeConfig unknown;
  unknown.vocab = {{"<unk>", 0}};
  unknown.unk_token = "<unk>";
  tokens.clear();
  Bpe(unknown).tokenize(std::string(kSize, 'z'), tokens);
  CHECK(tokens.size() == kSize);
  unknown.fuse_unk = true;
  tokens.clear();
  Bpe(unknown).tokenize(std::string(kSize, 'z'), tokens);
  REQUIRE(tokens.size() == 1);
  CHECK(tokens[0].end == kSize);
}

TEST_CASE("bpe: invalid UTF-8 stays in bounds", "[tokenizer][bpe]") {
  BpeConfig config;
  config.vocab = {{"<unk>", 0}, {"a", 1}};
  config.unk_token = "<unk>";
  const Bpe bpe(config);
  const std::string word = "a\xC3\xE2\x82\xF0\x9F\x98";
  const auto tokens = tokenize(bpe, word);
  uint32_t end = 0;
  for (const auto& t : tokens) {
    CHECK(t.begin == end);
    end = t.end;
  }
  CHECK(end == word.size());
}

TEST_CASE("bpe: tokenize from many threads", "[tokenizer][bpe]") {
  const Bpe bpe(doubling_config(6));
  const std::string word(1000, 'a');
  const auto expected = tokenize(bpe, word);
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (size_t t = 0; t < ok.size(); ++t)
    threads.emplace_back([&, t] {
      bool same = true;
      for (int i = 0; i < 200; ++i) {
        const auto tokens = tokenize(bpe, word);
        same = same && tokens.size() == expected.size() && tokens.back().id == expected.back().id;
      }
      ok[t] = same;
    });
  for (auto& thread : threads) thread.join();
  CHECK(ok == std::vector<int>(4, 1));
}
