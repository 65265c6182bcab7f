// The reference ops against values worked out by hand: they are the specification the fast kernels are
// held to, so they are checked independently of any other code.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "backend/reference/reference_ops.hpp"
#include "vecformer/config.hpp"

using namespace vecformer;
namespace ref = vecformer::detail::reference;

TEST_CASE("reference softmax rows sum to one and follow exp ratios", "[reference]") {
  std::vector<float> x = {1.0f, 2.0f, 3.0f};
  ref::softmax(x.data(), 3);
  const double e1 = std::exp(1.0), e2 = std::exp(2.0), e3 = std::exp(3.0);
  const double sum = e1 + e2 + e3;
  CHECK(x[0] == Approx(e1 / sum).epsilon(1e-6));
  CHECK(x[2] == Approx(e3 / sum).epsilon(1e-6));
  CHECK(x[0] + x[1] + x[2] == Approx(1.0).epsilon(1e-6));

  std::vector<float> large = {1e4f, -1e4f, 1e4f};
  ref::softmax(large.data(), 3);
  CHECK(large[0] == Approx(0.5));
  CHECK(large[1] == 0.0f);
}

TEST_CASE("reference layer norm normalises, scales and shifts", "[reference]") {
  std::vector<float> x = {1.0f, 2.0f, 3.0f, 4.0f};
  const std::vector<float> delta = {1.0f, 1.0f, 1.0f, 1.0f};
  const std::vector<float> gamma = {1.0f, 2.0f, 1.0f, 1.0f};
  const std::vector<float> beta = {0.0f, 0.0f, 0.0f, 10.0f};
  std::vector<float> out(4);
  ref::add_layer_norm_row(x.data(), delta.data(), gamma.data(), beta.data(), 0.0f, 4, out.data());
  CHECK(x[0] == 2.0f);  // the residual sum is kept in x
  // x = 2,3,4,5: mean 3.5, variance 1.25
  const double s = 1.0 / std::sqrt(1.25);
  CHECK(out[0] == Approx(-1.5 * s));
  CHECK(out[1] == Approx(2 * -0.5 * s));
  CHECK(out[3] == Approx(1.5 * s + 10));
}

TEST_CASE("reference activations", "[reference]") {
  std::vector<float> x = {-1.0f, 0.0f, 1.0f};
  auto erf = x, tanh = x, relu = x;
  ref::activation(erf.data(), 3, Activation::gelu_erf);
  ref::activation(tanh.data(), 3, Activation::gelu_tanh);
  ref::activation(relu.data(), 3, Activation::relu);
  CHECK(erf[2] == Approx(0.8413447460685429));  // Φ(1)
  CHECK(erf[0] == Approx(-0.15865525393145707));
  CHECK(tanh[2] == Approx(0.8411919906082768));
  CHECK(relu == std::vector<float>{0.0f, 0.0f, 1.0f});
}

TEST_CASE("reference attention follows the eight steps on a worked example", "[reference]") {
  // Two tokens, one head of dimension 2. Rows: query | key | value.
  const std::vector<float> qkv = {
      1, 0, /*k*/ 1, 0, /*v*/ 1, 2,  // token 0
      0, 1, /*k*/ 0, 2, /*v*/ 3, 4,  // token 1
  };
  std::vector<float> context(4);
  ref::attention_head(qkv.data(), 6, 2, 2, 2, context.data(), 2);
  const double scale = 1.0 / std::sqrt(2.0);
  // Token 0: q=(1,0); similarities q·k/√2 = (1, 0)·scale; weights softmax; value = Σ w v.
  {
    const double a = std::exp(1 * scale), b = std::exp(0.0);
    const double w0 = a / (a + b), w1 = b / (a + b);
    CHECK(context[0] == Approx(w0 * 1 + w1 * 3));
    CHECK(context[1] == Approx(w0 * 2 + w1 * 4));
  }
  // Token 1: q=(0,1); similarities (0, 2)·scale.
  {
    const double a = std::exp(0.0), b = std::exp(2 * scale);
    const double w0 = a / (a + b), w1 = b / (a + b);
    CHECK(context[2] == Approx(w0 * 1 + w1 * 3));
    CHECK(context[3] == Approx(w0 * 2 + w1 * 4));
  }
}
