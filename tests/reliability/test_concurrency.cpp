// One loaded Model shared by many threads: every concurrent result equals the serial one bit for
// bit, the OpenMP thread count changes results by rounding at most, and a call that throws leaves
// the Model as it was.
//
// Determinism contract tested here (docs/RELIABILITY.md): for a given Model, input and thread
// count, encode() is deterministic: the same bits whether it runs alone or alongside other calls on
// other threads. Each call's thread count is its own (EncodeOptions::threads, 0 = every core):
// calls made concurrently from 8 std::threads with threads = 1 or with the default match serial
// calls made with the same setting. Different thread counts may round differently (oneDNN may split
// a GEMM's work differently), within the tolerance of "one and two threads agree" below.
//
// Catch2 2.x assertions are not thread-safe, so worker threads only record mismatches; the main
// thread checks them after join().
#include <omp.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "vecformer/error.hpp"
#include "vecformer/model.hpp"

using namespace vecformer;

namespace {

const std::string kTinyBert = VECFORMER_SOURCE_DIR "/models/tiny-bert";
constexpr int kThreads = 8;

// Eight different batches: 1 to 8 sequences of 1 to 40 tokens (tiny-bert: vocab 1000, 128
// positions, 2 token types), some with token types.
std::vector<std::vector<Sequence>> make_batches(const Config& config) {
  std::mt19937 rng(20240611);
  std::uniform_int_distribution<int64_t> id(0, config.vocab_size - 1);
  std::uniform_int_distribution<int64_t> length(1, 40);
  std::uniform_int_distribution<int64_t> type(0, config.type_vocab_size - 1);
  std::vector<std::vector<Sequence>> batches(kThreads);
  for (int b = 0; b < kThreads; ++b) {
    for (int s = 0; s <= b; ++s) {
      Sequence sequence;
      const int64_t n = length(rng);
      for (int64_t t = 0; t < n; ++t) {
        sequence.input_ids.push_back(id(rng));
        if (s % 2 == 1) sequence.token_type_ids.push_back(type(rng));
      }
      batches[b].push_back(std::move(sequence));
    }
  }
  return batches;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape == b.shape && a.data.size() == b.data.size() &&
         std::memcmp(a.data.data(), b.data.data(), a.data.size() * sizeof(float)) == 0;
}

bool all_finite(const Tensor& t) {
  for (const float v : t.data) {
    if (!std::isfinite(v)) return false;
  }
  return true;
}

// Runs `body(thread_index)` on kThreads std::threads at once (released together) and returns the
// number of mismatches they reported.
template <class Body>
int run_concurrently(Body body) {
  std::atomic<int> mismatches{0};
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();
      mismatches.fetch_add(body(i));
    });
  }
  for (std::thread& t : threads) t.join();
  return mismatches.load();
}

const Model& tiny_bert(BackendKind backend) {
  static const Model optimized = Model::load(kTinyBert, {.backend = BackendKind::optimized});
  static const Model reference = Model::load(kTinyBert, {.backend = BackendKind::reference});
  return backend == BackendKind::optimized ? optimized : reference;
}

}  // namespace

TEST_CASE("8 threads sharing one Model get the serial results bit for bit",
          "[reliability][threads]") {
  const auto backend = GENERATE(BackendKind::optimized, BackendKind::reference);
  // 1: each call single-threaded; 0: each call uses every core (OpenMP teams per calling thread).
  const int threads = GENERATE(1, 0);
  CAPTURE(backend == BackendKind::optimized ? "optimized" : "reference", threads);
  const Model& model = tiny_bert(backend);
  const auto batches = make_batches(model.config());

  EncodeOptions plain{.threads = threads};
  EncodeOptions pooled{.threads = threads, .pooling = Pooling::mean, .normalize = true};
  std::vector<Tensor> expected, expected_pooled;
  std::vector<PackedOutput> expected_packed;
  for (const auto& batch : batches) {
    expected.push_back(model.encode(batch, plain));
    expected_pooled.push_back(model.encode(batch, pooled));
    expected_packed.push_back(model.encode_packed(batch, plain));
    REQUIRE(all_finite(expected.back()));
  }

  const int rounds = backend == BackendKind::optimized ? 6 : 2;
  const int mismatches = run_concurrently([&](int thread) {
    int bad = 0;
    for (int round = 0; round < rounds; ++round) {
      // Each thread walks the batches from its own starting point, so different batches (and row
      // counts, hence oneDNN primitives) are in flight at once.
      const int b = (thread + round) % kThreads;
      if (!same_bits(model.encode(batches[b], plain), expected[b])) ++bad;
      if (!same_bits(model.encode(batches[b], pooled), expected_pooled[b])) ++bad;
      const PackedOutput packed = model.encode_packed(batches[b], plain);
      if (packed.offsets != expected_packed[b].offsets ||
          !same_bits(packed.hidden, expected_packed[b].hidden)) {
        ++bad;
      }
    }
    return bad;
  });
  CHECK(mismatches == 0);
}

TEST_CASE("a call's thread count does not leak into the caller or other calls",
          "[reliability][threads]") {
  const Model& model = tiny_bert(BackendKind::optimized);
  const auto batches = make_batches(model.config());
  const int before = omp_get_max_threads();
  (void)model.encode(batches[3], {.threads = 2});
  CHECK(omp_get_max_threads() == before);
  (void)model.encode(batches[3], {.threads = 1});
  CHECK(omp_get_max_threads() == before);
}

TEST_CASE("one and two OpenMP threads agree on a loaded model", "[reliability][threads]") {
  const auto backend = GENERATE(BackendKind::optimized, BackendKind::reference);
  const Model& model = tiny_bert(backend);
  const auto batches = make_batches(model.config());
  for (const auto& batch : batches) {
    const Tensor one = model.encode(batch, {.threads = 1});
    const Tensor two = model.encode(batch, {.threads = 2});
    REQUIRE(one.shape == two.shape);
    if (backend == BackendKind::reference) {
      // The reference backend runs no threads at all: the setting cannot matter.
      CHECK(same_bits(one, two));
      continue;
    }
    // The xsimd kernels and attention blocks compute every output value in one thread, in the same
    // order, whatever the team size; only a oneDNN GEMM may be split differently, which reorders
    // float additions. Outputs are layer-normed (|h| of order 1): a reordering of the <= 256-term
    // dot products changes them by a few ulps of the terms, far below 1e-5.
    float worst = 0;
    for (size_t i = 0; i < one.data.size(); ++i) {
      worst = std::max(worst, std::abs(one.data[i] - two.data[i]));
    }
    CAPTURE(worst);
    CHECK(worst <= 1e-5f);
  }
}

TEST_CASE("a call that throws leaves the Model usable", "[reliability][threads]") {
  const Model& model = tiny_bert(BackendKind::optimized);
  const Config& config = model.config();
  const auto batches = make_batches(config);
  const Tensor expected = model.encode(batches[5], {.threads = 1});

  const std::vector<std::vector<Sequence>> bad = {
      {Sequence{{101, config.vocab_size, 102}, {}}},                     // id past the vocabulary
      {Sequence{{101, -1, 102}, {}}},                                    // negative id
      {Sequence{{1, 2}, {}}, Sequence{{}, {}}},                          // empty sequence
      {Sequence{std::vector<int64_t>(config.max_length() + 1, 7), {}}},  // too long
      {Sequence{{1, 2, 3}, {0, 2, 0}}},                                  // type id out of range
      {Sequence{{1, 2, 3}, {0, 1}}},                                     // types of another length
  };
  for (const auto& batch : bad) {
    CHECK_THROWS_AS(model.encode(batch, {.threads = 1}), Error);
    CHECK_THROWS_AS(model.encode_packed(batch), Error);
    CHECK(same_bits(model.encode(batches[5], {.threads = 1}), expected));
  }

  // The same with other threads encoding at the same time: half throw, half must be unaffected.
  const int mismatches = run_concurrently([&](int thread) {
    int problems = 0;
    for (int round = 0; round < 4; ++round) {
      if (thread % 2 == 0) {
        try {
          (void)model.encode(bad[(thread / 2 + round) % bad.size()], {.threads = 1});
          ++problems;  // should have thrown
        } catch (const Error&) {
        }
      } else if (!same_bits(model.encode(batches[5], {.threads = 1}), expected)) {
        ++problems;
      }
    }
    return problems;
  });
  CHECK(mismatches == 0);
  CHECK(same_bits(model.encode(batches[5], {.threads = 1}), expected));
}
