#pragma once

// The rotary position embedding and the gated feed-forward's epilogue (xsimd), dispatched to the
// instruction set kernels.hpp selected. Single-threaded, like every kernel: the backend spreads
// tokens and rows over its threads. Plain twins: reference::rotate and reference::gate. The
// per-ISA bodies are RotaryGateKernels<Arch> (rotary_gate_arch.hpp), which the tests call directly.
#include <cstdint>

#include "vecformer/config.hpp"

namespace vecformer::detail::kernels {

// Rotates one head's first `dim` features (dim even) by one table row's angles (cos, sin
// [dim / 2]): pairs (i, i + dim/2), or (2i, 2i + 1) when interleaved, become
// (a·cos − b·sin, b·cos + a·sin).
void rotate(float* x, const float* cos, const float* sin, int64_t dim, bool interleaved);

// y[i] = act(u[i]) · u[n + i] over one row u of 2·n values. y must not overlap u's second half.
void gate(const float* u, int64_t n, Activation act, float* y);

}  // namespace vecformer::detail::kernels
