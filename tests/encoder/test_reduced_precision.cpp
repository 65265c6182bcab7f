// bf16 and int8 GEMMs against float32 on the same weights: the accuracy targets of each compute
// type.
#include <omp.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "backend/optimized/onednn_int8_linear.hpp"
#include "backend/optimized/onednn_linear.hpp"
#include "encoder/encoder.hpp"
#include "encoder/pooling.hpp"
#include "support/random_model.hpp"

using namespace vecformer;

namespace {

std::vector<float> forward(const detail::EncoderWeights& weights, ComputeType dtype,
                           const detail::Batch& batch) {
  const detail::Encoder encoder(weights, detail::make_optimized_backend(dtype));
  std::vector<float> hidden(batch.tokens() * weights.config.hidden_size);
  encoder.forward(batch, hidden.data(), detail::execution_for(0));
  return hidden;
}

double cosine(const float* a, const float* b, int64_t n) {
  double ab = 0, aa = 0, bb = 0;
  for (int64_t i = 0; i < n; ++i) {
    ab += static_cast<double>(a[i]) * b[i];
    aa += static_cast<double>(a[i]) * a[i];
    bb += static_cast<double>(b[i]) * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

}  // namespace

namespace {

test::RandomModelSpec bert_base_like() {
  test::RandomModelSpec spec;
  spec.heads = 12;
  spec.head_dim = 64;
  spec.intermediate = 3072;
  spec.layers = 2;
  spec.vocab = 1000;
  spec.max_positions = 128;
  return spec;
}

std::vector<double> pooled_cosines(const std::vector<float>& a, const std::vector<float>& b,
                                   const detail::Batch& batch, int64_t hidden) {
  const auto n = static_cast<size_t>(batch.sequences());
  std::vector<float> pa(n * hidden), pb(n * hidden);
  detail::pool(a.data(), batch.offsets(), hidden, Pooling::mean, pa.data());
  detail::pool(b.data(), batch.offsets(), hidden, Pooling::mean, pb.data());
  std::vector<double> cosines;
  for (size_t s = 0; s < n; ++s)
    cosines.push_back(cosine(pa.data() + s * hidden, pb.data() + s * hidden, hidden));
  return cosines;
}

}  // namespace

TEST_CASE("bf16 compute stays within the stated tolerances of float32", "[encoder][bf16]") {
  const auto spec = bert_base_like();
  const auto weights = test::random_weights(spec, 5);
  std::mt19937 rng(6);
  const auto seqs = test::random_sequences(rng, {128, 37, 1, 64}, spec.vocab, spec.type_vocab);
  const auto batch = detail::Batch::pack(seqs, weights.config);

  const auto f32 = forward(weights, ComputeType::f32, batch);
  const auto bf16 = forward(weights, ComputeType::bf16, batch);
  const float error = test::max_abs_diff(f32, bf16);
  // bf16 keeps 8 bits of mantissa (relative rounding 2^-9 ≈ 2e-3) on every GEMM input; through two
  // layers of layer-normed, O(1) states the issue allows 5e-2 absolute.
  INFO("max abs error bf16 vs f32: " << error);
  CHECK(error <= 5e-2f);
  CHECK(error > 0.0f);  // the bf16 path really ran in bf16

  for (double c : pooled_cosines(f32, bf16, batch, weights.config.hidden_size)) {
    INFO("pooled cosine " << c);
    CHECK(c >= 0.999);
  }
}

TEST_CASE("int8 compute keeps pooled embeddings within the stated cosine of float32",
          "[encoder][int8]") {
  const auto spec = bert_base_like();
  const auto weights = test::random_weights(spec, 7);
  std::mt19937 rng(8);
  const auto seqs = test::random_sequences(rng, {128, 37, 1, 64}, spec.vocab, spec.type_vocab);
  const auto batch = detail::Batch::pack(seqs, weights.config);
  const auto f32 = forward(weights, ComputeType::f32, batch);
  const auto int8 = forward(weights, ComputeType::int8, batch);
  INFO("max abs error int8 vs f32: " << test::max_abs_diff(f32, int8));
  CHECK(test::max_abs_diff(f32, int8) > 0.0f);  // the int8 path really ran
  // The target for int8: pooled cosine with float32 of at least 0.99.
  for (double c : pooled_cosines(f32, int8, batch, weights.config.hidden_size)) {
    INFO("pooled cosine " << c);
    CHECK(c >= 0.99);
  }
}

TEST_CASE("per-row symmetric quantization", "[int8]") {
  const std::vector<float> x = {0.5f, -1.27f, 0.01f, 1.0f};
  std::vector<int8_t> q(4);
  const float scale = detail::quantize_row(x.data(), 4, q.data());
  CHECK(scale == Approx(0.01f));
  CHECK(q == std::vector<int8_t>{50, -127, 1, 100});
  std::vector<float> zeros(3, 0.0f);
  std::vector<int8_t> qz(3, 5);
  CHECK(detail::quantize_row(zeros.data(), 3, qz.data()) == 1.0f);
  CHECK(qz == std::vector<int8_t>{0, 0, 0});
}

TEST_CASE("per-row symmetric quantization of NaN and infinities is defined", "[int8]") {
  // The scale is taken over the finite values; NaN gives 0 and ±Inf ±127 (before, they reached a
  // float-to-int8 conversion out of range: undefined behaviour).
  constexpr float kInf = std::numeric_limits<float>::infinity();
  const std::vector<float> x = {0.5f, kInf, -1.27f, std::numeric_limits<float>::quiet_NaN(), -kInf};
  std::vector<int8_t> q(x.size());
  const float scale = detail::quantize_row(x.data(), 5, q.data());
  CHECK(scale == 1.27f / 127.0f);
  CHECK(q == std::vector<int8_t>{50, 127, -127, 0, -127});
}

TEST_CASE("bf16 feed-forward keeps its inner activations in bf16 without changing a bit",
          "[encoder][bf16]") {
  // The fused path writes the first GEMM's output as bf16 and feeds it to the second; the plain
  // path writes float32 and converts it. Both round the same float32 values to bf16 once.
  const auto backend = detail::make_optimized_backend(ComputeType::bf16);
  std::mt19937 rng(11);
  const int64_t hidden = 96, inner = 320;
  const Activation gelu = Activation::gelu_erf;
  const auto first = backend->prepare_linear(test::random_linear(rng, inner, hidden), &gelu);
  const auto second = backend->prepare_linear(test::random_linear(rng, hidden, inner), nullptr);
  // Otherwise feed_forward would compare the plain path with itself.
  REQUIRE(static_cast<const detail::OneDnnLinear&>(*first).writes_bf16());
  const auto scratch = backend->make_scratch();
  const detail::Execution exec = detail::execution_for(0);
  for (const int64_t rows : {1, 7, 64}) {
    CAPTURE(rows);
    const int64_t padded = backend->padded_rows(rows);
    const auto x = test::random_values(rng, static_cast<size_t>(padded * hidden), 1.0f);
    std::vector<float> room(static_cast<size_t>(padded * inner)), fused(padded * hidden),
        plain(padded * hidden);
    backend->feed_forward(*first, *second, x.data(), rows, room.data(), fused.data(), *scratch,
                          exec);
    backend->linear(*first, x.data(), rows, room.data(), *scratch, exec);
    backend->linear(*second, room.data(), rows, plain.data(), *scratch, exec);
    fused.resize(rows * hidden);  // the padding rows are scratch
    plain.resize(rows * hidden);
    CHECK(fused == plain);
  }
}
