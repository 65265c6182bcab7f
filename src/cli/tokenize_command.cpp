// `vecformer tokenize`: text in (file or stdin), one line of token ids out per input line, in the
// format `vecformer run --input` reads.
#include <charconv>
#include <fstream>
#include <iostream>
#include <string>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "vecformer/error.hpp"
#include "vecformer/tokenizer.hpp"

namespace vecformer::cli {

namespace {

struct TokenizeOptions {
  std::string model;
  std::string input;
  size_t max_length = 0;
};

void append_ids(std::string& out, const std::vector<int64_t>& ids) {
  char buffer[24];
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ' ';
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, ids[i]);
    out.append(buffer, result.ptr);
  }
  out += '\n';
}

// Every input line gives exactly one output line, so outputs stay aligned with inputs: an empty
// line gives "[CLS] [SEP]", as Hugging Face does for an empty text.
void tokenize_stream(std::istream& in, const std::string& source, const Tokenizer& tokenizer,
                     size_t max_length) {
  constexpr size_t flush_bytes = size_t{1} << 16;
  std::string out;
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();  // CRLF files
    try {
      append_ids(out, tokenizer.encode(line, max_length));
    } catch (const Error& e) {
      throw Error(source + ":" + std::to_string(number) + ": " + e.what());
    }
    if (out.size() >= flush_bytes) {
      std::cout << out;
      out.clear();
    }
  }
  if (in.bad()) throw Error(source + ": read error");
  std::cout << out;
  std::cout.flush();
  if (!std::cout) throw Error("cannot write to standard output");
}

int run(const TokenizeOptions& options) {
  const Tokenizer tokenizer = Tokenizer::load(options.model);
  Input input(options.input);
  tokenize_stream(input.stream(), input.name(), tokenizer, options.max_length);
  return 0;
}

}  // namespace

Runner add_tokenize_command(CLI::App& app) {
  auto options = std::make_shared<TokenizeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "tokenize", "Turn text into WordPiece token ids ([CLS] ... [SEP]), one line per input line");
  cmd->add_option("--model", options->model,
                  "Tokenizer folder: tokenizer.json or vocab.txt, plus tokenizer_config.json when "
                  "present (model weights are not needed)")
      ->required();
  cmd->add_option(
         "--input", options->input,
         "UTF-8 text, one sequence per line (an empty line gives [CLS] [SEP]); - for stdin")
      ->required();
  cmd->add_option("--max-length", options->max_length,
                  "Truncate to N tokens including [CLS] and [SEP] (default: no truncation)")
      ->check(CLI::Range(2, 1 << 20));
  return [options] { return run(*options); };
}

}  // namespace vecformer::cli
