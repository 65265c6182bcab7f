#include "model/checkpoint_reader.hpp"

#include <omp.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <exception>

#include "vecformer/error.hpp"

namespace vecformer::detail {

namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) text += ", ";
    text += std::to_string(shape[i]);
  }
  return text + "]";
}

}  // namespace

bool CheckpointReader::has(const std::string& name) const {
  return checkpoint_.find(prefix_ + name) != nullptr;
}

const TensorEntry& CheckpointReader::entry(const std::string& full,
                                           const std::vector<int64_t>& shape,
                                           const SafetensorsFile*& file) const {
  // A missing tensor names the checkpoint (model.safetensors or the shards' index); anything wrong
  // with a present one names the file holding it.
  file = checkpoint_.file_of(full);
  if (!file) throw Error(checkpoint_.path().string() + ": tensor '" + full + "' is missing");
  const TensorEntry* found = file->find(full);
  if (found->shape != shape) {
    throw Error(file->path().string() + ": tensor '" + full + "' has shape " +
                shape_text(found->shape) + ", expected " + shape_text(shape));
  }
  return *found;
}

void CheckpointReader::check_finite(const SafetensorsFile& file, const std::string& full,
                                    const float* values, size_t count) const {
  // A branch-free pass the compiler vectorizes (NaN and Inf are the values whose exponent bits are
  // all ones); the offending element is looked for only when there is one.
  // A large tensor read outside the layers' parallel loop (an embedding table) is split over the
  // team: on this project's virtual machines the first read of each mapped page is the cost.
  constexpr size_t kChunk = size_t{1} << 20;
  const auto chunks = static_cast<int64_t>((count + kChunk - 1) / kChunk);
  uint32_t non_finite = 0;
#pragma omp parallel for reduction(| : non_finite) if (chunks > 1 && !omp_in_parallel())
  for (int64_t c = 0; c < chunks; ++c) {
    const size_t end = std::min(count, (static_cast<size_t>(c) + 1) * kChunk);
    for (size_t i = static_cast<size_t>(c) * kChunk; i < end; ++i) {
      non_finite |=
          static_cast<uint32_t>((std::bit_cast<uint32_t>(values[i]) & 0x7f800000u) == 0x7f800000u);
    }
  }
  if (!non_finite) return;
  for (size_t i = 0; i < count; ++i) {
    if (!std::isfinite(values[i])) {
      throw Error(file.path().string() + ": tensor '" + full + "' holds a non-finite value (" +
                  std::to_string(values[i]) + ") at element " + std::to_string(i));
    }
  }
}

std::vector<float> CheckpointReader::read(const std::string& name,
                                          const std::vector<int64_t>& shape) const {
  const std::string full = prefix_ + name;
  const SafetensorsFile* file = nullptr;
  const TensorEntry& found = entry(full, shape, file);
  std::vector<float> values = file->to_float(found);
  file->release(found);
  check_finite(*file, full, values.data(), values.size());
  return values;
}

Matrix CheckpointReader::matrix(const std::string& name, int64_t rows, int64_t cols) const {
  const std::string full = prefix_ + name;
  const SafetensorsFile* file = nullptr;
  const TensorEntry& found = entry(full, {rows, cols}, file);
  const float* view = file->f32_view(found);
  if (!view) return Matrix{rows, cols, read(name, {rows, cols})};
  check_finite(*file, full, view, static_cast<size_t>(rows * cols));
  return Matrix{rows, cols, {}, view, &SafetensorsFile::release_mapped};
}

std::vector<float> CheckpointReader::vector(const std::string& name, int64_t size) const {
  return read(name, {size});
}

Norm CheckpointReader::norm(const std::string& name, int64_t size, bool optional, bool bias) const {
  if (optional && !has(name + ".weight")) return {};
  if (!bias) {
    reject(name + ".bias", "the config says the norms have no bias");
    return Norm{vector(name + ".weight", size), {}};
  }
  return Norm{vector(name + ".weight", size), vector(name + ".bias", size)};
}

LinearWeights CheckpointReader::linear(const std::string& name, int64_t out, int64_t in,
                                       bool bias) const {
  if (!bias) {
    reject(name + ".bias", "the config says this linear map has no bias");
    return LinearWeights{matrix(name + ".weight", out, in), {}, {}};
  }
  return LinearWeights{matrix(name + ".weight", out, in), vector(name + ".bias", out), {}};
}

LinearWeights CheckpointReader::stacked_linear(const std::vector<std::string>& names, int64_t out,
                                               int64_t in, bool bias) const {
  const auto parts = static_cast<int64_t>(names.size());
  LinearWeights stacked{Matrix{parts * out, in, {}}, {}, {}};
  if (bias) stacked.bias.reserve(parts * out);
  for (const std::string& name : names) {
    LinearWeights one = linear(name, out, in, bias);
    stacked.parts.push_back(std::move(one.weight));
    stacked.bias.insert(stacked.bias.end(), one.bias.begin(), one.bias.end());
  }
  return stacked;
}

LinearWeights CheckpointReader::row_blocks(const std::string& name, int64_t rows, int64_t in,
                                           const std::vector<RowBlock>& blocks, bool bias) const {
  LinearWeights whole = linear(name, rows, in, bias);
  int64_t total = 0;
  for (const RowBlock& block : blocks) total += block.count;
  LinearWeights out{Matrix{total, in, {}}, {}, {}};
  for (const RowBlock& block : blocks) {
    // A view of the mapping stays a view (released by the encoder once prepared); converted
    // values are copied block by block.
    if (whole.weight.view) {
      out.parts.push_back(
          Matrix{block.count, in, {}, whole.weight.row(block.begin), whole.weight.release_view});
    } else {
      const float* first = whole.weight.row(block.begin);
      out.parts.push_back(
          Matrix{block.count, in, std::vector<float>(first, first + block.count * in)});
    }
    if (!whole.bias.empty()) {
      out.bias.insert(out.bias.end(), whole.bias.begin() + block.begin,
                      whole.bias.begin() + block.begin + block.count);
    }
  }
  return out;
}

void CheckpointReader::reject(const std::string& name, const std::string& why) const {
  const std::string full = prefix_ + name;
  const SafetensorsFile* file = checkpoint_.file_of(full);
  if (file) throw Error(file->path().string() + ": tensor '" + full + "' is unexpected: " + why);
}

void CheckpointReader::embeddings(const Config& config, const std::string& no_positions,
                                  EncoderWeights& w) const {
  const int64_t hidden = config.hidden_size;
  w.word_embeddings = matrix("embeddings.word_embeddings.weight", config.vocab_size, hidden);
  if (config.position_embedding_type == PositionEmbedding::learned) {
    w.position_embeddings =
        matrix("embeddings.position_embeddings.weight", config.max_position_embeddings, hidden);
  } else {
    reject("embeddings.position_embeddings.weight", no_positions);
  }
  if (config.type_vocab_size > 0) {
    w.token_type_embeddings =
        matrix("embeddings.token_type_embeddings.weight", config.type_vocab_size, hidden);
  } else {
    reject("embeddings.token_type_embeddings.weight", "type_vocab_size is 0");
  }
}

std::vector<LayerWeights> read_layers(int64_t count,
                                      const std::function<LayerWeights(int64_t)>& read_layer) {
  std::vector<LayerWeights> layers(static_cast<size_t>(count));
  std::vector<std::exception_ptr> errors(static_cast<size_t>(count));
#pragma omp parallel for schedule(dynamic)
  for (int64_t l = 0; l < count; ++l) {
    try {
      layers[l] = read_layer(l);
    } catch (...) {
      errors[l] = std::current_exception();  // an exception must not leave the parallel region
    }
  }
  for (const std::exception_ptr& error : errors) {
    if (error) std::rethrow_exception(error);
  }
  return layers;
}

std::string detect_prefix(const Checkpoint& checkpoint, const std::string& probe,
                          const std::string& prefix) {
  if (!checkpoint.find(probe) && checkpoint.find(prefix + probe)) return prefix;
  return "";
}

}  // namespace vecformer::detail
