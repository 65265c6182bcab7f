// The attention options of AttentionSpec (ALiBi bias, local window) and LayerNorm without a bias:
// the reference against values worked out by hand, then each fast kernel (f32 per ISA, AVX512-BF16)
// against its plain twin on random heads whose lengths run through 1..70 (odd, even, around every
// SIMD width and query block) and one long sequence, with windows smaller than, equal to and
// larger than the length.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <vector>

#include "backend/backend.hpp"
#include "backend/optimized/kernels/kernels.hpp"
#include "backend/optimized/kernels/kernels_arch.hpp"
#include "backend/reference/reference_ops.hpp"
#include "encoder/weights.hpp"

using namespace vecformer;
namespace kernels = vecformer::detail::kernels;
namespace ref = vecformer::detail::reference;
using kernels::ArchKernels;
using kernels::Avx2;
using kernels::Avx512;

namespace {

std::vector<float> normal(int64_t n, float mean, float stddev, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(mean, stddev);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = std::fabs(static_cast<double>(a[i]) - b[i]);
    if (!(d <= worst)) worst = std::isnan(d) ? std::numeric_limits<double>::infinity() : d;
  }
  return worst;
}

template <class Arch>
bool cpu_runs() {
  if (kernels::cpu_supports<Arch>()) return true;
  WARN("this CPU lacks " << kernels::isa_name<Arch> << ": its kernels are not tested here");
  return false;
}

// Two heads of head_dim in packed [q | k | v] rows of `length` tokens, plus 5 floats of padding per
// row so that no stride is a multiple of the SIMD width; the tests run head 1 (as
// test_kernels.cpp).
struct TwoHeads {
  int64_t head_dim, length, hidden, row_stride;
  std::vector<float> qkv;
  TwoHeads(int64_t head_dim_, int64_t length_, uint32_t seed)
      : head_dim(head_dim_),
        length(length_),
        hidden(2 * head_dim_),
        row_stride(3 * hidden + 5),
        qkv(normal(length_ * row_stride, 0.0f, 1.0f, seed)) {}
  const float* head() const { return qkv.data() + head_dim; }
  float* head() { return qkv.data() + head_dim; }
};

constexpr float kSentinel = -12345.0f;

// Head 1's context from reference::attention_head (or its bf16 twin).
std::vector<float> reference_context(const TwoHeads& h, float slope, int64_t window, bool bf16) {
  std::vector<float> context(static_cast<size_t>(h.length * h.hidden), kSentinel);
  if (bf16) {
    ref::attention_head_bf16(h.head(), h.row_stride, h.hidden, h.length, h.head_dim,
                             context.data() + h.head_dim, h.hidden, slope, window);
  } else {
    ref::attention_head(h.head(), h.row_stride, h.hidden, h.length, h.head_dim,
                        context.data() + h.head_dim, h.hidden, slope, window);
  }
  return context;
}

template <class Arch>
std::vector<float> kernel_context(const TwoHeads& h, float slope, int64_t window) {
  std::vector<float> context(static_cast<size_t>(h.length * h.hidden), kSentinel);
  std::vector<float> scratch(
      static_cast<size_t>(kernels::attention_scratch_floats(h.length, h.head_dim)));
  ArchKernels<Arch>::attention_head(h.head(), h.row_stride, h.hidden, h.length, h.head_dim,
                                    context.data() + h.head_dim, h.hidden, scratch.data(), slope,
                                    window);
  return context;
}

std::vector<float> bf16_kernel_context(const TwoHeads& h, float slope, int64_t window) {
  std::vector<float> context(static_cast<size_t>(h.length * h.hidden), kSentinel);
  std::vector<float> scratch(
      static_cast<size_t>(kernels::attention_bf16_scratch_floats(h.length, h.head_dim)));
  kernels::attention_head_bf16(h.head(), h.row_stride, h.hidden, h.length, h.head_dim,
                               context.data() + h.head_dim, h.hidden, scratch.data(), slope,
                               window);
  return context;
}

struct Options {
  float slope;
  int64_t window;
};

// ALiBi alone, windows (odd and even; below, at and above the length; 1 = the token alone), and
// both together, for a sequence of `length` tokens.
std::vector<Options> options_for(int64_t length) {
  std::vector<Options> options = {{0.5f, 0}, {0.0625f, 0}, {0.0f, 1},  {0.0f, 2},
                                  {0.0f, 7}, {0.0f, 8},    {0.25f, 5}, {0.0078125f, 16}};
  for (int64_t w : {length - 1, length, length + 1, 2 * length + 3}) {
    if (w > 0) {
      options.push_back({0.0f, w});
      options.push_back({0.125f, w});
    }
  }
  return options;
}

// Every context column of head 0 still holds the sentinel: the kernel wrote only its own head.
bool head0_untouched(const std::vector<float>& context, const TwoHeads& h) {
  for (int64_t t = 0; t < h.length; ++t) {
    if (context[static_cast<size_t>(t * h.hidden)] != kSentinel) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("reference ALiBi subtracts slope times distance from the scaled scores",
          "[reference][attention-options]") {
  // Three tokens, head_dim 4. Every query is (1, 1, 1, 1) and key j is (a_j, 0, 0, 0), so q·k_j =
  // a_j and the scaled similarity is a_j / 2. ALiBi with slope s then gives query i the scores
  // a_j / 2 - s·|i - j| (the bias after the scaling: adding it before would halve it).
  const double a[3] = {2.0, -1.0, 0.5};
  const double v[3] = {1.0, 10.0, 100.0};  // value j: (v_j, 0, 0, 0)
  const float slope = 0.5f;
  std::vector<float> qkv;
  for (int t = 0; t < 3; ++t) {
    const std::vector<float> row = {
        1, 1, 1, 1, static_cast<float>(a[t]), 0, 0, 0, static_cast<float>(v[t]), 0, 0, 0};
    qkv.insert(qkv.end(), row.begin(), row.end());
  }
  std::vector<float> context(12, kSentinel), weights(3);
  ref::attention_head(qkv.data(), 12, 4, 3, 4, context.data(), 4, slope);
  for (int i = 0; i < 3; ++i) {
    double e[3], sum = 0.0;
    for (int j = 0; j < 3; ++j) sum += e[j] = std::exp(a[j] / 2 - 0.5 * std::abs(i - j));
    double expected = 0.0;
    for (int j = 0; j < 3; ++j) expected += e[j] / sum * v[j];
    CAPTURE(i);
    CHECK(context[i * 4] == Approx(expected).epsilon(1e-6));
    CHECK(context[i * 4 + 1] == 0.0f);
    ref::attention_weights(qkv.data(), 12, 4, 3, 4, i, weights.data(), slope);
    for (int j = 0; j < 3; ++j) CHECK(weights[j] == Approx(e[j] / sum).epsilon(1e-6));
  }
  // No slope: plain attention, different numbers (the bias is not a no-op).
  ref::attention_head(qkv.data(), 12, 4, 3, 4, context.data(), 4);
  double e[3], sum = 0.0, expected = 0.0;
  for (int j = 0; j < 3; ++j) sum += e[j] = std::exp(a[j] / 2);
  for (int j = 0; j < 3; ++j) expected += e[j] / sum * v[j];
  CHECK(context[0] == Approx(expected).epsilon(1e-6));
}

TEST_CASE("reference local window: query i sees keys j with |i - j| <= window / 2",
          "[reference][attention-options]") {
  // Five tokens, head_dim 1, zero queries: every similarity is 0, so each token's attention value
  // is the plain mean of the values within its window.
  const std::vector<float> values = {1, 10, 100, 1000, 10000};
  std::vector<float> qkv;
  for (float value : values) qkv.insert(qkv.end(), {0.0f, 0.0f, value});
  const auto run = [&](int64_t window) {
    std::vector<float> context(5);
    ref::attention_head(qkv.data(), 3, 1, 5, 1, context.data(), 1, 0.0f, window);
    return context;
  };
  // Windows 2 and 3 both reach one token each way (3 / 2 = 1, as ModernBERT's local_attention //
  // 2).
  for (int64_t window : {2, 3}) {
    CAPTURE(window);
    const auto c = run(window);
    CHECK(c[0] == Approx((1 + 10) / 2.0));
    CHECK(c[2] == Approx((10 + 100 + 1000) / 3.0));
    CHECK(c[4] == Approx((1000 + 10000) / 2.0));
  }
  const auto c4 = run(4);  // two each way
  CHECK(c4[0] == Approx((1 + 10 + 100) / 3.0));
  CHECK(c4[2] == Approx(11111 / 5.0));
  CHECK(c4[3] == Approx((10 + 100 + 1000 + 10000) / 4.0));
  const auto c1 = run(1);  // the token alone
  CHECK(c1 == values);
  // No window, or one wider than the sequence: every token sees all five.
  for (int64_t window : {0, 8, 100}) {
    const auto c = run(window);
    for (float x : c) CHECK(x == Approx(11111 / 5.0));
  }
  // ModernBERT's local_attention 128 on 70 tokens: token 0 attends to tokens 0..64 and no further,
  // token 69 to 5..69; the weights outside are exactly 0 and those inside uniform.
  std::vector<float> long_qkv(70 * 3, 0.0f), weights(70);
  for (int64_t focus : {0, 69}) {
    ref::attention_weights(long_qkv.data(), 3, 1, 70, 1, focus, weights.data(), 0.0f, 128);
    for (int64_t j = 0; j < 70; ++j) {
      CAPTURE(focus, j);
      if (std::abs(focus - j) <= 64) {
        CHECK(weights[j] == Approx(1.0 / 65));
      } else {
        CHECK(weights[j] == 0.0f);
      }
    }
  }
}

TEST_CASE("reference ALiBi and window together", "[reference][attention-options]") {
  // Zero queries, slope 1, window 2 on four tokens: token 1 sees tokens 0..2 with scores -1, 0, -1.
  const std::vector<float> values = {1, 10, 100, 1000};
  std::vector<float> qkv;
  for (float value : values) qkv.insert(qkv.end(), {0.0f, 0.0f, value});
  std::vector<float> context(4);
  ref::attention_head(qkv.data(), 3, 1, 4, 1, context.data(), 1, 1.0f, 2);
  const double e = std::exp(-1.0), sum = 1 + 2 * e;
  CHECK(context[1] == Approx((e * 1 + 10 + e * 100) / sum));
  CHECK(context[0] == Approx((1 + e * 10) / (1 + e)));
}

TEMPLATE_TEST_CASE("kernel attention head with ALiBi and a local window matches the reference",
                   "[kernels][attention-options]", Avx512, Avx2) {
  if (!cpu_runs<TestType>()) return;
  for (int64_t head_dim : {8, 33, 64}) {
    for (int64_t length = 1; length <= 70; ++length) {
      // Every length at head_dim 33 (not a multiple of any width); a spread at 8 and 64.
      if (head_dim != 33 && length % 7 != 1 && length != 16 && length != 64) continue;
      const TwoHeads h(head_dim, length, 1300 + static_cast<uint32_t>(head_dim * 100 + length));
      for (const Options& o : options_for(length)) {
        CAPTURE(head_dim, length, o.slope, o.window);
        const auto expected = reference_context(h, o.slope, o.window, false);
        const auto actual = kernel_context<TestType>(h, o.slope, o.window);
        // As the plain kernel test: float scores over <= 64 terms (~1e-6 relative) move the weights
        // by about as much; the ALiBi bias is one fma (one rounding of |score| <= ~40); outputs are
        // weighted means of N(0, 1) values, |.| < ~5.
        CHECK(max_abs_diff(actual, expected) <= 1e-5);
        CHECK(head0_untouched(actual, h));
      }
    }
  }
}

TEMPLATE_TEST_CASE("kernel attention with a window wider than the sequence is plain attention",
                   "[kernels][attention-options]", Avx512, Avx2) {
  if (!cpu_runs<TestType>()) return;
  // Bit for bit: a window reaching past both ends leaves every block the whole sequence.
  for (int64_t length : {1, 5, 17, 40}) {
    const TwoHeads h(24, length, 1700 + static_cast<uint32_t>(length));
    CAPTURE(length);
    CHECK(kernel_context<TestType>(h, 0.0f, 2 * length) == kernel_context<TestType>(h, 0.0f, 0));
    CHECK(kernel_context<TestType>(h, 0.25f, 2 * length + 1) ==
          kernel_context<TestType>(h, 0.25f, 0));
  }
}

TEMPLATE_TEST_CASE("kernel windowed attention on a long sequence matches the reference",
                   "[kernels][attention-options]", Avx512, Avx2) {
  if (!cpu_runs<TestType>()) return;
  // ModernBERT's local_attention 128 (64 each way) on 600 tokens at head_dim 64, with and without
  // an ALiBi slope.
  const TwoHeads h(64, 600, 1900);
  for (float slope : {0.0f, 0.0625f}) {
    CAPTURE(slope);
    const auto expected = reference_context(h, slope, 128, false);
    const auto actual = kernel_context<TestType>(h, slope, 128);
    CHECK(max_abs_diff(actual, expected) <= 1e-5);
    // And it is not plain attention: the window changes the result (by far more than the
    // tolerance, even where the slope leaves the keys beyond it ~1% of the weight).
    CHECK(max_abs_diff(actual, kernel_context<TestType>(h, slope, 0)) > 1e-3);
  }
}

TEMPLATE_TEST_CASE("kernel windowed attention never reads the keys and values of far blocks",
                   "[kernels][attention-options]", Avx512, Avx2) {
  if (!cpu_runs<TestType>()) return;
  // Token `poisoned` gets NaN in its key and value. Queries within the window reach it and turn
  // NaN; any product over a key block holding it would too (0 · NaN is NaN), so queries farther
  // than the window plus one query block plus one 16-key block (the rounding of the block's key
  // range) must stay finite: their blocks skip it, which is what makes the cost O(window).
  const int64_t length = 300, window = 32, reach = window / 2, poisoned = 150;
  TwoHeads h(16, length, 2100);
  float* row = h.head() + poisoned * h.row_stride;
  for (int64_t d = 0; d < h.head_dim; ++d) {
    row[h.hidden + d] = std::numeric_limits<float>::quiet_NaN();
    row[2 * h.hidden + d] = std::numeric_limits<float>::quiet_NaN();
  }
  const auto context = kernel_context<TestType>(h, 0.125f, window);
  for (int64_t i = 0; i < length; ++i) {
    const int64_t distance = std::abs(i - poisoned);
    const float first = context[static_cast<size_t>(i * h.hidden + h.head_dim)];
    CAPTURE(i, distance);
    if (distance <= reach) CHECK(std::isnan(first));
    if (distance > reach + kernels::kAttentionQueryBlock + 16) CHECK(std::isfinite(first));
  }
}

TEST_CASE("bf16 attention head with ALiBi and a local window matches its plain twin",
          "[kernels][bf16][attention-options]") {
  if (!kernels::avx512_bf16_supported()) {
    WARN("this CPU has no AVX512-BF16: attention_head_bf16 with options not tested");
    return;
  }
  // Both multiply the same bf16 values and differ by float32 rounding (~1e-6) and, for the rare
  // weight within that distance of a bf16 rounding boundary, by one bf16 step (2^-8 relative) of
  // that weight times a value (|v| < ~5): at most 2^-8 · 5 anywhere, and rare. Rows touched by
  // such a flip (a difference above 1e-5) are counted over the whole sweep: rounding the wrong
  // way everywhere (truncation, say), or a misplaced bias, would touch most rows.
  int64_t rows = 0, flipped_rows = 0;
  const auto check = [&](const TwoHeads& h, const Options& o) {
    const auto expected = reference_context(h, o.slope, o.window, true);
    const auto actual = bf16_kernel_context(h, o.slope, o.window);
    double max_diff = 0.0;
    for (int64_t t = 0; t < h.length; ++t) {
      double row_diff = 0.0;
      for (int64_t d = 0; d < h.head_dim; ++d) {
        const size_t at = static_cast<size_t>(t * h.hidden + h.head_dim + d);
        const double diff = std::abs(static_cast<double>(actual[at]) - expected[at]);
        row_diff = std::isnan(diff) ? INFINITY : std::max(row_diff, diff);
      }
      max_diff = std::max(max_diff, row_diff);
      rows += 1;
      flipped_rows += row_diff > 1e-5 ? 1 : 0;
    }
    CAPTURE(max_diff);
    CHECK(max_diff <= 0x1p-8 * 5.0);
    CHECK(head0_untouched(actual, h));
  };
  for (int64_t head_dim : {17, 64}) {
    for (int64_t length = 1; length <= 70; ++length) {
      if (head_dim == 64 && length % 5 != 1 && length != 32 && length != 64) continue;
      const TwoHeads h(head_dim, length, 2300 + static_cast<uint32_t>(head_dim * 100 + length));
      for (const Options& o : options_for(length)) {
        CAPTURE(head_dim, length, o.slope, o.window);
        check(h, o);
      }
    }
  }
  const TwoHeads long_head(64, 600, 2500);
  for (float slope : {0.0f, 0.0625f}) {
    CAPTURE(slope);
    check(long_head, {slope, 128});
  }
  // About 0.1% of rows on the machine this was written on.
  CAPTURE(rows, flipped_rows);
  CHECK(flipped_rows * 100 <= rows);
}

TEST_CASE("layer norm without beta has no bias term, on the reference and every kernel",
          "[kernels][reference][attention-options]") {
  // Hand-worked: x = 1, 2, 3, 4 (mean 2.5, variance 1.25), gamma 1, 2, 1, 1, no beta.
  {
    std::vector<float> x = {1, 2, 3, 4}, out(4);
    const std::vector<float> gamma = {1, 2, 1, 1};
    ref::add_layer_norm_row(x.data(), nullptr, gamma.data(), nullptr, 0.0f, 4, out.data());
    const double s = 1.0 / std::sqrt(1.25);
    CHECK(out[0] == Approx(-1.5 * s));
    CHECK(out[1] == Approx(2 * -0.5 * s));
    CHECK(out[3] == Approx(1.5 * s));
  }
  for (int64_t n : {1, 7, 16, 33, 100, 768}) {
    CAPTURE(n);
    const auto x0 = normal(n, 3.0f, 2.0f, 2700 + static_cast<uint32_t>(n));
    const auto delta = normal(n, 0.0f, 1.0f, 2800 + static_cast<uint32_t>(n));
    const auto gamma = normal(n, 1.0f, 0.1f, 2900 + static_cast<uint32_t>(n));
    const std::vector<float> zeros(static_cast<size_t>(n), 0.0f);
    const auto run = [&](auto norm_row, const float* beta) {
      auto x = x0;
      std::vector<float> out(static_cast<size_t>(n));
      norm_row(x.data(), delta.data(), gamma.data(), beta, 1e-5f, n, out.data());
      return out;
    };
    // No beta is exactly a zero beta, on every implementation.
    const auto reference = run(&ref::add_layer_norm_row, nullptr);
    CHECK(reference == run(&ref::add_layer_norm_row, zeros.data()));
    if (kernels::cpu_supports<Avx512>()) {
      const auto k = run(&ArchKernels<Avx512>::add_layer_norm_row, nullptr);
      CHECK(k == run(&ArchKernels<Avx512>::add_layer_norm_row, zeros.data()));
      CHECK(max_abs_diff(k, reference) <= 2e-6);  // as the kernel layer norm test
    }
    if (kernels::cpu_supports<Avx2>()) {
      const auto k = run(&ArchKernels<Avx2>::add_layer_norm_row, nullptr);
      CHECK(k == run(&ArchKernels<Avx2>::add_layer_norm_row, zeros.data()));
      CHECK(max_abs_diff(k, reference) <= 2e-6);
    }
  }
}

TEST_CASE("both backends' add_layer_norm take an empty beta as no bias",
          "[backend][attention-options]") {
  const int64_t rows = 3, cols = 37;
  const auto x0 = normal(rows * cols, 0.0f, 2.0f, 3100);
  detail::Norm with_zero_beta{normal(cols, 1.0f, 0.1f, 3101), std::vector<float>(cols, 0.0f)};
  detail::Norm without_beta{with_zero_beta.gamma, {}};
  const auto exec = detail::execution_for(2);
  const std::unique_ptr<detail::Backend> backends[] = {detail::make_reference_backend(),
                                                       detail::make_optimized_backend()};
  for (const auto& backend : backends) {
    CAPTURE(backend->name());
    const auto run = [&](const detail::Norm& norm) {
      auto x = x0;
      std::vector<float> out(x.size());
      backend->add_layer_norm(x.data(), nullptr, norm, 1e-5f, rows, cols, out.data(), exec);
      return out;
    };
    CHECK(run(without_beta) == run(with_zero_beta));
  }
}

TEST_CASE("both backends' attention give head h its own slope and every sequence the window",
          "[backend][attention-options]") {
  // Three sequences packed, three heads with different slopes: each (sequence, head) block must
  // be reference::attention_head of that block with slopes[h] and the spec's window.
  const int64_t heads = 3, head_dim = 20, hidden = heads * head_dim;
  const std::vector<int64_t> offsets = {0, 9, 10, 47};
  const int64_t tokens = offsets.back();
  const auto qkv = normal(tokens * 3 * hidden, 0.0f, 1.0f, 3300);
  const std::vector<float> slopes = {0.5f, 0.0625f, 0.25f};
  const auto exec = detail::execution_for(2);
  for (int64_t window : {0, 6}) {
    CAPTURE(window);
    std::vector<float> expected(static_cast<size_t>(tokens * hidden));
    for (size_t s = 0; s + 1 < offsets.size(); ++s) {
      for (int64_t h = 0; h < heads; ++h) {
        ref::attention_head(qkv.data() + offsets[s] * 3 * hidden + h * head_dim, 3 * hidden, hidden,
                            offsets[s + 1] - offsets[s], head_dim,
                            expected.data() + offsets[s] * hidden + h * head_dim, hidden,
                            slopes[static_cast<size_t>(h)], window);
      }
    }
    detail::AttentionSpec spec;
    spec.alibi_slopes = slopes.data();
    spec.window = window;
    const std::unique_ptr<detail::Backend> backends[] = {detail::make_reference_backend(),
                                                         detail::make_optimized_backend()};
    for (const auto& backend : backends) {
      CAPTURE(backend->name());
      const auto scratch = backend->make_scratch();
      std::vector<float> context(static_cast<size_t>(tokens * hidden), kSentinel);
      backend->attention(qkv.data(), offsets, heads, head_dim, spec, context.data(), *scratch,
                         exec);
      // The reference backend is the same code: identical. The kernels: as the twin tests.
      CHECK(max_abs_diff(context, expected) <= (backend->name() == "reference" ? 0.0 : 1e-5));
    }
  }
}
