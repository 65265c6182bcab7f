// `vecformer run`: token ids or text in (file or stdin), hidden states or pooled embeddings out
// (.npy, .jsonl, or JSON Lines on stdout).
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "encoder/pooling.hpp"
#include "io/atomic_file.hpp"
#include "io/npy.hpp"
#include "io/token_input.hpp"
#include "vecformer/error.hpp"
#include "vecformer/model.hpp"
#include "vecformer/tokenizer.hpp"

namespace vecformer::cli {

namespace {

// Tokens per encode call, as text-embeddings-inference's max-batch-tokens: enough rows for the
// GEMMs to run at speed, while the workspace (about 6 x hidden + intermediate floats a token: 0.5
// GB for BERT-base) and one batch's output stay bounded however long the input is.
constexpr int64_t kBatchTokens = 16384;

struct RunOptions {
  std::string model;
  std::string input;
  std::string output;
  std::string backend = "optimized";
  std::string dtype = "f32";
  std::string pooling;
  int threads = 0;
  size_t max_length = 0;
  int64_t batch_tokens = kBatchTokens;
  bool text = false;
  bool no_truncate = false;
  bool normalize = false;
  bool no_normalize = false;
  bool quiet = false;
};

std::optional<Pooling> parse_pooling(const std::string& name) {
  if (name.empty()) return std::nullopt;
  if (name == "none") return Pooling::none;
  if (name == "cls") return Pooling::cls;
  if (name == "mean") return Pooling::mean;
  if (name == "max") return Pooling::max;
  return Pooling::mean_sqrt_len;
}

// Text input: one sentence per line (an empty line is the empty text, [CLS] [SEP], as for
// `vecformer tokenize`, so rows stay aligned with lines), tokenized with the model folder's
// vocabulary and, unless --no-truncate, truncated as sentence-transformers does: to --max-length,
// else to the folder's own limit.
std::vector<Sequence> tokenize_lines(std::istream& in, const std::string& source,
                                     const Model& model, const RunOptions& options) {
  const Tokenizer tokenizer = Tokenizer::load(model.info().transformer_folder);
  const size_t max_length = options.max_length > 0 || options.no_truncate
                                ? options.max_length
                                : static_cast<size_t>(model.max_sequence_length());
  // Only a user who did not choose the length can be pointed at the option that chooses it.
  const std::string hint = options.no_truncate      ? " (without --no-truncate, text is truncated)"
                           : options.max_length > 0 ? " (--max-length is above it)"
                                                    : "";
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
  }
  if (in.bad()) throw Error(source + ": read error");
  // Tokenized in parallel (the Tokenizer is immutable), in chunks of lines taken in turn; the first
  // failing line (by number) is the one reported, as when tokenizing in order.
  std::vector<Sequence> sequences(lines.size());
  constexpr size_t chunk = 256;
  const size_t chunks = (lines.size() + chunk - 1) / chunk;
  const int threads = static_cast<int>(
      std::min<size_t>(chunks, static_cast<size_t>(std::max(1, omp_get_max_threads()))));
  size_t failed_line = lines.size();
  std::string failure;
#pragma omp parallel for schedule(dynamic, 1) num_threads(std::max(threads, 1))
  for (size_t c = 0; c < chunks; ++c) {
    for (size_t i = c * chunk; i < std::min(lines.size(), (c + 1) * chunk); ++i) {
      try {
        sequences[i].input_ids = tokenizer.encode(lines[i], max_length);
      } catch (const Error& e) {
#pragma omp critical(vecformer_tokenize_failure)
        if (i < failed_line) {
          failed_line = i;
          failure = e.what();
        }
        break;
      }
    }
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string where = source + ":" + std::to_string(i + 1) + ": ";
    if (i == failed_line) throw Error(where + failure);
    if (static_cast<int64_t>(sequences[i].input_ids.size()) > model.config().max_length()) {
      throw Error(where + "text is " + std::to_string(sequences[i].input_ids.size()) +
                  " tokens, more than the model's maximum " +
                  std::to_string(model.config().max_length()) + hint);
    }
  }
  return sequences;
}

std::vector<Sequence> read_input(const RunOptions& options, const Model& model) {
  Input input(options.input);
  if (options.text) return tokenize_lines(input.stream(), input.name(), model, options);
  return detail::read_token_input(input.stream(), input.name(), model.config(), options.max_length);
}

// Where the rows go, one sequence at a time, as each batch is encoded: nothing holds more than
// one batch's output.
class RowSink {
 public:
  virtual ~RowSink() = default;
  // A sequence's `rows` rows of `hidden` values (pooled: one row).
  virtual void write(const float* values, int64_t rows) = 0;
  virtual void commit() = 0;
};

void append_vector(std::string& line, const float* values, int64_t n) {
  line += '[';
  for (int64_t c = 0; c < n; ++c) {
    if (c) line += ", ";
    append_float(line, values[c]);
  }
  line += ']';
}

// One JSON object per sequence: {"embedding": [...]} when pooled, else {"length": L, "hidden":
// [[...]]}; to a file (renamed into place by commit) or to standard output.
class JsonLinesSink : public RowSink {
 public:
  JsonLinesSink(const std::string& path, bool pooled, int64_t hidden)
      : pooled_(pooled), hidden_(hidden) {
    if (!is_stdout(path)) file_.emplace(path);
  }

  void write(const float* values, int64_t rows) override {
    line_.clear();
    if (pooled_) {
      line_ += "{\"embedding\": ";
      append_vector(line_, values, hidden_);
    } else {
      line_ += "{\"length\": " + std::to_string(rows) + ", \"hidden\": [";
      for (int64_t t = 0; t < rows; ++t) {
        if (t) line_ += ", ";
        append_vector(line_, values + t * hidden_, hidden_);
      }
      line_ += ']';
    }
    line_ += "}\n";
    if (file_) {
      file_->write(line_);
    } else {
      std::cout << line_;
    }
  }

  void commit() override {
    if (file_) {
      file_->commit();
      return;
    }
    std::cout.flush();
    if (!std::cout) throw Error("cannot write to standard output");
  }

 private:
  bool pooled_;
  int64_t hidden_;
  std::optional<detail::AtomicFile> file_;
  std::string line_;
};

// [N, hidden] when pooled, else [N, Lmax, hidden] with zero rows past each sequence's end.
class NpySink : public RowSink {
 public:
  NpySink(const std::string& path, const std::vector<int64_t>& shape)
      : file_(path, shape), padded_rows_(shape.size() == 3 ? shape[1] : 1), hidden_(shape.back()) {}

  void write(const float* values, int64_t rows) override {
    file_.write(values, static_cast<size_t>(rows * hidden_));
    file_.write_zeros(static_cast<size_t>((padded_rows_ - rows) * hidden_));
  }
  void commit() override { file_.commit(); }

 private:
  detail::NpyWriter file_;
  int64_t padded_rows_;
  int64_t hidden_;
};

// [N, hidden] when pooled, else [N, Lmax, hidden]: known from the token counts before encoding,
// so the .npy header can go first.
std::vector<int64_t> output_shape(const std::vector<Sequence>& sequences, bool pooled,
                                  int64_t hidden) {
  const auto n = static_cast<int64_t>(sequences.size());
  if (pooled) return {n, hidden};
  int64_t longest = 0;
  for (const Sequence& s : sequences)
    longest = std::max(longest, static_cast<int64_t>(s.input_ids.size()));
  return {n, longest, hidden};
}

std::unique_ptr<RowSink> open_sink(const std::string& path, const std::vector<int64_t>& shape,
                                   bool pooled) {
  if (path.ends_with(".npy")) return std::make_unique<NpySink>(path, shape);
  return std::make_unique<JsonLinesSink>(path, pooled, shape.back());
}

// Consecutive sequences of at most `budget` tokens in all (a longer sequence is a batch alone):
// the end index of each batch. Encoding packs real tokens only, so the budget bounds both the
// workspace and the batch's output.
std::vector<size_t> batch_ends(const std::vector<Sequence>& sequences, int64_t budget) {
  std::vector<size_t> ends;
  int64_t tokens = 0;
  for (size_t i = 0; i < sequences.size(); ++i) {
    const auto length = static_cast<int64_t>(sequences[i].input_ids.size());
    if (tokens > 0 && tokens + length > budget) {
      ends.push_back(i);
      tokens = 0;
    }
    tokens += length;
  }
  if (!sequences.empty()) ends.push_back(sequences.size());
  return ends;
}

// Encodes the sequences batch by batch, each sequence's rows going to `sink` in input order. A
// sequence's result does not depend on the others in its batch (attention runs per sequence,
// everything else per token), so the batches give the bits one call over everything would.
// Returns the first values written, for the summary line.
std::vector<float> encode_to(RowSink& sink, const Model& model, std::vector<Sequence> sequences,
                             const EncodeOptions& options, bool pooled, int64_t batch_tokens) {
  const int64_t hidden = model.config().hidden_size;
  // Model::encode's rule (see EncodeOptions::normalize), applied here to unpadded rows.
  const bool normalize = !pooled && options.normalize.value_or(false);
  std::vector<float> first;
  Progress progress(static_cast<int64_t>(sequences.size()), "sequences");
  size_t begin = 0;
  for (const size_t end : batch_ends(sequences, batch_tokens)) {
    // Moved out, so the token ids of finished batches are freed as the output grows.
    const std::vector<Sequence> batch(std::make_move_iterator(sequences.begin() + begin),
                                      std::make_move_iterator(sequences.begin() + end));
    if (pooled) {
      const Tensor out = model.encode(batch, options);
      for (size_t i = 0; i < batch.size(); ++i) sink.write(out.data.data() + i * hidden, 1);
      if (first.empty())
        first.assign(out.data.begin(), out.data.begin() + std::min<int64_t>(4, hidden));
    } else {
      PackedOutput out = model.encode_packed(batch, options);
      if (normalize) detail::l2_normalize(out.hidden.data.data(), out.hidden.shape[0], hidden);
      for (size_t i = 0; i < batch.size(); ++i) {
        sink.write(out.hidden.data.data() + out.offsets[i] * hidden,
                   out.offsets[i + 1] - out.offsets[i]);
      }
      if (first.empty()) {
        first.assign(out.hidden.data.begin(),
                     out.hidden.data.begin() + std::min<int64_t>(4, hidden));
      }
    }
    begin = end;
    progress.advance(static_cast<int64_t>(end));
  }
  sink.commit();
  return first;
}

int run(const RunOptions& options) {
  warn_if_oversubscribed(options.threads);
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  const Model model = Model::load(options.model, load_options(options.backend, options.dtype));
  std::vector<Sequence> sequences = read_input(options, model);
  const auto loaded = clock::now();

  EncodeOptions encode;
  encode.threads = options.threads;
  encode.pooling = parse_pooling(options.pooling);
  if (options.normalize || options.no_normalize) encode.normalize = options.normalize;
  const bool pooled = encode.pooling.value_or(model.default_pooling()) != Pooling::none;
  const std::vector<int64_t> shape = output_shape(sequences, pooled, model.config().hidden_size);
  const auto count = static_cast<int64_t>(sequences.size());
  int64_t tokens = 0;
  for (const Sequence& s : sequences) tokens += static_cast<int64_t>(s.input_ids.size());

  const std::unique_ptr<RowSink> sink = open_sink(options.output, shape, pooled);
  const std::vector<float> values =
      encode_to(*sink, model, std::move(sequences), encode, pooled, options.batch_tokens);
  const auto encoded = clock::now();

  if (!options.quiet) {
    using ms = std::chrono::duration<double, std::milli>;
    std::string first;
    for (size_t i = 0; i < values.size(); ++i) {
      if (i) first += ", ";
      append_float(first, values[i]);
    }
    const int threads = model.backend() == BackendKind::reference ? 1
                        : options.threads > 0                     ? options.threads
                                                                  : omp_get_num_procs();
    std::cerr << "vecformer: " << count_text(count, "sequence") << ", "
              << count_text(tokens, "token") << " -> "
              << (is_stdout(options.output) ? "stdout" : options.output) << " shape "
              << shape_text(shape) << (pooled ? " (pooled)" : "") << "; first values [" << first
              << "]; load " << ms(loaded - start).count() << " ms, encode "
              << ms(encoded - loaded).count() << " ms (" << options.backend << ", " << options.dtype
              << ", " << count_text(threads, "thread") << ")\n";
  }
  return 0;
}

}  // namespace

Runner add_run_command(CLI::App& app) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand(
      "run", "Encode token ids (or text) and write hidden states or pooled embeddings");
  cmd->add_option("--model", options->model,
                  "Model folder: Hugging Face (config.json + model.safetensors) or "
                  "sentence-transformers")
      ->required();
  cmd->add_option("--input", options->input,
                  "One sequence per line: token ids separated by spaces, a JSON object with "
                  "input_ids and token_type_ids, or text with --text; - for stdin")
      ->required();
  cmd->add_flag("--text", options->text,
                "Input lines are text, tokenized with the model's vocabulary");
  CLI::Option* max_length =
      cmd->add_option(
             "--max-length", options->max_length,
             "Truncate to N tokens including [CLS] and [SEP]: token-id input keeps its first "
             "N-1 ids and its last; --text defaults to the folder's limit "
             "(sentence_bert_config.json's max_seq_length, else tokenizer_config.json's "
             "model_max_length, else the position table)")
          ->check(CLI::Range(2, 1 << 20));
  cmd->add_flag("--no-truncate", options->no_truncate,
                "With --text: fail on a line longer than the model's position table instead of "
                "truncating it")
      ->excludes(max_length);
  cmd->add_option("--output", options->output,
                  "Write to FILE.npy (float32, [N, Lmax, hidden] or pooled [N, hidden]) or "
                  "FILE.jsonl; - or none: JSON Lines on stdout");
  add_engine_options(*cmd, options->backend, options->threads);
  add_dtype_option(*cmd, options->dtype);
  cmd->add_option("--pooling", options->pooling,
                  "none, cls, mean, max or mean_sqrt_len (default: the folder's "
                  "sentence-transformers pooling, else none)")
      ->check(CLI::IsMember({"none", "cls", "mean", "max", "mean_sqrt_len"}));
  CLI::Option* normalize =
      cmd->add_flag("--normalize", options->normalize,
                    "L2-normalize each output vector (default: when the folder has a "
                    "sentence-transformers Normalize module and the output is pooled)");
  cmd->add_flag("--no-normalize", options->no_normalize,
                "Do not L2-normalize, even when the folder has a Normalize module")
      ->excludes(normalize);
  cmd->add_option("--batch-tokens", options->batch_tokens,
                  "Tokens per encode call: bounds memory however long the input is; rows are "
                  "written as each batch finishes (results do not depend on it)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 24));
  cmd->add_flag("--quiet", options->quiet, "Do not print the summary line on stderr");
  return [options] {
    // Before loading anything: a wrong name must not cost a whole encode to find out.
    check_output_path(options->output, {".npy", ".jsonl"});
    return run(*options);
  };
}

}  // namespace vecformer::cli
