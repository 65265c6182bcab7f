#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "io/config_json.hpp"
#include "support/temp_path.hpp"
#include "vecformer/config.hpp"
#include "vecformer/error.hpp"

namespace {

using vecformer::test::TempPath;

using nlohmann::json;
using vecformer::Activation;
using vecformer::Config;
using vecformer::PositionEmbedding;
using vecformer::detail::read_config;

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  REQUIRE(out.good());
}

// The required fields of a small valid config; tests change or remove one at a time.
json minimal_config() {
  return {{"hidden_size", 64},      {"num_attention_heads", 4}, {"intermediate_size", 128},
          {"num_hidden_layers", 2}, {"vocab_size", 1000},       {"max_position_embeddings", 128}};
}

Config read_json(const json& config) {
  TempPath file("config.json");
  write_text(file.path(), config.dump());
  return read_config(file.path());
}

// Requires read_config to reject `config` with a vecformer::Error naming the file and `needle`.
void require_rejected(const json& config, const std::string& needle) {
  TempPath file("config.json");
  write_text(file.path(), config.dump());
  INFO("config: " << config.dump());
  REQUIRE_THROWS_AS(read_config(file.path()), vecformer::Error);
  REQUIRE_THROWS_WITH(read_config(file.path()),
                      Catch::Contains(file.path().string() + ": ") && Catch::Contains(needle));
}

}  // namespace

TEST_CASE("config.json: a Hugging Face BERT config", "[io][config]") {
  // bert-base-uncased's config.json as published, extra keys included.
  const std::string text = R"({
    "architectures": ["BertForMaskedLM"],
    "attention_probs_dropout_prob": 0.1,
    "gradient_checkpointing": false,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1,
    "hidden_size": 768,
    "initializer_range": 0.02,
    "intermediate_size": 3072,
    "layer_norm_eps": 1e-12,
    "max_position_embeddings": 512,
    "model_type": "bert",
    "num_attention_heads": 12,
    "num_hidden_layers": 12,
    "pad_token_id": 0,
    "position_embedding_type": "absolute",
    "transformers_version": "4.6.0.dev0",
    "type_vocab_size": 2,
    "use_cache": true,
    "vocab_size": 30522
  })";
  TempPath file("config.json");
  write_text(file.path(), text);
  const Config config = read_config(file.path());
  CHECK(config.model_type == "bert");
  CHECK(config.hidden_size == 768);
  CHECK(config.num_attention_heads == 12);
  CHECK(config.head_dim() == 64);
  CHECK(config.intermediate_size == 3072);
  CHECK(config.num_hidden_layers == 12);
  CHECK(config.vocab_size == 30522);
  CHECK(config.max_position_embeddings == 512);
  CHECK(config.type_vocab_size == 2);
  CHECK(config.hidden_act == Activation::gelu_erf);
  CHECK(config.layer_norm_eps == 1e-12);
  CHECK(config.position_embedding_type == PositionEmbedding::learned);
  CHECK_FALSE(config.norm_first);
}

TEST_CASE("config.json: defaults and accepted spellings", "[io][config]") {
  SECTION("only the required fields") {
    const Config config = read_json(minimal_config());
    CHECK(config.model_type == "bert");
    CHECK(config.type_vocab_size == 2);
    CHECK(config.hidden_act == Activation::gelu_erf);
    CHECK(config.layer_norm_eps == 1e-12);
    CHECK(config.position_embedding_type == PositionEmbedding::learned);
    CHECK_FALSE(config.norm_first);
  }
  SECTION("every option set") {
    json j = minimal_config();
    j["model_type"] = "roberta";
    j["type_vocab_size"] = 0;
    j["hidden_act"] = "relu";
    j["layer_norm_eps"] = 1e-5;
    j["position_embedding_type"] = "sinusoidal";
    j["norm_first"] = true;
    const Config config = read_json(j);
    CHECK(config.model_type == "roberta");
    CHECK(config.type_vocab_size == 0);
    CHECK(config.hidden_act == Activation::relu);
    CHECK(config.layer_norm_eps == 1e-5);
    CHECK(config.position_embedding_type == PositionEmbedding::sinusoidal);
    CHECK(config.norm_first);
  }
  SECTION("activations") {
    json j = minimal_config();
    j["hidden_act"] = "gelu_new";
    CHECK(read_json(j).hidden_act == Activation::gelu_tanh);
    j["hidden_act"] = "gelu_pytorch_tanh";
    CHECK(read_json(j).hidden_act == Activation::gelu_tanh);
  }
  SECTION("no position embedding, integer epsilon") {
    json j = minimal_config();
    j["position_embedding_type"] = "none";
    j["layer_norm_eps"] = 1;
    const Config config = read_json(j);
    CHECK(config.position_embedding_type == PositionEmbedding::none);
    CHECK(config.layer_norm_eps == 1.0);
  }
  SECTION("the largest sizes allowed") {
    json j = minimal_config();
    j["hidden_size"] = 1 << 20;
    j["num_attention_heads"] = 1 << 20;
    j["vocab_size"] = 1 << 24;
    const Config config = read_json(j);
    CHECK(config.hidden_size == 1 << 20);
    CHECK(config.vocab_size == 1 << 24);
  }
}

TEST_CASE("config.json: unreadable files", "[io][config]") {
  SECTION("missing") {
    TempPath file("missing.json");
    REQUIRE_THROWS_WITH(read_config(file.path()),
                        Catch::Contains(file.path().string() + ": cannot open: No such file"));
  }
  SECTION("a directory") {
    TempPath dir("dir.json");
    std::filesystem::create_directory(dir.path());
    REQUIRE_THROWS_WITH(read_config(dir.path()), Catch::Contains("cannot open: is a directory"));
  }
  SECTION("not JSON") {
    TempPath file("config.json");
    write_text(file.path(), "{\n  \"hidden_size\": 768,\n}\n");
    REQUIRE_THROWS_WITH(read_config(file.path()),
                        Catch::Contains(file.path().string() + ": not valid JSON") &&
                            Catch::Contains("line 3, column 1"));
  }
  SECTION("not an object") {
    TempPath file("config.json");
    write_text(file.path(), "[768]");
    REQUIRE_THROWS_WITH(read_config(file.path()),
                        Catch::Contains("must hold a JSON object, got [768]"));
  }
}

TEST_CASE("config.json: invalid fields are rejected by name", "[io][config]") {
  const char* required[] = {"hidden_size",       "num_attention_heads", "intermediate_size",
                            "num_hidden_layers", "vocab_size",          "max_position_embeddings"};
  for (const char* key : required) {
    INFO("field " << key);
    json missing = minimal_config();
    missing.erase(key);
    require_rejected(missing, std::string("missing required field '") + key + "'");

    const std::string must = std::string("field '") + key + "' must be a positive integer, got ";
    for (const json& bad : {json("abc"), json(0), json(-64), json(64.5), json(64.0), json(true),
                            json(nullptr), json::array({64})}) {
      json j = minimal_config();
      j[key] = bad;
      require_rejected(j, must + bad.dump());
    }
  }

  SECTION("the exact wording for a string") {
    json j = minimal_config();
    j["hidden_size"] = "abc";
    require_rejected(j, "field 'hidden_size' must be a positive integer, got \"abc\"");
  }
  SECTION("a computed position table larger than the limit") {
    json j = minimal_config();
    j["position_embedding_type"] = "sinusoidal";
    j["max_position_embeddings"] = 1 << 20;  // × hidden 64 = 2^26: exactly the limit
    CHECK(read_json(j).max_position_embeddings == 1 << 20);
    j["hidden_size"] = 128;  // 2^27 values
    require_rejected(j, "sinusoidal positions");
    j["position_embedding_type"] = "absolute";  // a learned table is bounded by the file instead
    CHECK(read_json(j).hidden_size == 128);
  }
  SECTION("absurd sizes") {
    json j = minimal_config();
    j["num_hidden_layers"] = (1 << 20) + 1;
    require_rejected(j, "field 'num_hidden_layers' is 1048577, more than the limit 1048576");
    j = minimal_config();
    j["vocab_size"] = (1 << 24) + 1;
    require_rejected(j, "field 'vocab_size' is 16777217, more than the limit 16777216");
    j = minimal_config();
    j["max_position_embeddings"] = 18446744073709551615ull;
    require_rejected(j, "field 'max_position_embeddings' is 18446744073709551615");
  }
  SECTION("heads must divide hidden_size") {
    json j = minimal_config();
    j["num_attention_heads"] = 5;
    require_rejected(j,
                     "field 'hidden_size' (64) must be divisible by field "
                     "'num_attention_heads' (5)");
  }
  SECTION("type_vocab_size") {
    json j = minimal_config();
    j["type_vocab_size"] = -1;
    require_rejected(j, "field 'type_vocab_size' must be a non-negative integer, got -1");
    j["type_vocab_size"] = "2";
    require_rejected(j, "field 'type_vocab_size' must be a non-negative integer, got \"2\"");
    j["type_vocab_size"] = (1 << 20) + 1;
    require_rejected(j, "field 'type_vocab_size' is 1048577, more than the limit");
  }
  SECTION("hidden_act") {
    json j = minimal_config();
    j["hidden_act"] = "mish";
    require_rejected(j,
                     "field 'hidden_act' is \"mish\", which is not supported (supported: "
                     "gelu, gelu_new, gelu_pytorch_tanh, relu, silu, swish)");
    j["hidden_act"] = 1;
    require_rejected(j, "field 'hidden_act' must be a non-empty string, got 1");
  }
  SECTION("position_embedding_type") {
    json j = minimal_config();
    j["position_embedding_type"] = "relative_key";
    require_rejected(j,
                     "field 'position_embedding_type' is \"relative_key\", which is not "
                     "supported (supported: absolute, sinusoidal, none, alibi)");
  }
  SECTION("layer_norm_eps") {
    for (const json& bad : {json(0), json(-1e-5), json("1e-12"), json(nullptr)}) {
      json j = minimal_config();
      j["layer_norm_eps"] = bad;
      require_rejected(j, "field 'layer_norm_eps' must be a positive number, got " + bad.dump());
    }
  }
  SECTION("norm_first and model_type") {
    json j = minimal_config();
    j["norm_first"] = "yes";
    require_rejected(j, "field 'norm_first' must be true or false, got \"yes\"");
    j = minimal_config();
    j["model_type"] = "";
    require_rejected(j, "field 'model_type' must be a non-empty string, got \"\"");
  }
  SECTION("long values are shortened in the message") {
    json j = minimal_config();
    j["hidden_size"] = std::string(500, 'x');
    TempPath file("config.json");
    write_text(file.path(), j.dump());
    try {
      read_config(file.path());
      FAIL("no error");
    } catch (const vecformer::Error& e) {
      CHECK(std::string(e.what()).size() < 200);
      CHECK_THAT(e.what(), Catch::EndsWith("..."));
    }
  }
}

TEST_CASE("config: names print as config.json spells them", "[io][config]") {
  CHECK(vecformer::to_string(Activation::gelu_erf) == "gelu");
  CHECK(vecformer::to_string(Activation::gelu_tanh) == "gelu_new");
  CHECK(vecformer::to_string(Activation::relu) == "relu");
  CHECK(vecformer::to_string(PositionEmbedding::learned) == "absolute");
  CHECK(vecformer::to_string(PositionEmbedding::sinusoidal) == "sinusoidal");
  CHECK(vecformer::to_string(PositionEmbedding::none) == "none");
}
