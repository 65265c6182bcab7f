#pragma once

#include <cstdint>
#include <vector>

namespace vecformer {

// A dense row-major float tensor that owns its data.
struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;

  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
};

}  // namespace vecformer
