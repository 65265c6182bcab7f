// Tokenizer throughput on English text, one thread: WordPiece (bert-base-uncased), byte-level BPE
// (GPT-2's vocabulary and merges, tests/tokenizer/data/gpt2-bpe) and Unigram (a SentencePiece-style
// tokenizer.json built here from bert-base-uncased's words: Metaspace, Unigram over "▁word" and
// sub-word pieces). Bytes processed = UTF-8 bytes of text; the issue's bar is 5 MB/s for WordPiece
// and BPE, 2 MB/s for Unigram. Text: the GPL-3 from /usr/share/common-licenses, one call per line.
#include <benchmark/benchmark.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "vecformer/tokenizer.hpp"

namespace {

namespace fs = std::filesystem;

#ifndef VECFORMER_SOURCE_DIR
#define VECFORMER_SOURCE_DIR "."
#endif

const fs::path kSource = VECFORMER_SOURCE_DIR;

std::vector<std::string> english_lines() {
  std::vector<std::string> lines;
  std::ifstream in("/usr/share/common-licenses/GPL-3");
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  if (lines.empty()) {
    for (int i = 0; i < 500; ++i) {
      lines.push_back(
          "The quick brown fox jumps over the lazy dog, and tokenizers turn text "
          "into ids that an encoder can embed.");
    }
  }
  return lines;
}

std::vector<std::string> read_vocab(const fs::path& path) {
  std::vector<std::string> vocab;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) vocab.push_back(line);
  return vocab;
}

// A Unigram tokenizer.json from a WordPiece vocabulary: whole words become "▁word", continuations
// "##x" become "x"; longer pieces score higher, so Viterbi has real choices to make.
fs::path unigram_folder() {
  const fs::path folder = fs::temp_directory_path() / "vecformer-bench-unigram";
  fs::create_directories(folder);
  nlohmann::json pieces = nlohmann::json::array();
  pieces.push_back({"<unk>", 0.0});
  pieces.push_back({"<s>", 0.0});
  pieces.push_back({"</s>", 0.0});
  for (const std::string& token :
       read_vocab(kSource / "models/vocab/bert-base-uncased/vocab.txt")) {
    if (token.empty() || token[0] == '[') continue;
    const std::string piece = token.rfind("##", 0) == 0 ? token.substr(2) : "\xe2\x96\x81" + token;
    pieces.push_back({piece, -12.0 + std::log(1.0 + static_cast<double>(piece.size()))});
  }
  nlohmann::json root = {
      {"normalizer", nullptr},
      {"pre_tokenizer",
       {{"type", "Metaspace"}, {"replacement", "\xe2\x96\x81"}, {"prepend_scheme", "always"}}},
      {"post_processor", {{"type", "BertProcessing"}, {"cls", {"<s>", 1}}, {"sep", {"</s>", 2}}}},
      {"model", {{"type", "Unigram"}, {"unk_id", 0}, {"vocab", pieces}}}};
  std::ofstream(folder / "tokenizer.json") << root.dump();
  return folder;
}

void run(benchmark::State& state, const vecformer::Tokenizer& tokenizer) {
  const std::vector<std::string> lines = english_lines();
  size_t bytes = 0;
  for (const std::string& line : lines) bytes += line.size();
  for (auto _ : state) {
    for (const std::string& line : lines) benchmark::DoNotOptimize(tokenizer.encode(line));
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes * state.iterations()));
}

void BM_TokenizeWordPiece(benchmark::State& state) {
  run(state, vecformer::Tokenizer::load(kSource / "models/vocab/bert-base-uncased"));
}

void BM_TokenizeByteLevelBpe(benchmark::State& state) {
  const fs::path folder = kSource / "tests/tokenizer/data/gpt2-bpe";
  if (!fs::exists(folder / "tokenizer.json")) {
    state.SkipWithError("no tests/tokenizer/data/gpt2-bpe/tokenizer.json");
    return;
  }
  run(state, vecformer::Tokenizer::load(folder));
}

void BM_TokenizeUnigram(benchmark::State& state) {
  run(state, vecformer::Tokenizer::load(unigram_folder()));
}

BENCHMARK(BM_TokenizeWordPiece)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TokenizeByteLevelBpe)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TokenizeUnigram)->Unit(benchmark::kMillisecond);

}  // namespace
