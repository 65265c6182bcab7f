// A Model kept for hours and fed batches of every size: the GEMM primitives are made per row bucket
// and kept in bounded caches, so memory stays bounded over thousands of distinct token counts; a
// call made from inside the caller's own OpenMP parallel region computes what it computes outside;
// linears without a bias (GLU and rotary models) run on every backend and dtype.
#include <omp.h>

#include <unistd.h>
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "backend/backend.hpp"
#include "backend/optimized/onednn_int8_linear.hpp"
#include "backend/optimized/onednn_linear.hpp"
#include "backend/optimized/row_buckets.hpp"
#include "backend/optimized/weight_packing.hpp"
#include "encoder/encoder.hpp"
#include "support/random_model.hpp"
#include "vecformer/model.hpp"

using namespace vecformer;

namespace {

// Resident memory of this process in bytes (/proc/self/statm: pages).
int64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

// `tokens` tokens in sequences of at most 16 (attention stays cheap; the GEMMs see all tokens).
std::vector<Sequence> sequences_of(int64_t tokens, int64_t vocab) {
  std::vector<Sequence> batch;
  for (int64_t done = 0; done < tokens; done += 16) {
    Sequence s;
    for (int64_t t = done; t < std::min(tokens, done + 16); ++t) s.input_ids.push_back(t % vocab);
    batch.push_back(std::move(s));
  }
  return batch;
}

}  // namespace

TEST_CASE(
    "row buckets: at least the rows, 16-aligned, at most 1/16 extra past 256, exact at 128 "
    "and 1024",
    "[long-running][buckets]") {
  CHECK(detail::row_bucket(1) == 16);
  CHECK(detail::row_bucket(128) == 128);
  CHECK(detail::row_bucket(129) == 144);
  CHECK(detail::row_bucket(256) == 256);
  CHECK(detail::row_bucket(257) == 272);
  CHECK(detail::row_bucket(513) == 544);
  CHECK(detail::row_bucket(1024) == 1024);
  CHECK(detail::row_bucket(16384) == 16384);
  int64_t previous = 0, distinct = 0;
  for (int64_t rows = 1; rows <= 16384; ++rows) {
    const int64_t bucket = detail::row_bucket(rows);
    INFO("rows " << rows << " bucket " << bucket);
    REQUIRE(bucket >= rows);
    REQUIRE(bucket % 16 == 0);
    REQUIRE(bucket >= previous);  // monotone: a larger batch never gets a smaller primitive
    if (rows > 256) REQUIRE((bucket - rows) * 16 <= rows);
    if (bucket != previous) ++distinct;
    previous = bucket;
  }
  // 16 buckets up to 256, then 16 per doubling: 16 + 16 · log2(16384 / 256).
  CHECK(distinct == 16 + 16 * 6);
}

TEST_CASE("a linear keeps at most kCapacity primitives over every row count and thread count",
          "[long-running][buckets]") {
  const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  std::mt19937 rng(5);
  const int64_t in = 24, out = 40;
  const auto weights = test::random_linear(rng, out, in);
  const detail::OneDnnLinear f32(engine, weights, nullptr, ComputeType::f32);
  const detail::OneDnnInt8Linear int8(engine, weights, nullptr);
  detail::OptimizedScratch scratch(engine);
  const int64_t largest = 3000, room = detail::row_bucket(largest);
  const auto x = test::random_values(rng, static_cast<size_t>(room * in), 1.0f);
  std::vector<float> y(static_cast<size_t>(room * out));
  for (const detail::OptimizedLinear* linear :
       {static_cast<const detail::OptimizedLinear*>(&f32),
        static_cast<const detail::OptimizedLinear*>(&int8)}) {
    for (int64_t rows = 1; rows <= largest; rows += 7) {
      linear->run(x.data(), rows, y.data(), scratch,
                  detail::Execution{1 + static_cast<int>(rows % 2)});
    }
    CHECK(linear->cached_primitives() == detail::PrimitiveCache<int>::kCapacity);
  }
  // The scratch's bindings follow the primitives still alive: two linears' worth at most.
  CHECK(scratch.bindings() <= 2 * detail::PrimitiveCache<int>::kCapacity);
}

TEST_CASE("memory stays bounded over thousands of distinct token counts", "[long-running]") {
  // A small encoder on one thread, so that 3,000 forwards of up to 3,000 tokens take seconds: the
  // primitives' memory (JIT code, descriptors) hardly depends on the matrix sizes.
  test::RandomModelSpec spec;
  spec.heads = 2;
  spec.head_dim = 8;
  spec.intermediate = 32;
  const detail::Encoder encoder(test::random_weights(spec, 31), detail::make_optimized_backend());
  const int64_t largest = 3000;
  std::vector<float> hidden(static_cast<size_t>(largest * encoder.config().hidden_size));
  const auto forward = [&](int64_t tokens) {
    const auto batch = detail::Batch::pack(sequences_of(tokens, spec.vocab), encoder.config());
    encoder.forward(batch, hidden.data(), detail::Execution{1});  // one thread: no team waits
  };
  // The workspace grows to the largest batch once; measure from there.
  forward(largest);
  for (int64_t tokens = 1; tokens <= 100; ++tokens) forward(tokens);
  const int64_t before = resident_bytes();
  for (int64_t tokens = 1; tokens <= largest; ++tokens) forward(tokens);
  const int64_t grown = resident_bytes() - before;
  INFO("resident memory grew by " << grown / 1024 << " KiB over " << largest << " token counts");
  // One primitive per count and linear, ~37 KiB each, grew by ~440 MB here. Now at most kCapacity
  // per linear are kept, and oneDNN's own primitive cache (1024 entries by default,
  // DNNL_PRIMITIVE_CACHE_CAPACITY) holds those of every bucket seen: here 72 buckets x 4 linears,
  // ~10.5 of the 14 MB measured (3.5 MB with DNNL_PRIMITIVE_CACHE_CAPACITY=0).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // The sanitizers keep freed memory (ASan's quarantine) and shadow every byte: RSS says nothing
  // about the program here.
  WARN("resident memory not checked under a sanitizer");
#else
  CHECK(grown < 24 * 1024 * 1024);
#endif
}

TEST_CASE("a Model called inside the caller's OpenMP parallel region computes what it does outside",
          "[long-running][threads]") {
  const std::string folder = VECFORMER_SOURCE_DIR "/models/tiny-bert";
  const ComputeType dtype = GENERATE(ComputeType::f32, ComputeType::bf16, ComputeType::int8);
  CAPTURE(static_cast<int>(dtype));
  LoadOptions load;
  load.dtype = dtype;
  const Model model = Model::load(folder, load);
  std::mt19937 rng(9);
  const auto batch = test::random_sequences(rng, {37, 1, 100, 12}, model.config().vocab_size, 2);
  EncodeOptions one_thread;
  one_thread.threads = 1;
  const Tensor outside_one = model.encode(batch, one_thread);
  const Tensor outside = model.encode(batch);

  const int caller_threads = 2;
  std::vector<Tensor> inside(caller_threads);
  std::vector<int> max_threads_seen(caller_threads, 0);
#pragma omp parallel num_threads(caller_threads)
  {
    const int me = omp_get_thread_num();
    const int before = omp_get_max_threads();
    inside[me] = model.encode(batch);
    max_threads_seen[me] = omp_get_max_threads() == before ? 1 : 0;
  }
  for (int t = 0; t < caller_threads; ++t) {
    INFO("caller thread " << t);
    if (inside[t].data.empty()) continue;  // the team came out smaller
    // Inside a region every call runs on its calling thread alone: one thread's bits.
    CHECK(inside[t].data == outside_one.data);
    CHECK(test::max_abs_diff(inside[t].data, outside.data) < 1e-4f);
    CHECK(max_threads_seen[t] == 1);  // the caller's setting inside its region is untouched
  }
}

TEST_CASE("linears without a bias equal linears with a zero bias on every backend and dtype",
          "[long-running][bias]") {
  std::mt19937 rng(17);
  const int64_t in = 48, out = 72;
  const detail::LinearWeights with = [&] {
    detail::LinearWeights w = test::random_linear(rng, out, in);
    std::fill(w.bias.begin(), w.bias.end(), 0.0f);
    return w;
  }();
  detail::LinearWeights without = with;
  without.bias.clear();
  const Activation gelu = Activation::gelu_erf;
  for (const int64_t rows : {1, 5, 33}) {
    const auto backend_kind = GENERATE(0, 1, 2, 3);  // reference, f32, bf16, int8
    CAPTURE(rows, backend_kind);
    const auto backend =
        backend_kind == 0 ? detail::make_reference_backend()
                          : detail::make_optimized_backend(backend_kind == 1   ? ComputeType::f32
                                                           : backend_kind == 2 ? ComputeType::bf16
                                                                               : ComputeType::int8);
    const int64_t padded = backend->padded_rows(rows);
    const auto x = test::random_values(rng, static_cast<size_t>(padded * in), 1.0f);
    const auto scratch = backend->make_scratch();
    const detail::Execution exec{2};
    for (const Activation* act : {static_cast<const Activation*>(nullptr), &gelu}) {
      const auto a = backend->prepare_linear(with, act);
      const auto b = backend->prepare_linear(without, act);
      std::vector<float> ya(static_cast<size_t>(padded * out)), yb(ya.size());
      backend->linear(*a, x.data(), rows, ya.data(), *scratch, exec);
      backend->linear(*b, x.data(), rows, yb.data(), *scratch, exec);
      ya.resize(static_cast<size_t>(rows * out));  // the padding rows are scratch
      yb.resize(ya.size());
      CHECK(ya == yb);
    }
  }
}

TEST_CASE("an encoder without biases: optimized matches the reference", "[long-running][bias]") {
  test::RandomModelSpec spec;
  spec.heads = 3;
  spec.head_dim = 8;
  spec.layers = 2;
  detail::EncoderWeights weights = test::random_weights(spec, 23);
  for (detail::LayerWeights& layer : weights.layers) {
    for (detail::LinearWeights* linear :
         {&layer.qkv, &layer.attention_out, &layer.ffn_in, &layer.ffn_out}) {
      linear->bias.clear();
    }
  }
  std::mt19937 rng(24);
  const auto sequences = test::random_sequences(rng, {9, 1, 30}, spec.vocab, spec.type_vocab);
  const detail::Encoder optimized(weights, detail::make_optimized_backend());
  const detail::Encoder reference(weights, detail::make_reference_backend());
  const auto batch = detail::Batch::pack(sequences, optimized.config());
  std::vector<float> a(static_cast<size_t>(batch.tokens() * optimized.config().hidden_size)),
      b(a.size());
  optimized.forward(batch, a.data(), detail::Execution{2});
  reference.forward(batch, b.data(), detail::Execution{1});
  CHECK(test::max_abs_diff(a, b) <
        2e-4f);  // the optimized backend's tolerance against the reference
}

TEST_CASE("weights packed into oneDNN's blocked layout equal oneDNN's own reorder, bit for bit",
          "[long-running][load]") {
  using dnnl::memory;
  const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  std::mt19937 rng(41);
  // BERT-base shapes and small ones; a shape that is not a whole number of tiles is refused.
  for (const auto& [out, in] : std::vector<std::pair<int64_t, int64_t>>{
           {64, 16}, {128, 48}, {2304, 768}, {768, 3072}, {192, 32}}) {
    CAPTURE(out, in);
    const auto w = test::random_values(rng, static_cast<size_t>(out * in), 1.0f);
    const memory::desc target({in, out}, memory::data_type::f32, memory::format_tag::BA16a64b);
    memory plain(memory::desc({in, out}, memory::data_type::f32, memory::format_tag::ba), engine,
                 const_cast<float*>(w.data()));
    memory expected(target, engine);
    dnnl::reorder(plain, expected).execute(stream, plain, expected);
    stream.wait();
    const size_t floats = target.get_size() / sizeof(float);
    const auto* want = static_cast<const float*>(expected.get_data_handle());
    std::vector<float> packed(floats, -1.0f);
    REQUIRE(detail::pack_weights_ba16a64b(w.data(), out, in, target, packed.data()));
    CHECK(std::equal(packed.begin(), packed.end(), want));
    // The same matrix as three stacked row blocks (query, key, value) when each is whole tiles.
    if (out % 3 == 0 && (out / 3) % 64 == 0) {
      const int64_t rows = out / 3;
      const std::vector<const float*> blocks = {w.data(), w.data() + rows * in,
                                                w.data() + 2 * rows * in};
      std::vector<float> stacked(floats, -1.0f);
      REQUIRE(detail::pack_weights_ba16a64b(blocks, rows, in, target, stacked.data()));
      CHECK(std::equal(stacked.begin(), stacked.end(), want));
    }
  }
  std::vector<float> room(64 * 24);
  const std::vector<float> w(64 * 24, 1.0f);
  CHECK_FALSE(detail::pack_weights_ba16a64b(
      w.data(), 64, 24,
      memory::desc({24, 64}, memory::data_type::f32, memory::format_tag::BA16a64b), room.data()));
  CHECK_FALSE(detail::pack_weights_ba16a64b(
      w.data(), 64, 16, memory::desc({16, 64}, memory::data_type::f32, memory::format_tag::ab),
      room.data()));
}
