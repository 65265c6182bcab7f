// Throughput of the tokenizer model stages on English text, in bytes of input text per second
// (bytes_per_second): the BPE model (GPT-2's first 3,000 merges on byte-level words), the Unigram
// model (pieces counted from the same text) and the Precompiled normalizer (SentencePiece's
// nmt_nfkc charsmap). Model stages only: the whole pipeline (normalizer, pre-tokenizer, offsets)
// is measured through vecformer::Tokenizer. The text is Debian's /usr/share/common-licenses/GPL-3
// (base-files), repeated to 1 MB.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tokenizer/bpe.hpp"
#include "tokenizer/precompiled.hpp"
#include "tokenizer/unigram.hpp"

#ifndef VECFORMER_SOURCE_DIR
#error "VECFORMER_SOURCE_DIR must name the source tree (for the test data)"
#endif

namespace {

using namespace vecformer::detail;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

const std::string& english() {
  static const std::string text = [] {
    const std::string license = read_file("/usr/share/common-licenses/GPL-3");
    std::string out;
    if (license.empty()) return out;
    while (out.size() < (size_t{1} << 20)) out += license;
    return out;
  }();
  return text;
}

// Words as a whitespace pre-tokenizer cuts them, with a leading space kept on all but the first
// (GPT-2's pattern keeps " word" together).
std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = pos + 1;
    while (end < text.size() && text[end] != ' ' && text[end] != '\n') ++end;
    out.push_back(text.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

// GPT-2's byte -> character map (the ByteLevel pre-tokenizer's), as UTF-8.
std::vector<std::string> byte_chars() {
  std::vector<int> bytes, chars;
  for (int b = 0; b < 256; ++b)
    if ((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255))
      bytes.push_back(b);
  chars = bytes;
  int n = 0;
  for (int b = 0; b < 256; ++b)
    if (std::find(bytes.begin(), bytes.end(), b) == bytes.end()) {
      bytes.push_back(b);
      chars.push_back(256 + n++);
    }
  std::vector<std::string> map(256);
  for (size_t i = 0; i < 256; ++i) {
    const int c = chars[i];
    std::string s;
    if (c < 0x80) {
      s += static_cast<char>(c);
    } else {
      s += static_cast<char>(0xC0 | (c >> 6));
      s += static_cast<char>(0x80 | (c & 0x3F));
    }
    map[static_cast<size_t>(bytes[i])] = s;
  }
  return map;
}

void BM_BpeModelEnglish(benchmark::State& state) {
  // GPT-2's first 3,000 merges, from the unit tests' reference cases.
  std::ifstream in(VECFORMER_SOURCE_DIR "/tests/tokenizer/data/models/bpe_cases.jsonl");
  BpeConfig config;
  for (std::string line; std::getline(in, line);) {
    const auto entry = nlohmann::ordered_json::parse(line);
    if (entry.at("name") != "gpt2 first 3000 merges") continue;
    for (const auto& [token, id] : entry.at("model").at("vocab").items())
      config.vocab.emplace_back(token, id.get<int64_t>());
    for (const auto& merge : entry.at("model").at("merges"))
      config.merges.push_back(split_merge_line(merge.get<std::string>()));
  }
  if (config.vocab.empty() || english().empty()) {
    state.SkipWithError("no GPT-2 model or no text");
    return;
  }
  const Bpe bpe(config);
  const auto map = byte_chars();
  std::vector<std::string> mapped;
  for (const std::string& word : words(english())) {
    std::string m;
    for (const char c : word) m += map[static_cast<unsigned char>(c)];
    mapped.push_back(std::move(m));
  }
  std::vector<ModelToken> tokens;
  for (auto _ : state) {
    for (const std::string& word : mapped) {
      tokens.clear();
      bpe.tokenize(word, tokens);
      benchmark::DoNotOptimize(tokens.data());
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * english().size()));
}
BENCHMARK(BM_BpeModelEnglish)->Unit(benchmark::kMillisecond);

void BM_UnigramModelEnglish(benchmark::State& state) {
  if (english().empty()) {
    state.SkipWithError("no text");
    return;
  }
  // Pieces: every substring of up to 8 bytes of the "▁"-prefixed words seen at least 3 times, and
  // every single byte seen, scored by log frequency (what a trained model's vocabulary resembles).
  std::vector<std::string> ws;
  for (const std::string& word : words(english().substr(0, 40000))) {
    std::string w = "\xE2\x96\x81";
    for (const char c : word)
      if (c != ' ' && c != '\n') w += c;
    ws.push_back(w);
  }
  std::map<std::string, double> counts;
  double total = 0;
  for (const std::string& w : ws)
    for (size_t i = 0; i < w.size(); ++i)
      for (size_t n = 1; n <= 8 && i + n <= w.size(); ++n) {
        counts[w.substr(i, n)] += 1;
        total += 1;
      }
  UnigramConfig config;
  config.pieces.emplace_back("<unk>", 0.0);
  config.unk_id = 0;
  for (const auto& [piece, count] : counts)
    if (count >= 3 || piece.size() == 1) config.pieces.emplace_back(piece, std::log(count / total));
  const Unigram model(config);
  std::vector<std::string> all;
  for (const std::string& word : words(english())) {
    std::string w = "\xE2\x96\x81";
    for (const char c : word)
      if (c != ' ' && c != '\n') w += c;
    all.push_back(w);
  }
  std::vector<ModelToken> tokens;
  for (auto _ : state) {
    for (const std::string& word : all) {
      tokens.clear();
      model.tokenize(word, tokens);
      benchmark::DoNotOptimize(tokens.data());
    }
  }
  state.counters["pieces"] = static_cast<double>(config.pieces.size());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * english().size()));
}
BENCHMARK(BM_UnigramModelEnglish)->Unit(benchmark::kMillisecond);

void BM_PrecompiledEnglish(benchmark::State& state) {
  const std::string blob =
      read_file(VECFORMER_SOURCE_DIR "/tests/tokenizer/data/precompiled/nmt_nfkc.bin");
  if (blob.empty() || english().empty()) {
    state.SkipWithError("no charsmap or no text");
    return;
  }
  const PrecompiledCharsmap charsmap(blob);
  size_t pieces = 0;
  for (auto _ : state) {
    precompiled_normalize(charsmap, english(),
                          [&pieces](std::string_view, size_t, size_t, bool) { ++pieces; });
    benchmark::DoNotOptimize(pieces);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * english().size()));
}
BENCHMARK(BM_PrecompiledEnglish)->Unit(benchmark::kMillisecond);

}  // namespace
