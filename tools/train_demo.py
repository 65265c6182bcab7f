#!/usr/bin/python3
"""Trains models/demo: a small BERT encoder, masked-language modelling on English text from Debian packages.

Run from the repository root with Debian's interpreter (it needs python3-torch and python3-numpy), after
building vecformer (the corpus is tokenized with `build/vecformer tokenize`, Hugging Face BertTokenizer's
exact WordPiece) and installing the corpus packages (`apt-get install dict-gcide fortunes fortunes-min`):

    /usr/bin/python3 tools/train_demo.py --out models/demo --random-out models/demo-random

What it does, in order (every random choice comes from --seed):

1. Corpus. English sentences from
   - dict-gcide   /usr/share/dictd/gcide.dict.dz: definitions, usage notes and quotations of the GNU
                  Collaborative International Dictionary of English (1913 Webster + additions), with the
                  dictionary markup (pronunciations, etymologies, source tags, cross-reference braces,
                  synonym lists, author citations) removed; a seeded sample of --gcide-entries entries;
   - fortunes, fortunes-min   /usr/share/games/fortunes/* (every cookie file except ascii-art / art);
   - base-files   /usr/share/common-licenses/* (the license texts; symlinked duplicates skipped);
   - this project's README.md and docs/*.md as committed in --docs-commit (Markdown code blocks and
     tables dropped).
   Text is split into sentences (a punctuation-and-capital rule), filtered (3 to 100 words, mostly
   letters), de-duplicated; --heldout (5 %) of the sentences, chosen at random, are held out for
   evaluation and never trained on.
2. Tokens. Every sentence is tokenized with the full bert-base-uncased vocabulary
   (models/vocab/bert-base-uncased) by `vecformer tokenize`; the vocabulary is then trimmed to the
   tokens that occur in the corpus plus [PAD] [UNK] [CLS] [SEP] [MASK], keeping bert-base-uncased's order
   (so new id = rank of the old id among the kept ones). vocab.txt in the output is the trimmed list: for
   any text whose bert-base-uncased pieces are all kept, WordPiece with it gives exactly the mapped ids
   (greedy longest-match over a subset picks the same pieces whenever they are in the subset).
3. Training sequences. Consecutive training sentences of one document (a dictionary entry, a fortune, a
   license, a doc) are packed greedily up to a target length (128 tokens half the time, otherwise uniform
   in 8..128); half of the packed chunks of two or more sentences are split into segments A and B
   ([CLS] A [SEP] B [SEP], token types 0 / 1, no next-sentence objective). Masked-language modelling:
   per sequence max(1, round(15 % of the non-special tokens)) positions are chosen; 80 % of them become
   [MASK], 10 % a random non-special token of the trimmed vocabulary, 10 % stay; the loss is the
   cross-entropy at the chosen positions. Masks are drawn anew for every batch.
4. Model. Post-norm BERT (see tools/make_checkpoint.py for the exact semantics vecformer implements):
   learned positions, token types 2, embeddings LayerNorm, erf GELU, layer_norm_eps 1e-12, no dropout; an
   MLM head (dense + GELU + LayerNorm, decoder tied to the word embeddings, output bias) as Hugging Face's
   BertForMaskedLM. Initialization as BERT's: normal(0, 0.02) weights, zero biases, LayerNorm 1 / 0.
   The initialized model is written to --random-out before the first step.
5. Optimization: AdamW (betas 0.9 / 0.98, weight decay 0.01 except biases and LayerNorm), linear warm-up
   then linear decay to 0, gradient norm clipped at 1; --steps steps of at most --batch-tokens padded
   tokens (sequences bucketed by length); torch.set_num_threads(--threads).
6. Output: config.json, model.safetensors (--dtype, default F16: the folder stays under 10 MB), vocab.txt,
   tokenizer_config.json, training_log.json, loss.svg; the stored (rounded) weights are what is evaluated.
   Held-out masked-token accuracy (fixed masks, seed + 1) of the trained and the random model, and of
   always guessing the most frequent training token. Parity: `vecformer run --text --backend reference`
   (and optimized) on held-out sentences against this module's float64 forward of the stored weights.

Results are printed and written to OUT/training_log.json; OUT/README.md is written by hand from them.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import math
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # keep tools/ free of __pycache__
sys.path.insert(0, os.path.join(REPO, "tools"))
import make_checkpoint as mc  # noqa: E402

GCIDE = "/usr/share/dictd/gcide.dict.dz"
FORTUNES_DIR = "/usr/share/games/fortunes"
FORTUNE_SKIP = {"ascii-art", "art"}  # pictures drawn with characters, not sentences
LICENSES_DIR = "/usr/share/common-licenses"
FULL_VOCAB_DIR = os.path.join(REPO, "models", "vocab", "bert-base-uncased")
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
PARITY_TOLERANCE = 2e-4
# The project's docs as they were when models/demo was trained (README.md and docs/FORMAT.md).
DOCS_COMMIT = "3d5aa36635b906353795f7b4b0ebbce6fa91035b"
# Debian's PyTorch calls libblas.so.3, which is netlib's reference BLAS unless another is selected
# (2 GFLOP/s here); Debian's libopenblas0-pthread is ~16x faster. The script re-executes itself with it
# first on the library path, so the system-wide choice is left alone.
OPENBLAS_DIR = "/usr/lib/x86_64-linux-gnu/openblas-pthread"


def use_openblas(threads: int) -> None:
    paths = os.environ.get("LD_LIBRARY_PATH", "").split(":")
    if not os.path.isdir(OPENBLAS_DIR) or OPENBLAS_DIR in paths:
        return
    env = dict(os.environ, LD_LIBRARY_PATH=":".join([OPENBLAS_DIR] + [p for p in paths if p]),
               OPENBLAS_NUM_THREADS=str(threads))
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


# ---------------------------------------------------------------------------------------------------
# corpus


def read_bytes(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def file_record(path: str, source: str, data: bytes | None = None) -> Dict[str, object]:
    data = read_bytes(path) if data is None else data
    return {"source": source, "path": path, "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest()}


def git_docs(commit: str) -> List[Tuple[str, bytes]]:
    """README.md and docs/*.md as committed in `commit` (the working tree moves; a commit does not)."""
    def git(*cmd: str) -> bytes:
        return subprocess.run(["git", "-C", REPO, *cmd], check=True, capture_output=True).stdout
    names = ["README.md"] + sorted(n for n in git("ls-tree", "--name-only", commit, "docs/").decode().split()
                                   if n.endswith(".md"))
    return [(name, git("show", f"{commit}:{name}")) for name in names]


_GCIDE_TAG = re.compile(r"\[(?:1913 Webster|Webster 1913[^\]]*|PJC|WordNet[^\]]*|[A-Z][A-Za-z. ]{0,20}"
                        r"(?:Dict|Suppl|Webster)[^\]]*|RN|MW\d*|Chambers[^\]]*|Century[^\]]*|Obs\.?|R\.|"
                        r"Colloq\.?|Archaic|Rare|Poetic|Prov\. Eng\.?|Scot\.?|U\. S\.?|Eng\.?|Local|"
                        r"Cant|Slang|Low)\]")
_GCIDE_CITATION = re.compile(r"--\s*[A-Z][^.;:!?\n]{0,60}\.?\s*$")
_GCIDE_INLINE_CITATION = re.compile(r"\s--\s?[A-Z][\w'&]*(?:\s[A-Z][\w'&]*)*\.?(?=\s|$)")


def gcide_entries() -> List[str]:
    """The text of each dictionary entry (the dict file as dictd stores it: entries at index offsets)."""
    with gzip.open(GCIDE, "rb") as f:
        data = f.read()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

    def b64(s: str) -> int:
        value = 0
        for c in s:
            value = value * 64 + alphabet.index(c)
        return value

    spans = set()
    with open(GCIDE.replace(".dict.dz", ".index"), encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3 or parts[0].startswith("00-database") or parts[0].startswith("00database"):
                continue
            spans.add((b64(parts[1]), b64(parts[2])))
    return [data[o:o + n].decode("utf-8", errors="replace") for o, n in sorted(spans)]


def gcide_paragraphs(entry: str) -> List[str]:
    """Prose paragraphs of one entry: definitions, notes, usage, quotations; markup removed."""
    out = []
    for block in re.split(r"\n\s*\n", entry):
        lines = [ln for ln in block.split("\n") if ln.strip()]
        if not lines:
            continue
        if "\\" in lines[0] and not lines[0].startswith(" "):
            continue  # the headword line: pronunciation, part of speech, etymology
        text = " ".join(ln.strip() for ln in lines)
        text = _GCIDE_TAG.sub(" ", text)
        if re.match(r"^(Syn:|Syn\.|See also|From |Specif\.|Compare\b)", text):
            continue
        text = re.sub(r"^(Note:|Usage:)\s*", "", text)
        text = re.sub(r"^\(?[0-9]+\.?\)?\s+|^\([a-z]\)\s+", "", text)  # sense numbers
        text = _GCIDE_CITATION.sub("", text)
        text = _GCIDE_INLINE_CITATION.sub(" ", text)
        text = text.replace("{", "").replace("}", "").replace("*", "").replace("\"", "\"")
        text = re.sub(r"\\[^\\]{0,40}\\", " ", text)  # stray pronunciations
        text = re.sub(r"\s+", " ", text).strip()
        if text:
            out.append(text)
    return out


def fortune_documents(path: str) -> List[str]:
    with open(path, encoding="utf-8", errors="replace") as f:
        cookies = f.read().split("\n%\n")
    out = []
    for cookie in cookies:
        lines = []
        for ln in cookie.split("\n"):
            if re.match(r"^\s*--\s", ln) or re.match(r"^\s*-- ", ln):
                continue  # attribution
            lines.append(ln.strip())
        text = re.sub(r"\s+", " ", " ".join(lines)).strip()
        if text:
            out.append(text)
    return out


def plain_documents(data: bytes, markdown: bool) -> List[str]:
    """The text of a file as one document; for Markdown without code blocks, tables, headings' hashes."""
    text = data.decode("utf-8", errors="replace")
    if markdown:
        text = re.sub(r"```.*?```", "\n\n", text, flags=re.S)
        text = "\n".join(ln for ln in text.split("\n") if not ln.lstrip().startswith("|"))
        text = re.sub(r"^#+\s*", "", text, flags=re.M)
        text = text.replace("`", "").replace("**", "")
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    paragraphs = [re.sub(r"\s+", " ", p).strip() for p in re.split(r"\n\s*\n", text)]
    return [" ".join(p for p in paragraphs if p)]  # one document per file: consecutive sentences


_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[\"'(\[]?[A-Z0-9])")
_ABBREVIATIONS = re.compile(r"\b(?:[A-Z]|Mr|Mrs|Ms|Dr|St|Mt|fr|Fr|Lat|Gr|L|F|e\.g|i\.e|cf|vs|etc|"
                            r"No|Vol|pp|Ch|Prof|Gen|Col|Jr|Sr|Co|Inc|Ltd|viz|esp|Obs|Prov|Eng|Am|Bot|"
                            r"Zool|Chem|Med|Anat|Arch|Naut|Mil|Law|Mus|Geom|Math)\.$")


def split_sentences(text: str) -> List[str]:
    pieces = _SENTENCE_END.split(text)
    sentences: List[str] = []
    for piece in pieces:
        if sentences and _ABBREVIATIONS.search(sentences[-1]):
            sentences[-1] += " " + piece
        else:
            sentences.append(piece)
    return [s.strip() for s in sentences if s.strip()]


def keep_sentence(s: str) -> bool:
    words = s.split()
    if not 3 <= len(words) <= 100:
        return False
    letters = sum(c.isalpha() for c in s)
    return letters >= 0.6 * len(s) and sum(c.isascii() for c in s) >= 0.95 * len(s)


def build_corpus(seed: int, gcide_entries_wanted: int, docs_commit: str) -> Tuple[List[Tuple[str, List[str]]], List[Dict]]:
    """[(source, [sentence, ...]) per document] and the input file records."""
    rng = random.Random(seed)
    documents: List[Tuple[str, List[str]]] = []
    files: List[Dict] = []

    entries = gcide_entries()
    rng.shuffle(entries)
    taken = 0
    for entry in entries:
        if taken >= gcide_entries_wanted:
            break
        sentences = [s for p in gcide_paragraphs(entry) for s in split_sentences(p)]
        if sentences:
            documents.append(("dict-gcide", sentences))
            taken += 1
    files.append(file_record(GCIDE, "dict-gcide"))
    files[-1]["entries_total"] = len(entries)
    files[-1]["entries_used"] = taken

    for name in sorted(os.listdir(FORTUNES_DIR)):
        path = os.path.join(FORTUNES_DIR, name)
        if name.endswith((".dat", ".u8")) or name in FORTUNE_SKIP or os.path.islink(path):
            continue
        for cookie in fortune_documents(path):
            documents.append(("fortunes", split_sentences(cookie)))
        files.append(file_record(path, "fortunes"))

    seen_real = set()
    for name in sorted(os.listdir(LICENSES_DIR)):
        path = os.path.join(LICENSES_DIR, name)
        real = os.path.realpath(path)
        if os.path.isdir(path) or real in seen_real:
            continue
        seen_real.add(real)
        for doc in plain_documents(read_bytes(path), markdown=False):
            documents.append(("common-licenses", split_sentences(doc)))
        files.append(file_record(path, "common-licenses"))

    for name, data in git_docs(docs_commit):
        for doc in plain_documents(data, markdown=True):
            documents.append(("project-docs", split_sentences(doc)))
        files.append(file_record(f"{name} @ {docs_commit[:12]}", "project-docs", data))

    seen = set()
    cleaned = []
    for source, sentences in documents:
        kept = []
        for s in sentences:
            key = s.lower()
            if keep_sentence(s) and key not in seen:
                seen.add(key)
                kept.append(s)
        if kept:
            cleaned.append((source, kept))
    return cleaned, files


def tokenize_full_vocab(binary: str, sentences: Sequence[str], model_dir: str = FULL_VOCAB_DIR) -> List[List[int]]:
    """bert-base-uncased ids of each sentence, [CLS] ... [SEP] included, by `vecformer tokenize`."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "sentences.txt")
        with open(path, "w", encoding="utf-8") as f:
            for s in sentences:
                assert "\n" not in s and "\r" not in s
                f.write(s + "\n")
        result = subprocess.run([binary, "tokenize", "--model", model_dir, "--input", path],
                                check=True, capture_output=True, text=True)
    lines = result.stdout.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) != len(sentences):
        raise RuntimeError(f"vecformer tokenize gave {len(lines)} lines for {len(sentences)} sentences")
    return [[int(t) for t in ln.split()] for ln in lines]


def read_vocab(path: str) -> List[str]:
    with open(path, encoding="utf-8") as f:
        return [ln.rstrip("\n") for ln in f]


# ---------------------------------------------------------------------------------------------------
# model


class Encoder(nn.Module):
    """Post-norm BERT with the exact semantics of tools/make_checkpoint.py's reference_forward."""

    def __init__(self, vocab_size: int, hidden: int, heads: int, intermediate: int, layers: int,
                 max_positions: int, type_vocab: int, eps: float = 1e-12):
        super().__init__()
        self.hidden, self.heads, self.eps = hidden, heads, eps
        self.word = nn.Embedding(vocab_size, hidden)
        self.position = nn.Embedding(max_positions, hidden)
        self.token_type = nn.Embedding(type_vocab, hidden)
        self.emb_norm = nn.LayerNorm(hidden, eps=eps)
        self.layers = nn.ModuleList()
        for _ in range(layers):
            layer = nn.Module()
            layer.query = nn.Linear(hidden, hidden)
            layer.key = nn.Linear(hidden, hidden)
            layer.value = nn.Linear(hidden, hidden)
            layer.attn_out = nn.Linear(hidden, hidden)
            layer.attn_norm = nn.LayerNorm(hidden, eps=eps)
            layer.intermediate = nn.Linear(hidden, intermediate)
            layer.output = nn.Linear(intermediate, hidden)
            layer.out_norm = nn.LayerNorm(hidden, eps=eps)
            self.layers.append(layer)
        # MLM head as BertForMaskedLM: transform, decoder tied to the word embeddings, bias.
        self.head_dense = nn.Linear(hidden, hidden)
        self.head_norm = nn.LayerNorm(hidden, eps=eps)
        self.head_bias = nn.Parameter(torch.zeros(vocab_size))

    def init_bert(self, std: float = 0.02) -> None:
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, 0.0, std)
                if isinstance(m, nn.Linear):
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        nn.init.zeros_(self.head_bias)

    def forward(self, ids: torch.Tensor, types: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Last hidden states [B, L, H] of a padded batch; rows past a sequence's length are junk."""
        B, L = ids.shape
        H, nh = self.hidden, self.heads
        hd = H // nh
        x = self.word(ids) + self.position.weight[:L].unsqueeze(0) + self.token_type(types)
        x = self.emb_norm(x)
        pad = torch.arange(L, device=ids.device).unsqueeze(0) >= lengths.unsqueeze(1)  # [B, L] keys
        bias = torch.zeros(B, 1, 1, L, dtype=x.dtype).masked_fill(pad[:, None, None, :], float("-inf"))
        for layer in self.layers:
            q = layer.query(x).view(B, L, nh, hd).transpose(1, 2)
            k = layer.key(x).view(B, L, nh, hd).transpose(1, 2)
            v = layer.value(x).view(B, L, nh, hd).transpose(1, 2)
            scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(hd) + bias
            probs = torch.softmax(scores, dim=-1)
            context = torch.matmul(probs, v).transpose(1, 2).reshape(B, L, H)
            x = layer.attn_norm(x + layer.attn_out(context))
            x = layer.out_norm(x + layer.output(F.gelu(layer.intermediate(x))))
        return x

    def mlm_logits(self, states: torch.Tensor) -> torch.Tensor:
        h = self.head_norm(F.gelu(self.head_dense(states)))
        return F.linear(h, self.word.weight, self.head_bias)

    def hf_tensors(self) -> Dict[str, np.ndarray]:
        """Hugging Face BertForMaskedLM names (without the bert. prefix for the encoder)."""
        t: Dict[str, torch.Tensor] = {
            "embeddings.word_embeddings.weight": self.word.weight,
            "embeddings.position_embeddings.weight": self.position.weight,
            "embeddings.token_type_embeddings.weight": self.token_type.weight,
            "embeddings.LayerNorm.weight": self.emb_norm.weight,
            "embeddings.LayerNorm.bias": self.emb_norm.bias,
        }
        names = (("attention.self.query", "query"), ("attention.self.key", "key"),
                 ("attention.self.value", "value"), ("attention.output.dense", "attn_out"),
                 ("attention.output.LayerNorm", "attn_norm"), ("intermediate.dense", "intermediate"),
                 ("output.dense", "output"), ("output.LayerNorm", "out_norm"))
        for n, layer in enumerate(self.layers):
            for hf, mine in names:
                module = getattr(layer, mine)
                t[f"encoder.layer.{n}.{hf}.weight"] = module.weight
                t[f"encoder.layer.{n}.{hf}.bias"] = module.bias
        t["cls.predictions.transform.dense.weight"] = self.head_dense.weight
        t["cls.predictions.transform.dense.bias"] = self.head_dense.bias
        t["cls.predictions.transform.LayerNorm.weight"] = self.head_norm.weight
        t["cls.predictions.transform.LayerNorm.bias"] = self.head_norm.bias
        t["cls.predictions.bias"] = self.head_bias
        return {k: v.detach().to(torch.float64).numpy().copy() for k, v in t.items()}

    def load_hf_tensors(self, tensors: Dict[str, np.ndarray]) -> None:
        """Inverse of hf_tensors (used to evaluate exactly the stored, rounded weights)."""
        own = dict(zip(self.hf_tensors().keys(), self._parameters_in_hf_order()))
        with torch.no_grad():
            for name, param in own.items():
                param.copy_(torch.as_tensor(tensors[name], dtype=param.dtype))

    def _parameters_in_hf_order(self) -> List[torch.Tensor]:
        p = [self.word.weight, self.position.weight, self.token_type.weight, self.emb_norm.weight,
             self.emb_norm.bias]
        for layer in self.layers:
            for mine in ("query", "key", "value", "attn_out", "attn_norm", "intermediate", "output",
                         "out_norm"):
                module = getattr(layer, mine)
                p += [module.weight, module.bias]
        return p + [self.head_dense.weight, self.head_dense.bias, self.head_norm.weight,
                    self.head_norm.bias, self.head_bias]


def model_config(args: argparse.Namespace, vocab_size: int) -> Dict[str, object]:
    return {
        "architectures": ["BertForMaskedLM"],
        "model_type": "bert",
        "hidden_size": args.hidden,
        "num_attention_heads": args.heads,
        "intermediate_size": args.intermediate,
        "num_hidden_layers": args.layers,
        "hidden_act": "gelu",
        "layer_norm_eps": 1e-12,
        "vocab_size": vocab_size,
        "max_position_embeddings": args.max_positions,
        "type_vocab_size": 2,
        "position_embedding_type": "absolute",
        "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0,
        "initializer_range": 0.02,
        "pad_token_id": 0,
        "torch_dtype": {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}[args.dtype],
    }


def save_folder(out_dir: str, model: Encoder, config: Dict, vocab: List[str], dtype: str,
                metadata: Dict[str, str]) -> Dict[str, np.ndarray]:
    """Writes the model folder; returns the stored tensors as float64 (rounded to dtype)."""
    os.makedirs(out_dir, exist_ok=True)
    tensors = model.hf_tensors()
    mc.write_safetensors(os.path.join(out_dir, "model.safetensors"),
                         {k: (v, dtype) for k, v in tensors.items()}, metadata)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    with open(os.path.join(out_dir, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("".join(tok + "\n" for tok in vocab))
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w") as f:
        f.write('{\n  "do_lower_case": true\n}\n')
    stored, _, _ = mc.read_safetensors(os.path.join(out_dir, "model.safetensors"))
    return stored


# ---------------------------------------------------------------------------------------------------
# data


def pack_documents(docs: List[List[List[int]]], rng: np.random.Generator, max_len: int,
                   cls: int, sep: int) -> List[Tuple[List[int], List[int]]]:
    """One pass over the documents (shuffled): (ids, type ids) sequences, see the module docstring."""
    content = max_len - 3
    out = []
    for d in rng.permutation(len(docs)):
        sentences = docs[d]
        i = 0
        while i < len(sentences):
            target = content if rng.random() < 0.5 else int(rng.integers(8, content + 1))
            chunk = [sentences[i][:content]]
            total = len(chunk[0])
            i += 1
            while i < len(sentences) and total + len(sentences[i]) <= target:
                chunk.append(sentences[i])
                total += len(sentences[i])
                i += 1
            if len(chunk) >= 2 and rng.random() < 0.5:
                k = int(rng.integers(1, len(chunk)))
                a = [t for s in chunk[:k] for t in s]
                b = [t for s in chunk[k:] for t in s]
                ids = [cls] + a + [sep] + b + [sep]
                types = [0] * (len(a) + 2) + [1] * (len(b) + 1)
            else:
                a = [t for s in chunk for t in s]
                ids = [cls] + a + [sep]
                types = [0] * len(ids)
            out.append((ids, types))
    return out


def make_batches(sequences: List[Tuple[List[int], List[int]]], rng: np.random.Generator,
                 batch_tokens: int) -> List[List[int]]:
    """Indices grouped into batches of similar length, at most batch_tokens padded tokens each."""
    order = rng.permutation(len(sequences))
    batches = []
    pool = 64 * max(1, batch_tokens // 32)
    for start in range(0, len(order), pool):
        chunk = sorted(order[start:start + pool], key=lambda j: len(sequences[j][0]))
        batch: List[int] = []
        longest = 0
        for j in chunk:
            n = len(sequences[j][0])
            if batch and max(longest, n) * (len(batch) + 1) > batch_tokens:
                batches.append(batch)
                batch, longest = [], 0
            batch.append(int(j))
            longest = max(longest, n)
        if batch:
            batches.append(batch)
    return [batches[k] for k in rng.permutation(len(batches))]


def mask_batch(sequences: List[Tuple[List[int], List[int]]], rng: np.random.Generator, n_special: int,
               vocab_size: int, mask_id: int, rate: float = 0.15):
    """Padded tensors and the MLM targets: ids (masked), types, lengths, flat positions, labels, kind.

    kind: 0 = replaced by [MASK], 1 = random token, 2 = unchanged. Ids below n_special are specials.
    """
    B = len(sequences)
    L = max(len(s[0]) for s in sequences)
    ids = np.zeros((B, L), dtype=np.int64)
    types = np.zeros((B, L), dtype=np.int64)
    lengths = np.zeros(B, dtype=np.int64)
    positions, labels, kinds = [], [], []
    for b, (seq, typ) in enumerate(sequences):
        n = len(seq)
        ids[b, :n] = seq
        types[b, :n] = typ
        lengths[b] = n
        eligible = [p for p in range(n) if seq[p] >= n_special]
        if not eligible:
            continue
        count = max(1, int(round(rate * len(eligible))))
        chosen = rng.choice(eligible, size=count, replace=False)
        for p in sorted(int(c) for c in chosen):
            positions.append(b * L + p)
            labels.append(seq[p])
            r = rng.random()
            if r < 0.8:
                ids[b, p] = mask_id
                kinds.append(0)
            elif r < 0.9:
                ids[b, p] = int(rng.integers(n_special, vocab_size))
                kinds.append(1)
            else:
                kinds.append(2)
    return (torch.from_numpy(ids), torch.from_numpy(types), torch.from_numpy(lengths),
            torch.as_tensor(positions, dtype=torch.long), torch.as_tensor(labels, dtype=torch.long),
            np.asarray(kinds))


def mlm_step(model: Encoder, batch) -> Tuple[torch.Tensor, torch.Tensor]:
    ids, types, lengths, positions, labels, _ = batch
    states = model(ids, types, lengths)
    selected = states.reshape(-1, states.shape[-1]).index_select(0, positions)
    logits = model.mlm_logits(selected)
    return F.cross_entropy(logits, labels), logits


# ---------------------------------------------------------------------------------------------------
# evaluation


def evaluate(model: Encoder, batches) -> Dict[str, float]:
    """Held-out MLM loss and accuracy at all chosen positions and at the [MASK] ones."""
    model.eval()
    total_loss, correct, count, mask_correct, mask_count = 0.0, 0, 0, 0, 0
    with torch.no_grad():
        for batch in batches:
            loss, logits = mlm_step(model, batch)
            labels, kinds = batch[4], batch[5]
            hits = (logits.argmax(-1) == labels).numpy()
            total_loss += float(loss) * len(labels)
            correct += int(hits.sum())
            count += len(labels)
            mask_correct += int(hits[kinds == 0].sum())
            mask_count += int((kinds == 0).sum())
    model.train()
    return {"loss": total_loss / count, "accuracy": correct / count, "positions": count,
            "mask_accuracy": mask_correct / mask_count, "mask_positions": mask_count}


def heldout_batches(sentences: List[List[int]], seed: int, batch_tokens: int, n_special: int,
                    vocab_size: int, mask_id: int, limit: int | None = None):
    rng = np.random.default_rng(seed)
    seqs = [(s, [0] * len(s)) for s in sentences[:limit]]
    order = sorted(range(len(seqs)), key=lambda j: len(seqs[j][0]))
    batches, batch, longest = [], [], 0
    for j in order:
        n = len(seqs[j][0])
        if batch and max(longest, n) * (len(batch) + 1) > batch_tokens:
            batches.append(batch)
            batch, longest = [], 0
        batch.append(j)
        longest = max(longest, n)
    if batch:
        batches.append(batch)
    return [mask_batch([seqs[j] for j in b], rng, n_special, vocab_size, mask_id) for b in batches]


def unigram_accuracy(batches, token: int) -> float:
    labels = torch.cat([b[4] for b in batches])
    return float((labels == token).double().mean())


def parity(binary: str, out_dir: str, model: Encoder, texts: List[str], expected_ids: List[List[int]],
           backend: str) -> float:
    """Max |vecformer run --text --backend B - this module's float64 forward| over the given sentences."""
    ids_cli = tokenize_full_vocab(binary, texts, out_dir)
    if ids_cli != expected_ids:
        raise RuntimeError("tokenization with the trimmed vocab.txt differs from the mapped "
                           "bert-base-uncased ids")
    with tempfile.TemporaryDirectory() as tmp:
        text_path = os.path.join(tmp, "parity.txt")
        npy = os.path.join(tmp, "hidden.npy")
        with open(text_path, "w", encoding="utf-8") as f:
            f.write("".join(t + "\n" for t in texts))
        subprocess.run([binary, "run", "--model", out_dir, "--text", "--input", text_path, "--output",
                        npy, "--backend", backend, "--quiet"], check=True)
        got = np.load(npy)
    model64 = model.double()
    worst = 0.0
    with torch.no_grad():
        for i, ids in enumerate(expected_ids):
            t = torch.as_tensor([ids])
            ref = model64(t, torch.zeros_like(t), torch.as_tensor([len(ids)]))[0].numpy()
            worst = max(worst, float(np.abs(got[i, :len(ids)] - ref).max()))
            if np.any(got[i, len(ids):] != 0):
                raise RuntimeError("padding rows are not zero")
    model.float()
    return worst


# ---------------------------------------------------------------------------------------------------
# loss plot


def write_svg(path: str, steps: List[int], losses: List[float], evals: List[Tuple[int, float]],
              title: str) -> None:
    """A line plot of the training loss (mean over 50-step windows) and the held-out loss."""
    W, Hh, left, right, top, bottom = 720, 420, 64, 20, 40, 50
    window = 50
    smooth_x, smooth_y = [], []
    for start in range(0, len(steps), window):
        part = losses[start:start + window]
        smooth_x.append(steps[min(start + len(part) - 1, len(steps) - 1)])
        smooth_y.append(sum(part) / len(part))
    ys = smooth_y + [v for _, v in evals]
    y_max = math.ceil(max(ys))
    y_min = max(0, math.floor(min(ys)))
    x_max = steps[-1]

    def px(x):
        return left + (W - left - right) * x / x_max

    def py(y):
        return top + (Hh - top - bottom) * (1 - (y - y_min) / (y_max - y_min))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{Hh}" '
           f'viewBox="0 0 {W} {Hh}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{Hh}" fill="white"/>',
           f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="14">{title}</text>']
    for k in range(y_min, y_max + 1):
        out.append(f'<line x1="{left}" y1="{py(k):.1f}" x2="{W - right}" y2="{py(k):.1f}" '
                   f'stroke="#ddd"/>')
        out.append(f'<text x="{left - 8}" y="{py(k) + 4:.1f}" text-anchor="end">{k}</text>')
    tick = 10 ** int(math.log10(max(1, x_max)))
    if x_max / tick < 4:
        tick //= 2
    for x in range(0, x_max + 1, max(1, tick)):
        out.append(f'<line x1="{px(x):.1f}" y1="{Hh - bottom}" x2="{px(x):.1f}" y2="{Hh - bottom + 5}" '
                   f'stroke="black"/>')
        out.append(f'<text x="{px(x):.1f}" y="{Hh - bottom + 18}" text-anchor="middle">{x}</text>')
    out.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{Hh - bottom}" stroke="black"/>')
    out.append(f'<line x1="{left}" y1="{Hh - bottom}" x2="{W - right}" y2="{Hh - bottom}" stroke="black"/>')
    out.append(f'<text x="{(left + W - right) / 2}" y="{Hh - 12}" text-anchor="middle">step</text>')
    out.append(f'<text x="16" y="{(top + Hh - bottom) / 2}" text-anchor="middle" '
               f'transform="rotate(-90 16 {(top + Hh - bottom) / 2})">MLM cross-entropy (nats)</text>')
    points = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(smooth_x, smooth_y))
    out.append(f'<polyline points="{points}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>')
    points = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in evals)
    out.append(f'<polyline points="{points}" fill="none" stroke="#d62728" stroke-width="1.5" '
               f'stroke-dasharray="5,3"/>')
    for x, y in evals:
        out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="2.5" fill="#d62728"/>')
    lx = W - right - 250
    out.append(f'<line x1="{lx}" y1="{top + 12}" x2="{lx + 24}" y2="{top + 12}" stroke="#1f77b4" '
               f'stroke-width="1.5"/>')
    out.append(f'<text x="{lx + 30}" y="{top + 16}">training (mean of {window} steps)</text>')
    out.append(f'<line x1="{lx}" y1="{top + 30}" x2="{lx + 24}" y2="{top + 30}" stroke="#d62728" '
               f'stroke-width="1.5" stroke-dasharray="5,3"/>')
    out.append(f'<text x="{lx + 30}" y="{top + 34}">held-out sentences</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


# ---------------------------------------------------------------------------------------------------
# main


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(REPO, "models", "demo"))
    parser.add_argument("--random-out", default=os.path.join(REPO, "models", "demo-random"))
    parser.add_argument("--binary", default=os.path.join(REPO, "build", "vecformer"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--intermediate", type=int, default=512)
    parser.add_argument("--max-positions", type=int, default=128)
    parser.add_argument("--gcide-entries", type=int, default=20000,
                        help="dictionary entries sampled from dict-gcide")
    parser.add_argument("--docs-commit", default=DOCS_COMMIT,
                        help="git commit whose README.md and docs/*.md join the corpus")
    parser.add_argument("--heldout", type=float, default=0.05, help="fraction of sentences held out")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--batch-tokens", type=int, default=2048, help="padded tokens per batch")
    parser.add_argument("--lr", type=float, default=1.5e-3)
    parser.add_argument("--warmup", type=float, default=0.05, help="fraction of steps")
    parser.add_argument("--weight-decay", type=float, default=0.01)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--eval-every", type=int, default=100)
    parser.add_argument("--max-minutes", type=float, default=28.0,
                        help="stop early (and say so) if training takes longer than this")
    parser.add_argument("--dtype", choices=("F32", "F16"), default="F16")
    parser.add_argument("--corpus-only", action="store_true", help="print corpus statistics and stop")
    parser.add_argument("--benchmark", type=int, default=0, help="time N training steps and stop")
    args = parser.parse_args(argv)
    if argv is None:
        use_openblas(args.threads)

    t_start = time.time()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    log: Dict[str, object] = {"command": "/usr/bin/python3 tools/train_demo.py " + " ".join(
        sys.argv[1:] if argv is None else argv), "seed": args.seed, "args": vars(args)}

    # 1. corpus
    documents, files = build_corpus(args.seed, args.gcide_entries, args.docs_commit)
    flat = [(d, s) for d, (_, sentences) in enumerate(documents) for s in sentences]
    heldout_mask = rng.random(len(flat)) < args.heldout
    print(f"corpus: {len(documents)} documents, {len(flat)} sentences, {int(heldout_mask.sum())} held out",
          flush=True)

    # 2. tokens
    t0 = time.time()
    full_ids = tokenize_full_vocab(args.binary, [s for _, s in flat])
    full_vocab = read_vocab(os.path.join(FULL_VOCAB_DIR, "vocab.txt"))
    used = sorted({t for ids in full_ids for t in ids} | {full_vocab.index(s) for s in SPECIALS},
                  key=lambda t: (full_vocab[t] not in SPECIALS, SPECIALS.index(full_vocab[t])
                                 if full_vocab[t] in SPECIALS else t))
    remap = {old: new for new, old in enumerate(used)}
    vocab = [full_vocab[t] for t in used]
    ids = [[remap[t] for t in s] for s in full_ids]
    n_special = len(SPECIALS)
    cls, sep, mask_id = vocab.index("[CLS]"), vocab.index("[SEP]"), vocab.index("[MASK]")
    print(f"tokenized in {time.time() - t0:.1f}s; vocabulary trimmed {len(full_vocab)} -> {len(vocab)}",
          flush=True)

    per_source: Dict[str, Dict[str, int]] = {}
    train_docs: List[List[List[int]]] = [[] for _ in documents]
    heldout_ids: List[List[int]] = []
    heldout_text: List[str] = []
    for k, (d, s) in enumerate(flat):
        src = documents[d][0]
        stats = per_source.setdefault(src, {"documents": 0, "sentences": 0, "heldout_sentences": 0,
                                            "tokens": 0, "characters": 0})
        stats["sentences"] += 1
        stats["tokens"] += len(ids[k]) - 2
        stats["characters"] += len(s)
        if heldout_mask[k]:
            stats["heldout_sentences"] += 1
            heldout_ids.append(ids[k][:args.max_positions - 1] + [sep] if len(ids[k]) > args.max_positions
                               else ids[k])
            heldout_text.append(s)
        else:
            train_docs[d].append(ids[k][1:-1])
    for src, _ in documents:
        per_source[src]["documents"] += 1
    train_docs = [d for d in train_docs if d]
    train_tokens = sum(len(s) for d in train_docs for s in d)
    log.update(corpus={"files": files, "per_source": per_source, "train_tokens": train_tokens,
                       "heldout_sentences": len(heldout_ids), "vocab_size": len(vocab)})
    for src, stats in per_source.items():
        print(f"  {src}: {stats}")
    print(f"  training tokens (without [CLS]/[SEP]): {train_tokens}", flush=True)
    if args.corpus_only:
        return 0

    # 3-4. model, random folder
    config = model_config(args, len(vocab))
    model = Encoder(len(vocab), args.hidden, args.heads, args.intermediate, args.layers,
                    args.max_positions, 2)
    model.init_bert()
    random_model = Encoder(len(vocab), args.hidden, args.heads, args.intermediate, args.layers,
                           args.max_positions, 2)
    meta = {"format": "pt", "tool": "tools/train_demo.py", "seed": str(args.seed)}
    eval_batches = heldout_batches(heldout_ids, args.seed + 1, 8192, n_special, len(vocab), mask_id)
    probe = eval_batches[::max(1, len(eval_batches) // 6)]  # a fixed spread of lengths for the curve
    if not args.benchmark:
        stored = save_folder(args.random_out, model, config, vocab, args.dtype,
                             dict(meta, state="random initialization, before training"))
        random_model.load_hf_tensors(stored)

    params = dict(model.named_parameters())
    no_decay = [p for n, p in params.items() if n.endswith("bias") or "norm" in n]
    decay = [p for n, p in params.items() if not (n.endswith("bias") or "norm" in n)]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}],
                                  lr=args.lr, betas=(0.9, 0.98), eps=1e-6)
    warmup = max(1, int(args.warmup * args.steps))

    def lr_at(step: int) -> float:
        if step < warmup:
            return args.lr * (step + 1) / warmup
        return args.lr * max(0.0, (args.steps - step) / (args.steps - warmup))

    # 5. training
    steps_log, loss_log, eval_log = [], [], []
    sequences: List[Tuple[List[int], List[int]]] = []
    batches: List[List[int]] = []
    epoch, seen_tokens, seen_sequences = 0, 0, 0
    t_train = time.time()
    stopped_early = False
    total_steps = args.benchmark or args.steps
    for step in range(total_steps):
        if not batches:
            sequences = pack_documents(train_docs, rng, args.max_positions, cls, sep)
            batches = make_batches(sequences, rng, args.batch_tokens)
            epoch += 1
        batch = mask_batch([sequences[j] for j in batches.pop()], rng, n_special, len(vocab), mask_id)
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step)
        loss, _ = mlm_step(model, batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        seen_tokens += int(batch[2].sum())
        seen_sequences += len(batch[2])
        steps_log.append(step + 1)
        loss_log.append(float(loss))
        if args.benchmark:
            continue
        if (step + 1) % args.eval_every == 0 or step + 1 == args.steps:
            e = evaluate(model, probe)
            eval_log.append((step + 1, e["loss"]))
            minutes = (time.time() - t_train) / 60
            print(f"step {step + 1}/{args.steps} epoch {epoch} lr {lr_at(step):.2e} "
                  f"train {np.mean(loss_log[-args.eval_every:]):.3f} held-out probe {e['loss']:.3f} "
                  f"acc {e['accuracy']:.3f} ({minutes:.1f} min, {seen_tokens} tokens)", flush=True)
            if minutes > args.max_minutes and step + 1 < args.steps:
                print(f"stopping early: {minutes:.1f} min > --max-minutes {args.max_minutes}")
                stopped_early = True
                break
    train_seconds = time.time() - t_train
    if args.benchmark:
        print(f"{args.benchmark} steps in {train_seconds:.1f}s: {seen_tokens / train_seconds:.0f} "
              f"real tokens/s, {seen_sequences} sequences, last loss {loss_log[-1]:.3f}")
        return 0

    # 6. output and evaluation of the stored weights
    stored = save_folder(args.out, model, config, vocab, args.dtype,
                         dict(meta, state=f"trained {len(steps_log)} steps"))
    model.load_hf_tensors(stored)
    trained_eval = evaluate(model, eval_batches)
    random_eval = evaluate(random_model, eval_batches)
    train_counts = np.bincount([t for d in train_docs for s in d for t in s], minlength=len(vocab))
    frequent = int(train_counts.argmax())
    unigram = unigram_accuracy(eval_batches, frequent)
    print(f"held-out ({trained_eval['positions']} positions): trained {trained_eval}, random "
          f"{random_eval}, always '{vocab[frequent]}' {unigram:.4f}", flush=True)

    # Parity with the vecformer binary: held-out sentences whose tokens fit max positions.
    pick = [k for k in range(len(heldout_text)) if len(heldout_ids[k]) <= args.max_positions][:48]
    parity_text = [heldout_text[k] for k in pick]
    parity_ids = [heldout_ids[k] for k in pick]
    parity_errors = {b: parity(args.binary, args.out, model, parity_text, parity_ids, b)
                     for b in ("reference", "optimized")}
    print(f"parity max |vecformer - float64 PyTorch| over {len(pick)} sentences: {parity_errors}",
          flush=True)

    log.update(steps=len(steps_log), stopped_early=stopped_early, epochs_started=epoch,
               trained_tokens=seen_tokens, trained_sequences=seen_sequences,
               train_seconds=round(train_seconds, 1), total_seconds=round(time.time() - t_start, 1),
               final_train_loss_last100=float(np.mean(loss_log[-100:])),
               heldout={"trained": trained_eval, "random": random_eval,
                        "most_frequent_token": {"token": vocab[frequent], "accuracy": unigram}},
               parity={"sentences": len(pick), "max_abs_error": parity_errors},
               loss=[round(v, 4) for v in loss_log], eval=eval_log,
               sizes={"demo": os.path.getsize(os.path.join(args.out, "model.safetensors")),
                      "demo-random": os.path.getsize(os.path.join(args.random_out, "model.safetensors"))},
               torch=torch.__version__, threads=args.threads,
               blas=OPENBLAS_DIR if OPENBLAS_DIR in os.environ.get("LD_LIBRARY_PATH", "") else "system")
    write_svg(os.path.join(args.out, "loss.svg"), steps_log, loss_log, eval_log,
              f"models/demo: MLM loss, {args.layers} layers, seed {args.seed}")
    with open(os.path.join(args.out, "training_log.json"), "w") as f:
        json.dump(log, f, indent=1)
        f.write("\n")
    worst = max(parity_errors.values())
    print(f"done in {time.time() - t_start:.0f}s (training {train_seconds:.0f}s)")
    return 0 if worst <= PARITY_TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())
