#pragma once

#include <filesystem>

#include "vecformer/model.hpp"

namespace vecformer::detail {

// What a sentence-transformers folder adds around its Transformer module: where the transformer's
// files are, and the default pooling and normalization of its output.
struct ModelLayout {
  std::filesystem::path transformer_folder;  // config.json + model.safetensors (+ vocabulary)
  Pooling pooling = Pooling::none;
  bool normalize = false;
  std::filesystem::path pooling_config;  // the Pooling module's config.json, when there is one
  int64_t pooling_dimension = 0;         // its word_embedding_dimension (0: not given)
};

// Reads modules.json (when the folder has one) and the Pooling module's config.json. A plain
// Hugging Face folder gives {folder, none, false}. Errors name the file and the field.
ModelLayout read_model_layout(const std::filesystem::path& folder);

}  // namespace vecformer::detail
