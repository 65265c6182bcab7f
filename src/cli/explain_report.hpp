#pragma once

// `vecformer explain`: everything the command computed for one sentence, and the writers that turn
// it into text, JSON, SVG and HTML. The text and HTML walk-throughs are rendered from the same
// tables (walkthrough_tables), so a number reads the same in both; docs/EXPLAIN.md describes every
// format.
#include <cstdint>
#include <string>
#include <vector>

#include "explain/attention_walkthrough.hpp"
#include "explain/focus.hpp"

namespace vecformer::cli {

// One head of the chosen layer, for every query token (pictures and the comparison of heads).
struct HeadView {
  std::vector<float> weights;  // [tokens · tokens], row = query token, column = key token
  detail::HeadSummary summary;
};

struct ExplainReport {
  // What ran.
  std::string model_folder;
  std::string model_type;
  int64_t layers = 0;
  int64_t heads = 0;
  int64_t hidden_size = 0;
  int64_t head_dim = 0;
  std::string backend;  // "optimized" or "reference": the forward whose q, k, v are explained
  std::string dtype;

  // The sentence and the focus.
  std::string text;
  std::vector<std::string> tokens;  // [CLS] ... [SEP]
  std::vector<int64_t> token_ids;
  std::string focus_text;
  detail::FocusToken focus;
  std::vector<std::string> notes;  // how the focus was chosen, when that needs saying
  int64_t layer = 0;
  int64_t head = 0;

  // The eight steps (reference computation on the captured q, k, v) and the backend's own result.
  detail::AttentionSteps steps;
  std::vector<float> backend_attention_value;  // the backend's output for (focus, head)
  double walkthrough_vs_reference = 0.0;       // steps vs reference::attention_head, (focus, head)
  double focus_max_abs_difference = 0.0;       // reference vs backend, focus token, every head
  double layer_max_abs_difference = 0.0;       // reference vs backend, every token, every head

  std::vector<HeadView> head_views;  // every head of the layer
};

// Numbers as the human-readable formats print them (printf "%.*f" of the value; a float is widened
// to double exactly), so that a page's visible numbers can be checked against the JSON.
constexpr int kVectorDecimals = 4;  // vector components and norms
constexpr int kScalarDecimals = 6;  // dot products, similarities, softmax terms, weights, entropies
constexpr int64_t kShownComponents = 8;  // leading components of each vector in the tables
std::string fixed(double value, int decimals);
std::string scientific(double value);  // differences: "%.2e"

// A walk-through table: the same cells in text and HTML.
struct Table {
  std::string id;       // HTML id, e.g. "step-5"
  int step = 0;         // 1-8, or 0 for tables that are not a step
  std::string title;    // e.g. "Weights"
  std::string caption;  // one or two sentences: what the numbers are
  std::vector<std::string> columns;
  std::vector<bool> numeric;  // per column: right-aligned
  std::vector<std::vector<std::string>> rows;
  std::vector<bool> highlight;  // per row: the focus token's row
  std::vector<double> bars;     // per row, in [0, 1], drawn as a bar after the cells (empty: none)
};

// "bert, 2 layers, 2 heads of 16": the model in a few words.
std::string model_summary(const ExplainReport& report);

std::vector<Table> walkthrough_tables(const ExplainReport& report);
std::vector<Table> head_tables(const ExplainReport& report);  // argmax and entropy per head

std::string write_text(const ExplainReport& report);
std::string write_json(const ExplainReport& report);
// Every head of the layer as a heatmap, in one standalone SVG document.
std::string write_heatmaps_svg(const ExplainReport& report);
// Mean entropy per head as a bar chart (an inline SVG element).
std::string write_entropy_svg(const ExplainReport& report);
std::string write_html(const ExplainReport& report);

// Text escaped for XML and HTML content and attribute values.
std::string xml_escape(const std::string& text);

}  // namespace vecformer::cli
