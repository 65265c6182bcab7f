// `vecformer fill-mask`: a masked-LM head at every mask token of each line: {"masks": [{"position",
// "predictions": [{"token_id", "token", "score"}, ...]}, ...]}, the decoder run on the mask rows
// only.
#include <chrono>
#include <memory>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/head_common.hpp"

namespace vecformer::cli {

namespace {

struct FillMaskOptions {
  HeadOptions head;
  int64_t top_k = 5;
};

// The mask token of the folder's tokenizer ([MASK] for BERT vocabularies, <mask> for RoBERTa's).
std::pair<std::string, int64_t> mask_token(const Tokenizer& tokenizer, const std::string& model) {
  const Tokenizer::Special mask = tokenizer.mask_token();
  if (mask.id < 0) throw Error(model + ": the tokenizer has no mask token ([MASK] or <mask>)");
  return {mask.token, mask.id};
}

int fill_mask(const FillMaskOptions& o) {
  const HeadOptions& options = o.head;
  warn_if_oversubscribed(options.threads);
  const auto start = std::chrono::steady_clock::now();
  const Model model = load_head_model(options, HeadKind::masked_lm);
  const Tokenizer tokenizer = load_tokenizer(model);
  const auto [mask, mask_id] = mask_token(tokenizer, options.model);
  const std::vector<InputLine> lines = read_input_lines(options, model, &tokenizer, false);
  const std::string source = options.input == "-" ? "<stdin>" : options.input;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::vector<int64_t>& ids = lines[i].sequence.input_ids;
    if (std::find(ids.begin(), ids.end(), mask_id) == ids.end()) {
      throw Error(source + ":" + std::to_string(i + 1) + ": no mask token " + mask + " (id " +
                  std::to_string(mask_id) + ") in the line" + (options.text ? "" : "'s token ids"));
    }
  }

  EncodeOptions encode;
  encode.threads = options.threads;
  JsonLinesOutput output(options.output);
  size_t begin = 0;
  for (const size_t end : line_batches(lines)) {
    std::vector<TokenPosition> positions;
    for (size_t i = begin; i < end; ++i) {
      const std::vector<int64_t>& ids = lines[i].sequence.input_ids;
      for (size_t t = 0; t < ids.size(); ++t) {
        if (ids[t] == mask_id) {
          positions.push_back({static_cast<int64_t>(i - begin), static_cast<int64_t>(t)});
        }
      }
    }
    const Tensor logits =
        model.masked_lm_logits(sequences_of(lines, begin, end), positions, encode);
    const auto predictions = top_predictions(logits, o.top_k);
    size_t p = 0;
    for (size_t i = begin; i < end; ++i) {
      std::string line = "{\"masks\": [";
      bool first = true;
      for (; p < positions.size() && positions[p].sequence == static_cast<int64_t>(i - begin);
           ++p) {
        line += first ? "" : ", ";
        first = false;
        line += "{\"position\": " + std::to_string(positions[p].position) + ", \"predictions\": [";
        for (size_t k = 0; k < predictions[p].size(); ++k) {
          const TokenPrediction& prediction = predictions[p][k];
          if (k) line += ", ";
          line += "{\"token_id\": " + std::to_string(prediction.token_id) + ", \"token\": " +
                  json_string(static_cast<size_t>(prediction.token_id) < tokenizer.vocab_size()
                                  ? tokenizer.id_to_token(prediction.token_id)
                                  : std::string()) +
                  ", \"score\": ";
          append_float(line, prediction.score);
          line += '}';
        }
        line += "]}";
      }
      line += "]}";
      output.add(std::move(line));
    }
    begin = end;
  }
  output.commit();
  head_summary(
      options, "fill-mask", lines.size(),
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  return 0;
}

}  // namespace

Runner add_fill_mask_command(CLI::App& app) {
  auto o = std::make_shared<FillMaskOptions>();
  CLI::App* cmd = app.add_subcommand(
      "fill-mask", "Run a masked-LM head: the likeliest tokens at each [MASK] / <mask> of a line");
  add_head_options(*cmd, o->head, /*text_flag=*/true);
  cmd->add_option("--top-k", o->top_k, "Predictions per mask token")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 24))
      ->capture_default_str();
  return [o] {
    check_output_path(o->head.output, {".jsonl"});
    return fill_mask(*o);
  };
}

}  // namespace vecformer::cli
