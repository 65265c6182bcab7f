// Row kernels at BERT-base shapes, fast kernel and reference twin side by side.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "backend/optimized/kernels/kernels.hpp"
#include "backend/reference/reference_ops.hpp"

namespace {

using namespace vecformer;

std::vector<float> random_row(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

template <bool Fast>
void BM_LayerNorm768(benchmark::State& state) {
  auto x = random_row(768, 1);
  const auto delta = random_row(768, 2), gamma = random_row(768, 3), beta = random_row(768, 4);
  std::vector<float> out(768);
  for (auto _ : state) {
    if constexpr (Fast) {
      detail::kernels::add_layer_norm_row(x.data(), delta.data(), gamma.data(), beta.data(), 1e-12f,
                                          768, out.data());
    } else {
      detail::reference::add_layer_norm_row(x.data(), delta.data(), gamma.data(), beta.data(),
                                            1e-12f, 768, out.data());
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LayerNorm768<true>);
BENCHMARK(BM_LayerNorm768<false>);

template <bool Fast>
void BM_Softmax128(benchmark::State& state) {
  const auto source = random_row(128, 5);
  auto x = source;
  for (auto _ : state) {
    x = source;
    if constexpr (Fast) {
      detail::kernels::softmax(x.data(), 128);
    } else {
      detail::reference::softmax(x.data(), 128);
    }
    benchmark::DoNotOptimize(x.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Softmax128<true>);
BENCHMARK(BM_Softmax128<false>);

template <bool Fast>
void BM_GeluErf3072(benchmark::State& state) {
  const auto source = random_row(3072, 6);
  auto x = source;
  for (auto _ : state) {
    x = source;
    if constexpr (Fast) {
      detail::kernels::activation(x.data(), 3072, Activation::gelu_erf);
    } else {
      detail::reference::activation(x.data(), 3072, Activation::gelu_erf);
    }
    benchmark::DoNotOptimize(x.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GeluErf3072<true>);
BENCHMARK(BM_GeluErf3072<false>);

// One head (dimension 64) over a sequence of state.range(0) tokens: items = tokens.
enum class AttentionKind { reference, fast, bf16 };

template <AttentionKind Kind>
void BM_AttentionHead(benchmark::State& state) {
  if (Kind == AttentionKind::bf16 && !detail::kernels::avx512_bf16_supported()) {
    state.SkipWithError("this CPU has no AVX512-BF16");
    return;
  }
  const int64_t length = state.range(0), hidden = 768, head_dim = 64;
  const auto qkv = random_row(length * 3 * hidden, 7);
  std::vector<float> context(length * hidden),
      scratch(Kind == AttentionKind::bf16
                  ? detail::kernels::attention_bf16_scratch_floats(length, head_dim)
                  : detail::kernels::attention_scratch_floats(length, head_dim));
  for (auto _ : state) {
    if constexpr (Kind == AttentionKind::fast) {
      detail::kernels::attention_head(qkv.data(), 3 * hidden, hidden, length, head_dim,
                                      context.data(), hidden, scratch.data());
    } else if constexpr (Kind == AttentionKind::bf16) {
      detail::kernels::attention_head_bf16(qkv.data(), 3 * hidden, hidden, length, head_dim,
                                           context.data(), hidden, scratch.data());
    } else {
      detail::reference::attention_head(qkv.data(), 3 * hidden, hidden, length, head_dim,
                                        context.data(), hidden);
    }
    benchmark::DoNotOptimize(context.data());
  }
  state.SetItemsProcessed(state.iterations() * length);
  // Two products of 2·length²·head_dim flops each.
  state.counters["GFLOP/s"] = benchmark::Counter(
      4.0 * length * length * head_dim * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
void attention_lengths(benchmark::internal::Benchmark* b) {
  b->ArgName("length")->Arg(32)->Arg(128)->Arg(512)->Arg(2048)->Arg(4096);
}
// <true> / <false>: the float32 kernel and the reference, the names earlier measurements use
// (commit messages, docs/PERFORMANCE_NOTES.md).
BENCHMARK(BM_AttentionHead<AttentionKind::fast>)
    ->Name("BM_AttentionHead<true>")
    ->Apply(attention_lengths);
// bf16 products (--dtype bf16 on CPUs with AVX512-BF16).
BENCHMARK(BM_AttentionHead<AttentionKind::bf16>)
    ->Name("BM_AttentionHeadBf16")
    ->Apply(attention_lengths);
BENCHMARK(BM_AttentionHead<AttentionKind::reference>)
    ->Name("BM_AttentionHead<false>")
    ->ArgName("length")
    ->Arg(128);

// A local-window layer's head (ModernBERT: window 128, keys within 64 positions) with an ALiBi
// slope, over state.range(0) tokens: its time per token should stay flat as the length grows.
template <AttentionKind Kind>
void BM_AttentionHeadLocal(benchmark::State& state) {
  if (Kind == AttentionKind::bf16 && !detail::kernels::avx512_bf16_supported()) {
    state.SkipWithError("this CPU has no AVX512-BF16");
    return;
  }
  const int64_t length = state.range(0), window = state.range(1), hidden = 768, head_dim = 64;
  const float slope = 0.0625f;
  const auto qkv = random_row(length * 3 * hidden, 8);
  std::vector<float> context(length * hidden),
      scratch(Kind == AttentionKind::bf16
                  ? detail::kernels::attention_bf16_scratch_floats(length, head_dim)
                  : detail::kernels::attention_scratch_floats(length, head_dim));
  for (auto _ : state) {
    if constexpr (Kind == AttentionKind::bf16) {
      detail::kernels::attention_head_bf16(qkv.data(), 3 * hidden, hidden, length, head_dim,
                                           context.data(), hidden, scratch.data(), slope, window);
    } else {
      detail::kernels::attention_head(qkv.data(), 3 * hidden, hidden, length, head_dim,
                                      context.data(), hidden, scratch.data(), slope, window);
    }
    benchmark::DoNotOptimize(context.data());
  }
  state.SetItemsProcessed(state.iterations() * length);
}
void local_attention_lengths(benchmark::internal::Benchmark* b) {
  b->ArgNames({"length", "window"});
  for (int64_t length : {512, 2048, 8192}) b->Args({length, 128});
}
BENCHMARK(BM_AttentionHeadLocal<AttentionKind::fast>)->Apply(local_attention_lengths);
BENCHMARK(BM_AttentionHeadLocal<AttentionKind::bf16>)->Apply(local_attention_lengths);

}  // namespace
