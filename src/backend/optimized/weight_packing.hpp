#pragma once

#include <cstdint>
#include <span>

#include <dnnl.hpp>

namespace vecformer::detail {

// Writes a float32 weight W[out, in] (PyTorch's layout, rows of `in` values) into `target`, the
// layout oneDNN chose for the matmul's [in, out] operand, when that is the blocked layout of fp32
// GEMMs on AVX-512 (BA16a64b: tiles of 16 inputs x 64 outputs, outputs innermost) with no padding;
// returns false otherwise, and the caller runs oneDNN's reorder. oneDNN 2.6 reorders this transpose
// at ~0.5 GB/s (jit:uni), two thirds of a BERT-base load; these tiles are written at memory speed.
// Its twin is that reorder: tests/backend compares the two bit for bit.
bool pack_weights_ba16a64b(const float* w, int64_t out, int64_t in,
                           const dnnl::memory::desc& target, float* dst);

// The same for W given as row blocks stacked (LinearWeights::parts): each block goes to its place
// in the tiles when every block's rows are a multiple of 64; false otherwise.
bool pack_weights_ba16a64b(std::span<const float* const> blocks, int64_t block_rows, int64_t in,
                           const dnnl::memory::desc& target, float* dst);

}  // namespace vecformer::detail
