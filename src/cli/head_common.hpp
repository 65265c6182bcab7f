#pragma once

// What the task-head subcommands (classify, tag, rerank, fill-mask) share: `run`'s engine options,
// loading a model with the head the command needs, input lines (token ids or text with offsets),
// and JSON Lines output written only once every line has its result.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "io/atomic_file.hpp"
#include "vecformer/model.hpp"
#include "vecformer/tokenizer.hpp"

namespace vecformer::cli {

struct HeadOptions {
  std::string model;
  std::string input;
  std::string output;
  std::string backend = "optimized";
  std::string dtype = "f32";
  int threads = 0;
  size_t max_length = 0;
  bool text = false;
  bool quiet = false;
};

// --model, --input (unless `input` is false), --output, --backend, --dtype, --threads,
// --max-length, --quiet, and --text when `text_flag`.
void add_head_options(CLI::App& command, HeadOptions& options, bool text_flag, bool input = true);

// The model with its head; "DIR has no <kind> head (architectures: ...)" when config.json names
// another one.
Model load_head_model(const HeadOptions& options, HeadKind kind);

// The folder's tokenizer; errors name the folder.
Tokenizer load_tokenizer(const Model& model);

// One input line as the head commands read it.
struct InputLine {
  Sequence sequence;
  // Text input only: the line's text (its first text for a pair), each token's vocabulary string,
  // [start, end) in code points of the text it came from ((0, 0) for special tokens), whether it
  // is a special token, and its word index (-1 for special tokens).
  std::string text;
  std::vector<std::string> tokens;
  std::vector<std::pair<size_t, size_t>> offsets;
  std::vector<uint8_t> special;
  std::vector<int64_t> word_ids;
};

// Text truncation length: --max-length, else the folder's limit.
size_t text_max_length(const HeadOptions& options, const Model& model);

// Every line of --input, each validated (token ids against the config, text tokenized) before any
// work: an error names the input and the line. With `pairs`, a text line holding a TAB is a pair.
std::vector<InputLine> read_input_lines(const HeadOptions& options, const Model& model,
                                        const Tokenizer* tokenizer, bool pairs);

// A text, or a pair of texts, tokenized for the model, truncated longest_first to max_length.
InputLine encode_text(const Tokenizer& tokenizer, const Model& model, std::string_view text,
                      std::optional<std::string_view> pair, size_t max_length);

// Consecutive lines of at most `budget` tokens in all (a longer line is a batch alone): the end
// index of each batch.
std::vector<size_t> line_batches(const std::vector<InputLine>& lines, int64_t budget = 16384);
std::vector<Sequence> sequences_of(const std::vector<InputLine>& lines, size_t begin, size_t end);

// JSON Lines kept until commit(): then written to the --output file atomically, or to stdout, so
// that a failure leaves no partial output.
class JsonLinesOutput {
 public:
  explicit JsonLinesOutput(const std::string& path);
  void add(std::string line);
  void commit();
  size_t lines() const { return lines_.size(); }

 private:
  std::string path_;
  std::vector<std::string> lines_;
};

std::string json_string(std::string_view text);
void append_floats(std::string& out, const float* values, int64_t n);

// The one summary line on stderr (unless --quiet).
void head_summary(const HeadOptions& options, std::string_view what, size_t lines, double ms);

}  // namespace vecformer::cli
