// bf16 GEMMs against float32 on the same weights: the accuracy targets of the bf16 compute type.
#include <catch2/catch.hpp>
#include <cmath>

#include "encoder/encoder.hpp"
#include "encoder/pooling.hpp"
#include "support/random_model.hpp"

using namespace vecformer;

namespace {

std::vector<float> forward(const detail::EncoderWeights& weights, ComputeType dtype,
                           const detail::Batch& batch) {
  const detail::Encoder encoder(weights, detail::make_optimized_backend(dtype));
  std::vector<float> hidden(batch.tokens() * weights.config.hidden_size);
  detail::Workspace ws;
  encoder.forward(batch, hidden.data(), ws);
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

TEST_CASE("bf16 compute stays within the stated tolerances of float32", "[encoder][bf16]") {
  test::RandomModelSpec spec;
  spec.heads = 12;
  spec.head_dim = 64;
  spec.intermediate = 3072;
  spec.layers = 2;
  spec.vocab = 1000;
  spec.max_positions = 128;
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

  const int64_t hidden = weights.config.hidden_size;
  std::vector<float> pooled_f32(seqs.size() * hidden), pooled_bf16(seqs.size() * hidden);
  detail::pool(f32.data(), batch.offsets(), hidden, Pooling::mean, pooled_f32.data());
  detail::pool(bf16.data(), batch.offsets(), hidden, Pooling::mean, pooled_bf16.data());
  for (size_t s = 0; s < seqs.size(); ++s) {
    const double c = cosine(pooled_f32.data() + s * hidden, pooled_bf16.data() + s * hidden, hidden);
    INFO("sequence " << s << " pooled cosine " << c);
    CHECK(c >= 0.999);
  }
}
