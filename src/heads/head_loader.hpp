#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "heads/head.hpp"
#include "io/checkpoint.hpp"
#include "vecformer/config.hpp"
#include "vecformer/model.hpp"

namespace vecformer::detail {

// The head config.json names: the first entry of `architectures` vecformer has a head for
// (kind none when there is none), and for classification heads the labels (id2label in id order;
// LABEL_0, LABEL_1, ... as Hugging Face names them when id2label is absent, as many as the
// classifier has outputs) and the scoring (problem_type, number of labels).
// strict: every problem is a vecformer::Error naming config.json and the field, or the tensor
// (labels missing from id2label, a classifier whose outputs disagree with id2label); not strict
// (a model loaded for its encoder only): what cannot be read is left out.
HeadInfo read_head_info(const nlohmann::json& root, const std::filesystem::path& config_path,
                        const Checkpoint& checkpoint, bool strict);

// The kind of head config.json's `architectures` names, from the config alone (none when it names
// none vecformer has, or is not a list of strings).
HeadKind head_kind_named(const nlohmann::json& root);

// "DIR has no <kind> head (architectures: A, B)", and when an entry names a task model vecformer
// has no head for (e.g. NewForMultipleChoice), a clause saying so. `root`: config.json (its
// `architectures` read leniently).
std::string no_head_message(const std::string& folder, HeadKind kind,
                            const std::vector<std::string>& architectures);
std::string no_head_message(const std::string& folder, HeadKind kind, const nlohmann::json& root);

// The head's tensors with the shapes the config implies; errors name the file and the tensor. The
// masked-LM decoder is the word embedding table when the checkpoint has none (tied weights, as
// Hugging Face saves them) unless config.json's tie_word_embeddings is false.
HeadWeights load_head_weights(const HeadInfo& info, const nlohmann::json& root,
                              const std::filesystem::path& config_path, const Config& config,
                              const Checkpoint& checkpoint);

}  // namespace vecformer::detail
