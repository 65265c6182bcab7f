#pragma once

#include <filesystem>
#include <string_view>

#include "encoder/weights.hpp"
#include "io/checkpoint.hpp"
#include "io/config_json.hpp"

namespace vecformer::detail {

// A model family maps its config keys and its checkpoint's tensor names onto Config and
// EncoderWeights. Each family lives in one file under src/model/ and is listed in families.cpp.
struct Family {
  std::string_view model_type;
  Config (*read_config)(const ConfigReader& reader);
  // `json` is config.json again, for flags that only decide which tensors exist (bias flags, the
  // layout of a fused projection), which Config does not keep.
  EncoderWeights (*load_weights)(const Config& config, const ConfigReader& json,
                                 const Checkpoint& checkpoint);
  // The config.json keys of Config::hidden_size and Config::intermediate_size, for messages.
  std::string_view hidden_size_key = "hidden_size";
  std::string_view intermediate_size_key = "intermediate_size";
};

// The family for a model_type; throws vecformer::Error naming the file and the supported types.
const Family& find_family(std::string_view model_type, const std::filesystem::path& config_path);

Config read_bert_family_config(const ConfigReader& reader);
EncoderWeights load_bert_weights(const Config& config, const Checkpoint& checkpoint);
Config read_roberta_config(const ConfigReader& reader);
EncoderWeights load_roberta_weights(const Config& config, const Checkpoint& checkpoint);
Config read_distilbert_config(const ConfigReader& reader);
EncoderWeights load_distilbert_weights(const Config& config, const Checkpoint& checkpoint);

Config read_modernbert_config(const ConfigReader& reader);
EncoderWeights load_modernbert_weights(const Config& config, const ConfigReader& json,
                                       const Checkpoint& checkpoint);
Config read_nomic_bert_config(const ConfigReader& reader);
EncoderWeights load_nomic_bert_weights(const Config& config, const ConfigReader& json,
                                       const Checkpoint& checkpoint);
Config read_gte_config(const ConfigReader& reader);
EncoderWeights load_gte_weights(const Config& config, const ConfigReader& json,
                                const Checkpoint& checkpoint);

// The BERT tensor layout under a given name prefix (shared by BERT and RoBERTa, which differ only
// in prefix and position numbering).
EncoderWeights load_bert_layout(const Config& config, const Checkpoint& checkpoint,
                                const std::string& prefix);

}  // namespace vecformer::detail
