// Task heads of Hugging Face checkpoints: which head config.json's `architectures` names, its
// labels and scoring, and its tensors under the family's names.
#include "heads/head_loader.hpp"

#include <array>
#include <charconv>
#include <map>
#include <string>
#include <string_view>

#include "io/config_json.hpp"
#include "io/printable.hpp"
#include "model/checkpoint_reader.hpp"
#include "vecformer/error.hpp"

namespace vecformer::detail {

namespace {

// The families' head layouts. gte (GTE v1.5, "new") and nomic follow BERT's pooler + classifier
// under their own encoder prefixes (NewForSequenceClassification,
// NomicBertForSequenceClassification build NewModel / NomicBertModel with a pooling layer).
enum class Style { bert, roberta, distilbert, modernbert, gte, nomic };

struct Architecture {
  std::string_view name;
  HeadKind kind;
  Style style;
};

constexpr std::array kArchitectures = {
    Architecture{"BertForSequenceClassification", HeadKind::sequence_classification, Style::bert},
    Architecture{"BertForTokenClassification", HeadKind::token_classification, Style::bert},
    Architecture{"BertForMaskedLM", HeadKind::masked_lm, Style::bert},
    Architecture{"RobertaForSequenceClassification", HeadKind::sequence_classification,
                 Style::roberta},
    Architecture{"RobertaForTokenClassification", HeadKind::token_classification, Style::roberta},
    Architecture{"RobertaForMaskedLM", HeadKind::masked_lm, Style::roberta},
    Architecture{"XLMRobertaForSequenceClassification", HeadKind::sequence_classification,
                 Style::roberta},
    Architecture{"XLMRobertaForTokenClassification", HeadKind::token_classification,
                 Style::roberta},
    Architecture{"XLMRobertaForMaskedLM", HeadKind::masked_lm, Style::roberta},
    Architecture{"DistilBertForSequenceClassification", HeadKind::sequence_classification,
                 Style::distilbert},
    Architecture{"DistilBertForTokenClassification", HeadKind::token_classification,
                 Style::distilbert},
    Architecture{"DistilBertForMaskedLM", HeadKind::masked_lm, Style::distilbert},
    Architecture{"ModernBertForSequenceClassification", HeadKind::sequence_classification,
                 Style::modernbert},
    Architecture{"ModernBertForTokenClassification", HeadKind::token_classification,
                 Style::modernbert},
    Architecture{"ModernBertForMaskedLM", HeadKind::masked_lm, Style::modernbert},
    Architecture{"NewForSequenceClassification", HeadKind::sequence_classification, Style::gte},
    Architecture{"NewForTokenClassification", HeadKind::token_classification, Style::gte},
    Architecture{"NomicBertForSequenceClassification", HeadKind::sequence_classification,
                 Style::nomic},
};

const Architecture* find_architecture(std::string_view name) {
  for (const Architecture& a : kArchitectures) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

std::string encoder_prefix(Style style) {
  switch (style) {
    case Style::bert:
      return "bert.";
    case Style::roberta:
      return "roberta.";
    case Style::distilbert:
      return "distilbert.";
    case Style::modernbert:
      return "model.";
    case Style::gte:
      return "new.";
    case Style::nomic:
      return "bert.";
  }
  return "";
}

// The encoder's word embedding table (the tied masked-LM decoder, and the probe for the prefix).
std::string word_embeddings_name(Style style) {
  return style == Style::modernbert ? "embeddings.tok_embeddings.weight"
                                    : "embeddings.word_embeddings.weight";
}

// The tensor whose rows are the labels.
std::string classifier_name(HeadKind kind, Style style) {
  if (kind == HeadKind::sequence_classification && style == Style::roberta) {
    return "classifier.out_proj.weight";
  }
  return "classifier.weight";
}

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& what) {
  throw Error(path.string() + ": " + what);
}

std::vector<std::string> read_architectures(const nlohmann::json& root,
                                            const std::filesystem::path& path, bool strict) {
  std::vector<std::string> names;
  const auto it = root.find("architectures");
  if (it == root.end() || it->is_null()) return names;
  if (!it->is_array()) {
    if (strict) fail(path, "field 'architectures' must be a list of strings");
    return names;
  }
  for (size_t i = 0; i < it->size(); ++i) {
    if (!(*it)[i].is_string()) {
      if (strict) {
        fail(path, "field 'architectures' element " + std::to_string(i) +
                       " must be a string, got " + printable_json((*it)[i], 60));
      }
      continue;
    }
    names.push_back((*it)[i].get<std::string>());
  }
  return names;
}

// id2label as labels in id order; empty when absent.
std::vector<std::string> read_id2label(const nlohmann::json& root,
                                       const std::filesystem::path& path) {
  const auto it = root.find("id2label");
  if (it == root.end() || it->is_null()) return {};
  if (!it->is_object()) fail(path, "field 'id2label' must be an object of id: label");
  std::map<int64_t, std::string> by_id;
  for (const auto& [key, value] : it->items()) {
    int64_t id = -1;
    const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), id);
    if (ec != std::errc() || end != key.data() + key.size() || id < 0 || key.empty()) {
      fail(path, "field 'id2label' has key \"" + printable(key) +
                     "\", which is not a label id (a non-negative integer)");
    }
    if (!value.is_string()) {
      fail(path, "field 'id2label' entry \"" + printable(key) + "\" must be a string, got " +
                     printable_json(value, 60));
    }
    by_id[id] = value.get<std::string>();
  }
  std::vector<std::string> labels;
  for (const auto& [id, label] : by_id) {
    if (id != static_cast<int64_t>(labels.size())) {
      fail(path, "field 'id2label' has no label for id " + std::to_string(labels.size()) +
                     " (its ids must be 0 to " + std::to_string(by_id.size() - 1) + ")");
    }
    labels.push_back(label);
  }
  return labels;
}

Scoring scoring_of(const nlohmann::json& root, const std::filesystem::path& path, size_t labels,
                   bool strict) {
  std::string problem;
  const auto it = root.find("problem_type");
  if (it != root.end() && !it->is_null()) {
    if (!it->is_string()) {
      if (strict) fail(path, "field 'problem_type' must be a string");
    } else {
      problem = it->get<std::string>();
    }
  }
  if (strict && !problem.empty() && problem != "regression" &&
      problem != "single_label_classification" && problem != "multi_label_classification") {
    fail(path, "field 'problem_type' is \"" + printable(problem) +
                   "\" (expected regression, single_label_classification or "
                   "multi_label_classification)");
  }
  // The order of Hugging Face's TextClassificationPipeline.
  if (problem == "regression") return Scoring::none;
  if (problem == "multi_label_classification" || labels == 1) return Scoring::sigmoid;
  return Scoring::softmax;
}

// ModernBertForSequenceClassification's classifier_pooling: "cls" (the default) or "mean".
Pooling modernbert_pooling(const ConfigReader& json, bool strict) {
  const std::string pooling = json.string("classifier_pooling", "cls");
  if (pooling == "mean") return Pooling::mean;
  if (pooling != "cls" && strict) {
    json.fail("field 'classifier_pooling' is \"" + printable(pooling) +
              "\" (expected cls or mean)");
  }
  return Pooling::cls;
}

HeadInfo read_info(const nlohmann::json& root, const std::filesystem::path& path,
                   const Checkpoint& checkpoint, bool strict) {
  HeadInfo info;
  info.architectures = read_architectures(root, path, strict);
  const Architecture* arch = nullptr;
  for (const std::string& name : info.architectures) {
    if ((arch = find_architecture(name))) break;
  }
  if (!arch) return info;
  info.kind = arch->kind;
  info.architecture = std::string(arch->name);
  if (arch->kind == HeadKind::masked_lm) return info;

  const std::string classifier = classifier_name(arch->kind, arch->style);
  const TensorEntry* entry = checkpoint.find(classifier);
  const int64_t outputs = entry && entry->shape.size() == 2 ? entry->shape[0] : -1;
  info.labels = read_id2label(root, path);
  if (info.labels.empty()) {
    // Hugging Face's default names, one per classifier output (num_labels, else 2, when the
    // classifier is missing: its absence is reported when the weights are read).
    int64_t count = outputs;
    if (count < 0) {
      const auto n = root.find("num_labels");
      count = n != root.end() && n->is_number_unsigned() ? n->get<int64_t>() : 2;
    }
    for (int64_t i = 0; i < count; ++i) info.labels.push_back("LABEL_" + std::to_string(i));
  } else if (outputs > static_cast<int64_t>(info.labels.size())) {
    fail(path, "field 'id2label' has no label for id " + std::to_string(info.labels.size()) +
                   ": it names " + std::to_string(info.labels.size()) + " labels, but tensor '" +
                   classifier + "' has " + std::to_string(outputs) + " outputs");
  }
  info.scoring = arch->kind == HeadKind::token_classification
                     ? Scoring::softmax
                     : scoring_of(root, path, info.labels.size(), strict);
  if (arch->style == Style::modernbert && arch->kind == HeadKind::sequence_classification) {
    info.pooling = modernbert_pooling(ConfigReader(path, root), strict);
  }
  return info;
}

bool tied_embeddings(const nlohmann::json& root) {
  const auto it = root.find("tie_word_embeddings");
  return it == root.end() || !it->is_boolean() || it->get<bool>();
}

// The decoder's weight: its own tensor, else the word embeddings it is tied to.
Matrix decoder_weight(const CheckpointReader& top, const CheckpointReader& encoder,
                      const std::string& name, const nlohmann::json& root,
                      const std::filesystem::path& config_path, const Checkpoint& checkpoint,
                      const Config& config, const std::string& embeddings) {
  const int64_t vocab = config.vocab_size, hidden = config.hidden_size;
  if (top.has(name)) return top.matrix(name, vocab, hidden);
  if (!tied_embeddings(root)) {
    throw Error(checkpoint.path().string() + ": tensor '" + name + "' is missing (" +
                config_path.filename().string() + " has tie_word_embeddings false)");
  }
  return encoder.matrix(embeddings, vocab, hidden);
}

std::vector<float> first_vector(const CheckpointReader& top, const std::string& name,
                                const std::string& alternative, int64_t size) {
  if (!top.has(name) && top.has(alternative)) return top.vector(alternative, size);
  return top.vector(name, size);
}

// ModernBertPredictionHead (head.dense, classifier_activation, head.norm) and what follows it:
// `classifier` for the classification heads (always with a bias: nn.Linear's default), the
// decoder's bias for the masked LM (its weight is read by the caller: it may be tied). The flags
// default as ModernBertConfig's do.
void read_modernbert_head(HeadWeights& w, const CheckpointReader& top, const nlohmann::json& root,
                          const ConfigReader& json, const Config& config, int64_t labels) {
  const int64_t hidden = config.hidden_size;
  w.dense = top.linear("head.dense", hidden, hidden, json.boolean("classifier_bias", false));
  // ACT2FN[classifier_activation]: "gelu" when absent (ModernBertConfig's default); null falls back
  // to the encoder's hidden_activation.
  const char* key = "classifier_activation";
  const std::string name = !root.contains(key) ? "gelu"
                           : json.value(key)   ? json.string(key, "gelu")
                                               : std::string();
  if (name.empty()) {
    w.dense_activation = DenseActivation::fused;
    w.fused_activation = config.hidden_act;
  } else if (name == "tanh") {
    w.dense_activation = DenseActivation::tanh;
  } else if (name == "gelu" || name == "gelu_new" || name == "gelu_pytorch_tanh" ||
             name == "relu" || name == "silu" || name == "swish") {
    w.dense_activation = DenseActivation::fused;
    w.fused_activation = parse_activation(json, key, name);
  } else {
    json.fail("field 'classifier_activation' is \"" + printable(name) +
              "\", which is not supported (supported: gelu, gelu_new, gelu_pytorch_tanh, relu, "
              "silu, swish, tanh)");
  }
  w.norm = top.norm("head.norm", hidden, false, json.boolean("norm_bias", false));
  w.norm_eps = static_cast<float>(config.layer_norm_eps);  // norm_eps
  switch (w.kind) {
    case HeadKind::sequence_classification:
    case HeadKind::token_classification:
      w.out = top.linear("classifier", labels, hidden);
      break;
    case HeadKind::masked_lm:
      if (json.boolean("decoder_bias", true)) {
        w.out.bias = top.vector("decoder.bias", config.vocab_size);
      } else {
        top.reject("decoder.bias", "config.json has decoder_bias false");
      }
      break;
    case HeadKind::none:
      break;
  }
}

}  // namespace

HeadKind head_kind_named(const nlohmann::json& root) {
  for (const std::string& name : read_architectures(root, {}, /*strict=*/false)) {
    if (const Architecture* arch = find_architecture(name)) return arch->kind;
  }
  return HeadKind::none;
}

std::string no_head_message(const std::string& folder, HeadKind kind,
                            const std::vector<std::string>& architectures) {
  std::string names, unread;
  for (const std::string& name : architectures) {
    names += (names.empty() ? "" : ", ") + name;
    // A task model ("...For...") vecformer has no head for; bare encoders ("...Model") have none.
    if (!find_architecture(name) && name.find("For") != std::string::npos)
      unread += (unread.empty() ? "" : ", ") + name;
  }
  std::string message =
      folder + " has no " + std::string(to_string(kind)) +
      " head (architectures: " + (names.empty() ? "none" : printable(names, 200)) + ")";
  if (!unread.empty()) {
    message += ": vecformer does not read the head of " + printable(unread, 200) +
               " (docs/FORMAT.md, Task heads, lists the task models it reads)";
  }
  return message;
}

std::string no_head_message(const std::string& folder, HeadKind kind, const nlohmann::json& root) {
  return no_head_message(folder, kind, read_architectures(root, {}, /*strict=*/false));
}

HeadInfo read_head_info(const nlohmann::json& root, const std::filesystem::path& config_path,
                        const Checkpoint& checkpoint, bool strict) {
  if (strict) return read_info(root, config_path, checkpoint, true);
  try {
    return read_info(root, config_path, checkpoint, false);
  } catch (const Error&) {
    HeadInfo info;
    info.architectures = read_architectures(root, config_path, false);
    return info;
  }
}

HeadWeights load_head_weights(const HeadInfo& info, const nlohmann::json& root,
                              const std::filesystem::path& config_path, const Config& config,
                              const Checkpoint& checkpoint) {
  const Architecture* arch = find_architecture(info.architecture);
  HeadWeights w;
  if (!arch) return w;
  w.kind = arch->kind;
  w.pooling = info.pooling;
  const std::string embeddings = word_embeddings_name(arch->style);
  const std::string prefix = detect_prefix(checkpoint, embeddings, encoder_prefix(arch->style));
  const CheckpointReader top(checkpoint, "");
  const CheckpointReader encoder(checkpoint, prefix);
  const int64_t hidden = config.hidden_size;
  const auto labels = static_cast<int64_t>(info.labels.size());
  if (arch->style == Style::modernbert) {
    read_modernbert_head(w, top, root, ConfigReader(config_path, root), config, labels);
    if (arch->kind == HeadKind::masked_lm) {
      w.out.weight = decoder_weight(top, encoder, "decoder.weight", root, config_path, checkpoint,
                                    config, embeddings);
    }
    return w;
  }

  switch (arch->kind) {
    case HeadKind::sequence_classification:
      switch (arch->style) {
        case Style::bert:
        case Style::gte:
        case Style::nomic:
          w.dense = encoder.linear("pooler.dense", hidden, hidden);
          w.dense_activation = DenseActivation::tanh;
          w.out = top.linear("classifier", labels, hidden);
          break;
        case Style::roberta:
          w.dense = top.linear("classifier.dense", hidden, hidden);
          w.dense_activation = DenseActivation::tanh;
          w.out = top.linear("classifier.out_proj", labels, hidden);
          break;
        case Style::distilbert:
          w.dense = top.linear("pre_classifier", hidden, hidden);
          w.dense_activation = DenseActivation::fused;
          w.fused_activation = Activation::relu;
          w.out = top.linear("classifier", labels, hidden);
          break;
        case Style::modernbert:  // read above
          break;
      }
      break;
    case HeadKind::token_classification:
      w.out = top.linear("classifier", labels, hidden);
      break;
    case HeadKind::masked_lm: {
      const int64_t vocab = config.vocab_size;
      w.dense_activation = DenseActivation::fused;
      switch (arch->style) {
        case Style::bert:
          w.dense = top.linear("cls.predictions.transform.dense", hidden, hidden);
          w.fused_activation = config.hidden_act;
          w.norm = top.norm("cls.predictions.transform.LayerNorm", hidden);
          w.norm_eps = static_cast<float>(config.layer_norm_eps);
          w.out.weight = decoder_weight(top, encoder, "cls.predictions.decoder.weight", root,
                                        config_path, checkpoint, config, embeddings);
          w.out.bias =
              first_vector(top, "cls.predictions.bias", "cls.predictions.decoder.bias", vocab);
          break;
        case Style::roberta:
          w.dense = top.linear("lm_head.dense", hidden, hidden);
          w.fused_activation = Activation::gelu_erf;  // RobertaLMHead's gelu, whatever hidden_act
          w.norm = top.norm("lm_head.layer_norm", hidden);
          w.norm_eps = static_cast<float>(config.layer_norm_eps);
          w.out.weight = decoder_weight(top, encoder, "lm_head.decoder.weight", root, config_path,
                                        checkpoint, config, embeddings);
          w.out.bias = first_vector(top, "lm_head.bias", "lm_head.decoder.bias", vocab);
          break;
        case Style::distilbert:
          w.dense = top.linear("vocab_transform", hidden, hidden);
          w.fused_activation = config.hidden_act;
          w.norm = top.norm("vocab_layer_norm", hidden);
          w.norm_eps = 1e-12f;  // fixed in Hugging Face's DistilBertForMaskedLM
          w.out.weight = decoder_weight(top, encoder, "vocab_projector.weight", root, config_path,
                                        checkpoint, config, embeddings);
          w.out.bias = top.vector("vocab_projector.bias", vocab);
          break;
        case Style::modernbert:  // read above
        case Style::gte:         // no masked-LM architecture of theirs is listed
        case Style::nomic:
          break;
      }
      break;
    }
    case HeadKind::none:
      break;
  }
  return w;
}

}  // namespace vecformer::detail
