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
  bool head = false;
  int64_t masks = 1;
};

using Clock = std::chrono::steady_clock;

double median_of(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  return ms.size() % 2 ? ms[ms.size() / 2] : (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]) / 2;
}

// Milliseconds of each timed call of `call`, after the warm-up calls.
template <typename Call>
std::vector<double> time_calls(const Call& call, int warmup, int iters) {
  for (int i = 0; i < warmup; ++i) call();
  std::vector<double> ms;
  for (int i = 0; i < iters; ++i) {
    const auto start = Clock::now();
    call();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  return ms;
}

// --head: the encoder alone and the encoder with the folder's head on the same batch, the calls
// interleaved (encoder, head, encoder, ...) so that both see the same machine. The masked-LM head
// decodes `masks` tokens per sequence (its decoder runs on those rows only).
int bench_head(const BenchOptions& o, const Model& model, const std::vector<Sequence>& batch,
               const EncodeOptions& options) {
  const HeadKind kind = model.info().head.kind;
  if (kind == HeadKind::none) {
    throw Error(o.model +
                " has no task head to time (architectures in config.json name none "
                "vecformer has)");
  }
  std::vector<TokenPosition> positions;
  for (size_t i = 0; i < batch.size(); ++i) {
    const auto length = static_cast<int64_t>(batch[i].input_ids.size());
    for (int64_t m = 0; m < std::min(o.masks, length); ++m) {
      positions.push_back(
          {static_cast<int64_t>(i), (m + 1) * length / (std::min(o.masks, length) + 1)});
    }
  }
  const auto encoder = [&] { model.encode_packed(batch, options); };
  const auto with_head = [&] {
    switch (kind) {
      case HeadKind::sequence_classification:
        model.classify(batch, options);
        break;
      case HeadKind::token_classification:
        model.classify_tokens(batch, options);
        break;
      default:
        model.masked_lm_logits(batch, positions, options);
        break;
    }
  };
  const int warmup = std::max(1, o.iters / 10);
  encoder();
  with_head();
  std::vector<double> encoder_ms, head_ms;
  for (int i = 0; i < o.iters; ++i) {
    const auto e = time_calls(encoder, i == 0 ? warmup : 0, 1);
    const auto h = time_calls(with_head, i == 0 ? warmup : 0, 1);
    encoder_ms.push_back(e.front());
    head_ms.push_back(h.front());
  }
  const double encoder_median = median_of(encoder_ms), head_median = median_of(head_ms);
  const int threads = o.threads > 0 ? o.threads : omp_get_num_procs();
  const std::string head_name(to_string(kind));
  if (o.json) {
    std::cout << "{\"head\": \"" << head_name << "\", \"encoder_median_ms\": " << encoder_median
              << ", \"head_median_ms\": " << head_median
              << ", \"ratio\": " << head_median / encoder_median << ", \"batch\": " << o.batch
              << ", \"seq\": " << o.seq << ", \"masks\": " << positions.size()
              << ", \"threads\": " << threads << ", \"dtype\": \"" << o.dtype
              << "\", \"backend\": \"" << o.backend << "\", \"iters\": " << o.iters << "}\n";
  } else {
    std::cout << "batch " << o.batch << " x seq " << o.seq << ", " << count_text(threads, "thread")
              << ", " << o.backend << ", " << o.dtype << ": encoder median " << encoder_median
              << " ms, encoder + " << head_name << " head median " << head_median << " ms ("
              << head_median / encoder_median << "x)"
              << (kind == HeadKind::masked_lm
                      ? ", " + count_text(static_cast<int64_t>(positions.size()), "masked token")
                      : "")
              << " over " << count_text(o.iters, "iteration") << "\n";
  }
  return 0;
}

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
  LoadOptions with_head = load;
  with_head.load_head = o.head;
  const Model model = Model::load(o.model, with_head);
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
  if (o.head) return bench_head(o, model, batch, options);

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
  cmd->add_flag("--head", o->head,
                "Time the encoder with the folder's task head (classification, token "
                "classification, masked LM) against the encoder alone, on the same batch");
  cmd->add_option("--masks", o->masks,
                  "With --head on a masked-LM model: masked tokens per sequence (the decoder "
                  "runs on these rows only)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 16))
      ->capture_default_str();
  return [o] { return bench(*o); };
}

}  // namespace vecformer::cli
