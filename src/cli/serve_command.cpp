// `vecformer serve`: the HTTP server (src/serve/): TEI's routes and OpenAI's /v1/embeddings over a
// token-budget batcher and K engine teams. It listens first (/health answers 503 while the model
// loads) and stops on SIGINT or SIGTERM: no new connections, new requests on open ones get 503,
// every request already queued is answered, then exit 0.
#include <omp.h>
#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "serve/batcher.hpp"
#include "serve/http.hpp"
#include "serve/metrics.hpp"
#include "serve/server.hpp"
#include "vecformer/error.hpp"
#include "vecformer/model.hpp"
#include "vecformer/tokenizer.hpp"

namespace vecformer::cli {

namespace {

// After SIGTERM, how long new requests are still read (and answered 503) before the listening
// socket closes: a client that connected just before the signal gets an answer, not a reset.
constexpr std::chrono::milliseconds kDrainGrace{500};

struct ServeOptions {
  std::string model;
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string backend = "optimized";
  std::string dtype = "f32";
  std::string pooling;
  int threads = 0;
  int workers = 1;
  int64_t max_batch_tokens = 16384;
  int64_t max_concurrent_requests = 512;
  int64_t max_client_batch_size = 256;
  int64_t max_input_length = 0;
  bool auto_truncate = false;
  int64_t payload_limit = 2000000;
  std::string api_key;
  int read_timeout = 10;
  bool quiet = false;
};

std::optional<Pooling> parse_pooling(const std::string& name) {
  if (name.empty()) return std::nullopt;
  if (name == "none") return Pooling::none;
  if (name == "cls") return Pooling::cls;
  if (name == "mean") return Pooling::mean;
  if (name == "max") return Pooling::max;
  return Pooling::mean_sqrt_len;
}

// The folder's vocabulary when it has one; a folder of token ids only serves token-id inputs.
std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& folder) {
  if (!std::filesystem::exists(folder / "vocab.txt") &&
      !std::filesystem::exists(folder / "tokenizer.json")) {
    return nullptr;
  }
  return std::make_unique<Tokenizer>(Tokenizer::load(folder));
}

int serve(const ServeOptions& options) {
  warn_if_oversubscribed(options.threads);
  // SIGINT and SIGTERM are taken by one thread with sigwait, so every thread started from here
  // on (httplib's, the engine teams, OpenMP's) inherits them blocked.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  serve::Metrics metrics;
  serve::ServerOptions server_options;
  server_options.payload_limit = options.payload_limit;
  // Each open connection holds a thread while it waits for its batch (and, kept alive, between
  // requests): enough for every request the queue admits, and at least 256, so that a full queue
  // answers 429 at once on kept-alive connections instead of making clients reconnect through the
  // overflow threads (at 4x a queue of 64, closing refused connections cost TCP reconnects whose
  // SYN retries took seconds).
  server_options.connection_threads =
      static_cast<int>(std::clamp<int64_t>(options.max_concurrent_requests + 8, 256, 1024));
  server_options.read_timeout_s = options.read_timeout;
  server_options.write_timeout_s = options.read_timeout;
  server_options.quiet = options.quiet;
  serve::Server server(server_options, metrics);
  const int port = server.bind(options.host, options.port);
  // Always printed (scripts read the port when --port 0 picked it).
  std::cerr << "vecformer serve: listening on http://" << options.host << ":" << port << "\n"
            << std::flush;
  std::thread http([&server] { server.listen(); });
  std::thread signal_waiter([&server, signals] {
    int signal = 0;
    sigwait(&signals, &signal);
    std::cerr << "vecformer serve: " << (signal == SIGINT ? "SIGINT" : "SIGTERM") << ": draining\n"
              << std::flush;
    server.stop(kDrainGrace);
  });
  // On every way out it is blocked in sigwait or done: not joined (an error exit must not wait
  // for a signal).
  signal_waiter.detach();

  std::optional<Model> model;
  std::unique_ptr<Tokenizer> tokenizer;
  try {
    LoadOptions load = load_options(options.backend, options.dtype);
    // A sequence-classification head serves /rerank and /predict. (A masked-LM folder's decoder
    // is loaded too, and unused: the head kind is known only from the loaded config.)
    load.load_head = true;
    model.emplace(Model::load(options.model, load));
    tokenizer = load_tokenizer(model->info().transformer_folder);
    if (options.max_input_length > model->config().max_length()) {
      throw UsageError("--max-input-length " + std::to_string(options.max_input_length) +
                       " is more than the model's position table (" +
                       std::to_string(model->config().max_length()) + ")");
    }
  } catch (...) {
    server.stop();
    http.join();
    throw;
  }
  const std::optional<Pooling> pooling = parse_pooling(options.pooling);
  const Pooling engine_pooling = pooling.value_or(model->default_pooling());

  serve::BatcherOptions batcher_options;
  batcher_options.max_batch_tokens = options.max_batch_tokens;
  batcher_options.max_concurrent_requests = options.max_concurrent_requests;
  batcher_options.workers = options.workers;
  batcher_options.threads = model->backend() == BackendKind::reference ? options.workers
                            : options.threads > 0                      ? options.threads
                                                                       : omp_get_num_procs();
  serve::Batcher batcher(
      batcher_options,
      serve::model_engine(*model, engine_pooling == Pooling::none ? Pooling::cls : engine_pooling),
      [&metrics](const serve::BatchStats& stats) { metrics.observe_batch(stats); });

  serve::ServiceOptions service_options;
  service_options.model_id = std::filesystem::path(options.model).filename().string();
  if (service_options.model_id.empty())
    service_options.model_id = std::filesystem::path(options.model).parent_path().filename();
  service_options.dtype = options.dtype;
  service_options.pooling = pooling;
  service_options.max_client_batch_size = options.max_client_batch_size;
  service_options.max_input_length = options.max_input_length;
  service_options.auto_truncate = options.auto_truncate;
  service_options.api_key = options.api_key;
  service_options.max_batch_tokens = options.max_batch_tokens;
  service_options.max_concurrent_requests = options.max_concurrent_requests;
  service_options.payload_limit = options.payload_limit;
  service_options.workers = options.workers;
  const serve::Service service(*model, tokenizer.get(), batcher, metrics, service_options);
  server.set_service(&service);
  if (!options.quiet) {
    std::string teams;
    for (const int t : batcher.team_threads())
      teams += (teams.empty() ? "" : "+") + std::to_string(t);
    std::cerr << "vecformer serve: ready: " << options.model << " (" << options.dtype << ", "
              << count_text(options.workers, "team") << " of " << teams
              << (teams == "1" ? " thread, " : " threads, ")
              << (tokenizer ? "text and token ids" : "token ids only") << ")\n"
              << std::flush;
  }

  http.join();     // after stop(): every connection answered and closed
  batcher.stop();  // whatever is still queued is computed (nothing is: its requests waited above)
  if (!options.quiet) std::cerr << "vecformer serve: stopped\n";
  return 0;
}

}  // namespace

Runner add_serve_command(CLI::App& app) {
  auto options = std::make_shared<ServeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "serve",
      "HTTP server: TEI's /embed, /embed_all, /tokenize, /rerank, /predict and OpenAI's "
      "/v1/embeddings, with dynamic batching of packed tokens");
  cmd->add_option("--model", options->model, "Model folder (as for `vecformer run`)")->required();
  cmd->add_option("--host", options->host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", options->port, "Port (0: any free port, printed on stderr)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  add_engine_options(*cmd, options->backend, options->threads);
  add_dtype_option(*cmd, options->dtype);
  cmd->add_option("--workers", options->workers,
                  "Engine teams sharing the one model; --threads are split between them")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  cmd->add_option("--pooling", options->pooling,
                  "none, cls, mean, max or mean_sqrt_len (default: the folder's "
                  "sentence-transformers pooling; a folder without one serves /embed only with "
                  "this option)")
      ->check(CLI::IsMember({"none", "cls", "mean", "max", "mean_sqrt_len"}));
  cmd->add_option("--max-batch-tokens", options->max_batch_tokens,
                  "Real (packed) tokens per batch; a longer single input runs alone")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 24));
  cmd->add_option("--max-concurrent-requests", options->max_concurrent_requests,
                  "Requests queued or running at once; more are answered 429 at once")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  cmd->add_option("--max-client-batch-size", options->max_client_batch_size,
                  "Inputs per request; more is 422")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  cmd->add_option("--max-input-length", options->max_input_length,
                  "Tokens per input, [CLS] and [SEP] included (default: the folder's limit, as "
                  "for `vecformer run --text`)")
      ->check(CLI::Range(int64_t{2}, int64_t{1} << 20));
  cmd->add_flag("--auto-truncate", options->auto_truncate,
                "Truncate longer inputs instead of answering 422 (a request's `truncate` wins)");
  cmd->add_option("--payload-limit", options->payload_limit, "Bytes of request body; more is 413")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 32));
  cmd->add_option("--api-key", options->api_key,
                  "Require Authorization: Bearer KEY on every route but /health");
  cmd->add_option("--read-timeout", options->read_timeout,
                  "Seconds a client may stay silent mid-request (or not read its answer) before "
                  "its connection is dropped")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  cmd->add_flag("--quiet", options->quiet, "No log line per request");
  return [options] { return serve(*options); };
}

}  // namespace vecformer::cli
