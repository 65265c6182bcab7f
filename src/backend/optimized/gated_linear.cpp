#include "backend/optimized/gated_linear.hpp"

#include <utility>

#include <cassert>

#include "backend/optimized/kernels/kernels.hpp"
#include "backend/optimized/kernels/rotary_gate.hpp"
#include "backend/optimized/parallel.hpp"
#include "backend/optimized/row_buckets.hpp"

namespace vecformer::detail {

GatedLinear::GatedLinear(std::unique_ptr<OptimizedLinear> both, Activation activation,
                         bool bf16_output)
    : both_(std::move(both)),
      out_(both_->out_features() / 2),
      activation_(activation),
      bf16_output_(bf16_output) {}

void GatedLinear::run(const float* x, int64_t rows, float* y, OptimizedScratch& scratch,
                      const Execution& exec) const {
  // The GEMM writes every row it computes (row_bucket(rows) of them), so u holds them all.
  float* const u = scratch.gated.get<float>(static_cast<size_t>(row_bucket(rows) * 2 * out_));
  both_->run(x, rows, u, scratch, exec);
  parallel_for(exec, rows, [&](int64_t r) {
    kernels::gate(u + r * 2 * out_, out_, activation_, y + r * out_);
  });
}

void GatedLinear::run_to_bf16(const float* x, int64_t rows, uint16_t* y, OptimizedScratch& scratch,
                              const Execution& exec) const {
  assert(writes_bf16() && "run_to_bf16 needs writes_bf16()");
  float* const u = scratch.gated.get<float>(static_cast<size_t>(row_bucket(rows) * 2 * out_));
  both_->run(x, rows, u, scratch, exec);
  parallel_for(exec, rows, [&](int64_t r) {
    float* const row = u + r * 2 * out_;
    kernels::gate(row, out_, activation_, row);  // in place over the first half, still in L1
    kernels::to_bf16(row, out_, y + r * out_);
  });
}

}  // namespace vecformer::detail
