#pragma once

#include <cstdint>
#include <span>

#include "vecformer/model.hpp"

namespace vecformer::detail {

// out[i] = pool(hidden rows offsets[i]..offsets[i+1]), one [cols] vector per sequence, as
// sentence-transformers' Pooling module computes it (cls: the first token; mean: the average; max:
// the element-wise maximum; mean_sqrt_len: the sum divided by sqrt(length)). pooling must not be
// none.
void pool(const float* hidden, std::span<const int64_t> offsets, int64_t cols, Pooling pooling,
          float* out);

// Divides each of `rows` vectors by its L2 norm (clamped below at 1e-12, as torch's F.normalize).
void l2_normalize(float* x, int64_t rows, int64_t cols);

}  // namespace vecformer::detail
