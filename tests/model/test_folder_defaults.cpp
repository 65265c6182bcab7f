// What a model folder decides when EncodeOptions leave it unset: sentence-transformers' Pooling and
// Normalize modules, as sentence-transformers itself applies them.
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <string>

#include "support/temp_path.hpp"
#include "vecformer/model.hpp"

using namespace vecformer;

namespace {

const std::string kMiniSentence = VECFORMER_SOURCE_DIR "/models/mini-sentence";
const std::string kTinyBert = VECFORMER_SOURCE_DIR "/models/tiny-bert";  // a 128-position table

// tiny-bert with one extra file in it.
std::filesystem::path tiny_bert_with(const test::TempPath& folder, const std::string& name,
                                     const std::string& text) {
  std::filesystem::copy(kTinyBert, folder.path());
  std::ofstream(folder.path() / name) << text;
  return folder.path();
}

double row_norm(const float* row, int64_t size) {
  double sum = 0.0;
  for (int64_t i = 0; i < size; ++i) sum += static_cast<double>(row[i]) * row[i];
  return std::sqrt(sum);
}

}  // namespace

TEST_CASE("the folder's Normalize applies to pooled output only, unless asked", "[model][folder]") {
  const Model model = Model::load(kMiniSentence, {.backend = BackendKind::reference});
  REQUIRE(model.default_normalize());
  const std::vector<Sequence> batch = {{{101, 7592, 2088, 102}, {}}};
  const int64_t hidden = model.config().hidden_size;

  const Tensor pooled = model.encode(batch);
  REQUIRE(pooled.shape == std::vector<int64_t>{1, hidden});
  CHECK(row_norm(pooled.data.data(), hidden) == Approx(1.0).margin(1e-6));  // float rounding

  // sentence-transformers' output_value="token_embeddings": the token states as they are.
  EncodeOptions unpooled;
  unpooled.pooling = Pooling::none;
  const Tensor tokens = model.encode(batch, unpooled);
  const PackedOutput packed = model.encode_packed(batch);
  CHECK(tokens.data == packed.hidden.data);
  CHECK(std::abs(row_norm(tokens.data.data(), hidden) - 1.0) > 1e-3);

  unpooled.normalize = true;
  const Tensor normalized = model.encode(batch, unpooled);
  for (int64_t t = 0; t < 4; ++t) {
    CHECK(row_norm(normalized.data.data() + t * hidden, hidden) == Approx(1.0).margin(1e-6));
  }
}

TEST_CASE("the folder's sequence limit: sentence_bert_config, tokenizer_config, position table",
          "[model][folder]") {
  CHECK(Model::load(kMiniSentence).max_sequence_length() == 128);  // max_seq_length
  CHECK(Model::load(kTinyBert).max_sequence_length() == 128);      // no file says: the table

  const test::TempPath st("st-limit");
  CHECK(Model::load(tiny_bert_with(st, "sentence_bert_config.json", R"({"max_seq_length": 16})"))
            .max_sequence_length() == 16);
  const test::TempPath tokenizer("tokenizer-limit");
  CHECK(
      Model::load(tiny_bert_with(tokenizer, "tokenizer_config.json", R"({"model_max_length": 64})"))
          .max_sequence_length() == 64);
  // transformers' placeholder for "no limit", and a limit past the table, leave the table's.
  const test::TempPath none("tokenizer-none");
  CHECK(Model::load(tiny_bert_with(none, "tokenizer_config.json",
                                   R"({"model_max_length": 1000000000000000019884624838656})"))
            .max_sequence_length() == 128);
  const test::TempPath above("st-above");
  CHECK(
      Model::load(tiny_bert_with(above, "sentence_bert_config.json", R"({"max_seq_length": 512})"))
          .max_sequence_length() == 128);
}
