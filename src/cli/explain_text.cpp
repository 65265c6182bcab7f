// `vecformer explain --format text`: the walk-through as aligned plain-text tables.
#include <algorithm>
#include <cmath>

#include "cli/explain_report.hpp"

namespace vecformer::cli {

namespace {

constexpr int kBarWidth = 30;

// Display width, counting UTF-8 code points (tokens are mostly ASCII; good enough for alignment).
size_t width(const std::string& text) {
  return static_cast<size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

std::string pad(const std::string& text, size_t to, bool right) {
  const std::string fill(to > width(text) ? to - width(text) : 0, ' ');
  return right ? fill + text : text + fill;
}

void render(std::string& out, const Table& t) {
  if (t.step > 0) {
    out += "Step " + std::to_string(t.step) + ". " + t.title + "\n";
  } else {
    out += t.title + "\n";
  }
  out += "  " + t.caption + "\n";
  std::vector<size_t> widths(t.columns.size());
  for (size_t c = 0; c < t.columns.size(); ++c) {
    widths[c] = width(t.columns[c]);
    for (const auto& row : t.rows) widths[c] = std::max(widths[c], width(row[c]));
  }
  auto line = [&](const std::vector<std::string>& cells, bool highlight, const double* bar) {
    std::string text = highlight ? "> " : "  ";
    for (size_t c = 0; c < cells.size(); ++c) {
      text += (c ? "  " : "") + pad(cells[c], widths[c], t.numeric[c]);
    }
    if (bar && *bar > 0.0) {
      text += "  " + std::string(static_cast<size_t>(std::lround(*bar * kBarWidth)), '#');
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text + "\n";
  };
  line(t.columns, false, nullptr);
  for (size_t r = 0; r < t.rows.size(); ++r) {
    line(t.rows[r], t.highlight[r], t.bars.empty() ? nullptr : &t.bars[r]);
  }
  out += "\n";
}

}  // namespace

std::string write_text(const ExplainReport& r) {
  std::string out;
  out += "vecformer explain: " + r.model_folder + " (" + model_summary(r) + ")\n";
  out += "layer " + std::to_string(r.layer) + ", head " + std::to_string(r.head) + " (0-based); " +
         r.backend + " backend, " + r.dtype +
         "; the walk-through is the reference computation on that forward's q, k and v\n";
  out += "text:   \"" + r.text + "\"\n";
  out += "tokens:";
  for (size_t j = 0; j < r.tokens.size(); ++j) out += " " + std::to_string(j) + ":" + r.tokens[j];
  out += "\n";
  out += "focus:  \"" + r.focus_text + "\" -> token " + std::to_string(r.steps.focus) + " \"" +
         r.tokens[r.steps.focus] + "\"\n";
  for (const std::string& note : r.notes) out += "note:   " + note + "\n";
  out += "\n";
  for (const Table& t : walkthrough_tables(r)) render(out, t);
  out +=
      "Heads of layer " + std::to_string(r.layer) + " (every query token; '>' marks the focus)\n\n";
  for (const Table& t : head_tables(r)) render(out, t);
  while (out.ends_with("\n\n")) out.pop_back();
  return out;
}

}  // namespace vecformer::cli
