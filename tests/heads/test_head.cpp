// The task-head engine on both backends: the optimized head against the reference on random heads
// of every shape (dense + tanh, dense + fused activation + layer norm, a classifier alone;
// ModernBERT's dense without bias + SiLU or tanh + layer norm without beta), row counts that
// include 1 and odd numbers, and concurrent calls; plus scoring and top-k.
#include <catch2/catch.hpp>
#include <cmath>
#include <thread>

#include "heads/head.hpp"
#include "heads/scoring.hpp"
#include "support/random_model.hpp"

using namespace vecformer;

namespace {

detail::HeadWeights random_head(std::mt19937& rng, int shape, int64_t hidden, int64_t outputs) {
  detail::HeadWeights w;
  w.kind = HeadKind::sequence_classification;
  if (shape >= 1) {
    w.dense = test::random_linear(rng, hidden, hidden);
    w.dense_activation =
        shape == 1 || shape == 4 ? detail::DenseActivation::tanh : detail::DenseActivation::fused;
    w.fused_activation = shape == 3 ? Activation::silu : Activation::gelu_erf;
  }
  if (shape >= 2) {
    w.norm = test::random_norm(rng, hidden);
    w.norm_eps = 1e-5f;
  }
  if (shape >= 3) {
    // ModernBertPredictionHead without classifier_bias and norm_bias: no dense bias, no norm beta.
    w.dense.bias.clear();
    w.norm.beta.clear();
  }
  w.out = test::random_linear(rng, outputs, hidden);
  return w;
}

std::vector<float> run(const detail::Head& head, const detail::Backend& backend,
                       const std::vector<float>& x, int64_t rows, int64_t hidden) {
  std::vector<float> input(static_cast<size_t>(backend.padded_rows(rows) * hidden));
  std::copy(x.begin(), x.begin() + rows * hidden, input.begin());
  std::vector<float> logits(static_cast<size_t>(rows * head.outputs()));
  head.run(input.data(), rows, logits.data(), detail::execution_for(2));
  return logits;
}

}  // namespace

TEST_CASE("optimized heads match the reference", "[heads]") {
  std::mt19937 rng(7);
  const auto reference = detail::make_reference_backend();
  const auto optimized = detail::make_optimized_backend();
  for (int shape = 0; shape < 5; ++shape) {
    for (const int64_t hidden : {8, 33, 64}) {
      for (const int64_t outputs : {1, 3, 257}) {
        const detail::HeadWeights weights = random_head(rng, shape, hidden, outputs);
        const detail::Head ref(weights, *reference);
        const detail::Head opt(weights, *optimized);
        for (const int64_t rows : {1, 2, 7, 40}) {
          const std::vector<float> x = test::random_values(rng, rows * hidden, 1.0f);
          const std::vector<float> want = run(ref, *reference, x, rows, hidden);
          const std::vector<float> got = run(opt, *optimized, x, rows, hidden);
          INFO("shape " << shape << " hidden " << hidden << " outputs " << outputs << " rows "
                        << rows);
          float worst = 0;
          for (size_t i = 0; i < want.size(); ++i) {
            worst = std::max(worst, std::abs(got[i] - want[i]) / std::max(1.0f, std::abs(want[i])));
          }
          // float32 GEMMs in another summation order over at most 64 products: a few ulps of O(1).
          CHECK(worst < 1e-5f);
        }
      }
    }
  }
}

TEST_CASE("the reference head applies tanh after its dense map", "[heads]") {
  // One hidden unit, hand-computed: tanh(2 * 0.5 + 0.25) = tanh(1.25), then 3 * that - 1.
  detail::HeadWeights w;
  w.dense = {detail::Matrix{1, 1, {2.0f}}, {0.25f}, {}};
  w.dense_activation = detail::DenseActivation::tanh;
  w.out = {detail::Matrix{1, 1, {3.0f}}, {-1.0f}, {}};
  const auto backend = detail::make_reference_backend();
  const detail::Head head(w, *backend);
  float logit = 0;
  const float x = 0.5f;
  head.run(&x, 1, &logit, detail::execution_for(1));
  CHECK(logit == Approx(3.0 * std::tanh(1.25) - 1.0).epsilon(1e-6));
}

TEST_CASE("a head serves concurrent calls", "[heads]") {
  std::mt19937 rng(11);
  const auto backend = detail::make_optimized_backend();
  const int64_t hidden = 32;
  const detail::Head head(random_head(rng, 2, hidden, 50), *backend);
  const std::vector<float> x = test::random_values(rng, 9 * hidden, 1.0f);
  const std::vector<float> want = run(head, *backend, x, 9, hidden);
  std::vector<std::vector<float>> got(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < got.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) got[t] = run(head, *backend, x, 9, hidden);
    });
  }
  for (std::thread& t : threads) t.join();
  for (const auto& g : got) CHECK(g == want);
}

TEST_CASE("scores: softmax, sigmoid, none; top predictions", "[heads]") {
  Tensor logits{{2, 3}, {1.0f, 2.0f, 3.0f, 0.0f, 0.0f, -1.0f}};
  const Tensor soft = detail::score(logits, Scoring::softmax);
  const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  CHECK(soft.data[2] == Approx(std::exp(3.0) / z).epsilon(1e-6));
  CHECK(soft.data[3] + soft.data[4] + soft.data[5] == Approx(1.0).epsilon(1e-6));
  const Tensor sig = detail::score(logits, Scoring::sigmoid);
  CHECK(sig.data[0] == Approx(1.0 / (1.0 + std::exp(-1.0))).epsilon(1e-6));
  CHECK(detail::score(logits, Scoring::none).data == logits.data);

  const auto top = top_predictions(logits, 2);
  REQUIRE(top.size() == 2);
  CHECK(top[0][0].token_id == 2);
  CHECK(top[0][1].token_id == 1);
  CHECK(top[0][0].score == Approx(soft.data[2]).epsilon(1e-6));
  // Equal logits: the lower id first.
  CHECK(top[1][0].token_id == 0);
  CHECK(top[1][1].token_id == 1);
  CHECK(top_predictions(logits, 10)[0].size() == 3);
}
