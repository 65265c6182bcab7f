// `vecformer tokenize`: text in (file or stdin), one line of token ids out per input line, in the
// format `vecformer run --input` reads, or (--json) one JSON object per line with ids, type ids,
// tokens, offsets and the special tokens mask, as Hugging Face's Encoding has them.
#include <charconv>
#include <fstream>
#include <iostream>
#include <string>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "tokenizer/unicode.hpp"
#include "vecformer/error.hpp"
#include "vecformer/tokenizer.hpp"

namespace vecformer::cli {

namespace {

struct TokenizeOptions {
  std::string model;
  std::string input;
  size_t max_length = 0;
  bool json = false;
  bool pairs = false;
  bool no_special_tokens = false;
};

template <typename Int>
void append_int(std::string& out, Int value) {
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

template <typename Ints>
void append_ints(std::string& out, const Ints& values, char separator) {
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += separator;
    append_int(out, values[i]);
  }
}

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20) {
      static const char hex[] = "0123456789abcdef";
      out += "\\u00";
      out += hex[byte >> 4];
      out += hex[byte & 15];
    } else {
      out += c;
    }
  }
  out += '"';
}

void append_json(std::string& out, const Encoding& e) {
  out += "{\"ids\":[";
  append_ints(out, e.ids, ',');
  out += "],\"type_ids\":[";
  append_ints(out, e.type_ids, ',');
  out += "],\"tokens\":[";
  for (size_t i = 0; i < e.tokens.size(); ++i) {
    if (i) out += ',';
    append_json_string(out, e.tokens[i]);
  }
  out += "],\"offsets\":[";
  for (size_t i = 0; i < e.offsets.size(); ++i) {
    if (i) out += ',';
    out += '[';
    append_int(out, e.offsets[i].first);
    out += ',';
    append_int(out, e.offsets[i].second);
    out += ']';
  }
  out += "],\"special_tokens_mask\":[";
  append_ints(out, e.special_tokens_mask, ',');
  out += "]}\n";
}

// Every input line gives exactly one output line, so outputs stay aligned with inputs: an empty
// line gives only the special tokens ([CLS] [SEP]), as Hugging Face does for an empty text.
void tokenize_stream(std::istream& in, const std::string& source, const Tokenizer& tokenizer,
                     const TokenizeOptions& options) {
  constexpr size_t flush_bytes = size_t{1} << 16;
  EncodingOptions encode_options;
  encode_options.max_length = options.max_length;
  encode_options.add_special_tokens = !options.no_special_tokens;
  std::string out;
  std::string line;
  std::vector<char32_t> check;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();  // CRLF files
    try {
      const size_t tab = options.pairs ? line.find('\t') : std::string::npos;
      Encoding encoding;
      if (tab != std::string::npos) {
        // The whole line first, so that a bad byte is counted from the start of the line.
        check.clear();
        detail::decode_utf8(line, check);
        const std::string_view view(line);
        encoding = tokenizer.encode_pair(view.substr(0, tab), view.substr(tab + 1), encode_options);
      } else {
        encoding = tokenizer.encode_text(line, encode_options);
      }
      if (options.json) {
        append_json(out, encoding);
      } else {
        append_ints(out, encoding.ids, ' ');
        out += '\n';
      }
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
  tokenize_stream(input.stream(), input.name(), tokenizer, options);
  return 0;
}

}  // namespace

Runner add_tokenize_command(CLI::App& app) {
  auto options = std::make_shared<TokenizeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "tokenize", "Turn text into token ids (with the special tokens), one line per input line");
  cmd->add_option("--model", options->model,
                  "Tokenizer folder: tokenizer.json, vocab.txt or vocab.json + merges.txt, plus "
                  "tokenizer_config.json when present (model weights are not needed)")
      ->required();
  cmd->add_option("--input", options->input,
                  "UTF-8 text, one sequence per line (an empty line gives only the special "
                  "tokens); - for stdin")
      ->required();
  cmd->add_option("--max-length", options->max_length,
                  "Truncate to N tokens including the special tokens, longest first for pairs "
                  "(default: no truncation)")
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_flag("--json", options->json,
                "One JSON object per line: ids, type_ids, tokens, offsets (code points of the "
                "line, [0,0] for added special tokens) and special_tokens_mask");
  cmd->add_flag("--pairs", options->pairs,
                "A line holding a TAB is a pair of texts: the first TAB splits them");
  cmd->add_flag("--no-special-tokens", options->no_special_tokens,
                "No special tokens ([CLS], [SEP], <s>, ...): the post-processor is not applied");
  return [options] { return run(*options); };
}

}  // namespace vecformer::cli
