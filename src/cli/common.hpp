#pragma once

// Pieces shared by the subcommands: option parsing helpers, number formatting, progress reporting.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <fstream>
#include <initializer_list>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "vecformer/error.hpp"
#include "vecformer/model.hpp"

namespace vecformer::cli {

// The command line itself is wrong (exit 2, as for a parse error) in a way only the command can
// tell: options that do not go together, or a value the loaded model rejects. Problems with the
// inputs or files the command line names stay vecformer::Error (exit 1).
class UsageError : public Error {
 public:
  using Error::Error;
};

// Adds --backend (reference|optimized) and --threads (1..1024; default: every core) to a
// subcommand.
void add_engine_options(CLI::App& command, std::string& backend, int& threads);
BackendKind parse_backend(const std::string& name);
// Adds --dtype (f32|bf16|int8) to a subcommand.
void add_dtype_option(CLI::App& command, std::string& dtype);
ComputeType parse_dtype(const std::string& name);
// One warning line on stderr when --threads asks for more threads than the machine has cores: the
// extra OpenMP threads only wait for each other (a 4.8 ms encode once took 455 ms).
void warn_if_oversubscribed(int threads);
// --backend and --dtype as LoadOptions; UsageError for a pair the backend cannot run.
LoadOptions load_options(const std::string& backend, const std::string& dtype);

// "-" (or no --output at all) is standard output.
bool is_stdout(const std::string& path);
// Checks an --output path before any work: its extension is one of `extensions` (UsageError), and
// it names a file in an existing, writable folder (Error). Standard output passes.
void check_output_path(const std::string& path, std::initializer_list<std::string_view> extensions);

// "1 sequence", "2 sequences": `singular` with an s unless count is 1.
std::string count_text(int64_t count, std::string_view singular);

// The shortest decimal text that reads back as the same float.
void append_float(std::string& out, float value);
std::string shape_text(const std::vector<int64_t>& shape);

// A subcommand's --input: the named file, or standard input for "-". Errors name the file.
class Input {
 public:
  explicit Input(const std::string& path);
  Input(const Input&) = delete;
  Input& operator=(const Input&) = delete;

  std::istream& stream() { return *in_; }
  // How error messages name the input: the path, or "<stdin>".
  const std::string& name() const { return name_; }

 private:
  std::ifstream file_;
  std::istream* in_;
  std::string name_;
};

// A progress bar on stderr, drawn only when stderr is a terminal and the work is long enough to
// matter.
class Progress {
 public:
  Progress(int64_t total, const char* what);
  ~Progress();
  void advance(int64_t done);

 private:
  int64_t total_;
  const char* what_;
  bool enabled_;
};

}  // namespace vecformer::cli
