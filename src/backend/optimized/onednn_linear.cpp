#include "backend/optimized/onednn_linear.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "backend/optimized/kernels/kernels.hpp"
#include "backend/optimized/parallel.hpp"
#include "backend/optimized/row_buckets.hpp"
#include "backend/optimized/weight_packing.hpp"

namespace vecformer::detail {

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

// Row count used to ask oneDNN for its preferred weight layout: a typical batch of 128 tokens.
constexpr int64_t kLayoutProbeRows = 128;

dnnl::algorithm eltwise_for(Activation activation) {
  switch (activation) {
    case Activation::gelu_erf:
      return dnnl::algorithm::eltwise_gelu_erf;
    case Activation::gelu_tanh:
      return dnnl::algorithm::eltwise_gelu_tanh;
    case Activation::relu:
      return dnnl::algorithm::eltwise_relu;
    case Activation::silu:
      return dnnl::algorithm::eltwise_swish;  // x · sigmoid(alpha · x), alpha 1 (eltwise_alpha)
  }
  return dnnl::algorithm::eltwise_relu;
}

// The eltwise post-op's alpha: swish's slope (1: SiLU); relu's negative slope (0) and unused by
// the GELUs.
float eltwise_alpha(Activation activation) {
  return activation == Activation::silu ? 1.0f : 0.0f;
}

}  // namespace

memory::data_type OneDnnLinear::input_type() const {
  return dtype_ == ComputeType::bf16 ? dt::bf16 : dt::f32;
}

OneDnnLinear::OneDnnLinear(const dnnl::engine& engine, LinearWeights weights,
                           const Activation* fused, ComputeType dtype, bool fuse_activation,
                           std::shared_ptr<WeightArena> arena)
    : engine_(engine),
      in_(weights.weight.cols),
      out_(weights.weight.rows),
      dtype_(dtype),
      onednn_converts_(dtype == ComputeType::bf16 && !kernels::avx512_bf16_supported()),
      arena_(std::move(arena)) {
  if (fused) activation_ = *fused;
  activation_in_post_op_ = activation_.has_value() && fuse_activation;

  if (!weights.bias.empty()) {
    bias_ = memory(memory::desc({1, out_}, dt::f32, tag::ab), engine_);
    std::memcpy(bias_.get_data_handle(), weights.bias.data(), sizeof(float) * out_);
  }

  // PyTorch's [out, in] weight is the matmul's [in, out] operand stored transposed (format "ba").
  const memory::desc plain_md({in_, out_}, dt::f32, tag::ba);
  const memory::desc any_md({in_, out_}, input_type(), tag::any);
  const auto probe = [&] {
    try {
      return describe(kLayoutProbeRows, any_md, dt::f32);
    } catch (const dnnl::error&) {
      if (!activation_in_post_op_) throw;
      activation_in_post_op_ = false;
      return describe(kLayoutProbeRows, any_md, dt::f32);
    }
  }();
  void* const storage = arena_->allocate(probe.weights_desc().get_size());
  weights_ = memory(probe.weights_desc(), engine_, storage);
  std::vector<const float*> blocks;
  for (const Matrix& part : weights.parts) blocks.push_back(part.values());
  const bool packed =
      blocks.empty() ? pack_weights_ba16a64b(weights.weight.values(), out_, in_,
                                             weights_.get_desc(), static_cast<float*>(storage))
                     : pack_weights_ba16a64b(blocks, weights.parts.front().rows, in_,
                                             weights_.get_desc(), static_cast<float*>(storage));
  if (!packed) {
    weights.stack();
    memory plain(plain_md, engine_, const_cast<float*>(weights.weight.values()));
    dnnl::stream stream(engine_);
    dnnl::reorder(plain, weights_).execute(stream, plain, weights_);
    stream.wait();
  }

  // bf16 output is offered only when oneDNN has a GEMM for it with these weights (and the
  // activation fused, since no float32 activation pass can follow): checked here, not mid-encode.
  if (dtype_ == ComputeType::bf16 && (!activation_ || activation_in_post_op_)) {
    try {
      describe(kLayoutProbeRows, weights_.get_desc(), dt::bf16);
      bf16_output_ = true;
    } catch (const dnnl::error&) {
      bf16_output_ = false;
    }
  }
}

dnnl::matmul::primitive_desc OneDnnLinear::describe(int64_t rows, const memory::desc& weights,
                                                    memory::data_type output) const {
  const memory::desc src({rows, in_}, input_type(), tag::ab);
  // A zero desc tells oneDNN there is no bias.
  const memory::desc bias = bias_ ? bias_.get_desc() : memory::desc();
  const memory::desc dst({rows, out_}, output, tag::ab);
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (activation_in_post_op_) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f, eltwise_for(*activation_), eltwise_alpha(*activation_), 0.0f);
    attr.set_post_ops(ops);
  }
  return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, weights, bias, dst), attr, engine_);
}

OneDnnLinear::Primitive OneDnnLinear::make_primitive(int64_t rows, memory::data_type output) const {
  auto pd = describe(rows, weights_.get_desc(), output);
  Primitive primitive{pd, dnnl::matmul(pd), {}, {}, pd.scratchpad_desc().get_size()};
  if (onednn_converts_) {
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    const dnnl::reorder::primitive_desc convert(
        engine_, memory::desc({rows, in_}, dt::f32, tag::ab), engine_, pd.src_desc(), attr);
    primitive.to_input_type = dnnl::reorder(convert);
    primitive.to_input_type_scratchpad = convert.scratchpad_desc();
    primitive.scratchpad_bytes =
        std::max(primitive.scratchpad_bytes, convert.scratchpad_desc().get_size());
  }
  return primitive;
}

OneDnnLinear::Binding OneDnnLinear::bind(const Primitive& primitive) const {
  const dnnl::matmul::primitive_desc& pd = primitive.desc;
  Binding b;
  b.src = b.matmul.add(DNNL_ARG_SRC, memory(pd.src_desc(), engine_, DNNL_MEMORY_NONE));
  b.matmul.add(DNNL_ARG_WEIGHTS, weights_);
  if (bias_) b.matmul.add(DNNL_ARG_BIAS, bias_);
  b.dst = b.matmul.add(DNNL_ARG_DST, memory(pd.dst_desc(), engine_, DNNL_MEMORY_NONE));
  b.scratchpad =
      b.matmul.add(DNNL_ARG_SCRATCHPAD, memory(pd.scratchpad_desc(), engine_, DNNL_MEMORY_NONE));
  if (onednn_converts_) {
    const memory::desc rows_f32({pd.src_desc().dims()[0], in_}, dt::f32, tag::ab);
    b.convert_from = b.convert.add(DNNL_ARG_FROM, memory(rows_f32, engine_, DNNL_MEMORY_NONE));
    b.convert_to = b.convert.add(DNNL_ARG_TO, memory(pd.src_desc(), engine_, DNNL_MEMORY_NONE));
    b.convert_scratchpad = b.convert.add(
        DNNL_ARG_SCRATCHPAD, memory(primitive.to_input_type_scratchpad, engine_, DNNL_MEMORY_NONE));
  }
  return b;
}

void OneDnnLinear::run(const float* x, int64_t rows, float* y, OptimizedScratch& scratch,
                       const Execution& exec) const {
  execute(x, false, rows, y, false, scratch, exec);
}

bool OneDnnLinear::writes_bf16() const {
  return bf16_output_;
}

void OneDnnLinear::run_to_bf16(const float* x, int64_t rows, uint16_t* y, OptimizedScratch& scratch,
                               const Execution& exec) const {
  assert(writes_bf16() && "run_to_bf16 needs writes_bf16()");
  execute(x, false, rows, y, true, scratch, exec);
}

void OneDnnLinear::run_from_bf16(const uint16_t* x, int64_t rows, float* y,
                                 OptimizedScratch& scratch, const Execution& exec) const {
  execute(x, true, rows, y, false, scratch, exec);
}

void OneDnnLinear::execute(const void* x, bool x_is_bf16, int64_t rows, void* y, bool y_is_bf16,
                           OptimizedScratch& scratch, const Execution& exec) const {
  const dt output = y_is_bf16 ? dt::bf16 : dt::f32;
  const int64_t padded = row_bucket(rows);
  const auto primitive = primitives_.get(padded, exec, y_is_bf16 ? 1 : 0,
                                         [&](int64_t r) { return make_primitive(r, output); });
  const Binding& b = scratch.binding<Binding>(primitive, [&] { return bind(*primitive); });
  void* pad = scratch.gemm_scratchpad.get<std::byte>(primitive->scratchpad_bytes);
  const OneDnnThreads threads(exec);
  const void* src = x;
  if (dtype_ == ComputeType::bf16 && !x_is_bf16) {
    // The GEMM reads bf16 rows: convert this call's float32 input once (see onednn_converts_).
    auto* converted = scratch.converted_input.get<uint16_t>(static_cast<size_t>(padded * in_));
    if (onednn_converts_) {
      b.convert.point(b.convert_from, x);
      b.convert.point(b.convert_to, converted);
      b.convert.point(b.convert_scratchpad, pad);
      b.convert.execute(primitive->to_input_type, scratch.stream());
    } else {
      constexpr int64_t kValues = 16 * 1024;  // per task
      const int64_t n = padded * in_;
      const auto* from = static_cast<const float*>(x);
      parallel_for(exec, (n + kValues - 1) / kValues, [&](int64_t task) {
        const int64_t begin = task * kValues;
        kernels::to_bf16(from + begin, std::min(kValues, n - begin), converted + begin);
      });
    }
    src = converted;
  }
  b.matmul.point(b.src, src);
  b.matmul.point(b.dst, y);
  b.matmul.point(b.scratchpad, pad);
  b.matmul.execute(primitive->matmul, scratch.stream());
  scratch.stream().wait();
  if (activation_ && !activation_in_post_op_) {
    float* const out = static_cast<float*>(y);  // writes_bf16() is false here
    parallel_for(exec, rows,
                 [&](int64_t r) { kernels::activation(out + r * out_, out_, *activation_); });
  }
}

}  // namespace vecformer::detail
