#pragma once

#include <cstdint>

#include "encoder/weights.hpp"

namespace vecformer::detail {

// The fixed sinusoidal table: PE[p, 2i] = sin(p / 10000^(2i/hidden)), PE[p, 2i+1] = cos(same angle).
Matrix sinusoidal_positions(int64_t positions, int64_t hidden);

}  // namespace vecformer::detail
