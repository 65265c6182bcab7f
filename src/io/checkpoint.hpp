#pragma once

#include <filesystem>
#include <span>
#include <string_view>
#include <vector>

#include "io/safetensors.hpp"

namespace vecformer::detail {

// The weights of one model: a single model.safetensors, or the shards that
// model.safetensors.index.json lists (every model over ~2 GB ships that way). Tensors are looked up
// by name whichever file holds them. Opening validates every file (SafetensorsFile::open) and the
// index against the shards, so that after open each tensor lies in exactly one file. Move-only;
// the mappings are released on destruction.
class Checkpoint {
 public:
  // folder/model.safetensors, else folder/model.safetensors.index.json with its shards. A folder
  // holding only pytorch_model.bin is refused with the converter to run: reading a pickle can
  // execute code.
  static Checkpoint open_folder(const std::filesystem::path& folder);
  static Checkpoint open_file(const std::filesystem::path& path);
  // Every shard must lie inside the index's folder (no absolute paths, no "..", no symlink leading
  // out), every tensor of weight_map must be in the shard it names and every tensor of a shard must
  // be listed for that shard; errors name the index or the shard and the tensor or field.
  static Checkpoint open_index(const std::filesystem::path& index_path);

  // model.safetensors or the index: the file an error about the checkpoint as a whole names.
  const std::filesystem::path& path() const { return path_; }
  std::span<const SafetensorsFile> files() const { return files_; }
  // The file holding the tensor; null when absent.
  const SafetensorsFile* file_of(std::string_view name) const;
  const TensorEntry* find(std::string_view name) const;

 private:
  Checkpoint() = default;
  std::filesystem::path path_;
  std::vector<SafetensorsFile> files_;
};

}  // namespace vecformer::detail
