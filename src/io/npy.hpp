#pragma once

#include <filesystem>

#include "vecformer/tensor.hpp"

namespace vecformer::detail {

// Writes `tensor` as a float32, C-order .npy file (format 1.0). The data goes to a temporary name
// in the same folder, renamed into place only when complete, so a failure leaves no partial file
// behind.
void write_npy(const std::filesystem::path& path, const Tensor& tensor);

}  // namespace vecformer::detail
