// `vecformer explain --format html`: one self-contained page (inline CSS and SVG, no script to run,
// no external resource) with the walk-through tables, the heatmaps and the comparison of heads. The
// JSON output is embedded verbatim in <script type="application/json" id="vecformer-explain">, so
// the page carries its own data; the tables show the same numbers as the text format.
#include <algorithm>
#include <cmath>

#include "cli/explain_report.hpp"

namespace vecformer::cli {

namespace {

constexpr const char* kStyle = R"(
body { font-family: system-ui, sans-serif; margin: 24px auto; max-width: 1280px; padding: 0 16px;
       color: #222; line-height: 1.4; }
h1 { font-size: 1.5em; margin-bottom: 4px; }
h2 { margin-top: 32px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { margin: 20px 0 4px; }
p.caption { margin: 2px 0 8px; color: #444; }
.meta { color: #555; }
.token { display: inline-block; border: 1px solid #ccc; border-radius: 4px; padding: 0 5px;
         margin: 2px; font-family: ui-monospace, monospace; }
.token.focus { border-color: #d62728; background: #fde0e0; font-weight: bold; }
.token small { color: #888; margin-right: 3px; }
table { border-collapse: collapse; margin: 4px 0 8px; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 2px 8px; }
th { background: #f3f6fa; font-weight: 600; }
td.num, th.num { text-align: right; font-family: ui-monospace, monospace; }
tr.focus td { background: #fde0e0; font-weight: bold; }
td.bar { min-width: 160px; border-left: none; }
td.bar span { display: block; height: 10px; background: #2171b5; }
ul.notes li { color: #8a4b00; }
figure { margin: 8px 0; overflow-x: auto; }
)";

void table_html(std::string& out, const Table& t) {
  out += "<table id=\"" + t.id + "\">\n<thead><tr>";
  for (size_t c = 0; c < t.columns.size(); ++c) {
    out += std::string("<th") + (t.numeric[c] ? " class=\"num\"" : "") + ">" +
           xml_escape(t.columns[c]) + "</th>";
  }
  if (!t.bars.empty()) out += "<th></th>";
  out += "</tr></thead>\n<tbody>\n";
  for (size_t r = 0; r < t.rows.size(); ++r) {
    out += t.highlight[r] ? "<tr class=\"focus\">" : "<tr>";
    for (size_t c = 0; c < t.columns.size(); ++c) {
      out += std::string("<td") + (t.numeric[c] ? " class=\"num\"" : "") + ">" +
             xml_escape(t.rows[r][c]) + "</td>";
    }
    if (!t.bars.empty()) {
      const double percent = std::clamp(t.bars[r], 0.0, 1.0) * 100.0;
      out += "<td class=\"bar\">";
      if (percent > 0.0) out += "<span style=\"width: " + fixed(percent, 1) + "%\"></span>";
      out += "</td>";
    }
    out += "</tr>\n";
  }
  out += "</tbody>\n</table>\n";
}

void tables_html(std::string& out, const std::vector<Table>& tables) {
  int previous_step = -1;
  for (const Table& t : tables) {
    if (t.step == 0 || t.step != previous_step) {
      out += "<h3>" + (t.step > 0 ? "Step " + std::to_string(t.step) + ". " : std::string()) +
             xml_escape(t.title) + "</h3>\n";
    }
    previous_step = t.step;
    out += "<p class=\"caption\">" + xml_escape(t.caption) + "</p>\n";
    table_html(out, t);
  }
}

}  // namespace

std::string write_html(const ExplainReport& r) {
  const std::string focus_token = xml_escape(r.tokens[r.steps.focus]);
  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<title>vecformer explain: \"" + xml_escape(r.focus_text) + "\" in \"" +
         xml_escape(r.text) + "\"</title>\n";
  out += "<style>" + std::string(kStyle) + "</style>\n</head>\n<body>\n";
  out += "<h1>How \"" + focus_token + "\" attends to the sentence</h1>\n";
  out += "<p class=\"meta\">" + xml_escape(r.model_folder) + " (" + xml_escape(model_summary(r)) +
         "), layer " + std::to_string(r.layer) + ", head " + std::to_string(r.head) +
         " (counted from 0); " + xml_escape(r.backend) + " backend, " + xml_escape(r.dtype) +
         ". The walk-through is the reference computation on that forward's "
         "queries, keys and values.</p>\n";
  out += "<p class=\"text\">Text: <q>" + xml_escape(r.text) + "</q></p>\n<p class=\"tokens\">";
  for (size_t j = 0; j < r.tokens.size(); ++j) {
    out += std::string("<span class=\"token") +
           (static_cast<int64_t>(j) == r.steps.focus ? " focus" : "") + "\"><small>" +
           std::to_string(j) + "</small>" + xml_escape(r.tokens[j]) + "</span>";
  }
  out += "</p>\n<p class=\"focus\">Focus: \"" + xml_escape(r.focus_text) + "\" is token " +
         std::to_string(r.steps.focus) + ", \"" + focus_token + "\".</p>\n";
  if (!r.notes.empty()) {
    out += "<ul class=\"notes\">\n";
    for (const std::string& note : r.notes) out += "<li>" + xml_escape(note) + "</li>\n";
    out += "</ul>\n";
  }

  out += "<section id=\"walkthrough\">\n<h2>Walk-through: layer " + std::to_string(r.layer) +
         ", head " + std::to_string(r.head) + ", query \"" + focus_token + "\"</h2>\n";
  tables_html(out, walkthrough_tables(r));
  out += "</section>\n";

  out += "<section id=\"heads\">\n<h2>Every head of layer " + std::to_string(r.layer) + "</h2>\n";
  out +=
      "<p class=\"caption\">Attention weights: each row is a query token, each column the token "
      "it attends to; hover over a cell for its weight.</p>\n";
  out += "<figure id=\"heatmaps\">\n" + write_heatmaps_svg(r) + "</figure>\n";
  out +=
      "<h3>Mean entropy per head</h3>\n<p class=\"caption\">Low: the head's queries focus on a "
      "few tokens; near the dashed line: they spread their weight evenly.</p>\n";
  out += "<figure id=\"entropy-chart\">\n" + write_entropy_svg(r) + "</figure>\n";
  tables_html(out, head_tables(r));
  out += "</section>\n";

  // The JSON writer escapes < > & inside strings, so the document cannot end this element early.
  out += "<script type=\"application/json\" id=\"vecformer-explain\">\n" + write_json(r) +
         "</script>\n</body>\n</html>\n";
  return out;
}

}  // namespace vecformer::cli
