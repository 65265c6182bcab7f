#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "io/atomic_file.hpp"
#include "vecformer/tensor.hpp"

namespace vecformer::detail {

// A float32, C-order .npy file (format 1.0) written piece by piece, so that a result larger than
// memory can be streamed: the header, which holds the final shape, goes first, then the values in
// order. Written under a temporary name and renamed into place by commit(), which requires every
// value of `shape` to have been written; a writer destroyed before that leaves nothing behind.
class NpyWriter {
 public:
  NpyWriter(const std::filesystem::path& path, const std::vector<int64_t>& shape);

  void write(const float* values, size_t count);
  void write_zeros(size_t count);
  void commit();

 private:
  void advance(size_t values);  // Error past the shape's end

  std::filesystem::path path_;
  AtomicFile file_;
  uint64_t expected_;
  uint64_t written_ = 0;
};

// Writes `tensor` as a float32, C-order .npy file (format 1.0). The data goes to a temporary name
// in the same folder, renamed into place only when complete, so a failure leaves no partial file
// behind.
void write_npy(const std::filesystem::path& path, const Tensor& tensor);

}  // namespace vecformer::detail
