// `vecformer explain`'s numbers: the eight-step walk-through recomputed from a forward's captured
// q, k and v must be the specification's attention (reference::attention_head) bit for bit, agree
// with what the optimized backend computed in the same forward, and be internally consistent
// (weights sum to 1, the attention value is the weighted sum of the values). Plus how the focus
// word is found.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <random>

#include "backend/backend.hpp"
#include "backend/reference/reference_ops.hpp"
#include "encoder/batch.hpp"
#include "encoder/encoder.hpp"
#include "encoder/positional.hpp"
#include "explain/attention_walkthrough.hpp"
#include "explain/focus.hpp"
#include "support/random_model.hpp"
#include "vecformer/error.hpp"
#include "vecformer/model.hpp"
#include "vecformer/tokenizer.hpp"

using namespace vecformer;
using detail::AttentionSteps;
using detail::QkvView;

namespace {

const std::filesystem::path kMiniSentence =
    std::filesystem::path(VECFORMER_SOURCE_DIR) / "models" / "mini-sentence";

// What one layer of one forward computed: packed qkv and the backend's attention context.
struct Captured {
  std::vector<float> qkv, context;
  int64_t tokens = 0, heads = 0, head_dim = 0;
  std::vector<float> alibi_slopes;  // the layer's AttentionSpec
  int64_t window = 0;
  QkvView view() const {
    return {
        qkv.data(), tokens, heads, head_dim, alibi_slopes.empty() ? nullptr : alibi_slopes.data(),
        window};
  }
};

Captured capture_model(const Model& model, const std::vector<int64_t>& ids, int64_t layer) {
  const AttentionCapture c = model.capture_attention(Sequence{ids, {}}, layer);
  return {c.qkv.data, c.context.data, static_cast<int64_t>(ids.size()),
          model.config().num_attention_heads, model.config().head_dim()};
}

// The same capture straight from an Encoder built in memory (any configuration).
Captured capture_encoder(const detail::Encoder& encoder, const Sequence& sequence, int64_t layer) {
  const Config& config = encoder.config();
  const auto batch = detail::Batch::pack(std::span(&sequence, 1), config);
  const int64_t tokens = batch.tokens(), hidden = config.hidden_size;
  Captured c{{}, {}, tokens, config.num_attention_heads, config.head_dim()};
  if (config.position_embedding_type == PositionEmbedding::alibi)
    c.alibi_slopes = detail::alibi_slopes(config.num_attention_heads);
  c.window = config.layer_is_global(layer) ? 0 : config.local_window;
  std::vector<float> out(static_cast<size_t>(tokens * hidden));
  encoder.forward(batch, out.data(), detail::execution_for(0),
                  [&](int64_t l, const float* qkv, const float* context) {
                    if (l != layer) return;
                    c.qkv.assign(qkv, qkv + tokens * 3 * hidden);
                    c.context.assign(context, context + tokens * hidden);
                  });
  return c;
}

// The specification's output for (focus, head), computed here independently of the walk-through.
std::vector<float> spec_attention_value(const Captured& c, int64_t head, int64_t focus) {
  const int64_t hidden = c.heads * c.head_dim;
  std::vector<float> context(static_cast<size_t>(c.tokens * hidden));
  detail::reference::attention_head(c.qkv.data() + head * c.head_dim, 3 * hidden, hidden, c.tokens,
                                    c.head_dim, context.data() + head * c.head_dim, hidden,
                                    c.view().alibi_slope(head), c.window);
  const float* row = context.data() + focus * hidden + head * c.head_dim;
  return {row, row + c.head_dim};
}

// Every property of one walk-through; `backend_tolerance` bounds the backend against the
// specification.
void check_walkthrough(const Captured& c, int64_t head, int64_t focus, double backend_tolerance) {
  INFO("head " << head << " focus " << focus << " of " << c.tokens << " tokens, head_dim "
               << c.head_dim);
  const AttentionSteps s = detail::walk_through_attention(c.view(), head, focus);
  CHECK(s.scale == 1.0 / std::sqrt(static_cast<double>(c.head_dim)));
  REQUIRE(s.weights.size() == static_cast<size_t>(c.tokens));
  REQUIRE(s.attention_value.size() == static_cast<size_t>(c.head_dim));

  // Step 5: each weight is a float within 1 ulp of the exact quotient; a sum of L of them is 1
  // within L · 2^-24 plus the rounding of the sum itself (L ≤ 40 here: < 3e-6).
  double sum = 0.0;
  for (float w : s.weights) {
    CHECK(w >= 0.0f);
    CHECK(w <= 1.0f);
    sum += w;
  }
  CHECK(std::abs(sum - 1.0) < 3e-6);
  CHECK(s.weight_sum == Approx(sum).margin(0));

  // Steps 3-4 are what they say: similarity = float(q·k / sqrt(d) − slope·|focus − j|) (−inf
  // outside a local window, whose weight is 0), exp(s - max) / sum = weight.
  const double slope = c.view().alibi_slope(head);
  for (int64_t j = 0; j < c.tokens; ++j) {
    const auto distance = static_cast<double>(std::abs(focus - j));
    if (c.window > 0 && distance > static_cast<double>(c.window / 2)) {
      CHECK(std::isinf(s.similarities[j]));
      CHECK(s.weights[j] == 0.0f);
      continue;
    }
    CHECK(s.similarities[j] == static_cast<float>(s.dot_products[j] * s.scale - slope * distance));
    CHECK(s.weights[j] == static_cast<float>(s.exponentials[j] / s.exponential_sum));
  }

  // Steps 6-8: the attention value is sum_j w_j · v_j (recomputed here from the captured values),
  // rounded once to float: within half an ulp, i.e. 2^-24 relative.
  const QkvView view = c.view();
  for (int64_t d = 0; d < c.head_dim; ++d) {
    double expected = 0.0;
    for (int64_t j = 0; j < c.tokens; ++j) {
      expected += static_cast<double>(s.weights[j]) * view.value(j, head)[d];
      CHECK(s.weighted_values[j][d] == static_cast<double>(s.weights[j]) * view.value(j, head)[d]);
    }
    CHECK(std::abs(s.attention_value[d] - expected) <= 6e-8 * std::max(1.0, std::abs(expected)));
  }

  // The specification's own output, bit for bit: the walk-through is the same computation.
  CHECK(s.attention_value == spec_attention_value(c, head, focus));
  // And the full weight matrix used for the pictures holds the same row.
  const std::vector<float> matrix = detail::attention_weights(view, head);
  CHECK(std::vector<float>(matrix.begin() + focus * c.tokens,
                           matrix.begin() + (focus + 1) * c.tokens) == s.weights);

  // What the backend computed in the same forward.
  const float* backend = c.context.data() + focus * c.heads * c.head_dim + head * c.head_dim;
  CHECK(detail::max_abs_difference(s.attention_value, std::span(backend, c.head_dim)) <=
        backend_tolerance);
}

}  // namespace

TEST_CASE("walk-through on a hand-worked example", "[explain]") {
  // Two tokens, one head of dimension 4 (scale 1/2). Token 0's query is e0; the keys give dot
  // products 0 and 2·ln 3, i.e. similarities 0 and ln 3, so the weights are 1/4 and 3/4; values
  // (4, 0, 0, 0) and (0, 8, 0, 0) give the attention value (1, 6, 0, 0).
  const float ln9 = static_cast<float>(std::log(9.0));
  // Rows: query[4] key[4] value[4].
  const std::vector<float> qkv = {1, 0, 0, 0, /**/ 0,   0, 0, 0, /**/ 4, 0, 0, 0,
                                  0, 0, 0, 0, /**/ ln9, 0, 0, 0, /**/ 0, 8, 0, 0};
  const AttentionSteps s = detail::walk_through_attention({qkv.data(), 2, 1, 4}, 0, 0);
  CHECK(s.scale == 0.5);
  CHECK(s.query == std::vector<float>{1, 0, 0, 0});
  CHECK(s.dot_products == std::vector<double>{0.0, ln9});
  CHECK(s.similarities[1] == Approx(std::log(3.0)).epsilon(1e-7));
  CHECK(s.similarity_max == s.similarities[1]);
  CHECK(s.exponential_sum == Approx(4.0 / 3.0).epsilon(1e-7));
  CHECK(s.weights[0] == Approx(0.25).epsilon(1e-7));
  CHECK(s.weights[1] == Approx(0.75).epsilon(1e-7));
  CHECK(s.weighted_values[1][1] == Approx(6.0).epsilon(1e-7));
  CHECK(s.attention_value[0] == Approx(1.0).epsilon(1e-7));
  CHECK(s.attention_value[1] == Approx(6.0).epsilon(1e-7));
  CHECK(s.attention_value[2] == 0.0f);
  CHECK(detail::l2_norm(s.attention_value) == Approx(std::sqrt(37.0)).epsilon(1e-7));
}

TEST_CASE("walk-through on models/mini-sentence equals the reference and the optimized forward",
          "[explain]") {
  const Model model = Model::load(kMiniSentence);
  const Tokenizer tokenizer = Tokenizer::load(model.info().transformer_folder);
  const std::vector<int64_t> ids = tokenizer.encode("The cat sat on the mat");
  REQUIRE(ids.size() == 8);
  for (int64_t layer = 0; layer < model.config().num_hidden_layers; ++layer) {
    const Captured c = capture_model(model, ids, layer);
    // Head dim 16, 8 tokens: the optimized attention kernel (float FMAs, exp approximation) and
    // the double-accumulated specification differ by a few float ulps of O(1) values; 1e-5 is the
    // documented bound for `explain`'s check.
    for (int64_t head = 0; head < c.heads; ++head) {
      for (int64_t focus = 0; focus < c.tokens; ++focus) check_walkthrough(c, head, focus, 1e-5);
    }
    // The whole layer, as the command reports it.
    CHECK(detail::max_abs_difference(detail::reference_context(c.view()), c.context) <= 1e-5);
  }
}

TEST_CASE("walk-through on random encoders, every head and focus", "[explain]") {
  struct Case {
    int64_t heads, head_dim, layers;
    std::vector<int64_t> lengths;  // one forward per length
  };
  // Head dims include 1, odd sizes and non-multiples of the SIMD width; lengths include 1.
  const std::vector<Case> cases = {
      {1, 1, 1, {1, 3}}, {2, 7, 2, {5, 1}}, {3, 16, 1, {17}}, {2, 33, 2, {9, 2}}, {1, 64, 1, {40}}};
  uint32_t seed = 11;
  for (const Case& k : cases) {
    test::RandomModelSpec spec;
    spec.heads = k.heads;
    spec.head_dim = k.head_dim;
    spec.layers = k.layers;
    spec.intermediate = 2 * k.heads * k.head_dim + 3;
    const auto weights = test::random_weights(spec, seed++);
    const detail::Encoder optimized(weights, detail::make_optimized_backend());
    const detail::Encoder reference(weights, detail::make_reference_backend());
    std::mt19937 rng(seed++);
    for (const Sequence& sequence : test::random_sequences(rng, k.lengths, spec.vocab, 2)) {
      for (int64_t layer = 0; layer < k.layers; ++layer) {
        // Random projections give O(1) q, k, v (up to ~5 for head_dim 64): 1e-5 as above.
        const Captured c = capture_encoder(optimized, sequence, layer);
        // The reference backend's own forward runs exactly the specification: no difference at all.
        const Captured exact = capture_encoder(reference, sequence, layer);
        for (int64_t head = 0; head < c.heads; ++head) {
          for (int64_t focus = 0; focus < c.tokens; ++focus) {
            check_walkthrough(c, head, focus, 1e-5);
            check_walkthrough(exact, head, focus, 0.0);
          }
        }
      }
    }
  }
}

TEST_CASE("walk-through with ALiBi and a local window is the layer's attention", "[explain]") {
  // A Jina-like encoder (ALiBi, no position table) whose second layer attends within a window of 4
  // (|i - j| <= 2): the walk-through must take the layer's spec, or its attention values differ
  // from the backend's by O(1).
  test::RandomModelSpec spec;
  spec.heads = 3;
  spec.head_dim = 8;
  spec.layers = 2;
  spec.intermediate = 50;
  auto weights = test::random_weights(spec, 41);
  weights.config.position_embedding_type = PositionEmbedding::alibi;
  weights.position_embeddings = {};
  weights.config.local_window = 4;
  weights.config.global_every = 2;
  const detail::Encoder optimized(weights, detail::make_optimized_backend());
  const detail::Encoder reference(weights, detail::make_reference_backend());
  std::mt19937 rng(42);
  for (const Sequence& sequence : test::random_sequences(rng, {11}, spec.vocab, 2)) {
    for (int64_t layer = 0; layer < 2; ++layer) {
      const Captured c = capture_encoder(optimized, sequence, layer);
      const Captured exact = capture_encoder(reference, sequence, layer);
      REQUIRE(c.window == (layer == 1 ? 4 : 0));
      for (int64_t head = 0; head < c.heads; ++head) {
        for (int64_t focus = 0; focus < c.tokens; ++focus) {
          check_walkthrough(c, head, focus, 1e-5);
          check_walkthrough(exact, head, focus, 0.0);
        }
      }
      // Without the spec the recomputation is another attention: the test can tell.
      Captured plain = exact;
      plain.alibi_slopes.clear();
      plain.window = 0;
      const AttentionSteps s = detail::walk_through_attention(plain.view(), 0, 5);
      CHECK(detail::max_abs_difference(s.attention_value,
                                       std::span(exact.context.data() + 5 * 24, 8)) > 1e-3);
    }
  }
}

TEST_CASE("head summaries: argmax and entropy", "[explain]") {
  // Row 0 uniform over 4 tokens, row 1 all on token 2, rows 2-3 a tie (the first wins) and a
  // spread.
  const std::vector<float> weights = {0.25f, 0.25f, 0.25f, 0.25f, 0,    0,    1,    0,
                                      0.5f,  0.5f,  0,     0,     0.1f, 0.2f, 0.3f, 0.4f};
  const detail::HeadSummary s = detail::summarize_head(weights, 4);
  CHECK(s.argmax == std::vector<int64_t>{0, 2, 0, 3});
  CHECK(s.entropy[0] == Approx(std::log(4.0)).epsilon(1e-7));
  CHECK(s.entropy[1] == 0.0);
  CHECK(s.entropy[2] == Approx(std::log(2.0)).epsilon(1e-7));
  const double spread =
      -(0.1 * std::log(0.1) + 0.2 * std::log(0.2) + 0.3 * std::log(0.3) + 0.4 * std::log(0.4));
  CHECK(s.entropy[3] ==
        Approx(spread).epsilon(1e-6));  // the weights are floats: 1e-7 relative each
  CHECK(s.mean_entropy == Approx((s.entropy[0] + s.entropy[1] + s.entropy[2] + s.entropy[3]) / 4));
}

TEST_CASE("the focus word is found as the tokenizer splits it", "[explain]") {
  const Tokenizer tokenizer = Tokenizer::load(kMiniSentence);
  const std::vector<int64_t> cat = tokenizer.encode("The cat sat on the mat");  // [CLS] ... [SEP]

  SECTION("a one-piece word, matched after the same lowercasing") {
    const detail::FocusToken f = detail::find_focus(tokenizer, cat, "SAT");
    CHECK(f.pieces == std::vector<std::string>{"sat"});
    CHECK(f.occurrences == std::vector<int64_t>{3});
    CHECK(f.index == 3);
  }
  SECTION("a word appearing twice: the first occurrence, or the one asked for") {
    CHECK(detail::find_focus(tokenizer, cat, "the").occurrences == std::vector<int64_t>{1, 5});
    CHECK(detail::find_focus(tokenizer, cat, "the").index == 1);
    CHECK(detail::find_focus(tokenizer, cat, "the", 2).index == 5);
    CHECK_THROWS_WITH(detail::find_focus(tokenizer, cat, "the", 3),
                      Catch::Contains("appears 2 times"));
  }
  SECTION("a word split into pieces: its first piece; a piece alone is not a whole word") {
    const std::vector<int64_t> ids = tokenizer.encode("An unaffable cat");
    const detail::FocusToken f = detail::find_focus(tokenizer, ids, "unaffable");
    CHECK(f.pieces.size() > 1);
    CHECK(f.pieces[0] == tokenizer.id_to_token(ids[2]));
    CHECK(f.index == 2);
    CHECK_THROWS_AS(detail::find_focus(tokenizer, ids, f.pieces[0]), Error);
  }
  SECTION("several words: the first piece of the phrase") {
    CHECK(detail::find_focus(tokenizer, cat, "on the mat").index == 4);
  }
  SECTION("absent or empty: an Error listing the sentence's tokens") {
    CHECK_THROWS_WITH(detail::find_focus(tokenizer, cat, "dog"),
                      Catch::Contains("[CLS] the cat sat on the mat [SEP]"));
    CHECK_THROWS_WITH(detail::find_focus(tokenizer, cat, "  "), Catch::Contains("no tokens"));
  }
}
