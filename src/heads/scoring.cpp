#include "heads/scoring.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "vecformer/error.hpp"

namespace vecformer::detail {

void softmax_rows(const float* logits, int64_t rows, int64_t cols, float* scores) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* in = logits + r * cols;
    float* out = scores + r * cols;
    const double max = *std::max_element(in, in + cols);
    double sum = 0;
    for (int64_t c = 0; c < cols; ++c) sum += std::exp(in[c] - max);
    for (int64_t c = 0; c < cols; ++c) out[c] = static_cast<float>(std::exp(in[c] - max) / sum);
  }
}

void sigmoid(const float* logits, int64_t n, float* scores) {
  for (int64_t i = 0; i < n; ++i) {
    scores[i] = static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(logits[i]))));
  }
}

Tensor score(const Tensor& logits, Scoring scoring) {
  Tensor scores{logits.shape, std::vector<float>(logits.data.size())};
  const int64_t cols = logits.shape.empty() ? 0 : logits.shape.back();
  const int64_t rows = cols == 0 ? 0 : logits.numel() / cols;
  switch (scoring) {
    case Scoring::softmax:
      if (cols > 0) softmax_rows(logits.data.data(), rows, cols, scores.data.data());
      break;
    case Scoring::sigmoid:
      sigmoid(logits.data.data(), logits.numel(), scores.data.data());
      break;
    case Scoring::none:
      scores.data = logits.data;
      break;
  }
  return scores;
}

}  // namespace vecformer::detail

namespace vecformer {

std::vector<std::vector<TokenPrediction>> top_predictions(const Tensor& logits, int64_t k) {
  if (logits.shape.size() != 2) throw Error("top_predictions: logits must be [rows, vocab]");
  if (k < 1) throw Error("top_predictions: k must be at least 1, got " + std::to_string(k));
  const int64_t rows = logits.shape[0], cols = logits.shape[1];
  const int64_t keep = std::min(k, cols);
  std::vector<std::vector<TokenPrediction>> out(static_cast<size_t>(rows));
  std::vector<int64_t> ids(static_cast<size_t>(cols));
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = logits.data.data() + r * cols;
    const double max = *std::max_element(row, row + cols);
    double sum = 0;
    for (int64_t c = 0; c < cols; ++c) sum += std::exp(row[c] - max);
    std::iota(ids.begin(), ids.end(), int64_t{0});
    std::partial_sort(ids.begin(), ids.begin() + keep, ids.end(), [&](int64_t a, int64_t b) {
      return row[a] > row[b] || (row[a] == row[b] && a < b);
    });
    for (int64_t i = 0; i < keep; ++i) {
      out[r].push_back({ids[i], static_cast<float>(std::exp(row[ids[i]] - max) / sum)});
    }
  }
  return out;
}

std::string_view to_string(Pooling pooling) {
  switch (pooling) {
    case Pooling::none:
      return "none";
    case Pooling::cls:
      return "cls";
    case Pooling::mean:
      return "mean";
    case Pooling::max:
      return "max";
    case Pooling::mean_sqrt_len:
      return "mean_sqrt_len";
  }
  return "none";
}

std::string_view to_string(HeadKind kind) {
  switch (kind) {
    case HeadKind::none:
      return "none";
    case HeadKind::sequence_classification:
      return "sequence-classification";
    case HeadKind::token_classification:
      return "token-classification";
    case HeadKind::masked_lm:
      return "masked-lm";
  }
  return "none";
}

std::string_view to_string(Scoring scoring) {
  switch (scoring) {
    case Scoring::softmax:
      return "softmax";
    case Scoring::sigmoid:
      return "sigmoid";
    case Scoring::none:
      return "none";
  }
  return "none";
}

}  // namespace vecformer
