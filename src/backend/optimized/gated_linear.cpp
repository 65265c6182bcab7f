#include "backend/optimized/gated_linear.hpp"

#include <utility>

#include "backend/optimized/kernels/rotary_gate.hpp"
#include "backend/optimized/parallel.hpp"
#include "backend/optimized/row_buckets.hpp"

namespace vecformer::detail {

GatedLinear::GatedLinear(std::unique_ptr<OptimizedLinear> both, Activation activation)
    : both_(std::move(both)), out_(both_->out_features() / 2), activation_(activation) {}

void GatedLinear::run(const float* x, int64_t rows, float* y, OptimizedScratch& scratch,
                      const Execution& exec) const {
  // The GEMM writes every row it computes (row_bucket(rows) of them), so u holds them all.
  float* const u = scratch.gated.get<float>(static_cast<size_t>(row_bucket(rows) * 2 * out_));
  both_->run(x, rows, u, scratch, exec);
  parallel_for(exec, rows, [&](int64_t r) {
    kernels::gate(u + r * 2 * out_, out_, activation_, y + r * out_);
  });
}

}  // namespace vecformer::detail
