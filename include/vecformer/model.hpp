#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "vecformer/config.hpp"
#include "vecformer/tensor.hpp"

namespace vecformer {

namespace detail {
class ModelImpl;
}

enum class BackendKind { reference, optimized };

struct LoadOptions {
  BackendKind backend = BackendKind::optimized;
};

// One input sequence. token_type_ids is either empty (all zeros) or as long as input_ids.
struct Sequence {
  std::vector<int64_t> input_ids;
  std::vector<int64_t> token_type_ids;
};

struct EncodeOptions {
  int threads = 0;  // 0: every core of the machine
};

// Hidden states of the real tokens only: rows offsets[i]..offsets[i+1] of `hidden` ([T, hidden_size])
// belong to sequence i.
struct PackedOutput {
  Tensor hidden;
  std::vector<int64_t> offsets;
};

// A loaded encoder. Loading validates the folder and prepares the weights for the chosen backend once;
// afterwards a Model is immutable and `encode` may be called from many threads at once.
class Model {
 public:
  static Model load(const std::filesystem::path& folder, const LoadOptions& options = {});

  const Config& config() const;
  BackendKind backend() const;

  // Last hidden states as [N, Lmax, hidden_size], zero rows past each sequence's end.
  Tensor encode(const std::vector<Sequence>& sequences, const EncodeOptions& options = {}) const;
  // The same states without padding.
  PackedOutput encode_packed(const std::vector<Sequence>& sequences,
                             const EncodeOptions& options = {}) const;

  ~Model();
  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;

 private:
  explicit Model(std::shared_ptr<const detail::ModelImpl> impl);
  std::shared_ptr<const detail::ModelImpl> impl_;
};

}  // namespace vecformer
