#include "encoder/encoder.hpp"

#include <algorithm>
#include <exception>
#include <span>

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
      storage_(std::move(weights.storage)),
      workspaces_(*backend_) {
  // The tables are read at every call: views stay only while the encoder keeps their storage.
  // Their pages (touched by the load's NaN check) are dropped: rows come back from the file's
  // pages as tokens use them, so a table costs the process only the rows in use.
  for (Matrix* table : {&word_embeddings_, &position_embeddings_, &token_type_embeddings_}) {
    if (!storage_) {
      table->own();
    } else if (table->release_view) {
      table->release_view(table->view, sizeof(float) * static_cast<size_t>(table->size()));
    }
  }
  const auto count = static_cast<int64_t>(weights.layers.size());
  layers_.resize(weights.layers.size());
  for (size_t l = 0; l < layers_.size(); ++l) {
    layers_[l].attention_norm = std::move(weights.layers[l].attention_norm);
    layers_[l].ffn_norm = std::move(weights.layers[l].ffn_norm);
  }
  // The linears are prepared in parallel, one per thread: a weight reorder is mostly page faults
  // and strided copies, which oneDNN runs on one thread inside a parallel region anyway. Each view
  // of the checkpoint is dropped from memory as soon as its copy exists, so the file and the
  // prepared weights are never resident at once.
  const Activation activation = config_.hidden_act;
  std::vector<std::exception_ptr> errors(static_cast<size_t>(4 * count));
#pragma omp parallel for schedule(dynamic)
  for (int64_t task = 0; task < 4 * count; ++task) {
    LayerWeights& lw = weights.layers[task / 4];
    PreparedLayer& layer = layers_[task / 4];
    const auto prepare = [&](LinearWeights& linear, const Activation* fused) {
      // What to release once the backend, which takes the weights, has its copy.
      std::vector<Matrix> views;
      for (const Matrix& m : linear.parts.empty() ? std::span(&linear.weight, 1)
                                                  : std::span<const Matrix>(linear.parts)) {
        if (m.release_view) views.push_back(Matrix{m.rows, m.cols, {}, m.view, m.release_view});
      }
      auto prepared = backend_->prepare_linear(std::move(linear), fused);
      for (const Matrix& m : views) {
        m.release_view(m.view, sizeof(float) * static_cast<size_t>(m.size()));
      }
      return prepared;
    };
    try {
      switch (task % 4) {
        case 0:
          layer.qkv = prepare(lw.qkv, nullptr);
          break;
        case 1:
          layer.attention_out = prepare(lw.attention_out, nullptr);
          break;
        case 2:
          layer.ffn_in = prepare(lw.ffn_in, &activation);
          break;
        default:
          layer.ffn_out = prepare(lw.ffn_out, nullptr);
          break;
      }
    } catch (...) {
      errors[task] = std::current_exception();  // an exception must not leave the parallel region
    }
  }
  for (const std::exception_ptr& error : errors) {
    if (error) std::rethrow_exception(error);
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
