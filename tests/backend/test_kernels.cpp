// The xsimd kernels against their plain twins (backend/reference, or plain loops for add /
// sum_rows) on random rows whose lengths include 1, odd numbers and non-multiples of every SIMD
// width. Each ISA's kernels are called directly through ArchKernels<Arch>, so one run on an AVX-512
// machine checks the AVX-512 and the AVX2 code; the dispatched functions are checked to be the
// selected ISA's.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <random>
#include <string_view>
#include <vector>

#include "backend/optimized/kernels/kernels.hpp"
#include "backend/optimized/kernels/kernels_arch.hpp"
#include "backend/optimized/onednn_int8_linear.hpp"
#include "backend/reference/reference_ops.hpp"
#include "vecformer/config.hpp"

using namespace vecformer;
namespace kernels = vecformer::detail::kernels;
namespace ref = vecformer::detail::reference;
using kernels::ArchKernels;
using kernels::Avx2;
using kernels::Avx512;

namespace {

const std::vector<int64_t> kSizes = {1, 2, 7, 15, 16, 17, 31, 33, 64, 100, 768, 1023};

// float32 unit roundoff, 2^-24.
constexpr double kUnitRoundoff = 5.9604644775390625e-8;

std::vector<float> uniform(int64_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

std::vector<float> normal(int64_t n, float mean, float stddev, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(mean, stddev);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = std::fabs(static_cast<double>(a[i]) - b[i]);
    // A NaN difference must fail every tolerance.
    if (!(d <= worst)) worst = std::isnan(d) ? std::numeric_limits<double>::infinity() : d;
  }
  return worst;
}

const char* name_of(Activation act) {
  switch (act) {
    case Activation::gelu_erf:
      return "gelu_erf";
    case Activation::gelu_tanh:
      return "gelu_tanh";
    case Activation::relu:
      return "relu";
  }
  return "?";
}

template <class Arch>
bool cpu_runs() {
  if (kernels::cpu_supports<Arch>()) return true;
  WARN("this CPU lacks " << kernels::isa_name<Arch> << ": its kernels are not tested here");
  return false;
}

}  // namespace

TEST_CASE("kernels select avx512 or avx2", "[kernels]") {
  const std::string_view isa = kernels::selected_isa();
  CHECK((isa == "avx512" || isa == "avx2"));
}

TEMPLATE_TEST_CASE("kernel activations match the reference", "[kernels]", Avx512, Avx2) {
  if (!cpu_runs<TestType>()) return;
  // Random rows of every size, then a dense sweep of [-10, 10] in steps of 2^-10.
  std::vector<std::vector<float>> inputs;
  for (int64_t n : kSizes) inputs.push_back(uniform(n, -10.0f, 10.0f, 100 + n));
  std::vector<float> sweep;
  for (int i = -10240; i <= 10240; ++i) sweep.push_back(static_cast<float>(i) / 1024.0f);
  inputs.push_back(sweep);

  for (Activation act : {Activation::gelu_erf, Activation::gelu_tanh, Activation::relu}) {
    double worst = 0.0;
    for (const std::vector<float>& input : inputs) {
      auto expected = input, actual = input;
      ref::activation(expected.data(), static_cast<int64_t>(expected.size()), act);
      ArchKernels<TestType>::activation(actual.data(), static_cast<int64_t>(actual.size()), act);
      const double diff = max_abs_diff(actual, expected);
      worst = diff > worst ? diff : worst;
    }
    CAPTURE(name_of(act), worst);
    if (act == Activation::relu) {
      CHECK(worst == 0.0);  // a select: exact
    } else {
      // The required bound; about one float ulp (9.5e-7) of the largest outputs, near 10.
      CHECK(worst <= 1e-6);
    }
  }
}

TEMPLATE_TEST_CASE("kernel GELUs reach their limits for large |x|", "[kernels]", Avx512, Avx2) {
  if (!cpu_runs<TestType>()) return;
  const float huge = std::numeric_limits<float>::max();
  for (Activation act : {Activation::gelu_erf, Activation::gelu_tanh}) {
    CAPTURE(name_of(act));
    std::vector<float> x = {10.0f, 50.0f, 1e4f, huge, -20.0f, -50.0f, -1e4f, -huge, 0.0f};
    ArchKernels<TestType>::activation(x.data(), static_cast<int64_t>(x.size()), act);
    // GELU(x) = x·Φ(x): Φ rounds to exactly 1 for these x, and to exactly 0 for these -x.
    CHECK(x[0] == 10.0f);
    CHECK(x[1] == 50.0f);
    CHECK(x[2] == 1e4f);
    CHECK(x[3] == huge);
    CHECK(x[4] == 0.0f);
    CHECK(x[5] == 0.0f);
    CHECK(x[6] == 0.0f);
    CHECK(x[7] == 0.0f);
    CHECK(x[8] == 0.0f);
  }
}

TEMPLATE_TEST_CASE("kernel softmax matches the reference", "[kernels]", Avx512, Avx2) {
  if (!cpu_runs<TestType>()) return;
  for (int64_t n : kSizes) {
    CAPTURE(n);
    const auto input = uniform(n, -10.0f, 10.0f, 200 + n);
    auto expected = input, actual = input;
    ref::softmax(expected.data(), n);
    ArchKernels<TestType>::softmax(actual.data(), n);

    double worst_relative = 0.0, sum = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      const double relative = std::fabs(static_cast<double>(actual[i]) - expected[i]) / expected[i];
      worst_relative = relative > worst_relative ? relative : worst_relative;
      sum += actual[i];
    }
    CAPTURE(worst_relative, sum - 1.0);
    // Per probability: exp's 1-2 ulp, up to 20 ulp from rounding x - max (|x - max| <= 20 scales
    // it), the float sum's rounding over n / width terms per lane, and the final scaling: 64 ulp is
    // ample.
    CHECK(worst_relative <= 64 * kUnitRoundoff);
    // The required bound: each of the n probabilities is off by well under 1e-6.
    CHECK(std::fabs(sum - 1.0) <= 1e-6 * static_cast<double>(n));
  }
}

TEMPLATE_TEST_CASE("kernel softmax of large-magnitude rows is finite", "[kernels]", Avx512, Avx2) {
  if (!cpu_runs<TestType>()) return;
  for (int64_t n : kSizes) {
    CAPTURE(n);
    const auto input = uniform(n, -1e4f, 1e4f, 300 + n);
    auto expected = input, actual = input;
    ref::softmax(expected.data(), n);
    ArchKernels<TestType>::softmax(actual.data(), n);
    for (float p : actual) REQUIRE(std::isfinite(p));
    const double diff = max_abs_diff(actual, expected);
    CAPTURE(diff);
    // Nearly all mass sits on the maximum; the largest probability carries a few ulp of 1.
    CHECK(diff <= 4 * kUnitRoundoff);

    // A row of equal large values is uniform.
    std::vector<float> flat(n, 1e4f);
    ArchKernels<TestType>::softmax(flat.data(), n);
    for (float p : flat)
      CHECK(p == Approx(1.0 / static_cast<double>(n)).epsilon(4 * kUnitRoundoff));
  }
}

TEMPLATE_TEST_CASE("kernel add & layer norm matches the reference", "[kernels]", Avx512, Avx2) {
  if (!cpu_runs<TestType>()) return;
  struct Scale {
    float mean, stddev;
  };
  // Unit rows; rows around 1e4 with unit spread, where a plain float mean would lose ~1e-3; rows
  // with a spread of 1e4.
  for (Scale scale : {Scale{0.0f, 1.0f}, Scale{1e4f, 1.0f}, Scale{0.0f, 1e4f}}) {
    for (float eps : {1e-12f, 1e-5f}) {
      for (bool with_delta : {false, true}) {
        for (bool in_place : {false, true}) {
          double worst = 0.0;
          for (int64_t n : kSizes) {
            const uint32_t seed = 400 + static_cast<uint32_t>(n);
            // With a delta, x and delta share the spread, so x + delta still has the row's scale.
            const auto x0 = normal(n, scale.mean, scale.stddev, seed);
            const auto delta = normal(n, 0.0f, scale.stddev, seed + 1);
            const auto gamma = uniform(n, 0.5f, 1.5f, seed + 2);
            const auto beta = uniform(n, -1.0f, 1.0f, seed + 3);
            const float* d = with_delta ? delta.data() : nullptr;

            auto x_ref = x0;
            std::vector<float> expected(n);
            ref::add_layer_norm_row(x_ref.data(), d, gamma.data(), beta.data(), eps, n,
                                    expected.data());
            auto x = x0;
            std::vector<float> separate(n);
            float* normed = in_place ? x.data() : separate.data();
            ArchKernels<TestType>::add_layer_norm_row(x.data(), d, gamma.data(), beta.data(), eps,
                                                      n, normed);
            const std::vector<float> actual(normed, normed + n);
            // The residual sum is one float add per value, as in the reference: exact.
            if (!in_place) REQUIRE(x == x_ref);
            const double diff = max_abs_diff(actual, expected);
            worst = diff > worst ? diff : worst;
          }
          CAPTURE(scale.mean, scale.stddev, eps, with_delta, in_place, worst);
          // Outputs are (x - mean)/std·gamma + beta, |.| <= ~8: float sums over n <= 1023 terms
          // give mean and variance a relative error well under 1e-6 of the spread, whatever the
          // offset.
          CHECK(worst <= 2e-6);
        }
      }
    }
  }
}

TEMPLATE_TEST_CASE("kernel add and sum_rows match plain loops", "[kernels]", Avx512, Avx2) {
  if (!cpu_runs<TestType>()) return;
  for (int64_t n : kSizes) {
    CAPTURE(n);
    const uint32_t seed = 500 + static_cast<uint32_t>(n);
    const auto a = normal(n, 0.0f, 1.0f, seed);
    const auto b = normal(n, 0.0f, 1.0f, seed + 1);
    const auto c = normal(n, 0.0f, 1.0f, seed + 2);

    // Same float operations in the same order as the loops: bit-identical.
    auto y = a, y_expected = a;
    for (int64_t i = 0; i < n; ++i) y_expected[i] += b[i];
    ArchKernels<TestType>::add(y.data(), b.data(), n);
    CHECK(y == y_expected);

    std::vector<float> two(n), two_expected(n), three(n), three_expected(n);
    for (int64_t i = 0; i < n; ++i) {
      two_expected[i] = a[i] + b[i];
      three_expected[i] = a[i] + b[i] + c[i];
    }
    ArchKernels<TestType>::sum_rows(two.data(), a.data(), b.data(), nullptr, n);
    ArchKernels<TestType>::sum_rows(three.data(), a.data(), b.data(), c.data(), n);
    CHECK(two == two_expected);
    CHECK(three == three_expected);
  }
}

TEMPLATE_TEST_CASE("kernel int8 quantization and rescaling match their plain twins", "[kernels]",
                   Avx512, Avx2) {
  if (!cpu_runs<TestType>()) return;
  for (int64_t n : kSizes) {
    CAPTURE(n);
    const uint32_t seed = 900 + static_cast<uint32_t>(n);
    // Same float operations as the twin: bit-identical scales and codes. The rows include a
    // near-tie of rounding (x / s close to k + 0.5).
    auto x = normal(n, 0.0f, 3.0f, seed);
    if (n > 3) {
      // x[0] holds the row's largest |x|, so the scale is |x[0]| / 127 and x[1] / scale is 2.5
      // up to float rounding: a tie (or near-tie) of round-to-nearest-even.
      float largest = 0.0f;
      for (float v : x) largest = std::max(largest, std::fabs(v));
      x[0] = 1.5f * largest;
      x[1] = x[0] / 127.0f * 2.5f;
    }
    for (const float scale_of_row : {1.0f, 0.0f}) {
      auto row = x;
      for (float& v : row) v *= scale_of_row;  // 0: the all-zero row, scale 1
      std::vector<int8_t> q(n), q_expected(n);
      const float s = ArchKernels<TestType>::quantize_row(row.data(), n, q.data());
      const float s_expected = detail::quantize_row(row.data(), n, q_expected.data());
      CHECK(s == s_expected);
      CHECK(q == q_expected);
    }

    // The rescaling is one fused multiply-add per value: bit-identical to std::fma.
    const auto bias = normal(n, 0.0f, 1.0f, seed + 1);
    auto y = x, y_expected = x;
    for (int64_t i = 0; i < n; ++i) y_expected[i] = std::fma(x[i], 0.37f, bias[i]);
    ArchKernels<TestType>::scale_add_row(y.data(), n, 0.37f, bias.data());
    CHECK(y == y_expected);
  }
}

TEMPLATE_TEST_CASE("kernel int8 quantization of rows with NaN and infinities matches its twin",
                   "[kernels][int8]", Avx512, Avx2) {
  if (!cpu_runs<TestType>()) return;
  constexpr float kInf = std::numeric_limits<float>::infinity();
  constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
  for (int64_t n : kSizes) {
    if (n < 3) continue;
    CAPTURE(n);
    auto row = normal(n, 0.0f, 3.0f, 950 + static_cast<uint32_t>(n));
    // The non-finite values at the start, in the middle and in the last (possibly partial) batch.
    const int64_t nan_at = 0, inf_at = n / 2, minus_inf_at = n - 1;
    float largest = 0.0f;
    for (int64_t i = 0; i < n; ++i) {
      if (i != nan_at && i != inf_at && i != minus_inf_at)
        largest = std::max(largest, std::fabs(row[i]));
    }
    row[nan_at] = kNaN;
    row[inf_at] = kInf;
    row[minus_inf_at] = -kInf;
    std::vector<int8_t> q(n), q_expected(n);
    const float s = ArchKernels<TestType>::quantize_row(row.data(), n, q.data());
    const float s_expected = detail::quantize_row(row.data(), n, q_expected.data());
    // The scale comes from the finite values only (the same float division as the twin).
    CHECK(s == largest / 127.0f);
    CHECK(s == s_expected);
    CHECK(q == q_expected);
    CHECK(q[nan_at] == 0);
    CHECK(q[inf_at] == 127);
    CHECK(q[minus_inf_at] == -127);
  }
  // Nothing finite and non-zero: scale 1, as for an all-zero row.
  const std::vector<float> only = {kNaN, kInf, -kInf, 0.0f, kNaN};
  std::vector<int8_t> q(only.size());
  CHECK(ArchKernels<TestType>::quantize_row(only.data(), 5, q.data()) == 1.0f);
  CHECK(q == std::vector<int8_t>{0, 127, -127, 0, 0});
}

// Two heads of head_dim in packed [q | k | v] rows of `length` tokens, plus 5 floats of padding per
// row so that no stride is a multiple of the SIMD width; the tests run head 1.
struct TwoHeads {
  int64_t hidden, row_stride;
  std::vector<float> qkv;
  TwoHeads(int64_t head_dim, int64_t length, uint32_t seed)
      : hidden(2 * head_dim),
        row_stride(3 * hidden + 5),
        qkv(normal(length * row_stride, 0.0f, 1.0f, seed)) {}
};

TEMPLATE_TEST_CASE("kernel attention head matches the reference", "[kernels]", Avx512, Avx2) {
  if (!cpu_runs<TestType>()) return;
  for (int64_t head_dim : {1, 8, 24, 33, 64, 96}) {
    for (int64_t length : {1, 3, 17, 128, 700}) {
      if (length == 700 && head_dim != 64) continue;  // one long sequence, at BERT's head size
      CAPTURE(head_dim, length);
      const TwoHeads heads(head_dim, length, 600 + static_cast<uint32_t>(head_dim * length));
      const auto& [hidden, row_stride, qkv] = heads;
      const int64_t head_offset = head_dim;
      const float sentinel = -12345.0f;

      std::vector<float> expected(length * hidden, sentinel), actual(length * hidden, sentinel);
      ref::attention_head(qkv.data() + head_offset, row_stride, hidden, length, head_dim,
                          expected.data() + head_offset, hidden);
      std::vector<float> scratch(kernels::attention_scratch_floats(length, head_dim));
      ArchKernels<TestType>::attention_head(qkv.data() + head_offset, row_stride, hidden, length,
                                            head_dim, actual.data() + head_offset, hidden,
                                            scratch.data());
      const double diff = max_abs_diff(actual, expected);
      CAPTURE(diff);
      // Scores are float dot products over head_dim <= 96 terms (~1e-6 relative), which perturb the
      // weights by about as much; outputs are weighted means of N(0, 1) values, |.| < ~5.
      CHECK(diff <= 1e-5);
      // Only this head's columns were written (the sentinel survives in head 0's).
      for (int64_t t = 0; t < length; ++t) CHECK(actual[t * hidden] == sentinel);
    }
  }
}

TEST_CASE("round_to_bf16 rounds to nearest even and flushes denormals", "[kernels][bf16]") {
  CHECK(ref::round_to_bf16(1.0f) == 1.0f);
  // 1 + 2^-8 is halfway between bf16 neighbours 1 and 1 + 2^-7: ties go to the even one, 1.
  CHECK(ref::round_to_bf16(1.0f + 0x1p-8f) == 1.0f);
  CHECK(ref::round_to_bf16(1.0f + 3 * 0x1p-8f) == 1.0f + 0x1p-6f);  // tie, up to the even one
  CHECK(ref::round_to_bf16(1.0f + 0x1p-8f + 0x1p-20f) == 1.0f + 0x1p-7f);  // above the tie
  CHECK(ref::round_to_bf16(-1.0f - 0x1p-8f - 0x1p-20f) == -1.0f - 0x1p-7f);
  CHECK(ref::round_to_bf16(std::numeric_limits<float>::max()) == INFINITY);
  CHECK(ref::round_to_bf16(1e-40f) == 0.0f);  // a denormal
  CHECK(std::signbit(ref::round_to_bf16(-1e-40f)));
  CHECK(std::isnan(ref::round_to_bf16(std::numeric_limits<float>::quiet_NaN())));
}

TEST_CASE("to_bf16 rounds as round_to_bf16, bit for bit", "[kernels][bf16]") {
  if (!kernels::avx512_bf16_supported()) {
    WARN("this CPU has no AVX512-BF16: to_bf16 not tested");
    return;
  }
  for (int64_t n : kSizes) {
    CAPTURE(n);
    auto x = normal(n, 0.0f, 10.0f, 950 + static_cast<uint32_t>(n));
    // Ties (1 + 2^-8 between 1 and 1 + 2^-7), a denormal, infinities, NaN and the largest float.
    const float specials[] = {1.0f + 0x1p-8f,
                              1.0f + 3 * 0x1p-8f,
                              -1.0f - 0x1p-8f,
                              1e-40f,
                              -1e-40f,
                              INFINITY,
                              -INFINITY,
                              NAN,
                              std::numeric_limits<float>::max()};
    for (size_t i = 0; i < std::size(specials) && static_cast<int64_t>(i) < n; ++i)
      x[(i * 7) % n] = specials[i];
    std::vector<uint16_t> bits(n + 1, 0xabcd);
    kernels::to_bf16(x.data(), n, bits.data());
    for (int64_t i = 0; i < n; ++i) {
      const float expected = ref::round_to_bf16(x[i]);
      uint32_t as_float = static_cast<uint32_t>(bits[i]) << 16;
      float actual;
      std::memcpy(&actual, &as_float, sizeof actual);
      CAPTURE(i, x[i]);
      if (std::isnan(expected)) {
        CHECK(std::isnan(actual));
      } else {
        CHECK(std::memcmp(&actual, &expected, sizeof actual) == 0);
      }
    }
    CHECK(bits[n] == 0xabcd);  // nothing written past the end
  }
}

TEST_CASE("bf16 attention head matches its plain twin", "[kernels][bf16]") {
  if (!kernels::avx512_bf16_supported()) {
    WARN("this CPU has no AVX512-BF16: attention_head_bf16 not tested");
    return;
  }
  for (int64_t head_dim : {1, 8, 17, 33, 64, 96}) {
    for (int64_t length : {1, 2, 3, 17, 33, 128, 700}) {
      if (length == 700 && head_dim != 64) continue;
      CAPTURE(head_dim, length);
      const TwoHeads heads(head_dim, length, 900 + static_cast<uint32_t>(head_dim * length));
      const auto& [hidden, row_stride, qkv] = heads;
      const float sentinel = -12345.0f;
      std::vector<float> expected(length * hidden, sentinel), actual(length * hidden, sentinel);
      ref::attention_head_bf16(qkv.data() + head_dim, row_stride, hidden, length, head_dim,
                               expected.data() + head_dim, hidden);
      std::vector<float> scratch(kernels::attention_bf16_scratch_floats(length, head_dim));
      kernels::attention_head_bf16(qkv.data() + head_dim, row_stride, hidden, length, head_dim,
                                   actual.data() + head_dim, hidden, scratch.data());
      // Both multiply the same bf16 values; they differ by float32 rounding (~1e-6) and, for the
      // rare weight within that distance of a bf16 rounding boundary, by one bf16 step (2^-8
      // relative) of that weight: at most 2^-8 · |v| (< ~5) per such weight, rare enough that
      // the mean difference stays ~1e-6. Rounding the wrong way everywhere (truncation, say) would
      // move the mean to ~1e-3.
      double max_diff = 0.0, sum_diff = 0.0;
      for (int64_t t = 0; t < length; ++t) {
        for (int64_t d = 0; d < head_dim; ++d) {
          const double diff = std::abs(actual[t * hidden + head_dim + d] -
                                       static_cast<double>(expected[t * hidden + head_dim + d]));
          max_diff = std::max(max_diff, diff);
          sum_diff += diff;
        }
        CHECK(actual[t * hidden] == sentinel);  // head 0's columns untouched
      }
      const double mean_diff = sum_diff / static_cast<double>(length * head_dim);
      CAPTURE(max_diff, mean_diff);
      CHECK(max_diff <= 0x1p-8 * 5.0);
      CHECK(mean_diff <= 1e-5);
    }
  }
}

TEST_CASE("dispatched kernels are the selected ISA's", "[kernels]") {
  const int64_t n = 100;
  const auto input = normal(n, 0.0f, 3.0f, 700);
  const auto gamma = uniform(n, 0.5f, 1.5f, 701);
  const auto beta = uniform(n, -1.0f, 1.0f, 702);
  auto dispatched = input, direct = input;
  auto dispatched_norm = input, direct_norm = input;
  kernels::softmax(dispatched.data(), n);
  kernels::add_layer_norm_row(dispatched_norm.data(), nullptr, gamma.data(), beta.data(), 1e-12f, n,
                              dispatched_norm.data());
  if (kernels::selected_isa() == kernels::isa_name<Avx512>) {
    ArchKernels<Avx512>::softmax(direct.data(), n);
    ArchKernels<Avx512>::add_layer_norm_row(direct_norm.data(), nullptr, gamma.data(), beta.data(),
                                            1e-12f, n, direct_norm.data());
  } else {
    ArchKernels<Avx2>::softmax(direct.data(), n);
    ArchKernels<Avx2>::add_layer_norm_row(direct_norm.data(), nullptr, gamma.data(), beta.data(),
                                          1e-12f, n, direct_norm.data());
  }
  CHECK(dispatched == direct);
  CHECK(dispatched_norm == direct_norm);
}
