#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include <omp.h>
#include <dnnl.hpp>

#include "backend/backend.hpp"
#include "backend/optimized/optimized_scratch.hpp"

namespace vecformer::detail {

// Primitives of one prepared linear map, created the first time a (row count, thread count) is seen
// and reused afterwards. oneDNN splits a matmul for the thread count current at creation, so a
// primitive serves only calls with that count. Guarded: encode runs on many threads at once.
template <class Primitive>
class PrimitiveCache {
 public:
  template <class Make>
  const Primitive& get(int64_t rows, Make&& make) const {
    const std::pair<int64_t, int> key{rows, omp_get_max_threads()};
    std::lock_guard lock(mutex_);
    auto it = primitives_.find(key);
    if (it == primitives_.end()) it = primitives_.emplace(key, make(rows)).first;
    return it->second;  // std::map never moves its nodes: the reference outlives later insertions
  }

 private:
  mutable std::mutex mutex_;
  mutable std::map<std::pair<int64_t, int>, Primitive> primitives_;
};

// A linear map the optimized backend runs: y[rows, out] = act(x[rows, in] · Wᵀ + b).
// Buffers and argument bindings come from the caller's scratch.
class OptimizedLinear : public PreparedLinear {
 public:
  virtual void run(const float* x, int64_t rows, float* y, OptimizedScratch& scratch) const = 0;
};

// y = act(x · Wᵀ + b) as one oneDNN matmul. The weights are reordered once, at preparation, into
// the layout oneDNN prefers; bias and activation are fused as post-ops (when oneDNN cannot fuse the
// activation, or `fuse_activation` is false, the xsimd activation kernel runs after the matmul). A
// primitive is created the first time a row count is seen and reused afterwards. Scratchpads come
// from the caller's scratch (user mode), so one prepared linear serves many threads at once.
class OneDnnLinear final : public OptimizedLinear {
 public:
  OneDnnLinear(const dnnl::engine& engine, LinearWeights weights, const Activation* fused,
               ComputeType dtype = ComputeType::f32, bool fuse_activation = true);

  int64_t in_features() const override { return in_; }
  int64_t out_features() const override { return out_; }

  void run(const float* x, int64_t rows, float* y, OptimizedScratch& scratch) const override;

 private:
  struct Primitive {
    dnnl::matmul::primitive_desc desc;
    dnnl::matmul matmul;
    dnnl::reorder to_input_type;  // float32 rows to bf16 (bf16 only)
    dnnl::memory::desc to_input_type_scratchpad;
    size_t scratchpad_bytes = 0;  // the larger of the two primitives' (a query allocates)
  };
  // A primitive's arguments in one caller's scratch.
  struct Binding {
    BoundArgs matmul;
    size_t src = 0, dst = 0, scratchpad = 0;
    BoundArgs convert;  // bf16 only
    size_t convert_from = 0, convert_to = 0, convert_scratchpad = 0;
  };

  dnnl::memory::data_type input_type() const;
  dnnl::matmul::primitive_desc describe(int64_t rows, const dnnl::memory::desc& weights) const;
  Primitive make_primitive(int64_t rows) const;
  Binding bind(const Primitive& primitive) const;

  dnnl::engine engine_;
  int64_t in_ = 0;
  int64_t out_ = 0;
  ComputeType dtype_ = ComputeType::f32;
  std::optional<Activation> activation_;
  bool activation_in_post_op_ = false;
  dnnl::memory weights_;
  dnnl::memory bias_;

  PrimitiveCache<Primitive> primitives_;
};

}  // namespace vecformer::detail
