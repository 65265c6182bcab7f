#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "encoder/weights.hpp"
#include "io/checkpoint.hpp"

namespace vecformer::detail {

// Reads named tensors out of a checkpoint with the shapes a family expects, under an optional name
// prefix. Every failure (missing tensor, wrong shape, NaN or Inf) throws vecformer::Error naming
// the file and the tensor.
class CheckpointReader {
 public:
  CheckpointReader(const Checkpoint& checkpoint, std::string prefix)
      : checkpoint_(checkpoint), prefix_(std::move(prefix)) {}

  bool has(const std::string& name) const;
  // A view of the tensor in the mapping when it is stored F32 (aligned), else a copy converted to
  // float32: valid while the checkpoint is open (see EncoderWeights::storage).
  Matrix matrix(const std::string& name, int64_t rows, int64_t cols) const;
  std::vector<float> vector(const std::string& name, int64_t size) const;
  // A layer norm's weight and bias (without a bias when `bias` is false: then a stored bias is an
  // error), or an absent Norm when `optional` and the weight is missing.
  Norm norm(const std::string& name, int64_t size, bool optional = false, bool bias = true) const;
  // name.weight [out, in] and name.bias [out]; without `bias`, no bias (a stored one is an error:
  // the config says the model has none, and ignoring it would compute another model).
  LinearWeights linear(const std::string& name, int64_t out, int64_t in, bool bias = true) const;
  // Several [out, in] linear maps stacked into one [parts·out, in] map (e.g. query, key and value,
  // so that one GEMM computes all three), as LinearWeights::parts.
  LinearWeights stacked_linear(const std::vector<std::string>& names, int64_t out, int64_t in,
                               bool bias = true) const;
  // Row blocks of one stored [rows, in] linear map, reordered: block i is rows [begin, begin +
  // count) of the tensor (e.g. the two halves of a fused GLU weight, swapped so that the activated
  // half comes first). The bias, when there is one, is reordered alike.
  struct RowBlock {
    int64_t begin;
    int64_t count;
  };
  LinearWeights row_blocks(const std::string& name, int64_t rows, int64_t in,
                           const std::vector<RowBlock>& blocks, bool bias) const;
  // Throws when the tensor is present: `why` says why the model has no such tensor.
  void reject(const std::string& name, const std::string& why) const;
  // BERT's embedding tables, "embeddings.{word,position,token_type}_embeddings.weight", into w: the
  // position table with learned positions (otherwise a stored one is an error, `no_positions`
  // saying why), the token-type table when type_vocab_size > 0 (a stored one is an error
  // otherwise).
  void embeddings(const Config& config, const std::string& no_positions, EncoderWeights& w) const;

 private:
  std::vector<float> read(const std::string& name, const std::vector<int64_t>& shape) const;
  const TensorEntry& entry(const std::string& full, const std::vector<int64_t>& shape,
                           const SafetensorsFile*& file) const;
  void check_finite(const SafetensorsFile& file, const std::string& full, const float* values,
                    size_t count) const;
  const Checkpoint& checkpoint_;
  std::string prefix_;
};

// read_layer(0) ... read_layer(count - 1), on the calling thread's OpenMP team: converting a
// checkpoint is mostly page faults and copies, which two cores do in about half the time. When
// layers fail, the error thrown is the lowest failing layer's, as a front-to-back read would throw.
std::vector<LayerWeights> read_layers(int64_t count,
                                      const std::function<LayerWeights(int64_t)>& read_layer);

// "prefix." when the checkpoint's tensors carry it (e.g. "bert." in BertFor... checkpoints), else
// "".
std::string detect_prefix(const Checkpoint& checkpoint, const std::string& probe,
                          const std::string& prefix);

}  // namespace vecformer::detail
