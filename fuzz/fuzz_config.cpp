// libFuzzer target: config.json parsing as Model::load does it (read_json_object, the family named
// by model_type, that family's read_config) and detail::read_config, on arbitrary bytes.
//
// Property: either vecformer::Error, or a Config the encoder can rely on: every size positive and
// within the limits, heads dividing hidden, a finite positive epsilon, and type ids that fit.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "io/config_json.hpp"
#include "model/family.hpp"
#include "support.hpp"
#include "vecformer/error.hpp"

namespace {

using vecformer::detail::max_dimension;
using vecformer::detail::max_vocab_size;

using vecformer::fuzz::check_message;
using vecformer::fuzz::require;

bool within(int64_t value, int64_t limit) {
  return value > 0 && value <= limit;
}

void check(const vecformer::Config& c) {
  require(within(c.hidden_size, max_dimension));
  require(within(c.num_attention_heads, max_dimension));
  require(c.hidden_size % c.num_attention_heads == 0 && c.head_dim() > 0);
  require(within(c.intermediate_size, max_dimension));
  require(within(c.num_hidden_layers, max_dimension));
  require(within(c.vocab_size, max_vocab_size));
  require(within(c.max_position_embeddings, max_dimension));
  require(c.type_vocab_size >= 0 && c.type_vocab_size <= max_dimension);
  require(std::isfinite(c.layer_norm_eps) && c.layer_norm_eps > 0);
  require(c.position_offset >= 0);
  // A learned table must have a row for at least the first position.
  if (c.position_embedding_type == vecformer::PositionEmbedding::learned) {
    require(c.max_length() > 0);
  }
  require(!c.model_type.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static vecformer::fuzz::MemoryFile file;
  file.assign(data, size);
  try {
    const nlohmann::json root = vecformer::detail::read_json_object(file.path());
    const vecformer::detail::ConfigReader reader(file.path(), root);
    const auto& family =
        vecformer::detail::find_family(reader.string("model_type", "bert"), file.path());
    check(family.read_config(reader));
  } catch (const vecformer::Error& e) {
    check_message(e);
  }
  try {
    check(vecformer::detail::read_config(file.path()));
  } catch (const vecformer::Error& e) {
    check_message(e);
  }
  return 0;
}
