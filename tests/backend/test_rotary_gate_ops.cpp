// Rotary positions inside the two backends' attention, and their gated-linear ops: the reference
// on hand-worked values, and the optimized backend (f32, bf16, int8) against it on random inputs.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "backend/backend.hpp"
#include "backend/optimized/gated_linear.hpp"
#include "backend/optimized/kernels/kernels.hpp"
#include "backend/reference/reference_ops.hpp"
#include "encoder/positional.hpp"
#include "support/random_model.hpp"
#include "vecformer/config.hpp"

using namespace vecformer;

namespace {

constexpr double kUnitRoundoff = 5.9604644775390625e-8;

detail::RotaryTable table_of(int64_t dim, bool interleaved, int64_t positions) {
  Config config;
  config.rotary.dim = dim;
  config.rotary.interleaved = interleaved;
  return detail::rotary_table(config, 10000.0, positions, 0);
}

std::vector<float> run_linear(const detail::Backend& backend, const detail::PreparedLinear& linear,
                              const std::vector<float>& x, int64_t rows) {
  // Both buffers hold padded_rows rows, as the encoder's workspace does.
  const int64_t padded = backend.padded_rows(rows);
  std::vector<float> in(static_cast<size_t>(padded * linear.in_features()), 0.0f);
  std::copy(x.begin(), x.end(), in.begin());
  std::vector<float> y(static_cast<size_t>(padded * linear.out_features()));
  auto scratch = backend.make_scratch();
  backend.linear(linear, in.data(), rows, y.data(), *scratch, detail::execution_for(2));
  y.resize(static_cast<size_t>(rows * linear.out_features()));
  return y;
}

// The smallest cosine between matching rows of a and b ([rows, cols]).
double min_row_cosine(const std::vector<float>& a, const std::vector<float>& b, int64_t cols) {
  double worst = 1.0;
  for (size_t r = 0; r * cols < a.size(); ++r) {
    double ab = 0, aa = 0, bb = 0;
    for (int64_t c = 0; c < cols; ++c) {
      const double x = a[r * cols + c], y = b[r * cols + c];
      ab += x * y;
      aa += x * x;
      bb += y * y;
    }
    worst = std::min(worst, ab / std::sqrt(aa * bb));
  }
  return worst;
}

// Within the accuracy bar of the compute type: f32, 2e-5 absolute (GEMM rounding over 48 products
// of O(1/7) terms and the activation kernel's 1e-6); bf16, 5e-2 absolute (tests/encoder's bar after
// two whole layers; one gated linear of O(1) values, its inputs and weights rounded to 2^-9
// relative, stays within it); int8, a cosine of at least 0.99 with the reference per row (the
// issue's int8 bar, on pooled embeddings in tests/encoder): quantization steps of 1/254 of each
// row's range on both halves make absolute errors of a few 1e-2 on products of O(1) values.
void check_within_bar(const std::vector<float>& actual, const std::vector<float>& expected,
                      int64_t cols, ComputeType dtype) {
  const double error = test::max_abs_diff(actual, expected);
  CAPTURE(error);
  if (dtype == ComputeType::f32) {
    CHECK(error <= 2e-5);
  } else if (dtype == ComputeType::bf16) {
    CHECK(error <= 5e-2);
  } else {
    CHECK(min_row_cosine(actual, expected, cols) >= 0.99);
  }
}

}  // namespace

TEST_CASE("reference attention rotates queries and keys by position within each sequence",
          "[reference][rotary]") {
  // One head of 2, rotary dim 2 (θ = 1: angle p at position p); two identical sequences of 2
  // tokens packed. Every query and key is (1, 0), values (1, 0) then (0, 1). Token 1's query and
  // key rotate to (cos 1, sin 1), token 0's stay: scores/√2 are, for query 0, (1, cos 1) and, for
  // query 1, (cos 1, 1). Positions restart at the second sequence, so it gets the same context.
  const int64_t heads = 1, head_dim = 2, hidden = 2;
  const auto table = table_of(2, false, 4);
  const std::vector<float> qkv = {1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 1,
                                  1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 1};
  const std::vector<int64_t> offsets = {0, 2, 4};
  const std::vector<const detail::RotaryTable*> tables = {&table, &table};
  detail::AttentionSpec spec;
  spec.rotary = tables;
  const auto backend = detail::make_reference_backend();
  const auto scratch = backend->make_scratch();
  std::vector<float> context(8, -1.0f);
  const auto copy = qkv;
  backend->attention(qkv.data(), offsets, heads, head_dim, spec, context.data(), *scratch,
                     detail::execution_for(1));
  CHECK(qkv == copy);  // the rotation is attention's own
  const double c = std::cos(1.0), r = 1.0 / std::sqrt(2.0);
  // softmax over two scores: weight of the second = 1 / (1 + e^(first − second)).
  const double w0 = 1.0 / (1.0 + std::exp((1.0 - c) * r));  // query 0's weight on value 1
  const double w1 = 1.0 / (1.0 + std::exp((c - 1.0) * r));  // query 1's weight on value 1
  for (int64_t s = 0; s < 2; ++s) {
    CAPTURE(s);
    const float* out = context.data() + s * 2 * hidden;
    CHECK(out[0] == Approx(1.0 - w0).epsilon(1e-6));
    CHECK(out[1] == Approx(w0).epsilon(1e-6));
    CHECK(out[2] == Approx(1.0 - w1).epsilon(1e-6));
    CHECK(out[3] == Approx(w1).epsilon(1e-6));
  }
  // Without rotary positions both queries weigh both keys alike.
  backend->attention(qkv.data(), offsets, heads, head_dim, detail::AttentionSpec{}, context.data(),
                     *scratch, detail::execution_for(1));
  for (float v : context) CHECK(v == Approx(0.5).epsilon(1e-6));
}

TEST_CASE("reference attention with rotary tables is attention over the rotated rows",
          "[reference][rotary]") {
  // 2 heads of 4, rotary dim 2 (partial); sequence 1 has a table of its own (as dynamic NTK gives
  // a long sequence): each sequence's rows rotated by reference::rotate with its table, then plain
  // attention, must be what the spec'd attention gives.
  const int64_t heads = 2, head_dim = 4, hidden = heads * head_dim;
  const auto table = table_of(2, false, 8);
  Config config;
  config.rotary.dim = 2;
  const auto other = detail::rotary_table(config, 500.0, 8, 0);
  std::mt19937 rng(5);
  const std::vector<int64_t> offsets = {0, 3, 8};
  const auto qkv = test::random_values(rng, static_cast<size_t>(8 * 3 * hidden), 1.0f);
  auto rotated = qkv;
  const detail::RotaryTable* tables[] = {&table, &other};
  for (int64_t s = 0; s < 2; ++s) {
    for (int64_t t = offsets[s]; t < offsets[s + 1]; ++t) {
      const int64_t p = t - offsets[s];
      for (int64_t part = 0; part < 2; ++part) {
        for (int64_t h = 0; h < heads; ++h) {
          detail::reference::rotate(rotated.data() + t * 3 * hidden + part * hidden + h * head_dim,
                                    tables[s]->cos.data() + p, tables[s]->sin.data() + p, 2, false);
        }
      }
    }
  }
  const auto backend = detail::make_reference_backend();
  const auto scratch = backend->make_scratch();
  std::vector<float> expected(8 * hidden), actual(8 * hidden);
  backend->attention(rotated.data(), offsets, heads, head_dim, detail::AttentionSpec{},
                     expected.data(), *scratch, detail::execution_for(1));
  detail::AttentionSpec spec;
  spec.rotary = tables;
  backend->attention(qkv.data(), offsets, heads, head_dim, spec, actual.data(), *scratch,
                     detail::execution_for(1));
  CHECK(actual == expected);
  CHECK(test::max_abs_diff(rotated, qkv) > 0.0f);  // something was rotated
}

TEST_CASE("optimized attention with rotary positions matches the reference",
          "[optimized][rotary]") {
  const auto reference = detail::make_reference_backend();
  std::mt19937 rng(21);
  const std::vector<int64_t> offsets = {0, 5, 6, 6 + 17, 6 + 17 + 40};
  const int64_t tokens = offsets.back();
  std::vector<ComputeType> dtypes = {ComputeType::f32};
  if (detail::kernels::avx512_bf16_supported()) dtypes.push_back(ComputeType::bf16);
  for (ComputeType dtype : dtypes) {
    const auto optimized = detail::make_optimized_backend(dtype);
    for (bool interleaved : {false, true}) {
      for (auto [heads, head_dim, dim] : {std::tuple<int64_t, int64_t, int64_t>{2, 16, 16},
                                          {3, 64, 32},
                                          {2, 34, 10},
                                          {1, 128, 128}}) {
        const int64_t hidden = heads * head_dim;
        const auto table = table_of(dim, interleaved, 64);
        Config config;
        config.rotary.dim = dim;
        config.rotary.interleaved = interleaved;
        const auto other = detail::rotary_table(config, 300.0, 64, 0);
        const std::vector<const detail::RotaryTable*> tables = {&table, &table, &other, &table};
        const auto qkv = test::random_values(rng, static_cast<size_t>(tokens * 3 * hidden), 1.0f);
        for (int64_t window : {0, 8}) {
          detail::AttentionSpec spec;
          spec.rotary = tables;
          spec.window = window;
          std::vector<float> expected(static_cast<size_t>(tokens * hidden));
          std::vector<float> actual(expected.size()), plain(expected.size());
          const auto reference_scratch = reference->make_scratch();
          reference->attention(qkv.data(), offsets, heads, head_dim, spec, expected.data(),
                               *reference_scratch, detail::execution_for(1));
          const auto scratch = optimized->make_scratch();
          optimized->attention(qkv.data(), offsets, heads, head_dim, spec, actual.data(), *scratch,
                               detail::execution_for(2));
          spec.rotary = {};
          reference->attention(qkv.data(), offsets, heads, head_dim, spec, plain.data(),
                               *reference_scratch, detail::execution_for(1));
          CAPTURE(dtype == ComputeType::bf16, interleaved, heads, head_dim, dim, window);
          // f32: the attention twins' bar; bf16: products of bf16-rounded inputs (tests/encoder's).
          CHECK(test::max_abs_diff(actual, expected) <= (dtype == ComputeType::f32 ? 1e-5 : 2e-2));
          CHECK(test::max_abs_diff(plain, expected) > 1e-3);  // the rotation changed the result
        }
      }
    }
  }
}

TEST_CASE("reference gated linear: act(x·W_a + b_a) times (x·W_g + b_g)", "[reference][gated]") {
  // in 2, out 2: W = [W_a; W_g] of 4 rows, bias [b_a; b_g].
  detail::LinearWeights weights{detail::Matrix{4, 2, {1, 0, 0, 1, 1, 1, 2, -1}}, {0.5f, -3, 0, 1}};
  const auto backend = detail::make_reference_backend();
  const auto linear = backend->prepare_gated_linear(weights, Activation::relu);
  CHECK(linear->in_features() == 2);
  CHECK(linear->out_features() == 2);
  const auto y = run_linear(*backend, *linear, {2.0f, 1.0f, -1.0f, 4.0f}, 2);
  // Row (2, 1): a = (2.5, -2), g = (3, 4): relu(a)·g = (7.5, 0).
  // Row (-1, 4): a = (-0.5, 1), g = (3, -5): (0, -5).
  CHECK(y == std::vector<float>{7.5f, 0.0f, 0.0f, -5.0f});
  // Without a bias, with SiLU.
  detail::LinearWeights no_bias{detail::Matrix{4, 2, {1, 0, 0, 1, 1, 1, 2, -1}}, {}};
  const auto silu = backend->prepare_gated_linear(no_bias, Activation::silu);
  const auto z = run_linear(*backend, *silu, {2.0f, 1.0f}, 1);
  CHECK(z[0] == Approx(2.0 / (1.0 + std::exp(-2.0)) * 3.0));
  CHECK(z[1] == Approx(1.0 / (1.0 + std::exp(-1.0)) * 3.0));
}

TEST_CASE("optimized gated linear and feed-forward match the reference", "[optimized][gated]") {
  const auto reference = detail::make_reference_backend();
  std::mt19937 rng(31);
  const int64_t in = 48, out = 40, hidden_out = 24;
  for (bool bias : {true, false}) {
    for (Activation act :
         {Activation::silu, Activation::gelu_erf, Activation::gelu_tanh, Activation::relu}) {
      auto first = test::random_linear(rng, 2 * out, in);
      if (!bias) first.bias.clear();
      const auto second = test::random_linear(rng, hidden_out, out);
      const auto ref_first = reference->prepare_gated_linear(first, act);
      const auto ref_second = reference->prepare_linear(second, nullptr);
      for (ComputeType dtype : {ComputeType::f32, ComputeType::bf16, ComputeType::int8}) {
        const auto optimized = detail::make_optimized_backend(dtype);
        const auto opt_first = optimized->prepare_gated_linear(first, act);
        const auto opt_second = optimized->prepare_linear(second, nullptr);
        REQUIRE(opt_first->out_features() == out);
        REQUIRE(opt_first->in_features() == in);
        for (int64_t rows : {1, 7, 33}) {
          const auto x = test::random_values(rng, static_cast<size_t>(rows * in), 1.0f);
          const auto expected = run_linear(*reference, *ref_first, x, rows);
          const auto actual = run_linear(*optimized, *opt_first, x, rows);
          CAPTURE(bias, to_string(act), static_cast<int>(dtype), rows);
          check_within_bar(actual, expected, out, dtype);
          CHECK(test::max_abs_diff(expected, std::vector<float>(expected.size(), 0.0f)) > 0.1f);

          // feed_forward(gated, second) with inner sized [padded_rows, out].
          const int64_t padded = optimized->padded_rows(rows);
          std::vector<float> xin(static_cast<size_t>(padded * in), 0.0f);
          std::copy(x.begin(), x.end(), xin.begin());
          std::vector<float> inner(static_cast<size_t>(padded * out));
          std::vector<float> y(static_cast<size_t>(padded * hidden_out));
          auto scratch = optimized->make_scratch();
          optimized->feed_forward(*opt_first, *opt_second, xin.data(), rows, inner.data(), y.data(),
                                  *scratch, detail::execution_for(2));
          y.resize(static_cast<size_t>(rows * hidden_out));
          std::vector<float> ref_inner(static_cast<size_t>(rows * out));
          std::vector<float> ref_y(static_cast<size_t>(rows * hidden_out));
          auto ref_scratch = reference->make_scratch();
          reference->feed_forward(*ref_first, *ref_second, x.data(), rows, ref_inner.data(),
                                  ref_y.data(), *ref_scratch, detail::execution_for(1));
          check_within_bar(y, ref_y, hidden_out, dtype);
        }
      }
    }
  }
}

TEST_CASE("bf16 gated feed-forward hands bf16 to the second GEMM without changing a bit",
          "[optimized][gated][bf16]") {
  // The fused path rounds the gate's float32 outputs to bf16 in its pass; the plain path writes
  // them as float32 and the second GEMM's input conversion rounds them: the same values.
  const auto backend = detail::make_optimized_backend(ComputeType::bf16);
  std::mt19937 rng(37);
  const int64_t in = 64, out = 96, hidden = 64;
  const auto first =
      backend->prepare_gated_linear(test::random_linear(rng, 2 * out, in), Activation::silu);
  const auto second = backend->prepare_linear(test::random_linear(rng, hidden, out), nullptr);
  // The fused path is taken where kernels::to_bf16 runs (elsewhere both paths are the plain one).
  CHECK(dynamic_cast<const detail::GatedLinear&>(*first).writes_bf16() ==
        detail::kernels::avx512_bf16_supported());
  for (int64_t rows : {1, 9, 40}) {
    const int64_t padded = backend->padded_rows(rows);
    auto x = test::random_values(rng, static_cast<size_t>(padded * in), 1.0f);
    std::vector<float> inner(static_cast<size_t>(padded * out), 0.0f);
    std::vector<float> fused(static_cast<size_t>(padded * hidden));
    std::vector<float> plain(fused.size());
    auto scratch = backend->make_scratch();
    const auto exec = detail::execution_for(2);
    backend->feed_forward(*first, *second, x.data(), rows, inner.data(), fused.data(), *scratch,
                          exec);
    std::fill(inner.begin(), inner.end(), 0.0f);
    backend->linear(*first, x.data(), rows, inner.data(), *scratch, exec);
    backend->linear(*second, inner.data(), rows, plain.data(), *scratch, exec);
    fused.resize(static_cast<size_t>(rows * hidden));
    plain.resize(fused.size());
    CAPTURE(rows);
    CHECK(fused == plain);
  }
}
