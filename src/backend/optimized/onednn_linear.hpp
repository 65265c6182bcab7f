#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include <dnnl.hpp>

#include "backend/backend.hpp"

namespace vecformer::detail {

// A linear map the optimized backend runs: y[rows, out] = act(x[rows, in] · Wᵀ + b).
class OptimizedLinear : public PreparedLinear {
 public:
  virtual void run(const float* x, int64_t rows, float* y) const = 0;
};

// y = act(x · Wᵀ + b) as one oneDNN matmul. The weights are reordered once, at preparation, into
// the layout oneDNN prefers; bias and activation are fused as post-ops (when oneDNN cannot fuse the
// activation, or `fuse_activation` is false, the xsimd activation kernel runs after the matmul). A
// primitive is created the first time a row count is seen and reused afterwards. Scratchpads are
// supplied per call (user mode), so one prepared linear serves many threads at once.
class OneDnnLinear final : public OptimizedLinear {
 public:
  OneDnnLinear(const dnnl::engine& engine, LinearWeights weights, const Activation* fused,
               ComputeType dtype = ComputeType::f32, bool fuse_activation = true);

  int64_t in_features() const override { return in_; }
  int64_t out_features() const override { return out_; }

  void run(const float* x, int64_t rows, float* y) const override;

 private:
  struct Primitive {
    dnnl::matmul::primitive_desc desc;
    dnnl::matmul matmul;
    dnnl::reorder to_input_type;  // float32 rows to bf16 (bf16 only)
  };

  dnnl::memory::data_type input_type() const;
  dnnl::matmul::primitive_desc describe(int64_t rows, const dnnl::memory::desc& weights) const;
  const Primitive& primitive_for(int64_t rows) const;

  dnnl::engine engine_;
  int64_t in_ = 0;
  int64_t out_ = 0;
  ComputeType dtype_ = ComputeType::f32;
  std::optional<Activation> activation_;
  bool activation_in_post_op_ = false;
  dnnl::memory weights_;
  dnnl::memory bias_;

  // Cache of primitives by row count; guarded because encode may run on many threads.
  mutable std::mutex mutex_;
  mutable std::map<int64_t, Primitive> primitives_;
};

}  // namespace vecformer::detail
