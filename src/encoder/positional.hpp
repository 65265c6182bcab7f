#pragma once

#include <cstdint>

#include <vector>

#include "backend/backend.hpp"
#include "encoder/weights.hpp"

namespace vecformer::detail {

// The fixed sinusoidal table: PE[p, 2i] = sin(p / 10000^(2i/hidden)), PE[p, 2i+1] = cos(same
// angle).
Matrix sinusoidal_positions(int64_t positions, int64_t hidden);

// ALiBi's head slopes for any head count, as the reference implementation computes them: for a
// power of two n, 2^(-8/n · (h + 1)); otherwise the slopes of the power of two below n followed by
// every other slope of twice that power.
std::vector<float> alibi_slopes(int64_t heads);

// The rotary table of `config.rotary` for `positions` positions with base θ = `base` (the global
// or the local layers' base), scaled as config.rotary.scaling says for a sequence of
// `sequence_length` tokens (dynamic NTK grows the base only past max_trained_positions).
RotaryTable rotary_table(const Config& config, double base, int64_t positions,
                         int64_t sequence_length);

}  // namespace vecformer::detail
