// The HTTP binding on loopback, for what the script tests cannot time: before a service is set (the
// model is loading) every route answers 503 with a JSON body, and after stop() listen() returns.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <thread>

#include "serve/metrics.hpp"
#include "serve/server.hpp"

using namespace vecformer::serve;

TEST_CASE("server answers 503 while loading and stops on request", "[serve]") {
  Metrics metrics;
  ServerOptions options;
  options.quiet = true;
  Server server(options, metrics);
  const int port = server.bind("127.0.0.1", 0);
  REQUIRE(port > 0);
  std::thread listener([&] { server.listen(); });

  httplib::Client client("127.0.0.1", port);
  const auto health = client.Get("/health");
  REQUIRE(health);
  CHECK(health->status == 503);
  const auto embed = client.Post("/embed", R"({"inputs": "x"})", "application/json");
  REQUIRE(embed);
  CHECK(embed->status == 503);
  const auto body = nlohmann::json::parse(embed->body);
  CHECK(body["error_type"] == "unhealthy");
  CHECK(body["error"] == "the model is loading");
  const auto openai = client.Post("/v1/embeddings", R"({"input": "x"})", "application/json");
  REQUIRE(openai);
  CHECK(openai->status == 503);
  CHECK(nlohmann::json::parse(openai->body)["error"]["type"] == "server_error");

  server.stop();
  listener.join();  // returns: nothing left to serve
  CHECK_FALSE(httplib::Client("127.0.0.1", port).Get("/health"));
}
