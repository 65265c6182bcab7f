#pragma once

#include <cstdint>
#include <vector>

#include "vecformer/config.hpp"

namespace vecformer::detail {

// Row-major float matrix.
struct Matrix {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<float> data;

  bool empty() const { return data.empty(); }
  const float* row(int64_t r) const { return data.data() + r * cols; }
};

// Layer norm parameters; absent when gamma is empty.
struct Norm {
  std::vector<float> gamma;
  std::vector<float> beta;

  bool present() const { return !gamma.empty(); }
};

// A linear map y = x · Wᵀ + b with W in PyTorch's [out, in] layout.
struct LinearWeights {
  Matrix weight;
  std::vector<float> bias;
};

struct LayerWeights {
  LinearWeights qkv;            // [3·hidden, hidden]: query rows, then key rows, then value rows
  LinearWeights attention_out;  // [hidden, hidden]
  Norm attention_norm;          // post-norm: after attention; pre-norm: before it
  LinearWeights ffn_in;         // [intermediate, hidden]
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
};

}  // namespace vecformer::detail
