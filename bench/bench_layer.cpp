// One encoder layer at BERT-base shape (hidden 768, 12 heads, FFN 3072), on packed batches.
#include <benchmark/benchmark.h>
#include <omp.h>

#include "encoder/encoder.hpp"
#include "support/random_model.hpp"

namespace {

using namespace vecformer;

test::RandomModelSpec bert_base_layer() {
  test::RandomModelSpec spec;
  spec.heads = 12;
  spec.head_dim = 64;
  spec.intermediate = 3072;
  spec.layers = 1;
  spec.vocab = 1000;
  spec.max_positions = 512;
  return spec;
}

// Arguments: batch, sequence length, threads, optimized (1) or reference (0).
void BM_BertBaseLayer(benchmark::State& state) {
  const auto spec = bert_base_layer();
  const detail::Encoder encoder(
      test::random_weights(spec, 1),
      state.range(3) ? detail::make_optimized_backend() : detail::make_reference_backend());
  std::mt19937 rng(2);
  const auto seqs = test::random_sequences(
      rng, std::vector<int64_t>(state.range(0), state.range(1)), spec.vocab, spec.type_vocab);
  const auto batch = detail::Batch::pack(seqs, encoder.config());
  std::vector<float> hidden(batch.tokens() * encoder.config().hidden_size);
  const detail::Execution exec{static_cast<int>(state.range(2))};
  for (auto _ : state) {
    encoder.forward(batch, hidden.data(), exec);
    benchmark::DoNotOptimize(hidden.data());
  }
  state.SetItemsProcessed(state.iterations() * batch.tokens());
  // 2·T·(4·H² + 2·H·I) for the projections plus 4·L²·H per sequence for attention.
  const double h = 768, inner = 3072, t = static_cast<double>(batch.tokens());
  const double flops = 2 * t * (4 * h * h + 2 * h * inner) +
                       4.0 * state.range(0) * state.range(1) * state.range(1) * h;
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}

BENCHMARK(BM_BertBaseLayer)
    ->ArgNames({"batch", "seq", "threads", "optimized"})
    ->Args({1, 128, 1, 1})
    ->Args({1, 128, 2, 1})
    ->Args({8, 128, 2, 1})
    ->Args({1, 128, 1, 0})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
