#include <catch2/catch.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tokenizer/model_cases.hpp"
#include "tokenizer/unigram.hpp"
#include "vecformer/error.hpp"

namespace {

using vecformer::Error;
using vecformer::detail::ModelToken;
using vecformer::detail::PieceTrie;
using vecformer::detail::Unigram;
using vecformer::detail::UnigramConfig;

UnigramConfig config_from_json(const nlohmann::ordered_json& model) {
  UnigramConfig config;
  for (const auto& piece : model.at("vocab"))
    config.pieces.emplace_back(piece.at(0).get<std::string>(), piece.at(1).get<double>());
  if (!model.at("unk_id").is_null()) config.unk_id = model["unk_id"].get<size_t>();
  config.byte_fallback = model.value("byte_fallback", false);
  return config;
}

std::vector<ModelToken> tokenize(const Unigram& model, std::string_view word) {
  std::vector<ModelToken> tokens;
  model.tokenize(word, tokens);
  return tokens;
}

}  // namespace

TEST_CASE("unigram: ids and offsets equal Hugging Face's on every reference case",
          "[tokenizer][unigram]") {
  // Hand-made models (ties, fused unk, byte fallback, no unk_id, duplicate pieces) and random
  // ones (tools/make_model_cases.mjs).
  vecformer::test::check_model_cases(vecformer::test::read_model_cases("unigram_cases.jsonl"),
                                     [](const nlohmann::ordered_json& model) {
                                       return std::make_unique<Unigram>(config_from_json(model));
                                     });
}

TEST_CASE("unigram: Viterbi picks the best-scoring path", "[tokenizer][unigram]") {
  // Hugging Face's own doc example: "abcdacdxx" -> abcd, a, cd, xx (xx: the two unknowns fused).
  UnigramConfig config;
  config.pieces = {{"<unk>", 0.0}, {"a", 0.0},  {"b", 0.0},   {"c", 0.0},    {"d", 0.0},
                   {"cd", 1.0},    {"ab", 2.0}, {"abc", 5.0}, {"abcd", 10.0}};
  config.unk_id = 0;
  const Unigram model(config);
  const auto tokens = tokenize(model, "abcdacdxx");
  REQUIRE(tokens.size() == 4);
  CHECK((tokens[0].id == 8 && tokens[0].begin == 0 && tokens[0].end == 4));
  CHECK((tokens[1].id == 1 && tokens[1].begin == 4 && tokens[1].end == 5));
  CHECK((tokens[2].id == 5 && tokens[2].begin == 5 && tokens[2].end == 7));
  CHECK((tokens[3].id == 0 && tokens[3].begin == 7 && tokens[3].end == 9));
  CHECK(tokenize(model, "").empty());
  CHECK(model.token_to_id("abc") == 7);
  CHECK(model.token_to_id("abcde") == -1);
  CHECK(model.token_to_id("") == -1);
  REQUIRE(model.id_to_token(5) != nullptr);
  CHECK(*model.id_to_token(5) == "cd");
  CHECK(model.id_to_token(9) == nullptr);
  CHECK(model.vocab_size() == 9);
}

TEST_CASE("unigram: byte fallback pieces span the whole unknown run", "[tokenizer][unigram]") {
  UnigramConfig config;
  config.pieces = {{"<unk>", 0.0}, {"a", -1.0}, {"<0xC3>", -3.0}, {"<0xA9>", -3.0}};
  config.unk_id = 0;
  config.byte_fallback = true;
  const auto tokens = tokenize(Unigram(config), "aéé");
  REQUIRE(tokens.size() == 5);
  for (size_t i = 1; i < 5; ++i) {
    CHECK(tokens[i].id == (i % 2 ? 2 : 3));
    CHECK((tokens[i].begin == 1 && tokens[i].end == 5));
  }
  // One byte without its piece: the run is unk.
  const auto mixed = tokenize(Unigram(config), "é©");
  REQUIRE(mixed.size() == 1);
  CHECK((mixed[0].id == 0 && mixed[0].end == 4));
}

TEST_CASE("unigram: bad configurations and missing unk are errors", "[tokenizer][unigram]") {
  UnigramConfig config;
  config.pieces = {{"a", -1.0}};
  config.unk_id = 1;
  CHECK_THROWS_WITH(Unigram(config), "unk_id 1 is outside the vocabulary (1 pieces)");
  config.pieces.clear();
  config.unk_id = 0;
  CHECK_THROWS_AS(Unigram(config), Error);
  config.pieces = {{"a", -1.0}};
  config.unk_id.reset();
  const Unigram model(config);
  std::vector<ModelToken> tokens;
  CHECK_NOTHROW(model.tokenize("aa", tokens));
  CHECK_THROWS_WITH(model.tokenize("ab", tokens),
                    "an unknown character and the Unigram model has no unk_id");
}

TEST_CASE("unigram: the piece trie", "[tokenizer][unigram]") {
  const std::vector<std::string_view> pieces = {"b", "ab", "", "abc", "a", "ab", "\xFF"};
  const PieceTrie trie(pieces, {0, 1, 2, 3, 4, 5, 6});
  CHECK(trie.find("ab") == 5);  // listed twice: the last
  CHECK(trie.find("") == 2);
  CHECK(trie.find("abc") == 3);
  CHECK(trie.find("abcd") == -1);
  CHECK(trie.find("\xFF") == 6);
  std::vector<std::pair<size_t, int64_t>> found;
  trie.common_prefixes("abcd", [&](size_t length, int64_t id) { found.emplace_back(length, id); });
  CHECK(found == std::vector<std::pair<size_t, int64_t>>{{1, 4}, {2, 5}, {3, 3}});
}

TEST_CASE("unigram: 1 MB inputs take linear time", "[tokenizer][unigram]") {
  // The pass is O(n · longest piece): about 10^7 steps here, well under a second; the bound leaves
  // a loaded machine (and a sanitizer build) 20 times that. A quadratic pass would take hours.
  constexpr size_t kSize = size_t{1} << 20;
  UnigramConfig config;
  config.pieces = {{"<unk>", 0.0}, {"a", -2.0}, {"aa", -3.0},
                   {"aaaa", -5.0}, {"b", -2.0}, {"ab", -3.5}};
  config.unk_id = 0;
  const Unigram model(config);
  std::vector<ModelToken> tokens;
  const double run =
      vecformer::test::seconds([&] { model.tokenize(std::string(kSize, 'a'), tokens); });
  CHECK(run < 10.0);
  REQUIRE(tokens.size() == kSize / 4);
  CHECK(tokens.back().end == kSize);

  std::string mixed;
  while (mixed.size() < kSize) mixed += "abaé中x";
  tokens.clear();
  const double run2 = vecformer::test::seconds([&] { model.tokenize(mixed, tokens); });
  CHECK(run2 < 10.0);
  uint32_t end = 0;
  bool contiguous = true;
  for (const auto& t : tokens) {
    contiguous = contiguous && t.begin == end;
    end = t.end;
  }
  CHECK(contiguous);
  CHECK(end == mixed.size());

  // A 1 MB run of unknown characters: one fused unk.
  tokens.clear();
  model.tokenize(std::string(kSize / 2, '\xC3') + std::string(), tokens);  // invalid bytes too
  REQUIRE(tokens.size() == 1);
  CHECK((tokens[0].id == 0 && tokens[0].end == kSize / 2));
}
