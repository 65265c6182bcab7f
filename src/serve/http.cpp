#include "serve/http.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string_view>

#include "encoder/pooling.hpp"

namespace vecformer::serve {

using nlohmann::json;

namespace {

// A request the route refuses: its status and one-line message.
struct HttpError {
  int status;
  std::string message;
  const char* type = nullptr;  // unset: by status
};

const char* const kRoutes[] = {"/embed",         "/embed_all", "/tokenize", "/rerank",
                               "/predict",       "/health",    "/info",     "/metrics",
                               "/v1/embeddings", "/embeddings"};

bool is_openai(const std::string& path) {
  return path.rfind("/v1/", 0) == 0 || path == "/embeddings";
}

// TEI's error types by status.
const char* error_type(int status) {
  switch (status) {
    case 400:
      return "malformed";
    case 401:
      return "unauthorized";
    case 404:
      return "not_found";
    case 405:
      return "method_not_allowed";
    case 413:
      return "payload_too_large";
    case 422:
      return "validation";
    case 429:
      return "overloaded";
    case 503:
      return "unhealthy";
    default:
      return status >= 500 ? "backend" : "validation";
  }
}

const char* openai_type(int status) {
  if (status == 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

void append_float(std::string& out, float value) {
  if (!std::isfinite(value)) {
    out += "null";  // JSON has no NaN or infinity
    return;
  }
  char text[32];
  // Shortest text that reads back as the same float: the bits survive the JSON round trip.
  const auto end = std::to_chars(text, text + sizeof text, value).ptr;
  out.append(text, end);
}

void append_vector(std::string& out, const float* values, int64_t n) {
  out += '[';
  for (int64_t i = 0; i < n; ++i) {
    if (i) out += ',';
    append_float(out, values[i]);
  }
  out += ']';
}

// Little-endian float32 bytes in base64 (OpenAI's encoding_format "base64"); x86-64 is
// little-endian, so the bytes are the floats' own.
void append_base64(std::string& out, const float* values, int64_t n) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* bytes = reinterpret_cast<const unsigned char*>(values);
  const size_t size = static_cast<size_t>(n) * sizeof(float);
  for (size_t i = 0; i < size; i += 3) {
    const uint32_t b0 = bytes[i];
    const uint32_t b1 = i + 1 < size ? bytes[i + 1] : 0;
    const uint32_t b2 = i + 2 < size ? bytes[i + 2] : 0;
    const uint32_t triple = (b0 << 16) | (b1 << 8) | b2;
    out += kAlphabet[(triple >> 18) & 63];
    out += kAlphabet[(triple >> 12) & 63];
    out += i + 1 < size ? kAlphabet[(triple >> 6) & 63] : '=';
    out += i + 2 < size ? kAlphabet[triple & 63] : '=';
  }
}

json parse_body(const std::string& body) {
  if (body.empty())
    throw HttpError{400, "the request body is empty: expected a JSON object", "empty"};
  json value;
  try {
    value = json::parse(body);
  } catch (const json::parse_error& e) {
    throw HttpError{400, std::string("malformed JSON: ") + e.what()};
  }
  if (!value.is_object()) throw HttpError{422, "the body must be a JSON object"};
  return value;
}

bool bool_field(const json& body, const char* name, bool fallback) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) throw HttpError{422, std::string("`") + name + "` must be true or false"};
  return it->get<bool>();
}

// Waits for the batcher's answer (the engine's failures surface here as exceptions) and notes its
// times in the response.
std::vector<ItemResult> run(Batcher& batcher, Task task, std::vector<Sequence> sequences,
                            HttpResponse& response) {
  std::vector<ItemResult> results = batcher.submit(task, std::move(sequences)).get();
  for (const ItemResult& r : results) {
    response.queue_ms = std::max(response.queue_ms, r.queue_ms);
    response.inference_ms = std::max(response.inference_ms, r.inference_ms);
  }
  return results;
}

}  // namespace

struct Service::Inputs {
  std::vector<Sequence> sequences;
  int64_t tokens = 0;
};

std::string route_label(const std::string& path) {
  for (const char* route : kRoutes)
    if (path == route) return route;
  return "other";
}

HttpResponse error_response(const std::string& path, int status, const std::string& message,
                            const char* type) {
  HttpResponse response;
  response.status = status;
  json body;
  if (is_openai(path)) {
    json error = {
        {"message", message}, {"type", openai_type(status)}, {"param", nullptr}, {"code", nullptr}};
    if (status == 401) error["code"] = "invalid_api_key";
    body["error"] = std::move(error);
  } else {
    body = {{"error", message}, {"error_type", type ? type : error_type(status)}};
  }
  // Replace, not throw: a message may quote the client's invalid bytes.
  response.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return response;
}

Service::Service(const Model& model, const Tokenizer* tokenizer, Batcher& batcher, Metrics& metrics,
                 ServiceOptions options)
    : model_(model),
      tokenizer_(tokenizer),
      batcher_(batcher),
      metrics_(metrics),
      options_(std::move(options)),
      pooling_(options_.pooling.value_or(model.default_pooling())),
      max_input_length_(options_.max_input_length > 0
                            ? std::min(options_.max_input_length, model.config().max_length())
                            : model.max_sequence_length()) {}

HttpResponse Service::handle(const HttpRequest& request) const {
  try {
    if (!options_.api_key.empty() && request.path != "/health") {
      const std::string expected = "Bearer " + options_.api_key;
      // Compared in full whatever the first difference, so timing does not tell the key.
      bool same = request.authorization.size() == expected.size();
      unsigned char difference = 0;
      for (size_t i = 0; same && i < expected.size(); ++i)
        difference |= static_cast<unsigned char>(request.authorization[i] ^ expected[i]);
      if (!same || difference != 0) {
        throw HttpError{401, request.authorization.empty()
                                 ? "missing API key: send Authorization: Bearer KEY"
                                 : "wrong API key"};
      }
    }
    return route(request);
  } catch (const HttpError& e) {
    return error_response(request.path, e.status, e.message, e.type);
  } catch (const QueueFull& e) {
    return error_response(request.path, 429, std::string("model is overloaded: ") + e.what());
  } catch (const ShuttingDown& e) {
    return error_response(request.path, 503, e.what());
  } catch (const std::exception& e) {
    return error_response(request.path, 500, std::string("inference failed: ") + e.what());
  }
}

HttpResponse Service::route(const HttpRequest& request) const {
  const std::string& path = request.path;
  const bool get = request.method == "GET";
  const bool post = request.method == "POST";
  if (route_label(path) == "other") throw HttpError{404, "no route " + path};
  if (path == "/health" || path == "/info" || path == "/metrics") {
    if (!get) throw HttpError{405, path + " takes GET"};
    if (path == "/health") return HttpResponse{200, "text/plain", ""};
    if (path == "/info") return info();
    return HttpResponse{200, "text/plain; version=0.0.4",
                        metrics_.render(batcher_.queued_inputs(), batcher_.requests_in_flight())};
  }
  if (!post) throw HttpError{405, path + " takes POST"};
  if (path == "/embed") return embed(request.body, false);
  if (path == "/embed_all") return embed(request.body, true);
  if (path == "/tokenize") return tokenize(request.body);
  if (path == "/v1/embeddings" || path == "/embeddings") return openai_embeddings(request.body);
  if (path == "/rerank") return rerank(request.body);
  return predict(request.body);
}

void Service::require_classifier(const std::string& path) const {
  const HeadInfo& head = model_.info().head;
  if (head.kind != HeadKind::sequence_classification || !model_.info().head_loaded) {
    throw HttpError{400, "model cannot serve " + path + ": it has no sequence-classification head",
                    "unsupported"};
  }
  if (!tokenizer_) {
    throw HttpError{400, "model cannot serve " + path + ": its folder has no vocabulary",
                    "unsupported"};
  }
  if (path == "/rerank" && head.labels.size() != 1) {
    throw HttpError{400,
                    "model cannot serve /rerank: a cross-encoder has one label, this head has " +
                        std::to_string(head.labels.size()) + " (use /predict)",
                    "unsupported"};
  }
}

Sequence Service::encode_texts(const std::string& text, const std::string* pair, bool truncate,
                               const std::string& where) const {
  EncodingOptions encoding;
  encoding.max_length = truncate ? static_cast<size_t>(max_input_length_) : 0;
  Encoding e;
  try {
    e = pair ? tokenizer_->encode_pair(text, *pair, encoding)
             : tokenizer_->encode_text(text, encoding);
  } catch (const Error& error) {
    throw HttpError{422, where + ": " + error.what(), "tokenizer"};
  }
  if (static_cast<int64_t>(e.ids.size()) > max_input_length_) {
    throw HttpError{422, where + " is " + std::to_string(e.ids.size()) +
                             " tokens, more than the maximum " + std::to_string(max_input_length_) +
                             " (set `truncate`)"};
  }
  const int64_t type_vocab = model_.config().type_vocab_size;
  // ModernBERT has no token-type input: its pairs drop the tokenizer's type ids (as `vecformer
  // classify`).
  const bool types_dropped = model_.info().model_type == "modernbert";
  for (const int64_t type : e.type_ids) {
    if (!types_dropped && type >= std::max<int64_t>(type_vocab, 1)) {
      throw HttpError{422, where + ": the tokenizer gives token type " + std::to_string(type) +
                               ", but the model has " + std::to_string(type_vocab) +
                               " token types"};
    }
  }
  Sequence sequence;
  sequence.input_ids = std::move(e.ids);
  // Token types only when they say something (as `vecformer classify`): a model without any
  // takes none.
  if (type_vocab > 0) sequence.token_type_ids = std::move(e.type_ids);
  return sequence;
}

namespace {

// TEI's order: highest score first (ties keep label / document order).
std::vector<size_t> by_score(const std::vector<float>& scores) {
  std::vector<size_t> order(scores.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  return order;
}

void append_score(std::string& out, float score) {
  out += "\"score\":";
  append_float(out, score);
}

}  // namespace

HttpResponse Service::rerank(const std::string& body_text) const {
  const json body = parse_body(body_text);
  require_classifier("/rerank");
  const auto query = body.find("query");
  if (query == body.end() || !query->is_string()) throw HttpError{422, "`query` must be a string"};
  const auto texts = body.find("texts");
  if (texts == body.end() || !texts->is_array())
    throw HttpError{422, "`texts` must be a list of strings"};
  if (texts->empty()) throw HttpError{400, "`texts` is empty", "empty"};
  if (static_cast<int64_t>(texts->size()) > options_.max_client_batch_size) {
    throw HttpError{422, "`texts` holds " + std::to_string(texts->size()) + " texts, more than " +
                             std::to_string(options_.max_client_batch_size) +
                             " (--max-client-batch-size)"};
  }
  const bool raw_scores = bool_field(body, "raw_scores", false);
  const bool return_text = bool_field(body, "return_text", false);
  const bool truncate = bool_field(body, "truncate", options_.auto_truncate);
  const std::string& q = query->get_ref<const std::string&>();
  std::vector<Sequence> sequences;
  HttpResponse response;
  for (size_t i = 0; i < texts->size(); ++i) {
    const std::string where = "`texts`[" + std::to_string(i) + "]";
    if (!(*texts)[i].is_string()) throw HttpError{422, where + " must be a string"};
    sequences.push_back(
        encode_texts(q, &(*texts)[i].get_ref<const std::string&>(), truncate, where));
    response.tokens += static_cast<int64_t>(sequences.back().input_ids.size());
  }
  response.inputs = static_cast<int64_t>(sequences.size());
  const std::vector<ItemResult> results =
      run(batcher_, Task::classify, std::move(sequences), response);
  // One label: row 0 is the logit. The score is its sigmoid in double, as `vecformer rerank`.
  std::vector<float> scores;
  for (const ItemResult& r : results) {
    const float logit = r.values[0];
    scores.push_back(raw_scores ? logit
                                : static_cast<float>(1.0 / (1.0 + std::exp(-double{logit}))));
  }
  std::string& out = response.body;
  out += '[';
  bool first = true;
  for (const size_t i : by_score(scores)) {
    if (!first) out += ',';
    first = false;
    out += "{\"index\":" + std::to_string(i) + ",";
    append_score(out, scores[i]);
    if (return_text) {
      out += ",\"text\":" + json((*texts)[i]).dump(-1, ' ', false, json::error_handler_t::replace);
    }
    out += '}';
  }
  out += ']';
  return response;
}

HttpResponse Service::predict(const std::string& body_text) const {
  const json body = parse_body(body_text);
  require_classifier("/predict");
  const auto it = body.find("inputs");
  if (it == body.end()) throw HttpError{422, "missing field `inputs`"};
  const bool raw_scores = bool_field(body, "raw_scores", false);
  const bool truncate = bool_field(body, "truncate", options_.auto_truncate);
  // TEI's shapes: "text", ["text", "pair"] (one input), or a list of those (a batch): a list of
  // strings is one pair when it holds two, else a batch of single texts.
  const json& inputs = *it;
  std::vector<const json*> items;
  bool batch = false;
  if (inputs.is_string()) {
    items.push_back(&inputs);
  } else if (inputs.is_array()) {
    if (inputs.empty()) throw HttpError{400, "`inputs` is empty", "empty"};
    const bool all_strings =
        std::all_of(inputs.begin(), inputs.end(), [](const json& v) { return v.is_string(); });
    if (all_strings && inputs.size() == 2) {
      items.push_back(&inputs);
    } else {
      batch = true;
      for (const json& item : inputs) items.push_back(&item);
    }
  } else {
    throw HttpError{422, "`inputs` must be a text, a pair of texts, or a list of those"};
  }
  if (static_cast<int64_t>(items.size()) > options_.max_client_batch_size) {
    throw HttpError{422, "`inputs` holds " + std::to_string(items.size()) + " inputs, more than " +
                             std::to_string(options_.max_client_batch_size) +
                             " (--max-client-batch-size)"};
  }
  std::vector<Sequence> sequences;
  HttpResponse response;
  for (size_t i = 0; i < items.size(); ++i) {
    const json& item = *items[i];
    const std::string where = batch ? "`inputs`[" + std::to_string(i) + "]" : "`inputs`";
    if (item.is_string()) {
      sequences.push_back(
          encode_texts(item.get_ref<const std::string&>(), nullptr, truncate, where));
    } else if (item.is_array() && (item.size() == 1 || item.size() == 2) &&
               std::all_of(item.begin(), item.end(), [](const json& v) { return v.is_string(); })) {
      const std::string* pair = item.size() == 2 ? &item[1].get_ref<const std::string&>() : nullptr;
      sequences.push_back(
          encode_texts(item[0].get_ref<const std::string&>(), pair, truncate, where));
    } else {
      throw HttpError{422, where + " must be a text or a pair of texts"};
    }
    response.tokens += static_cast<int64_t>(sequences.back().input_ids.size());
  }
  response.inputs = static_cast<int64_t>(sequences.size());
  const std::vector<ItemResult> results =
      run(batcher_, Task::classify, std::move(sequences), response);
  const std::vector<std::string>& labels = model_.info().head.labels;
  const size_t n = labels.size();
  std::string& out = response.body;
  if (batch) out += '[';
  for (size_t i = 0; i < results.size(); ++i) {
    if (i) out += ',';
    // Rows: the logits, then the head's scores (softmax, sigmoid or none, as the folder says).
    const float* row = results[i].values.data() + (raw_scores ? 0 : n);
    const std::vector<float> scores(row, row + n);
    out += '[';
    bool first = true;
    for (const size_t label : by_score(scores)) {
      if (!first) out += ',';
      first = false;
      out += '{';
      append_score(out, scores[label]);
      out +=
          ",\"label\":" + json(labels[label]).dump(-1, ' ', false, json::error_handler_t::replace);
      out += '}';
    }
    out += ']';
  }
  if (batch) out += ']';
  return response;
}

Service::Inputs Service::parse_inputs(const json& value, const char* field, bool truncate) const {
  const std::string name = std::string("`") + field + "`";
  Inputs inputs;
  const auto limit = static_cast<size_t>(max_input_length_);
  const auto add = [&](Sequence sequence) {
    inputs.tokens += static_cast<int64_t>(sequence.input_ids.size());
    inputs.sequences.push_back(std::move(sequence));
  };
  const auto add_text = [&](const json& text, const std::string& where) {
    if (!tokenizer_) throw HttpError{422, "this model folder has no vocabulary: send token ids"};
    Sequence sequence;
    try {
      sequence.input_ids =
          tokenizer_->encode(text.get_ref<const std::string&>(), truncate ? limit : 0);
    } catch (const Error& e) {
      throw HttpError{422, where + ": " + e.what(), "tokenizer"};
    }
    if (sequence.input_ids.size() > limit) {
      throw HttpError{422, where + " is " + std::to_string(sequence.input_ids.size()) +
                               " tokens, more than the maximum " + std::to_string(limit) +
                               " (set `truncate`)"};
    }
    add(std::move(sequence));
  };
  const auto add_ids = [&](const json& ids, const std::string& where) {
    if (ids.empty()) throw HttpError{400, where + " is an empty list of token ids", "empty"};
    Sequence sequence;
    const auto vocab = static_cast<int64_t>(model_.config().vocab_size);
    for (size_t t = 0; t < ids.size(); ++t) {
      const json& id = ids[t];
      if (!id.is_number_integer() ||
          (id.is_number_unsigned() ? id.get<uint64_t>() >= static_cast<uint64_t>(vocab)
                                   : (id.get<int64_t>() < 0 || id.get<int64_t>() >= vocab))) {
        throw HttpError{422, where + "[" + std::to_string(t) + "]: " + id.dump() +
                                 " is not a token id of this model (0 to " +
                                 std::to_string(vocab - 1) + ")"};
      }
      sequence.input_ids.push_back(id.get<int64_t>());
    }
    if (sequence.input_ids.size() > limit) {
      if (!truncate) {
        throw HttpError{422, where + " is " + std::to_string(sequence.input_ids.size()) +
                                 " tokens, more than the maximum " + std::to_string(limit) +
                                 " (set `truncate`)"};
      }
      // As `vecformer run --max-length`: the first limit-1 ids and the last, so [SEP] stays.
      const int64_t last = sequence.input_ids.back();
      sequence.input_ids.resize(limit);
      sequence.input_ids.back() = last;
    }
    add(std::move(sequence));
  };

  if (value.is_string()) {
    add_text(value, name);
    return inputs;
  }
  if (!value.is_array()) {
    throw HttpError{422, name +
                             " must be a string, a list of strings, a list of token ids or a list "
                             "of lists of token ids"};
  }
  if (value.empty()) throw HttpError{400, name + " is empty", "empty"};
  const bool ids = value.front().is_number();
  const size_t count = ids ? 1 : value.size();
  if (static_cast<int64_t>(count) > options_.max_client_batch_size) {
    throw HttpError{422, name + " holds " + std::to_string(count) + " inputs, more than " +
                             std::to_string(options_.max_client_batch_size) +
                             " (--max-client-batch-size)"};
  }
  if (ids) {
    add_ids(value, name);
    return inputs;
  }
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string where = name + "[" + std::to_string(i) + "]";
    if (value[i].is_string()) {
      add_text(value[i], where);
    } else if (value[i].is_array()) {
      add_ids(value[i], where);
    } else {
      throw HttpError{422, where + " must be a string or a list of token ids"};
    }
  }
  return inputs;
}

HttpResponse Service::embed(const std::string& body_text, bool all) const {
  const json body = parse_body(body_text);
  if (!all && pooling_ == Pooling::none) {
    throw HttpError{400,
                    "model cannot serve /embed: it has no pooling (start the server with "
                    "--pooling)",
                    "unsupported"};
  }
  const auto it = body.find("inputs");
  if (it == body.end()) throw HttpError{422, "missing field `inputs`"};
  const bool normalize = bool_field(body, "normalize", true);
  const bool truncate = bool_field(body, "truncate", options_.auto_truncate);
  if (const auto direction = body.find("truncation_direction");
      direction != body.end() && !direction->is_null() &&
      !(direction->is_string() && (*direction == "right" || *direction == "Right"))) {
    throw HttpError{422, "`truncation_direction`: only \"right\" is supported"};
  }
  if (const auto prompt = body.find("prompt_name"); prompt != body.end() && !prompt->is_null())
    throw HttpError{422, "`prompt_name`: this model folder has no prompts"};
  Inputs inputs = parse_inputs(*it, "inputs", truncate);

  HttpResponse response;
  response.inputs = static_cast<int64_t>(inputs.sequences.size());
  response.tokens = inputs.tokens;
  std::vector<ItemResult> results =
      run(batcher_, all ? Task::embed_all : Task::embed, std::move(inputs.sequences), response);
  const int64_t hidden = model_.config().hidden_size;
  std::string& out = response.body;
  out.reserve(results.size() * static_cast<size_t>(hidden) * 12);
  out += '[';
  for (size_t i = 0; i < results.size(); ++i) {
    if (i) out += ',';
    ItemResult& r = results[i];
    if (all) {
      out += '[';
      for (int64_t t = 0; t < r.rows; ++t) {
        if (t) out += ',';
        append_vector(out, r.values.data() + t * hidden, hidden);
      }
      out += ']';
    } else {
      if (normalize) detail::l2_normalize(r.values.data(), 1, hidden);
      append_vector(out, r.values.data(), hidden);
    }
  }
  out += ']';
  return response;
}

HttpResponse Service::openai_embeddings(const std::string& body_text) const {
  const json body = parse_body(body_text);
  if (pooling_ == Pooling::none) {
    throw HttpError{400,
                    "model cannot serve embeddings: it has no pooling (start the server "
                    "with --pooling)",
                    "unsupported"};
  }
  const auto it = body.find("input");
  if (it == body.end()) throw HttpError{422, "missing field `input`"};
  bool base64 = false;
  if (const auto format = body.find("encoding_format");
      format != body.end() && !format->is_null()) {
    if (*format == "base64") {
      base64 = true;
    } else if (*format != "float") {
      throw HttpError{422, "`encoding_format` must be \"float\" or \"base64\""};
    }
  }
  const int64_t hidden = model_.config().hidden_size;
  if (const auto dimensions = body.find("dimensions");
      dimensions != body.end() && !dimensions->is_null() && *dimensions != hidden) {
    throw HttpError{422, "`dimensions`: this model's embeddings have " + std::to_string(hidden)};
  }
  std::string model_name = options_.model_id;
  if (const auto model = body.find("model"); model != body.end() && model->is_string())
    model_name = model->get<std::string>();
  Inputs inputs = parse_inputs(*it, "input", options_.auto_truncate);

  HttpResponse response;
  response.inputs = static_cast<int64_t>(inputs.sequences.size());
  response.tokens = inputs.tokens;
  std::vector<ItemResult> results =
      run(batcher_, Task::embed, std::move(inputs.sequences), response);
  std::string& out = response.body;
  out.reserve(results.size() * static_cast<size_t>(hidden) * 12 + 256);
  out += R"({"object":"list","data":[)";
  for (size_t i = 0; i < results.size(); ++i) {
    if (i) out += ',';
    // OpenAI's embeddings are unit vectors.
    detail::l2_normalize(results[i].values.data(), 1, hidden);
    out += R"({"object":"embedding","index":)" + std::to_string(i) + R"(,"embedding":)";
    if (base64) {
      out += '"';
      append_base64(out, results[i].values.data(), hidden);
      out += '"';
    } else {
      append_vector(out, results[i].values.data(), hidden);
    }
    out += '}';
  }
  out += R"(],"model":)" + json(model_name).dump(-1, ' ', false, json::error_handler_t::replace);
  out += R"(,"usage":{"prompt_tokens":)" + std::to_string(inputs.tokens) + R"(,"total_tokens":)" +
         std::to_string(inputs.tokens) + "}}";
  return response;
}

HttpResponse Service::tokenize(const std::string& body_text) const {
  const json body = parse_body(body_text);
  if (!tokenizer_)
    throw HttpError{400, "model cannot serve /tokenize: its folder has no vocabulary",
                    "unsupported"};
  const auto it = body.find("inputs");
  if (it == body.end()) throw HttpError{422, "missing field `inputs`"};
  const bool special = bool_field(body, "add_special_tokens", true);
  std::vector<const json*> texts;
  if (it->is_string()) {
    texts.push_back(&*it);
  } else if (it->is_array() && !it->empty()) {
    for (const json& text : *it) {
      if (!text.is_string()) throw HttpError{422, "`inputs` must be a string or a list of strings"};
      texts.push_back(&text);
    }
  } else {
    throw HttpError{
        it->is_array() ? 400 : 422,
        it->is_array() ? "`inputs` is empty" : "`inputs` must be a string or a list of strings"};
  }
  if (static_cast<int64_t>(texts.size()) > options_.max_client_batch_size) {
    throw HttpError{422, "`inputs` holds " + std::to_string(texts.size()) + " texts, more than " +
                             std::to_string(options_.max_client_batch_size) +
                             " (--max-client-batch-size)"};
  }
  json out = json::array();
  HttpResponse response;
  EncodingOptions encoding;
  encoding.add_special_tokens = special;
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::string& text = texts[i]->get_ref<const std::string&>();
    Encoding e;
    try {
      e = tokenizer_->encode_text(text, encoding);
    } catch (const Error& error) {
      throw HttpError{422, "`inputs`[" + std::to_string(i) + "]: " + error.what(), "tokenizer"};
    }
    // TEI reports byte offsets into the input, and the input's bytes as a token's text; the
    // Encoding counts code points: the byte where each code point starts.
    std::vector<size_t> byte_of;
    for (size_t b = 0; b < text.size(); ++b)
      if ((static_cast<unsigned char>(text[b]) & 0xC0) != 0x80) byte_of.push_back(b);
    byte_of.push_back(text.size());
    const auto byte_at = [&](size_t point) { return byte_of[std::min(point, byte_of.size() - 1)]; };
    json tokens = json::array();
    for (size_t t = 0; t < e.ids.size(); ++t) {
      if (e.special_tokens_mask[t]) {
        tokens.push_back({{"id", e.ids[t]},
                          {"text", e.tokens[t]},
                          {"special", true},
                          {"start", nullptr},
                          {"stop", nullptr}});
        continue;
      }
      const size_t start = byte_at(e.offsets[t].first);
      const size_t stop = byte_at(e.offsets[t].second);
      tokens.push_back({{"id", e.ids[t]},
                        {"text", text.substr(start, stop - start)},
                        {"special", false},
                        {"start", start},
                        {"stop", stop}});
    }
    response.tokens += static_cast<int64_t>(e.ids.size());
    out.push_back(std::move(tokens));
  }
  response.inputs = static_cast<int64_t>(texts.size());
  response.body = out.dump(-1, ' ', false, json::error_handler_t::replace);
  return response;
}

json Service::model_type() const {
  const HeadInfo& head = model_.info().head;
  if (head.kind == HeadKind::sequence_classification && model_.info().head_loaded) {
    json id2label = json::object(), label2id = json::object();
    for (size_t i = 0; i < head.labels.size(); ++i) {
      id2label[std::to_string(i)] = head.labels[i];
      label2id[head.labels[i]] = i;
    }
    const char* kind = head.labels.size() == 1 ? "reranker" : "classifier";
    return {{kind, {{"id2label", id2label}, {"label2id", label2id}}}};
  }
  return {{"embedding", {{"pooling", std::string(to_string(pooling_))}}}};
}

json Service::routes() const {
  json routes = json::array();
  if (pooling_ != Pooling::none) routes.push_back("/embed");
  routes.push_back("/embed_all");
  if (tokenizer_) routes.push_back("/tokenize");
  const HeadInfo& head = model_.info().head;
  if (tokenizer_ && head.kind == HeadKind::sequence_classification && model_.info().head_loaded) {
    if (head.labels.size() == 1) routes.push_back("/rerank");
    routes.push_back("/predict");
  }
  if (pooling_ != Pooling::none) routes.push_back("/v1/embeddings");
  return routes;
}

HttpResponse Service::info() const {
  const json body = {{"model_id", options_.model_id},
                     {"model_sha", nullptr},
                     {"model_dtype", options_.dtype},
                     {"model_type", model_type()},
                     {"max_concurrent_requests", options_.max_concurrent_requests},
                     {"max_input_length", max_input_length_},
                     {"max_batch_tokens", options_.max_batch_tokens},
                     {"max_batch_requests", nullptr},
                     {"max_client_batch_size", options_.max_client_batch_size},
                     {"auto_truncate", options_.auto_truncate},
                     {"payload_limit", options_.payload_limit},
                     {"workers", options_.workers},
                     {"hidden_size", model_.config().hidden_size},
                     {"routes", routes()},
                     {"version", "0.1.0"}};
  HttpResponse response;
  response.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return response;
}

}  // namespace vecformer::serve
