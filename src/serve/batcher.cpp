#include "serve/batcher.hpp"

#include <algorithm>
#include <atomic>
#include <utility>

namespace vecformer::serve {

using Clock = std::chrono::steady_clock;

namespace {

double ms_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// `threads` split as evenly as possible between `teams`, each getting at least one.
std::vector<int> split_threads(int threads, int teams) {
  teams = std::max(teams, 1);
  threads = std::max(threads, teams);
  std::vector<int> split(static_cast<size_t>(teams), threads / teams);
  for (int i = 0; i < threads % teams; ++i) ++split[static_cast<size_t>(i)];
  return split;
}

}  // namespace

// One request's state, shared by its items: each team that finishes an item writes its own slot,
// and whoever finishes the last one answers.
struct Batcher::Request {
  std::vector<ItemResult> results;
  std::atomic<size_t> remaining;
  std::mutex error_lock;
  std::exception_ptr error;
  std::promise<std::vector<ItemResult>> promise;

  explicit Request(size_t n) : results(n), remaining(n) {}
};

RunBatch model_engine(const Model& model, Pooling pooling) {
  const Model* m = &model;
  return [m, pooling](Task task, const std::vector<Sequence>& batch, int threads) {
    EncodeOptions options;
    options.threads = threads;
    const int64_t hidden = m->config().hidden_size;
    std::vector<ItemResult> results(batch.size());
    if (task == Task::embed) {
      options.pooling = pooling;
      options.normalize = false;
      const Tensor out = m->encode(batch, options);
      for (size_t i = 0; i < batch.size(); ++i) {
        const auto begin = out.data.begin() + static_cast<std::ptrdiff_t>(i) * hidden;
        results[i].values.assign(begin, begin + hidden);
        results[i].rows = 1;
      }
    } else if (task == Task::embed_all) {
      const PackedOutput out = m->encode_packed(batch, options);
      for (size_t i = 0; i < batch.size(); ++i) {
        const auto begin = out.hidden.data.begin() + out.offsets[i] * hidden;
        const auto end = out.hidden.data.begin() + out.offsets[i + 1] * hidden;
        results[i].values.assign(begin, end);
        results[i].rows = out.offsets[i + 1] - out.offsets[i];
      }
    } else {
      // Model::classify throws when the folder has no sequence-classification head.
      const LabelScores out = m->classify(batch, options);
      const int64_t labels = out.logits.shape.back();
      for (size_t i = 0; i < batch.size(); ++i) {
        const auto row = static_cast<std::ptrdiff_t>(i) * labels;
        results[i].values.assign(out.logits.data.begin() + row,
                                 out.logits.data.begin() + row + labels);
        results[i].values.insert(results[i].values.end(), out.scores.data.begin() + row,
                                 out.scores.data.begin() + row + labels);
        results[i].rows = 2;
      }
    }
    return results;
  };
}

Batcher::Batcher(BatcherOptions options, RunBatch run,
                 std::function<void(const BatchStats&)> on_batch)
    : options_(options),
      run_(std::move(run)),
      on_batch_(std::move(on_batch)),
      team_threads_(split_threads(options.threads, options.workers)) {
  for (const int threads : team_threads_)
    teams_.emplace_back([this, threads] { team_loop(threads); });
}

Batcher::~Batcher() {
  stop(true);
}

std::future<std::vector<ItemResult>> Batcher::submit(Task task, std::vector<Sequence> inputs) {
  if (inputs.empty()) throw Error("a request needs at least one input");
  auto request = std::make_shared<Request>(inputs.size());
  std::future<std::vector<ItemResult>> future = request->promise.get_future();
  const Clock::time_point now = Clock::now();
  {
    std::lock_guard<std::mutex> guard(lock_);
    if (stopping_) throw ShuttingDown("the server is shutting down");
    if (in_flight_ >= options_.max_concurrent_requests) {
      throw QueueFull("the queue is full: " + std::to_string(in_flight_) +
                      " requests in flight (--max-concurrent-requests " +
                      std::to_string(options_.max_concurrent_requests) + ")");
    }
    ++in_flight_;
    for (size_t i = 0; i < inputs.size(); ++i)
      queue_.push_back(Item{request, i, std::move(inputs[i]), task, now});
  }
  // One batch's worth may be ready for several idle teams.
  work_.notify_all();
  return future;
}

std::vector<Batcher::Item> Batcher::take_batch() {
  // The oldest input decides the task; later inputs of that task join it in arrival order while
  // the budget allows (the first that does not fit ends the batch, so none is overtaken twice).
  const Task task = queue_.front().task;
  std::vector<Item> batch;
  std::deque<Item> rest;
  int64_t tokens = 0;
  bool full = false;
  for (Item& item : queue_) {
    const auto length = static_cast<int64_t>(item.sequence.input_ids.size());
    if (!full && item.task == task) {
      if (batch.empty() || tokens + length <= options_.max_batch_tokens) {
        tokens += length;
        batch.push_back(std::move(item));
        continue;
      }
      full = true;
    }
    rest.push_back(std::move(item));
  }
  queue_.swap(rest);
  return batch;
}

void Batcher::team_loop(int threads) {
  for (;;) {
    std::vector<Item> batch;
    bool more = false;
    {
      std::unique_lock<std::mutex> guard(lock_);
      work_.wait(guard, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() || (stopping_ && !drain_)) return;
      batch = take_batch();
      more = !queue_.empty();
    }
    if (more) work_.notify_one();

    const Clock::time_point start = Clock::now();
    BatchStats stats;
    stats.inputs = static_cast<int64_t>(batch.size());
    std::vector<Sequence> sequences;
    sequences.reserve(batch.size());
    for (Item& item : batch) {
      stats.tokens += static_cast<int64_t>(item.sequence.input_ids.size());
      stats.queue_ms.push_back(ms_between(item.queued, start));
      sequences.push_back(std::move(item.sequence));
    }
    std::vector<ItemResult> results;
    std::exception_ptr error;
    try {
      results = run_(batch.front().task, sequences, threads);
      if (results.size() != batch.size()) throw Error("the engine returned the wrong result count");
    } catch (...) {
      error = std::current_exception();
    }
    stats.inference_ms = ms_between(start, Clock::now());
    if (on_batch_) on_batch_(stats);
    for (size_t i = 0; i < batch.size(); ++i) {
      if (!error) {
        results[i].queue_ms = stats.queue_ms[i];
        results[i].inference_ms = stats.inference_ms;
      }
      finish_item(batch[i], error ? nullptr : &results[i], error);
    }
  }
}

void Batcher::finish_item(Item& item, ItemResult* result, std::exception_ptr error) {
  Request& request = *item.request;
  if (result) {
    request.results[item.index] = std::move(*result);
  } else {
    std::lock_guard<std::mutex> guard(request.error_lock);
    if (!request.error) request.error = error;
  }
  if (request.remaining.fetch_sub(1) != 1) return;
  // The last item of its request: free the request's slot, then answer (so that a client that
  // has its answer finds its slot free).
  {
    std::lock_guard<std::mutex> guard(lock_);
    --in_flight_;
  }
  if (request.error) {
    request.promise.set_exception(request.error);
  } else {
    request.promise.set_value(std::move(request.results));
  }
}

void Batcher::stop(bool drain) {
  std::deque<Item> abandoned;
  {
    std::lock_guard<std::mutex> guard(lock_);
    if (!stopping_) {
      stopping_ = true;
      drain_ = drain;
    }
    if (!drain_) abandoned.swap(queue_);
  }
  work_.notify_all();
  for (std::thread& team : teams_)
    if (team.joinable()) team.join();
  const auto error =
      std::make_exception_ptr(ShuttingDown("the server stopped before this input ran"));
  for (Item& item : abandoned) finish_item(item, nullptr, error);
}

int64_t Batcher::queued_inputs() const {
  std::lock_guard<std::mutex> guard(lock_);
  return static_cast<int64_t>(queue_.size());
}

int64_t Batcher::requests_in_flight() const {
  std::lock_guard<std::mutex> guard(lock_);
  return in_flight_;
}

}  // namespace vecformer::serve
