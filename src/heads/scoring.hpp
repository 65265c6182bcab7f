#pragma once

#include <cstdint>
#include <vector>

#include "vecformer/model.hpp"

namespace vecformer::detail {

// scores[r] = softmax(logits[r]) over `cols` values, in double (max subtracted first).
void softmax_rows(const float* logits, int64_t rows, int64_t cols, float* scores);
// scores[i] = 1 / (1 + exp(-logits[i])).
void sigmoid(const float* logits, int64_t n, float* scores);
// The scores of [rows, cols] logits under `scoring`.
Tensor score(const Tensor& logits, Scoring scoring);

}  // namespace vecformer::detail
