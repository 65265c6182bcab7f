#!/usr/bin/python3
"""`vecformer tokenize --json` gives Hugging Face's ids, type ids, tokens, offsets and special-tokens mask
for every test tokenizer folder (WordPiece, byte-level BPE, Unigram) on every line of the test texts.

    /usr/bin/python3 tests/tokenizer/test_tokenizer_reference.py --binary build/vecformer [--keep]
        [--folder NAME]... [--max-report N]

What it checks, in order:
  1. tools/make_test_tokenizers.py writes the folders (into a scratch folder), and each tokenizer.json is
     byte-identical to the one the committed reference was made from (tests/tokenizer/data/reference/
     MANIFEST.json holds their sha256): the reference and the folders cannot drift apart silently.
  2. The Unigram references agree with SentencePiece itself (python3-sentencepiece, the .model the folder
     was converted from) on every text line, except the documented cases where Hugging Face and
     SentencePiece legitimately differ (SPM_DIFFERENCES below).
  3. For every folder and every run of tests/tokenizer/data/reference/<folder>/<run>.jsonl (RUNS below):
     `vecformer tokenize --model DIR --input TEXT --json [--pairs] [--max-length N] [--no-special-tokens]`
     prints exactly the reference's lines (compared as JSON values). roberta-files (vocab.json +
     merges.txt only) is compared against roberta-json's reference: the two folders are one tokenizer.
     On a mismatch it prints the first differing line of the run, its text, the first differing field
     and both sides.
  4. Invalid UTF-8 (tests/tokenizer/data/texts/invalid_utf8.txt and variants written here): exit code 1,
     one line `vecformer: error: FILE:LINE: text is not valid UTF-8 at byte N` (N counted from the
     start of the line, from 0), nothing on stdout.
A binary without `tokenize --json` (before the tokenizer.json pipeline landed) gets only the checks it
can take: 1, 2, the ids of the WordPiece folder's single-text runs (its plain output) and 4; the script
then exits 77 (ctest: skipped) naming what it could not check, instead of passing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import unicodedata

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(REPO, "tests", "support"))
from script_support import executable_or_none, report, scratch_folder  # noqa: E402

NAME = "test_tokenizer_reference"
DATA = os.path.join(REPO, "tests", "tokenizer", "data")
TEXTS = os.path.join(DATA, "texts")
REFERENCE = os.path.join(DATA, "reference")
GENERATOR = os.path.join(REPO, "tools", "make_test_tokenizers.py")
SKIP = 77

# Folders and the reference each is compared against; bert-base-uncased-json is committed, the others
# are written by tools/make_test_tokenizers.py.
FOLDERS = {
    "bert-base-uncased-json": "bert-base-uncased-json",
    "gpt2-bpe": "gpt2-bpe",
    "roberta-json": "roberta-json",
    "roberta-files": "roberta-json",
    "xlmr-like": "xlmr-like",
    "e5-like": "e5-like",
    "unigram-bytefallback": "unigram-bytefallback",
    "xlmr-current-converter": "xlmr-current-converter",
    "synthetic-bpe": "synthetic-bpe",
    "synthetic-wordpiece": "synthetic-wordpiece",
}
COMMITTED = {"bert-base-uncased-json"}

# run name -> (text file, --pairs, --max-length (0: none), special tokens). The same table is in
# tools/make_tokenizer_reference.mjs (RUNS); the reference folder holds one .jsonl per run.
RUNS = {
    "hand": ("hand.txt", False, 0, True),
    "manpages": ("manpages.txt", False, 0, True),
    "locales": ("locales.txt", False, 0, True),
    "pairs": ("pairs.txt", True, 0, True),
    "hand.nospecial": ("hand.txt", False, 0, False),
    "pairs.nospecial": ("pairs.txt", True, 0, False),
    "hand.max8": ("hand.txt", False, 8, True),
    "hand.max32": ("hand.txt", False, 32, True),
    "pairs.max8": ("pairs.txt", True, 8, True),
    "pairs.max32": ("pairs.txt", True, 32, True),
}
FIELDS = ("ids", "type_ids", "tokens", "offsets", "special_tokens_mask")

# Unigram folders checked against SentencePiece: the model it was converted from and the map from
# SentencePiece ids to the folder's ids.
def _xlmr_id(spm_id: int) -> int:
    # XLMRobertaConverter: <s>=0 <pad>=1 </s>=2 <unk>=3, then the pieces from id 3 on, shifted by 1
    return {0: 3, 1: 0, 2: 2}.get(spm_id, spm_id + 1)


SPM_FOLDERS = {
    "xlmr-like": ("unigram-nfkc.model", _xlmr_id),
    "e5-like": ("unigram-nfkc.model", _xlmr_id),
    "xlmr-current-converter": ("unigram-nfkc.model", _xlmr_id),
    "unigram-bytefallback": ("unigram-identity-bytefallback.model", lambda i: i),
}
SPM_RUNS = ("hand", "manpages", "locales")
ADDED_TOKEN_TEXTS = ("<s>", "</s>", "<pad>", "<unk>", "<mask>")


def _is_mark_or_jamo(c: str) -> bool:
    return (unicodedata.category(c).startswith("M") or "\u1100" <= c <= "\u11ff"
            or c in "\uff9e\uff9f")


# Where Hugging Face and SentencePiece legitimately differ: (name, applies to folders, predicate on the
# line, why). A line that differs and matches no predicate fails the check; the predicates never hide a
# difference on a line they do not describe.
SPM_DIFFERENCES = [
    ("added tokens written in the text", set(SPM_FOLDERS),
     lambda text: any(t in text for t in ADDED_TOKEN_TEXTS),
     "Hugging Face matches added tokens (<s>, </s>, <pad>, <unk>, <mask>) in the raw text before the "
     "model; SentencePiece reads them as characters"),
    ("byte pieces written in the text", {"unigram-bytefallback"},
     lambda text: "<0x" in text,
     "the Unigram model of tokenizers looks '<0x41>' up as a vocabulary string; SentencePiece never "
     "matches BYTE pieces from text"),
    ("trailing whitespace", {"xlmr-like", "e5-like"},
     lambda text: text != "" and (text[-1].isspace() or text[-1] == "\u2581"),
     "Replace(' {2,}', ' ') + Metaspace keep one trailing '▁'; SentencePiece removes trailing whitespace"),
    ("characters composed across grapheme clusters", {"xlmr-like", "e5-like", "xlmr-current-converter"},
     lambda text: any(_is_mark_or_jamo(c) for c in text),
     "Precompiled applies the charsmap per grapheme cluster (first match); SentencePiece's normalizer "
     "takes the longest match across clusters (combining marks, decomposed Hangul, halfwidth voiced "
     "marks)"),
]


def read_lines(path: str) -> list[str]:
    """Lines split on '\\n' only: \\r, \\v, \\f, U+0085 and U+2028 inside a line are text."""
    with open(path, encoding="utf-8", newline="") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def read_reference(folder: str, run: str) -> list[dict]:
    with open(os.path.join(REFERENCE, folder, run + ".jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def short(value, limit: int = 300) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + " ..."


class Checker:
    def __init__(self, binary: str, max_report: int) -> None:
        self.binary = binary
        self.max_report = max_report
        self.problems: list[str] = []
        self.passed: list[str] = []
        self.skipped: list[str] = []

    def fail(self, message: str) -> None:
        self.problems.append(message)
        print(f"  FAIL: {message}", flush=True)

    # -- 1 -----------------------------------------------------------------------------------------------
    def generate(self, out: str) -> dict[str, str] | None:
        result = subprocess.run(["/usr/bin/python3", GENERATOR, "--out", out], capture_output=True, text=True,
                                timeout=300)
        if result.returncode != 0:
            self.fail(f"make_test_tokenizers.py --out failed: {result.stderr.strip()[-2000:]}")
            return None
        with open(os.path.join(REFERENCE, "MANIFEST.json"), encoding="utf-8") as f:
            manifest = json.load(f)
        paths = {}
        for folder in FOLDERS:
            paths[folder] = os.path.join(DATA if folder in COMMITTED else out, folder)
        for folder, digest in sorted(manifest["tokenizer_json_sha256"].items()):
            path = os.path.join(paths[folder], "tokenizer.json")
            if not os.path.isfile(path):
                self.fail(f"{folder}: {path} was not written")
            elif sha256(path) != digest:
                self.fail(f"{folder}/tokenizer.json differs from the one the reference was made from "
                          f"(MANIFEST.json); regenerate the reference (tools/README.md)")
        for folder in FOLDERS:
            if not os.path.isdir(paths[folder]):
                self.fail(f"{folder}: not written by make_test_tokenizers.py")
        self.passed.append("folders generated and equal to the reference's")
        return paths

    # -- 2 -----------------------------------------------------------------------------------------------
    def sentencepiece(self) -> None:
        try:
            import sentencepiece
        except ImportError:
            self.fail("python3-sentencepiece is missing (scripts/install-deps.sh installs it)")
            return
        for folder, (model, to_id) in SPM_FOLDERS.items():
            sp = sentencepiece.SentencePieceProcessor(model_file=os.path.join(DATA, "spm", model))
            rules = [rule for rule in SPM_DIFFERENCES if folder in rule[1]]
            compared = excused = 0
            for run in SPM_RUNS:
                texts = read_lines(os.path.join(TEXTS, RUNS[run][0]))
                for number, (text, ref) in enumerate(zip(texts, read_reference(folder, run)), 1):
                    hf = [i for i, special in zip(ref["ids"], ref["special_tokens_mask"]) if not special]
                    ours = [to_id(i) for i in sp.encode(text)]
                    if hf == ours:
                        compared += 1
                        continue
                    if any(rule[2](text) for rule in rules):
                        excused += 1
                        continue
                    if self._tie(sp, text, ref, to_id):
                        excused += 1
                        continue
                    hf_tokens = [t for t, s in zip(ref["tokens"], ref["special_tokens_mask"]) if not s]
                    self.fail(f"{folder}: {RUNS[run][0]}:{number}: Hugging Face and SentencePiece differ "
                              f"with no documented reason; text {text[:120]!r}\n"
                              f"      hf  {short(hf_tokens)}\n"
                              f"      spm {short(sp.encode(text, out_type=str))}")
            self.passed.append(f"{folder}: SentencePiece agrees on {compared} lines "
                               f"({excused} documented differences)")

    @staticmethod
    def _tie(sp, text: str, ref: dict, to_id) -> bool:
        """Both segmentations cover the same normalized text with the same total score (within float32
        rounding): Viterbi's tie-breaking differs between the two implementations."""
        from_id = {to_id(i): i for i in range(sp.get_piece_size())}
        hf_ids = [i for i, s in zip(ref["ids"], ref["special_tokens_mask"]) if not s]
        if any(i not in from_id for i in hf_ids):
            return False
        hf_pieces = [sp.id_to_piece(from_id[i]) for i in hf_ids]
        spm_ids = sp.encode(text)
        if "".join(hf_pieces) != "".join(sp.id_to_piece(i) for i in spm_ids):
            return False
        hf_score = sum(sp.get_score(from_id[i]) for i in hf_ids)
        spm_score = sum(sp.get_score(i) for i in spm_ids)
        return abs(hf_score - spm_score) <= 1e-4 * max(1.0, abs(spm_score))

    # -- 3 -----------------------------------------------------------------------------------------------
    def tokenize(self, folder: str, text_file: str, args: list[str]) -> subprocess.CompletedProcess:
        return subprocess.run([self.binary, "tokenize", "--model", folder, "--input", text_file, *args],
                              capture_output=True, timeout=300)

    def compare_run(self, name: str, path: str, reference: str, run: str, json_output: bool) -> None:
        text_file, pairs, max_length, special = RUNS[run]
        args = ["--json"] if json_output else []
        if pairs:
            args.append("--pairs")
        if max_length:
            args += ["--max-length", str(max_length)]
        if not special:
            args.append("--no-special-tokens")
        texts = read_lines(os.path.join(TEXTS, text_file))
        expected = read_reference(reference, run)
        result = self.tokenize(path, os.path.join(TEXTS, text_file), args)
        label = f"{name} {run} (vecformer tokenize {' '.join(args)} on {text_file})"
        if result.returncode != 0:
            self.fail(f"{label}: exit {result.returncode}: {result.stderr.decode(errors='replace').strip()}")
            return
        lines = result.stdout.decode("utf-8", errors="replace").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        if len(lines) != len(expected):
            self.fail(f"{label}: {len(lines)} output lines for {len(expected)} input lines")
        mismatched = []
        for number, (line, want) in enumerate(zip(lines, expected), 1):
            if json_output:
                try:
                    got = json.loads(line)
                except json.JSONDecodeError as error:
                    got = {"unparsable": f"{error}: {line[:200]}"}
            else:
                got = {"ids": [int(x) for x in line.split()]}
                want = {"ids": want["ids"]}
            if got != want:
                mismatched.append((number, got, want))
        if not mismatched:
            self.passed.append(label)
            return
        number, got, want = mismatched[0]
        field = next((f for f in FIELDS if got.get(f) != want.get(f)), None)
        detail = ""
        if field is not None and isinstance(got.get(field), list):
            g, w = got[field], want[field]
            index = next((i for i in range(min(len(g), len(w))) if g[i] != w[i]), min(len(g), len(w)))
            token = ""
            if isinstance(want.get("tokens"), list) and index < len(want["tokens"]):
                token = f", Hugging Face's token there {want['tokens'][index]!r}"
            detail = (f"first difference in {field!r} at index {index} "
                      f"(vecformer {short(g[index:index + 3])}, Hugging Face {short(w[index:index + 3])}"
                      f"{token}); ")
        elif field is not None:
            detail = f"field {field!r} missing or not a list; "
        others = "" if len(mismatched) == 1 else f" (and {len(mismatched) - 1} more lines)"
        self.fail(f"{label}: line {number}{others} differs: {detail}\n"
                  f"      text         {texts[number - 1][:200]!r}\n"
                  f"      vecformer    {short(got, 600)}\n"
                  f"      Hugging Face {short(want, 600)}")
        for number, got, want in mismatched[1:self.max_report]:
            print(f"    also line {number}: text {texts[number - 1][:80]!r}", flush=True)

    # -- 4 -----------------------------------------------------------------------------------------------
    def invalid_utf8(self, folder: str, scratch: str) -> None:
        cases = [("invalid_utf8.txt", os.path.join(TEXTS, "invalid_utf8.txt"), 2, 5)]
        variants = {
            "truncated": (b"ok\nend cut \xe2\x82\n", 2, 8),
            "overlong": (b"\xc0\xafslash\n", 1, 0),
            "surrogate": (b"fine\nfine\nx\xed\xa0\x80y\n", 3, 1),
            "beyond_u10ffff": (b"\xf4\x90\x80\x80\n", 1, 0),
            "lone_lead_then_ascii": (b"caf\xc3e\n", 1, 3),
        }
        for name, (data, line, byte) in variants.items():
            path = os.path.join(scratch, f"invalid_{name}.txt")
            with open(path, "wb") as f:
                f.write(data)
            cases.append((name, path, line, byte))
        for name, path, line, byte in cases:
            result = self.tokenize(folder, path, [])
            stderr = result.stderr.decode("utf-8", errors="replace")
            want = f"vecformer: error: {path}:{line}: text is not valid UTF-8 at byte {byte}\n"
            ok = True
            if result.returncode != 1:
                self.fail(f"invalid UTF-8 {name} ({os.path.basename(folder)}): exit {result.returncode}, "
                          f"expected 1; stderr {stderr!r}")
                ok = False
            if stderr != want:
                self.fail(f"invalid UTF-8 {name} ({os.path.basename(folder)}): stderr {stderr!r}, "
                          f"expected {want!r}")
                ok = False
            if result.stdout:
                self.fail(f"invalid UTF-8 {name}: wrote to stdout {result.stdout[:200]!r}")
                ok = False
            if ok:
                self.passed.append(f"invalid UTF-8 {name} ({os.path.basename(folder)})")


def has_json(binary: str) -> bool:
    result = subprocess.run([binary, "tokenize", "--help"], capture_output=True, text=True, timeout=60)
    return "--json" in result.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True, help="path to the vecformer executable")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument("--folder", action="append", choices=sorted(FOLDERS),
                        help="check only this folder (repeatable)")
    parser.add_argument("--max-report", type=int, default=5, help="mismatched lines named per run")
    args = parser.parse_args()
    binary = executable_or_none(NAME, args.binary)
    if binary is None:
        return 1
    checker = Checker(binary, args.max_report)
    folders = args.folder or list(FOLDERS)
    json_output = has_json(binary)

    with scratch_folder("vecformer-tokref-", args.keep) as scratch:
        print("1. generating the test tokenizer folders", flush=True)
        paths = checker.generate(os.path.join(scratch, "tokenizers"))
        print("2. SentencePiece against the Unigram references", flush=True)
        checker.sentencepiece()
        if paths is not None:
            print(f"3. vecformer tokenize{' --json' if json_output else ' (no --json: ids only)'} "
                  "against the reference", flush=True)
            for name in folders:
                if not json_output and name != "bert-base-uncased-json":
                    checker.skipped.append(f"{name}: every run (the binary has no tokenize --json)")
                    continue
                for run, (_, pairs, _, special) in RUNS.items():
                    if not json_output and (pairs or not special):
                        checker.skipped.append(f"{name} {run} (needs --json, --pairs, --no-special-tokens)")
                        continue
                    checker.compare_run(name, paths[name], FOLDERS[name], run, json_output)
            print("4. invalid UTF-8", flush=True)
            checker.invalid_utf8(paths["bert-base-uncased-json"], scratch)
            if json_output:
                checker.invalid_utf8(paths["xlmr-like"], scratch)

    for line in checker.passed:
        print(f"  ok: {line}")
    if checker.problems:
        return report(NAME, checker.problems, f"{len(checker.passed)} checks passed")
    if checker.skipped:
        print(f"\n{NAME}: SKIPPED ({len(checker.passed)} checks passed; {len(checker.skipped)} runs need "
              f"`vecformer tokenize --json` (tokenizer.json pipeline), which this binary lacks):")
        for line in checker.skipped:
            print(f"  - {line}")
        return SKIP
    return report(NAME, [], f"{len(checker.passed)} checks")


if __name__ == "__main__":
    sys.exit(main())
