#pragma once

#include <filesystem>
#include <string_view>

#include "encoder/weights.hpp"
#include "io/safetensors.hpp"

namespace vecformer::detail {

// A model family maps its checkpoint's tensor names (and, later, config keys) onto EncoderWeights.
// Each family lives in one file under src/model/ and registers itself in families.cpp.
struct Family {
  std::string_view model_type;
  EncoderWeights (*load_weights)(const Config& config, const SafetensorsFile& file);
};

// The family for config.model_type; throws vecformer::Error naming the supported ones.
const Family& find_family(std::string_view model_type, const std::filesystem::path& config_path);

EncoderWeights load_bert_weights(const Config& config, const SafetensorsFile& file);

}  // namespace vecformer::detail
