#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "backend/backend.hpp"
#include "encoder/weights.hpp"
#include "vecformer/model.hpp"

namespace vecformer::detail {

// What follows a head's first linear map.
enum class DenseActivation {
  none,
  tanh,   // the BERT pooler and RoBERTa's classification head
  fused,  // HeadWeights::fused_activation, fused into the GEMM (ReLU, GELU)
};

// Every head is one shape: logits = out(norm(act(dense(x)))) on the rows it reads, with the dense
// map and the norm optional. Labels and scoring live in HeadInfo.
//   BERT sequence classification      dense = bert.pooler.dense (tanh), out = classifier
//   RoBERTa sequence classification   dense = classifier.dense (tanh), out = classifier.out_proj
//   DistilBERT sequence classification dense = pre_classifier (ReLU), out = classifier
//   token classification              out = classifier
//   masked LM                         dense (GELU), norm, out = decoder + output bias
//   ModernBERT (all three heads)      dense = head.dense (classifier_activation), norm = head.norm,
//                                     out = classifier, or decoder + decoder.bias
// A sequence-classification head reads one row per sequence: its first token (cls) or the mean of
// its tokens (ModernBERT's classifier_pooling "mean").
struct HeadWeights {
  HeadKind kind = HeadKind::none;
  Pooling pooling = Pooling::cls;
  LinearWeights dense;  // weight empty: none
  DenseActivation dense_activation = DenseActivation::none;
  Activation fused_activation = Activation::gelu_erf;
  Norm norm;  // absent: none
  float norm_eps = 1e-12f;
  LinearWeights out;
};

// A head prepared for a backend (the encoder's, so bf16 and int8 apply to its GEMMs too).
// Immutable after construction; run() may be called from many threads at once (its scratch comes
// from a pool, as the encoder's workspaces do).
class Head {
 public:
  Head(HeadWeights weights, const Backend& backend);
  ~Head();

  HeadKind kind() const { return kind_; }
  // Sequence classification: how each sequence's states become the row run() reads (cls or mean).
  Pooling pooling() const { return pooling_; }
  int64_t outputs() const { return outputs_; }
  int64_t parameters() const { return parameters_; }

  // logits[rows, outputs()] = the head on x[rows, hidden]. x must have room for
  // backend.padded_rows(rows) rows (the rows past `rows` are scratch).
  void run(const float* x, int64_t rows, float* logits, const Execution& exec) const;

 private:
  struct Scratchpad {
    std::vector<float> inner;  // [padded rows, dense outputs]
    std::vector<float> out;    // [padded rows, outputs]
    std::unique_ptr<Scratch> backend;
  };
  std::unique_ptr<Scratchpad> acquire() const;
  void give_back(std::unique_ptr<Scratchpad> pad) const;

  const Backend& backend_;
  HeadKind kind_;
  Pooling pooling_;
  std::unique_ptr<PreparedLinear> dense_;
  DenseActivation dense_activation_;
  Norm norm_;
  float norm_eps_;
  std::unique_ptr<PreparedLinear> out_;
  int64_t inner_ = 0;
  int64_t outputs_ = 0;
  int64_t parameters_ = 0;
  mutable std::mutex mutex_;
  mutable std::vector<std::unique_ptr<Scratchpad>> idle_;
};

}  // namespace vecformer::detail
