#include "encoder/encoder.hpp"

#include <algorithm>

namespace vecformer::detail {

void Workspace::reserve_for(int64_t rows, const Config& config) {
  const auto hidden = static_cast<size_t>(rows * config.hidden_size);
  if (x.size() >= hidden) return;  // grow only: a smaller batch keeps the larger buffers
  x.resize(hidden);
  normed.resize(hidden);
  qkv.resize(3 * hidden);
  context.resize(hidden);
  delta.resize(hidden);
  inner.resize(static_cast<size_t>(rows * config.intermediate_size));
}

Encoder::Encoder(EncoderWeights weights, std::unique_ptr<Backend> backend)
    : config_(weights.config),
      backend_(std::move(backend)),
      word_embeddings_(std::move(weights.word_embeddings)),
      position_embeddings_(std::move(weights.position_embeddings)),
      token_type_embeddings_(std::move(weights.token_type_embeddings)),
      position_offset_(weights.config.position_offset),
      embedding_norm_(std::move(weights.embedding_norm)),
      final_norm_(std::move(weights.final_norm)),
      workspaces_(*backend_) {
  const Activation activation = config_.hidden_act;
  layers_.reserve(weights.layers.size());
  for (LayerWeights& lw : weights.layers) {
    PreparedLayer layer;
    layer.qkv = backend_->prepare_linear(std::move(lw.qkv), nullptr);
    layer.attention_out = backend_->prepare_linear(std::move(lw.attention_out), nullptr);
    layer.attention_norm = std::move(lw.attention_norm);
    layer.ffn_in = backend_->prepare_linear(std::move(lw.ffn_in), &activation);
    layer.ffn_out = backend_->prepare_linear(std::move(lw.ffn_out), nullptr);
    layer.ffn_norm = std::move(lw.ffn_norm);
    layers_.push_back(std::move(layer));
  }
}

// ws.delta = attention_out(MultiHeadAttention(qkv(x))).
void Encoder::attention_block(const PreparedLayer& layer, const float* x, const Batch& batch,
                              Workspace& ws, const Execution& exec) const {
  const Backend& be = *backend_;
  be.linear(*layer.qkv, x, batch.tokens(), ws.qkv.data(), *ws.backend, exec);
  be.attention(ws.qkv.data(), batch.offsets(), config_.num_attention_heads, config_.head_dim(),
               ws.context.data(), *ws.backend, exec);
  be.linear(*layer.attention_out, ws.context.data(), batch.tokens(), ws.delta.data(), *ws.backend,
            exec);
}

// ws.delta = ffn_out(act(ffn_in(x))).
void Encoder::feed_forward(const PreparedLayer& layer, const float* x, int64_t tokens,
                           Workspace& ws, const Execution& exec) const {
  backend_->feed_forward(*layer.ffn_in, *layer.ffn_out, x, tokens, ws.inner.data(), ws.delta.data(),
                         *ws.backend, exec);
}

void Encoder::forward(const Batch& batch, float* hidden_out, const Execution& exec,
                      const AttentionObserver& observer) const {
  const Backend& be = *backend_;
  const int64_t tokens = batch.tokens();
  const int64_t hidden = config_.hidden_size;
  const auto eps = static_cast<float>(config_.layer_norm_eps);
  const WorkspacePool::Lease lease = workspaces_.acquire();
  Workspace& ws = *lease;
  // The GEMMs read and write the backend's padded rows: the residual stream lives in the workspace
  // and is copied out at the end.
  ws.reserve_for(be.padded_rows(tokens), config_);
  float* const x = ws.x.data();

  const EmbeddingTables tables{&word_embeddings_, &position_embeddings_, &token_type_embeddings_,
                               position_offset_};
  be.embed(tables, batch, x, exec);
  if (embedding_norm_.present())
    be.add_layer_norm(x, nullptr, embedding_norm_, eps, tokens, hidden, x, exec);

  for (size_t l = 0; l < layers_.size(); ++l) {
    const PreparedLayer& layer = layers_[l];
    auto observe = [&] {
      if (observer) observer(static_cast<int64_t>(l), ws.qkv.data(), ws.context.data());
    };
    if (!config_.norm_first) {
      // Post-norm (BERT): x = LN_a(x + attention(x)); x = LN_f(x + ffn(x)).
      attention_block(layer, x, batch, ws, exec);
      observe();
      be.add_layer_norm(x, ws.delta.data(), layer.attention_norm, eps, tokens, hidden, x, exec);
      feed_forward(layer, x, tokens, ws, exec);
      be.add_layer_norm(x, ws.delta.data(), layer.ffn_norm, eps, tokens, hidden, x, exec);
    } else {
      // Pre-norm: x = x + attention(LN_a(x)); x = x + ffn(LN_f(x)).
      be.add_layer_norm(x, nullptr, layer.attention_norm, eps, tokens, hidden, ws.normed.data(),
                        exec);
      attention_block(layer, ws.normed.data(), batch, ws, exec);
      observe();
      be.add_layer_norm(x, ws.delta.data(), layer.ffn_norm, eps, tokens, hidden, ws.normed.data(),
                        exec);
      feed_forward(layer, ws.normed.data(), tokens, ws, exec);
      be.add(x, ws.delta.data(), tokens * hidden, exec);
    }
  }
  if (final_norm_.present())
    be.add_layer_norm(x, nullptr, final_norm_, eps, tokens, hidden, x, exec);
  std::copy(x, x + tokens * hidden, hidden_out);
}

}  // namespace vecformer::detail
