#include "backend/optimized/onednn_int8_linear.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "backend/optimized/kernels/kernels.hpp"
#include "backend/optimized/parallel.hpp"
#include "backend/optimized/row_buckets.hpp"

namespace vecformer::detail {

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

constexpr int64_t kLayoutProbeRows = 128;

}  // namespace

float quantize_row(const float* x, int64_t n, int8_t* q) {
  // One infinity would otherwise make the scale infinite and every other code 0 (or NaN).
  float max_abs = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    const float magnitude = std::abs(x[i]);
    if (magnitude < std::numeric_limits<float>::infinity()) max_abs = std::max(max_abs, magnitude);
  }
  const float scale = max_abs > 0.0f ? max_abs / 127.0f : 1.0f;
  const float inverse = 1.0f / scale;
  for (int64_t i = 0; i < n; ++i) {
    // A NaN must not reach the conversion to int8 (undefined behaviour); ±Inf clamp to ±127.
    const float rounded = std::nearbyint(x[i] * inverse);
    q[i] = std::isnan(rounded) ? 0 : static_cast<int8_t>(std::clamp(rounded, -127.0f, 127.0f));
  }
  return scale;
}

OneDnnInt8Linear::OneDnnInt8Linear(const dnnl::engine& engine, LinearWeights weights,
                                   const Activation* fused, std::shared_ptr<WeightArena> arena)
    : engine_(engine),
      in_(weights.weight.cols),
      out_(weights.weight.rows),
      weight_scales_(static_cast<size_t>(out_)),
      bias_(std::move(weights.bias)),
      arena_(std::move(arena)) {
  if (fused) activation_ = *fused;
  weights.stack();
  // No bias (GLU and rotary models): adding zeros keeps one epilogue.
  if (bias_.empty()) bias_.assign(static_cast<size_t>(out_), 0.0f);
  std::vector<int8_t> quantized(static_cast<size_t>(out_ * in_));
  for (int64_t o = 0; o < out_; ++o) {
    weight_scales_[o] = quantize_row(weights.weight.row(o), in_, quantized.data() + o * in_);
  }
  // PyTorch's [out, in] layout is the matmul's [in, out] operand stored transposed ("ba").
  memory plain(memory::desc({in_, out_}, dt::s8, tag::ba), engine_, quantized.data());
  const auto probe = describe(kLayoutProbeRows, memory::desc({in_, out_}, dt::s8, tag::any));
  weights_ =
      memory(probe.weights_desc(), engine_, arena_->allocate(probe.weights_desc().get_size()));
  dnnl::stream stream(engine_);
  dnnl::reorder(plain, weights_).execute(stream, plain, weights_);
  stream.wait();
}

dnnl::matmul::primitive_desc OneDnnInt8Linear::describe(int64_t rows,
                                                        const memory::desc& weights) const {
  const memory::desc src({rows, in_}, dt::s8, tag::ab);
  const memory::desc dst({rows, out_}, dt::f32, tag::ab);
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  attr.set_output_scales(1 << 1, weight_scales_);  // one scale per output column
  return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, weights, dst), attr, engine_);
}

void OneDnnInt8Linear::run(const float* x, int64_t rows, float* y, OptimizedScratch& scratch,
                           const Execution& exec) const {
  const int64_t padded = row_bucket(rows);
  const auto primitive = primitives_.get(padded, exec, 0, [this](int64_t r) {
    const auto pd = describe(r, weights_.get_desc());
    return Primitive{pd, dnnl::matmul(pd), pd.scratchpad_desc().get_size()};
  });
  const Binding& b = scratch.binding<Binding>(primitive, [&] {
    const auto& pd = primitive->desc;
    Binding binding;
    binding.src =
        binding.matmul.add(DNNL_ARG_SRC, memory(pd.src_desc(), engine_, DNNL_MEMORY_NONE));
    binding.matmul.add(DNNL_ARG_WEIGHTS, weights_);
    binding.dst =
        binding.matmul.add(DNNL_ARG_DST, memory(pd.dst_desc(), engine_, DNNL_MEMORY_NONE));
    binding.scratchpad = binding.matmul.add(
        DNNL_ARG_SCRATCHPAD, memory(pd.scratchpad_desc(), engine_, DNNL_MEMORY_NONE));
    return binding;
  });
  // Every row the GEMM reads is quantized, the padding rows too (their scales are never used).
  auto* quantized = scratch.converted_input.get<int8_t>(static_cast<size_t>(padded * in_));
  auto* token_scales = scratch.token_scales.get<float>(static_cast<size_t>(padded));
  parallel_for(exec, padded, [&](int64_t r) {
    token_scales[r] = kernels::quantize_row(x + r * in_, in_, quantized + r * in_);
  });
  b.matmul.point(b.src, quantized);
  b.matmul.point(b.dst, y);
  b.matmul.point(b.scratchpad, scratch.gemm_scratchpad.get<std::byte>(primitive->scratchpad_bytes));
  {
    const OneDnnThreads threads(exec);
    b.matmul.execute(primitive->matmul, scratch.stream());
    scratch.stream().wait();
  }
  parallel_for(exec, rows, [&](int64_t r) {
    float* row = y + r * out_;
    kernels::scale_add_row(row, out_, token_scales[r], bias_.data());
    if (activation_) kernels::activation(row, out_, *activation_);
  });
}

}  // namespace vecformer::detail
