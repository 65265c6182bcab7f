#include "cli/head_common.hpp"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/common.hpp"
#include "heads/head_loader.hpp"
#include "io/config_json.hpp"
#include "io/token_input.hpp"
#include "model/sentence_transformers.hpp"
#include "vecformer/error.hpp"

namespace vecformer::cli {

void add_head_options(CLI::App& command, HeadOptions& o, bool text_flag, bool input) {
  command.add_option("--model", o.model, "Model folder (Hugging Face task checkpoint)")->required();
  if (input) {
    command
        .add_option("--input", o.input,
                    text_flag ? "One input per line: token ids separated by spaces, a JSON object "
                                "with input_ids and token_type_ids, or text with --text; - for "
                                "stdin"
                              : "One input per line (text); - for stdin")
        ->required();
  }
  if (text_flag) {
    command.add_flag("--text", o.text,
                     "Input lines are text, tokenized with the model's tokenizer");
  }
  command.add_option("--output", o.output, "Write JSON Lines to FILE.jsonl; - or none: stdout");
  add_engine_options(command, o.backend, o.threads);
  add_dtype_option(command, o.dtype);
  command
      .add_option("--max-length", o.max_length,
                  "Truncate to N tokens including special tokens (text: longest_first; default: "
                  "the folder's limit)")
      ->check(CLI::Range(2, 1 << 20));
  command.add_flag("--quiet", o.quiet, "Do not print the summary line on stderr");
}

Model load_head_model(const HeadOptions& options, HeadKind kind) {
  const LoadOptions plain = load_options(options.backend, options.dtype);
  // From config.json first: a folder with another head (or none) fails before any weight is read,
  // a masked-LM decoder included. Model::load reports what is wrong with the folder itself.
  std::error_code ec;
  if (std::filesystem::is_directory(options.model, ec)) {
    const detail::ModelLayout layout = detail::read_model_layout(options.model);
    const nlohmann::json root = detail::read_json_object(layout.transformer_folder / "config.json");
    if (detail::head_kind_named(root) != kind)
      throw Error(detail::no_head_message(options.model, kind, root));
  }
  LoadOptions load = plain;
  load.load_head = true;
  return Model::load(options.model, load);
}

Tokenizer load_tokenizer(const Model& model) {
  return Tokenizer::load(model.info().transformer_folder);
}

size_t text_max_length(const HeadOptions& options, const Model& model) {
  return options.max_length > 0 ? options.max_length
                                : static_cast<size_t>(model.max_sequence_length());
}

namespace {

// ModernBERT has no token-type input (its tokenizer's model_input_names are input_ids and
// attention_mask): a pair is the tokenizer's pair template with the type ids dropped.
bool pairs_without_token_types(const Model& model) {
  return model.info().model_type == "modernbert";
}

}  // namespace

InputLine encode_text(const Tokenizer& tokenizer, const Model& model, std::string_view text,
                      std::optional<std::string_view> pair, size_t max_length) {
  EncodingOptions encoding;
  encoding.max_length = max_length;
  Encoding e =
      pair ? tokenizer.encode_pair(text, *pair, encoding) : tokenizer.encode_text(text, encoding);
  InputLine line;
  line.text = std::string(text);
  line.sequence.input_ids = std::move(e.ids);
  // Token types only when they say something: a model without any takes none.
  if (model.config().type_vocab_size > 0 ||
      (!pairs_without_token_types(model) &&
       std::any_of(e.type_ids.begin(), e.type_ids.end(), [](int64_t t) { return t != 0; }))) {
    line.sequence.token_type_ids = std::move(e.type_ids);
  }
  line.tokens = std::move(e.tokens);
  line.offsets = std::move(e.offsets);
  line.special = std::move(e.special_tokens_mask);
  line.word_ids = std::move(e.word_ids);
  return line;
}

std::vector<InputLine> read_input_lines(const HeadOptions& options, const Model& model,
                                        const Tokenizer* tokenizer, bool pairs) {
  Input input(options.input);
  std::vector<InputLine> lines;
  if (!options.text) {
    for (Sequence& s : detail::read_token_input(input.stream(), input.name(), model.config(),
                                                options.max_length)) {
      InputLine line;
      line.sequence = std::move(s);
      lines.push_back(std::move(line));
    }
    return lines;
  }
  const size_t max_length = text_max_length(options, model);
  const Config& config = model.config();
  std::string text;
  for (int64_t number = 1; std::getline(input.stream(), text); ++number) {
    if (!text.empty() && text.back() == '\r') text.pop_back();
    const std::string where = input.name() + ":" + std::to_string(number) + ": ";
    const size_t tab = pairs ? text.find('\t') : std::string::npos;
    std::optional<std::string_view> pair;
    std::string_view first = text;
    if (tab != std::string::npos) {
      if (config.type_vocab_size == 0 && !pairs_without_token_types(model)) {
        throw Error(where + "a text pair (a line with a TAB) needs a model with token types; " +
                    options.model + " has none");
      }
      first = std::string_view(text).substr(0, tab);
      pair = std::string_view(text).substr(tab + 1);
    }
    InputLine line;
    try {
      line = encode_text(*tokenizer, model, first, pair, max_length);
    } catch (const Error& e) {
      throw Error(where + e.what());
    }
    for (const int64_t type : line.sequence.token_type_ids) {
      if (type >= std::max<int64_t>(config.type_vocab_size, 1)) {
        throw Error(where + "the tokenizer gives token type " + std::to_string(type) + ", but " +
                    options.model + " has " + std::to_string(config.type_vocab_size) +
                    " token types");
      }
    }
    if (static_cast<int64_t>(line.sequence.input_ids.size()) > config.max_length()) {
      throw Error(where + "text is " + std::to_string(line.sequence.input_ids.size()) +
                  " tokens, more than the model's maximum " + std::to_string(config.max_length()));
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

std::vector<size_t> line_batches(const std::vector<InputLine>& lines, int64_t budget) {
  std::vector<size_t> ends;
  int64_t tokens = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto length = static_cast<int64_t>(lines[i].sequence.input_ids.size());
    if (tokens > 0 && tokens + length > budget) {
      ends.push_back(i);
      tokens = 0;
    }
    tokens += length;
  }
  if (!lines.empty()) ends.push_back(lines.size());
  return ends;
}

std::vector<Sequence> sequences_of(const std::vector<InputLine>& lines, size_t begin, size_t end) {
  std::vector<Sequence> out;
  for (size_t i = begin; i < end; ++i) out.push_back(lines[i].sequence);
  return out;
}

JsonLinesOutput::JsonLinesOutput(const std::string& path) : path_(path) {}

void JsonLinesOutput::add(std::string line) {
  line += '\n';
  lines_.push_back(std::move(line));
}

void JsonLinesOutput::commit() {
  if (!is_stdout(path_)) {
    detail::AtomicFile file(path_);
    for (const std::string& line : lines_) file.write(line);
    file.commit();
    return;
  }
  for (const std::string& line : lines_) std::cout << line;
  std::cout.flush();
  if (!std::cout) throw Error("cannot write to standard output");
}

std::string json_string(std::string_view text) {
  return nlohmann::json(std::string(text))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void append_floats(std::string& out, const float* values, int64_t n) {
  out += '[';
  for (int64_t i = 0; i < n; ++i) {
    if (i) out += ", ";
    append_float(out, values[i]);
  }
  out += ']';
}

void head_summary(const HeadOptions& options, std::string_view what, size_t lines, double ms) {
  if (options.quiet) return;
  std::cerr << "vecformer: " << what << " " << count_text(static_cast<int64_t>(lines), "line")
            << " -> " << (is_stdout(options.output) ? "stdout" : options.output) << " in " << ms
            << " ms (" << options.backend << ", " << options.dtype << ")\n";
}

}  // namespace vecformer::cli
