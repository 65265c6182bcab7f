// The serve queue and batcher without sockets: results come back per request in order and equal
// direct Model::encode bit for bit; batches keep the token budget and never mix tasks; a full queue
// is refused at once; many submitters at once each get their own results; failures and stops reach
// every waiting request.
//
// Catch2 2.x assertions are not thread-safe: submitter threads record, the main thread checks.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "serve/batcher.hpp"
#include "vecformer/model.hpp"

using namespace vecformer;
using namespace vecformer::serve;

namespace {

const std::string kTinyBert = VECFORMER_SOURCE_DIR "/models/tiny-bert";

Sequence ids_of(std::vector<int64_t> ids) {
  return Sequence{std::move(ids), {}};
}

// Sequences of 1 to max_length random ids.
std::vector<Sequence> random_inputs(std::mt19937& rng, size_t n, int64_t vocab,
                                    int64_t max_length) {
  std::uniform_int_distribution<int64_t> id(0, vocab - 1);
  std::uniform_int_distribution<int64_t> length(1, max_length);
  std::vector<Sequence> inputs;
  for (size_t i = 0; i < n; ++i) {
    Sequence s;
    for (int64_t t = length(rng); t > 0; --t) s.input_ids.push_back(id(rng));
    inputs.push_back(std::move(s));
  }
  return inputs;
}

// An engine that answers each input with its own ids (as floats) and records its batches; while
// `hold` is set, every batch waits for it to clear, so tests can fill the queue behind a running
// batch.
struct RecordingEngine {
  std::mutex lock;
  std::vector<std::vector<int64_t>> batch_lengths;
  std::vector<Task> batch_tasks;
  std::atomic<bool> hold{false};
  std::atomic<int> running{0};

  RunBatch function() {
    return [this](Task task, const std::vector<Sequence>& batch, int) {
      ++running;
      while (hold) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      std::vector<ItemResult> results;
      std::vector<int64_t> lengths;
      for (const Sequence& s : batch) {
        results.push_back({std::vector<float>(s.input_ids.begin(), s.input_ids.end()), 1});
        lengths.push_back(static_cast<int64_t>(s.input_ids.size()));
      }
      {
        std::lock_guard<std::mutex> guard(lock);
        batch_lengths.push_back(lengths);
        batch_tasks.push_back(task);
      }
      --running;
      return results;
    };
  }
};

void wait_until(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!condition() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  REQUIRE(condition());
}

}  // namespace

TEST_CASE("batcher results equal direct Model::encode, in each request's order", "[serve]") {
  const Model model = Model::load(kTinyBert);
  std::mt19937 rng(15);
  // Two teams of one thread each, compared with one-thread direct calls: a sequence's bits do not
  // depend on the batch it shares (attention runs per sequence, the rest per token), only on the
  // thread count.
  Batcher batcher(
      {.max_batch_tokens = 64, .max_concurrent_requests = 64, .workers = 2, .threads = 2},
      model_engine(model, Pooling::mean));
  CHECK(batcher.team_threads() == std::vector<int>{1, 1});

  constexpr int kRequests = 12;
  std::vector<std::vector<Sequence>> requests;
  for (int r = 0; r < kRequests; ++r)
    requests.push_back(random_inputs(rng, 1 + r % 5, model.config().vocab_size, 40));
  std::vector<std::future<std::vector<ItemResult>>> embed, embed_all;
  for (const auto& inputs : requests) {
    embed.push_back(batcher.submit(Task::embed, inputs));
    embed_all.push_back(batcher.submit(Task::embed_all, inputs));
  }
  const int64_t hidden = model.config().hidden_size;
  for (int r = 0; r < kRequests; ++r) {
    const std::vector<ItemResult> pooled = embed[r].get();
    const std::vector<ItemResult> states = embed_all[r].get();
    const Tensor direct =
        model.encode(requests[r], {.threads = 1, .pooling = Pooling::mean, .normalize = false});
    const PackedOutput packed = model.encode_packed(requests[r], {.threads = 1});
    REQUIRE(pooled.size() == requests[r].size());
    REQUIRE(states.size() == requests[r].size());
    for (size_t i = 0; i < pooled.size(); ++i) {
      INFO("request " << r << " input " << i);
      REQUIRE(pooled[i].rows == 1);
      REQUIRE(pooled[i].values.size() == static_cast<size_t>(hidden));
      CHECK(std::memcmp(pooled[i].values.data(), direct.data.data() + i * hidden,
                        hidden * sizeof(float)) == 0);
      const int64_t rows = packed.offsets[i + 1] - packed.offsets[i];
      REQUIRE(states[i].rows == rows);
      REQUIRE(states[i].values.size() == static_cast<size_t>(rows * hidden));
      CHECK(std::memcmp(states[i].values.data(),
                        packed.hidden.data.data() + packed.offsets[i] * hidden,
                        rows * hidden * sizeof(float)) == 0);
    }
  }
}

TEST_CASE("batcher batches keep the token budget and one task each", "[serve]") {
  RecordingEngine engine;
  engine.hold = true;
  Batcher batcher(
      {.max_batch_tokens = 10, .max_concurrent_requests = 100, .workers = 1, .threads = 1},
      engine.function());
  // The first request runs alone (no delay: it starts as soon as the team is free); the rest
  // queue behind it and are batched together when it finishes.
  auto first = batcher.submit(Task::embed, {ids_of({1, 2, 3})});
  wait_until([&] { return engine.running == 1; });
  std::vector<std::future<std::vector<ItemResult>>> futures;
  const std::vector<int64_t> lengths = {4, 4, 4, 12, 1, 9, 2, 3, 5};
  for (size_t i = 0; i < lengths.size(); ++i) {
    const Task task = i == 6 ? Task::embed_all : Task::embed;
    futures.push_back(batcher.submit(task, {ids_of(std::vector<int64_t>(lengths[i], 7))}));
  }
  engine.hold = false;
  CHECK(first.get()[0].values == std::vector<float>{1, 2, 3});
  for (size_t i = 0; i < futures.size(); ++i)
    CHECK(futures[i].get()[0].values.size() == static_cast<size_t>(lengths[i]));
  batcher.stop();

  REQUIRE(engine.batch_lengths.size() == engine.batch_tasks.size());
  std::vector<int64_t> seen;
  for (size_t b = 0; b < engine.batch_lengths.size(); ++b) {
    int64_t tokens = 0;
    for (int64_t length : engine.batch_lengths[b]) tokens += length;
    INFO("batch " << b << ": " << tokens << " tokens in " << engine.batch_lengths[b].size());
    // Over budget only as a single input longer than the budget.
    CHECK((tokens <= 10 || engine.batch_lengths[b].size() == 1));
    seen.insert(seen.end(), engine.batch_lengths[b].begin(), engine.batch_lengths[b].end());
  }
  // Batched at all (fewer batches than inputs), and every input ran exactly once.
  CHECK(engine.batch_lengths.size() < lengths.size() + 1);
  CHECK(seen.size() == lengths.size() + 1);
  // The one embed_all input ran in a batch of its own task.
  int embed_all_batches = 0;
  for (size_t b = 0; b < engine.batch_tasks.size(); ++b) {
    if (engine.batch_tasks[b] != Task::embed_all) continue;
    ++embed_all_batches;
    CHECK(engine.batch_lengths[b] == std::vector<int64_t>{2});
  }
  CHECK(embed_all_batches == 1);
}

TEST_CASE("batcher refuses a request at once when the queue is full", "[serve]") {
  RecordingEngine engine;
  engine.hold = true;
  Batcher batcher(
      {.max_batch_tokens = 100, .max_concurrent_requests = 2, .workers = 1, .threads = 1},
      engine.function());
  auto a = batcher.submit(Task::embed, {ids_of({1})});
  auto b = batcher.submit(Task::embed, {ids_of({2}), ids_of({3})});
  CHECK(batcher.requests_in_flight() == 2);
  const auto before = std::chrono::steady_clock::now();
  CHECK_THROWS_AS(batcher.submit(Task::embed, {ids_of({4})}), QueueFull);
  // "At once": no waiting for a slot (the engine is held, so a wait would never end).
  CHECK(std::chrono::steady_clock::now() - before < std::chrono::seconds(1));
  engine.hold = false;
  CHECK(a.get()[0].values == std::vector<float>{1});
  const auto b_results = b.get();
  CHECK(b_results[1].values == std::vector<float>{3});
  CHECK(batcher.requests_in_flight() == 0);
  CHECK(batcher.submit(Task::embed, {ids_of({5})}).get()[0].values == std::vector<float>{5});
}

TEST_CASE("batcher serves many concurrent submitters, each its own results", "[serve]") {
  RecordingEngine engine;
  Batcher batcher(
      {.max_batch_tokens = 50, .max_concurrent_requests = 1000, .workers = 3, .threads = 3},
      engine.function());
  constexpr int kThreads = 8;
  constexpr int kRequestsEach = 40;
  std::atomic<int> wrong{0}, answered{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(1000 + t);
      for (int r = 0; r < kRequestsEach; ++r) {
        const std::vector<Sequence> inputs = random_inputs(rng, 1 + r % 7, 1000, 20);
        const std::vector<ItemResult> results = batcher.submit(Task::embed, inputs).get();
        bool same = results.size() == inputs.size();
        for (size_t i = 0; same && i < inputs.size(); ++i) {
          same = results[i].values ==
                 std::vector<float>(inputs[i].input_ids.begin(), inputs[i].input_ids.end());
        }
        if (!same) ++wrong;
        ++answered;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(wrong == 0);
  CHECK(answered == kThreads * kRequestsEach);
  CHECK(batcher.requests_in_flight() == 0);
  CHECK(batcher.queued_inputs() == 0);
}

TEST_CASE("batcher passes engine failures and stops to the waiting requests", "[serve]") {
  SECTION("an engine error fails every request of its batch") {
    Batcher batcher({}, [](Task, const std::vector<Sequence>&, int) -> std::vector<ItemResult> {
      throw Error("engine failed");
    });
    auto future = batcher.submit(Task::embed, {ids_of({1}), ids_of({2})});
    CHECK_THROWS_WITH(future.get(), "engine failed");
    CHECK(batcher.requests_in_flight() == 0);
  }
  SECTION("the model engine refuses classify on a model without a head") {
    const Model model = Model::load(kTinyBert);
    Batcher batcher({}, model_engine(model, Pooling::cls));
    CHECK_THROWS_AS(batcher.submit(Task::classify, {ids_of({1, 2})}).get(), Error);
  }
  SECTION("stop without drain fails what had not started; submit after stop is refused") {
    RecordingEngine engine;
    engine.hold = true;
    Batcher batcher(
        {.max_batch_tokens = 1, .max_concurrent_requests = 10, .workers = 1, .threads = 1},
        engine.function());
    auto running = batcher.submit(Task::embed, {ids_of({1})});
    wait_until([&] { return engine.running == 1; });
    auto waiting = batcher.submit(Task::embed, {ids_of({2})});
    std::thread releaser([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      engine.hold = false;
    });
    batcher.stop(false);
    releaser.join();
    CHECK(running.get()[0].values == std::vector<float>{1});
    CHECK_THROWS_AS(waiting.get(), ShuttingDown);
    CHECK_THROWS_AS(batcher.submit(Task::embed, {ids_of({3})}), ShuttingDown);
  }
  SECTION("stop with drain answers everything queued") {
    RecordingEngine engine;
    Batcher batcher(
        {.max_batch_tokens = 2, .max_concurrent_requests = 100, .workers = 2, .threads = 2},
        engine.function());
    std::vector<std::future<std::vector<ItemResult>>> futures;
    for (int64_t i = 0; i < 50; ++i) futures.push_back(batcher.submit(Task::embed, {ids_of({i})}));
    batcher.stop(true);
    for (int64_t i = 0; i < 50; ++i)
      CHECK(futures[i].get()[0].values == std::vector<float>{static_cast<float>(i)});
  }
}
