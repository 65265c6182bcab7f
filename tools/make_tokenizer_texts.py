#!/usr/bin/python3
"""Writes the machine-derived test text of the tokenizer reference tests, and the SentencePiece training
corpus, from what Debian installs:

    tests/tokenizer/data/texts/manpages.txt   prose of Debian's translated manual pages (one paragraph a
                                              line, up to LINES_PER_LANGUAGE per language)
    tests/tokenizer/data/texts/locales.txt    month and day names of glibc's locale sources, one locale
                                              a line (Arabic, Hebrew, Devanagari, Thai, Greek, ...)
    --corpus FILE                             (optional) the training text of tools/make_test_tokenizers.py:
                                              every paragraph of every manual page in CORPUS_LANGUAGES,
                                              the locale lines and the hand-written texts

    /usr/bin/python3 tools/make_tokenizer_texts.py [--repo DIR] [--corpus FILE]

Deterministic on one machine (sorted files, no randomness); another Debian release has other manual
pages, so the committed files are the reference, not this script's output elsewhere. The hand-written
files (hand.txt, pairs.txt, invalid_utf8.txt) are not written here.
Needs groff (the manual pages are rendered with `groff -man -Tutf8`) and /usr/share/i18n/locales.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAN = "/usr/share/man"
LOCALES = "/usr/share/i18n/locales"
TEST_LANGUAGES = ["de", "fr", "es", "it", "pt", "pl", "cs", "hu", "ro", "tr", "sv", "da", "nl", "fi",
                  "hr", "sr", "ru", "uk", "ja", "ko", "zh_CN", "zh_TW", "id", "sl"]
CORPUS_LANGUAGES = TEST_LANGUAGES + ["pt_BR"]
LINES_PER_LANGUAGE = 12
ENGLISH_CORPUS_PAGES = 60  # English pages of man1 in the training corpus (sorted, the first N)
# Locales whose month and day names go into locales.txt: scripts the manual pages lack.
LOCALE_NAMES = ["ar_SA", "fa_IR", "ur_PK", "he_IL", "yi_US", "hi_IN", "mr_IN", "ne_NP", "bn_IN", "pa_IN",
                "gu_IN", "ta_IN", "te_IN", "kn_IN", "ml_IN", "si_LK", "th_TH", "lo_LA", "km_KH", "my_MM",
                "bo_CN", "el_GR", "hy_AM", "ka_GE", "am_ET", "ti_ER", "mn_MN", "chr_US", "iu_CA", "dv_MV",
                "vi_VN", "yo_NG", "ja_JP", "ko_KR", "zh_CN", "ug_CN", "syr", "sat_IN", "mni_IN", "or_IN"]


def render(path: str) -> list[str]:
    """The paragraphs of one manual page, each a line (wrapped lines joined, whitespace collapsed)."""
    with gzip.open(path, "rb") as f:
        source = f.read()
    pre = subprocess.run(["preconv", "-e", "utf-8"], input=source, capture_output=True, check=False)
    out = subprocess.run(["groff", "-man", "-Tutf8", "-rLL=4000n", "-P-cbou"], input=pre.stdout,
                         capture_output=True, check=False)
    text = out.stdout.decode("utf-8", errors="replace")
    paragraphs = []
    for line in text.split("\n"):
        line = " ".join(line.split())
        # Headings and footers are short; option lists start with '-'.
        if len(line) < 40 or line.startswith("-") or "\ufffd" in line:
            continue
        if len(line) > 600:
            cut = line.rfind(" ", 0, 600)
            line = line[:cut if cut > 300 else 600]
        paragraphs.append(line)
    return paragraphs


def man_pages(language: str) -> list[str]:
    folder = os.path.join(MAN, language, "man1") if language else os.path.join(MAN, "man1")
    if not os.path.isdir(folder):
        return []
    return [os.path.join(folder, name) for name in sorted(os.listdir(folder)) if name.endswith(".gz")]


def language_lines(language: str, limit: int | None) -> list[str]:
    seen: set[str] = set()
    lines: list[str] = []
    for page in man_pages(language):
        for line in render(page):
            if line not in seen:
                seen.add(line)
                lines.append(line)
                if limit is not None and len(lines) >= limit:
                    return lines
    return lines


_UCODE = re.compile(r"<U([0-9A-Fa-f]{4,6})>")


def locale_line(name: str) -> str | None:
    """The day and month names (full and abbreviated) of one glibc locale source, space separated."""
    path = os.path.join(LOCALES, name)
    if not os.path.isfile(path):
        return None
    words: list[str] = []
    keep = False
    with open(path, encoding="utf-8", errors="replace") as f:
        for raw in f:
            line = raw.strip()
            key = line.split(None, 1)[0] if line else ""
            if key in ("day", "abday", "mon", "abmon", "alt_mon"):
                keep = True
            elif key and not line.startswith("\"") and not line.startswith("<"):
                keep = False
            if not keep:
                continue
            for quoted in re.findall(r'"([^"]*)"', line):
                word = _UCODE.sub(lambda m: chr(int(m.group(1), 16)), quoted)
                if word and not word.isascii() and word not in words:
                    words.append(word)
    return " ".join(words) if words else None


def write_lines(path: str, lines: list[str]) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for line in lines:
            f.write(line + "\n")
    print(f"wrote {path}: {len(lines)} lines")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", default=REPO)
    parser.add_argument("--corpus", help="also write the SentencePiece training corpus here")
    parser.add_argument("--no-texts", action="store_true", help="write only --corpus")
    args = parser.parse_args()
    texts = os.path.join(args.repo, "tests", "tokenizer", "data", "texts")
    os.makedirs(texts, exist_ok=True)

    locales = [line for line in (locale_line(name) for name in LOCALE_NAMES) if line]
    if not args.no_texts:
        manpages: list[str] = []
        for language in TEST_LANGUAGES:
            manpages += language_lines(language, LINES_PER_LANGUAGE)
        write_lines(os.path.join(texts, "manpages.txt"), manpages)
        write_lines(os.path.join(texts, "locales.txt"), locales)

    if args.corpus:
        corpus: list[str] = []
        for language in CORPUS_LANGUAGES:
            corpus += language_lines(language, None)
        english: list[str] = []
        for page in man_pages("")[:ENGLISH_CORPUS_PAGES]:
            english += render(page)
        corpus += english
        corpus += locales * 20  # a few hundred words of each script, repeated so they become pieces
        for name in ("hand.txt", "pairs.txt"):
            path = os.path.join(texts, name)
            if os.path.isfile(path):
                with open(path, encoding="utf-8") as f:
                    corpus += [line.rstrip("\n").replace("\t", " ") for line in f if line.strip()]
        write_lines(args.corpus, corpus)
    return 0


if __name__ == "__main__":
    sys.exit(main())
