#include "vecformer/model.hpp"

#include <omp.h>

#include <algorithm>

#include "backend/backend.hpp"
#include "encoder/batch.hpp"
#include "encoder/encoder.hpp"
#include "io/config_json.hpp"
#include "io/safetensors.hpp"
#include "model/family.hpp"
#include "vecformer/error.hpp"

namespace vecformer {

namespace detail {

class ModelImpl {
 public:
  ModelImpl(EncoderWeights weights, BackendKind kind)
      : kind_(kind),
        encoder_(std::move(weights), kind == BackendKind::reference ? make_reference_backend()
                                                                     : make_optimized_backend()) {}

  const Config& config() const { return encoder_.config(); }
  BackendKind backend() const { return kind_; }

  PackedOutput encode_packed(const std::vector<Sequence>& sequences,
                             const EncodeOptions& options) const {
    const Batch batch = Batch::pack(sequences, config());
    PackedOutput out;
    out.hidden.shape = {batch.tokens(), config().hidden_size};
    out.hidden.data.resize(static_cast<size_t>(batch.tokens() * config().hidden_size));
    out.offsets.assign(batch.offsets().begin(), batch.offsets().end());
    if (batch.tokens() == 0) return out;

    const ThreadScope threads(options.threads);
    Workspace workspace;
    encoder_.forward(batch, out.hidden.data.data(), workspace);
    return out;
  }

 private:
  // Sets the OpenMP thread count of the calling thread for one call and restores it afterwards, so that
  // callers on other threads are not affected.
  class ThreadScope {
   public:
    explicit ThreadScope(int threads) : previous_(omp_get_max_threads()) {
      omp_set_num_threads(threads > 0 ? threads : omp_get_num_procs());
    }
    ~ThreadScope() { omp_set_num_threads(previous_); }
    ThreadScope(const ThreadScope&) = delete;
    ThreadScope& operator=(const ThreadScope&) = delete;

   private:
    int previous_;
  };

  BackendKind kind_;
  Encoder encoder_;
};

}  // namespace detail

Model Model::load(const std::filesystem::path& folder, const LoadOptions& options) {
  std::error_code ec;
  if (!std::filesystem::is_directory(folder, ec)) {
    throw Error(folder.string() + ": model folder not found (or not a directory)");
  }
  const std::filesystem::path config_path = folder / "config.json";
  const Config config = detail::read_config(config_path);
  const detail::Family& family = detail::find_family(config.model_type, config_path);
  detail::EncoderWeights weights = [&] {
    // The mapping lives only while the weights are copied out of it.
    const auto file = detail::SafetensorsFile::open(folder / "model.safetensors");
    return family.load_weights(config, file);
  }();
  return Model(std::make_shared<const detail::ModelImpl>(std::move(weights), options.backend));
}

Model::Model(std::shared_ptr<const detail::ModelImpl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;

const Config& Model::config() const { return impl_->config(); }
BackendKind Model::backend() const { return impl_->backend(); }

PackedOutput Model::encode_packed(const std::vector<Sequence>& sequences,
                                  const EncodeOptions& options) const {
  return impl_->encode_packed(sequences, options);
}

Tensor Model::encode(const std::vector<Sequence>& sequences, const EncodeOptions& options) const {
  const PackedOutput packed = encode_packed(sequences, options);
  const int64_t hidden = config().hidden_size;
  const auto n = static_cast<int64_t>(sequences.size());
  int64_t longest = 0;
  for (int64_t i = 0; i < n; ++i) {
    longest = std::max(longest, packed.offsets[i + 1] - packed.offsets[i]);
  }
  Tensor padded;
  padded.shape = {n, longest, hidden};
  padded.data.assign(static_cast<size_t>(n * longest * hidden), 0.0f);
  for (int64_t i = 0; i < n; ++i) {
    std::copy(packed.hidden.data.begin() + packed.offsets[i] * hidden,
              packed.hidden.data.begin() + packed.offsets[i + 1] * hidden,
              padded.data.begin() + i * longest * hidden);
  }
  return padded;
}

}  // namespace vecformer
