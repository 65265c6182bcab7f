// This CPU's fp32 FMA peak and bf16 dot-product peak: the ceilings the matmul-bound cases are
// measured against (bench/peers/peers.py reports each fp32 case's GFLOP/s as a share of the first).
//
// Twelve independent chains of AVX-512 vfmadd231ps per thread: enough to cover the FMA latency
// (4 cycles) on two FMA ports, with no loads or stores, so the loop runs at the FMA units' rate.
// Written in asm because a compiler may fold or reorder FMAs whose results are never used. The
// asm is compiled for x86-64 only, under a target attribute (no AVX-512 flag for the whole file),
// and run only when the CPU has avx512f.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <cstdint>

namespace {

constexpr int64_t kChains = 12;
constexpr int64_t kLanes = 16;  // fp32 lanes of a zmm register
// Loop trips per thread per benchmark iteration: about 0.4 GFLOP, a few ms on one core, long
// enough that the OpenMP fork/join around it does not count.
constexpr int64_t kTrips = int64_t{1} << 20;

#if defined(__x86_64__)
__attribute__((target("avx512f"))) void fma_chains(int64_t trips) {
  asm volatile(
      "vpxord %%zmm0, %%zmm0, %%zmm0\n\t"
      "vpxord %%zmm1, %%zmm1, %%zmm1\n\t"
      "1:\n\t"
      "vfmadd231ps %%zmm0, %%zmm1, %%zmm2\n\t"
      "vfmadd231ps %%zmm0, %%zmm1, %%zmm3\n\t"
      "vfmadd231ps %%zmm0, %%zmm1, %%zmm4\n\t"
      "vfmadd231ps %%zmm0, %%zmm1, %%zmm5\n\t"
      "vfmadd231ps %%zmm0, %%zmm1, %%zmm6\n\t"
      "vfmadd231ps %%zmm0, %%zmm1, %%zmm7\n\t"
      "vfmadd231ps %%zmm0, %%zmm1, %%zmm8\n\t"
      "vfmadd231ps %%zmm0, %%zmm1, %%zmm9\n\t"
      "vfmadd231ps %%zmm0, %%zmm1, %%zmm10\n\t"
      "vfmadd231ps %%zmm0, %%zmm1, %%zmm11\n\t"
      "vfmadd231ps %%zmm0, %%zmm1, %%zmm12\n\t"
      "vfmadd231ps %%zmm0, %%zmm1, %%zmm13\n\t"
      "dec %0\n\t"
      "jnz 1b\n\t"
      // Leave the upper halves clean so later SSE/AVX code pays no transition penalty.
      "vzeroupper\n\t"
      : "+r"(trips)
      :
      : "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
        "xmm10", "xmm11", "xmm12", "xmm13");
}

// The same with vdpbf16ps: each instruction multiplies 32 bf16 pairs and adds them into 16 fp32
// lanes (64 FLOP), the instruction oneDNN's bf16 GEMMs run on.
__attribute__((target("avx512f,avx512bf16"))) void bf16_dot_chains(int64_t trips) {
  asm volatile(
      "vpxord %%zmm0, %%zmm0, %%zmm0\n\t"
      "vpxord %%zmm1, %%zmm1, %%zmm1\n\t"
      "1:\n\t"
      "vdpbf16ps %%zmm0, %%zmm1, %%zmm2\n\t"
      "vdpbf16ps %%zmm0, %%zmm1, %%zmm3\n\t"
      "vdpbf16ps %%zmm0, %%zmm1, %%zmm4\n\t"
      "vdpbf16ps %%zmm0, %%zmm1, %%zmm5\n\t"
      "vdpbf16ps %%zmm0, %%zmm1, %%zmm6\n\t"
      "vdpbf16ps %%zmm0, %%zmm1, %%zmm7\n\t"
      "vdpbf16ps %%zmm0, %%zmm1, %%zmm8\n\t"
      "vdpbf16ps %%zmm0, %%zmm1, %%zmm9\n\t"
      "vdpbf16ps %%zmm0, %%zmm1, %%zmm10\n\t"
      "vdpbf16ps %%zmm0, %%zmm1, %%zmm11\n\t"
      "vdpbf16ps %%zmm0, %%zmm1, %%zmm12\n\t"
      "vdpbf16ps %%zmm0, %%zmm1, %%zmm13\n\t"
      "dec %0\n\t"
      "jnz 1b\n\t"
      "vzeroupper\n\t"
      : "+r"(trips)
      :
      : "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
        "xmm10", "xmm11", "xmm12", "xmm13");
}

bool has_avx512f() {
  return __builtin_cpu_supports("avx512f");
}
bool has_avx512bf16() {
  return __builtin_cpu_supports("avx512bf16");
}
#else
void fma_chains(int64_t) {}
void bf16_dot_chains(int64_t) {}
bool has_avx512f() {
  return false;
}
bool has_avx512bf16() {
  return false;
}
#endif

// Runs `chains` (kChains independent chains of one instruction doing flop_per_lane FLOP per fp32
// lane) on state.range(0) threads. Counter GFLOP, a rate (GFLOP/s): every thread's FLOPs over the
// wall time, i.e. summed over threads.
void run_peak(benchmark::State& state, bool supported, const char* missing, void (*chains)(int64_t),
              double flop_per_lane) {
  if (!supported) {
    state.SkipWithError(missing);
    return;
  }
  const int requested = static_cast<int>(state.range(0));
  int team = 0;
  for (auto _ : state) {
#pragma omp parallel num_threads(requested)
    {
#pragma omp single nowait
      team = omp_get_num_threads();
      chains(kTrips);
    }
  }
  const double flop_per_thread = flop_per_lane * kChains * kLanes * static_cast<double>(kTrips);
  state.counters["GFLOP"] =
      benchmark::Counter(flop_per_thread * team * static_cast<double>(state.iterations()) / 1e9,
                         benchmark::Counter::kIsRate);
  state.counters["omp_threads"] = team;
}

// vfmadd231ps: a multiply and an add per lane.
void BM_FmaPeak(benchmark::State& state) {
  run_peak(state, has_avx512f(), "no AVX-512 (x86-64 with avx512f needed)", fma_chains, 2.0);
}
BENCHMARK(BM_FmaPeak)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

// The bf16 ceiling, for the --dtype bf16 GEMMs. vdpbf16ps: two bf16 products and their sum added
// into each fp32 lane, 4 FLOP.
void BM_Bf16DotPeak(benchmark::State& state) {
  run_peak(state, has_avx512bf16(), "no AVX512-BF16", bf16_dot_chains, 4.0);
}
BENCHMARK(BM_Bf16DotPeak)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
