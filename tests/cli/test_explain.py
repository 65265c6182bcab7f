#!/usr/bin/python3
"""`vecformer explain` end to end through the built binary, and its HTML page in headless Chromium.

    /usr/bin/python3 tests/cli/test_explain.py --binary build/vecformer

(ctest runs it from the repository root.) On models/mini-sentence (random weights, bert-base-uncased
vocabulary): the text, JSON, SVG and HTML formats; the JSON's numbers checked against each other with
numpy (weights sum to 1, attention value = sum of weight x value, the backend agrees); the focus split
into word pieces and the focus appearing twice; one-line errors with exit 1 (bad input) or 2 (usage).
Then Chromium (Debian's `chromium`, installed by scripts/install-deps.sh) renders the page: the dumped
DOM must hold the heatmaps and the walk-through, the JSON embedded in the rendered page must be the JSON
output, and the numbers in the page's visible tables must equal the JSON's, formatted as the page
formats them; a screenshot of the SVG must show the heatmap's colours. No Chromium is a failure, not a
skip.
"""

from __future__ import annotations

import argparse
import html.parser
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zlib

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(REPO, "models", "mini-sentence")
TEXT = "The cat sat on the mat"
TOKENS = ["[CLS]", "the", "cat", "sat", "on", "the", "mat", "[SEP]"]
SVG_NS = "{http://www.w3.org/2000/svg}"
failures: list[str] = []


def check(condition: bool, what: str) -> None:
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        failures.append(what)


def run(binary: str, args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([binary, "explain"] + args, capture_output=True, timeout=120)


def explain(binary: str, *args: str) -> subprocess.CompletedProcess:
    return run(binary, ["--model", MODEL, "--text", TEXT, *args])


def f32(x: float) -> float:
    """A JSON f32 number as the exact float32 value the program printed (shortest round-trip text)."""
    return float(np.float32(x))


def fmt(x: float, decimals: int) -> str:
    return f"{x:.{decimals}f}"


# --- the JSON's own consistency ------------------------------------------------------------------


def check_json(doc: dict, what: str, tolerance: float = 1e-4) -> None:
    w = doc["walkthrough"]
    tokens = len(doc["tokens"])
    dim = doc["model"]["head_dim"]
    # f32 fields: parse as float32 to get the exact values the program used.
    weights = np.array(w["weights"], dtype=np.float32).astype(np.float64)
    values = np.array(w["values"], dtype=np.float32).astype(np.float64)
    check(weights.shape == (tokens,) and values.shape == (tokens, dim), f"{what}: shapes")
    check(abs(weights.sum() - 1.0) < 1e-5, f"{what}: weights sum to 1 ({weights.sum()!r})")
    check(abs(w["weights_sum"] - weights.sum()) < 1e-12, f"{what}: weights_sum is their sum")
    query = np.array(w["query"])
    keys = np.array(w["keys"])
    sims = query @ keys.T / math.sqrt(dim)
    check(np.max(np.abs(sims - np.array(w["similarities"]))) < 1e-5, f"{what}: similarities = q.k/sqrt(d)")
    soft = np.exp(sims - sims.max())
    soft /= soft.sum()
    check(np.max(np.abs(soft - weights)) < 1e-5, f"{what}: weights = softmax(similarities)")
    value = weights @ values
    attention = np.array(w["attention_value"])
    check(np.max(np.abs(value - attention)) < 1e-5,
          f"{what}: attention value = sum of weight x value ({np.max(np.abs(value - attention)):.2e})")
    check(np.max(np.abs(np.array(w["weighted_values"]) - weights[:, None] * values)) < 1e-12,
          f"{what}: weighted values = weight x value")
    backend = np.array(w["backend_attention_value"])
    check(np.max(np.abs(backend - attention)) <= tolerance, f"{what}: backend agrees within {tolerance}")
    c = doc["check"]
    check(c["walkthrough_vs_reference"] == 0.0, f"{what}: walk-through is the reference exactly")
    check(c["focus_max_abs_difference"] <= tolerance and c["layer_max_abs_difference"] <= tolerance,
          f"{what}: reported max differences <= {tolerance} ({c['focus_max_abs_difference']:.2e}, "
          f"{c['layer_max_abs_difference']:.2e})")
    heads = doc["heads"]
    check(len(heads) == doc["model"]["heads"], f"{what}: every head")
    for h in heads:
        m = np.array(h["weights"])
        check(m.shape == (tokens, tokens) and np.max(np.abs(m.sum(axis=1) - 1)) < 1e-5,
              f"{what}: head {h['head']} rows sum to 1")
        check(h["argmax"] == [int(i) for i in np.argmax(m, axis=1)], f"{what}: head {h['head']} argmax")
        entropy = -np.sum(np.where(m > 0, m * np.log(np.where(m > 0, m, 1)), 0), axis=1)
        check(np.max(np.abs(entropy - np.array(h["entropy"]))) < 1e-6, f"{what}: head {h['head']} entropy")
    check(heads[doc["head"]]["weights"][doc["focus"]["index"]] == w["weights"],
          f"{what}: the heatmap row of the focus is the walk-through's weights")


# --- HTML: tables, the embedded JSON, SVG elements -----------------------------------------------


class Page(html.parser.HTMLParser):
    """Tables by id (rows of cell texts), the embedded JSON, and counts of SVG elements by class."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.json_text: str | None = None
        self.classes: dict[str, int] = {}
        self.visible: list[str] = []
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._hidden = 0  # inside <script>, <style> or <title>
        self._in_json = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for c in (a.get("class") or "").split():
            self.classes[f"{tag}.{c}"] = self.classes.get(f"{tag}.{c}", 0) + 1
        if tag == "table":
            self._table = a.get("id")
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table:
            self._cell = []
        elif tag in ("script", "style", "title"):
            self._hidden += 1
            self._in_json = tag == "script" and a.get("id") == "vecformer-explain"
            if self._in_json:
                self.json_text = ""

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag in ("td", "th") and self._cell is not None:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag in ("script", "style", "title"):
            self._hidden -= 1
            self._in_json = False

    def handle_data(self, data):
        if self._in_json:
            self.json_text += data
        if self._cell is not None:
            self._cell.append(data)
        if not self._hidden:
            self.visible.append(data)


def column(table: list[list[str]], name: str) -> int:
    return table[0].index(name)


def check_page_numbers(page: Page, doc: dict, what: str) -> None:
    """The numbers in the visible tables equal the JSON's, formatted as the page formats them."""
    w = doc["walkthrough"]
    tokens = doc["tokens"]
    for step in range(1, 9):
        names = ["step-6-values", "step-6-weighted"] if step == 6 else [f"step-{step}"]
        check(all(n in page.tables for n in names), f"{what}: walk-through step {step} table")
    if failures:
        return
    shown = min(8, doc["model"]["head_dim"])

    def token_rows(table_id: str) -> list[list[str]]:
        rows = page.tables[table_id][1:]
        return [r for r in rows if r[0].isdigit()]

    # Step 1: the query's components and length.
    q = page.tables["step-1"]
    row = q[1]
    check(row[1] == tokens[doc["focus"]["index"]] and row[0] == str(doc["focus"]["index"]),
          f"{what}: step 1 names the focus token")
    check([row[column(q, f"q[{d}]")] for d in range(shown)] == [fmt(f32(v), 4) for v in w["query"][:shown]],
          f"{what}: step 1 query components")
    check(row[column(q, "|q|")] == fmt(w["query_norm"], 4), f"{what}: step 1 |q|")
    # Step 2: every key's first components and length.
    k = page.tables["step-2"]
    rows = token_rows("step-2")
    check(len(rows) == len(tokens) and [r[1] for r in rows] == tokens, f"{what}: step 2 lists every token")
    check(all(r[column(k, f"k[{d}]")] == fmt(f32(w["keys"][j][d]), 4) for j, r in enumerate(rows)
              for d in range(shown)), f"{what}: step 2 key components")
    check(all(r[column(k, "|k|")] == fmt(w["key_norms"][j], 4) for j, r in enumerate(rows)),
          f"{what}: step 2 key lengths")
    # Step 3: dot products and scaled similarities.
    t = page.tables["step-3"]
    rows = token_rows("step-3")
    check([r[column(t, "q·k")] for r in rows] == [fmt(v, 6) for v in w["dot_products"]],
          f"{what}: step 3 dot products")
    check([r[column(t, "q·k/sqrt(d)")] for r in rows] == [fmt(f32(v), 6) for v in w["similarities"]],
          f"{what}: step 3 similarities")
    # Step 4: exponentials and their sum.
    t = page.tables["step-4"]
    rows = token_rows("step-4")
    check([r[column(t, "exp(s - max)")] for r in rows] == [fmt(v, 6) for v in w["softmax"]["exponentials"]],
          f"{what}: step 4 exponentials")
    check(page.tables["step-4"][-1][column(t, "exp(s - max)")] == fmt(w["softmax"]["sum"], 6),
          f"{what}: step 4 sum")
    # Step 5: every softmax weight, and their sum.
    t = page.tables["step-5"]
    rows = token_rows("step-5")
    visible = [r[column(t, "weight")] for r in rows]
    expected = [fmt(f32(v), 6) for v in w["weights"]]
    check(visible == expected, f"{what}: step 5 weights {visible} equal the JSON's {expected}")
    check(page.tables["step-5"][-1][column(t, "weight")] == fmt(w["weights_sum"], 6), f"{what}: step 5 sum")
    # Step 6: values and weighted values.
    t = page.tables["step-6-weighted"]
    rows = token_rows("step-6-weighted")
    check(all(r[column(t, f"w·v[{d}]")] == fmt(w["weighted_values"][j][d], 4) for j, r in enumerate(rows)
              for d in range(shown)), f"{what}: step 6 weighted values")
    # Step 7: the sum.
    t = page.tables["step-7"]
    check([t[1][column(t, f"sum[{d}]")] for d in range(shown)] == [fmt(v, 4) for v in w["sum"][:shown]],
          f"{what}: step 7 sums")
    # Step 8: the attention value, the backend's, and their difference.
    t = page.tables["step-8"]
    mine, theirs = t[1], t[2]
    check([mine[column(t, f"a[{d}]")] for d in range(shown)] ==
          [fmt(f32(v), 4) for v in w["attention_value"][:shown]], f"{what}: step 8 attention value")
    check(mine[column(t, "|a|")] == fmt(w["attention_value_norm"], 4), f"{what}: step 8 |a|")
    check([theirs[column(t, f"a[{d}]")] for d in range(shown)] ==
          [fmt(f32(v), 4) for v in w["backend_attention_value"][:shown]], f"{what}: step 8 backend value")
    diff = max(abs(f32(a) - f32(b)) for a, b in zip(w["attention_value"], w["backend_attention_value"]))
    check(theirs[column(t, "max |diff|")] == f"{diff:.2e}", f"{what}: step 8 difference")
    # The check table: the three reported differences.
    c = doc["check"]
    cells = [r[1] for r in page.tables["check"][1:]]
    check(cells == [f"{c[k]:.2e}" for k in ("walkthrough_vs_reference", "focus_max_abs_difference",
                                             "layer_max_abs_difference")], f"{what}: check table {cells}")
    # Heads: most-attended token and entropies.
    t = page.tables["entropy"]
    rows = token_rows("entropy")
    check(all(r[column(t, f"head {h['head']}")] == fmt(h["entropy"][j], 3) for h in doc["heads"]
              for j, r in enumerate(rows)), f"{what}: entropy table")
    t = page.tables["argmax"]
    rows = token_rows("argmax")
    check(all(r[column(t, f"head {h['head']}")] ==
              f"{tokens[h['argmax'][j]]} {fmt(f32(h['weights'][j][h['argmax'][j]]), 3)}"
              for h in doc["heads"] for j, r in enumerate(rows)), f"{what}: argmax table")
    # The numbers are in the page's visible text, not only in markup.
    text = " ".join(page.visible)
    check(all(v in text for v in expected), f"{what}: the weights are in the visible text")


# --- Chromium ----------------------------------------------------------------------------------------


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def chromium(browser: str, work: str, args: list[str]) -> subprocess.CompletedProcess:
    profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=work)
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-dev-shm-usage", "--force-color-profile=srgb", "--hide-scrollbars",
               f"--user-data-dir={profile}"] + args
    return subprocess.run(command, capture_output=True, timeout=120)


def read_png(path: str) -> np.ndarray:
    """RGB(A) pixels of an 8-bit, non-interlaced PNG (what Chromium writes), as [height, width, channels]."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0, f"unsupported PNG {header}"
    channels = 3 if color == 2 else 4
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(height, 1 + width * channels)
    out = np.zeros((height, width * channels), dtype=np.int32)
    for y in range(height):
        kind, line = raw[y, 0], raw[y, 1:].astype(np.int32)
        prev = out[y - 1] if y else np.zeros_like(line)
        if kind == 0:
            out[y] = line
        elif kind == 2:
            out[y] = (line + prev) & 0xFF
        else:  # Sub (1), Average (3) and Paeth (4) depend on the pixel to the left: per byte.
            row = out[y]
            for x in range(len(line)):
                left = row[x - channels] if x >= channels else 0
                up, corner = prev[x], (prev[x - channels] if x >= channels else 0)
                if kind == 1:
                    predictor = left
                elif kind == 3:
                    predictor = (left + up) // 2
                else:
                    p = left + up - corner
                    pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                    predictor = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
                row[x] = (line[x] + predictor) & 0xFF
    return out.reshape(height, width, channels)[:, :, :3]


def check_chromium(binary: str, work: str) -> None:
    browser = chromium_binary()
    check(browser is not None,
          "chromium is installed (apt-get install chromium, or ./scripts/install-deps.sh)")
    if browser is None:
        return
    page_path = os.path.join(work, "page.html")
    r = explain(binary, "--focus", "sat", "--layer", "1", "--head", "1", "--output", page_path)
    json_out = explain(binary, "--focus", "sat", "--layer", "1", "--head", "1", "--format", "json")
    check(r.returncode == 0 and json_out.returncode == 0, "html and json for the Chromium check")
    if r.returncode or json_out.returncode:
        return

    dumped = chromium(browser, work, ["--dump-dom", "file://" + page_path])
    dom = dumped.stdout.decode("utf-8", "replace")
    check(dumped.returncode == 0 and "</html>" in dom,
          f"chromium --dump-dom renders the page (exit {dumped.returncode}; "
          f"{dumped.stderr.decode(errors='replace')[-300:]!r})")
    if dumped.returncode != 0:
        return
    page = Page()
    page.feed(dom)
    doc = json.loads(json_out.stdout)
    tokens = len(doc["tokens"])
    check(page.classes.get("svg.vecformer-heatmaps") == 1, "rendered DOM: the heatmaps SVG")
    check(page.classes.get("rect.cell") == doc["model"]["heads"] * tokens * tokens,
          f"rendered DOM: {doc['model']['heads']} x {tokens} x {tokens} heatmap cells "
          f"({page.classes.get('rect.cell')})")
    check(page.classes.get("g.heatmap") == doc["model"]["heads"], "rendered DOM: one heatmap per head")
    check(page.classes.get("svg.vecformer-entropy") == 1 and
          page.classes.get("rect.bar") == doc["model"]["heads"], "rendered DOM: the entropy bar chart")
    check("walkthrough" in dom and 'id="step-8"' in dom, "rendered DOM: the walk-through")
    check(page.json_text is not None and page.json_text.strip() == json_out.stdout.decode().strip(),
          "the rendered page embeds the JSON output verbatim")
    embedded = json.loads(page.json_text or "null")
    check(embedded == doc, "the embedded JSON parses to the JSON output")
    check_page_numbers(page, embedded, "rendered page")

    # The standalone SVG, rasterized: the heatmap's colours are on screen (the largest weight of the
    # layer is drawn in the darkest blue, #08306b).
    svg_path = os.path.join(work, "heads.svg")
    r = explain(binary, "--focus", "sat", "--format", "svg", "--output", svg_path)
    root = ET.parse(svg_path).getroot()
    width, height = int(float(root.get("width"))), int(float(root.get("height")))
    png = os.path.join(work, "heads.png")
    shot = chromium(browser, work, [f"--screenshot={png}", f"--window-size={width},{height}",
                                    "file://" + svg_path])
    check(shot.returncode == 0 and os.path.exists(png), f"chromium --screenshot of the SVG (exit {shot.returncode})")
    if shot.returncode == 0 and os.path.exists(png):
        pixels = read_png(png)
        darkest = np.all(np.abs(pixels - np.array([8, 48, 107])) <= 2, axis=2).sum()
        cell_px = float(next(e for e in root.iter(SVG_NS + "rect") if e.get("class") == "cell").get("width"))
        check(darkest >= 0.5 * cell_px * cell_px,
              f"the screenshot shows the darkest cell ({darkest} pixels of #08306b, a cell is {cell_px:.0f} px)")
        check(len(np.unique(pixels.reshape(-1, 3), axis=0)) > 20, "the screenshot has many colours")


# --- the tests -----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    binary = parser.parse_args().binary
    work = tempfile.mkdtemp(prefix="vecformer_explain_")
    try:
        # text
        r = explain(binary, "--focus", "sat")
        out = r.stdout.decode()
        check(r.returncode == 0, f"text format exits 0 ({r.stderr.decode().strip()!r})")
        check(all(f"Step {n}. " in out for n in range(1, 9)), "text: all eight steps")
        check('focus:  "sat" -> token 3 "sat"' in out, "text: the focus token")
        check("0:[CLS] 1:the 2:cat 3:sat 4:on 5:the 6:mat 7:[SEP]" in out, "text: the tokens")
        check("note:" not in out, "text: no note for a plain one-piece, one-time focus")

        # json: numbers consistent; defaults layer 0 head 0; every layer and head on both backends
        r = explain(binary, "--focus", "sat", "--format", "json")
        check(r.returncode == 0, "json format exits 0")
        doc = json.loads(r.stdout)
        check(doc["schema"] == "vecformer-explain/1", "json: schema")
        check(doc["tokens"] == TOKENS and doc["token_ids"][0] == 101 and doc["token_ids"][-1] == 102,
              "json: tokens and ids")
        check(doc["focus"] == {"text": "sat", "pieces": ["sat"], "occurrences": [3], "occurrence": 1,
                               "index": 3, "token": "sat"}, f"json: focus {doc['focus']}")
        check(doc["layer"] == 0 and doc["head"] == 0 and doc["backend"] == "optimized", "json: defaults")
        check_json(doc, "json layer 0 head 0")
        for layer, head in ((1, 0), (1, 1), (0, 1)):
            r = explain(binary, "--focus", "mat", "--layer", str(layer), "--head", str(head), "--format", "json")
            d = json.loads(r.stdout)
            check(r.returncode == 0 and d["layer"] == layer and d["head"] == head, f"json layer {layer} head {head}")
            check_json(d, f"json layer {layer} head {head}")
        r = explain(binary, "--focus", "sat", "--format", "json", "--backend", "reference")
        d = json.loads(r.stdout)
        check(d["check"]["layer_max_abs_difference"] == 0.0, "reference backend: no difference at all")
        check_json(d, "json reference backend", tolerance=0.0)

        # --output: the format follows the extension; the file equals stdout
        path = os.path.join(work, "out.json")
        r = explain(binary, "--focus", "sat", "--output", path)
        with open(path, "rb") as f:
            check(r.returncode == 0 and f.read() == explain(binary, "--focus", "sat", "--format", "json").stdout,
                  "--output FILE.json writes the JSON output")

        # svg: one heatmap per head; the tooltips carry the weights
        r = explain(binary, "--focus", "sat", "--format", "svg")
        check(r.returncode == 0, "svg format exits 0")
        root = ET.fromstring(r.stdout)
        cells = [e for e in root.iter(SVG_NS + "rect") if e.get("class") == "cell"]
        check(root.tag == SVG_NS + "svg" and len(cells) == 2 * 8 * 8, f"svg: 2 heads x 8 x 8 cells ({len(cells)})")
        focus_row = cells[3 * 8:4 * 8]  # head 0, query token 3
        titles = [c.find(SVG_NS + "title").text for c in focus_row]
        check([t.rsplit(": ", 1)[1] for t in titles] == [fmt(f32(v), 6) for v in doc["walkthrough"]["weights"]],
              "svg: the focus row's tooltips are the walk-through weights")

        # html: self-contained, embeds the JSON verbatim, shows the numbers
        r = explain(binary, "--focus", "sat", "--format", "html")
        page_html = r.stdout.decode()
        check(r.returncode == 0 and page_html.startswith("<!DOCTYPE html>"), "html format exits 0")
        check(not any(s in page_html for s in ('src="http', "href=\"http", "@import", "url(http")),
              "html: no external resources")
        page = Page()
        page.feed(page_html)
        json_text = explain(binary, "--focus", "sat", "--format", "json").stdout.decode()
        check(page.json_text is not None and page.json_text.strip() == json_text.strip(),
              "html: the JSON output is embedded verbatim")
        check_page_numbers(page, json.loads(json_text), "html")

        # a focus split into word pieces: its first piece, and the pieces are listed
        r = run(binary, ["--model", MODEL, "--text", "An unaffable cat", "--focus", "Unaffable", "--format", "json"])
        d = json.loads(r.stdout)
        pieces = d["focus"]["pieces"]
        check(r.returncode == 0 and len(pieces) > 1 and d["focus"]["index"] == 2 and
              d["focus"]["token"] == pieces[0], f"split focus: first piece ({pieces})")
        check(any("split into" in n and " ".join(pieces) in n for n in d["notes"]), f"split focus: noted {d['notes']}")
        r = run(binary, ["--model", MODEL, "--text", "An unaffable cat", "--focus", "unaffable"])
        check(f"note:   \"unaffable\" is split into {len(pieces)} word pieces ({' '.join(pieces)})"
              in r.stdout.decode(), "split focus: said in the text format")

        # a focus appearing twice: the first, said; --occurrence 2 picks the second
        r = explain(binary, "--focus", "the", "--format", "json")
        d = json.loads(r.stdout)
        check(d["focus"]["occurrences"] == [1, 5] and d["focus"]["index"] == 1, "repeated focus: first occurrence")
        check(any("appears 2 times (tokens 1 and 5)" in n for n in d["notes"]), f"repeated focus: noted {d['notes']}")
        r = explain(binary, "--focus", "the", "--occurrence", "2")
        check(r.returncode == 0 and 'focus:  "the" -> token 5 "the"' in r.stdout.decode()
              and "appears 2 times" in r.stdout.decode(), "--occurrence 2: the second, said in text")

        # errors: one line, exit 1 for input, 2 for usage; no output file left behind
        bad_out = os.path.join(work, "bad.html")
        cases = [
            (["--focus", "dog"], 1, ["focus \"dog\"", "[CLS] the cat sat on the mat [SEP]"]),
            (["--focus", "the", "--occurrence", "3"], 1, ["appears 2 times"]),
            (["--focus", "sat", "--layer", "2"], 2, ["--layer 2", "0 to 1"]),
            (["--focus", "sat", "--head", "2"], 2, ["--head 2", "0 to 1"]),
            (["--focus", "sat", "--layer", "-1"], 2, ["--layer"]),
            (["--focus", "sat", "--format", "pdf"], 2, ["--format"]),
            ([], 2, ["--focus"]),
        ]
        for args, code, words in cases:
            r = explain(binary, *args, "--output", bad_out)
            err = r.stderr.decode()
            check(r.returncode == code and err.startswith("vecformer: error: ") and err.count("\n") == 1
                  and all(w in err for w in words), f"error {args}: exit {r.returncode}, {err.strip()!r}")
            check(not os.path.exists(bad_out) and r.stdout == b"", f"error {args}: no output")
        r = run(binary, ["--model", os.path.join(REPO, "models", "tiny-bert"), "--text", TEXT, "--focus", "sat"])
        err = r.stderr.decode()
        check(r.returncode == 1 and err.count("\n") == 1 and "vocab" in err,
              f"a model without a vocabulary: {err.strip()!r}")

        check_chromium(binary, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
