// similarity: the whole vecformer pipeline from text to sentence embeddings, as an
// installed-package consumer writes it.
//
//   similarity MODEL_DIR "sentence one" "sentence two" ...
//   similarity MODEL_DIR < sentences.txt            (one sentence a line when none are given)
//
// sentences ─► Tokenizer (WordPiece, [CLS] ... [SEP]) ─► token ids ─► Model::encode with mean
// pooling and L2 normalization ─► [N, hidden] ─► N×N cosine-similarity matrix on stdout, one row a
// line. MODEL_DIR needs config.json, model.safetensors and a vocabulary (vocab.txt or a WordPiece
// tokenizer.json). Problems with the input are one line on stderr and exit status 1.

#include <cstdint>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <vecformer/vecformer.hpp>

namespace {

std::vector<std::string> read_lines(std::istream& in) {
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") != std::string::npos) lines.push_back(line);
  }
  return lines;
}

// The rows of `embeddings` are unit vectors (normalize = true), so their dot products are the
// cosines.
std::vector<float> cosine_matrix(const vecformer::Tensor& embeddings) {
  const int64_t n = embeddings.shape[0];
  const int64_t dim = embeddings.shape[1];
  std::vector<float> similarity(static_cast<size_t>(n * n));
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      const float* a = embeddings.data.data() + i * dim;
      const float* b = embeddings.data.data() + j * dim;
      double dot = 0.0;
      for (int64_t k = 0; k < dim; ++k) dot += static_cast<double>(a[k]) * b[k];
      similarity[static_cast<size_t>(i * n + j)] = static_cast<float>(dot);
    }
  }
  return similarity;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr
        << "usage: similarity MODEL_DIR [SENTENCE...]   (sentences from stdin when none given)\n";
    return 2;
  }
  const std::string model_dir = argv[1];
  std::vector<std::string> sentences(argv + 2, argv + argc);
  if (sentences.empty()) sentences = read_lines(std::cin);
  if (sentences.empty()) {
    std::cerr << "similarity: no sentences (give them as arguments or on stdin, one a line)\n";
    return 1;
  }

  try {
    const auto tokenizer = vecformer::Tokenizer::load(model_dir);
    const auto model = vecformer::Model::load(model_dir);

    // Truncated to the folder's own limit, as sentence-transformers and `vecformer run --text` do.
    const auto max_length = static_cast<size_t>(model.max_sequence_length());
    std::vector<vecformer::Sequence> sequences;
    sequences.reserve(sentences.size());
    for (const std::string& sentence : sentences) {
      sequences.push_back({tokenizer.encode(sentence, max_length), {}});
    }

    vecformer::EncodeOptions options;
    options.pooling = vecformer::Pooling::mean;
    options.normalize = true;
    const vecformer::Tensor embeddings = model.encode(sequences, options);  // [N, hidden]

    const auto n = static_cast<size_t>(embeddings.shape[0]);
    const std::vector<float> similarity = cosine_matrix(embeddings);
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = 0; j < n; ++j) {
        std::printf(j == 0 ? "%.6f" : " %.6f", static_cast<double>(similarity[i * n + j]));
      }
      std::printf("\n");
    }
  } catch (const vecformer::Error& error) {
    std::cerr << "similarity: " << error.what() << '\n';
    return 1;
  }
  return 0;
}
