#include "vecformer/model.hpp"

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <utility>

#include "backend/backend.hpp"
#include "backend/execution.hpp"
#include "encoder/batch.hpp"
#include "encoder/encoder.hpp"
#include "encoder/pooling.hpp"
#include "heads/head.hpp"
#include "heads/head_loader.hpp"
#include "heads/scoring.hpp"
#include "io/checkpoint.hpp"
#include "io/config_json.hpp"
#include "model/family.hpp"
#include "model/sentence_transformers.hpp"
#include "vecformer/error.hpp"

namespace vecformer {

namespace detail {

namespace {

constexpr int kMaxThreads = 1024;  // the CLI's limit too

// The execution of one call: `threads` validated here, at the edge, then passed down explicitly
// (the caller's OpenMP settings are left as they are).
Execution execution_of(const EncodeOptions& options) {
  if (options.threads < 0 || options.threads > kMaxThreads) {
    throw Error("EncodeOptions::threads must be 0 (every core) or 1 to " +
                std::to_string(kMaxThreads) + ", got " + std::to_string(options.threads));
  }
  return execution_for(options.threads);
}

int64_t count_parameters(const EncoderWeights& w) {
  auto norm = [](const Norm& n) { return static_cast<int64_t>(n.gamma.size() + n.beta.size()); };
  auto linear = [](const LinearWeights& l) {
    return l.weight.size() + static_cast<int64_t>(l.bias.size());
  };
  int64_t total = w.word_embeddings.size() + w.token_type_embeddings.size() +
                  norm(w.embedding_norm) + norm(w.final_norm);
  // A computed sinusoidal table is not a parameter.
  if (w.config.position_embedding_type == PositionEmbedding::learned) {
    total += w.position_embeddings.size();
  }
  for (const LayerWeights& l : w.layers) {
    total += linear(l.qkv) + linear(l.attention_out) + linear(l.ffn_in) + linear(l.ffn_out) +
             norm(l.attention_norm) + norm(l.ffn_norm);
  }
  return total;
}

// Before any weight is read: a config whose int8 products would overflow their int32 sums.
void check_int8_inner_dimensions(const Config& config, const Family& family,
                                 const std::filesystem::path& config_path) {
  const std::pair<std::string_view, int64_t> inner[] = {
      {family.hidden_size_key, config.hidden_size},
      {family.intermediate_size_key, config.intermediate_size}};
  for (const auto& [key, size] : inner) {
    if (size > kInt8MaxInnerDimension) {
      throw Error(config_path.string() + ": field '" + std::string(key) + "' is " +
                  std::to_string(size) + ", more than " + std::to_string(kInt8MaxInnerDimension) +
                  ", the largest inner dimension whose int8 products sum exactly in int32 "
                  "(dtype int8)");
    }
  }
}

std::string stored_dtype(const Checkpoint& checkpoint) {
  std::set<std::string> seen;
  for (const SafetensorsFile& file : checkpoint.files()) {
    for (const TensorEntry& entry : file.tensors()) {
      seen.insert(std::string(to_string(entry.dtype)));
    }
  }
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
                                         : make_optimized_backend(options.dtype)) {}

  const Config& config() const { return encoder_.config(); }
  const ModelInfo& info() const { return info_; }
  void set_prepare_ms(double ms) { info_.load_times.prepare_ms = ms; }
  const ModelLayout& layout() const { return layout_; }
  BackendKind backend() const { return kind_; }
  // Prepares the head on the encoder's backend (while the checkpoint is still open).
  void set_head(HeadWeights weights) {
    head_ = std::make_unique<Head>(std::move(weights), encoder_.backend());
    info_.head_loaded = true;
  }

  LabelScores classify(const std::vector<Sequence>& sequences, const EncodeOptions& options) const {
    const Head& head = require_head(HeadKind::sequence_classification);
    const Execution exec = execution_of(options);
    const Batch batch = Batch::pack(sequences, config());
    const int64_t n = batch.sequences(), hidden = config().hidden_size;
    LabelScores out;
    out.logits.shape = {n, head.outputs()};
    out.logits.data.resize(static_cast<size_t>(n * head.outputs()));
    if (n > 0) {
      const std::vector<float> states = last_hidden(batch, exec);
      // One row per sequence: its first token ([CLS] / <s>), or the mean of its tokens
      // (ModernBERT's classifier_pooling "mean").
      std::vector<float> pooled(static_cast<size_t>(padded_rows(n) * hidden));
      pool(states.data(), batch.offsets(), hidden, head.pooling(), pooled.data());
      head.run(pooled.data(), n, out.logits.data.data(), exec);
    }
    out.scores = score(out.logits, info_.head.scoring);
    return out;
  }

  TokenLabelScores classify_tokens(const std::vector<Sequence>& sequences,
                                   const EncodeOptions& options) const {
    const Head& head = require_head(HeadKind::token_classification);
    const Execution exec = execution_of(options);
    const Batch batch = Batch::pack(sequences, config());
    const int64_t tokens = batch.tokens();
    TokenLabelScores out;
    out.offsets.assign(batch.offsets().begin(), batch.offsets().end());
    out.logits.shape = {tokens, head.outputs()};
    out.logits.data.resize(static_cast<size_t>(tokens * head.outputs()));
    if (tokens > 0) {
      const std::vector<float> states = last_hidden(batch, exec);
      head.run(states.data(), tokens, out.logits.data.data(), exec);
    }
    out.scores = score(out.logits, Scoring::softmax);
    return out;
  }

  Tensor masked_lm_logits(const std::vector<Sequence>& sequences,
                          const std::vector<TokenPosition>& positions,
                          const EncodeOptions& options) const {
    const Head& head = require_head(HeadKind::masked_lm);
    const Execution exec = execution_of(options);
    const Batch batch = Batch::pack(sequences, config());
    for (size_t p = 0; p < positions.size(); ++p) {
      const TokenPosition& at = positions[p];
      if (at.sequence < 0 || at.sequence >= batch.sequences() || at.position < 0 ||
          at.position >= batch.length(at.sequence)) {
        throw Error("masked_lm_logits: position " + std::to_string(p) + " (sequence " +
                    std::to_string(at.sequence) + ", token " + std::to_string(at.position) +
                    ") is outside the sequences");
      }
    }
    const auto m = static_cast<int64_t>(positions.size());
    const int64_t hidden = config().hidden_size;
    Tensor logits;
    logits.shape = {m, head.outputs()};
    logits.data.resize(static_cast<size_t>(m * head.outputs()));
    if (m == 0) return logits;
    const std::vector<float> states = last_hidden(batch, exec);
    // The decoder (vocab × hidden) runs on the requested rows only, gathered first.
    std::vector<float> rows(static_cast<size_t>(padded_rows(m) * hidden));
    for (int64_t p = 0; p < m; ++p) {
      const float* row =
          states.data() + (batch.offsets()[positions[p].sequence] + positions[p].position) * hidden;
      std::copy(row, row + hidden, rows.begin() + p * hidden);
    }
    head.run(rows.data(), m, logits.data.data(), exec);
    return logits;
  }

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
    encoder_.forward(batch, capture.hidden.data.data(), execution_of(options),
                     [&](int64_t l, const float* qkv, const float* context) {
                       if (l != layer) return;
                       capture.qkv.data.assign(qkv, qkv + tokens * 3 * hidden);
                       capture.context.data.assign(context, context + tokens * hidden);
                     });
    return capture;
  }

  PackedOutput encode_packed(const std::vector<Sequence>& sequences,
                             const EncodeOptions& options) const {
    const Execution exec = execution_of(options);
    const Batch batch = Batch::pack(sequences, config());
    PackedOutput out;
    out.hidden.shape = {batch.tokens(), config().hidden_size};
    out.hidden.data.resize(static_cast<size_t>(batch.tokens() * config().hidden_size));
    out.offsets.assign(batch.offsets().begin(), batch.offsets().end());
    if (batch.tokens() == 0) return out;

    encoder_.forward(batch, out.hidden.data.data(), exec);
    return out;
  }

 private:
  int64_t padded_rows(int64_t rows) const { return encoder_.backend().padded_rows(rows); }

  // The last hidden states with room for the backend's padded rows (a head's GEMM input).
  std::vector<float> last_hidden(const Batch& batch, const Execution& exec) const {
    std::vector<float> states(
        static_cast<size_t>(padded_rows(batch.tokens()) * config().hidden_size));
    encoder_.forward(batch, states.data(), exec);
    return states;
  }

  const Head& require_head(HeadKind kind) const {
    if (info_.head.kind != kind) {
      throw Error(
          no_head_message(info_.transformer_folder.string(), kind, info_.head.architectures));
    }
    if (!head_) {
      throw Error("the model was loaded without its " + std::string(to_string(kind)) +
                  " head (set LoadOptions::load_head)");
    }
    return *head_;
  }

  BackendKind kind_;
  ModelInfo info_;
  ModelLayout layout_;
  Encoder encoder_;
  std::unique_ptr<Head> head_;
};

}  // namespace detail

Model Model::load(const std::filesystem::path& folder, const LoadOptions& options) {
  if (options.backend == BackendKind::reference && options.dtype != ComputeType::f32) {
    throw Error(
        "the reference backend computes in float32 only (bf16 and int8 need the optimized "
        "backend)");
  }
  using Clock = std::chrono::steady_clock;
  const auto ms_since = [](Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  };
  const auto open_start = Clock::now();
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
  if (options.dtype == ComputeType::int8) {
    detail::check_int8_inner_dimensions(config, family, config_path);
  }
  if (layout.pooling_dimension != 0 && layout.pooling_dimension != config.hidden_size) {
    throw Error(layout.pooling_config.string() + ": field 'word_embedding_dimension' is " +
                std::to_string(layout.pooling_dimension) +
                ", but the transformer's hidden size is " + std::to_string(config.hidden_size));
  }

  ModelInfo info;
  info.model_type = std::string(family.model_type);
  info.transformer_folder = layout.transformer_folder;
  // The mapping lives until the backend has prepared the weights: F32 linear weights go from it
  // straight into the backend's layout.
  const auto checkpoint = std::make_shared<const detail::Checkpoint>(
      detail::Checkpoint::open_folder(layout.transformer_folder));
  info.weights_dtype = detail::stored_dtype(*checkpoint);
  info.load_times.open_ms = ms_since(open_start);
  const auto read_start = Clock::now();
  detail::EncoderWeights weights = family.load_weights(config, reader, *checkpoint);
  weights.storage = checkpoint;  // the embedding tables are read in place
  info.parameters = detail::count_parameters(weights);
  info.head = detail::read_head_info(root, config_path, *checkpoint, options.load_head);
  detail::HeadWeights head_weights;
  if (options.load_head && info.head.kind != HeadKind::none) {
    head_weights = detail::load_head_weights(info.head, root, config_path, config, *checkpoint);
  }
  info.load_times.read_ms = ms_since(read_start);
  const auto prepare_start = Clock::now();
  auto impl = std::make_shared<detail::ModelImpl>(std::move(weights), options, std::move(info),
                                                  std::move(layout));
  if (head_weights.kind != HeadKind::none) impl->set_head(std::move(head_weights));
  impl->set_prepare_ms(ms_since(prepare_start));
  return Model(std::move(impl));
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

LabelScores Model::classify(const std::vector<Sequence>& sequences,
                            const EncodeOptions& options) const {
  return impl_->classify(sequences, options);
}

TokenLabelScores Model::classify_tokens(const std::vector<Sequence>& sequences,
                                        const EncodeOptions& options) const {
  return impl_->classify_tokens(sequences, options);
}

Tensor Model::masked_lm_logits(const std::vector<Sequence>& sequences,
                               const std::vector<TokenPosition>& positions,
                               const EncodeOptions& options) const {
  return impl_->masked_lm_logits(sequences, positions, options);
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
