#include "serve/metrics.hpp"

#include <cstdio>

namespace vecformer::serve {

namespace {

const std::vector<double> kSeconds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                      0.25,  0.5,    1,     2.5,  5,     10};

std::vector<double> powers_of_two(double last) {
  std::vector<double> bounds;
  for (double b = 1; b <= last; b *= 2) bounds.push_back(b);
  return bounds;
}

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.10g", value);
  return text;
}

void write_histogram(std::string& out, const std::string& name, const std::string& labels,
                     const Histogram& h) {
  const std::string sep = labels.empty() ? "" : ",";
  for (size_t i = 0; i < h.bounds.size(); ++i) {
    out += name + "_bucket{" + labels + sep + "le=\"" + number(h.bounds[i]) + "\"} " +
           std::to_string(h.counts[i]) + "\n";
  }
  out += name + "_bucket{" + labels + sep + "le=\"+Inf\"} " + std::to_string(h.count) + "\n";
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  out += name + "_sum" + braces + " " + number(h.sum) + "\n";
  out += name + "_count" + braces + " " + std::to_string(h.count) + "\n";
}

void write_header(std::string& out, const std::string& name, const char* type, const char* help) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds(std::move(upper_bounds)), counts(bounds.size(), 0) {}

void Histogram::observe(double value) {
  for (size_t i = 0; i < bounds.size(); ++i)
    if (value <= bounds[i]) ++counts[i];
  sum += value;
  ++count;
}

Metrics::Metrics()
    : batch_inputs_(powers_of_two(4096)),
      batch_tokens_(powers_of_two(1 << 20)),
      queue_seconds_(kSeconds),
      inference_seconds_(kSeconds) {}

void Metrics::count_request(const std::string& route, int status, double seconds) {
  std::lock_guard<std::mutex> guard(lock_);
  ++requests_[{route, status}];
  request_seconds_.try_emplace(route, kSeconds).first->second.observe(seconds);
}

void Metrics::observe_batch(const BatchStats& stats) {
  std::lock_guard<std::mutex> guard(lock_);
  batch_inputs_.observe(static_cast<double>(stats.inputs));
  batch_tokens_.observe(static_cast<double>(stats.tokens));
  inference_seconds_.observe(stats.inference_ms / 1000);
  for (const double ms : stats.queue_ms) queue_seconds_.observe(ms / 1000);
}

std::string Metrics::render(int64_t queued_inputs, int64_t requests_in_flight) const {
  std::lock_guard<std::mutex> guard(lock_);
  std::string out;
  write_header(out, "vecformer_requests_total", "counter", "HTTP requests by route and status");
  for (const auto& [key, count] : requests_) {
    out += "vecformer_requests_total{route=\"" + key.first + "\",status=\"" +
           std::to_string(key.second) + "\"} " + std::to_string(count) + "\n";
  }
  write_header(out, "vecformer_request_duration_seconds", "histogram",
               "Time from a request's arrival to its answer, by route");
  for (const auto& [route, h] : request_seconds_)
    write_histogram(out, "vecformer_request_duration_seconds", "route=\"" + route + "\"", h);
  write_header(out, "vecformer_queue_size", "gauge", "Inputs waiting for a batch");
  out += "vecformer_queue_size " + std::to_string(queued_inputs) + "\n";
  write_header(out, "vecformer_requests_in_flight", "gauge",
               "Requests admitted to the queue and not yet answered");
  out += "vecformer_requests_in_flight " + std::to_string(requests_in_flight) + "\n";
  write_header(out, "vecformer_batch_size", "histogram", "Inputs per batch");
  write_histogram(out, "vecformer_batch_size", "", batch_inputs_);
  write_header(out, "vecformer_batch_tokens", "histogram", "Real (packed) tokens per batch");
  write_histogram(out, "vecformer_batch_tokens", "", batch_tokens_);
  write_header(out, "vecformer_queue_duration_seconds", "histogram",
               "Time an input waited in the queue before its batch started");
  write_histogram(out, "vecformer_queue_duration_seconds", "", queue_seconds_);
  write_header(out, "vecformer_inference_duration_seconds", "histogram",
               "Time one batch took in the engine");
  write_histogram(out, "vecformer_inference_duration_seconds", "", inference_seconds_);
  return out;
}

}  // namespace vecformer::serve
