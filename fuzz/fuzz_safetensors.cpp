// libFuzzer target: the safetensors reader on arbitrary bytes, then every tensor widened to float32
// and the BERT family's weight loader run over the file with a fixed tiny config.
//
// Property: SafetensorsFile::open either throws vecformer::Error or returns tensors whose bytes lie
// inside the file and match shape × dtype; to_float then reads exactly those bytes. The weight
// loader throws vecformer::Error for anything missing, mis-shaped or non-finite, and nothing else.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "io/checkpoint.hpp"
#include "io/safetensors.hpp"
#include "model/family.hpp"
#include "support.hpp"
#include "vecformer/error.hpp"

namespace {

using vecformer::detail::DType;
using vecformer::detail::SafetensorsFile;
using vecformer::detail::TensorEntry;

using vecformer::fuzz::check_message;
using vecformer::fuzz::require;

// The shape fuzz/make_seeds.py writes for the valid seed checkpoint.
vecformer::Config tiny_config() {
  vecformer::Config config;
  config.hidden_size = 4;
  config.num_attention_heads = 2;
  config.intermediate_size = 8;
  config.num_hidden_layers = 1;
  config.vocab_size = 6;
  config.max_position_embeddings = 4;
  config.type_vocab_size = 2;
  config.layer_norm_eps = 1e-12;
  return config;
}

// An accepted file's tensors must point at exactly the bytes its header names: the header is parsed
// again here (it is valid JSON, or open() would have thrown) and every tensor's bytes compared with
// the input at 8 + header length + data_offsets[0]. A reader pointing past the data would read the
// zero fill of the last page or fault; ASan does not watch mmap'd memory, so this comparison is
// what catches it.
void check_tensors(const SafetensorsFile& file, const uint8_t* data, size_t size) {
  uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | data[i];
  const auto* header_begin = reinterpret_cast<const char*>(data + 8);
  const nlohmann::json header = nlohmann::json::parse(header_begin, header_begin + header_size);
  const uint8_t* section = data + 8 + header_size;
  size_t tensors = 0;
  for (const TensorEntry& tensor : file.tensors()) {
    ++tensors;
    const auto begin = header.at(tensor.name).at("data_offsets").at(0).get<uint64_t>();
    require(8 + header_size + begin + tensor.size_bytes <= size);
    require(tensor.size_bytes == 0 ||
            std::memcmp(tensor.data, section + begin, tensor.size_bytes) == 0);
    int64_t numel = 1;
    for (const int64_t dim : tensor.shape) {
      require(dim >= 0);
      numel *= dim;  // open() has checked that this cannot overflow
    }
    require(tensor.numel() == numel);
    require(tensor.size_bytes ==
            static_cast<size_t>(numel) * vecformer::detail::dtype_size(tensor.dtype));
    require(tensor.size_bytes <= size);
    require(file.find(tensor.name) == &tensor);
    const std::vector<float> values = file.to_float(tensor);
    require(values.size() == static_cast<size_t>(numel));
    if (tensor.dtype == DType::f32 && numel > 0) {
      require(std::memcmp(values.data(), section + begin, tensor.size_bytes) == 0);
    }
  }
  require(tensors + header.contains("__metadata__") == header.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static vecformer::fuzz::MemoryFile file;
  static const vecformer::Config config = tiny_config();
  file.assign(data, size);
  try {
    const auto checkpoint = vecformer::detail::Checkpoint::open_file(file.path());
    check_tensors(checkpoint.files()[0], data, size);
    try {
      const auto weights = vecformer::detail::load_bert_weights(config, checkpoint);
      require(weights.layers.size() == 1);
      // The table is a view of the mapping when it is F32 and aligned, values of its own otherwise.
      const auto& table = weights.word_embeddings;
      require(table.rows == 6 && table.cols == 4 && table.values() != nullptr);
      require(table.view != nullptr || table.data.size() == 6 * 4);
      for (int64_t i = 0; i < table.rows * table.cols; ++i)
        require(std::isfinite(table.values()[i]));
    } catch (const vecformer::Error& e) {
      check_message(e);
    }
  } catch (const vecformer::Error& e) {
    check_message(e);
  }
  return 0;
}
