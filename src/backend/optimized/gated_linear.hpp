#pragma once

#include <memory>

#include "backend/optimized/onednn_linear.hpp"

namespace vecformer::detail {

// The gated map y = act(x · W_aᵀ + b_a) ⊙ (x · W_gᵀ + b_g) of prepare_gated_linear: one GEMM of
// the stacked weights [W_a; W_g] (any compute type: the f32, bf16 or int8 linear given, prepared
// without an activation) writes u = [a | g] of 2·out columns into the caller's scratch, then one
// fused xsimd pass (kernels::gate) writes act(a) ⊙ g, row by row on the Execution's threads.
class GatedLinear final : public OptimizedLinear {
 public:
  GatedLinear(std::unique_ptr<OptimizedLinear> both, Activation activation);

  int64_t in_features() const override { return both_->in_features(); }
  int64_t out_features() const override { return out_; }
  void run(const float* x, int64_t rows, float* y, OptimizedScratch& scratch,
           const Execution& exec) const override;
  size_t cached_primitives() const override { return both_->cached_primitives(); }

 private:
  std::unique_ptr<OptimizedLinear> both_;  // [2·out, in]: the activated half's rows first
  int64_t out_ = 0;
  Activation activation_;
};

}  // namespace vecformer::detail
