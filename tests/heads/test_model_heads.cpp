// The task-head API of vecformer::Model on the shipped demo (BertForMaskedLM): masked-LM logits at
// chosen rows only, errors for a model without the head asked for, and concurrent calls.
#include <catch2/catch.hpp>
#include <thread>

#include "vecformer/error.hpp"
#include "vecformer/model.hpp"
#include "vecformer/tokenizer.hpp"

using namespace vecformer;

namespace {

const std::string kDemo = std::string(VECFORMER_SOURCE_DIR) + "/models/demo";

Model load_demo(bool head, BackendKind backend = BackendKind::optimized) {
  LoadOptions options;
  options.backend = backend;
  options.load_head = head;
  return Model::load(kDemo, options);
}

}  // namespace

TEST_CASE("the demo's masked-LM head: logits at the requested rows", "[heads]") {
  const Model model = load_demo(true);
  CHECK(model.info().head.kind == HeadKind::masked_lm);
  CHECK(model.info().head.architecture == "BertForMaskedLM");
  CHECK(model.info().head_loaded);
  const Tokenizer tokenizer = Tokenizer::load(kDemo);
  const Encoding a = tokenizer.encode_text("The cat sat on the [MASK].");
  const Encoding b = tokenizer.encode_text("[MASK] is a [MASK].");
  const std::vector<Sequence> batch = {{a.ids, {}}, {b.ids, {}}};
  const std::vector<TokenPosition> rows = {{1, 3}, {0, 6}, {1, 1}};
  const Tensor logits = model.masked_lm_logits(batch, rows);
  REQUIRE(logits.shape == std::vector<int64_t>{3, model.config().vocab_size});
  // Each row equals the same row computed alone: rows are gathered, not mixed up.
  for (size_t r = 0; r < rows.size(); ++r) {
    const Tensor alone = model.masked_lm_logits({batch[rows[r].sequence]}, {{0, rows[r].position}});
    const auto begin = logits.data.begin() + static_cast<int64_t>(r) * logits.shape[1];
    CHECK(std::equal(alone.data.begin(), alone.data.end(), begin));
  }
  // Reference and optimized agree (float32 GEMMs in another order; logits are O(10)).
  const Tensor reference = load_demo(true, BackendKind::reference).masked_lm_logits(batch, rows);
  float worst = 0;
  for (size_t i = 0; i < logits.data.size(); ++i) {
    worst = std::max(worst, std::abs(logits.data[i] - reference.data[i]));
  }
  CHECK(worst < 2e-4f);
  CHECK(model.masked_lm_logits(batch, {}).shape ==
        std::vector<int64_t>{0, model.config().vocab_size});
}

TEST_CASE("head errors: no such head, not loaded, rows outside the sequences", "[heads]") {
  const Model model = load_demo(true);
  const std::vector<Sequence> batch = {{{2, 10, 3}, {}}};
  CHECK_THROWS_WITH(model.classify(batch), Catch::Contains("has no sequence-classification head") &&
                                               Catch::Contains("(architectures: BertForMaskedLM)"));
  CHECK_THROWS_WITH(model.classify_tokens(batch), Catch::Contains("token-classification"));
  CHECK_THROWS_WITH(model.masked_lm_logits(batch, {{0, 3}}), Catch::Contains("outside"));
  CHECK_THROWS_WITH(model.masked_lm_logits(batch, {{1, 0}}), Catch::Contains("outside"));
  const Model without = load_demo(false);
  CHECK(without.info().head.kind == HeadKind::masked_lm);
  CHECK_FALSE(without.info().head_loaded);
  CHECK_THROWS_WITH(without.masked_lm_logits(batch, {{0, 1}}),
                    Catch::Contains("LoadOptions::load_head"));
}

TEST_CASE("masked-LM logits from many threads at once", "[heads]") {
  const Model model = load_demo(true);
  const std::vector<Sequence> batch = {{{2, 40, 4, 77, 3}, {}}, {{2, 4, 3}, {}}};
  const std::vector<TokenPosition> rows = {{0, 2}, {1, 1}};
  EncodeOptions one;
  one.threads = 1;
  const Tensor want = model.masked_lm_logits(batch, rows, one);
  std::vector<Tensor> got(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < got.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) got[t] = model.masked_lm_logits(batch, rows, one);
    });
  }
  for (std::thread& t : threads) t.join();
  for (const Tensor& g : got) CHECK(g.data == want.data);
}
