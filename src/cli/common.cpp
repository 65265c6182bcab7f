#include "cli/common.hpp"

#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "vecformer/error.hpp"

namespace vecformer::cli {

void add_engine_options(CLI::App& command, std::string& backend, int& threads) {
  command
      .add_option("--backend", backend, "reference (plain loops, the specification) or optimized")
      ->check(CLI::IsMember({"reference", "optimized"}));
  command
      .add_option("--threads", threads,
                  "Threads (default: every core, " + std::to_string(omp_get_num_procs()) +
                      " here; more than that only slows the run down)")
      ->check(CLI::Range(1, 1024));
}

void warn_if_oversubscribed(int threads) {
  const int cores = omp_get_num_procs();
  if (threads <= cores) return;
  std::cerr << "vecformer: warning: --threads " << threads << " is more than the "
            << count_text(cores, "core") << " of this machine; the extra threads only wait for "
            << "each other and slow the run down (default: one per core)\n";
}

BackendKind parse_backend(const std::string& name) {
  return name == "reference" ? BackendKind::reference : BackendKind::optimized;
}

Input::Input(const std::string& path) : in_(&std::cin), name_(path == "-" ? "<stdin>" : path) {
  if (path == "-") return;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw Error(path + ": is a directory, not an input file");
  }
  file_.open(path, std::ios::binary);
  if (!file_) throw Error(path + ": cannot open input file");
  in_ = &file_;
}

void add_dtype_option(CLI::App& command, std::string& dtype) {
  command
      .add_option("--dtype", dtype,
                  "f32, bf16 or int8 (the last two on the optimized backend: bfloat16 GEMMs, or "
                  "8-bit weights and per-token 8-bit inputs)")
      ->check(CLI::IsMember({"f32", "bf16", "int8"}));
}

ComputeType parse_dtype(const std::string& name) {
  if (name == "bf16") return ComputeType::bf16;
  return name == "int8" ? ComputeType::int8 : ComputeType::f32;
}

std::string count_text(int64_t count, std::string_view singular) {
  return std::to_string(count) + " " + std::string(singular) + (count == 1 ? "" : "s");
}

LoadOptions load_options(const std::string& backend, const std::string& dtype) {
  LoadOptions options;
  options.backend = parse_backend(backend);
  options.dtype = parse_dtype(dtype);
  if (options.backend == BackendKind::reference && options.dtype != ComputeType::f32) {
    throw UsageError("--dtype " + dtype +
                     " needs --backend optimized (the reference backend computes in float32 only)");
  }
  return options;
}

bool is_stdout(const std::string& path) {
  return path.empty() || path == "-";
}

void check_output_path(const std::string& path,
                       std::initializer_list<std::string_view> extensions) {
  if (is_stdout(path)) return;
  const std::filesystem::path target(path);
  const std::string extension = target.extension().string();
  if (std::find(extensions.begin(), extensions.end(), extension) == extensions.end()) {
    std::string known;
    for (std::string_view e : extensions) known += (known.empty() ? "" : ", ") + std::string(e);
    throw UsageError(path + ": unsupported output format (use a file name ending in " + known +
                     ", or - for standard output)");
  }
  std::error_code ec;
  if (std::filesystem::is_directory(target, ec)) {
    throw Error(path + ": is a directory, not an output file");
  }
  const std::filesystem::path folder =
      target.parent_path().empty() ? std::filesystem::path(".") : target.parent_path();
  if (!std::filesystem::is_directory(folder, ec)) {
    throw Error(path + ": output folder " + folder.string() + " does not exist");
  }
  // The output is written to a temporary file in that folder and renamed at the end.
  if (::access(folder.c_str(), W_OK | X_OK) != 0) {
    throw Error(path + ": output folder " + folder.string() + " is not writable");
  }
}

void append_float(std::string& out, float value) {
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

Progress::Progress(int64_t total, const char* what)
    : total_(total), what_(what), enabled_(::isatty(STDERR_FILENO) == 1 && total >= 256) {}

Progress::~Progress() {
  if (enabled_) std::fprintf(stderr, "\r\033[K");
}

void Progress::advance(int64_t done) {
  if (!enabled_) return;
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(kWidth * done / std::max<int64_t>(total_, 1));
  std::string bar(filled, '#');
  bar.resize(kWidth, '.');
  std::fprintf(stderr, "\r[%s] %lld/%lld %s", bar.c_str(), static_cast<long long>(done),
               static_cast<long long>(total_), what_);
  std::fflush(stderr);
}

}  // namespace vecformer::cli
