// Rotary position embedding, the gated feed-forward and SiLU: hand-worked values for the reference
// (the specification) and the rotary table, and the xsimd kernels and optimized ops against their
// plain twins on random rows whose sizes include 1, odd counts and non-multiples of every SIMD
// width.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "backend/backend.hpp"
#include "backend/optimized/kernels/kernels.hpp"
#include "backend/optimized/kernels/kernels_arch.hpp"
#include "backend/optimized/kernels/rotary_gate.hpp"
#include "backend/optimized/kernels/rotary_gate_arch.hpp"
#include "backend/reference/reference_ops.hpp"
#include "encoder/positional.hpp"
#include "vecformer/config.hpp"

using namespace vecformer;
namespace kernels = vecformer::detail::kernels;
namespace ref = vecformer::detail::reference;
using kernels::Avx2;
using kernels::Avx512;
using kernels::RotaryGateKernels;

namespace {

// float32 unit roundoff, 2^-24.
constexpr double kUnitRoundoff = 5.9604644775390625e-8;

std::vector<float> uniform(int64_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

template <class Arch>
bool cpu_runs() {
  if (kernels::cpu_supports<Arch>()) return true;
  WARN("this CPU lacks " << kernels::isa_name<Arch> << ": its kernels are not tested here");
  return false;
}

const std::vector<Activation> kActivations = {Activation::gelu_erf, Activation::gelu_tanh,
                                              Activation::relu, Activation::silu};

std::string name_of(Activation act) {
  return std::string(to_string(act));
}

Config rotary_config(int64_t dim, bool interleaved) {
  Config config;
  config.hidden_size = 2 * dim;
  config.num_attention_heads = 2;
  config.position_embedding_type = PositionEmbedding::rotary;
  config.rotary.dim = dim;
  config.rotary.interleaved = interleaved;
  return config;
}

}  // namespace

// ---- the rotary table
// ----------------------------------------------------------------------------

TEST_CASE("rotary table: inverse frequencies base^(-2i/dim) times positions", "[rotary]") {
  // dim 4, base 10000: θ = (1, 10000^(-1/2) = 0.01); row p holds cos and sin of p·θ.
  const Config config = rotary_config(4, false);
  const auto table = detail::rotary_table(config, 10000.0, 3, 0);
  REQUIRE(table.dim == 4);
  REQUIRE(table.positions == 3);
  REQUIRE(table.cos.size() == 6);
  const double angles[3][2] = {{0.0, 0.0}, {1.0, 0.01}, {2.0, 0.02}};
  for (int p = 0; p < 3; ++p) {
    for (int i = 0; i < 2; ++i) {
      CAPTURE(p, i);
      // float32 angles: a few float32 ulps of the exact value.
      CHECK(table.cos[p * 2 + i] == Approx(std::cos(angles[p][i])).margin(1e-7));
      CHECK(table.sin[p * 2 + i] == Approx(std::sin(angles[p][i])).margin(1e-7));
    }
  }
  CHECK(table.cos[0] == 1.0f);  // position 0 is the identity, exactly
  CHECK(table.sin[1] == 0.0f);
}

TEST_CASE("rotary table: static NTK scales the base and divides by factor^(2/dim)", "[rotary]") {
  // GTE "new" with rope_scaling {"type": "ntk", "factor": 4}, dim 4, base 10000:
  // θ_1 = (40000)^(-1/2) / 4^(2/4) = (1/200) / 2 = 1/400, at every length; θ_0 = 1 / 4^(1/2) = 1/2.
  Config config = rotary_config(4, false);
  config.rotary.scaling = RotaryScaling::ntk;
  config.rotary.scaling_factor = 4.0;
  const auto table = detail::rotary_table(config, 10000.0, 3, 0);
  CHECK(table.sin[2 * 2 + 0] == Approx(std::sin(2.0 * 0.5)).margin(1e-7));
  CHECK(table.sin[2 * 2 + 1] == Approx(std::sin(2.0 / 400.0)).margin(1e-9));
  CHECK(table.cos[1 * 2 + 1] == Approx(std::cos(1.0 / 400.0)).margin(1e-7));
}

TEST_CASE("rotary table: dynamic NTK grows the base only past the trained positions", "[rotary]") {
  // NomicBERT: dim 4, base 10000, factor 2, 2 trained positions. A 4-token sequence:
  // base' = 10000 · (2·4/2 − 1)^(4/2) = 90000, θ_1 = 90000^(-1/2) = 1/300 (θ_0 = 1 always).
  Config config = rotary_config(4, false);
  config.rotary.scaling = RotaryScaling::dynamic_ntk;
  config.rotary.scaling_factor = 2.0;
  config.rotary.max_trained_positions = 2;
  const auto long_table = detail::rotary_table(config, 10000.0, 4, 4);
  CHECK(long_table.sin[3 * 2 + 1] == Approx(std::sin(3.0 / 300.0)).margin(1e-9));
  CHECK(long_table.sin[3 * 2 + 0] == Approx(std::sin(3.0)).margin(1e-7));
  // Within the trained positions, and with length 0 (unscaled), θ_1 = 1/100.
  for (int64_t length : {0, 1, 2}) {
    const auto table = detail::rotary_table(config, 10000.0, 4, length);
    CAPTURE(length);
    CHECK(table.sin[3 * 2 + 1] == Approx(std::sin(3.0 / 100.0)).margin(1e-9));
  }
  // Length 3: base' = 10000 · (2·3/2 − 1)^2 = 40000, θ_1 = 1/200.
  const auto three = detail::rotary_table(config, 10000.0, 3, 3);
  CHECK(three.sin[2 * 2 + 1] == Approx(std::sin(2.0 / 200.0)).margin(1e-9));
}

TEST_CASE("rotary table: partial dimension, computed in float32 as the sources do", "[rotary]") {
  // rotary_emb_fraction 0.5 of a 64-wide head: dim 32; θ_i = 10000^(-2i/32) in float32.
  const Config config = rotary_config(32, true);
  const auto table = detail::rotary_table(config, 10000.0, 2048, 0);
  REQUIRE(table.interleaved);
  REQUIRE(table.cos.size() == 2048u * 16u);
  for (int64_t p : {1, 7, 511, 2047}) {
    for (int64_t i : {0, 5, 15}) {
      // The float32 steps: exponent 2i/32 (exact), inverse frequency, angle p·θ (float32).
      const auto inv =
          1.0f / static_cast<float>(std::pow(10000.0, static_cast<double>(2 * i) / 32));
      const float angle = static_cast<float>(p) * inv;
      CAPTURE(p, i);
      CHECK(table.cos[p * 16 + i] == static_cast<float>(std::cos(static_cast<double>(angle))));
      CHECK(table.sin[p * 16 + i] == static_cast<float>(std::sin(static_cast<double>(angle))));
      // And the float32 angle is what makes the table differ from exact angles at far positions:
      // within p · ulp(θ) of them.
      const double exact = p * std::pow(10000.0, -static_cast<double>(2 * i) / 32);
      CHECK(std::abs(table.sin[p * 16 + i] - std::sin(exact)) <= p * 1.2e-7 * inv + 1e-7);
    }
  }
}

// ---- reference ops, hand-worked
// ------------------------------------------------------------------

TEST_CASE("reference rotate: NeoX halves, interleaved pairs, the rest untouched",
          "[reference][rotary]") {
  // dim 4 of a 6-wide head: angles with cos (0, 1/2), sin (1, √3/2) (90° and 60°).
  const float cos[2] = {0.0f, 0.5f};
  const float sin[2] = {1.0f, 0.8660254f};
  {
    // NeoX: pairs (x0, x2) and (x1, x3).
    std::vector<float> x = {1, 2, 3, 4, 5, 6};
    ref::rotate(x.data(), cos, sin, 4, false);
    CHECK(x[0] == Approx(1 * 0.0 - 3 * 1.0));  // a·c − b·s
    CHECK(x[2] == Approx(3 * 0.0 + 1 * 1.0));  // b·c + a·s
    CHECK(x[1] == Approx(2 * 0.5 - 4 * 0.8660254));
    CHECK(x[3] == Approx(4 * 0.5 + 2 * 0.8660254));
    CHECK(x[4] == 5.0f);
    CHECK(x[5] == 6.0f);
  }
  {
    // Interleaved: pairs (x0, x1) and (x2, x3).
    std::vector<float> x = {1, 2, 3, 4, 5, 6};
    ref::rotate(x.data(), cos, sin, 4, true);
    CHECK(x[0] == Approx(-2.0));
    CHECK(x[1] == Approx(1.0));
    CHECK(x[2] == Approx(3 * 0.5 - 4 * 0.8660254));
    CHECK(x[3] == Approx(4 * 0.5 + 3 * 0.8660254));
    CHECK(x[4] == 5.0f);
    CHECK(x[5] == 6.0f);
  }
}

TEST_CASE("reference gate: act(first half) times second half", "[reference][gated]") {
  const std::vector<float> u = {-1.0f, 0.0f, 2.0f, 3.0f, 4.0f, 5.0f};
  std::vector<float> y(3);
  ref::gate(u.data(), 3, Activation::relu, y.data());
  CHECK(y == std::vector<float>{0.0f, 0.0f, 10.0f});
  ref::gate(u.data(), 3, Activation::silu, y.data());
  // silu(-1) = -1/(1+e), silu(2) = 2/(1+e^-2).
  CHECK(y[0] == Approx(3.0 * -1.0 / (1.0 + std::exp(1.0))));
  CHECK(y[1] == 0.0f);
  CHECK(y[2] == Approx(5.0 * 2.0 / (1.0 + std::exp(-2.0))));
}

TEST_CASE("reference silu", "[reference]") {
  std::vector<float> x = {0.0f, 1.0f, -1.0f, 20.0f, -200.0f};
  ref::activation(x.data(), 5, Activation::silu);
  CHECK(x[0] == 0.0f);
  CHECK(x[1] == Approx(0.7310585786));  // sigmoid(1)
  CHECK(x[2] == Approx(-0.2689414214));
  CHECK(x[3] == Approx(20.0).epsilon(1e-7));
  CHECK(x[4] == 0.0f);  // -200 · e^-200: below float's range (a signed zero)
}

// ---- kernels against their twins
// -----------------------------------------------------------------

TEMPLATE_TEST_CASE("kernel silu matches the reference", "[kernels][silu]", Avx512, Avx2) {
  if (!cpu_runs<TestType>()) return;
  std::vector<float> input;
  for (int i = -20480; i <= 20480; ++i) input.push_back(static_cast<float>(i) / 1024.0f);
  for (int64_t n : {1, 7, 17, 33, 1023}) {
    const auto row = uniform(n, -30.0f, 30.0f, 7 + static_cast<uint32_t>(n));
    input.insert(input.end(), row.begin(), row.end());
  }
  auto expected = input, actual = input;
  ref::activation(expected.data(), static_cast<int64_t>(expected.size()), Activation::silu);
  kernels::ArchKernels<TestType>::activation(actual.data(), static_cast<int64_t>(actual.size()),
                                             Activation::silu);
  double worst = 0.0;
  for (size_t i = 0; i < input.size(); ++i) {
    // x / (1 + e^-x): exp within 2 ulp (xsimd), the sum and the division one rounding each, and the
    // sum's sensitivity to e^-x at most 1: 6u relative to the result, plus the reference's own
    // rounding (u). Stated bound: 8u relative.
    const double bound = 8 * kUnitRoundoff * std::abs(expected[i]);
    const double diff = std::abs(static_cast<double>(actual[i]) - expected[i]);
    worst = std::max(worst, diff / (bound > 0 ? bound : 1e-45));
    if (!(diff <= bound)) {
      CAPTURE(input[i], actual[i], expected[i]);
      CHECK(diff <= bound);
      break;
    }
  }
  CAPTURE(worst);  // as a fraction of the bound
  const float huge = std::numeric_limits<float>::max();
  std::vector<float> limits = {huge, -huge, 100.0f, -100.0f};
  kernels::ArchKernels<TestType>::activation(limits.data(), 4, Activation::silu);
  CHECK(limits[0] == huge);
  CHECK(limits[1] == 0.0f);
  CHECK(limits[2] == 100.0f);
  CHECK(limits[3] == Approx(-100.0 * std::exp(-100.0)).margin(1e-40));
}

TEMPLATE_TEST_CASE("kernel rotate matches the reference", "[kernels][rotary]", Avx512, Avx2) {
  if (!cpu_runs<TestType>()) return;
  for (bool interleaved : {false, true}) {
    for (int64_t dim : {2, 4, 6, 14, 16, 18, 30, 32, 34, 48, 64, 66, 128}) {
      const int64_t head_dim = dim + 6;  // the features past dim stay as they are
      const auto x = uniform(head_dim, -3.0f, 3.0f, 11 + static_cast<uint32_t>(dim));
      const auto angles = uniform(dim / 2, -40.0f, 40.0f, 13 + static_cast<uint32_t>(dim));
      std::vector<float> cos, sin;
      for (float a : angles) {
        cos.push_back(std::cos(a));
        sin.push_back(std::sin(a));
      }
      auto expected = x, actual = x;
      ref::rotate(expected.data(), cos.data(), sin.data(), dim, interleaved);
      RotaryGateKernels<TestType>::rotate(actual.data(), cos.data(), sin.data(), dim, interleaved);
      CAPTURE(interleaved, dim);
      for (int64_t i = 0; i < head_dim; ++i) {
        if (i >= dim) {
          CHECK(actual[i] == x[i]);
          continue;
        }
        // Each output is a·c ± b·s with |c|, |s| <= 1: the kernel rounds b·s (or a·s) once and the
        // fma once, the reference once; 3u · (|a| + |b|) bounds the difference, stated as 4u.
        const int64_t partner = interleaved ? (i ^ 1) : (i < dim / 2 ? i + dim / 2 : i - dim / 2);
        const double bound = 4 * kUnitRoundoff * (std::abs(x[i]) + std::abs(x[partner]));
        CAPTURE(i);
        CHECK(std::abs(static_cast<double>(actual[i]) - expected[i]) <= bound);
      }
    }
  }
}

TEMPLATE_TEST_CASE("kernel gate matches the reference", "[kernels][gated]", Avx512, Avx2) {
  if (!cpu_runs<TestType>()) return;
  for (Activation act : kActivations) {
    for (int64_t n : {1, 2, 7, 15, 16, 17, 31, 33, 64, 100, 768, 1023}) {
      const auto u = uniform(2 * n, -8.0f, 8.0f, 17 + static_cast<uint32_t>(n));
      std::vector<float> expected(n), actual(n, std::numeric_limits<float>::quiet_NaN());
      ref::gate(u.data(), n, act, expected.data());
      RotaryGateKernels<TestType>::gate(u.data(), n, act, actual.data());
      CAPTURE(name_of(act), n);
      for (int64_t i = 0; i < n; ++i) {
        // act(a) within the activation kernels' bar (1e-6 absolute for GELU near |a| = 8, 8u
        // relative for SiLU, exact for relu), times |g| <= 8, plus the product's rounding.
        const double g = std::abs(u[n + i]);
        const double bound = 1e-6 * g + 2 * kUnitRoundoff * std::abs(expected[i]);
        CHECK(std::abs(static_cast<double>(actual[i]) - expected[i]) <= bound);
      }
    }
  }
}

TEST_CASE("dispatched rotary and gate kernels are the selected ISA's", "[kernels]") {
  const auto x = uniform(40, -2.0f, 2.0f, 3);
  const auto angles = uniform(16, -5.0f, 5.0f, 4);
  std::vector<float> cos, sin;
  for (float a : angles) {
    cos.push_back(std::cos(a));
    sin.push_back(std::sin(a));
  }
  auto dispatched = x, direct = x;
  kernels::rotate(dispatched.data(), cos.data(), sin.data(), 32, true);
  std::vector<float> gated(20), gated_direct(20);
  kernels::gate(x.data(), 20, Activation::silu, gated.data());
  if (kernels::selected_isa() == kernels::isa_name<Avx512>) {
    RotaryGateKernels<Avx512>::rotate(direct.data(), cos.data(), sin.data(), 32, true);
    RotaryGateKernels<Avx512>::gate(x.data(), 20, Activation::silu, gated_direct.data());
  } else {
    RotaryGateKernels<Avx2>::rotate(direct.data(), cos.data(), sin.data(), 32, true);
    RotaryGateKernels<Avx2>::gate(x.data(), 20, Activation::silu, gated_direct.data());
  }
  CHECK(dispatched == direct);
  CHECK(gated == gated_direct);
}
