// The optimized backend: oneDNN matmul for every projection, xsimd kernels for everything
// element-wise, OpenMP over token rows and over (sequence, head) attention blocks, on teams of the
// Execution's thread count.
#include <algorithm>

#include "backend/optimized/gated_linear.hpp"  // prepare_gated_linear

#include "backend/backend.hpp"
#include "backend/optimized/kernels/kernels.hpp"
#include "backend/optimized/kernels/rotary_gate.hpp"
#include "backend/optimized/onednn_int8_linear.hpp"
#include "backend/optimized/onednn_linear.hpp"
#include "backend/optimized/optimized_scratch.hpp"
#include "backend/optimized/parallel.hpp"
#include "backend/optimized/row_buckets.hpp"
#include "vecformer/error.hpp"

namespace vecformer::detail {
namespace {

class OptimizedBackend final : public Backend {
 public:
  explicit OptimizedBackend(ComputeType dtype)
      : engine_(dnnl::engine::kind::cpu, 0), dtype_(dtype) {
    kernels::selected_isa();
  }

  std::string_view name() const override { return "optimized"; }

  std::unique_ptr<Scratch> make_scratch() const override {
    return std::make_unique<OptimizedScratch>(engine_);
  }

  int64_t padded_rows(int64_t rows) const override { return row_bucket(rows); }

  std::unique_ptr<PreparedLinear> prepare_linear(LinearWeights weights,
                                                 const Activation* fused) const override {
    if (dtype_ == ComputeType::int8) {
      return std::make_unique<OneDnnInt8Linear>(engine_, std::move(weights), fused, arena_);
    }
    return std::make_unique<OneDnnLinear>(engine_, std::move(weights), fused, dtype_,
                                          /*fuse_activation=*/true, arena_);
  }

  void linear(const PreparedLinear& prepared, const float* x, int64_t rows, float* y,
              Scratch& scratch, const Execution& exec) const override {
    static_cast<const OptimizedLinear&>(prepared).run(
        x, rows, y, static_cast<OptimizedScratch&>(scratch), exec);
  }

  void feed_forward(const PreparedLinear& first, const PreparedLinear& second, const float* x,
                    int64_t rows, float* inner, float* y, Scratch& scratch,
                    const Execution& exec) const override {
    auto& s = static_cast<OptimizedScratch&>(scratch);
    if (dtype_ == ComputeType::bf16) {
      // A gated first linear writes bf16 in its gate pass, where to_bf16 runs.
      if (const auto* gated = dynamic_cast<const GatedLinear*>(&first);
          gated && gated->writes_bf16()) {
        auto* inner_bf16 = reinterpret_cast<uint16_t*>(inner);
        gated->run_to_bf16(x, rows, inner_bf16, s, exec);
        static_cast<const OneDnnLinear&>(second).run_from_bf16(inner_bf16, rows, y, s, exec);
        return;
      }
      const auto* in = dynamic_cast<const OneDnnLinear*>(&first);
      if (in && in->writes_bf16()) {
        // The inner activations go from one GEMM to the next as bf16 (half the bytes of inner):
        // no float32 round trip and no separate conversion.
        auto* inner_bf16 = reinterpret_cast<uint16_t*>(inner);
        in->run_to_bf16(x, rows, inner_bf16, s, exec);
        static_cast<const OneDnnLinear&>(second).run_from_bf16(inner_bf16, rows, y, s, exec);
        return;
      }
    }
    linear(first, x, rows, inner, scratch, exec);
    linear(second, inner, rows, y, scratch, exec);
  }

  void embed(const EmbeddingTables& tables, const Batch& batch, float* x,
             const Execution& exec) const override {
    const int64_t hidden = tables.word->cols;
    const bool has_position = tables.position && !tables.position->empty();
    const bool has_type = tables.token_type && !tables.token_type->empty();
    const auto ids = batch.token_ids();
    const auto types = batch.type_ids();
    const auto positions = batch.positions();
    parallel_for(exec, batch.tokens(), [&](int64_t t) {
      const float* word = tables.word->row(ids[t]);
      const float* position =
          has_position ? tables.position->row(tables.position_offset + positions[t]) : nullptr;
      const float* type = has_type ? tables.token_type->row(types[t]) : nullptr;
      float* out = x + t * hidden;
      if (position) {
        kernels::sum_rows(out, word, position, type, hidden);
      } else if (type) {
        kernels::sum_rows(out, word, type, nullptr, hidden);
      } else {
        std::copy(word, word + hidden, out);
      }
    });
  }

  // The head kernels take the head's ALiBi slope and the layer's window: a local layer's blocks
  // of queries read only their window's keys, so its cost and scratch stay linear in length. With
  // rotary positions, each (sequence, head) task first gathers its head's rows into its thread's
  // scratch, rotating the queries and keys on the way (the data the kernel reads next, in cache),
  // rather than a separate pass rotating them in place over the whole qkv.
  void attention(const float* qkv, std::span<const int64_t> offsets, int64_t heads,
                 int64_t head_dim, const AttentionSpec& spec, float* context, Scratch& scratch,
                 const Execution& exec) const override {
    const int64_t hidden = heads * head_dim;
    const int64_t sequences = static_cast<int64_t>(offsets.size()) - 1;
    int64_t longest = 0;
    for (int64_t s = 0; s < sequences; ++s)
      longest = std::max(longest, offsets[s + 1] - offsets[s]);
    // bf16 compute runs the attention products in bf16 too where the CPU has the instructions.
    const bool bf16 = dtype_ == ComputeType::bf16 && kernels::avx512_bf16_supported();
    const auto kernel_floats =
        static_cast<size_t>(bf16 ? kernels::attention_bf16_scratch_floats(longest, head_dim)
                                 : kernels::attention_scratch_floats(longest, head_dim));
    const bool rotary = !spec.rotary.empty();
    // The gathered rows (rotary only): [length][query | key | value of one head].
    const size_t per_thread =
        kernel_floats + (rotary ? static_cast<size_t>(longest * 3 * head_dim) : 0);
    const auto head = bf16 ? &kernels::attention_head_bf16 : &kernels::attention_head;
    float* const buffers = static_cast<OptimizedScratch&>(scratch).attention.get<float>(
        per_thread * static_cast<size_t>(exec.threads));
    // One block per (sequence, head); blocks are independent.
    parallel_for_dynamic(exec, sequences * heads, [&](int64_t block, int thread) {
      const int64_t s = block / heads, h = block % heads;
      const int64_t begin = offsets[s], length = offsets[s + 1] - begin;
      float* const own = buffers + per_thread * static_cast<size_t>(thread);
      const float* rows = qkv + begin * 3 * hidden + h * head_dim;
      int64_t stride = 3 * hidden, key_offset = hidden;
      if (rotary) {
        const RotaryTable& table = *spec.rotary[s];
        const int64_t half = table.dim / 2;
        float* const gathered = own + kernel_floats;
        for (int64_t p = 0; p < length; ++p) {
          const float* from = rows + p * stride;
          float* to = gathered + p * 3 * head_dim;
          std::copy(from, from + head_dim, to);
          std::copy(from + hidden, from + hidden + head_dim, to + head_dim);
          std::copy(from + 2 * hidden, from + 2 * hidden + head_dim, to + 2 * head_dim);
          const float* cos = table.cos.data() + p * half;
          const float* sin = table.sin.data() + p * half;
          kernels::rotate(to, cos, sin, table.dim, table.interleaved);
          kernels::rotate(to + head_dim, cos, sin, table.dim, table.interleaved);
        }
        rows = gathered;
        stride = 3 * head_dim;
        key_offset = head_dim;
      }
      head(rows, stride, key_offset, length, head_dim, context + begin * hidden + h * head_dim,
           hidden, own, spec.alibi_slopes ? spec.alibi_slopes[h] : 0.0f, spec.window);
    });
  }

  std::unique_ptr<PreparedLinear> prepare_gated_linear(LinearWeights weights,
                                                       Activation activation) const override {
    // Both halves in one GEMM, without an activation: the gate pass applies it to the first.
    std::unique_ptr<PreparedLinear> both = prepare_linear(std::move(weights), nullptr);
    return std::make_unique<GatedLinear>(
        std::unique_ptr<OptimizedLinear>(static_cast<OptimizedLinear*>(both.release())), activation,
        dtype_ == ComputeType::bf16 && kernels::avx512_bf16_supported());
  }

  void add_layer_norm(float* x, const float* delta, const Norm& norm, float eps, int64_t rows,
                      int64_t cols, float* normed, const Execution& exec) const override {
    parallel_for(exec, rows, [&](int64_t r) {
      kernels::add_layer_norm_row(x + r * cols, delta ? delta + r * cols : nullptr,
                                  norm.gamma.data(), norm.beta.empty() ? nullptr : norm.beta.data(),
                                  eps, cols, normed + r * cols);
    });
  }

  void add(float* x, const float* delta, int64_t n, const Execution& exec) const override {
    constexpr int64_t kChunk = 4096;
    parallel_for(exec, (n + kChunk - 1) / kChunk, [&](int64_t chunk) {
      const int64_t begin = chunk * kChunk;
      kernels::add(x + begin, delta + begin, std::min(kChunk, n - begin));
    });
  }

 private:
  dnnl::engine engine_;
  ComputeType dtype_;
  std::shared_ptr<WeightArena> arena_ = std::make_shared<WeightArena>();  // prepared weights
};

}  // namespace

std::unique_ptr<Backend> make_optimized_backend(ComputeType dtype) {
  return std::make_unique<OptimizedBackend>(dtype);
}

}  // namespace vecformer::detail
