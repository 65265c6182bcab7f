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
      table.data[p * hidden + c] = static_cast<float>(c % 2 == 0 ? std::sin(angle) : std::cos(angle));
    }
  }
  return table;
}

std::vector<float> alibi_slopes(int64_t heads) {
  // PLACEHOLDER (modern-base): implemented on the modern-attention branch.
  throw Error("alibi_slopes: not implemented yet (" + std::to_string(heads) + " heads)");
}

RotaryTable rotary_table(const Config&, double, int64_t, int64_t) {
  // PLACEHOLDER (modern-base): implemented on the modern-rope-glu branch.
  throw Error("rotary_table: not implemented yet");
}

}  // namespace vecformer::detail
