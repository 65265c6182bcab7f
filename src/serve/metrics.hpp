#pragma once

// What `GET /metrics` reports, in Prometheus' text format: request counts by route and status,
// the queue, batch sizes and tokens, and queue, inference and request times as histograms.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "serve/batcher.hpp"

namespace vecformer::serve {

// Cumulative buckets as Prometheus wants them: counts[i] is observations <= bounds[i] (and the
// implicit +Inf bucket is `count`).
struct Histogram {
  std::vector<double> bounds;
  std::vector<uint64_t> counts;
  double sum = 0;
  uint64_t count = 0;

  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);
};

class Metrics {
 public:
  Metrics();
  void count_request(const std::string& route, int status, double seconds);
  void observe_batch(const BatchStats& stats);
  // The whole exposition; the gauges are read by the caller when asked.
  std::string render(int64_t queued_inputs, int64_t requests_in_flight) const;

 private:
  mutable std::mutex lock_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, Histogram> request_seconds_;
  Histogram batch_inputs_;
  Histogram batch_tokens_;
  Histogram queue_seconds_;
  Histogram inference_seconds_;
};

}  // namespace vecformer::serve
