// `vecformer bench`: times encode on random ids: warm-up, then median and minimum over iterations.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <random>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "vecformer/error.hpp"
#include "vecformer/model.hpp"

#include <omp.h>

namespace vecformer::cli {

namespace {

struct BenchOptions {
  std::string model;
  std::string backend = "optimized";
  std::string dtype = "f32";
  int threads = 0;
  int64_t batch = 1;
  int64_t seq = 128;
  int iters = 20;
  double padding_fraction = 0.0;
  bool json = false;
};

// Lengths whose sum is (1 - padding_fraction) of batch × seq, varying across the batch (between
// about half and all of the mean length, the longest kept at seq), so padding-free batching can be
// measured.
std::vector<int64_t> sequence_lengths(const BenchOptions& o, std::mt19937& rng) {
  const auto total =
      static_cast<int64_t>(std::llround((1.0 - o.padding_fraction) * o.batch * o.seq));
  std::vector<int64_t> lengths(o.batch, o.seq);
  if (o.padding_fraction == 0.0) return lengths;
  std::vector<double> weights(o.batch);
  std::uniform_real_distribution<double> spread(0.5, 1.5);
  for (double& w : weights) w = spread(rng);
  const double sum = [&] {
    double s = 0;
    for (double w : weights) s += w;
    return s;
  }();
  int64_t assigned = 0;
  for (int64_t i = 0; i < o.batch; ++i) {
    lengths[i] = std::clamp<int64_t>(std::llround(total * weights[i] / sum), 1, o.seq);
    assigned += lengths[i];
  }
  // Put the rounding remainder where it fits, so the real-token count is exact.
  for (int64_t i = 0; assigned != total && i < 4 * o.batch; ++i) {
    int64_t& l = lengths[i % o.batch];
    if (assigned < total && l < o.seq) {
      ++l;
      ++assigned;
    }
    if (assigned > total && l > 1) {
      --l;
      --assigned;
    }
  }
  return lengths;
}

int bench(const BenchOptions& o) {
  warn_if_oversubscribed(o.threads);
  const LoadOptions load = load_options(o.backend, o.dtype);
  const auto load_start = std::chrono::steady_clock::now();
  const Model model = Model::load(o.model, load);
  const double load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - load_start)
          .count();
  if (o.seq > model.config().max_length()) {
    throw UsageError("--seq " + std::to_string(o.seq) + " is longer than the model's maximum " +
                     std::to_string(model.config().max_length()));
  }
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int64_t> id(0, model.config().vocab_size - 1);
  std::vector<Sequence> batch;
  int64_t tokens = 0;
  for (int64_t length : sequence_lengths(o, rng)) {
    Sequence s;
    for (int64_t t = 0; t < length; ++t) s.input_ids.push_back(id(rng));
    tokens += length;
    batch.push_back(std::move(s));
  }
  EncodeOptions options;
  options.threads = o.threads;
  options.pooling = Pooling::none;

  // The first call also creates this shape's primitives (oneDNN generates their code).
  const auto first_start = std::chrono::steady_clock::now();
  model.encode_packed(batch, options);
  const double first_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - first_start)
          .count();
  const int warmup = std::max(1, o.iters / 10);
  for (int i = 0; i < warmup; ++i) model.encode_packed(batch, options);
  std::vector<double> ms;
  for (int i = 0; i < o.iters; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const PackedOutput out = model.encode_packed(batch, options);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  std::sort(ms.begin(), ms.end());
  const double median =
      ms.size() % 2 ? ms[ms.size() / 2] : (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]) / 2;
  const double tokens_per_s = tokens / (median / 1000.0);
  const int threads = o.threads > 0 ? o.threads : omp_get_num_procs();
  const LoadTimes& times = model.info().load_times;
  if (o.json) {
    std::cout << "{\"median_ms\": " << median << ", \"min_ms\": " << ms.front()
              << ", \"tokens_per_s\": " << tokens_per_s << ", \"tokens\": " << tokens
              << ", \"batch\": " << o.batch << ", \"seq\": " << o.seq
              << ", \"padding_fraction\": " << o.padding_fraction << ", \"threads\": " << threads
              << ", \"dtype\": \"" << o.dtype << "\", \"backend\": \"" << o.backend
              << "\", \"iters\": " << o.iters << ", \"load_ms\": " << load_ms
              << ", \"load_open_ms\": " << times.open_ms << ", \"load_read_ms\": " << times.read_ms
              << ", \"load_prepare_ms\": " << times.prepare_ms
              << ", \"first_call_ms\": " << first_ms << "}\n";
  } else {
    std::cout << "batch " << o.batch << " x seq " << o.seq << " (" << tokens << " real tokens), "
              << count_text(threads, "thread") << ", " << o.backend << ", " << o.dtype
              << ": median " << median << " ms, min " << ms.front() << " ms, "
              << static_cast<int64_t>(tokens_per_s) << " tokens/s over "
              << count_text(o.iters, "iteration") << "; load " << load_ms << " ms (open "
              << times.open_ms << ", read " << times.read_ms << ", prepare " << times.prepare_ms
              << "), first call " << first_ms << " ms\n";
  }
  return 0;
}

}  // namespace

Runner add_bench_command(CLI::App& app) {
  auto o = std::make_shared<BenchOptions>();
  CLI::App* cmd = app.add_subcommand("bench", "Time encoding of random token ids");
  cmd->add_option("--model", o->model, "Model folder")->required();
  // Defaults shown in --help: a timing is only comparable when one knows what it ran.
  cmd->add_option("--batch", o->batch, "Sequences per batch")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  cmd->add_option("--seq", o->seq, "Tokens per sequence (the longest, with padding)")
      ->check(CLI::Range(1, 1 << 16))
      ->capture_default_str();
  add_engine_options(*cmd, o->backend, o->threads);
  cmd->get_option("--backend")->capture_default_str();
  add_dtype_option(*cmd, o->dtype);
  cmd->get_option("--dtype")->capture_default_str();
  cmd->add_option("--iters", o->iters, "Timed iterations")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--padding-fraction", o->padding_fraction,
                  "Fraction of the batch × seq slots that are padding (sequences shortened)")
      ->check(CLI::Range(0.0, 0.95))
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "One JSON object on stdout");
  return [o] { return bench(*o); };
}

}  // namespace vecformer::cli
