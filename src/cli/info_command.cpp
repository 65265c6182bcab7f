// `vecformer info`: what a model folder holds and what this machine will run it with.
#include <dnnl.hpp>
#include <iostream>
#include <sstream>
#include <string>

#include "backend/optimized/kernels/kernels.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "io/printable.hpp"
#include "vecformer/model.hpp"

#include <omp.h>

namespace vecformer::cli {

namespace {

// "sequence-classification (BertForSequenceClassification), 3 labels: NEG, NEU, POS (softmax)".
std::string head_text(const HeadInfo& head) {
  if (head.kind == HeadKind::none) {
    std::string names;
    for (const std::string& a : head.architectures) names += (names.empty() ? "" : ", ") + a;
    return "none (architectures: " + (names.empty() ? std::string("none") : names) + ")";
  }
  std::string text = std::string(to_string(head.kind)) + " (" + head.architecture + ")";
  if (head.kind == HeadKind::masked_lm) return text;
  text += ", " + count_text(static_cast<int64_t>(head.labels.size()), "label") + ": ";
  for (size_t i = 0; i < head.labels.size(); ++i) {
    if (i == 8) {
      text += ", ...";
      break;
    }
    text += (i ? ", " : "") + detail::printable(head.labels[i]);
  }
  if (head.kind == HeadKind::sequence_classification) {
    text += " (" + std::string(to_string(head.scoring)) +
            (head.pooling == Pooling::mean ? ", mean pooling" : "") + ")";
  }
  return text;
}

// "rotary (64 of 64 features, base 160000 / local 10000, NeoX pairs)", "alibi", "absolute", ...
std::string positions_text(const Config& c) {
  std::string text(to_string(c.position_embedding_type));
  if (c.position_embedding_type != PositionEmbedding::rotary) return text;
  const RotaryConfig& r = c.rotary;
  const auto number = [](double v) {
    std::ostringstream out;
    out << v;
    return out.str();
  };
  text += " (" + std::to_string(r.dim > 0 ? r.dim : c.head_dim()) + " of " +
          std::to_string(c.head_dim()) + " features, base " + number(r.base);
  if (c.local_window > 0) text += " / local " + number(r.local_base);
  text += r.interleaved ? ", interleaved pairs" : ", NeoX pairs";
  if (r.scaling == RotaryScaling::ntk) text += ", NTK x" + number(r.scaling_factor);
  if (r.scaling == RotaryScaling::dynamic_ntk) {
    text += ", dynamic NTK x" + number(r.scaling_factor) + " past " +
            std::to_string(r.max_trained_positions) + " tokens";
  }
  return text + ")";
}

std::string attention_text(const Config& c) {
  if (c.local_window == 0) return "global";
  return "local window of " + std::to_string(c.local_window) +
         " tokens (|i - j| <= " + std::to_string(c.local_window / 2) + "), global on layers 0, " +
         std::to_string(c.global_every) + ", " + std::to_string(2 * c.global_every) + ", ...";
}

}  // namespace

Runner add_info_command(CLI::App& app) {
  auto model_dir = std::make_shared<std::string>();
  CLI::App* cmd =
      app.add_subcommand("info", "Describe a model folder and the machine that runs it");
  cmd->add_option("--model", *model_dir, "Model folder")->required();
  return [model_dir] {
    const Model model = Model::load(*model_dir);
    const Config& c = model.config();
    const ModelInfo& info = model.info();
    const dnnl_version_t* onednn = dnnl_version();
    std::cout << "model          " << *model_dir << "\n"
              << "family         " << info.model_type << "\n"
              << "layers         " << c.num_hidden_layers
              << (c.norm_first ? " (pre-norm)" : " (post-norm)") << "\n"
              << "hidden         " << c.hidden_size << " (" << c.num_attention_heads << " heads of "
              << c.head_dim() << ")\n"
              << "intermediate   " << c.intermediate_size << " (" << to_string(c.hidden_act)
              << (c.feed_forward == FeedForward::gated ? ", gated: act(first half) * second half"
                                                       : "")
              << ")\n"
              << "vocabulary     " << c.vocab_size << " tokens, " << c.type_vocab_size
              << " token types\n"
              << "positions      " << positions_text(c) << ", up to " << c.max_length()
              << " tokens\n"
              << "attention      " << attention_text(c) << "\n"
              << "parameters     " << info.parameters << "\n"
              << "dtype          " << info.weights_dtype << " (computed in float32)\n"
              << "pooling        " << to_string(model.default_pooling())
              << (model.default_normalize() ? ", normalized" : "") << "\n"
              << "head           " << head_text(info.head) << "\n"
              << "isa            " << detail::kernels::selected_isa() << "\n"
              << "oneDNN         " << onednn->major << "." << onednn->minor << "." << onednn->patch
              << "\n"
              << "threads        " << omp_get_num_procs() << "\n";
    return 0;
  };
}

}  // namespace vecformer::cli
