#pragma once

#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "backend/backend.hpp"
#include "encoder/batch.hpp"
#include "encoder/weights.hpp"
#include "encoder/workspace.hpp"

namespace vecformer::detail {

// Called once per layer, after attention, with the layer's packed qkv [T, 3·hidden] (with rotary
// positions, its queries and keys rotated as attention used them) and attention context
// [T, hidden]: a window for inspection (vecformer explain), not a way to change the forward.
using AttentionObserver =
    std::function<void(int64_t layer, const float* qkv, const float* context)>;

// The encoder graph, written once: embed, then L × (attention, add & norm, feed-forward, add &
// norm), post-norm or pre-norm. Every op goes through the Backend, which prepares the weights at
// construction. Scratch memory comes from the encoder's own pool of workspaces, so forward may be
// called from many threads at once.
class Encoder {
 public:
  Encoder(EncoderWeights weights, std::unique_ptr<Backend> backend);

  const Config& config() const { return config_; }
  const Backend& backend() const { return *backend_; }

  // hidden[T, hidden_size] = the last hidden states of the batch's packed tokens, computed on
  // exec.threads threads.
  void forward(const Batch& batch, float* hidden, const Execution& exec,
               const AttentionObserver& observer = nullptr) const;

  // Workspaces made so far: one per call that ran while all the others were busy.
  size_t workspaces() const { return workspaces_.created(); }

 private:
  struct PreparedLayer {
    std::unique_ptr<PreparedLinear> qkv;
    std::unique_ptr<PreparedLinear> attention_out;
    Norm attention_norm;
    std::unique_ptr<PreparedLinear> ffn_in;  // with the activation fused (gated: the gate too)
    std::unique_ptr<PreparedLinear> ffn_out;
    Norm ffn_norm;
    AttentionSpec spec;                   // ALiBi slopes, local window
    const RotaryTable* rotary = nullptr;  // global or local base; null without rotary positions
  };

  void attention_block(const PreparedLayer& layer, const float* x, const Batch& batch,
                       Workspace& ws, const Execution& exec) const;
  std::span<const RotaryTable* const> rotary_tables(const RotaryTable& table, const Batch& batch,
                                                    Workspace& ws) const;
  void feed_forward(const PreparedLayer& layer, const float* x, int64_t tokens, Workspace& ws,
                    const Execution& exec) const;

  Config config_;
  std::unique_ptr<Backend> backend_;
  Matrix word_embeddings_;
  Matrix position_embeddings_;
  Matrix token_type_embeddings_;
  int64_t position_offset_ = 0;
  Norm embedding_norm_;
  std::vector<PreparedLayer> layers_;
  Norm final_norm_;
  std::vector<float> alibi_slopes_;      // [heads] with ALiBi positions
  RotaryTable global_rotary_;            // with rotary positions: for every position
  RotaryTable local_rotary_;             // with rotary positions and local layers
  std::shared_ptr<const void> storage_;  // see EncoderWeights::storage
  mutable WorkspacePool workspaces_;  // per-call scratch, reused: not part of the encoder's state
};

}  // namespace vecformer::detail
