#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "backend/backend.hpp"
#include "encoder/batch.hpp"
#include "encoder/weights.hpp"

namespace vecformer::detail {

class Encoder;

// Scratch memory of forward passes: matrices sized for the largest batch seen so far, and the
// backend's own scratch. Reused from call to call, so a forward pass in steady state allocates
// nothing. Made by Encoder::make_workspace for that encoder; serves one call at a time.
class Workspace {
 public:
  std::vector<float> normed;   // [T, hidden]
  std::vector<float> qkv;      // [T, 3·hidden]
  std::vector<float> context;  // [T, hidden]
  std::vector<float> delta;    // [T, hidden]
  std::vector<float> inner;    // [T, intermediate]
  std::unique_ptr<Scratch> backend;

  void reserve_for(int64_t tokens, const Config& config);

 private:
  friend class Encoder;
  Workspace(const Encoder* owner, std::unique_ptr<Scratch> scratch)
      : backend(std::move(scratch)), owner_(owner) {}
  const Encoder* owner_;
};

// Called once per layer, after attention, with the layer's packed qkv [T, 3·hidden] and attention
// context [T, hidden]: a window for inspection (vecformer explain), not a way to change the
// forward.
using AttentionObserver =
    std::function<void(int64_t layer, const float* qkv, const float* context)>;

// The encoder graph, written once: embed, then L × (attention, add & norm, feed-forward, add &
// norm), post-norm or pre-norm. Every op goes through the Backend, which prepares the weights at
// construction.
class Encoder {
 public:
  Encoder(EncoderWeights weights, std::unique_ptr<Backend> backend);

  const Config& config() const { return config_; }
  const Backend& backend() const { return *backend_; }

  Workspace make_workspace() const { return Workspace(this, backend_->make_scratch()); }

  // hidden[T, hidden_size] = the last hidden states of the batch's packed tokens. `workspace`
  // comes from this encoder's make_workspace().
  void forward(const Batch& batch, float* hidden, Workspace& workspace,
               const AttentionObserver& observer = nullptr) const;

 private:
  struct PreparedLayer {
    std::unique_ptr<PreparedLinear> qkv;
    std::unique_ptr<PreparedLinear> attention_out;
    Norm attention_norm;
    std::unique_ptr<PreparedLinear> ffn_in;  // with the activation fused
    std::unique_ptr<PreparedLinear> ffn_out;
    Norm ffn_norm;
  };

  void attention_block(const PreparedLayer& layer, const float* x, const Batch& batch,
                       Workspace& ws) const;
  void feed_forward(const PreparedLayer& layer, const float* x, int64_t tokens,
                    Workspace& ws) const;

  Config config_;
  std::unique_ptr<Backend> backend_;
  Matrix word_embeddings_;
  Matrix position_embeddings_;
  Matrix token_type_embeddings_;
  int64_t position_offset_ = 0;
  Norm embedding_norm_;
  std::vector<PreparedLayer> layers_;
  Norm final_norm_;
};

}  // namespace vecformer::detail
