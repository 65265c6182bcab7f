// `vecformer explain --format json`: everything the command computed, full vectors included.
//
// Schema "vecformer-explain/1" (also in docs/EXPLAIN.md). Keys appear in this order; a change that
// removes or renames a key, or changes a meaning, bumps the version. Token positions count from 0
// in [CLS] ... [SEP]; layer and head count from 0. "f32" numbers are float32 values written as the
// shortest decimal that reads back as the same float (parse them as float32 to get the exact
// value); "f64" are doubles written the same way. Per-token arrays are indexed by token position. A
// non-finite number is written as null. The characters < > & in strings are written as \u003c
// \u003e \u0026, so that the document can be embedded verbatim in HTML.
//
// {
//   "schema": "vecformer-explain/1",
//   "model": {"folder": str, "model_type": str, "layers": int, "heads": int, "hidden_size": int,
//             "head_dim": int},
//   "backend": "optimized" | "reference",    the forward whose q, k, v are explained
//   "dtype": "f32" | "bf16" | "int8",
//   "text": str,
//   "tokens": [str],  "token_ids": [int],    [CLS] ... [SEP]
//   "focus": {"text": str,                   as given by --focus
//             "pieces": [str],               its word pieces
//             "occurrences": [int],          position of each occurrence's first piece
//             "occurrence": int,             the one used, counted from 1
//             "index": int, "token": str},   the focus token: position and piece
//   "notes": [str],                          how the focus was chosen, when that needs saying
//   "layer": int, "head": int,
//   "walkthrough": {                         head `head`, query = the focus token
//     "scale": f64,                          1 / sqrt(head_dim)
//     "query": [f32], "query_norm": f64,                          step 1  [head_dim]
//     "keys": [[f32]], "key_norms": [f64],                        step 2  [tokens][head_dim]
//     "dot_products": [f64], "similarities": [f32 or null outside a local window], step 3
//     "softmax": {"max": f64, "exponentials": [f64], "sum": f64}, step 4  exp(s - max), their sum
//     "weights": [f32], "weights_sum": f64,                       step 5
//     "values": [[f32]], "weighted_values": [[f64]],              step 6  v, w·v [tokens][head_dim]
//     "sum": [f64],                                               step 7  sum over tokens of w·v
//     "attention_value": [f32], "attention_value_norm": f64,      step 8  float(sum)
//     "backend_attention_value": [f32]       what the backend computed in the same forward
//   },
//   "check": {                               max absolute differences
//     "walkthrough_vs_reference": f64,       walk-through vs reference::attention_head (focus,
//     head) "focus_max_abs_difference": f64,       reference vs backend: focus token, every head
//     "layer_max_abs_difference": f64        reference vs backend: every token, every head
//   },
//   "heads": [{                              every head of the layer, every query token
//     "head": int,
//     "weights": [[f32]],                    [query][key], each row sums to 1
//     "argmax": [int],                       per query: the key position with the largest weight
//     "entropy": [f64],                      per query: entropy of the weights in nats
//     "mean_entropy": f64
//   }],
//   "max_entropy": f64                       ln(tokens): the entropy of uniform weights
// }
#include <charconv>
#include <cmath>
#include <cstdio>
#include <span>
#include <type_traits>

#include "cli/explain_report.hpp"

namespace vecformer::cli {

namespace {

void number(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  char buffer[40];
  out.append(buffer, std::to_chars(buffer, buffer + sizeof buffer, value).ptr);
}

void number(std::string& out, float value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  char buffer[40];
  out.append(buffer, std::to_chars(buffer, buffer + sizeof buffer, value).ptr);
}

void number(std::string& out, int64_t value) {
  out += std::to_string(value);
}

void string(std::string& out, const std::string& text) {
  out += '"';
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20 || c == '<' || c == '>' || c == '&') {
          char buffer[8];
          std::snprintf(buffer, sizeof buffer, "\\u%04x", u);
          out += buffer;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

template <class T>
void array(std::string& out, std::span<const T> values) {
  out += '[';
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ", ";
    if constexpr (std::is_same_v<T, std::string>) {
      string(out, values[i]);
    } else {
      number(out, values[i]);
    }
  }
  out += ']';
}

template <class T>
void array(std::string& out, const std::vector<T>& values) {
  array(out, std::span<const T>(values));
}

// Rows on their own lines: [[...],\n [...]].
template <class T>
void matrix(std::string& out, const std::vector<std::vector<T>>& rows, const std::string& indent) {
  out += '[';
  for (size_t i = 0; i < rows.size(); ++i) {
    out += i ? ",\n" + indent + " " : "";
    array(out, rows[i]);
  }
  out += ']';
}

// A JSON object written key by key, in order, one key per line.
class Object {
 public:
  Object(std::string& out, int depth) : out_(out), indent_(2 * (depth + 1), ' ') { out_ += "{"; }
  std::string& key(const std::string& name) {
    out_ += first_ ? "\n" : ",\n";
    first_ = false;
    out_ += indent_;
    string(out_, name);
    out_ += ": ";
    return out_;
  }
  const std::string& indent() const { return indent_; }
  void close() { out_ += "\n" + indent_.substr(2) + "}"; }

 private:
  std::string& out_;
  std::string indent_;
  bool first_ = true;
};

std::vector<double> norms(const std::vector<std::vector<float>>& vectors) {
  std::vector<double> result;
  for (const auto& v : vectors) result.push_back(detail::l2_norm(v));
  return result;
}

}  // namespace

std::string write_json(const ExplainReport& r) {
  const detail::AttentionSteps& s = r.steps;
  std::string out;
  Object top(out, 0);
  string(top.key("schema"), "vecformer-explain/1");
  {
    Object model(top.key("model"), 1);
    string(model.key("folder"), r.model_folder);
    string(model.key("model_type"), r.model_type);
    number(model.key("layers"), r.layers);
    number(model.key("heads"), r.heads);
    number(model.key("hidden_size"), r.hidden_size);
    number(model.key("head_dim"), r.head_dim);
    model.close();
  }
  string(top.key("backend"), r.backend);
  string(top.key("dtype"), r.dtype);
  string(top.key("text"), r.text);
  array(top.key("tokens"), r.tokens);
  array(top.key("token_ids"), r.token_ids);
  {
    Object focus(top.key("focus"), 1);
    string(focus.key("text"), r.focus_text);
    array(focus.key("pieces"), r.focus.pieces);
    array(focus.key("occurrences"), r.focus.occurrences);
    number(focus.key("occurrence"), r.focus.occurrence);
    number(focus.key("index"), r.focus.index);
    string(focus.key("token"), r.tokens[r.focus.index]);
    focus.close();
  }
  array(top.key("notes"), r.notes);
  number(top.key("layer"), r.layer);
  number(top.key("head"), r.head);
  {
    Object w(top.key("walkthrough"), 1);
    number(w.key("scale"), s.scale);
    array(w.key("query"), s.query);
    number(w.key("query_norm"), detail::l2_norm(s.query));
    matrix(w.key("keys"), s.keys, w.indent() + std::string(8, ' '));
    array(w.key("key_norms"), norms(s.keys));
    array(w.key("dot_products"), s.dot_products);
    array(w.key("similarities"), s.similarities);
    {
      Object softmax(w.key("softmax"), 2);
      number(softmax.key("max"), s.similarity_max);
      array(softmax.key("exponentials"), s.exponentials);
      number(softmax.key("sum"), s.exponential_sum);
      softmax.close();
    }
    array(w.key("weights"), s.weights);
    number(w.key("weights_sum"), s.weight_sum);
    matrix(w.key("values"), s.values, w.indent() + std::string(10, ' '));
    matrix(w.key("weighted_values"), s.weighted_values, w.indent() + std::string(19, ' '));
    array(w.key("sum"), s.sum);
    array(w.key("attention_value"), s.attention_value);
    number(w.key("attention_value_norm"), detail::l2_norm(s.attention_value));
    array(w.key("backend_attention_value"), r.backend_attention_value);
    w.close();
  }
  {
    Object check(top.key("check"), 1);
    number(check.key("walkthrough_vs_reference"), r.walkthrough_vs_reference);
    number(check.key("focus_max_abs_difference"), r.focus_max_abs_difference);
    number(check.key("layer_max_abs_difference"), r.layer_max_abs_difference);
    check.close();
  }
  std::string& heads = top.key("heads");
  heads += '[';
  const size_t tokens = r.tokens.size();
  for (size_t h = 0; h < r.head_views.size(); ++h) {
    const HeadView& view = r.head_views[h];
    heads += h ? ", " : "";
    Object head(heads, 2);
    number(head.key("head"), static_cast<int64_t>(h));
    std::vector<std::vector<float>> rows;
    for (size_t q = 0; q < tokens; ++q) {
      rows.emplace_back(view.weights.begin() + q * tokens, view.weights.begin() + (q + 1) * tokens);
    }
    matrix(head.key("weights"), rows, head.indent() + std::string(11, ' '));
    array(head.key("argmax"), view.summary.argmax);
    array(head.key("entropy"), view.summary.entropy);
    number(head.key("mean_entropy"), view.summary.mean_entropy);
    head.close();
  }
  heads += ']';
  number(top.key("max_entropy"), std::log(static_cast<double>(tokens)));
  top.close();
  out += "\n";
  return out;
}

}  // namespace vecformer::cli
