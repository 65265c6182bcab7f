#pragma once

// Reference outputs of Hugging Face's models (tools/make_model_cases.mjs writes them with the Rust
// `tokenizers` through its Node binding): one model per line and the words it was given.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/model.hpp"
#include "vecformer/error.hpp"

namespace vecformer::test {

struct ModelCase {
  std::string name;
  nlohmann::ordered_json model;  // key order kept: a BPE vocab is an object
  struct Word {
    std::string text;
    bool error = false;
    std::vector<int64_t> ids;
    std::vector<std::pair<size_t, size_t>> offsets;  // code points, as the binding reports them
  };
  std::vector<Word> words;
};

inline std::vector<ModelCase> read_model_cases(const std::string& file) {
  const std::filesystem::path path =
      std::filesystem::path(VECFORMER_SOURCE_DIR) / "tests/tokenizer/data/models" / file;
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.is_open());
  std::vector<ModelCase> cases;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    const auto entry = nlohmann::ordered_json::parse(line);
    ModelCase c;
    c.name = entry.at("name").get<std::string>();
    c.model = entry.at("model");
    for (const auto& w : entry.at("words")) {
      ModelCase::Word word;
      word.text = w.at("word").get<std::string>();
      word.error = w.contains("error");
      if (!word.error) {
        word.ids = w.at("ids").get<std::vector<int64_t>>();
        word.offsets = w.at("offsets").get<std::vector<std::pair<size_t, size_t>>>();
      }
      c.words.push_back(std::move(word));
    }
    cases.push_back(std::move(c));
  }
  REQUIRE(!cases.empty());
  return cases;
}

// Byte offsets in `word` as code-point offsets the way Hugging Face converts them: the start is the
// character holding the start byte, the end is one past the character holding the last byte.
inline std::pair<size_t, size_t> code_point_range(std::string_view word, uint32_t begin,
                                                  uint32_t end) {
  const auto char_of = [&word](size_t byte) {
    size_t index = 0;
    for (size_t i = 1; i <= byte && i < word.size(); ++i)
      if ((static_cast<unsigned char>(word[i]) & 0xC0) != 0x80) ++index;
    return index;
  };
  if (begin == end) return {char_of(begin), char_of(begin)};
  return {char_of(begin), char_of(end - 1) + 1};
}

// Every word of every case through `model`; a mismatch names the case and the word.
template <class MakeModel>
void check_model_cases(const std::vector<ModelCase>& cases, MakeModel make_model) {
  size_t words = 0;
  for (const ModelCase& c : cases) {
    INFO("case \"" << c.name << "\"");
    const auto model = make_model(c.model);
    for (const ModelCase::Word& w : c.words) {
      INFO("word " << nlohmann::json(w.text).dump());
      std::vector<detail::ModelToken> tokens;
      if (w.error) {
        CHECK_THROWS_AS(model->tokenize(w.text, tokens), Error);
        continue;
      }
      REQUIRE_NOTHROW(model->tokenize(w.text, tokens));
      std::vector<int64_t> ids;
      std::vector<std::pair<size_t, size_t>> offsets;
      for (const auto& t : tokens) {
        ids.push_back(t.id);
        offsets.push_back(code_point_range(w.text, t.begin, t.end));
        CHECK(t.begin <= t.end);
        CHECK(t.end <= w.text.size());
        CHECK(model->id_to_token(t.id) != nullptr);
      }
      CHECK(ids == w.ids);
      CHECK(offsets == w.offsets);
      ++words;
    }
  }
  CHECK(words > 100);
}

// Seconds `f` takes.
template <class F>
double seconds(F f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace vecformer::test
