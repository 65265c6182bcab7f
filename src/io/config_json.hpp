#pragma once

#include <filesystem>

#include "vecformer/config.hpp"

namespace vecformer::detail {

// Reads a Hugging Face BertConfig-style config.json (plus vecformer's "sinusoidal" / "none"
// position_embedding_type and "norm_first") and validates every field. Throws vecformer::Error
// naming the file and the field.
Config read_config(const std::filesystem::path& path);

}  // namespace vecformer::detail
