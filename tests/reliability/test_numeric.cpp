// Numeric hygiene at large magnitudes: layer norm and softmax, the fast kernels (as dispatched) and
// their reference twins, against a long double evaluation of the definition, for activations around
// 1e4; and whole encoders with large weights, which must never produce NaN or Inf from finite
// input.
//
// The kernel-versus-reference comparisons live in tests/backend; here both are held to the
// mathematical value, so that an error shared by the twins cannot hide.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "backend/optimized/kernels/kernels.hpp"
#include "backend/reference/reference_ops.hpp"
#include "encoder/encoder.hpp"
#include "support/random_model.hpp"

using namespace vecformer;
namespace kernels = vecformer::detail::kernels;
namespace ref = vecformer::detail::reference;

namespace {

using Row = std::vector<float>;
using Op = void (*)(float*, const float*, const float*, const float*, float, int64_t, float*);

const std::vector<int64_t> kSizes = {1, 2, 7, 16, 17, 64, 100, 768, 1023};

// (x - mean) / sqrt(var + eps) · gamma + beta, in long double from the float inputs.
std::vector<long double> exact_layer_norm(const Row& x, const Row& gamma, const Row& beta,
                                          float eps) {
  const auto n = static_cast<long double>(x.size());
  long double mean = 0;
  for (float v : x) mean += v;
  mean /= n;
  long double var = 0;
  for (float v : x) var += (v - mean) * (v - mean);
  var /= n;
  const long double inv_std = 1.0L / std::sqrt(var + static_cast<long double>(eps));
  std::vector<long double> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = (x[i] - mean) * inv_std * gamma[i] + beta[i];
  return out;
}

std::vector<long double> exact_softmax(const Row& x) {
  long double max = x[0];
  for (float v : x) max = std::max<long double>(max, v);
  long double sum = 0;
  std::vector<long double> out(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    sum += out[i] = std::exp(static_cast<long double>(x[i]) - max);
  for (long double& p : out) p /= sum;
  return out;
}

// Rows of activations around 1e4, each a way a float evaluation can go wrong.
struct RowCase {
  std::string name;
  Row (*make)(int64_t n, std::mt19937& rng);
};

const std::vector<RowCase>& layer_norm_rows() {
  static const std::vector<RowCase> rows = {
      // A float mean of values near 1e4 is off by up to ~1e-3 (half an ulp of 1e4), comparable to
      // a small spread: E[x²] - E[x]² would cancel to noise.
      {"1e4 + N(0, 1)",
       [](int64_t n, std::mt19937& rng) {
         std::normal_distribution<float> d(1e4f, 1.0f);
         Row r(n);
         for (float& v : r) v = d(rng);
         return r;
       }},
      {"1e4 + N(0, 1e-2)",
       [](int64_t n, std::mt19937& rng) {
         std::normal_distribution<float> d(1e4f, 1e-2f);
         Row r(n);
         for (float& v : r) v = d(rng);
         return r;
       }},
      {"N(0, 1e4)",
       [](int64_t n, std::mt19937& rng) {
         std::normal_distribution<float> d(0.0f, 1e4f);
         Row r(n);
         for (float& v : r) v = d(rng);
         return r;
       }},
      // Constant: the centered values must be exactly 0, or eps = 1e-12 magnifies rounding noise
      // to outputs of ±1.
      {"constant 12345.678", [](int64_t n, std::mt19937&) { return Row(n, 12345.678f); }},
      {"-1e4 with one outlier",
       [](int64_t n, std::mt19937&) {
         Row r(n, -1e4f);
         r[n / 2] = -1e4f + 100.0f;
         return r;
       }},
  };
  return rows;
}

void check_layer_norm(Op op, const char* which) {
  for (const RowCase& row : layer_norm_rows()) {
    for (float eps : {1e-12f, 1e-5f}) {
      double worst = 0;
      for (int64_t n : kSizes) {
        std::mt19937 rng(static_cast<uint32_t>(n) * 31 + 7);
        const Row x0 = row.make(n, rng);
        std::uniform_real_distribution<float> g(0.5f, 1.5f), b(-1.0f, 1.0f);
        Row gamma(n), beta(n);
        for (float& v : gamma) v = g(rng);
        for (float& v : beta) v = b(rng);
        const auto exact = exact_layer_norm(x0, gamma, beta, eps);

        Row x = x0, out(n);
        op(x.data(), nullptr, gamma.data(), beta.data(), eps, n, out.data());
        for (int64_t i = 0; i < n; ++i) {
          REQUIRE(std::isfinite(out[i]));
          const long double error = std::fabs(out[i] - exact[i]) / (1.0L + std::fabs(exact[i]));
          worst = std::max(worst, static_cast<double>(error));
        }
      }
      CAPTURE(which, row.name, eps, worst);
      // Normalized values are at most sqrt(n - 1) ~ 32 in size. Float statistics over n <= 1023
      // centered terms are good to ~n·2^-24 ~ 6e-5 relative in the worst case (~sqrt(n)·2^-24
      // typically); the tolerance is relative to (1 + |exact|) so it holds for beta-dominated
      // outputs too.
      CHECK(worst <= 2e-5);
    }
  }
}

}  // namespace

TEST_CASE("layer norm is accurate for activations around 1e4", "[reliability][numeric]") {
  check_layer_norm(&ref::add_layer_norm_row, "reference");
  check_layer_norm(&kernels::add_layer_norm_row, "kernel");
}

TEST_CASE("softmax is finite and accurate for logits around 1e4", "[reliability][numeric]") {
  struct Logits {
    const char* name;
    float center, spread;
  };
  // exp(1e4) overflows a float 1e4 / 88 times over: only a max-shifted softmax survives these.
  for (Logits logits : {Logits{"1e4 ± 20", 1e4f, 20.0f}, Logits{"-1e4 ± 20", -1e4f, 20.0f},
                        Logits{"± 1e4", 0.0f, 1e4f}, Logits{"1e4 ± 0", 1e4f, 0.0f}}) {
    for (int64_t n : kSizes) {
      std::mt19937 rng(static_cast<uint32_t>(n) + 99);
      std::uniform_real_distribution<float> d(logits.center - logits.spread,
                                              logits.center + logits.spread);
      Row x0(n);
      for (float& v : x0) v = logits.spread > 0 ? d(rng) : logits.center;
      const auto exact = exact_softmax(x0);
      for (auto [op, which] :
           {std::pair{&ref::softmax, "reference"}, std::pair{&kernels::softmax, "kernel"}}) {
        Row p = x0;
        op(p.data(), n);
        double worst = 0, sum = 0;
        for (int64_t i = 0; i < n; ++i) {
          REQUIRE(std::isfinite(p[i]));
          REQUIRE(p[i] >= 0.0f);
          sum += p[i];
          worst = std::max(worst, static_cast<double>(std::fabs(p[i] - exact[i])));
        }
        CAPTURE(logits.name, n, which, worst, sum);
        // exp of (x - max) in float is good to a few ulps; probabilities are <= 1.
        CHECK(worst <= 1e-6);
        CHECK(std::fabs(sum - 1.0) <= 1e-6 * static_cast<double>(n));
      }
    }
  }
}

namespace {

// Multiplies every weight of a linear map (weights and bias).
void scale(detail::LinearWeights& linear, float factor) {
  for (float& v : linear.weight.data) v *= factor;
  for (float& v : linear.bias) v *= factor;
}

std::vector<float> forward(const detail::EncoderWeights& weights, bool optimized,
                           const std::vector<Sequence>& sequences) {
  const detail::Encoder encoder(
      weights, optimized ? detail::make_optimized_backend() : detail::make_reference_backend());
  const auto batch = detail::Batch::pack(sequences, encoder.config());
  std::vector<float> hidden(static_cast<size_t>(batch.tokens() * encoder.config().hidden_size));
  encoder.forward(batch, hidden.data(), detail::execution_for(0));
  return hidden;
}

}  // namespace

TEST_CASE("encoders with large weights give finite outputs for finite inputs",
          "[reliability][numeric]") {
  test::RandomModelSpec spec;
  spec.layers = 2;
  spec.heads = 2;
  spec.head_dim = 16;
  spec.intermediate = 64;
  spec.norm_first = GENERATE(false, true);
  spec.embedding_norm = GENERATE(true, false);
  spec.final_norm = spec.norm_first;
  spec.activation = GENERATE(Activation::gelu_erf, Activation::gelu_tanh, Activation::relu);
  auto weights = test::random_weights(spec, 77);
  // Embeddings around 1e4 (a shared offset plus spread: the embedding norm, or in pre-norm models
  // every layer norm, sees rows like 1e4 + N(0, 1e2)); every projection 30 times too large, so that
  // attention logits reach ~1e4 (one-hot softmax) and the FFN's activations reach the GELU's
  // saturated tails on both sides.
  for (float& v : weights.word_embeddings.data) v = 1e4f + 100.0f * v;
  for (auto& layer : weights.layers) {
    scale(layer.qkv, 30.0f);
    scale(layer.attention_out, 30.0f);
    scale(layer.ffn_in, 30.0f);
    scale(layer.ffn_out, 30.0f);
  }
  std::mt19937 rng(78);
  const auto sequences = test::random_sequences(rng, {1, 7, 33, 64}, spec.vocab, spec.type_vocab);
  for (bool optimized : {false, true}) {
    const std::vector<float> hidden = forward(weights, optimized, sequences);
    size_t bad = 0;
    float largest = 0;
    for (float v : hidden) {
      if (!std::isfinite(v)) ++bad;
      largest = std::max(largest, std::fabs(v));
    }
    CAPTURE(spec.norm_first, spec.embedding_norm, optimized, largest);
    CHECK(bad == 0);
    if (!spec.norm_first) {
      // Post-norm: the output is a layer norm's, (x - mean)/std · gamma + beta with |gamma| and
      // |beta| ~ 1 (random_norm): bounded by sqrt(hidden) · max|gamma| + max|beta|.
      CHECK(largest <= std::sqrt(32.0f) * 1.5f + 1.5f);
    }
  }
}
