// `vecformer rerank`: a cross-encoder (a one-label sequence-classification head) scores every
// (query, document) pair; documents come out sorted by score, highest first.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <numeric>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/head_common.hpp"
#include "heads/scoring.hpp"
#include "io/printable.hpp"

namespace vecformer::cli {

namespace {

struct RerankOptions {
  HeadOptions head;
  std::string query;
  bool raw_scores = false;
};

int rerank(const RerankOptions& o) {
  const HeadOptions& options = o.head;
  warn_if_oversubscribed(options.threads);
  const auto start = std::chrono::steady_clock::now();
  const Model model = load_head_model(options, HeadKind::sequence_classification);
  const std::vector<std::string>& labels = model.info().head.labels;
  if (labels.size() != 1) {
    std::string names;
    for (const std::string& l : labels) names += (names.empty() ? "" : ", ") + l;
    throw Error(options.model +
                ": rerank needs a cross-encoder, a sequence-classification head "
                "with one label; this one has " +
                std::to_string(labels.size()) + " (" + names + ")");
  }
  const Tokenizer tokenizer = load_tokenizer(model);
  if (tokenizer.tokenize(o.query).empty()) {
    throw Error("--query \"" + detail::printable(o.query) + "\" tokenizes to no tokens");
  }
  // Every document is the pair (query, document), tokenized as the model saw pairs in training.
  const size_t max_length = text_max_length(options, model);
  const std::string source = options.input == "-" ? "<stdin>" : options.input;
  std::vector<InputLine> lines;
  {
    Input input(options.input);
    std::string text;
    for (int64_t number = 1; std::getline(input.stream(), text); ++number) {
      if (!text.empty() && text.back() == '\r') text.pop_back();
      try {
        lines.push_back(encode_text(tokenizer, model, o.query, text, max_length));
      } catch (const Error& e) {
        throw Error(input.name() + ":" + std::to_string(number) + ": " + e.what());
      }
    }
  }

  EncodeOptions encode;
  encode.threads = options.threads;
  std::vector<float> logits;
  size_t begin = 0;
  for (const size_t end : line_batches(lines)) {
    const LabelScores result = model.classify(sequences_of(lines, begin, end), encode);
    logits.insert(logits.end(), result.logits.data.begin(), result.logits.data.end());
    begin = end;
  }
  // The cross-encoder's score, as sentence-transformers' CrossEncoder gives it: the sigmoid.
  std::vector<float> scores = logits;
  if (!o.raw_scores) {
    detail::sigmoid(logits.data(), static_cast<int64_t>(logits.size()), scores.data());
  }
  std::vector<size_t> order(logits.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  JsonLinesOutput output(options.output);
  for (const size_t i : order) {
    std::string line = "{\"index\": " + std::to_string(i) + ", \"score\": ";
    append_float(line, scores[i]);
    line += ", \"logit\": ";
    append_float(line, logits[i]);
    line += '}';
    output.add(std::move(line));
  }
  output.commit();
  head_summary(
      options, "rerank", lines.size(),
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  return 0;
}

}  // namespace

Runner add_rerank_command(CLI::App& app) {
  auto o = std::make_shared<RerankOptions>();
  CLI::App* cmd = app.add_subcommand(
      "rerank", "Score documents against a query with a cross-encoder, highest first");
  add_head_options(*cmd, o->head, /*text_flag=*/false);
  cmd->add_option("--query", o->query, "The query text")->required();
  cmd->add_flag("--raw-scores", o->raw_scores, "Score by the logit instead of its sigmoid");
  return [o] {
    check_output_path(o->head.output, {".jsonl"});
    return rerank(*o);
  };
}

}  // namespace vecformer::cli
