// The walk-through of `vecformer explain` as tables of formatted cells, shared by the text and HTML
// writers so that both print every number identically.
#include <cmath>
#include <cstdio>

#include "cli/explain_report.hpp"

namespace vecformer::cli {

std::string fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

std::string scientific(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.2e", value);
  return buffer;
}

std::string model_summary(const ExplainReport& r) {
  auto count = [](int64_t n, const char* what) {
    return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
  };
  return r.model_type + ", " + count(r.layers, "layer") + ", " + count(r.heads, "head") + " of " +
         std::to_string(r.head_dim);
}

namespace {

int64_t shown(const ExplainReport& r) {
  return std::min<int64_t>(kShownComponents, r.head_dim);
}

std::string components_note(const ExplainReport& r) {
  if (shown(r) == r.head_dim) return "all " + std::to_string(r.head_dim) + " components";
  return "the first " + std::to_string(shown(r)) + " of " + std::to_string(r.head_dim) +
         " components";
}

// "#", "token", then name[0] .. name[k-1].
std::vector<std::string> vector_columns(const ExplainReport& r, const std::string& name) {
  std::vector<std::string> columns{"#", "token"};
  for (int64_t d = 0; d < shown(r); ++d) columns.push_back(name + "[" + std::to_string(d) + "]");
  return columns;
}

template <class T>
void append_components(std::vector<std::string>& row, const std::vector<T>& v, int64_t count) {
  for (int64_t d = 0; d < count; ++d) row.push_back(fixed(v[d], kVectorDecimals));
}

Table make_table(std::string id, int step, std::string title, std::string caption,
                 std::vector<std::string> columns) {
  Table t;
  t.id = std::move(id);
  t.step = step;
  t.title = std::move(title);
  t.caption = std::move(caption);
  t.columns = std::move(columns);
  // Every column but the row labels ("#" counts as a number, the token does not) is numeric.
  for (const std::string& c : t.columns) t.numeric.push_back(c != "token" && c != "computed by");
  return t;
}

void add_row(Table& t, std::vector<std::string> cells, bool highlight = false) {
  t.rows.push_back(std::move(cells));
  t.highlight.push_back(highlight);
}

// Per-token rows start with the position and the token.
std::vector<std::string> token_cells(const ExplainReport& r, int64_t j) {
  return {std::to_string(j), r.tokens[j]};
}

}  // namespace

std::vector<Table> walkthrough_tables(const ExplainReport& r) {
  const detail::AttentionSteps& s = r.steps;
  const auto tokens = static_cast<int64_t>(r.tokens.size());
  const int64_t k = shown(r);
  const std::string focus = "\"" + r.tokens[s.focus] + "\" (token " + std::to_string(s.focus) + ")";
  const std::string scale = fixed(s.scale, kScalarDecimals);
  std::vector<Table> tables;

  {
    auto columns = vector_columns(r, "q");
    columns.push_back("|q|");
    Table t =
        make_table("step-1", 1, "Query",
                   "The query vector of the focus token, " + focus + ", in head " +
                       std::to_string(r.head) + ": " + components_note(r) + ", and its length |q|.",
                   columns);
    auto row = token_cells(r, s.focus);
    append_components(row, s.query, k);
    row.push_back(fixed(detail::l2_norm(s.query), kVectorDecimals));
    add_row(t, row, true);
    tables.push_back(std::move(t));
  }
  {
    auto columns = vector_columns(r, "k");
    columns.push_back("|k|");
    Table t = make_table("step-2", 2, "Keys",
                         "Every token's key vector (" + components_note(r) + ") and its length.",
                         columns);
    for (int64_t j = 0; j < tokens; ++j) {
      auto row = token_cells(r, j);
      append_components(row, s.keys[j], k);
      row.push_back(fixed(detail::l2_norm(s.keys[j]), kVectorDecimals));
      add_row(t, row, j == s.focus);
    }
    tables.push_back(std::move(t));
  }
  {
    Table t = make_table("step-3", 3, "Similarity",
                         "The dot product of the query with each key, scaled by 1/sqrt(" +
                             std::to_string(r.head_dim) + ") = " + scale +
                             " (the scaled value is rounded to float, as the specification does).",
                         {"#", "token", "q·k", "q·k/sqrt(d)"});
    for (int64_t j = 0; j < tokens; ++j) {
      auto row = token_cells(r, j);
      row.push_back(fixed(s.dot_products[j], kScalarDecimals));
      row.push_back(fixed(s.similarities[j], kScalarDecimals));
      add_row(t, row, j == s.focus);
    }
    tables.push_back(std::move(t));
  }
  {
    Table t = make_table("step-4", 4, "Softmax",
                         "softmax(s)_j = exp(s_j - max) / sum: the largest similarity is max = " +
                             fixed(s.similarity_max, kScalarDecimals) +
                             " and the exponentials add "
                             "up to sum = " +
                             fixed(s.exponential_sum, kScalarDecimals) + ".",
                         {"#", "token", "s - max", "exp(s - max)"});
    for (int64_t j = 0; j < tokens; ++j) {
      auto row = token_cells(r, j);
      row.push_back(fixed(s.similarities[j] - s.similarity_max, kScalarDecimals));
      row.push_back(fixed(s.exponentials[j], kScalarDecimals));
      add_row(t, row, j == s.focus);
    }
    add_row(t, {"", "sum", "", fixed(s.exponential_sum, kScalarDecimals)});
    tables.push_back(std::move(t));
  }
  {
    Table t =
        make_table("step-5", 5, "Weights",
                   "exp(s - max) / sum: the attention weights, the share of each token's value "
                   "in the focus token's attention value. They sum to 1.",
                   {"#", "token", "weight"});
    for (int64_t j = 0; j < tokens; ++j) {
      auto row = token_cells(r, j);
      row.push_back(fixed(s.weights[j], kScalarDecimals));
      add_row(t, row, j == s.focus);
      t.bars.push_back(s.weights[j]);
    }
    add_row(t, {"", "sum", fixed(s.weight_sum, kScalarDecimals)});
    t.bars.push_back(0.0);
    tables.push_back(std::move(t));
  }
  {
    auto columns = vector_columns(r, "v");
    columns.insert(columns.begin() + 2, "weight");
    Table t = make_table(
        "step-6-values", 6, "Scaled values",
        "Every token's value vector (" + components_note(r) + ") and the weight it gets ...",
        columns);
    for (int64_t j = 0; j < tokens; ++j) {
      auto row = token_cells(r, j);
      row.push_back(fixed(s.weights[j], kScalarDecimals));
      append_components(row, s.values[j], k);
      add_row(t, row, j == s.focus);
    }
    tables.push_back(std::move(t));

    Table w =
        make_table("step-6-weighted", 6, "Scaled values",
                   "... and the value vector times the weight, w·v.", vector_columns(r, "w·v"));
    for (int64_t j = 0; j < tokens; ++j) {
      auto row = token_cells(r, j);
      append_components(row, s.weighted_values[j], k);
      add_row(w, row, j == s.focus);
    }
    tables.push_back(std::move(w));
  }
  {
    auto columns = vector_columns(r, "sum");
    columns.erase(columns.begin(), columns.begin() + 2);
    columns.insert(columns.begin(), "");
    columns.push_back("|sum|");
    Table t = make_table("step-7", 7, "Multiply-and-sum",
                         "The scaled values added up over all " + std::to_string(tokens) +
                             " tokens, component by component (in double precision).",
                         columns);
    t.numeric[0] = false;
    std::vector<std::string> row{"sum of w·v"};
    append_components(row, s.sum, k);
    row.push_back(fixed(detail::l2_norm(s.sum), kVectorDecimals));
    add_row(t, row);
    tables.push_back(std::move(t));
  }
  {
    auto columns = vector_columns(r, "a");
    columns.erase(columns.begin(), columns.begin() + 2);
    columns.insert(columns.begin(), "computed by");
    columns.push_back("|a|");
    columns.push_back("max |diff|");
    Table t = make_table("step-8", 8, "Attention value",
                         "The sum, rounded to float: the focus token's attention value in head " +
                             std::to_string(r.head) + ", next to what the " + r.backend +
                             " backend computed in the same forward (max |diff| over all " +
                             std::to_string(r.head_dim) + " components).",
                         columns);
    std::vector<std::string> mine{"walk-through (reference)"};
    append_components(mine, s.attention_value, k);
    mine.push_back(fixed(detail::l2_norm(s.attention_value), kVectorDecimals));
    mine.push_back("");
    add_row(t, mine, true);
    std::vector<std::string> theirs{r.backend + " backend"};
    append_components(theirs, r.backend_attention_value, k);
    theirs.push_back(fixed(detail::l2_norm(r.backend_attention_value), kVectorDecimals));
    theirs.push_back(
        scientific(detail::max_abs_difference(s.attention_value, r.backend_attention_value)));
    add_row(t, theirs);
    tables.push_back(std::move(t));
  }
  {
    Table t = make_table("check", 0, "Check",
                         "Max absolute differences. The walk-through recomputes attention with the "
                         "reference ops from the q, k and v of the " +
                             r.backend +
                             " forward; the backend's own attention values come from that same "
                             "forward.",
                         {"compared", "max |diff|"});
    t.numeric = {false, true};
    add_row(t, {"walk-through vs reference::attention_head (head " + std::to_string(r.head) +
                    ", focus token)",
                scientific(r.walkthrough_vs_reference)});
    add_row(t, {"reference vs " + r.backend + ": focus token, all " + std::to_string(r.heads) +
                    " heads",
                scientific(r.focus_max_abs_difference)});
    add_row(t, {"reference vs " + r.backend + ": whole layer (" + std::to_string(tokens) +
                    " tokens x " + std::to_string(r.heads) + " heads)",
                scientific(r.layer_max_abs_difference)});
    tables.push_back(std::move(t));
  }
  return tables;
}

std::vector<Table> head_tables(const ExplainReport& r) {
  const auto tokens = static_cast<int64_t>(r.tokens.size());
  std::vector<std::string> columns{"#", "token"};
  for (int64_t h = 0; h < r.heads; ++h) columns.push_back("head " + std::to_string(h));

  Table argmax = make_table("argmax", 0, "Most-attended token",
                            "For each query token (row), the token each head of layer " +
                                std::to_string(r.layer) +
                                " gives the largest weight, and that "
                                "weight.",
                            columns);
  Table entropy = make_table("entropy", 0, "Entropy",
                             "The entropy of each query token's weights, in nats: 0 puts all "
                             "weight on one token, ln(" +
                                 std::to_string(tokens) +
                                 ") = " + fixed(std::log(static_cast<double>(tokens)), 3) +
                                 " spreads it evenly.",
                             columns);
  for (int64_t q = 0; q < tokens; ++q) {
    auto most = token_cells(r, q);
    auto spread = token_cells(r, q);
    for (const HeadView& head : r.head_views) {
      const int64_t best = head.summary.argmax[q];
      most.push_back(r.tokens[best] + " " + fixed(head.weights[q * tokens + best], 3));
      spread.push_back(fixed(head.summary.entropy[q], 3));
    }
    add_row(argmax, most, q == r.steps.focus);
    add_row(entropy, spread, q == r.steps.focus);
  }
  std::vector<std::string> mean{"", "mean"};
  for (const HeadView& head : r.head_views) mean.push_back(fixed(head.summary.mean_entropy, 3));
  add_row(entropy, mean);
  return {argmax, entropy};
}

}  // namespace vecformer::cli
