#include "encoder/encoder.hpp"

#include <algorithm>
#include <exception>
#include <span>

#include "backend/reference/reference_ops.hpp"
#include "encoder/positional.hpp"

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
  // Positions inside attention: ALiBi's head slopes, or the rotary tables of the global and the
  // local layers' bases (unscaled by length: dynamic NTK tables are made per long sequence).
  const int64_t positions = config_.max_position_embeddings;
  if (config_.position_embedding_type == PositionEmbedding::alibi) {
    alibi_slopes_ = alibi_slopes(config_.num_attention_heads);
  } else if (config_.position_embedding_type == PositionEmbedding::rotary) {
    global_rotary_ = rotary_table(config_, config_.rotary.base, positions, 0);
    if (config_.local_window > 0)
      local_rotary_ = rotary_table(config_, config_.rotary.local_base, positions, 0);
  }
  const auto count = static_cast<int64_t>(weights.layers.size());
  layers_.resize(weights.layers.size());
  for (size_t l = 0; l < layers_.size(); ++l) {
    PreparedLayer& layer = layers_[l];
    layer.attention_norm = std::move(weights.layers[l].attention_norm);
    layer.ffn_norm = std::move(weights.layers[l].ffn_norm);
    const bool global = config_.layer_is_global(static_cast<int64_t>(l));
    if (!alibi_slopes_.empty()) layer.spec.alibi_slopes = alibi_slopes_.data();
    if (!global) layer.spec.window = config_.local_window;
    if (config_.position_embedding_type == PositionEmbedding::rotary)
      layer.rotary = global ? &global_rotary_ : &local_rotary_;
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
    const auto prepare = [&](LinearWeights& linear, const Activation* fused, bool gated = false) {
      // What to release once the backend, which takes the weights, has its copy.
      std::vector<Matrix> views;
      for (const Matrix& m : linear.parts.empty() ? std::span(&linear.weight, 1)
                                                  : std::span<const Matrix>(linear.parts)) {
        if (m.release_view) views.push_back(Matrix{m.rows, m.cols, {}, m.view, m.release_view});
      }
      auto prepared = gated ? backend_->prepare_gated_linear(std::move(linear), *fused)
                            : backend_->prepare_linear(std::move(linear), fused);
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
          layer.ffn_in =
              prepare(lw.ffn_in, &activation, config_.feed_forward == FeedForward::gated);
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

namespace {

// qkv's queries and keys rotated in place, sequence s's by its table tables[s] (the reference
// backend's loops; for inspection only).
void rotate_queries_and_keys(float* qkv, std::span<const int64_t> offsets,
                             std::span<const RotaryTable* const> tables, const Config& config) {
  const int64_t heads = config.num_attention_heads, head_dim = config.head_dim();
  const int64_t hidden = heads * head_dim;
  for (size_t s = 0; s + 1 < offsets.size(); ++s) {
    const RotaryTable& table = *tables[s];
    for (int64_t t = offsets[s]; t < offsets[s + 1]; ++t) {
      const int64_t half = table.dim / 2, position = t - offsets[s];
      float* row = qkv + t * 3 * hidden;
      for (int64_t h = 0; h < 2 * heads; ++h) {  // every head's query, then every head's key
        reference::rotate(row + h * head_dim, table.cos.data() + position * half,
                          table.sin.data() + position * half, table.dim, table.interleaved);
      }
    }
  }
}

}  // namespace

// The rotary table of every sequence of the batch for a layer whose table is `table`. With dynamic
// NTK scaling, a sequence longer than the trained positions gets a table of its own, whose base
// grows with its length.
std::span<const RotaryTable* const> Encoder::rotary_tables(const RotaryTable& table,
                                                           const Batch& batch,
                                                           Workspace& ws) const {
  const std::span<const int64_t> offsets = batch.offsets();
  const auto sequences = offsets.size() - 1;
  ws.rotary.assign(sequences, &table);
  const RotaryConfig& rotary = config_.rotary;
  if (rotary.scaling != RotaryScaling::dynamic_ntk) return ws.rotary;
  ws.long_rotary.clear();
  size_t longer = 0;
  for (size_t s = 0; s < sequences; ++s)
    longer += offsets[s + 1] - offsets[s] > rotary.max_trained_positions ? 1 : 0;
  ws.long_rotary.reserve(longer);  // the pointers below stay valid
  const double base = &table == &local_rotary_ ? rotary.local_base : rotary.base;
  for (size_t s = 0; s < sequences; ++s) {
    const int64_t length = offsets[s + 1] - offsets[s];
    if (length <= rotary.max_trained_positions) continue;
    ws.long_rotary.push_back(rotary_table(config_, base, length, length));
    ws.rotary[s] = &ws.long_rotary.back();
  }
  return ws.rotary;
}

// ws.delta = attention_out(MultiHeadAttention(qkv(x))), positions applied inside attention.
void Encoder::attention_block(const PreparedLayer& layer, const float* x, const Batch& batch,
                              Workspace& ws, const Execution& exec) const {
  const Backend& be = *backend_;
  be.linear(*layer.qkv, x, batch.tokens(), ws.qkv.data(), *ws.backend, exec);
  AttentionSpec spec = layer.spec;
  if (layer.rotary) spec.rotary = rotary_tables(*layer.rotary, batch, ws);
  be.attention(ws.qkv.data(), batch.offsets(), config_.num_attention_heads, config_.head_dim(),
               spec, ws.context.data(), *ws.backend, exec);
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
      if (!observer) return;
      // Attention rotated its own copies; the observer gets them as attention used them.
      if (layer.rotary) rotate_queries_and_keys(ws.qkv.data(), batch.offsets(), ws.rotary, config_);
      observer(static_cast<int64_t>(l), ws.qkv.data(), ws.context.data());
    };
    if (!config_.norm_first) {
      // Post-norm (BERT): x = LN_a(x + attention(x)); x = LN_f(x + ffn(x)).
      attention_block(layer, x, batch, ws, exec);
      observe();
      be.add_layer_norm(x, ws.delta.data(), layer.attention_norm, eps, tokens, hidden, x, exec);
      feed_forward(layer, x, tokens, ws, exec);
      be.add_layer_norm(x, ws.delta.data(), layer.ffn_norm, eps, tokens, hidden, x, exec);
    } else {
      // Pre-norm: x = x + attention(LN_a(x)); x = x + ffn(LN_f(x)). An absent LN_a (ModernBERT's
      // first layer, whose input was just normed by the embeddings) is the identity.
      const float* attention_in = x;
      if (layer.attention_norm.present()) {
        be.add_layer_norm(x, nullptr, layer.attention_norm, eps, tokens, hidden, ws.normed.data(),
                          exec);
        attention_in = ws.normed.data();
      }
      attention_block(layer, attention_in, batch, ws, exec);
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
