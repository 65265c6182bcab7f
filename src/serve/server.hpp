#pragma once

// The HTTP server of `vecformer serve`: cpp-httplib (Debian's libcpp-httplib) bound to a Service.
// It listens before the model is loaded, so that /health answers 503 while loading; every request
// gets 503 while loading or draining. One log line per request on stderr unless quiet.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "serve/http.hpp"
#include "serve/metrics.hpp"

namespace httplib {
class Server;
}

namespace vecformer::serve {

// Threads that answer connections arriving while every connection thread holds one: 429 for work
// (the cheap GET routes as usual), then the connection is closed.
inline constexpr size_t kOverflowThreads = 4;

struct ServerOptions {
  int64_t payload_limit = 2000000;  // bytes of body; more is 413 (the body is not kept)
  int connection_threads = 64;      // each open connection holds one while it is served
  int read_timeout_s = 10;          // a client silent this long mid-request is dropped
  int write_timeout_s = 10;
  int keep_alive_timeout_s = 5;
  int keep_alive_max_count = 1000;  // requests per connection
  bool quiet = false;
};

class Server {
 public:
  Server(ServerOptions options, Metrics& metrics);
  ~Server();

  // Binds the listening socket; port 0 picks a free one. Returns the bound port; throws
  // vecformer::Error when the address cannot be bound.
  int bind(const std::string& host, int port);
  // Serves until stop(); returns once every connection has been answered and closed.
  void listen();
  // Ready: requests reach the service (which must outlive listen()).
  void set_service(const Service* service) { service_.store(service); }
  // Drains: answers new requests with 503 (and /health 503) at once, keeps accepting for `grace`
  // so that connections the kernel had already accepted get that answer rather than a reset
  // (httplib closes connections it has not started reading when it stops), then stops accepting
  // and lets listen() return once every request being served is answered. Safe from any thread.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(0));

 private:
  HttpResponse dispatch(const std::string& method, const std::string& path, const std::string& body,
                        const std::string& authorization) const;
  void log(const std::string& method, const std::string& path, const HttpResponse& response,
           double ms) const;

  ServerOptions options_;
  Metrics& metrics_;
  std::unique_ptr<httplib::Server> http_;
  std::atomic<const Service*> service_{nullptr};
  std::atomic<bool> draining_{false};
};

}  // namespace vecformer::serve
