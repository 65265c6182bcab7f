#!/usr/bin/python3
"""Embeds a folder of text files and finds the nearest ones to a query, with numpy.

    python3 examples/python/embed.py MODEL_DIR DOCS_DIR "a query" [--top 3]

Every *.txt file of DOCS_DIR is one document. Embeddings are mean-pooled and L2-normalized, so a
dot product is the cosine similarity. Prints the documents ranked by similarity to the query.
"""

import argparse
from pathlib import Path

import numpy as np

import vecformer


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("docs")
    parser.add_argument("query")
    parser.add_argument("--top", type=int, default=3)
    args = parser.parse_args()

    files = sorted(Path(args.docs).glob("*.txt"))
    if not files:
        raise SystemExit(f"{args.docs}: no .txt files")
    model = vecformer.Model.load(args.model)
    documents = model.encode([f.read_text() for f in files], pooling="mean", normalize=True)
    query = model.encode([args.query], pooling="mean", normalize=True)[0]
    similarity = documents @ query
    for i in np.argsort(-similarity, kind="stable")[:args.top]:
        print(f"{similarity[i]:.4f}\t{files[i].name}")


if __name__ == "__main__":
    main()
