#include <array>
#include <string>

#include "io/printable.hpp"
#include "model/family.hpp"
#include "vecformer/error.hpp"

namespace vecformer::detail {

namespace {
constexpr std::array kFamilies = {
    Family{"bert", &read_bert_family_config, &load_bert_weights},
    Family{"roberta", &read_roberta_config, &load_roberta_weights},
    Family{"xlm-roberta", &read_roberta_config, &load_roberta_weights},
    Family{"distilbert", &read_distilbert_config, &load_distilbert_weights, "dim", "hidden_dim"},
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
