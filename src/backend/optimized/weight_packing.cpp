#include "backend/optimized/weight_packing.hpp"

namespace vecformer::detail {

namespace {

constexpr int64_t kIn = 16, kOut = 64;  // the tile: 16 inputs ("a") x 64 outputs ("b")

bool fits(int64_t out, int64_t in, const dnnl::memory::desc& target) {
  using dnnl::memory;
  return in % kIn == 0 && out % kOut == 0 &&
         target == memory::desc({in, out}, memory::data_type::f32, memory::format_tag::BA16a64b);
}

void pack(const float* w, int64_t out, int64_t in, float* dst) {
  const int64_t in_tiles = in / kIn;
  // Tiles are laid out output block by output block (B), then input block (A); inside a tile, input
  // by input, 64 outputs each. An output block's 64 rows of W are contiguous: they are read in
  // order (one stream the prefetcher follows) and scattered into the block's tiles, which stay in
  // cache (64 x in floats).
  for (int64_t ob = 0; ob < out / kOut; ++ob) {
    float* block = dst + ob * in_tiles * kIn * kOut;
    for (int64_t o = 0; o < kOut; ++o) {
      const float* row = w + (ob * kOut + o) * in;
      for (int64_t ib = 0; ib < in_tiles; ++ib) {
        float* tile = block + ib * kIn * kOut + o;
        for (int64_t i = 0; i < kIn; ++i) tile[i * kOut] = row[ib * kIn + i];
      }
    }
  }
}

}  // namespace

bool pack_weights_ba16a64b(const float* w, int64_t out, int64_t in,
                           const dnnl::memory::desc& target, float* dst) {
  if (!fits(out, in, target)) return false;
  pack(w, out, in, dst);
  return true;
}

bool pack_weights_ba16a64b(std::span<const float* const> blocks, int64_t block_rows, int64_t in,
                           const dnnl::memory::desc& target, float* dst) {
  const auto out = static_cast<int64_t>(blocks.size()) * block_rows;
  if (block_rows % kOut != 0 || !fits(out, in, target)) return false;
  // Output blocks are outermost: block b's tiles start after the tiles of the rows before it.
  for (size_t b = 0; b < blocks.size(); ++b) {
    pack(blocks[b], block_rows, in, dst + static_cast<int64_t>(b) * block_rows * in);
  }
  return true;
}

}  // namespace vecformer::detail
