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
  // bf16_output: offer run_to_bf16 (bf16 compute on a CPU whose kernels::to_bf16 runs, the
  // conversion the next bf16 GEMM would apply to float32 input).
  GatedLinear(std::unique_ptr<OptimizedLinear> both, Activation activation,
              bool bf16_output = false);

  int64_t in_features() const override { return both_->in_features(); }
  int64_t out_features() const override { return out_; }
  void run(const float* x, int64_t rows, float* y, OptimizedScratch& scratch,
           const Execution& exec) const override;
  size_t cached_primitives() const override { return both_->cached_primitives(); }

  // For a bf16 feed-forward: y written as bf16 rows, the values run() writes rounded exactly as
  // the next GEMM's conversion of its float32 input rounds them (kernels::to_bf16), in the same
  // pass as the gate. Needs writes_bf16().
  bool writes_bf16() const { return bf16_output_; }
  void run_to_bf16(const float* x, int64_t rows, uint16_t* y, OptimizedScratch& scratch,
                   const Execution& exec) const;

 private:
  std::unique_ptr<OptimizedLinear> both_;  // [2·out, in]: the activated half's rows first
  int64_t out_ = 0;
  Activation activation_;
  bool bf16_output_ = false;
};

}  // namespace vecformer::detail
