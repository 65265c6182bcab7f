#include "encoder/positional.hpp"

#include <string>

#include "vecformer/error.hpp"

#include <cmath>

namespace vecformer::detail {

Matrix sinusoidal_positions(int64_t positions, int64_t hidden) {
  Matrix table{positions, hidden, std::vector<float>(positions * hidden)};
  for (int64_t p = 0; p < positions; ++p) {
    for (int64_t c = 0; c < hidden; ++c) {
      const int64_t even = c - c % 2;  // 2i for both members of the pair
      const double angle = p / std::pow(10000.0, static_cast<double>(even) / hidden);
      table.data[p * hidden + c] =
          static_cast<float>(c % 2 == 0 ? std::sin(angle) : std::cos(angle));
    }
  }
  return table;
}

namespace {

// ALiBi's geometric slopes for n heads, n a power of two: start · start^i for i in [0, n), with
// start = 2^(-2^-(log2(n) - 3)) = 2^(-8/n). In double with the same operations as Jina's (and
// MosaicBERT's) get_slopes_power_of_2, so that the float32 conversion matches theirs.
std::vector<double> power_of_two_slopes(int64_t n) {
  const double start = std::pow(2.0, -std::pow(2.0, -(std::log2(static_cast<double>(n)) - 3.0)));
  std::vector<double> slopes(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) slopes[i] = start * std::pow(start, static_cast<double>(i));
  return slopes;
}

}  // namespace

std::vector<float> alibi_slopes(int64_t heads) {
  // Jina v2's _get_alibi_head_slopes (text-embeddings-inference's alibi_head_slopes): a power of
  // two takes its own geometric sequence; any other count the sequence of the largest power of
  // two p below it, then the even-indexed slopes of 2p's sequence (which fall between p's) for the
  // remaining heads. Computed in double, stored as float32 as torch.Tensor(list) stores them.
  int64_t power = 1;
  while (power * 2 <= heads) power *= 2;
  std::vector<double> slopes = power_of_two_slopes(power);
  if (power < heads) {
    const std::vector<double> between = power_of_two_slopes(2 * power);
    for (int64_t i = 0; i < heads - power; ++i) slopes.push_back(between[2 * i]);
  }
  return std::vector<float>(slopes.begin(), slopes.end());
}

RotaryTable rotary_table(const Config&, double, int64_t, int64_t) {
  // PLACEHOLDER (modern-base): implemented on the modern-rope-glu branch.
  throw Error("rotary_table: not implemented yet");
}

}  // namespace vecformer::detail
