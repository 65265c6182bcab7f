// Hostile model folders and inputs through the C++ API: every class in docs/RELIABILITY.md's table
// throws vecformer::Error naming the file and the field or tensor, and a Model (or Tokenizer) that
// was already loaded keeps working, bit for bit, after any of them.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "io/token_input.hpp"
#include "support/temp_path.hpp"
#include "vecformer/error.hpp"
#include "vecformer/model.hpp"
#include "vecformer/tokenizer.hpp"

using namespace vecformer;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kHidden = 8, kInner = 16, kVocab = 20, kPositions = 8;

json tiny_config() {
  return {{"model_type", "bert"},
          {"hidden_size", kHidden},
          {"num_attention_heads", 2},
          {"intermediate_size", kInner},
          {"num_hidden_layers", 1},
          {"vocab_size", kVocab},
          {"max_position_embeddings", kPositions},
          {"type_vocab_size", 2}};
}

struct RawTensor {
  std::string dtype = "F32";
  std::vector<int64_t> shape;
  std::vector<float> values;
};
using Tensors = std::map<std::string, RawTensor>;

Tensors tiny_tensors() {
  Tensors t;
  int seed = 0;
  const auto add = [&](const std::string& name, std::vector<int64_t> shape) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    RawTensor tensor{"F32", shape, std::vector<float>(static_cast<size_t>(n))};
    for (int64_t i = 0; i < n; ++i) tensor.values[i] = 0.3f * std::sin(0.7f * (i + 13 * seed));
    ++seed;
    t[name] = std::move(tensor);
  };
  add("embeddings.word_embeddings.weight", {kVocab, kHidden});
  add("embeddings.position_embeddings.weight", {kPositions, kHidden});
  add("embeddings.token_type_embeddings.weight", {2, kHidden});
  const std::string layer = "encoder.layer.0.";
  for (const char* part : {"query", "key", "value"}) {
    add(layer + "attention.self." + part + ".weight", {kHidden, kHidden});
    add(layer + "attention.self." + part + ".bias", {kHidden});
  }
  add(layer + "attention.output.dense.weight", {kHidden, kHidden});
  add(layer + "attention.output.dense.bias", {kHidden});
  add(layer + "intermediate.dense.weight", {kInner, kHidden});
  add(layer + "intermediate.dense.bias", {kInner});
  add(layer + "output.dense.weight", {kHidden, kInner});
  add(layer + "output.dense.bias", {kHidden});
  for (const std::string norm : {"attention.output.LayerNorm", "output.LayerNorm"}) {
    add(layer + norm + ".weight", {kHidden});
    add(layer + norm + ".bias", {kHidden});
  }
  return t;
}

// The header (editable before it is written) and the data section of a safetensors file.
struct Checkpoint {
  json header = json::object();
  std::string data;
};

Checkpoint layout(const Tensors& tensors) {
  Checkpoint c;
  for (const auto& [name, t] : tensors) {
    const size_t begin = c.data.size();
    c.data.append(reinterpret_cast<const char*>(t.values.data()), t.values.size() * sizeof(float));
    c.header[name] = {
        {"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {begin, c.data.size()}}};
  }
  return c;
}

std::string file_bytes(const Checkpoint& c) {
  const std::string header = c.header.dump();
  std::string out(8, '\0');
  uint64_t size = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((size >> (8 * i)) & 0xff);
  return out + header + c.data;
}

void write(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

// A model folder in a temporary directory, written from its parts.
class Folder {
 public:
  explicit Folder(const std::string& name) : temp_(name) { fs::create_directories(path()); }
  fs::path path() const { return temp_.path() / "model"; }
  fs::path config_path() const { return path() / "config.json"; }
  fs::path weights_path() const { return path() / "model.safetensors"; }

  void write_config(const json& config) const { write(config_path(), config.dump()); }
  void write_weights(const std::string& bytes) const { write(weights_path(), bytes); }
  void write_model(const json& config = tiny_config(),
                   const Tensors& tensors = tiny_tensors()) const {
    write_config(config);
    write_weights(file_bytes(layout(tensors)));
  }

 private:
  test::TempPath temp_;
};

// Model::load throws vecformer::Error whose message holds every fragment.
void expect_load_error(const Folder& folder, const std::vector<std::string>& fragments,
                       const LoadOptions& options = {}) {
  try {
    (void)Model::load(folder.path(), options);
    FAIL("Model::load accepted the folder");
  } catch (const Error& e) {
    const std::string message = e.what();
    INFO(message);
    for (const std::string& fragment : fragments) CHECK_THAT(message, Catch::Contains(fragment));
  }
}

std::vector<Sequence> good_batch() {
  return {Sequence{{1, 2, 3, 4}, {0, 0, 1, 1}}, Sequence{{19}, {}}, Sequence{{5, 6, 7}, {}}};
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape == b.shape &&
         std::memcmp(a.data.data(), b.data.data(), a.data.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE(
    "bad model folders throw Error naming the file and the field or tensor, and a loaded "
    "Model keeps working",
    "[reliability][bad-input]") {
  Folder good("good-model");
  good.write_model();
  const Model model = Model::load(good.path());
  const Tensor expected = model.encode(good_batch(), {.threads = 1});

  Folder bad("bad-model");
  SECTION("config.json") {
    bad.write_weights(file_bytes(layout(tiny_tensors())));
    SECTION("missing") {
      expect_load_error(bad, {"config.json", "cannot open"});
    }
    SECTION("not JSON") {
      write(bad.config_path(), "{\"hidden_size\": 8,");
      expect_load_error(bad, {"config.json", "not valid JSON"});
    }
    SECTION("not an object") {
      bad.write_config(json::array({1, 2}));
      expect_load_error(bad, {"config.json", "must hold a JSON object"});
    }
    SECTION("unknown model_type") {
      json c = tiny_config();
      c["model_type"] = "gpt2";
      bad.write_config(c);
      expect_load_error(bad, {"config.json", "model_type \"gpt2\" is not supported"});
    }
    SECTION("heads do not divide hidden_size") {
      json c = tiny_config();
      c["num_attention_heads"] = 3;
      bad.write_config(c);
      expect_load_error(bad, {"config.json", "'hidden_size' (8) must be divisible by",
                              "'num_attention_heads' (3)"});
    }
    SECTION("zero, negative, fractional, absurd and missing sizes") {
      const std::vector<std::pair<const char*, json>> cases = {
          {"hidden_size", 0},
          {"intermediate_size", -16},
          {"num_hidden_layers", 1.5},
          {"vocab_size", 1e30},
          {"max_position_embeddings", "8"},
          {"num_attention_heads", uint64_t{1} << 40},
      };
      for (const auto& [key, value] : cases) {
        json c = tiny_config();
        c[key] = value;
        bad.write_config(c);
        expect_load_error(bad, {"config.json", std::string("field '") + key + "'"});
      }
      json c = tiny_config();
      c.erase("vocab_size");
      bad.write_config(c);
      expect_load_error(bad, {"config.json", "missing required field 'vocab_size'"});
    }
  }
  SECTION("tensors") {
    bad.write_config(tiny_config());
    SECTION("missing") {
      Tensors t = tiny_tensors();
      t.erase("encoder.layer.0.intermediate.dense.weight");
      bad.write_weights(file_bytes(layout(t)));
      expect_load_error(
          bad, {"model.safetensors", "'encoder.layer.0.intermediate.dense.weight' is missing"});
    }
    SECTION("mis-shaped") {
      Tensors t = tiny_tensors();
      auto& key = t["encoder.layer.0.attention.self.key.weight"];
      key.shape = {kHidden, kHidden / 2};
      key.values.resize(kHidden * kHidden / 2);
      bad.write_weights(file_bytes(layout(t)));
      expect_load_error(bad, {"model.safetensors", "'encoder.layer.0.attention.self.key.weight'",
                              "has shape [8, 4], expected [8, 8]"});
    }
    SECTION("unknown dtype") {
      Checkpoint c = layout(tiny_tensors());
      c.header["embeddings.word_embeddings.weight"]["dtype"] = "F64";
      bad.write_weights(file_bytes(c));
      expect_load_error(bad, {"model.safetensors", "'embeddings.word_embeddings.weight'",
                              "unsupported dtype F64"});
    }
    SECTION("NaN and Inf in weights") {
      for (float poison :
           {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
        Tensors t = tiny_tensors();
        t["encoder.layer.0.output.dense.bias"].values[3] = poison;
        bad.write_weights(file_bytes(layout(t)));
        expect_load_error(bad, {"model.safetensors", "'encoder.layer.0.output.dense.bias'",
                                "non-finite value", "at element 3"});
      }
    }
  }
  SECTION("model.safetensors") {
    bad.write_config(tiny_config());
    const std::string whole = file_bytes(layout(tiny_tensors()));
    SECTION("missing") {
      expect_load_error(bad, {"model.safetensors"});
    }
    SECTION("empty") {
      bad.write_weights("");
      expect_load_error(bad, {"model.safetensors", "file is 0 bytes"});
    }
    SECTION("truncated") {
      bad.write_weights(whole.substr(0, whole.size() - 1));
      expect_load_error(bad, {"model.safetensors", "run past the end of the data section"});
      bad.write_weights(whole.substr(0, 100));
      expect_load_error(bad, {"model.safetensors", "runs past the end of the file"});
    }
    SECTION("header length over 100 MB") {
      std::string bytes = whole;
      const uint64_t huge = 100'000'001;
      std::memcpy(bytes.data(), &huge, 8);  // little-endian x86-64
      bad.write_weights(bytes);
      expect_load_error(bad, {"model.safetensors", "more than the limit of 100000000 bytes"});
    }
    SECTION("header not JSON") {
      std::string bytes = whole;
      bytes[8] = '[';
      bytes[9] = '!';
      bad.write_weights(bytes);
      expect_load_error(bad, {"model.safetensors", "header is not valid JSON"});
    }
    const std::string word = "embeddings.word_embeddings.weight";
    const std::string bias = "encoder.layer.0.output.dense.bias";
    const auto with_header = [&](const std::function<void(json&)>& edit) {
      Checkpoint c = layout(tiny_tensors());
      edit(c.header);
      bad.write_weights(file_bytes(c));
    };
    SECTION("offsets out of range") {
      with_header([&](json& h) { h[bias]["data_offsets"] = {1u << 20, (1u << 20) + 32}; });
      expect_load_error(
          bad, {"model.safetensors", "'" + bias + "'", "past the end of the data section"});
    }
    SECTION("offsets backwards") {
      with_header([&](json& h) { h[bias]["data_offsets"] = {64, 32}; });
      expect_load_error(bad, {"model.safetensors", "'" + bias + "'", "run backwards"});
    }
    SECTION("offsets overlapping") {
      with_header([&](json& h) { h[bias]["data_offsets"] = {0, 32}; });
      expect_load_error(bad, {"model.safetensors", "overlap"});
    }
    SECTION("data size is not shape × dtype") {
      with_header([&](json& h) { h[bias]["shape"] = {9}; });
      expect_load_error(bad, {"model.safetensors", "'" + bias + "' has 32 bytes", "needs 36"});
    }
    SECTION("shape product overflows") {
      with_header([&](json& h) { h[word]["shape"] = {uint64_t{1} << 32, uint64_t{1} << 32, 16}; });
      expect_load_error(
          bad, {"model.safetensors", "'" + word + "'", "more elements than fit in 64 bits"});
    }
  }
  SECTION("int8 inner dimensions past exact int32 accumulation") {
    // 127 · 127 · 133144 < 2^31 <= 127 · 127 · 133145; no weights are written: the check comes
    // before they are read.
    const LoadOptions int8{.backend = BackendKind::optimized, .dtype = ComputeType::int8};
    for (const char* key : {"hidden_size", "intermediate_size"}) {
      json c = tiny_config();
      c[key] = 133145;
      if (std::string(key) == "hidden_size") c["num_attention_heads"] = 5;  // 133145 = 5 · 26629
      bad.write_config(c);
      expect_load_error(
          bad,
          {"config.json", std::string("field '") + key + "' is 133145", "more than 133144", "int8"},
          int8);
    }
    json distilbert = {{"model_type", "distilbert"},
                       {"dim", kHidden},
                       {"n_heads", 2},
                       {"hidden_dim", 1 << 20},
                       {"n_layers", 1},
                       {"vocab_size", kVocab},
                       {"max_position_embeddings", kPositions}};
    bad.write_config(distilbert);
    expect_load_error(bad, {"config.json", "field 'hidden_dim' is 1048576", "more than 133144"},
                      int8);
    // At the bound, the int8 check passes and loading goes on to the (missing) weights; float32
    // never asks.
    json c = tiny_config();
    c["intermediate_size"] = 133144;
    bad.write_config(c);
    expect_load_error(bad, {"model.safetensors"}, int8);
    c["intermediate_size"] = 1 << 20;
    bad.write_config(c);
    expect_load_error(bad, {"model.safetensors"});
  }
  // Whatever failed to load, the model loaded before is untouched.
  CHECK(same_bits(model.encode(good_batch(), {.threads = 1}), expected));
}

TEST_CASE(
    "a checkpoint without a token type table has no token types: a non-zero type id is an Error",
    "[reliability][bad-input]") {
  // config.json says type_vocab_size 2, as some real checkpoints do that ship no table.
  Tensors tensors = tiny_tensors();
  tensors.erase("embeddings.token_type_embeddings.weight");
  Folder folder("no-token-types");
  folder.write_model(tiny_config(), tensors);
  const Model model = Model::load(folder.path());
  CHECK(model.config().type_vocab_size == 0);

  const std::vector<Sequence> untyped = {Sequence{{1, 2, 3}, {}}};
  const Tensor expected = model.encode(untyped, {.threads = 1});
  CHECK(same_bits(model.encode({Sequence{{1, 2, 3}, {0, 0, 0}}}, {.threads = 1}), expected));
  // Before, type 1 was accepted and silently ignored (the same output as type 0).
  CHECK_THROWS_WITH(model.encode({Sequence{{1, 2, 3}, {0, 0, 0}}, Sequence{{4, 5}, {0, 1}}}),
                    "sequence 1: token 1 has type id 1, but the model has no token types "
                    "(type_vocab_size 0, or no token type embedding in its checkpoint): every "
                    "type id must be 0");
  CHECK_THROWS_WITH(model.encode({Sequence{{4, 5}, {0, -1}}}),
                    "sequence 0: token 1 has type id -1, outside type_vocab_size (0)");
  // Token input files are checked against the loaded model's config, naming the line.
  std::istringstream lines("1 2 3\n{\"input_ids\": [4, 5], \"token_type_ids\": [0, 1]}\n");
  CHECK_THROWS_WITH(detail::read_token_input(lines, "tokens.jsonl", model.config()),
                    "tokens.jsonl:2: token 2 (type 1) must be 0 because the model has no token "
                    "types (type_vocab_size 0, or no token type embedding in its checkpoint)");
  CHECK(same_bits(model.encode(untyped, {.threads = 1}), expected));
}

TEST_CASE("a missing model folder is an Error naming it", "[reliability][bad-input]") {
  CHECK_THROWS_WITH(
      Model::load("/nonexistent/vecformer-model"),
      Catch::Contains("/nonexistent/vecformer-model") && Catch::Contains("model folder not found"));
}

TEST_CASE("bad sequences and text throw Error, and the Model and Tokenizer keep working",
          "[reliability][bad-input]") {
  Folder good("good-model-input");
  good.write_model();
  const Model model = Model::load(good.path());
  const Tensor expected = model.encode(good_batch(), {.threads = 1});
  const std::vector<std::pair<const char*, std::vector<Sequence>>> bad = {
      {"id past the vocabulary", {Sequence{{1, kVocab}, {}}}},
      {"negative id", {Sequence{{-3}, {}}}},
      {"empty sequence", {Sequence{{}, {}}}},
      {"too long", {Sequence{std::vector<int64_t>(kPositions + 1, 1), {}}}},
      {"type id out of range", {Sequence{{1, 2}, {0, 2}}}},
      {"negative type id", {Sequence{{1, 2}, {0, -1}}}},
      {"type ids of another length", {Sequence{{1, 2}, {0}}}},
  };
  for (const auto& [name, batch] : bad) {
    CAPTURE(name);
    CHECK_THROWS_AS(model.encode(batch), Error);
    CHECK(same_bits(model.encode(good_batch(), {.threads = 1}), expected));
  }
  // No sequences: an empty result, not an error.
  const Tensor none = model.encode({});
  CHECK(none.shape == std::vector<int64_t>{0, 0, kHidden});

  const Tokenizer tokenizer = Tokenizer::from_vocab({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello"});
  const std::vector<int64_t> hello = tokenizer.encode("hello");
  CHECK_THROWS_WITH(tokenizer.encode("hello \xC3("), "text is not valid UTF-8 at byte 6");
  CHECK_THROWS_AS(tokenizer.encode("hello", 1), Error);
  CHECK(tokenizer.encode("hello") == hello);
}
