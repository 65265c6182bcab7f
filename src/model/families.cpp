#include <array>
#include <string>

#include "io/printable.hpp"
#include "model/family.hpp"
#include "vecformer/error.hpp"

namespace vecformer::detail {

namespace {
// The BERT-like families need nothing from config.json beyond Config.
template <EncoderWeights (*load)(const Config&, const Checkpoint&)>
EncoderWeights from_config(const Config& config, const ConfigReader&,
                           const Checkpoint& checkpoint) {
  return load(config, checkpoint);
}

constexpr std::array kFamilies = {
    Family{"bert", &read_bert_family_config, &from_config<&load_bert_weights>},
    Family{"roberta", &read_roberta_config, &from_config<&load_roberta_weights>},
    Family{"xlm-roberta", &read_roberta_config, &from_config<&load_roberta_weights>},
    Family{"distilbert", &read_distilbert_config, &from_config<&load_distilbert_weights>, "dim",
           "hidden_dim"},
    Family{"modernbert", &read_modernbert_config, &load_modernbert_weights},
    Family{"nomic_bert", &read_nomic_bert_config, &load_nomic_bert_weights, "n_embd", "n_inner"},
    Family{"new", &read_gte_config, &load_gte_weights},
};
}  // namespace

const Family& find_family(std::string_view model_type, const std::filesystem::path& config_path) {
  for (const Family& family : kFamilies) {
    if (family.model_type == model_type) return family;
  }
  std::string supported;
  for (const Family& family : kFamilies) {
    if (!supported.empty()) supported += ", ";
    supported += family.model_type;
  }
  throw Error(config_path.string() + ": model_type \"" + printable(model_type) +
              "\" is not supported (supported: " + supported + ")");
}

}  // namespace vecformer::detail
