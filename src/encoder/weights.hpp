#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "vecformer/config.hpp"

namespace vecformer::detail {

// Row-major float matrix: values of its own, or, while a model loads, a view of float32 values in a
// checkpoint's mapping, which the backend reads once into its own layout (no intermediate copy)
// before the mapping closes.
struct Matrix {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<float> data;  // the values, unless `view` is set
  const float* view = nullptr;
  // Drops the view's pages from memory once the backend has its copy (they would be read back from
  // the file if touched again); null for values of its own.
  void (*release_view)(const void* data, size_t bytes) = nullptr;

  bool empty() const { return view == nullptr && data.empty(); }
  int64_t size() const { return rows * cols; }
  const float* values() const { return view ? view : data.data(); }
  const float* row(int64_t r) const { return values() + r * cols; }
  // Makes the values the matrix's own (a copy of a view), for a backend that keeps them.
  void own() {
    if (!view) return;
    data.assign(view, view + size());
    view = nullptr;
    release_view = nullptr;
  }
};

// Layer norm parameters; absent when gamma is empty (the identity), without a bias when beta is
// empty (ModernBERT's norm_bias false).
struct Norm {
  std::vector<float> gamma;
  std::vector<float> beta;

  bool present() const { return !gamma.empty(); }
};

// A linear map y = x · Wᵀ + b with W in PyTorch's [out, in] layout (the bias may be empty: none).
struct LinearWeights {
  Matrix weight;
  std::vector<float> bias;
  // When not empty, W is these matrices stacked row by row (e.g. the query, key and value maps,
  // views of a checkpoint) and `weight` has W's shape but no values until stack() copies them: a
  // backend that lays W out block by block reads the parts where they are.
  std::vector<Matrix> parts;

  // Makes `weight` hold W's values (a copy of the stacked parts), for a backend that needs them
  // contiguous.
  void stack() {
    if (parts.empty()) return;
    weight.data.clear();
    weight.data.reserve(static_cast<size_t>(weight.size()));
    for (const Matrix& part : parts) {
      weight.data.insert(weight.data.end(), part.values(), part.values() + part.size());
    }
    weight.view = nullptr;
    weight.release_view = nullptr;
    parts.clear();
  }
};

struct LayerWeights {
  LinearWeights qkv;            // [3·hidden, hidden]: query rows, then key rows, then value rows
  LinearWeights attention_out;  // [hidden, hidden]
  Norm attention_norm;          // post-norm: after attention; pre-norm: before it (may be absent:
                                // ModernBERT's layer 0)
  LinearWeights ffn_in;         // [intermediate, hidden]; gated: [2·intermediate, hidden], the
                                // rows of the activated half first
  LinearWeights ffn_out;        // [hidden, intermediate]
  Norm ffn_norm;                // post-norm: after the FFN; pre-norm: before it
};

// Everything the encoder graph needs, in float32 and family-independent names. Built by model/ from
// a checkpoint; the backends prepare their own copies from it once.
struct EncoderWeights {
  Config config;
  Matrix word_embeddings;        // [vocab, hidden]
  Matrix position_embeddings;    // [max_positions, hidden]; computed for sinusoidal; empty for none
  Matrix token_type_embeddings;  // [type_vocab, hidden]; empty when the checkpoint has none
  Norm embedding_norm;           // optional
  std::vector<LayerWeights> layers;
  Norm final_norm;  // optional: applied after the last layer
  // What keeps matrix views valid (a checkpoint's mapping): an encoder holding it reads its
  // embedding tables in place, their rows paged in from the file as tokens use them. Null: every
  // view is copied.
  std::shared_ptr<const void> storage;
};

}  // namespace vecformer::detail
