#include "encoder/positional.hpp"

#include <string>

#include "vecformer/error.hpp"

#include <cmath>

namespace vecformer::detail {

Matrix sinusoidal_positions(int64_t positions, int64_t hidden) {
  Matrix table{positions, hidden, std::vector<float>(positions * hidden)};
  for (int64_t p = 0; p < positions; ++p) {
    for (int64_t c = 0; c < hidden; ++c) {
      const int64_t even = c - c % 2;  // 2i for both members of the pair
      const double angle = p / std::pow(10000.0, static_cast<double>(even) / hidden);
      table.data[p * hidden + c] =
          static_cast<float>(c % 2 == 0 ? std::sin(angle) : std::cos(angle));
    }
  }
  return table;
}

namespace {

// ALiBi's geometric slopes for n heads, n a power of two: start · start^i for i in [0, n), with
// start = 2^(-2^-(log2(n) - 3)) = 2^(-8/n). In double with the same operations as Jina's (and
// MosaicBERT's) get_slopes_power_of_2, so that the float32 conversion matches theirs.
std::vector<double> power_of_two_slopes(int64_t n) {
  const double start = std::pow(2.0, -std::pow(2.0, -(std::log2(static_cast<double>(n)) - 3.0)));
  std::vector<double> slopes(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) slopes[i] = start * std::pow(start, static_cast<double>(i));
  return slopes;
}

}  // namespace

std::vector<float> alibi_slopes(int64_t heads) {
  // Jina v2's _get_alibi_head_slopes (text-embeddings-inference's alibi_head_slopes): a power of
  // two takes its own geometric sequence; any other count the sequence of the largest power of
  // two p below it, then the even-indexed slopes of 2p's sequence (which fall between p's) for the
  // remaining heads. Computed in double, stored as float32 as torch.Tensor(list) stores them.
  int64_t power = 1;
  while (power * 2 <= heads) power *= 2;
  std::vector<double> slopes = power_of_two_slopes(power);
  if (power < heads) {
    const std::vector<double> between = power_of_two_slopes(2 * power);
    for (int64_t i = 0; i < heads - power; ++i) slopes.push_back(between[2 * i]);
  }
  return std::vector<float>(slopes.begin(), slopes.end());
}

namespace {

// The base the table's inverse frequencies are raised from, and the divisor applied to them after,
// per scaling kind. Both in double, as the models' Python computes them from Python floats.
struct ScaledBase {
  double base;
  double divisor = 1.0;
};

ScaledBase scaled_base(const RotaryConfig& rotary, double base, int64_t dim,
                       int64_t sequence_length) {
  const double factor = rotary.scaling_factor;
  switch (rotary.scaling) {
    case RotaryScaling::none:
      break;
    case RotaryScaling::ntk:
      // GTE "new" (NTKScalingRotaryEmbedding, mixed_b None; text-embeddings-inference gte.rs): the
      // base times the factor, then every inverse frequency divided by factor^(2/dim), whatever the
      // length.
      return {base * factor, std::pow(factor, 2.0 / static_cast<double>(dim))};
    case RotaryScaling::dynamic_ntk:
      // NomicBertDynamicNTKRotaryEmbedding: a sequence of L > max_trained_positions M tokens uses
      // base · (factor · L / M − (factor − 1))^(dim / (dim − 2)); shorter ones the base itself.
      if (sequence_length > rotary.max_trained_positions) {
        const double ratio = factor * static_cast<double>(sequence_length) /
                                 static_cast<double>(rotary.max_trained_positions) -
                             (factor - 1.0);
        return {base * std::pow(ratio, static_cast<double>(dim) / static_cast<double>(dim - 2))};
      }
      break;
  }
  return {base};
}

}  // namespace

RotaryTable rotary_table(const Config& config, double base, int64_t positions,
                         int64_t sequence_length) {
  const RotaryConfig& rotary = config.rotary;
  RotaryTable table;
  table.dim = rotary.dim > 0 ? rotary.dim : config.head_dim();
  table.interleaved = rotary.interleaved;
  table.positions = positions;
  const int64_t half = table.dim / 2;
  const ScaledBase scaled = scaled_base(rotary, base, table.dim, sequence_length);

  // Every step in float32 as the sources compute it (torch.arange(0, dim, 2).float() / dim, then
  // 1.0 / base ** that, then the outer product with float32 positions, then cos and sin). Each
  // float32 operation is computed in double from its float32 operands and rounded once: the
  // correctly rounded float32 result. PyTorch's vectorized pow, cos and sin are within 1 ulp of it,
  // not always equal (measured against torch 1.13: ModernBERT's and GTE's tables agree to 1 ulp of
  // cos and sin; where torch's pow is one ulp off an inverse frequency, the angle at position p
  // differs by p · ulp(θ_i), 6e-5 at p = 4096 for one of nomic's dynamic bases).
  const auto base_f = static_cast<float>(scaled.base);
  const auto divisor_f = static_cast<float>(scaled.divisor);
  std::vector<float> inv_freq(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; ++i) {
    const float exponent = static_cast<float>(2 * i) / static_cast<float>(table.dim);
    const auto power = static_cast<float>(std::pow(static_cast<double>(base_f), exponent));
    inv_freq[i] = 1.0f / power;
    if (rotary.scaling == RotaryScaling::ntk) inv_freq[i] = inv_freq[i] / divisor_f;
  }
  table.cos.resize(static_cast<size_t>(positions * half));
  table.sin.resize(static_cast<size_t>(positions * half));
  for (int64_t p = 0; p < positions; ++p) {
    for (int64_t i = 0; i < half; ++i) {
      const float angle = static_cast<float>(p) * inv_freq[i];
      table.cos[p * half + i] = static_cast<float>(std::cos(static_cast<double>(angle)));
      table.sin[p * half + i] = static_cast<float>(std::sin(static_cast<double>(angle)));
    }
  }
  return table;
}

}  // namespace vecformer::detail
