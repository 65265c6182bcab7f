#include "heads/head.hpp"

#include <algorithm>
#include <cmath>

namespace vecformer::detail {

namespace {

int64_t linear_parameters(const LinearWeights& l) {
  return l.weight.size() + static_cast<int64_t>(l.bias.size());
}

}  // namespace

Head::Head(HeadWeights weights, const Backend& backend)
    : backend_(backend),
      kind_(weights.kind),
      pooling_(weights.pooling),
      dense_activation_(weights.dense_activation),
      norm_(std::move(weights.norm)),
      norm_eps_(weights.norm_eps) {
  parameters_ =
      linear_parameters(weights.out) + static_cast<int64_t>(norm_.gamma.size() + norm_.beta.size());
  if (weights.dense.weight.rows > 0) {
    parameters_ += linear_parameters(weights.dense);
    inner_ = weights.dense.weight.rows;
    const Activation fused = weights.fused_activation;
    dense_ = backend_.prepare_linear(
        std::move(weights.dense), dense_activation_ == DenseActivation::fused ? &fused : nullptr);
  }
  outputs_ = weights.out.weight.rows;
  out_ = backend_.prepare_linear(std::move(weights.out), nullptr);
}

Head::~Head() = default;

std::unique_ptr<Head::Scratchpad> Head::acquire() const {
  {
    const std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      std::unique_ptr<Scratchpad> pad = std::move(idle_.back());
      idle_.pop_back();
      return pad;
    }
  }
  auto pad = std::make_unique<Scratchpad>();
  pad->backend = backend_.make_scratch();
  return pad;
}

void Head::give_back(std::unique_ptr<Scratchpad> pad) const {
  const std::lock_guard lock(mutex_);
  idle_.push_back(std::move(pad));
}

void Head::run(const float* x, int64_t rows, float* logits, const Execution& exec) const {
  if (rows == 0) return;
  std::unique_ptr<Scratchpad> pad = acquire();
  const int64_t padded = backend_.padded_rows(rows);
  if (pad->out.size() < static_cast<size_t>(padded * outputs_)) {
    pad->out.resize(static_cast<size_t>(padded * outputs_));
  }
  const float* features = x;
  if (dense_) {
    if (pad->inner.size() < static_cast<size_t>(padded * inner_)) {
      pad->inner.resize(static_cast<size_t>(padded * inner_));
    }
    float* inner = pad->inner.data();
    backend_.linear(*dense_, x, rows, inner, *pad->backend, exec);
    if (dense_activation_ == DenseActivation::tanh) {
      // rows × inner values once per call (one row per sequence): not worth a kernel.
      for (int64_t i = 0; i < rows * inner_; ++i) inner[i] = std::tanh(inner[i]);
    }
    if (norm_.present()) {
      backend_.add_layer_norm(inner, nullptr, norm_, norm_eps_, rows, inner_, inner, exec);
    }
    features = inner;
  }
  backend_.linear(*out_, features, rows, pad->out.data(), *pad->backend, exec);
  std::copy(pad->out.begin(), pad->out.begin() + rows * outputs_, logits);
  give_back(std::move(pad));
}

}  // namespace vecformer::detail
