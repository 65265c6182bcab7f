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
  int64_t max_length = 0;  // the folder's own sequence limit (0: none; see read_max_length)
};

// Reads modules.json (when the folder has one) and the Pooling module's config.json. A plain
// Hugging Face folder gives {folder, none, false}. Errors name the file and the field.
ModelLayout read_model_layout(const std::filesystem::path& folder);

// The sequence limit the transformer folder states, as sentence-transformers reads it:
// sentence_bert_config.json's max_seq_length, else tokenizer_config.json's model_max_length when it
// is a real limit (Hugging Face writes 1e30 for "none"); 0 when neither says.
int64_t read_max_length(const std::filesystem::path& transformer_folder);

}  // namespace vecformer::detail
