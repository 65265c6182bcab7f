#include <catch2/catch.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "io/token_input.hpp"
#include "vecformer/error.hpp"

namespace {

using vecformer::Config;
using vecformer::Sequence;

Config small_config() {
  Config config;
  config.vocab_size = 100;
  config.type_vocab_size = 2;
  config.max_position_embeddings = 8;
  return config;
}

std::vector<Sequence> read(const std::string& text, const Config& config = small_config(),
                           size_t max_length = 0) {
  std::istringstream in(text);
  return vecformer::detail::read_token_input(in, "tokens.txt", config, max_length);
}

using Ids = std::vector<int64_t>;

}  // namespace

TEST_CASE("token input: whitespace-separated ids", "[io][tokens]") {
  const auto sequences = read("1 2 3\n\t4\t5  6 \r\n99\r\n0 007");
  REQUIRE(sequences.size() == 4);
  CHECK(sequences[0].input_ids == Ids{1, 2, 3});
  CHECK(sequences[1].input_ids == Ids{4, 5, 6});
  CHECK(sequences[2].input_ids == Ids{99});
  CHECK(sequences[3].input_ids == Ids{0, 7});
  for (const Sequence& s : sequences) CHECK(s.token_type_ids.empty());
  CHECK(read("").empty());
  // One line, one row: a blank line is not skipped but named.
  CHECK_THROWS_WITH(read("1 2\n\n3\n"), Catch::Contains("tokens.txt:2: empty line"));
  CHECK_THROWS_WITH(read("1 2\n \t\r\n"), Catch::Contains("tokens.txt:2: empty line"));
  CHECK(read("1 2 3 4 5 6 7 8\n").size() == 1);  // exactly max_position_embeddings
}

TEST_CASE("token input: JSON lines and plain lines mix", "[io][tokens]") {
  Config config = small_config();
  config.vocab_size = 200;
  const auto sequences = read(
      "{\"input_ids\": [101, 7, 102]}\n"
      "  {\"input_ids\": [1, 2], \"token_type_ids\": [0, 1]}\r\n"
      "{\"input_ids\": [3], \"attention_mask\": [1], \"text\": \"ignored\"}\n"
      "5 6\n",
      config);
  REQUIRE(sequences.size() == 4);
  CHECK(sequences[0].input_ids == Ids{101, 7, 102});
  CHECK(sequences[0].token_type_ids.empty());
  CHECK(sequences[1].input_ids == Ids{1, 2});
  CHECK(sequences[1].token_type_ids == Ids{0, 1});
  CHECK(sequences[2].input_ids == Ids{3});
  CHECK(sequences[3].input_ids == Ids{5, 6});
}

TEST_CASE("token input: bad plain tokens name the line and the token", "[io][tokens]") {
  CHECK_THROWS_AS(read("1 2\n12a\n"), vecformer::Error);
  CHECK_THROWS_WITH(read("1 2\n4 12a\n"),
                    "tokens.txt:2: token 2 (\"12a\") is not a non-negative "
                    "decimal integer");
  CHECK_THROWS_WITH(read("-3\n"), Catch::Contains("tokens.txt:1: token 1 (\"-3\") is not a"));
  CHECK_THROWS_WITH(read("+3\n"), Catch::Contains("tokens.txt:1: token 1 (\"+3\") is not a"));
  CHECK_THROWS_WITH(read("1.5\n"), Catch::Contains("tokens.txt:1: token 1 (\"1.5\") is not a"));
  CHECK_THROWS_WITH(read("1,2\n"), Catch::Contains("tokens.txt:1: token 1 (\"1,2\") is not a"));
  CHECK_THROWS_WITH(read("[1, 2]\n"), Catch::Contains("tokens.txt:1: token 1 (\"[1,\")"));
  CHECK_THROWS_WITH(read("1 99999999999999999999\n"),
                    "tokens.txt:1: token 2 (\"99999999999999999999\") is out of range");
  // Blank lines still count.
  CHECK_THROWS_WITH(read("3\n4\n1 2\nx\n"), Catch::Contains("tokens.txt:4: token 1 (\"x\")"));
}

TEST_CASE("token input: ids and lengths are checked against the config", "[io][tokens]") {
  CHECK_THROWS_WITH(read("1 2 100\n"),
                    "tokens.txt:1: token 3 (id 100) is outside the vocabulary (vocab_size 100)");
  Config bert = small_config();
  bert.vocab_size = 30522;
  CHECK_THROWS_WITH(
      read("1\n2\n1 2 40000\n", bert),
      "tokens.txt:3: token 3 (id 40000) is outside the vocabulary (vocab_size 30522)");
  CHECK_THROWS_WITH(read("1 2 3 4 5 6 7 8 9\n"),
                    "tokens.txt:1: sequence has 9 tokens, more than the model's maximum 8");
  CHECK_THROWS_WITH(read("{\"input_ids\": [1, 2, 3, 4, 5, 6, 7, 8, 9]}\n"),
                    Catch::Contains("tokens.txt:1: sequence has 9 tokens"));
}

TEST_CASE("token input: bad JSON lines name the line and the problem", "[io][tokens]") {
  CHECK_THROWS_WITH(read("1\n{\"input_ids\": [1,}\n"),
                    Catch::Contains("tokens.txt:2: not valid JSON: parse error"));
  CHECK_THROWS_WITH(read("{\"input_ids\": [1]} 2\n"),
                    Catch::Contains("tokens.txt:1: not valid JSON"));
  CHECK_THROWS_WITH(read("{\"ids\": [1]}\n"), "tokens.txt:1: missing \"input_ids\"");
  CHECK_THROWS_WITH(read("{\"input_ids\": \"1 2\"}\n"),
                    "tokens.txt:1: \"input_ids\" must be an array of integers, got \"1 2\"");
  CHECK_THROWS_WITH(read("{\"input_ids\": []}\n"), "tokens.txt:1: \"input_ids\" is empty");
  CHECK_THROWS_WITH(read("{\"input_ids\": [1, 2.5]}\n"),
                    "tokens.txt:1: token 2 of \"input_ids\" must be an integer, got 2.5");
  CHECK_THROWS_WITH(read("{\"input_ids\": [1, \"2\"]}\n"),
                    Catch::Contains("token 2 of \"input_ids\" must be an integer"));
  CHECK_THROWS_WITH(read("{\"input_ids\": [[1, 2]]}\n"),
                    Catch::Contains("token 1 of \"input_ids\" must be an integer, got [1,2]"));
  CHECK_THROWS_WITH(read("{\"input_ids\": [1, -1]}\n"),
                    "tokens.txt:1: token 2 (id -1) is outside the vocabulary (vocab_size 100)");
  CHECK_THROWS_WITH(read("{\"input_ids\": [100]}\n"),
                    Catch::Contains("token 1 (id 100) is outside the vocabulary"));
  CHECK_THROWS_WITH(read("{\"input_ids\": [18446744073709551615]}\n"),
                    Catch::Contains("token 1 (id 18446744073709551615) is outside the vocabulary"));
}

TEST_CASE("token input: token types and attention masks", "[io][tokens]") {
  CHECK_THROWS_WITH(read("{\"input_ids\": [1, 2], \"token_type_ids\": [0]}\n"),
                    "tokens.txt:1: \"token_type_ids\" has 1 entries but \"input_ids\" has 2");
  CHECK_THROWS_WITH(read("{\"input_ids\": [1, 2], \"token_type_ids\": 0}\n"),
                    Catch::Contains("\"token_type_ids\" must be an array of integers"));
  CHECK_THROWS_WITH(
      read("{\"input_ids\": [1, 2], \"token_type_ids\": [0, 2]}\n"),
      "tokens.txt:1: token 2 (type 2) is outside the type vocabulary (type_vocab_size 2)");
  CHECK_THROWS_WITH(read("{\"input_ids\": [1, 2], \"token_type_ids\": [-1, 0]}\n"),
                    Catch::Contains("token 1 (type -1) is outside the type vocabulary"));
  CHECK_THROWS_WITH(read("{\"input_ids\": [1, 2], \"token_type_ids\": [0, 0.5]}\n"),
                    Catch::Contains("token 2 of \"token_type_ids\" must be an integer"));

  Config no_types = small_config();
  no_types.type_vocab_size = 0;
  const auto zeros = read("{\"input_ids\": [1, 2], \"token_type_ids\": [0, 0]}\n", no_types);
  REQUIRE(zeros.size() == 1);
  CHECK(zeros[0].token_type_ids == Ids{0, 0});
  CHECK_THROWS_WITH(read("{\"input_ids\": [1, 2], \"token_type_ids\": [0, 1]}\n", no_types),
                    "tokens.txt:1: token 2 (type 1) must be 0 because the model has no token "
                    "types (type_vocab_size 0, or no token type embedding in its checkpoint)");

  CHECK_THROWS_WITH(read("{\"input_ids\": [1, 2], \"attention_mask\": [1, 0]}\n"),
                    Catch::Contains("tokens.txt:1: token 2 has attention_mask 0; padding is not "
                                    "supported"));
  CHECK_THROWS_WITH(read("{\"input_ids\": [1, 2], \"attention_mask\": [1]}\n"),
                    Catch::Contains("\"attention_mask\" has 1 entries"));
}

TEST_CASE("token input: max_length truncates, keeping the last id", "[io][tokens]") {
  // Line 2 is longer than the model's 8 positions: truncated first, so it is not an error.
  Config config = small_config();
  config.vocab_size = 200;  // [CLS] 101, [SEP] 102
  const auto sequences = read(
      "101 5 6 102\n101 1 2 3 4 5 6 7 8 9 102\n"
      R"({"input_ids": [101, 1, 2, 3, 102], "token_type_ids": [0, 0, 1, 1, 1]})",
      config, 4);
  REQUIRE(sequences.size() == 3);
  CHECK(sequences[0].input_ids == Ids{101, 5, 6, 102});
  CHECK(sequences[1].input_ids == Ids{101, 1, 2, 102});
  CHECK(sequences[2].input_ids == Ids{101, 1, 2, 102});
  CHECK(sequences[2].token_type_ids == Ids{0, 0, 1, 1});
  CHECK_THROWS_WITH(read("1 2 3\n", small_config(), 1), Catch::Contains("max_length 1"));
}
