// The four GEMMs of a BERT-base layer (QKV, attention output, FFN in with GELU, FFN out) on 128
// and 1024 (8 x 128) token rows, one linear at a time, float32 and bf16, as the optimized backend
// runs them (oneDNN matmul, bias and GELU fused, scratch from the caller). GFLOP/s against
// BM_FmaPeak and BM_Bf16DotPeak says how close each GEMM runs to this CPU's peak. Items processed =
// tokens.
#include <benchmark/benchmark.h>
#include <omp.h>

#include "backend/optimized/onednn_linear.hpp"
#include "support/random_model.hpp"

namespace {

using namespace vecformer;

// Arguments: bf16 (1) or float32 (0), output features, input features, GELU fused (1) or not,
// token rows, threads.
void BM_Linear(benchmark::State& state) {
  const ComputeType dtype = state.range(0) ? ComputeType::bf16 : ComputeType::f32;
  const int64_t out = state.range(1), in = state.range(2), rows = state.range(4);
  std::mt19937 rng(1);
  const Activation gelu = Activation::gelu_erf;
  const Activation* act = state.range(3) ? &gelu : nullptr;
  const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  const detail::OneDnnLinear linear(engine, test::random_linear(rng, out, in), act, dtype);
  const auto x = test::random_values(rng, static_cast<size_t>(rows * in), 1.0f);
  std::vector<float> y(static_cast<size_t>(rows * out));
  detail::OptimizedScratch scratch(engine);
  const detail::Execution exec{static_cast<int>(state.range(5))};
  for (auto _ : state) {
    linear.run(x.data(), rows, y.data(), scratch, exec);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetItemsProcessed(state.iterations() * rows);
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * rows * out * in * state.iterations() / 1e9,
                                                 benchmark::Counter::kIsRate);
}

void bert_base_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"bf16", "out", "in", "gelu", "rows", "threads"});
  for (int bf16 : {0, 1})
    for (int rows : {128, 1024})
      for (int threads : {1, 2}) {
        b->Args({bf16, 2304, 768, 0, rows, threads});
        b->Args({bf16, 768, 768, 0, rows, threads});
        b->Args({bf16, 3072, 768, 1, rows, threads});
        b->Args({bf16, 768, 3072, 0, rows, threads});
      }
  // What the fused GELU costs: FFN in without it.
  for (int bf16 : {0, 1}) b->Args({bf16, 3072, 768, 0, 1024, 2});
}

BENCHMARK(BM_Linear)->Apply(bert_base_shapes)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
