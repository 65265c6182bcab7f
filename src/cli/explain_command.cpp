// `vecformer explain`: how one token of a sentence attends to the others in one head, step by step
// with the model's own numbers, plus pictures of every head of the layer. One forward pass runs on
// the chosen backend (Model::capture_attention); the walk-through recomputes that layer's attention
// with the reference ops from the forward's q, k and v and checks it against what the backend
// computed.
#include <iostream>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/explain_report.hpp"
#include "encoder/positional.hpp"
#include "io/atomic_file.hpp"
#include "vecformer/error.hpp"
#include "vecformer/model.hpp"
#include "vecformer/tokenizer.hpp"

namespace vecformer::cli {

namespace {

struct ExplainOptions {
  std::string model = "models/demo";
  std::string text;
  std::string focus;
  int64_t occurrence = 1;
  int64_t layer = 0;
  int64_t head = 0;
  std::string format;
  std::string output;
  std::string backend = "optimized";
  std::string dtype = "f32";
  int threads = 0;
};

// The format an output file's extension names (check_output_path has vetted it).
std::string format_of_extension(const std::string& path) {
  if (path.ends_with(".json")) return "json";
  if (path.ends_with(".svg")) return "svg";
  if (path.ends_with(".html") || path.ends_with(".htm")) return "html";
  return "text";
}

// --format, or from --output's extension, or text on standard output. A file whose extension
// names another format than --format is refused rather than written in the wrong one.
std::string format_of(const ExplainOptions& options) {
  if (is_stdout(options.output)) return options.format.empty() ? "text" : options.format;
  check_output_path(options.output, {".txt", ".json", ".svg", ".html", ".htm"});
  const std::string format = format_of_extension(options.output);
  if (!options.format.empty() && options.format != format) {
    throw UsageError("--format " + options.format + " does not match --output " + options.output +
                     ", a " + format + " file name");
  }
  return format;
}

void check_range(const char* option, int64_t value, int64_t count, const char* what) {
  if (value >= count) {
    throw UsageError(std::string(option) + " " + std::to_string(value) + " is out of range: the " +
                     "model has " + std::to_string(count) + " " + what + ", " + option + " 0 to " +
                     std::to_string(count - 1) + " (counted from 0)");
  }
}

std::string join(const std::vector<int64_t>& values) {
  std::string text;
  for (size_t i = 0; i < values.size(); ++i) {
    text += (i == 0 ? "" : i + 1 == values.size() ? " and " : ", ") + std::to_string(values[i]);
  }
  return text;
}

// What the reader must know about how the focus token was chosen.
std::vector<std::string> focus_notes(const ExplainReport& r) {
  std::vector<std::string> notes;
  const detail::FocusToken& f = r.focus;
  const std::string quoted = "\"" + r.focus_text + "\"";
  if (f.pieces.size() > 1) {
    std::string pieces;
    for (const std::string& p : f.pieces) pieces += (pieces.empty() ? "" : " ") + p;
    notes.push_back(quoted + " is split into " + std::to_string(f.pieces.size()) +
                    " word pieces (" + pieces + "); the first, \"" + f.pieces[0] + "\" (token " +
                    std::to_string(f.index) + "), is the focus token");
  }
  if (f.occurrences.size() > 1) {
    notes.push_back(quoted + " appears " + std::to_string(f.occurrences.size()) +
                    " times (tokens " + join(f.occurrences) + "); occurrence " +
                    std::to_string(f.occurrence) + " (token " + std::to_string(f.index) +
                    ") is used" + (f.occurrence == 1 ? " (--occurrence N picks another)" : ""));
  }
  return notes;
}

ExplainReport explain(const ExplainOptions& options) {
  warn_if_oversubscribed(options.threads);
  const Model model = Model::load(options.model, load_options(options.backend, options.dtype));
  const Config& config = model.config();
  check_range("--layer", options.layer, config.num_hidden_layers, "layers");
  check_range("--head", options.head, config.num_attention_heads, "heads");

  ExplainReport r;
  r.model_folder = options.model;
  r.model_type = model.info().model_type;
  r.layers = config.num_hidden_layers;
  r.heads = config.num_attention_heads;
  r.hidden_size = config.hidden_size;
  r.head_dim = config.head_dim();
  r.backend = options.backend;
  r.dtype = options.dtype;
  r.text = options.text;
  r.focus_text = options.focus;
  r.layer = options.layer;
  r.head = options.head;

  const Tokenizer tokenizer = Tokenizer::load(model.info().transformer_folder);
  r.token_ids = tokenizer.encode(options.text);
  if (static_cast<int64_t>(r.token_ids.size()) > config.max_length()) {
    throw Error("--text is " + std::to_string(r.token_ids.size()) +
                " tokens, more than the model's maximum " + std::to_string(config.max_length()));
  }
  for (int64_t id : r.token_ids) r.tokens.push_back(tokenizer.id_to_token(id));
  r.focus = detail::find_focus(tokenizer, r.token_ids, options.focus, options.occurrence);
  r.notes = focus_notes(r);

  EncodeOptions encode;
  encode.threads = options.threads;
  const AttentionCapture capture =
      model.capture_attention(Sequence{r.token_ids, {}}, options.layer, encode);
  const auto tokens = static_cast<int64_t>(r.token_ids.size());
  // The layer's attention options, as the encoder gives them to its backend.
  const std::vector<float> slopes = config.position_embedding_type == PositionEmbedding::alibi
                                        ? detail::alibi_slopes(r.heads)
                                        : std::vector<float>{};
  const detail::QkvView qkv{capture.qkv.data.data(),
                            tokens,
                            r.heads,
                            r.head_dim,
                            slopes.empty() ? nullptr : slopes.data(),
                            config.layer_is_global(options.layer) ? 0 : config.local_window};

  r.steps = detail::walk_through_attention(qkv, r.head, r.focus.index);
  const std::vector<float> reference = detail::reference_context(qkv);
  const std::span<const float> backend_context(capture.context.data);
  const auto head_slice = [&](std::span<const float> context) {
    return context.subspan(r.focus.index * r.hidden_size + r.head * r.head_dim, r.head_dim);
  };
  const auto row = [&](std::span<const float> context) {
    return context.subspan(r.focus.index * r.hidden_size, r.hidden_size);
  };
  const auto slice = head_slice(backend_context);
  r.backend_attention_value.assign(slice.begin(), slice.end());
  r.walkthrough_vs_reference =
      detail::max_abs_difference(r.steps.attention_value, head_slice(reference));
  r.focus_max_abs_difference = detail::max_abs_difference(row(reference), row(backend_context));
  r.layer_max_abs_difference = detail::max_abs_difference(reference, backend_context);

  for (int64_t h = 0; h < r.heads; ++h) {
    HeadView view;
    view.weights = detail::attention_weights(qkv, h);
    view.summary = detail::summarize_head(view.weights, tokens);
    r.head_views.push_back(std::move(view));
  }
  return r;
}

void write(const ExplainOptions& options, const std::string& document) {
  if (is_stdout(options.output)) {
    std::cout << document;
    if (!document.ends_with('\n')) std::cout << '\n';
    std::cout.flush();
    if (!std::cout) throw Error("cannot write to standard output");
    return;
  }
  detail::AtomicFile file(options.output);
  file.write(document);
  if (!document.ends_with('\n')) file.write("\n");
  file.commit();
}

int run(const ExplainOptions& options) {
  const std::string format = format_of(options);  // before any work
  const ExplainReport report = explain(options);
  if (format == "json") {
    write(options, write_json(report));
  } else if (format == "svg") {
    write(options, write_heatmaps_svg(report));
  } else if (format == "html") {
    write(options, write_html(report));
  } else {
    write(options, write_text(report));
  }
  return 0;
}

}  // namespace

Runner add_explain_command(CLI::App& app) {
  auto options = std::make_shared<ExplainOptions>();
  CLI::App* cmd = app.add_subcommand(
      "explain",
      "Show, step by step with the model's numbers, how one token attends to the others in one "
      "attention head, and picture every head of the layer");
  cmd->add_option("--model", options->model,
                  "Model folder with a vocabulary (vocab.txt or tokenizer.json); default: the "
                  "trained demo model, models/demo in the current folder")
      ->capture_default_str();
  cmd->add_option("--text", options->text, "The sentence")->required();
  cmd->add_option(
         "--focus", options->focus,
         "The word whose attention is explained, tokenized like the text; a word split into "
         "several pieces is explained through its first piece")
      ->required();
  cmd->add_option("--occurrence", options->occurrence,
                  "Which occurrence of the focus word, counted from 1 (default: the first)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  cmd->add_option("--layer", options->layer, "Layer, counted from 0 as in the C++ API (default 0)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 20));
  cmd->add_option("--head", options->head,
                  "Attention head of that layer, counted from 0 (default 0)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 20));
  cmd->add_option("--format", options->format,
                  "text (tables), json (every number, full vectors), svg (every head's heatmap) or "
                  "html (one self-contained page); default: from --output's extension, else text; "
                  "must agree with that extension")
      ->check(CLI::IsMember({"text", "json", "svg", "html"}));
  cmd->add_option("--output", options->output,
                  "Write to FILE.txt, .json, .svg or .html (- or none: standard output)");
  add_engine_options(*cmd, options->backend, options->threads);
  add_dtype_option(*cmd, options->dtype);
  return [options] { return run(*options); };
}

}  // namespace vecformer::cli
