#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vecformer/config.hpp"
#include "vecformer/export.hpp"
#include "vecformer/tensor.hpp"

namespace vecformer {

namespace detail {
class ModelImpl;
}

enum class BackendKind { reference, optimized };

// Number format of the optimized backend's matrix products. bf16: weights and GEMM inputs in
// bfloat16 with float32 accumulation. int8: weights quantized symmetrically per output row, inputs
// per token at run time, int32 accumulation. Layer norm, softmax and everything element-wise stay
// float32.
enum class ComputeType { f32, bf16, int8 };

struct LoadOptions {
  BackendKind backend = BackendKind::optimized;
  ComputeType dtype = ComputeType::f32;  // bf16 and int8 need the optimized backend
  // Also load the task head that config.json's `architectures` names (sequence classification,
  // token classification, masked LM), on the same backend and dtype as the encoder. Off by default:
  // a masked-LM decoder is a vocab × hidden matrix that encoding alone never needs.
  bool load_head = false;
};

// The task head a model folder's config.json names in `architectures`
// (BertForSequenceClassification, RobertaForTokenClassification, DistilBertForMaskedLM,
// ModernBertForSequenceClassification, ...); none for a bare encoder (BertModel) or an architecture
// vecformer has no head for.
enum class HeadKind { none, sequence_classification, token_classification, masked_lm };

// How a classification head's logits become scores, as Hugging Face's text-classification
// pipeline decides: sigmoid when there is one label or problem_type is
// "multi_label_classification", none (the logits) for "regression", softmax otherwise.
enum class Scoring { softmax, sigmoid, none };

// How token states become one vector per sequence. mean_sqrt_len is sentence-transformers' mean
// times sqrt(length).
enum class Pooling { none, cls, mean, max, mean_sqrt_len };
// "none", "cls", "mean", "max", "mean_sqrt_len": the names the CLI and sentence-transformers use.
VECFORMER_API std::string_view to_string(Pooling pooling);

struct HeadInfo {
  HeadKind kind = HeadKind::none;
  std::string architecture;  // the entry of `architectures` the head comes from, or ""
  std::vector<std::string> architectures;  // config.json's list as written
  std::vector<std::string> labels;         // classification heads: id2label in id order
  Scoring scoring = Scoring::softmax;
  // Sequence classification: the row the head reads per sequence, its first token (cls) or the
  // mean of its tokens (ModernBERT's classifier_pooling "mean").
  Pooling pooling = Pooling::cls;
};

VECFORMER_API std::string_view to_string(HeadKind kind);
VECFORMER_API std::string_view to_string(Scoring scoring);

// Logits of a classification head and their scores (Scoring of the head; softmax over the labels
// for token classification), [rows, labels] each.
struct LabelScores {
  Tensor logits;
  Tensor scores;
};

// A token classification: rows offsets[i]..offsets[i+1] of logits and scores ([T, labels]) are the
// tokens of sequence i, special tokens included.
struct TokenLabelScores {
  Tensor logits;
  Tensor scores;
  std::vector<int64_t> offsets;
};

// A token of a sequence: sequence index and 0-based token position within it.
struct TokenPosition {
  int64_t sequence = 0;
  int64_t position = 0;
};

struct TokenPrediction {
  int64_t token_id = 0;
  float score = 0;  // softmax over the vocabulary
};

// The k highest-scoring entries of each row of [rows, vocab] logits, highest first (ties: lower id
// first), scored by the softmax over the row (computed in double).
VECFORMER_API std::vector<std::vector<TokenPrediction>> top_predictions(const Tensor& logits,
                                                                        int64_t k);

// One input sequence. token_type_ids is either empty (all zeros) or as long as input_ids.
struct Sequence {
  std::vector<int64_t> input_ids;
  std::vector<int64_t> token_type_ids;
};

struct EncodeOptions {
  int threads = 0;  // 0: every core of the machine
  // Unset: the model folder's default (sentence-transformers' 1_Pooling and Normalize modules when
  // the folder has them, otherwise no pooling and no normalization). The folder's Normalize applies
  // to pooled output only, as in sentence-transformers, which normalizes the sentence embedding and
  // never token states; set normalize to true to normalize each token's row of unpooled output.
  std::optional<Pooling> pooling;
  std::optional<bool> normalize;  // L2-normalize each output vector
};

// Hidden states of the real tokens only: rows offsets[i]..offsets[i+1] of `hidden` ([T,
// hidden_size]) belong to sequence i.
struct PackedOutput {
  Tensor hidden;
  std::vector<int64_t> offsets;
};

// Where Model::load spent its time, in milliseconds: opening and validating the files (config,
// safetensors header, mapping), reading the tensors out of the mapping into float32 (page faults,
// F16/BF16 widening, the NaN/Inf check), and the backend's preparation (oneDNN weight reorders,
// bf16 / int8 copies).
struct LoadTimes {
  double open_ms = 0;
  double read_ms = 0;
  double prepare_ms = 0;
};

// What was loaded, for reports (`vecformer info`).
struct ModelInfo {
  std::string model_type;
  int64_t parameters = 0;     // weights the encoder uses (embedding tables, layers, norms)
  std::string weights_dtype;  // as stored: "F32", "F16", "BF16", or "mixed"
  std::filesystem::path transformer_folder;  // where config.json and model.safetensors were read
  LoadTimes load_times;
  HeadInfo head;             // read from config.json whether or not LoadOptions::load_head
  bool head_loaded = false;  // the head's weights are loaded (LoadOptions::load_head)
};

// One layer's attention as a forward pass computed it, for inspection (`vecformer explain`).
struct AttentionCapture {
  Tensor qkv;      // [L, 3·hidden]: each token's query, key and value (heads side by side in each)
  Tensor context;  // [L, hidden]: each token's attention value (the heads' outputs side by side)
  Tensor hidden;   // [L, hidden]: the sequence's last hidden states from the same forward
};

// A loaded encoder. Loading validates the folder and prepares the weights for the chosen backend
// once; afterwards a Model is immutable and `encode` may be called from many threads at once.
// Scratch memory of finished calls is kept for the next ones: a Model that served N calls at once
// holds N workspaces, each sized for the largest batch it ran (about 7 × hidden + intermediate
// floats per token: 4.3 MB for BERT-base at 128 tokens), until it is destroyed. Whatever token
// counts it is fed, its memory is bounded: the prepared weights, the workspaces, and the GEMM
// primitives of at most 16 row buckets per linear map (plus oneDNN's own primitive cache, 1024
// entries at most: ~17 MB measured over 400 token counts of BERT-base). Each call runs on its own
// thread count (EncodeOptions::threads) without changing the caller's OpenMP settings; called from
// inside an OpenMP parallel region, it runs on the calling thread alone. F32 embedding tables are
// read in place from the mapped model.safetensors, which stays mapped while the Model lives.
class VECFORMER_API Model {
 public:
  static Model load(const std::filesystem::path& folder, const LoadOptions& options = {});

  const Config& config() const;
  const ModelInfo& info() const;
  BackendKind backend() const;

  // With pooling: [N, hidden_size], one vector per sequence. Without: the last hidden states as
  // [N, Lmax, hidden_size], zero rows past each sequence's end.
  Tensor encode(const std::vector<Sequence>& sequences, const EncodeOptions& options = {}) const;
  // The last hidden states without padding (pooling and normalize do not apply).
  PackedOutput encode_packed(const std::vector<Sequence>& sequences,
                             const EncodeOptions& options = {}) const;

  // Task heads (LoadOptions::load_head; vecformer::Error when the model has no such head or was
  // loaded without it). Thread-safe like encode.
  // The sequence-classification head on each sequence's first token ([CLS] / <s>), or on the mean
  // of its tokens for a ModernBERT head with classifier_pooling "mean": [N, labels].
  LabelScores classify(const std::vector<Sequence>& sequences,
                       const EncodeOptions& options = {}) const;
  // The token-classification head on every token (softmax scores).
  TokenLabelScores classify_tokens(const std::vector<Sequence>& sequences,
                                   const EncodeOptions& options = {}) const;
  // The masked-LM head at the given tokens only (the decoder runs on those rows, not on the whole
  // sequence): [positions, vocab_size] logits in the order of `positions`.
  Tensor masked_lm_logits(const std::vector<Sequence>& sequences,
                          const std::vector<TokenPosition>& positions,
                          const EncodeOptions& options = {}) const;

  // Runs one sequence and returns layer `layer`'s attention inputs and outputs (0-based layer
  // index; vecformer::Error when out of range).
  AttentionCapture capture_attention(const Sequence& sequence, int64_t layer,
                                     const EncodeOptions& options = {}) const;

  // The folder's default pooling and normalization (see EncodeOptions: default_normalize() is
  // whether the folder has a Normalize module, which applies to pooled output only).
  Pooling default_pooling() const;
  bool default_normalize() const;
  // The longest sequence, in tokens with [CLS] and [SEP], the folder means its model to see: what
  // sentence-transformers and text-embeddings-inference truncate text to.
  // sentence_bert_config.json's max_seq_length, else tokenizer_config.json's model_max_length,
  // never more than the position table (config().max_length()).
  int64_t max_sequence_length() const;

  ~Model();
  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;

 private:
  explicit Model(std::shared_ptr<const detail::ModelImpl> impl);
  std::shared_ptr<const detail::ModelImpl> impl_;
};

}  // namespace vecformer
