// `vecformer explain` pictures: every head of the layer as a heatmap (one SVG, `--format svg`), and
// each head's mean entropy as a bar chart (in the HTML page). Plain SVG 1.1: no scripts, no
// external resources; each cell's exact weight is in its <title> (a tooltip in browsers).
#include <algorithm>
#include <cmath>

#include "cli/explain_report.hpp"

namespace vecformer::cli {

std::string xml_escape(const std::string& text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

struct Rgb {
  double r, g, b;
};

// White to dark blue (ColorBrewer "Blues"), for t in [0, 1].
std::string blues(double t) {
  static constexpr Rgb kStops[] = {
      {247, 251, 255}, {198, 219, 239}, {107, 174, 214}, {33, 113, 181}, {8, 48, 107}};
  constexpr int kLast = static_cast<int>(std::size(kStops)) - 1;
  t = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0) * kLast;
  const int i = std::min(static_cast<int>(t), kLast - 1);
  const double f = t - i;
  auto mix = [&](double a, double b) { return static_cast<int>(std::lround(a + (b - a) * f)); };
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "#%02x%02x%02x", mix(kStops[i].r, kStops[i + 1].r),
                mix(kStops[i].g, kStops[i + 1].g), mix(kStops[i].b, kStops[i + 1].b));
  return buffer;
}

std::string num(double v) {
  return fixed(v, 1);
}

// Rough width of a label in the SVG font (sans-serif averages ~0.6 em per character).
double text_width(const std::string& text, double font) {
  size_t chars = 0;
  for (char c : text) chars += (c & 0xC0) != 0x80;
  return static_cast<double>(chars) * font * 0.62;
}

struct Layout {
  double cell, font, label, title = 22.0, gap = 28.0, panel_width, panel_height;
  int64_t columns;
  double width, height, legend = 46.0;
};

Layout layout_for(const ExplainReport& r) {
  const auto tokens = static_cast<double>(r.tokens.size());
  Layout l;
  l.cell = std::clamp(std::floor(432.0 / tokens), 6.0, 36.0);
  l.font = std::clamp(l.cell * 0.62, 7.0, 12.0);
  double longest = 0.0;
  for (const std::string& t : r.tokens) longest = std::max(longest, text_width(t, l.font));
  l.label = std::min(longest, 120.0) + 8.0;
  l.panel_width = l.label + tokens * l.cell;
  l.panel_height = l.title + l.label + tokens * l.cell;
  l.columns =
      std::clamp<int64_t>(static_cast<int64_t>(1240.0 / (l.panel_width + l.gap)), 1, r.heads);
  const auto rows = (r.heads + l.columns - 1) / l.columns;
  l.width = std::max(l.columns * (l.panel_width + l.gap), 720.0);
  l.height = static_cast<double>(rows) * (l.panel_height + l.gap) + l.legend;
  return l;
}

void heatmap(std::string& out, const ExplainReport& r, const Layout& l, int64_t h,
             double max_weight) {
  const auto tokens = static_cast<int64_t>(r.tokens.size());
  const HeadView& view = r.head_views[h];
  const double x0 = static_cast<double>(h % l.columns) * (l.panel_width + l.gap);
  const double y0 = static_cast<double>(h / l.columns) * (l.panel_height + l.gap);
  const double gx = l.label, gy = l.title + l.label;  // the grid's top-left corner in the panel
  out += "<g class=\"heatmap\" data-head=\"" + std::to_string(h) + "\" transform=\"translate(" +
         num(x0) + "," + num(y0) + ")\">\n";
  out += "<text class=\"head-title\" x=\"0\" y=\"15\" font-size=\"13\" font-weight=\"bold\">head " +
         std::to_string(h) + "</text>\n";
  out += "<text x=\"" + num(gx + tokens * l.cell) + "\" y=\"15\" font-size=\"11\" " +
         "text-anchor=\"end\" fill=\"#555\">mean entropy " + fixed(view.summary.mean_entropy, 3) +
         "</text>\n";
  const std::string font = "font-size=\"" + fixed(l.font, 1) + "\"";
  for (int64_t j = 0; j < tokens; ++j) {
    const std::string label = xml_escape(r.tokens[j]);
    const double middle = (static_cast<double>(j) + 0.5) * l.cell;
    const std::string weight = j == r.steps.focus ? " font-weight=\"bold\"" : "";
    // Query tokens down the left side, key tokens along the top (read upwards).
    out += "<text class=\"row-label\" x=\"" + num(gx - 4) + "\" y=\"" + num(gy + middle) + "\" " +
           font + weight + " text-anchor=\"end\" dominant-baseline=\"central\">" + label +
           "</text>\n";
    out += "<text class=\"column-label\" transform=\"translate(" + num(gx + middle) + "," +
           num(gy - 4) + ") rotate(-90)\" " + font + weight + " dominant-baseline=\"central\">" +
           label + "</text>\n";
  }
  const bool numbers_fit = l.cell >= 28.0;
  for (int64_t q = 0; q < tokens; ++q) {
    for (int64_t k = 0; k < tokens; ++k) {
      const double w = view.weights[q * tokens + k];
      const double t = max_weight > 0.0 ? w / max_weight : 0.0;
      const double x = gx + static_cast<double>(k) * l.cell,
                   y = gy + static_cast<double>(q) * l.cell;
      out += "<rect class=\"cell\" x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"" +
             num(l.cell) + "\" height=\"" + num(l.cell) + "\" fill=\"" + blues(t) +
             "\"><title>head " + std::to_string(h) + ": " + xml_escape(r.tokens[q]) + " (" +
             std::to_string(q) + ") attends to " + xml_escape(r.tokens[k]) + " (" +
             std::to_string(k) + "): " + fixed(w, kScalarDecimals) + "</title></rect>\n";
      if (numbers_fit) {
        out += "<text x=\"" + num(x + l.cell / 2) + "\" y=\"" + num(y + l.cell / 2) +
               "\" font-size=\"9\" text-anchor=\"middle\" dominant-baseline=\"central\" "
               "pointer-events=\"none\" fill=\"" +
               (t > 0.55 ? "#fff" : "#222") + "\">" + fixed(w, 2) + "</text>\n";
      }
    }
    // The most-attended key of each query row.
    const int64_t best = view.summary.argmax[q];
    out += "<rect class=\"argmax\" x=\"" + num(gx + best * l.cell + 1) + "\" y=\"" +
           num(gy + q * l.cell + 1) + "\" width=\"" + num(l.cell - 2) + "\" height=\"" +
           num(l.cell - 2) + "\" fill=\"none\" stroke=\"#ff7f0e\" stroke-width=\"1.5\"/>\n";
  }
  out += "<rect class=\"focus-row\" x=\"" + num(gx) + "\" y=\"" + num(gy + r.steps.focus * l.cell) +
         "\" width=\"" + num(tokens * l.cell) + "\" height=\"" + num(l.cell) +
         "\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"2\"/>\n";
  out += "</g>\n";
}

double largest_weight(const ExplainReport& r) {
  double largest = 0.0;
  for (const HeadView& v : r.head_views) {
    for (float w : v.weights) largest = std::max(largest, static_cast<double>(w));
  }
  return largest;
}

}  // namespace

std::string write_heatmaps_svg(const ExplainReport& r) {
  const Layout l = layout_for(r);
  // Colours span 0 to the layer's largest weight, the same scale for every head.
  const double max_weight = largest_weight(r);
  std::string out;
  out += "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"vecformer-heatmaps\" width=\"" +
         num(l.width) + "\" height=\"" + num(l.height) + "\" viewBox=\"0 0 " + num(l.width) + " " +
         num(l.height) + "\" font-family=\"sans-serif\">\n";
  out += "<title>Attention weights of layer " + std::to_string(r.layer) +
         ", every head: rows are " + "query tokens, columns key tokens</title>\n";
  out += "<defs><linearGradient id=\"vecformer-blues\">";
  for (int i = 0; i <= 4; ++i) {
    out += "<stop offset=\"" + fixed(i / 4.0, 2) + "\" stop-color=\"" + blues(i / 4.0) + "\"/>";
  }
  out += "</linearGradient></defs>\n";
  out += "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n";
  for (int64_t h = 0; h < r.heads; ++h) heatmap(out, r, l, h, max_weight);
  // Legend: the colour scale, from 0 to the layer's largest weight.
  const double y = l.height - l.legend + 8;
  out += "<g class=\"legend\" font-size=\"11\">\n";
  out += "<rect x=\"0\" y=\"" + num(y) +
         "\" width=\"200\" height=\"12\" fill=\"url(#vecformer-blues)\" " +
         "stroke=\"#999\" stroke-width=\"0.5\"/>\n";
  out += "<text x=\"0\" y=\"" + num(y + 26) + "\">0</text>\n";
  out += "<text x=\"200\" y=\"" + num(y + 26) + "\" text-anchor=\"end\">" + fixed(max_weight, 3) +
         "</text>\n";
  out += "<text x=\"210\" y=\"" + num(y + 10) +
         "\">weight, one scale for every head; rows: query " +
         "tokens, columns: the tokens they attend to</text>\n";
  out += "<text x=\"210\" y=\"" + num(y + 26) +
         "\">red: the focus token's row; orange: each row's " +
         "largest weight; exact weights in the tooltips</text>\n";
  out += "</g>\n</svg>\n";
  return out;
}

std::string write_entropy_svg(const ExplainReport& r) {
  const double uniform = std::log(static_cast<double>(r.tokens.size()));
  constexpr double kBar = 44.0, kHeight = 160.0, kTop = 24.0, kLeft = 40.0;
  const double width = kLeft + static_cast<double>(r.heads) * kBar + 110.0;
  const double height = kTop + kHeight + 40.0;
  const double scale = uniform > 0.0 ? kHeight / uniform : 0.0;
  std::string out;
  out += "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"vecformer-entropy\" width=\"" +
         num(width) + "\" height=\"" + num(height) + "\" viewBox=\"0 0 " + num(width) + " " +
         num(height) + "\" font-family=\"sans-serif\" font-size=\"11\">\n";
  out += "<title>Mean entropy of each head's attention weights, layer " + std::to_string(r.layer) +
         " (nats)</title>\n";
  const double base = kTop + kHeight;
  out += "<line x1=\"" + num(kLeft) + "\" y1=\"" + num(base) + "\" x2=\"" + num(width - 100) +
         "\" y2=\"" + num(base) + "\" stroke=\"#333\"/>\n";
  for (int64_t h = 0; h < r.heads; ++h) {
    const double mean = r.head_views[h].summary.mean_entropy;
    const double bar = std::max(0.0, mean * scale);
    const double x = kLeft + static_cast<double>(h) * kBar + 6;
    out += "<rect class=\"bar\" data-head=\"" + std::to_string(h) + "\" x=\"" + num(x) + "\" y=\"" +
           num(base - bar) + "\" width=\"" + num(kBar - 12) + "\" height=\"" + num(bar) +
           "\" fill=\"" + (h == r.head ? "#2171b5" : "#6baed6") + "\"><title>head " +
           std::to_string(h) + ": mean entropy " + fixed(mean, kScalarDecimals) +
           " nats</title></rect>\n";
    out += "<text x=\"" + num(x + (kBar - 12) / 2) + "\" y=\"" + num(base - bar - 4) +
           "\" text-anchor=\"middle\">" + fixed(mean, 3) + "</text>\n";
    out += "<text x=\"" + num(x + (kBar - 12) / 2) + "\" y=\"" + num(base + 14) +
           "\" text-anchor=\"middle\">" + std::to_string(h) + "</text>\n";
  }
  out += "<line x1=\"" + num(kLeft) + "\" y1=\"" + num(kTop) + "\" x2=\"" + num(width - 100) +
         "\" y2=\"" + num(kTop) + "\" stroke=\"#d62728\" stroke-dasharray=\"4 3\"/>\n";
  out += "<text x=\"" + num(width - 96) + "\" y=\"" + num(kTop + 4) +
         "\" fill=\"#d62728\">uniform " + fixed(uniform, 3) + "</text>\n";
  out += "<text x=\"" + num(kLeft) + "\" y=\"" + num(base + 32) + "\">head</text>\n";
  out += "</svg>\n";
  return out;
}

}  // namespace vecformer::cli
