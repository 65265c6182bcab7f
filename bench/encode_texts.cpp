// Tokenizes and encodes every line of a text file through the public C++ API, as the Python
// binding's Model.encode(texts) does (the folder's tokenizer and length limit, batches of at most
// --batch-tokens tokens), and prints the wall time of each round as JSON. The C++ side of
// bench/peers/python_vs_cpp.py.
//   vecformer_encode_texts MODEL TEXTS [--threads N] [--pooling none|cls|mean|max] [--rounds R]
//                          [--batch-tokens T]
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "vecformer/vecformer.hpp"

namespace {

using vecformer::Sequence;

std::vector<std::vector<Sequence>> tokenize_batches(const vecformer::Model& model,
                                                    const vecformer::Tokenizer& tokenizer,
                                                    const std::vector<std::string>& lines,
                                                    int64_t budget) {
  const auto max_length = static_cast<size_t>(model.max_sequence_length());
  std::vector<std::vector<Sequence>> batches(1);
  int64_t tokens = 0;
  for (const std::string& line : lines) {
    Sequence s;
    s.input_ids = tokenizer.encode(line, max_length);
    const auto length = static_cast<int64_t>(s.input_ids.size());
    if (tokens > 0 && tokens + length > budget) {
      batches.emplace_back();
      tokens = 0;
    }
    tokens += length;
    batches.back().push_back(std::move(s));
  }
  return batches;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: vecformer_encode_texts MODEL TEXTS [--threads N] [--pooling P] "
                 "[--rounds R] [--batch-tokens T]\n";
    return 2;
  }
  vecformer::EncodeOptions options;
  int rounds = 3;
  int64_t budget = 16384;
  for (int i = 3; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--threads") {
      options.threads = std::atoi(value.c_str());
    } else if (flag == "--rounds") {
      rounds = std::atoi(value.c_str());
    } else if (flag == "--batch-tokens") {
      budget = std::atoll(value.c_str());
    } else if (flag == "--pooling") {
      options.pooling = value == "none"  ? vecformer::Pooling::none
                        : value == "cls" ? vecformer::Pooling::cls
                        : value == "max" ? vecformer::Pooling::max
                                         : vecformer::Pooling::mean;
    } else {
      std::cerr << "unknown option " << flag << "\n";
      return 2;
    }
  }
  try {
    const vecformer::Model model = vecformer::Model::load(argv[1]);
    const vecformer::Tokenizer tokenizer =
        vecformer::Tokenizer::load(model.info().transformer_folder);
    std::vector<std::string> lines;
    std::ifstream in(argv[2]);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    std::cout << "{\"lines\": " << lines.size() << ", \"seconds\": [";
    double checksum = 0;
    for (int r = 0; r < rounds; ++r) {
      const auto start = std::chrono::steady_clock::now();
      for (const auto& batch : tokenize_batches(model, tokenizer, lines, budget)) {
        const vecformer::Tensor out = model.encode(batch, options);
        checksum += out.data.front();
      }
      const std::chrono::duration<double> seconds = std::chrono::steady_clock::now() - start;
      std::cout << (r ? ", " : "") << seconds.count();
    }
    std::cout << "], \"checksum\": " << checksum << "}\n";
  } catch (const vecformer::Error& e) {
    std::cerr << "vecformer_encode_texts: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
