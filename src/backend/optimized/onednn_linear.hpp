#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include <dnnl.hpp>

#include "backend/backend.hpp"
#include "backend/execution.hpp"
#include "backend/optimized/onednn_threads.hpp"
#include "backend/optimized/optimized_scratch.hpp"
#include "backend/optimized/weight_arena.hpp"

namespace vecformer::detail {

// Primitives of one prepared linear map, created the first time a (row bucket, thread count,
// variant) is asked for and reused afterwards: oneDNN plans a matmul for the row count and the
// thread count it is created with. At most kCapacity of them are kept, the least recently used
// dropped first, so a Model fed every token count holds a bounded number (callers round row counts
// up to row_bucket()). A primitive is shared: a caller still running one that is dropped keeps it
// alive. Guarded: encode runs on many threads at once.
template <class Primitive>
class PrimitiveCache {
 public:
  static constexpr size_t kCapacity = 16;

  template <class Make>
  std::shared_ptr<const Primitive> get(int64_t rows, const Execution& exec, int variant,
                                       Make&& make) const {
    const Key key{rows, exec.threads, variant};
    std::lock_guard lock(mutex_);
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->first != key) continue;
      entries_.splice(entries_.begin(), entries_, it);  // most recently used first; no allocation
      return it->second;
    }
    const OneDnnThreads threads(exec);
    entries_.emplace_front(key, std::make_shared<const Primitive>(make(rows)));
    if (entries_.size() > kCapacity) entries_.pop_back();
    return entries_.front().second;
  }

  size_t size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
  }

 private:
  using Key = std::tuple<int64_t, int, int>;
  mutable std::mutex mutex_;
  mutable std::list<std::pair<Key, std::shared_ptr<const Primitive>>> entries_;
};

// A linear map the optimized backend runs: y[rows, out] = act(x[rows, in] · Wᵀ + b).
// Buffers and argument bindings come from the caller's scratch.
class OptimizedLinear : public PreparedLinear {
 public:
  // x and y hold row_bucket(rows) rows: the GEMM runs on all of them, and rows past `rows` are
  // scratch (whatever they hold in, unspecified out).
  virtual void run(const float* x, int64_t rows, float* y, OptimizedScratch& scratch,
                   const Execution& exec) const = 0;
  // The primitives kept now (for the tests of the bound).
  virtual size_t cached_primitives() const = 0;
};

// y = act(x · Wᵀ + b) as one oneDNN matmul. The weights are reordered once, at preparation, into
// the layout oneDNN prefers; bias and activation are fused as post-ops (when oneDNN cannot fuse the
// activation, or `fuse_activation` is false, the xsimd activation kernel runs after the matmul). A
// primitive is created the first time a row bucket is seen and reused afterwards. Scratchpads come
// from the caller's scratch (user mode), so one prepared linear serves many threads at once. The
// bias is optional (GLU and rotary models have none).
class OneDnnLinear final : public OptimizedLinear {
 public:
  OneDnnLinear(const dnnl::engine& engine, LinearWeights weights, const Activation* fused,
               ComputeType dtype = ComputeType::f32, bool fuse_activation = true,
               std::shared_ptr<WeightArena> arena = std::make_shared<WeightArena>());

  int64_t in_features() const override { return in_; }
  int64_t out_features() const override { return out_; }

  void run(const float* x, int64_t rows, float* y, OptimizedScratch& scratch,
           const Execution& exec) const override;
  size_t cached_primitives() const override { return primitives_.size(); }

  // bf16 compute only, for one GEMM feeding the next: whether run_to_bf16 is available (oneDNN
  // has such a GEMM, with the activation, if any, fused), y written as bf16 rows, and x read as
  // bf16 rows. The values are those run() would convert: the GEMM's epilogue rounds its float32
  // results to bf16 exactly as the conversion of the next input does.
  bool writes_bf16() const;
  void run_to_bf16(const float* x, int64_t rows, uint16_t* y, OptimizedScratch& scratch,
                   const Execution& exec) const;
  void run_from_bf16(const uint16_t* x, int64_t rows, float* y, OptimizedScratch& scratch,
                     const Execution& exec) const;

 private:
  struct Primitive {
    dnnl::matmul::primitive_desc desc;
    dnnl::matmul matmul;
    dnnl::reorder to_input_type;  // float32 rows to bf16 (onednn_converts_ only)
    dnnl::memory::desc to_input_type_scratchpad;
    size_t scratchpad_bytes = 0;  // the larger of the two primitives' (a query allocates)
  };
  // A primitive's arguments in one caller's scratch.
  struct Binding {
    BoundArgs matmul;
    size_t src = 0, dst = 0, scratchpad = 0;
    BoundArgs convert;  // onednn_converts_ only
    size_t convert_from = 0, convert_to = 0, convert_scratchpad = 0;
  };

  dnnl::memory::data_type input_type() const;
  dnnl::matmul::primitive_desc describe(
      int64_t rows, const dnnl::memory::desc& weights,
      dnnl::memory::data_type output = dnnl::memory::data_type::f32) const;
  Primitive make_primitive(int64_t rows, dnnl::memory::data_type output) const;
  Binding bind(const Primitive& primitive) const;
  // The one path of run, run_to_bf16 and run_from_bf16.
  void execute(const void* x, bool x_is_bf16, int64_t rows, void* y, bool y_is_bf16,
               OptimizedScratch& scratch, const Execution& exec) const;

  dnnl::engine engine_;
  int64_t in_ = 0;
  int64_t out_ = 0;
  ComputeType dtype_ = ComputeType::f32;
  std::optional<Activation> activation_;
  bool activation_in_post_op_ = false;
  bool bf16_output_ = false;  // see writes_bf16()
  // bf16 compute converts each float32 input with a oneDNN reorder primitive only where the CPU
  // lacks AVX512-BF16; otherwise kernels::to_bf16 converts chunks on the team, cheaper than a
  // primitive launch for 0.4 MB (bf16 layer 1x128: 0.975x the time). Both round with the same
  // instruction where it exists, so the values are the same.
  bool onednn_converts_ = false;
  std::shared_ptr<WeightArena> arena_;  // holds weights_'s values
  dnnl::memory weights_;
  dnnl::memory bias_;  // empty: no bias

  PrimitiveCache<Primitive> primitives_;
};

}  // namespace vecformer::detail
