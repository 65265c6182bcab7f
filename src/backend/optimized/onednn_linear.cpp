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

OneDnnLinear::OneDnnLinear(const dnnl::engine& engine, LinearWeights weights,
                           const Activation* fused, bool fuse_activation)
    : engine_(engine), in_(weights.weight.cols), out_(weights.weight.rows) {
  if (fused) activation_ = *fused;
  activation_in_post_op_ = activation_.has_value() && fuse_activation;

  // PyTorch's [out, in] weight is the matmul's [in, out] operand stored transposed (format "ba").
  const memory::desc plain_md({in_, out_}, dt::f32, tag::ba);
  const memory::desc any_md({in_, out_}, dt::f32, tag::any);
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
  const memory::desc src({rows, in_}, dt::f32, tag::ab);
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

const OneDnnLinear::Primitive& OneDnnLinear::primitive_for(int64_t rows) const {
  std::lock_guard lock(mutex_);
  auto it = primitives_.find(rows);
  if (it == primitives_.end()) {
    auto pd = describe(rows, weights_.get_desc());
    it = primitives_.emplace(rows, Primitive{pd, dnnl::matmul(pd)}).first;
  }
  // std::map never moves its nodes, so the reference stays valid while other rows are added.
  return it->second;
}

void OneDnnLinear::run(const float* x, int64_t rows, float* y) const {
  const Primitive& primitive = primitive_for(rows);
  const dnnl::matmul::primitive_desc& pd = primitive.desc;
  std::vector<uint8_t> scratch(pd.scratchpad_desc().get_size());
  memory src(pd.src_desc(), engine_, const_cast<float*>(x));
  memory dst(pd.dst_desc(), engine_, y);
  memory scratchpad(pd.scratchpad_desc(), engine_, scratch.data());
  dnnl::stream stream(engine_);
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
