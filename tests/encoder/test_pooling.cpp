// Pooling and normalization against values worked out by hand.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "encoder/pooling.hpp"

using namespace vecformer;

TEST_CASE("pooling modes over packed sequences", "[pooling]") {
  // Two sequences of 2 columns: rows {1,2},{3,-4} and {5,6}.
  const std::vector<float> hidden = {1, 2, 3, -4, 5, 6};
  const std::vector<int64_t> offsets = {0, 2, 3};
  std::vector<float> out(4);

  detail::pool(hidden.data(), offsets, 2, Pooling::cls, out.data());
  CHECK(out == std::vector<float>{1, 2, 5, 6});
  detail::pool(hidden.data(), offsets, 2, Pooling::mean, out.data());
  CHECK(out == std::vector<float>{2, -1, 5, 6});
  detail::pool(hidden.data(), offsets, 2, Pooling::max, out.data());
  CHECK(out == std::vector<float>{3, 2, 5, 6});
  detail::pool(hidden.data(), offsets, 2, Pooling::mean_sqrt_len, out.data());
  CHECK(out[0] == Approx(4 / std::sqrt(2.0)));
  CHECK(out[1] == Approx(-2 / std::sqrt(2.0)));
  CHECK(out[2] == 5);
}

TEST_CASE("l2 normalization gives unit rows and leaves zero rows finite", "[pooling]") {
  std::vector<float> x = {3, 4, 0, 0};
  detail::l2_normalize(x.data(), 2, 2);
  CHECK(x[0] == Approx(0.6));
  CHECK(x[1] == Approx(0.8));
  CHECK(x[2] == 0.0f);
  CHECK(x[3] == 0.0f);
}
