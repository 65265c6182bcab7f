#pragma once

#include <bit>
#include <cstdint>

namespace vecformer::detail {

// The row count a GEMM primitive is made for when a call has `rows` token rows: multiples of 16 up
// to 256, then 16 steps per doubling (at most 1/16 = 6.25% extra rows). A long-running Model sees
// every token count a server's batches add up to; one primitive per count grew memory by ~0.77 MB
// per count (12-layer BERT-base) without bound, while per bucket there are at most
// 16 + 16 · log2(T / 256) of them. 128 and 1024 rows are buckets of their own (no extra rows where
// the peers are measured). The extra rows are computed on whatever the padded buffers hold and
// dropped: a GEMM's output rows depend on their own input row only.
constexpr int64_t row_bucket(int64_t rows) {
  if (rows <= 256) return (rows + 15) / 16 * 16;
  // 2^(floor(log2(rows - 1)) - 4): 16 for (256, 512], 32 for (512, 1024], ...
  const int64_t step = int64_t{1} << (std::bit_width(static_cast<uint64_t>(rows - 1)) - 5);
  return (rows + step - 1) / step * step;
}

}  // namespace vecformer::detail
