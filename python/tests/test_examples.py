"""examples/python/embed.py and dask_embed.py run as a user runs them, and their answers are checked
against the binding called directly."""

import os
import subprocess
import sys

import numpy as np
import pytest

import vecformer
import vecformer.dask as vd

from conftest import REPO

EXAMPLES = REPO / "examples" / "python"


def run(*args, timeout=120):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    result = subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True,
                            timeout=timeout, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_embed_ranks_documents(demo, tmp_path):
    docs = {"cats.txt": "the cat sat on the mat", "stocks.txt": "stock markets fell sharply today",
            "dogs.txt": "a dog ran in the park"}
    for name, text in docs.items():
        (tmp_path / name).write_text(text)
    query = "a cat on a mat"
    out = run(EXAMPLES / "embed.py", demo, tmp_path, query, "--top", "3").splitlines()
    # The same ranking computed here with the binding.
    model = vecformer.Model.load(demo)
    names = sorted(docs)
    e = model.encode([docs[n] for n in names], pooling="mean", normalize=True)
    q = model.encode([query], pooling="mean", normalize=True)[0]
    expected = [names[i] for i in np.argsort(-(e @ q), kind="stable")]
    assert [line.split("\t")[1] for line in out] == expected


@pytest.mark.parametrize("scheduler", ["sync", "local"])
def test_dask_embed(demo, tmp_path, scheduler):
    lines = [f"line {i} of the corpus" for i in range(300)]
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    printed = run(EXAMPLES / "dask_embed.py", demo, corpus, out, "--scheduler", scheduler,
                  "--partitions", "4", timeout=180)
    assert "rows 300 shards 4" in printed
    shards = vd.load_shards(str(out))
    assert np.array_equal(shards["ids"], np.arange(300))
    expected = vecformer.Model.load(demo).encode(lines, pooling="mean", threads=1)
    assert np.array_equal(shards["embeddings"], expected)
