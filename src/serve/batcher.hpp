#pragma once

// The queue and the batcher of `vecformer serve`, apart from HTTP so that they are tested without
// sockets. Requests arrive as lists of single inputs (token ids), are queued one input at a time,
// and leave the queue in packed batches bounded by a token budget (the sum of real tokens, since a
// batch is packed: no padding is ever computed). K engine teams each take the next batch as soon
// as they are free (no fixed delay: a lone request runs at once, and requests that arrive while
// every team is busy are batched together). Each request's results come back in its own order.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "vecformer/error.hpp"
#include "vecformer/model.hpp"

namespace vecformer::serve {

// What a batch computes. Items of different tasks never share a batch (they need different encode
// calls); the engine function below knows how to run each.
enum class Task {
  embed,      // one pooled vector per input (not normalized: the route normalizes if asked)
  embed_all,  // every token's last hidden state
  classify,   // one row of label scores per input (needs a sequence-classification head)
};

// One input's result: `rows` rows of `values.size() / rows` floats.
struct ItemResult {
  std::vector<float> values;
  int64_t rows = 0;
  // Set by the batcher, for the request's log line: time queued, and its batch's time in the
  // engine.
  double queue_ms = 0;
  double inference_ms = 0;
};

// Runs one batch of inputs of one task with `threads` threads, returning one result per input in
// order. Called by one team at a time per team; teams call it concurrently.
using RunBatch = std::function<std::vector<ItemResult>(Task, const std::vector<Sequence>&, int)>;

// The engine over a Model: embed pools with `pooling` (must not be none), embed_all returns packed
// token states, classify runs the sequence-classification head (Model::classify; an Error when the
// model was loaded without one). The model must outlive the function.
RunBatch model_engine(const Model& model, Pooling pooling);

// What one batch was, for metrics.
struct BatchStats {
  int64_t inputs = 0;
  int64_t tokens = 0;
  double inference_ms = 0;
  std::vector<double> queue_ms;  // per input: from submit to the batch's start
};

struct BatcherOptions {
  int64_t max_batch_tokens = 16384;       // a longer single input is a batch alone
  int64_t max_concurrent_requests = 512;  // requests admitted and not yet answered
  int workers = 1;                        // engine teams
  int threads = 1;                        // split between the teams (each gets at least one)
};

// submit() when max_concurrent_requests requests are already in flight: the route answers 429.
class QueueFull : public Error {
 public:
  using Error::Error;
};
// submit() after stop(), or a request whose work had not started when the batcher stopped without
// draining: the route answers 503.
class ShuttingDown : public Error {
 public:
  using Error::Error;
};

class Batcher {
 public:
  Batcher(BatcherOptions options, RunBatch run,
          std::function<void(const BatchStats&)> on_batch = {});
  ~Batcher();  // stop(true)
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // Queues one request's inputs (at least one, each non-empty) and returns the future of their
  // results in the same order. Never blocks: throws QueueFull or ShuttingDown at once. The
  // future holds the engine's exception if its batch failed.
  std::future<std::vector<ItemResult>> submit(Task task, std::vector<Sequence> inputs);

  // Stops accepting; with drain, every queued input is still computed, else the requests not yet
  // started fail with ShuttingDown. Joins the teams. Idempotent.
  void stop(bool drain = true);

  // Inputs waiting (not yet in a batch) and requests admitted and not yet answered.
  int64_t queued_inputs() const;
  int64_t requests_in_flight() const;
  // Threads of each team, for reports.
  const std::vector<int>& team_threads() const { return team_threads_; }

 private:
  struct Request;
  struct Item {
    std::shared_ptr<Request> request;
    size_t index;
    Sequence sequence;
    Task task;
    std::chrono::steady_clock::time_point queued;
  };

  void team_loop(int threads);
  std::vector<Item> take_batch();  // under lock_, queue not empty
  void finish_item(Item& item, ItemResult* result, std::exception_ptr error);

  const BatcherOptions options_;
  const RunBatch run_;
  const std::function<void(const BatchStats&)> on_batch_;
  std::vector<int> team_threads_;

  mutable std::mutex lock_;
  std::condition_variable work_;
  std::deque<Item> queue_;
  int64_t in_flight_ = 0;
  bool stopping_ = false;
  bool drain_ = true;
  std::vector<std::thread> teams_;
};

}  // namespace vecformer::serve
