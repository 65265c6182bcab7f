// ALiBi head slopes against Jina v2's values worked out by hand, and the encoder with ALiBi
// positions, local-window layers and bias-free norms on both backends.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <vector>

#include "encoder/encoder.hpp"
#include "encoder/positional.hpp"
#include "support/random_model.hpp"

using namespace vecformer;
using test::RandomModelSpec;

TEST_CASE("ALiBi slopes of a power of two are 2^(-8/n · (h + 1))", "[positional][alibi]") {
  // Jina v2 / MosaicBERT: start = 2^(-2^-(log2 n - 3)), slope h = start^(h + 1). Eight heads:
  // 1/2, 1/4, ..., 1/256, all exact in float.
  const std::vector<float> eight = detail::alibi_slopes(8);
  REQUIRE(eight.size() == 8);
  for (int h = 0; h < 8; ++h) CHECK(eight[h] == std::ldexp(1.0f, -(h + 1)));
  CHECK(detail::alibi_slopes(1) == std::vector<float>{1.0f / 256});
  CHECK(detail::alibi_slopes(2) == std::vector<float>{1.0f / 16, 1.0f / 256});
  CHECK(detail::alibi_slopes(4) == std::vector<float>{0.25f, 1.0f / 16, 1.0f / 64, 1.0f / 256});
  // Sixteen heads: start 2^-0.5, so slope h = 2^(-(h + 1) / 2).
  const std::vector<float> sixteen = detail::alibi_slopes(16);
  REQUIRE(sixteen.size() == 16);
  for (int h = 0; h < 16; ++h) {
    CAPTURE(h);
    // float rounding: half an ulp, < 6e-8 relative.
    CHECK(sixteen[h] == Approx(std::pow(2.0, -(h + 1) / 2.0)).epsilon(1e-7));
  }
}

TEST_CASE("ALiBi slopes of other head counts interleave the next power of two's",
          "[positional][alibi]") {
  // Twelve heads (Jina v2 base): the 8 slopes of eight heads, then the even-indexed slopes of
  // sixteen heads' (2^-0.5, 2^-1.5, 2^-2.5, 2^-3.5) for the remaining four.
  const std::vector<float> twelve = detail::alibi_slopes(12);
  REQUIRE(twelve.size() == 12);
  for (int h = 0; h < 8; ++h) CHECK(twelve[h] == std::ldexp(1.0f, -(h + 1)));
  CHECK(twelve[8] == Approx(0.70710678118654752).epsilon(1e-7));
  CHECK(twelve[9] == Approx(0.35355339059327376).epsilon(1e-7));
  CHECK(twelve[10] == Approx(0.17677669529663688).epsilon(1e-7));
  CHECK(twelve[11] == Approx(0.08838834764831844).epsilon(1e-7));
  // Three heads: 1/16, 1/256 (two heads), then four heads' first: 1/4.
  CHECK(detail::alibi_slopes(3) == std::vector<float>{1.0f / 16, 1.0f / 256, 0.25f});
  // Six heads: four heads' slopes, then eight heads' 1/2 and 1/8.
  CHECK(detail::alibi_slopes(6) ==
        std::vector<float>{0.25f, 1.0f / 16, 1.0f / 64, 1.0f / 256, 0.5f, 0.125f});
  // Every count: one slope per head, each in (0, 1).
  for (int64_t heads = 1; heads <= 64; ++heads) {
    const auto slopes = detail::alibi_slopes(heads);
    CAPTURE(heads);
    REQUIRE(static_cast<int64_t>(slopes.size()) == heads);
    for (float s : slopes) CHECK((s > 0.0f && s < 1.0f));
  }
}

namespace {

std::vector<float> run(const detail::EncoderWeights& weights, std::unique_ptr<detail::Backend> be,
                       const std::vector<Sequence>& seqs) {
  const detail::Encoder encoder(weights, std::move(be));
  const auto batch = detail::Batch::pack(seqs, encoder.config());
  std::vector<float> hidden(batch.tokens() * encoder.config().hidden_size);
  encoder.forward(batch, hidden.data(), detail::execution_for(2));
  return hidden;
}

struct Case {
  const char* name;
  PositionEmbedding positions;
  bool norm_first;
  int64_t heads, head_dim, layers;
  int64_t local_window, global_every;
  bool bias_free_norms;  // every norm without beta; pre-norm: layer 0 without attention_norm
};

detail::EncoderWeights weights_for(const Case& c, uint32_t seed) {
  RandomModelSpec spec;
  spec.heads = c.heads;
  spec.head_dim = c.head_dim;
  spec.layers = c.layers;
  spec.intermediate = 2 * c.heads * c.head_dim + 3;
  spec.positions = c.positions;
  spec.norm_first = c.norm_first;
  spec.embedding_norm = true;
  spec.final_norm = c.norm_first;
  auto weights = test::random_weights(spec, seed);
  weights.config.local_window = c.local_window;
  weights.config.global_every = c.global_every;
  if (c.bias_free_norms) {
    weights.embedding_norm.beta.clear();
    weights.final_norm.beta.clear();
    for (auto& layer : weights.layers) {
      layer.attention_norm.beta.clear();
      layer.ffn_norm.beta.clear();
    }
    if (c.norm_first) weights.layers[0].attention_norm = {};  // ModernBERT's layer 0
  }
  return weights;
}

}  // namespace

TEST_CASE("optimized encoder matches the reference with ALiBi, local windows and bias-free norms",
          "[encoder][attention-options]") {
  const Case cases[] = {
      // Jina v2: post-norm, ALiBi, 6 heads (not a power of two), no window.
      {"alibi", PositionEmbedding::alibi, false, 6, 16, 2, 0, 1, false},
      // ALiBi and ModernBERT's layout: pre-norm, bias-free norms, layers 0 and 2 global, layer 1
      // with an even window.
      {"alibi+window", PositionEmbedding::alibi, true, 4, 24, 3, 8, 2, true},
      // No positions, an odd window, global every third layer.
      {"window odd", PositionEmbedding::none, true, 2, 33, 4, 5, 3, true},
      // Learned positions, a window of 16 on every other layer, post-norm without norm biases.
      {"learned+window", PositionEmbedding::learned, false, 3, 8, 2, 16, 2, true},
  };
  uint32_t seed = 40;
  for (const Case& c : cases) {
    CAPTURE(c.name);
    const auto weights = weights_for(c, seed++);
    std::mt19937 rng(seed++);
    // Lengths below, near and above the windows; the longest is max_positions.
    const auto seqs = test::random_sequences(rng, {1, 7, 40, 64, 3}, 50, 2);
    const auto reference = run(weights, detail::make_reference_backend(), seqs);
    const auto optimized = run(weights, detail::make_optimized_backend(), seqs);
    // Outputs are layer-normed, O(1). As the plain encoder test (float32 GEMMs with K up to ~300
    // against double sums: a few 1e-6 per layer), with room for four layers and the ALiBi bias
    // (one extra float rounding of scores up to ~30).
    const float diff = test::max_abs_diff(reference, optimized);
    CAPTURE(diff);
    CHECK(diff < 2e-4f);
    CHECK(
        std::all_of(optimized.begin(), optimized.end(), [](float x) { return std::isfinite(x); }));

    // The options change the result (so the agreement above is not that of two backends that both
    // ignore them): the same weights without ALiBi, without the window.
    auto plain = weights;
    if (c.positions == PositionEmbedding::alibi) {
      plain.config.position_embedding_type = PositionEmbedding::none;
      CHECK(test::max_abs_diff(reference, run(plain, detail::make_reference_backend(), seqs)) >
            1e-2f);
      plain = weights;
    }
    if (c.local_window > 0) {
      plain.config.local_window = 0;
      CHECK(test::max_abs_diff(reference, run(plain, detail::make_reference_backend(), seqs)) >
            1e-2f);
    }
  }
}

TEST_CASE("optimized encoder matches the reference on sequences much longer than the window",
          "[encoder][attention-options]") {
  // ModernBERT's window (128) with ALiBi on 600 tokens beside shorter sequences: every local block
  // reads a window's keys, the scratch is sized by the longest sequence.
  Case c{"long", PositionEmbedding::alibi, true, 2, 32, 2, 128, 2, true};
  auto weights = weights_for(c, 70);
  weights.config.max_position_embeddings = 640;
  std::mt19937 rng(71);
  const auto seqs = test::random_sequences(rng, {600, 130, 5}, 50, 2);
  const auto reference = run(weights, detail::make_reference_backend(), seqs);
  const auto optimized = run(weights, detail::make_optimized_backend(), seqs);
  const float diff = test::max_abs_diff(reference, optimized);
  CAPTURE(diff);
  CHECK(diff < 2e-4f);  // as above
  CHECK(std::all_of(optimized.begin(), optimized.end(), [](float x) { return std::isfinite(x); }));
}

TEST_CASE("bf16 encoder with ALiBi and local windows stays within bf16's tolerance",
          "[encoder][bf16][attention-options]") {
  const Case c{"alibi+window", PositionEmbedding::alibi, true, 4, 32, 3, 8, 2, true};
  const auto weights = weights_for(c, 60);
  std::mt19937 rng(61);
  const auto seqs = test::random_sequences(rng, {64, 17, 1, 40}, 50, 2);
  const auto f32 = run(weights, detail::make_optimized_backend(ComputeType::f32), seqs);
  const auto bf16 = run(weights, detail::make_optimized_backend(ComputeType::bf16), seqs);
  // As test_reduced_precision's bf16 bar: 8-bit mantissas on every GEMM (and, with AVX512-BF16,
  // attention) input, through three layer-normed layers of O(1) states: 5e-2 absolute.
  CHECK(test::max_abs_diff(f32, bf16) <= 5e-2f);
}
