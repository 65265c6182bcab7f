#pragma once

// The routes of `vecformer serve` as plain functions of a request: JSON in, JSON out, errors as
// statuses and bodies. No sockets here (server.hpp binds these to cpp-httplib), so every route and
// error is testable by a call. Text is tokenized on the calling (connection) thread; the inputs
// then go through the Batcher.
#include <cstdint>
#include <optional>
#include <string>

#include "serve/batcher.hpp"
#include "serve/metrics.hpp"
#include "vecformer/model.hpp"
#include "vecformer/tokenizer.hpp"

#include <nlohmann/json_fwd.hpp>

namespace vecformer::serve {

struct HttpRequest {
  std::string method;
  std::string path;
  std::string body;
  std::string authorization;  // the Authorization header, empty when absent
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // For the request's log line: inputs, real tokens, and the longest queue and engine times of its
  // inputs.
  int64_t inputs = 0;
  int64_t tokens = 0;
  double queue_ms = 0;
  double inference_ms = 0;
};

struct ServiceOptions {
  std::string model_id;  // what /info and the OpenAI route report
  std::string dtype = "f32";
  std::optional<Pooling> pooling;  // unset: the folder's; none: /embed cannot be served
  int64_t max_client_batch_size = 256;
  int64_t max_input_length = 0;      // 0: the model's max_sequence_length()
  bool auto_truncate = false;        // default of each request's `truncate`
  std::string api_key;               // empty: no authentication
  int64_t max_batch_tokens = 16384;  // for /info
  int64_t max_concurrent_requests = 512;
  int64_t payload_limit = 2000000;
  int workers = 1;
};

// The route label of a path for metrics and logs: one of the known routes, else "other" (so that
// unknown paths do not grow the metrics).
std::string route_label(const std::string& path);

// A JSON error body in the route's format: {"error": message, "error_type": type}, or OpenAI's
// {"error": {"message", "type", "param", "code"}} for /v1/ paths. TEI's type follows the status
// unless given (400 is "malformed", or "empty" / "unsupported" when the route says so).
HttpResponse error_response(const std::string& path, int status, const std::string& message,
                            const char* type = nullptr);

class Service {
 public:
  // tokenizer may be null (a folder with token ids only): text inputs are then refused with 422.
  // Everything passed must outlive the Service.
  Service(const Model& model, const Tokenizer* tokenizer, Batcher& batcher, Metrics& metrics,
          ServiceOptions options);

  // Any request: authentication, routing, validation, the work, the answer. Never throws.
  HttpResponse handle(const HttpRequest& request) const;

  Pooling pooling() const { return pooling_; }
  int64_t max_input_length() const { return max_input_length_; }

 private:
  struct Inputs;
  HttpResponse route(const HttpRequest& request) const;
  HttpResponse embed(const std::string& body, bool all) const;
  HttpResponse openai_embeddings(const std::string& body) const;
  HttpResponse tokenize(const std::string& body) const;
  HttpResponse info() const;
  nlohmann::json model_type() const;  // TEI's: embedding (pooling), classifier or reranker
  nlohmann::json routes() const;      // the routes this model serves
  HttpResponse rerank(const std::string& body) const;
  HttpResponse predict(const std::string& body) const;
  // One input of /rerank or /predict: a text, or a pair of texts, tokenized as the model saw pairs
  // in training ([CLS] a [SEP] b [SEP], token types 0 then 1).
  Sequence encode_texts(const std::string& text, const std::string* pair, bool truncate,
                        const std::string& where) const;
  // The /rerank and /predict routes need a sequence-classification head.
  void require_classifier(const std::string& path) const;

  Inputs parse_inputs(const nlohmann::json& value, const char* field, bool truncate) const;

  const Model& model_;
  const Tokenizer* tokenizer_;
  Batcher& batcher_;
  Metrics& metrics_;
  const ServiceOptions options_;
  Pooling pooling_;
  int64_t max_input_length_;
};

}  // namespace vecformer::serve
