#include "encoder/pooling.hpp"

#include <algorithm>
#include <cmath>

namespace vecformer::detail {

void pool(const float* hidden, std::span<const int64_t> offsets, int64_t cols, Pooling pooling,
          float* out) {
  for (size_t s = 0; s + 1 < offsets.size(); ++s) {
    const int64_t begin = offsets[s];
    const int64_t length = offsets[s + 1] - begin;
    float* o = out + s * cols;
    if (pooling == Pooling::cls) {
      std::copy(hidden + begin * cols, hidden + (begin + 1) * cols, o);
      continue;
    }
    if (pooling == Pooling::max) {
      std::copy(hidden + begin * cols, hidden + (begin + 1) * cols, o);
      for (int64_t t = 1; t < length; ++t) {
        const float* row = hidden + (begin + t) * cols;
        for (int64_t c = 0; c < cols; ++c) o[c] = std::max(o[c], row[c]);
      }
      continue;
    }
    const double divisor = pooling == Pooling::mean ? static_cast<double>(length)
                                                    : std::sqrt(static_cast<double>(length));
    for (int64_t c = 0; c < cols; ++c) {
      double sum = 0.0;
      for (int64_t t = 0; t < length; ++t) sum += hidden[(begin + t) * cols + c];
      o[c] = static_cast<float>(sum / divisor);
    }
  }
}

void l2_normalize(float* x, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    float* row = x + r * cols;
    double sum = 0.0;
    for (int64_t c = 0; c < cols; ++c) sum += static_cast<double>(row[c]) * row[c];
    const double norm = std::max(std::sqrt(sum), 1e-12);
    for (int64_t c = 0; c < cols; ++c) row[c] = static_cast<float>(row[c] / norm);
  }
}

}  // namespace vecformer::detail
