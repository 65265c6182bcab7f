// `vecformer run`: token ids in (file or stdin), last hidden states out (.npy or JSON Lines on stdout).
#include <omp.h>

#include <charconv>
#include <chrono>
#include <fstream>
#include <iostream>
#include <string>

#include "cli/commands.hpp"
#include "io/npy.hpp"
#include "io/token_input.hpp"
#include "vecformer/error.hpp"
#include "vecformer/model.hpp"

namespace vecformer::cli {

namespace {

struct RunOptions {
  std::string model;
  std::string input;
  std::string output;
  std::string backend = "optimized";
  int threads = 0;
  bool quiet = false;
};

std::vector<Sequence> read_input(const std::string& input, const Config& config) {
  if (input == "-") return detail::read_token_input(std::cin, "<stdin>", config);
  std::ifstream file(input, std::ios::binary);
  if (!file) throw Error(input + ": cannot open input file");
  return detail::read_token_input(file, input, config);
}

void append_float(std::string& out, float value) {
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

// One JSON object per sequence: {"length": L, "hidden": [[...], ...]}, floats in shortest round-trip form.
void write_json_lines(std::ostream& out, const PackedOutput& packed, int64_t hidden) {
  std::string line;
  for (size_t i = 0; i + 1 < packed.offsets.size(); ++i) {
    line.clear();
    line += "{\"length\": " + std::to_string(packed.offsets[i + 1] - packed.offsets[i]) +
            ", \"hidden\": [";
    for (int64_t t = packed.offsets[i]; t < packed.offsets[i + 1]; ++t) {
      if (t != packed.offsets[i]) line += ", ";
      line += '[';
      for (int64_t c = 0; c < hidden; ++c) {
        if (c) line += ", ";
        append_float(line, packed.hidden.data[t * hidden + c]);
      }
      line += ']';
    }
    line += "]}\n";
    out << line;
  }
  out.flush();
  if (!out) throw Error("cannot write to standard output");
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

int run(const RunOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  LoadOptions load;
  load.backend = options.backend == "reference" ? BackendKind::reference : BackendKind::optimized;
  const Model model = Model::load(options.model, load);
  const std::vector<Sequence> sequences = read_input(options.input, model.config());
  const auto loaded = std::chrono::steady_clock::now();

  EncodeOptions encode;
  encode.threads = options.threads;
  std::vector<int64_t> shape;
  std::vector<float> first_values;
  int64_t tokens = 0;
  std::chrono::steady_clock::time_point encoded;
  if (options.output.empty()) {
    const PackedOutput packed = model.encode_packed(sequences, encode);
    encoded = std::chrono::steady_clock::now();
    write_json_lines(std::cout, packed, model.config().hidden_size);
    shape = packed.hidden.shape;
    tokens = packed.hidden.shape[0];
    first_values.assign(packed.hidden.data.begin(),
                        packed.hidden.data.begin() + std::min<size_t>(4, packed.hidden.data.size()));
  } else {
    const Tensor padded = model.encode(sequences, encode);
    encoded = std::chrono::steady_clock::now();
    detail::write_npy(options.output, padded);
    shape = padded.shape;
    for (const Sequence& s : sequences) tokens += static_cast<int64_t>(s.input_ids.size());
    first_values.assign(padded.data.begin(),
                        padded.data.begin() + std::min<size_t>(4, padded.data.size()));
  }

  if (!options.quiet) {
    using ms = std::chrono::duration<double, std::milli>;
    std::string first;
    for (float v : first_values) {
      if (!first.empty()) first += ", ";
      append_float(first, v);
    }
    std::cerr << "vecformer: " << sequences.size() << " sequences, " << tokens << " tokens -> "
              << (options.output.empty() ? "stdout (packed " : options.output + " (") << "shape "
              << shape_text(shape) << "); first values [" << first << "]; load "
              << ms(loaded - start).count() << " ms, encode " << ms(encoded - loaded).count()
              << " ms (" << options.backend << ", "
              << (options.threads > 0 ? options.threads : omp_get_num_procs()) << " threads)\n";
  }
  return 0;
}

}  // namespace

Runner add_run_command(CLI::App& app) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* run_app = app.add_subcommand("run", "Encode token ids and write the last hidden states");
  run_app->add_option("--model", options->model, "Model folder (config.json + model.safetensors)")
      ->required();
  run_app
      ->add_option("--input", options->input,
                   "Token ids: one sequence per line (ids separated by spaces, or a JSON object "
                   "with input_ids and token_type_ids); - for stdin")
      ->required();
  run_app->add_option("--output", options->output,
                      "Write float32 [N, Lmax, hidden] to this .npy file (default: JSON Lines on "
                      "stdout)");
  run_app->add_option("--backend", options->backend, "reference or optimized")
      ->check(CLI::IsMember({"reference", "optimized"}));
  run_app->add_option("--threads", options->threads, "Threads (default: every core)")
      ->check(CLI::Range(1, 1024));
  run_app->add_flag("--quiet", options->quiet, "Do not print the summary line on stderr");
  return [options] {
    if (!options->output.empty() && !options->output.ends_with(".npy")) {
      throw Error(options->output + ": unsupported output format (use a .npy file name)");
    }
    return run(*options);
  };
}

}  // namespace vecformer::cli
