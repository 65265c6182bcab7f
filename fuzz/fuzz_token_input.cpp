// libFuzzer target: token input (`vecformer run --input`) on arbitrary bytes, against one of four
// configs picked by the first byte (with and without token types, BERT and RoBERTa position
// offsets).
//
// Property: either vecformer::Error, or sequences that Batch::pack accepts as they are: non-empty,
// no longer than the model allows, ids inside the vocabulary, type ids inside the type vocabulary
// and as many as the ids (or none).
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "encoder/batch.hpp"
#include "io/token_input.hpp"
#include "support.hpp"
#include "vecformer/error.hpp"

namespace {

using vecformer::fuzz::check_message;
using vecformer::fuzz::require;

vecformer::Config config_for(uint8_t selector) {
  vecformer::Config config;
  config.hidden_size = 8;
  config.num_attention_heads = 2;
  config.intermediate_size = 16;
  config.num_hidden_layers = 1;
  config.vocab_size = (selector & 4) ? 30522 : 100;
  config.max_position_embeddings = 16;
  config.type_vocab_size = (selector & 1) ? 0 : 2;
  config.position_offset = (selector & 2) ? 2 : 0;  // RoBERTa: pad_token_id 1
  return config;
}

void check(const std::vector<vecformer::Sequence>& sequences, const vecformer::Config& config) {
  for (const vecformer::Sequence& s : sequences) {
    require(!s.input_ids.empty());
    require(static_cast<int64_t>(s.input_ids.size()) <= config.max_length());
    require(s.token_type_ids.empty() || s.token_type_ids.size() == s.input_ids.size());
    for (const int64_t id : s.input_ids) require(id >= 0 && id < config.vocab_size);
    for (const int64_t type : s.token_type_ids) {
      require(type >= 0 && (type == 0 || type < config.type_vocab_size));
    }
  }
  // What the reader accepts, the engine's own validation must accept too.
  const auto batch = vecformer::detail::Batch::pack(sequences, config);
  require(batch.sequences() == static_cast<int64_t>(sequences.size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const vecformer::Config config = config_for(data[0]);
  std::istringstream in(std::string(reinterpret_cast<const char*>(data) + 1, size - 1));
  try {
    check(vecformer::detail::read_token_input(in, "fuzz.txt", config), config);
  } catch (const vecformer::Error& e) {
    check_message(e);
    // Every message names the source and the line: "fuzz.txt:<line>: ...".
    require(std::string_view(e.what()).starts_with("fuzz.txt:"));
  }
  return 0;
}
