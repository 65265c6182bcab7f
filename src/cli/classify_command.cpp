// `vecformer classify`: a sequence-classification head (sentiment, topic, NLI) on every input line:
// {"label", "score", "scores": {label: p}, "logits": [...]} per line, in input order.
#include <algorithm>
#include <chrono>
#include <memory>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/head_common.hpp"

namespace vecformer::cli {

namespace {

int classify(const HeadOptions& options) {
  warn_if_oversubscribed(options.threads);
  const auto start = std::chrono::steady_clock::now();
  const Model model = load_head_model(options, HeadKind::sequence_classification);
  std::optional<Tokenizer> tokenizer;
  if (options.text) tokenizer.emplace(load_tokenizer(model));
  const std::vector<InputLine> lines =
      read_input_lines(options, model, tokenizer ? &*tokenizer : nullptr, /*pairs=*/true);
  const std::vector<std::string>& labels = model.info().head.labels;
  const auto count = static_cast<int64_t>(labels.size());

  EncodeOptions encode;
  encode.threads = options.threads;
  JsonLinesOutput output(options.output);
  size_t begin = 0;
  for (const size_t end : line_batches(lines)) {
    const LabelScores result = model.classify(sequences_of(lines, begin, end), encode);
    for (size_t i = 0; i < end - begin; ++i) {
      const float* scores = result.scores.data.data() + i * count;
      const float* logits = result.logits.data.data() + i * count;
      const auto best = std::max_element(scores, scores + count) - scores;
      std::string line = "{\"label\": " + json_string(labels[best]) + ", \"score\": ";
      append_float(line, scores[best]);
      line += ", \"scores\": {";
      for (int64_t l = 0; l < count; ++l) {
        if (l) line += ", ";
        line += json_string(labels[l]) + ": ";
        append_float(line, scores[l]);
      }
      line += "}, \"logits\": ";
      append_floats(line, logits, count);
      line += '}';
      output.add(std::move(line));
    }
    begin = end;
  }
  output.commit();
  head_summary(
      options, "classify", lines.size(),
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  return 0;
}

}  // namespace

Runner add_classify_command(CLI::App& app) {
  auto options = std::make_shared<HeadOptions>();
  CLI::App* cmd = app.add_subcommand(
      "classify", "Run a sequence-classification head: a label and scores per input line");
  add_head_options(*cmd, *options, /*text_flag=*/true);
  cmd->get_option("--text")->description(
      "Input lines are text, tokenized with the model's tokenizer; a line holding a TAB is a pair "
      "(text TAB text_pair), tokenized as the tokenizer pairs texts, truncated longest_first");
  return [options] {
    check_output_path(options->output, {".jsonl"});
    return classify(*options);
  };
}

}  // namespace vecformer::cli
