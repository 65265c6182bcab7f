#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include <dnnl.hpp>

#include "backend/optimized/onednn_linear.hpp"
#include "backend/optimized/weight_arena.hpp"

namespace vecformer::detail {

// y = act(x · Wᵀ + b) with 8-bit integer products: weights quantized once, symmetric, with one
// scale per output row (max |w| / 127); each call quantizes its input rows the same way with one
// scale per token (dynamic). oneDNN multiplies s8 × s8 into int32 (VNNI where the CPU has it) and
// applies the weight scales; the token scales, bias and activation are applied afterwards in
// float32.
class OneDnnInt8Linear final : public OptimizedLinear {
 public:
  OneDnnInt8Linear(const dnnl::engine& engine, LinearWeights weights, const Activation* fused,
                   std::shared_ptr<WeightArena> arena = std::make_shared<WeightArena>());

  int64_t in_features() const override { return in_; }
  int64_t out_features() const override { return out_; }
  void run(const float* x, int64_t rows, float* y, OptimizedScratch& scratch,
           const Execution& exec) const override;
  size_t cached_primitives() const override { return primitives_.size(); }

 private:
  struct Primitive {
    dnnl::matmul::primitive_desc desc;
    dnnl::matmul matmul;
    size_t scratchpad_bytes = 0;  // queried once: a query allocates
  };
  // A primitive's arguments in one caller's scratch.
  struct Binding {
    BoundArgs matmul;
    size_t src = 0, dst = 0, scratchpad = 0;
  };

  dnnl::matmul::primitive_desc describe(int64_t rows, const dnnl::memory::desc& weights) const;

  dnnl::engine engine_;
  int64_t in_ = 0;
  int64_t out_ = 0;
  std::optional<Activation> activation_;
  std::vector<float> weight_scales_;    // per output row
  std::vector<float> bias_;             // zeros when the model has none
  std::shared_ptr<WeightArena> arena_;  // holds weights_'s values
  dnnl::memory weights_;

  PrimitiveCache<Primitive> primitives_;
};

// Symmetric per-row quantization: q = clamp(round(x / s), -127, 127) with s = max |x| / 127 over
// the row's finite values (1 when none is non-zero); NaN gives 0, +Inf 127 and -Inf -127. Returns
// s. Also the plain twin the int8 tests check against.
float quantize_row(const float* x, int64_t n, int8_t* q);

}  // namespace vecformer::detail
