#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vecformer::detail {

enum class DType { f32, f16, bf16 };

// Bytes per element: 4 for F32, 2 for F16 and BF16.
size_t dtype_size(DType dtype);
// The safetensors spelling: "F32", "F16", "BF16".
std::string_view to_string(DType dtype);

// Exact widenings of one IEEE binary16 (subnormals, infinities and NaN included) and one bfloat16
// value.
float half_to_float(uint16_t bits);
float bf16_to_float(uint16_t bits);

struct TensorEntry {
  std::string name;
  DType dtype = DType::f32;
  std::vector<int64_t> shape;
  const std::byte* data = nullptr;  // inside the mapping
  size_t size_bytes = 0;

  int64_t numel() const;
};

// A memory-mapped .safetensors file. Opening validates the whole header against the file size
// (header length, JSON, dtypes, shapes, offsets in range, not overlapping, size = numel × dtype
// size) and throws vecformer::Error naming the file and the tensor or field at fault. Move-only;
// unmaps on destruction.
class SafetensorsFile {
 public:
  static SafetensorsFile open(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return path_; }
  std::span<const TensorEntry> tensors() const { return tensors_; }
  // Null when absent.
  const TensorEntry* find(std::string_view name) const;
  // The tensor converted to float32 (F16 and BF16 widened).
  std::vector<float> to_float(const TensorEntry& entry) const;
  // Drops the tensor's pages from this process's memory once its data has been copied out, so that
  // loading a model never holds the file and its converted weights in memory at once. Touching the
  // data again reads it back from the file.
  void release(const TensorEntry& entry) const;
  // The same for any bytes inside a mapping.
  static void release_mapped(const void* data, size_t bytes);
  // The tensor's values in place when it is F32 and aligned for float (safetensors writers align
  // the data section in practice), else null. Valid while this file is open.
  const float* f32_view(const TensorEntry& entry) const;
  // Maps the tensor's pages in one call (they are in the page cache when the file is warm), rather
  // than one page fault per 4 KiB page as they are read.
  static void prefault(const TensorEntry& entry);

  SafetensorsFile(SafetensorsFile&& other) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&& other) noexcept;
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;
  ~SafetensorsFile();

 private:
  SafetensorsFile() = default;
  std::filesystem::path path_;
  void* mapping_ = nullptr;
  size_t mapping_size_ = 0;
  std::vector<TensorEntry> tensors_;  // sorted by name
};

}  // namespace vecformer::detail
