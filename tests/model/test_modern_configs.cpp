// The modern families' config readers: what each key of a real folder becomes in Config, and the
// options that must be errors. (End to end, with checkpoints and the float64 references:
// tests/parity/test_modern.py.)
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "io/config_json.hpp"
#include "model/family.hpp"
#include "vecformer/config.hpp"
#include "vecformer/error.hpp"

namespace {

using nlohmann::json;
using vecformer::Activation;
using vecformer::Config;
using vecformer::FeedForward;
using vecformer::PositionEmbedding;
using vecformer::RotaryScaling;
using vecformer::detail::ConfigReader;
using vecformer::detail::find_family;

const std::filesystem::path kPath = "model/config.json";

// Through text, as a file is read: parsed non-negative integers are unsigned in nlohmann::json.
Config read(const json& object) {
  const json root = json::parse(object.dump());
  const ConfigReader reader(kPath, root);
  return find_family(reader.string("model_type", "bert"), kPath).read_config(reader);
}

void require_rejected(const json& root, const std::string& needle) {
  INFO("config: " << root.dump());
  REQUIRE_THROWS_WITH(read(root),
                      Catch::StartsWith(kPath.string() + ": ") && Catch::Contains(needle));
}

json modernbert() {
  // answerdotai/ModernBERT-base's config.json (the keys that matter), at a smaller size.
  return {{"model_type", "modernbert"},
          {"hidden_size", 64},
          {"num_attention_heads", 4},
          {"intermediate_size", 96},
          {"num_hidden_layers", 4},
          {"vocab_size", 100},
          {"max_position_embeddings", 512},
          {"hidden_activation", "gelu"},
          {"norm_eps", 1e-05},
          {"norm_bias", false},
          {"global_rope_theta", 160000.0},
          {"local_rope_theta", 10000.0},
          {"global_attn_every_n_layers", 3},
          {"local_attention", 128},
          {"classifier_pooling", "mean"}};
}

json nomic() {
  // nomic-embed-text-v1.5's config.json keys, smaller.
  return {{"model_type", "nomic_bert"},
          {"n_embd", 64},
          {"n_head", 4},
          {"n_inner", 96},
          {"n_layer", 2},
          {"n_positions", 8192},
          {"vocab_size", 30522},
          {"pad_vocab_size_multiple", 64},
          {"activation_function", "swiglu"},
          {"layer_norm_epsilon", 1e-12},
          {"rotary_emb_fraction", 1.0},
          {"rotary_emb_base", 1000},
          {"rotary_emb_interleaved", false},
          {"rotary_emb_scale_base", nullptr},
          {"rotary_scaling_factor", nullptr},
          {"max_trained_positions", 2048},
          {"qkv_proj_bias", false},
          {"prenorm", false},
          {"type_vocab_size", 2}};
}

json gte() {
  return {{"model_type", "new"},
          {"hidden_size", 64},
          {"num_attention_heads", 4},
          {"intermediate_size", 96},
          {"num_hidden_layers", 2},
          {"vocab_size", 100},
          {"max_position_embeddings", 8192},
          {"type_vocab_size", 0},
          {"rope_theta", 500000},
          {"rope_scaling", {{"type", "ntk"}, {"factor", 2.0}}},
          {"layer_norm_type", "layer_norm"},
          {"position_embedding_type", "rope"}};
}

}  // namespace

TEST_CASE("modernbert config: rotary bases, windows, gated pre-norm", "[model][config][modern]") {
  const Config c = read(modernbert());
  CHECK(c.position_embedding_type == PositionEmbedding::rotary);
  CHECK(c.feed_forward == FeedForward::gated);
  CHECK(c.norm_first);
  CHECK(c.type_vocab_size == 0);
  CHECK(c.layer_norm_eps == 1e-5);
  CHECK(c.rotary.dim == 16);
  CHECK(!c.rotary.interleaved);
  CHECK(c.rotary.base == 160000.0);
  CHECK(c.rotary.local_base == 10000.0);
  CHECK(c.local_window == 128);
  CHECK(c.global_every == 3);
  CHECK(c.layer_is_global(0));
  CHECK(!c.layer_is_global(1));
  CHECK(!c.layer_is_global(2));
  CHECK(c.layer_is_global(3));

  SECTION("rope_parameters take precedence over the old keys") {
    json j = modernbert();
    j["rope_parameters"] = {
        {"full_attention", {{"rope_type", "default"}, {"rope_theta", 5000.0}}},
        {"sliding_attention", {{"rope_type", "default"}, {"rope_theta", 50.0}}}};
    const Config r = read(j);
    CHECK(r.rotary.base == 5000.0);
    CHECK(r.rotary.local_base == 50.0);
    j["rope_parameters"]["sliding_attention"]["rope_type"] = "yarn";
    require_rejected(j, "rope_parameters.sliding_attention.rope_type");
  }
  SECTION("layer_types must follow global_attn_every_n_layers") {
    json j = modernbert();
    j["layer_types"] = {"full_attention", "sliding_attention", "sliding_attention",
                        "full_attention"};
    CHECK_NOTHROW(read(j));
    j["layer_types"][1] = "full_attention";
    require_rejected(j, "field 'layer_types' element 1");
  }
  SECTION("errors") {
    json j = modernbert();
    j["local_attention"] = 513;
    require_rejected(
        j, "field 'local_attention' (513) is larger than field 'max_position_embeddings'");
    j = modernbert();
    j["rope_scaling"] = {{"type", "linear"}};
    require_rejected(j, "field 'rope_scaling'");
    j = modernbert();
    j["hidden_activation"] = "mish";
    require_rejected(j, "field 'hidden_activation'");
    j = modernbert();
    j["head_dim"] = 16;
    CHECK_NOTHROW(read(j));
    j["head_dim"] = 8;
    require_rejected(j, "field 'head_dim' (8) differs");
    j = modernbert();
    j["num_attention_heads"] = 64;  // head dimension 1
    require_rejected(j, "odd head dimension");
  }
}

TEST_CASE("nomic_bert config: swiglu width, padded vocabulary, rotary options",
          "[model][config][modern]") {
  const Config c = read(nomic());
  CHECK(c.hidden_size == 64);
  CHECK(c.vocab_size == 30528);       // 30522 padded to a multiple of 64
  CHECK(c.intermediate_size == 256);  // NomciBertGatedMLP: 96 rounded up to 256
  CHECK(c.feed_forward == FeedForward::gated);
  CHECK(c.hidden_act == Activation::silu);
  CHECK(!c.norm_first);
  CHECK(c.layer_norm_eps == 1e-12);
  CHECK(c.position_embedding_type == PositionEmbedding::rotary);
  CHECK(c.rotary.dim == 16);
  CHECK(c.rotary.base == 1000.0);
  CHECK(c.rotary.scaling == RotaryScaling::none);
  CHECK(c.max_position_embeddings == 8192);

  json j = nomic();
  j["rotary_scaling_factor"] = 2;
  j["rotary_emb_fraction"] = 0.5;
  j["rotary_emb_interleaved"] = true;
  j["activation_function"] = "gelu_new";
  j["n_inner"] = nullptr;
  Config s = read(j);
  CHECK(s.rotary.scaling == RotaryScaling::dynamic_ntk);
  CHECK(s.rotary.scaling_factor == 2.0);
  CHECK(s.rotary.max_trained_positions == 2048);
  CHECK(s.rotary.dim == 8);
  CHECK(s.rotary.interleaved);
  CHECK(s.feed_forward == FeedForward::plain);
  CHECK(s.hidden_act == Activation::gelu_erf);  // F.gelu whatever the GELU name
  CHECK(s.intermediate_size == 256);            // 4 · n_embd

  j = nomic();
  j["rotary_emb_fraction"] = 0;
  CHECK(read(j).position_embedding_type == PositionEmbedding::learned);

  for (const char* key : {"prenorm", "causal", "use_rms_norm", "parallel_block"}) {
    j = nomic();
    j[key] = true;
    require_rejected(j, std::string("field '") + key + "' is true");
  }
  j = nomic();
  j["rotary_emb_fraction"] = 0.125;  // 2 of 16: fine
  CHECK(read(j).rotary.dim == 2);
  j["rotary_emb_fraction"] = 0.0625;  // 1: odd
  require_rejected(j, "field 'rotary_emb_fraction'");
  j = nomic();
  j["activation_function"] = "glu";
  require_rejected(j, "field 'activation_function'");
  j = nomic();
  j["num_heads_kv"] = 2;
  require_rejected(j, "field 'num_heads_kv'");
  j = nomic();
  j["rotary_emb_scale_base"] = 512;
  require_rejected(j, "field 'rotary_emb_scale_base'");
}

TEST_CASE("new (GTE) config: NTK rotary, token types, gated post-norm", "[model][config][modern]") {
  const Config c = read(gte());
  CHECK(c.type_vocab_size == 0);
  CHECK(c.feed_forward == FeedForward::gated);
  CHECK(!c.norm_first);
  CHECK(c.hidden_act == Activation::gelu_erf);
  CHECK(c.rotary.dim == 16);
  CHECK(c.rotary.base == 500000.0);
  CHECK(c.rotary.scaling == RotaryScaling::ntk);
  CHECK(c.rotary.scaling_factor == 2.0);

  json j = gte();
  j.erase("type_vocab_size");
  CHECK(read(j).type_vocab_size == 1);  // NewConfig's default
  j["position_embedding_type"] = "absolute";
  CHECK(read(j).position_embedding_type == PositionEmbedding::learned);
  j["position_embedding_type"] = "alibi";
  require_rejected(j, "field 'position_embedding_type'");
  j = gte();
  j["rope_scaling"]["mixed_b"] = 0.5;
  require_rejected(j, "field 'rope_scaling.mixed_b'");
  j = gte();
  j["rope_scaling"] = {{"type", "ntk"}};
  require_rejected(j, "field 'rope_scaling.factor'");
  j = gte();
  j["logn_attention_scale"] = true;
  require_rejected(j, "field 'logn_attention_scale'");
  j = gte();
  j["hidden_act"] = "swish";
  CHECK(read(j).hidden_act == Activation::silu);
}

TEST_CASE("bert config: JinaBERT's alibi and GLU options", "[model][config][modern]") {
  json j = {{"model_type", "bert"},
            {"hidden_size", 64},
            {"num_attention_heads", 4},
            {"intermediate_size", 96},
            {"num_hidden_layers", 2},
            {"vocab_size", 100},
            {"max_position_embeddings", 8192},
            {"position_embedding_type", "alibi"},
            {"feed_forward_type", "geglu"},
            {"hidden_act", "gelu_new"}};
  Config c = read(j);
  CHECK(c.position_embedding_type == PositionEmbedding::alibi);
  CHECK(c.feed_forward == FeedForward::gated);
  CHECK(c.hidden_act == Activation::gelu_erf);  // nn.GELU() whatever hidden_act says
  j["feed_forward_type"] = "reglu";
  CHECK(read(j).hidden_act == Activation::relu);
  j["feed_forward_type"] = "original";
  CHECK(read(j).feed_forward == FeedForward::plain);
  j["feed_forward_type"] = "swiglu";
  require_rejected(j, "field 'feed_forward_type' is \"swiglu\"");
  j["feed_forward_type"] = "geglu";
  j["model_type"] = "roberta";
  require_rejected(j, "field 'position_embedding_type' \"alibi\" is a JinaBERT option");
}
