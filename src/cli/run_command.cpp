// `vecformer run`: token ids or text in (file or stdin), hidden states or pooled embeddings out
// (.npy, .jsonl, or JSON Lines on stdout).
#include <omp.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "io/atomic_file.hpp"
#include "io/npy.hpp"
#include "io/token_input.hpp"
#include "vecformer/error.hpp"
#include "vecformer/model.hpp"
#include "vecformer/tokenizer.hpp"

namespace vecformer::cli {

namespace {

// Sequences per encode call: bounds scratch memory on long inputs and paces the progress bar.
constexpr size_t kChunk = 64;

struct RunOptions {
  std::string model;
  std::string input;
  std::string output;
  std::string backend = "optimized";
  std::string dtype = "f32";
  std::string pooling;
  int threads = 0;
  size_t max_length = 0;
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
  std::vector<Sequence> sequences;
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    Sequence s;
    try {
      s.input_ids = tokenizer.encode(line, max_length);
    } catch (const Error& e) {
      throw Error(source + ":" + std::to_string(number) + ": " + e.what());
    }
    if (static_cast<int64_t>(s.input_ids.size()) > model.config().max_length()) {
      throw Error(source + ":" + std::to_string(number) + ": text is " +
                  std::to_string(s.input_ids.size()) + " tokens, more than the model's maximum " +
                  std::to_string(model.config().max_length()) + hint);
    }
    sequences.push_back(std::move(s));
  }
  return sequences;
}

std::vector<Sequence> read_input(const RunOptions& options, const Model& model) {
  Input input(options.input);
  if (options.text) return tokenize_lines(input.stream(), input.name(), model, options);
  return detail::read_token_input(input.stream(), input.name(), model.config(), options.max_length);
}

// The encoded result of every sequence: pooled vectors, or each sequence's own rows of hidden
// states.
struct Result {
  bool pooled = false;
  int64_t hidden = 0;
  std::vector<float> values;     // pooled: [N, hidden]; else the real rows of every sequence
  std::vector<int64_t> lengths;  // tokens per sequence
};

Result encode_all(const Model& model, const std::vector<Sequence>& sequences,
                  const EncodeOptions& options) {
  Result result;
  result.hidden = model.config().hidden_size;
  result.pooled = options.pooling.value_or(model.default_pooling()) != Pooling::none;
  Progress progress(static_cast<int64_t>(sequences.size()), "sequences");
  for (size_t begin = 0; begin < sequences.size(); begin += kChunk) {
    const std::vector<Sequence> chunk(
        sequences.begin() + begin, sequences.begin() + std::min(sequences.size(), begin + kChunk));
    const Tensor out = model.encode(chunk, options);
    if (result.pooled) {
      result.values.insert(result.values.end(), out.data.begin(), out.data.end());
    } else {
      const int64_t padded = out.shape[1];
      for (size_t i = 0; i < chunk.size(); ++i) {
        const auto length = static_cast<int64_t>(chunk[i].input_ids.size());
        const auto first = out.data.begin() + static_cast<int64_t>(i) * padded * result.hidden;
        result.values.insert(result.values.end(), first, first + length * result.hidden);
      }
    }
    for (const Sequence& s : chunk)
      result.lengths.push_back(static_cast<int64_t>(s.input_ids.size()));
    progress.advance(static_cast<int64_t>(begin + chunk.size()));
  }
  return result;
}

// [N, hidden] when pooled, else [N, Lmax, hidden].
std::vector<int64_t> output_shape(const Result& result) {
  const auto n = static_cast<int64_t>(result.lengths.size());
  if (result.pooled) return {n, result.hidden};
  int64_t longest = 0;
  for (int64_t length : result.lengths) longest = std::max(longest, length);
  return {n, longest, result.hidden};
}

Tensor to_tensor(const Result& result) {
  Tensor t;
  t.shape = output_shape(result);
  if (result.pooled) {
    t.data = result.values;
    return t;
  }
  const int64_t n = t.shape[0], longest = t.shape[1];
  t.data.assign(static_cast<size_t>(n * longest * result.hidden), 0.0f);
  int64_t row = 0;
  for (int64_t i = 0; i < n; ++i) {
    std::copy(result.values.begin() + row * result.hidden,
              result.values.begin() + (row + result.lengths[i]) * result.hidden,
              t.data.begin() + i * longest * result.hidden);
    row += result.lengths[i];
  }
  return t;
}

void append_vector(std::string& line, const float* values, int64_t n) {
  line += '[';
  for (int64_t c = 0; c < n; ++c) {
    if (c) line += ", ";
    append_float(line, values[c]);
  }
  line += ']';
}

// One JSON object per sequence: {"embedding": [...]} when pooled, else {"length": L, "hidden":
// [[...]]}.
template <class Sink>
void write_json_lines(const Result& result, Sink&& sink) {
  std::string line;
  int64_t row = 0;
  for (size_t i = 0; i < result.lengths.size(); ++i) {
    line.clear();
    if (result.pooled) {
      line += "{\"embedding\": ";
      append_vector(line, result.values.data() + i * result.hidden, result.hidden);
    } else {
      line += "{\"length\": " + std::to_string(result.lengths[i]) + ", \"hidden\": [";
      for (int64_t t = 0; t < result.lengths[i]; ++t) {
        if (t) line += ", ";
        append_vector(line, result.values.data() + (row + t) * result.hidden, result.hidden);
      }
      line += ']';
      row += result.lengths[i];
    }
    line += "}\n";
    sink(line);
  }
}

void write_output(const RunOptions& options, const Result& result) {
  if (is_stdout(options.output)) {
    write_json_lines(result, [](const std::string& line) { std::cout << line; });
    std::cout.flush();
    if (!std::cout) throw Error("cannot write to standard output");
  } else if (options.output.ends_with(".npy")) {
    detail::write_npy(options.output, to_tensor(result));
  } else {
    detail::AtomicFile file(options.output);
    write_json_lines(result, [&](const std::string& line) { file.write(line); });
    file.commit();
  }
}

int run(const RunOptions& options) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  const Model model = Model::load(options.model, load_options(options.backend, options.dtype));
  const std::vector<Sequence> sequences = read_input(options, model);
  const auto loaded = clock::now();

  EncodeOptions encode;
  encode.threads = options.threads;
  encode.pooling = parse_pooling(options.pooling);
  if (options.normalize || options.no_normalize) encode.normalize = options.normalize;
  const Result result = encode_all(model, sequences, encode);
  const auto encoded = clock::now();
  write_output(options, result);

  if (!options.quiet) {
    using ms = std::chrono::duration<double, std::milli>;
    int64_t tokens = 0;
    for (int64_t length : result.lengths) tokens += length;
    std::string first;
    for (size_t i = 0; i < std::min<size_t>(4, result.values.size()); ++i) {
      if (i) first += ", ";
      append_float(first, result.values[i]);
    }
    const std::string threads =
        model.backend() == BackendKind::reference
            ? "1 thread"
            : std::to_string(options.threads > 0 ? options.threads : omp_get_num_procs()) +
                  " threads";
    std::cerr << "vecformer: " << sequences.size() << " sequences, " << tokens << " tokens -> "
              << (is_stdout(options.output) ? "stdout" : options.output) << " shape "
              << shape_text(output_shape(result)) << (result.pooled ? " (pooled)" : "")
              << "; first values [" << first << "]; load " << ms(loaded - start).count()
              << " ms, encode " << ms(encoded - loaded).count() << " ms (" << options.backend
              << ", " << options.dtype << ", " << threads << ")\n";
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
  cmd->add_flag("--quiet", options->quiet, "Do not print the summary line on stderr");
  return [options] {
    // Before loading anything: a wrong name must not cost a whole encode to find out.
    check_output_path(options->output, {".npy", ".jsonl"});
    return run(*options);
  };
}

}  // namespace vecformer::cli
