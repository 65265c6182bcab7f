#include "model/checkpoint_reader.hpp"

#include <cmath>
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

std::vector<float> CheckpointReader::read(const std::string& name,
                                          const std::vector<int64_t>& shape) const {
  const std::string full = prefix_ + name;
  // A missing tensor names the checkpoint (model.safetensors or the shards' index); anything wrong
  // with a present one names the file holding it.
  const SafetensorsFile* file = checkpoint_.file_of(full);
  if (!file) throw Error(checkpoint_.path().string() + ": tensor '" + full + "' is missing");
  const TensorEntry* entry = file->find(full);
  if (entry->shape != shape) {
    throw Error(file->path().string() + ": tensor '" + full + "' has shape " +
                shape_text(entry->shape) + ", expected " + shape_text(shape));
  }
  std::vector<float> values = file->to_float(*entry);
  file->release(*entry);
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      throw Error(file->path().string() + ": tensor '" + full + "' holds a non-finite value (" +
                  std::to_string(values[i]) + ") at element " + std::to_string(i));
    }
  }
  return values;
}

Matrix CheckpointReader::matrix(const std::string& name, int64_t rows, int64_t cols) const {
  return Matrix{rows, cols, read(name, {rows, cols})};
}

std::vector<float> CheckpointReader::vector(const std::string& name, int64_t size) const {
  return read(name, {size});
}

Norm CheckpointReader::norm(const std::string& name, int64_t size, bool optional) const {
  if (optional && !has(name + ".weight")) return {};
  return Norm{vector(name + ".weight", size), vector(name + ".bias", size)};
}

LinearWeights CheckpointReader::linear(const std::string& name, int64_t out, int64_t in) const {
  return LinearWeights{matrix(name + ".weight", out, in), vector(name + ".bias", out)};
}

LinearWeights CheckpointReader::stacked_linear(const std::vector<std::string>& names, int64_t out,
                                               int64_t in) const {
  const auto parts = static_cast<int64_t>(names.size());
  LinearWeights stacked{Matrix{parts * out, in, {}}, {}};
  stacked.weight.data.reserve(parts * out * in);
  stacked.bias.reserve(parts * out);
  for (const std::string& name : names) {
    const LinearWeights one = linear(name, out, in);
    stacked.weight.data.insert(stacked.weight.data.end(), one.weight.data.begin(),
                               one.weight.data.end());
    stacked.bias.insert(stacked.bias.end(), one.bias.begin(), one.bias.end());
  }
  return stacked;
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
