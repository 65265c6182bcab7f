#include "vecformer/model.hpp"

#include <omp.h>

#include <algorithm>
#include <set>

#include "backend/backend.hpp"
#include "encoder/batch.hpp"
#include "encoder/encoder.hpp"
#include "encoder/pooling.hpp"
#include "encoder/workspace_pool.hpp"
#include "io/config_json.hpp"
#include "io/safetensors.hpp"
#include "model/family.hpp"
#include "model/sentence_transformers.hpp"
#include "vecformer/error.hpp"

namespace vecformer {

namespace detail {

namespace {

constexpr int kMaxThreads = 1024;  // the CLI's limit too

// Sets the OpenMP thread count of the calling thread for one call and restores it afterwards, so
// that callers on other threads, and the caller's own later parallel regions, are not affected.
// (The encoder itself keeps the teams exactly that size: see ExactTeams in encoder.cpp.)
class ThreadScope {
 public:
  explicit ThreadScope(int threads) : previous_(omp_get_max_threads()) {
    if (threads < 0 || threads > kMaxThreads) {
      throw Error("EncodeOptions::threads must be 0 (every core) or 1 to " +
                  std::to_string(kMaxThreads) + ", got " + std::to_string(threads));
    }
    omp_set_num_threads(threads > 0 ? threads : omp_get_num_procs());
  }
  ~ThreadScope() { omp_set_num_threads(previous_); }
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  int previous_;
};

int64_t count_parameters(const EncoderWeights& w) {
  auto norm = [](const Norm& n) { return static_cast<int64_t>(n.gamma.size() + n.beta.size()); };
  auto linear = [](const LinearWeights& l) {
    return static_cast<int64_t>(l.weight.data.size() + l.bias.size());
  };
  int64_t total =
      static_cast<int64_t>(w.word_embeddings.data.size() + w.token_type_embeddings.data.size()) +
      norm(w.embedding_norm) + norm(w.final_norm);
  // A computed sinusoidal table is not a parameter.
  if (w.config.position_embedding_type == PositionEmbedding::learned) {
    total += static_cast<int64_t>(w.position_embeddings.data.size());
  }
  for (const LayerWeights& l : w.layers) {
    total += linear(l.qkv) + linear(l.attention_out) + linear(l.ffn_in) + linear(l.ffn_out) +
             norm(l.attention_norm) + norm(l.ffn_norm);
  }
  return total;
}

std::string stored_dtype(const SafetensorsFile& file) {
  std::set<std::string> seen;
  for (const TensorEntry& entry : file.tensors()) seen.insert(std::string(to_string(entry.dtype)));
  if (seen.size() == 1) return *seen.begin();
  return seen.empty() ? "none" : "mixed";
}

}  // namespace

class ModelImpl {
 public:
  ModelImpl(EncoderWeights weights, const LoadOptions& options, ModelInfo info, ModelLayout layout)
      : kind_(options.backend),
        info_(std::move(info)),
        layout_(std::move(layout)),
        encoder_(std::move(weights), options.backend == BackendKind::reference
                                         ? make_reference_backend()
                                         : make_optimized_backend(options.dtype)),
        workspaces_(encoder_) {}

  const Config& config() const { return encoder_.config(); }
  const ModelInfo& info() const { return info_; }
  const ModelLayout& layout() const { return layout_; }
  BackendKind backend() const { return kind_; }

  AttentionCapture capture_attention(const Sequence& sequence, int64_t layer,
                                     const EncodeOptions& options) const {
    if (layer < 0 || layer >= config().num_hidden_layers) {
      throw Error("layer " + std::to_string(layer) + " is out of range: the model has " +
                  std::to_string(config().num_hidden_layers) + " layers (0 to " +
                  std::to_string(config().num_hidden_layers - 1) + ")");
    }
    const Batch batch = Batch::pack(std::span(&sequence, 1), config());
    const int64_t tokens = batch.tokens(), hidden = config().hidden_size;
    AttentionCapture capture;
    capture.qkv.shape = {tokens, 3 * hidden};
    capture.context.shape = {tokens, hidden};
    capture.hidden.shape = {tokens, hidden};
    capture.hidden.data.resize(static_cast<size_t>(tokens * hidden));
    const ThreadScope threads(options.threads);
    const WorkspacePool::Lease workspace = workspaces_.acquire();
    encoder_.forward(batch, capture.hidden.data.data(), *workspace,
                     [&](int64_t l, const float* qkv, const float* context) {
                       if (l != layer) return;
                       capture.qkv.data.assign(qkv, qkv + tokens * 3 * hidden);
                       capture.context.data.assign(context, context + tokens * hidden);
                     });
    return capture;
  }

  PackedOutput encode_packed(const std::vector<Sequence>& sequences,
                             const EncodeOptions& options) const {
    const ThreadScope threads(options.threads);
    const Batch batch = Batch::pack(sequences, config());
    PackedOutput out;
    out.hidden.shape = {batch.tokens(), config().hidden_size};
    out.hidden.data.resize(static_cast<size_t>(batch.tokens() * config().hidden_size));
    out.offsets.assign(batch.offsets().begin(), batch.offsets().end());
    if (batch.tokens() == 0) return out;

    const WorkspacePool::Lease workspace = workspaces_.acquire();
    encoder_.forward(batch, out.hidden.data.data(), *workspace);
    return out;
  }

 private:
  BackendKind kind_;
  ModelInfo info_;
  ModelLayout layout_;
  Encoder encoder_;
  mutable WorkspacePool workspaces_;  // per-call scratch, reused: not part of the Model's state
};

}  // namespace detail

Model Model::load(const std::filesystem::path& folder, const LoadOptions& options) {
  if (options.backend == BackendKind::reference && options.dtype != ComputeType::f32) {
    throw Error(
        "the reference backend computes in float32 only (bf16 and int8 need the optimized "
        "backend)");
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(folder, ec)) {
    throw Error(folder.string() + ": model folder not found (or not a directory)");
  }
  detail::ModelLayout layout = detail::read_model_layout(folder);
  const std::filesystem::path config_path = layout.transformer_folder / "config.json";
  const nlohmann::json root = detail::read_json_object(config_path);
  const detail::ConfigReader reader(config_path, root);
  const detail::Family& family =
      detail::find_family(reader.string("model_type", "bert"), config_path);
  const Config config = family.read_config(reader);
  if (layout.pooling_dimension != 0 && layout.pooling_dimension != config.hidden_size) {
    throw Error(layout.pooling_config.string() + ": field 'word_embedding_dimension' is " +
                std::to_string(layout.pooling_dimension) +
                ", but the transformer's hidden size is " + std::to_string(config.hidden_size));
  }

  ModelInfo info;
  info.model_type = std::string(family.model_type);
  info.transformer_folder = layout.transformer_folder;
  detail::EncoderWeights weights = [&] {
    // The mapping lives only while the weights are copied out of it.
    const auto file =
        detail::SafetensorsFile::open(layout.transformer_folder / "model.safetensors");
    info.weights_dtype = detail::stored_dtype(file);
    return family.load_weights(config, file);
  }();
  info.parameters = detail::count_parameters(weights);
  return Model(std::make_shared<const detail::ModelImpl>(std::move(weights), options,
                                                         std::move(info), std::move(layout)));
}

Model::Model(std::shared_ptr<const detail::ModelImpl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;

const Config& Model::config() const {
  return impl_->config();
}
const ModelInfo& Model::info() const {
  return impl_->info();
}
BackendKind Model::backend() const {
  return impl_->backend();
}
Pooling Model::default_pooling() const {
  return impl_->layout().pooling;
}
bool Model::default_normalize() const {
  return impl_->layout().normalize;
}
int64_t Model::max_sequence_length() const {
  const int64_t table = config().max_length();
  const int64_t stated = impl_->layout().max_length;
  if (stated > 0 && (table <= 0 || stated < table)) return stated;
  return table;
}

PackedOutput Model::encode_packed(const std::vector<Sequence>& sequences,
                                  const EncodeOptions& options) const {
  return impl_->encode_packed(sequences, options);
}

AttentionCapture Model::capture_attention(const Sequence& sequence, int64_t layer,
                                          const EncodeOptions& options) const {
  return impl_->capture_attention(sequence, layer, options);
}

Tensor Model::encode(const std::vector<Sequence>& sequences, const EncodeOptions& options) const {
  const PackedOutput packed = encode_packed(sequences, options);
  const Pooling pooling = options.pooling.value_or(default_pooling());
  // sentence-transformers' Normalize module normalizes the sentence embedding, not token states.
  const bool normalize =
      options.normalize.value_or(pooling != Pooling::none && default_normalize());
  const int64_t hidden = config().hidden_size;
  const auto n = static_cast<int64_t>(sequences.size());

  Tensor out;
  if (pooling != Pooling::none) {
    out.shape = {n, hidden};
    out.data.resize(static_cast<size_t>(n * hidden));
    detail::pool(packed.hidden.data.data(), packed.offsets, hidden, pooling, out.data.data());
    if (normalize) detail::l2_normalize(out.data.data(), n, hidden);
    return out;
  }
  int64_t longest = 0;
  for (int64_t i = 0; i < n; ++i) {
    longest = std::max(longest, packed.offsets[i + 1] - packed.offsets[i]);
  }
  out.shape = {n, longest, hidden};
  out.data.assign(static_cast<size_t>(n * longest * hidden), 0.0f);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t length = packed.offsets[i + 1] - packed.offsets[i];
    float* dst = out.data.data() + i * longest * hidden;
    std::copy(packed.hidden.data.begin() + packed.offsets[i] * hidden,
              packed.hidden.data.begin() + packed.offsets[i + 1] * hidden, dst);
    // Normalizing unpooled output normalizes each real token's state; padding rows stay zero.
    if (normalize) detail::l2_normalize(dst, length, hidden);
  }
  return out;
}

}  // namespace vecformer
