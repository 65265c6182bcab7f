#include "encoder/positional.hpp"

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

}  // namespace vecformer::detail
