#include "serve/server.hpp"

#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <functional>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "vecformer/error.hpp"

namespace vecformer::serve {

namespace {

// Control characters of a client's path never reach the log.
std::string printable(const std::string& text) {
  std::string out;
  for (const char c : text.substr(0, 200)) {
    const auto byte = static_cast<unsigned char>(c);
    out += byte < 0x20 || byte == 0x7f ? '?' : c;
  }
  return out;
}

// Set on the threads that serve connections beyond the pool (ConnectionPool's overflow).
thread_local bool t_overflow_connection = false;

// cpp-httplib gives each accepted connection to a task queue, and one thread serves it until it
// closes: with keep-alive, a connection holds its thread between requests. With a plain pool, a
// connection arriving while every thread holds one waits unseen in the pool's queue until some
// client closes (seconds under load: a load test at 4x the queue saw p99 of 20 s, for 429s). Here
// such a connection goes to a few overflow threads instead, whose handler answers at once — 429
// for work, the cheap routes as usual — with Connection: close, so that the client reconnects and
// the overflow thread moves on.
class ConnectionPool final : public httplib::TaskQueue {
 public:
  ConnectionPool(size_t threads, size_t overflow_threads) {
    for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { work(false); });
    for (size_t i = 0; i < overflow_threads; ++i) threads_.emplace_back([this] { work(true); });
  }

  void enqueue(std::function<void()> fn) override {
    {
      const std::lock_guard lock(mutex_);
      // A pool thread is free for it when more are idle than there are connections waiting.
      const bool overflow = idle_ <= jobs_.size();
      (overflow ? overflow_jobs_ : jobs_).push_back(std::move(fn));
    }
    ready_.notify_all();
  }

  void shutdown() override {
    {
      const std::lock_guard lock(mutex_);
      shutdown_ = true;
    }
    ready_.notify_all();
    for (std::thread& thread : threads_) thread.join();
  }

 private:
  void work(bool overflow) {
    t_overflow_connection = overflow;
    std::deque<std::function<void()>>& queue = overflow ? overflow_jobs_ : jobs_;
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock lock(mutex_);
        if (!overflow) ++idle_;
        ready_.wait(lock, [&] { return !queue.empty() || shutdown_; });
        if (!overflow) --idle_;
        if (queue.empty()) return;  // shut down, nothing left to serve
        fn = std::move(queue.front());
        queue.pop_front();
      }
      fn();
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;           // for the pool's threads
  std::deque<std::function<void()>> overflow_jobs_;  // arrived while every pool thread was busy
  size_t idle_ = 0;                                  // pool threads waiting for a connection
  bool shutdown_ = false;
  std::vector<std::thread> threads_;
};

// The routes an overflow connection still serves: cheap, and what a health check needs.
bool cheap_route(const std::string& method, const std::string& path) {
  return method == "GET" && (path == "/health" || path == "/info" || path == "/metrics");
}

void send(httplib::Response& res, const HttpResponse& response) {
  res.status = response.status;
  res.set_content(response.body, response.content_type.c_str());
}

// Debian's libcpp-httplib 0.11.4 listens with a backlog of 5 (CPPHTTPLIB_LISTEN_BACKLOG, compiled
// into the library), so a burst of more connections than that is refused by the kernel before the
// server sees it. Linux lets listen() be called again on a listening socket to change its
// backlog: find the socket httplib bound (listening, on `port`) and give it the system's maximum.
bool widen_backlog(int port) {
  for (int fd = 0; fd < 1024; ++fd) {
    int listening = 0;
    socklen_t size = sizeof listening;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) != 0 || !listening) continue;
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) continue;
    int bound = -1;
    if (address.ss_family == AF_INET)
      bound = ntohs(reinterpret_cast<sockaddr_in&>(address).sin_port);
    if (address.ss_family == AF_INET6)
      bound = ntohs(reinterpret_cast<sockaddr_in6&>(address).sin6_port);
    if (bound == port) return ::listen(fd, SOMAXCONN) == 0;
  }
  return false;
}

}  // namespace

Server::Server(ServerOptions options, Metrics& metrics)
    : options_(options), metrics_(metrics), http_(std::make_unique<httplib::Server>()) {
  httplib::Server& http = *http_;
  const int threads = options_.connection_threads;
  http.new_task_queue = [threads] {
    return new ConnectionPool(static_cast<size_t>(threads), kOverflowThreads);
  };
  http.set_payload_max_length(static_cast<size_t>(options_.payload_limit));
  http.set_read_timeout(options_.read_timeout_s, 0);
  http.set_write_timeout(options_.write_timeout_s, 0);
  http.set_keep_alive_timeout(options_.keep_alive_timeout_s);
  http.set_keep_alive_max_count(static_cast<size_t>(options_.keep_alive_max_count));
  // httplib writes a response's headers and body separately: with Nagle's algorithm the body then
  // waits for the client's delayed ACK (40 ms on Linux), which was the whole latency of a small
  // request on loopback.
  http.set_tcp_nodelay(true);

  const auto handler = [this](const httplib::Request& req, httplib::Response& res) {
    const auto start = std::chrono::steady_clock::now();
    const bool refuse = t_overflow_connection && !cheap_route(req.method, req.path);
    const HttpResponse response =
        refuse ? error_response(req.path, 429,
                                "every connection thread is busy (" +
                                    std::to_string(options_.connection_threads) +
                                    " open connections); retry on a new connection")
               : dispatch(req.method, req.path, req.body, req.get_header_value("Authorization"));
    send(res, response);
    if (t_overflow_connection) res.set_header("Connection", "close");
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    metrics_.count_request(route_label(req.path), response.status, ms / 1000);
    log(req.method, req.path, response, ms);
  };
  http.Get("(.*)", handler);
  http.Post("(.*)", handler);
  // What httplib refuses itself (a body over the limit: 413; a bad request line; other methods)
  // gets a JSON body too; the routes' own errors already have one.
  http.set_error_handler(httplib::Server::HandlerWithResponse(
      [this](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        const std::string message = res.status == 413
                                        ? "the request body is over --payload-limit (" +
                                              std::to_string(options_.payload_limit) + " bytes)"
                                        : "cannot serve " + req.method + " " + printable(req.path) +
                                              " (HTTP " + std::to_string(res.status) + ")";
        const HttpResponse response = error_response(req.path, res.status, message);
        send(res, response);
        metrics_.count_request(route_label(req.path), response.status, 0);
        log(req.method, req.path, response, 0);
        return httplib::Server::HandlerResponse::Handled;
      }));
}

Server::~Server() = default;

int Server::bind(const std::string& host, int port) {
  const int bound =
      port == 0 ? http_->bind_to_any_port(host) : (http_->bind_to_port(host, port) ? port : -1);
  if (bound < 0) {
    throw Error("cannot listen on " + host + ":" + std::to_string(port) +
                " (address in use, or not an address of this machine)");
  }
  if (!widen_backlog(bound)) {
    std::cerr << "vecformer serve: warning: could not widen the listen backlog (5 connections)\n";
  }
  return bound;
}

void Server::listen() {
  http_->listen_after_bind();
}

void Server::stop(std::chrono::milliseconds grace) {
  draining_.store(true);
  if (grace.count() > 0) std::this_thread::sleep_for(grace);
  http_->stop();
}

HttpResponse Server::dispatch(const std::string& method, const std::string& path,
                              const std::string& body, const std::string& authorization) const {
  const Service* service = service_.load();
  if (draining_.load()) return error_response(path, 503, "the server is shutting down");
  if (!service) return error_response(path, 503, "the model is loading");
  return service->handle(HttpRequest{method, path, body, authorization});
}

void Server::log(const std::string& method, const std::string& path, const HttpResponse& response,
                 double ms) const {
  if (options_.quiet) return;
  std::ostringstream line;
  line.precision(3);
  line << std::fixed << "vecformer serve: " << method << " " << printable(path) << " "
       << response.status << " inputs=" << response.inputs << " tokens=" << response.tokens
       << " queue_ms=" << response.queue_ms << " inference_ms=" << response.inference_ms
       << " ms=" << ms << "\n";
  std::cerr << line.str() << std::flush;
}

}  // namespace vecformer::serve
