#include "backend/optimized/onednn_linear.hpp"

#include <cstring>

#include "backend/optimized/kernels/kernels.hpp"

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
  }
  return dnnl::algorithm::eltwise_relu;
}

}  // namespace

memory::data_type OneDnnLinear::input_type() const {
  return dtype_ == ComputeType::bf16 ? dt::bf16 : dt::f32;
}

OneDnnLinear::OneDnnLinear(const dnnl::engine& engine, LinearWeights weights,
                           const Activation* fused, ComputeType dtype, bool fuse_activation)
    : engine_(engine), in_(weights.weight.cols), out_(weights.weight.rows), dtype_(dtype) {
  if (fused) activation_ = *fused;
  activation_in_post_op_ = activation_.has_value() && fuse_activation;

  // PyTorch's [out, in] weight is the matmul's [in, out] operand stored transposed (format "ba").
  const memory::desc plain_md({in_, out_}, dt::f32, tag::ba);
  const memory::desc any_md({in_, out_}, input_type(), tag::any);
  const auto probe = [&] {
    try {
      return describe(kLayoutProbeRows, any_md);
    } catch (const dnnl::error&) {
      if (!activation_in_post_op_) throw;
      activation_in_post_op_ = false;
      return describe(kLayoutProbeRows, any_md);
    }
  }();
  memory plain(plain_md, engine_, weights.weight.data.data());
  weights_ = memory(probe.weights_desc(), engine_);
  dnnl::stream stream(engine_);
  dnnl::reorder(plain, weights_).execute(stream, plain, weights_);

  bias_ = memory(memory::desc({1, out_}, dt::f32, tag::ab), engine_);
  std::memcpy(bias_.get_data_handle(), weights.bias.data(), sizeof(float) * out_);
  stream.wait();
}

dnnl::matmul::primitive_desc OneDnnLinear::describe(int64_t rows,
                                                    const memory::desc& weights) const {
  const memory::desc src({rows, in_}, input_type(), tag::ab);
  const memory::desc bias({1, out_}, dt::f32, tag::ab);
  const memory::desc dst({rows, out_}, dt::f32, tag::ab);
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (activation_in_post_op_) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f, eltwise_for(*activation_), 0.0f, 0.0f);
    attr.set_post_ops(ops);
  }
  return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, weights, bias, dst), attr, engine_);
}

OneDnnLinear::Primitive OneDnnLinear::make_primitive(int64_t rows) const {
  auto pd = describe(rows, weights_.get_desc());
  dnnl::reorder to_input_type;
  if (dtype_ == ComputeType::bf16) {
    to_input_type = dnnl::reorder(dnnl::reorder::primitive_desc(
        engine_, memory::desc({rows, in_}, dt::f32, tag::ab), engine_, pd.src_desc()));
  }
  return Primitive{pd, dnnl::matmul(pd), to_input_type};
}

void OneDnnLinear::run(const float* x, int64_t rows, float* y) const {
  const Primitive& primitive =
      primitives_.get(rows, [this](int64_t r) { return make_primitive(r); });
  const dnnl::matmul::primitive_desc& pd = primitive.desc;
  std::vector<uint8_t> scratch(pd.scratchpad_desc().get_size());
  dnnl::stream stream(engine_);
  memory src(pd.src_desc(), engine_, const_cast<float*>(x));
  std::vector<uint16_t> converted;
  if (dtype_ == ComputeType::bf16) {
    // The GEMM reads bf16 rows: convert this call's float32 input once.
    converted.resize(static_cast<size_t>(rows * in_));
    memory f32_src(memory::desc({rows, in_}, dt::f32, tag::ab), engine_, const_cast<float*>(x));
    src = memory(pd.src_desc(), engine_, converted.data());
    primitive.to_input_type.execute(stream, f32_src, src);
  }
  memory dst(pd.dst_desc(), engine_, y);
  memory scratchpad(pd.scratchpad_desc(), engine_, scratch.data());
  primitive.matmul.execute(stream, {{DNNL_ARG_SRC, src},
                                    {DNNL_ARG_WEIGHTS, weights_},
                                    {DNNL_ARG_BIAS, bias_},
                                    {DNNL_ARG_DST, dst},
                                    {DNNL_ARG_SCRATCHPAD, scratchpad}});
  stream.wait();
  if (activation_ && !activation_in_post_op_) {
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; ++r) kernels::activation(y + r * out_, out_, *activation_);
  }
}

}  // namespace vecformer::detail
