"""The Python binding equals the CLI bit for bit and behaves as a Python library should: numpy in
and out, threads, errors, docstrings.

Equality is exact (np.array_equal on float32): the binding and `vecformer run` call the same
Model::encode with the same dtype, backend and thread count, and a sequence's result does not
depend on the batch it is in, so any difference is a bug, not rounding.
"""

import json
import pydoc
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import vecformer

THREADS = 1  # the CLI runs and the binding calls use the same count


def cli_run(binary, model, input_path, out, *args):
    result = subprocess.run([binary, "run", "--model", str(model), "--input", str(input_path),
                             "--output", str(out), "--threads", str(THREADS), "--quiet", *args],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return np.load(out)


@pytest.fixture(scope="module")
def model(demo):
    return vecformer.Model.load(demo)


@pytest.mark.parametrize("pooling,normalize", [("mean", False), ("cls", False), ("max", True),
                                               ("none", False), ("none", True)])
def test_text_equals_cli(binary, demo, demo_lines, model, tmp_path, pooling, normalize):
    expected = cli_run(binary, demo, demo / "sentences.txt", tmp_path / "out.npy", "--text",
                       "--pooling", pooling, "--normalize" if normalize else "--no-normalize")
    got = model.encode(demo_lines, pooling=pooling, normalize=normalize, threads=THREADS)
    assert got.dtype == np.float32 and got.shape == expected.shape
    assert np.array_equal(got, expected)


@pytest.mark.parametrize("dtype,backend", [("bf16", "optimized"), ("f32", "reference")])
def test_dtype_and_backend_equal_cli(binary, demo, demo_lines, tmp_path, dtype, backend):
    expected = cli_run(binary, demo, demo / "sentences.txt", tmp_path / "out.npy", "--text",
                       "--pooling", "mean", "--normalize", "--dtype", dtype, "--backend", backend)
    m = vecformer.Model.load(demo, dtype=dtype, backend=backend)
    got = m.encode(demo_lines, pooling="mean", normalize=True, threads=THREADS)
    assert np.array_equal(got, expected)


def test_token_ids_equal_cli(binary, tmp_path):
    tiny = Path(__file__).resolve().parents[2] / "models" / "tiny-bert"
    expected = cli_run(binary, tiny, tiny / "sample_tokens.txt", tmp_path / "out.npy")
    ids, types = [], []
    for line in (tiny / "sample_tokens.txt").read_text().splitlines():
        if line.startswith("{"):  # a JSON object with input_ids and token_type_ids
            record = json.loads(line)
            ids.append(record["input_ids"])
            types.append(record.get("token_type_ids", [0] * len(record["input_ids"])))
        elif line.strip():
            ids.append([int(t) for t in line.split()])
            types.append([0] * len(ids[-1]))
    assert any(any(t) for t in types)  # the sample exercises token types
    got = vecformer.Model.load(tiny).encode(ids, token_type_ids=types, threads=THREADS)
    assert np.array_equal(got, expected)


def test_batch_tokens_do_not_change_bits(model, demo_lines):
    whole = model.encode(demo_lines, threads=THREADS)  # unpooled: [N, Lmax, hidden], padded
    small = model.encode(demo_lines, threads=THREADS, batch_tokens=7)
    assert np.array_equal(whole, small)
    pooled = model.encode(demo_lines, pooling="mean", threads=THREADS)
    assert np.array_equal(pooled, model.encode(demo_lines, pooling="mean", threads=THREADS,
                                               batch_tokens=1))


def test_numpy_and_list_inputs(model):
    ids = [[2, 5563, 167, 3], [2, 167, 3], [2, 3]]
    expected = model.encode(ids, pooling="mean", threads=THREADS)
    as_arrays = [np.array(s, dtype=np.int32) for s in ids]          # ragged int32
    as_int64 = [np.array(s, dtype=np.int64) for s in ids]           # ragged int64
    assert np.array_equal(model.encode(as_arrays, pooling="mean", threads=THREADS), expected)
    assert np.array_equal(model.encode(as_int64, pooling="mean", threads=THREADS), expected)
    square = np.array([[2, 5563, 167, 3], [2, 167, 5563, 3]], dtype=np.int32)  # 2-d array
    assert np.array_equal(model.encode(square, pooling="mean", threads=THREADS),
                          model.encode(square.tolist(), pooling="mean", threads=THREADS))
    types = np.array([[0, 0, 1, 1], [0, 1, 1, 1]], dtype=np.int64)
    with_types = model.encode(square, token_type_ids=types, pooling="mean", threads=THREADS)
    assert np.array_equal(with_types, model.encode(
        square.tolist(), token_type_ids=types.tolist(), pooling="mean", threads=THREADS))
    assert not np.array_equal(with_types, model.encode(square, pooling="mean", threads=THREADS))
    strided = np.array([[2, 9, 5563, 9, 167, 9, 3, 9]], dtype=np.int64)[:, ::2]  # not contiguous
    assert np.array_equal(model.encode(strided, threads=THREADS),
                          model.encode([[2, 5563, 167, 3]], threads=THREADS))
    # The texts' ids, as the tokenizer gives them, encode to the same bits as the texts.
    texts = ["hello world", "the cat sat"]
    assert np.array_equal(model.encode(model.tokenize(texts), threads=THREADS),
                          model.encode(texts, threads=THREADS))
    assert model.encode([], pooling="mean").shape == (0, model.config["hidden_size"])
    out = model.encode("one text", pooling="cls")
    assert out.shape == (1, model.config["hidden_size"]) and out.flags["C_CONTIGUOUS"]


def test_encode_packed_matches_padded(model, demo_lines):
    hidden, offsets = model.encode_packed(demo_lines, threads=THREADS)
    padded = model.encode(demo_lines, pooling="none", threads=THREADS)
    assert offsets.dtype == np.int64 and offsets[0] == 0 and offsets[-1] == hidden.shape[0]
    for i in range(len(demo_lines)):
        rows = hidden[offsets[i]:offsets[i + 1]]
        assert np.array_equal(rows, padded[i, :len(rows)])
        assert not padded[i, len(rows):].any()


def test_shared_model_from_threads(model, demo_lines):
    expected = [model.encode(demo_lines[i:i + 3], pooling="mean", threads=1) for i in range(8)]
    results = [None] * 8
    def work(i):
        results[i] = model.encode(demo_lines[i:i + 3], pooling="mean", threads=1)
    workers = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert all(np.array_equal(r, e) for r, e in zip(results, expected))


def test_gil_released_while_encoding(model, demo_lines):
    # With a switch interval of 100 s, the interpreter never takes the GIL from a thread on its own:
    # the main thread runs while the worker is inside encode only if encode released the GIL.
    texts = demo_lines * 20
    state = {"inside": False, "done": False}
    def work():
        state["inside"] = True
        model.encode(texts, threads=1)
        state["done"] = True
    ran_meanwhile = 0
    old = sys.getswitchinterval()
    sys.setswitchinterval(100)
    try:
        worker = threading.Thread(target=work)
        worker.start()
        while not state["done"]:
            if state["inside"]:
                ran_meanwhile += 1
            time.sleep(0)  # lets the worker take the GIL
        worker.join()
    finally:
        sys.setswitchinterval(old)
    assert ran_meanwhile > 0


def test_errors_are_vecformer_error_with_the_cpp_message(model, tmp_path):
    assert issubclass(vecformer.Error, ValueError)
    with pytest.raises(vecformer.Error, match="model folder not found"):
        vecformer.Model.load(tmp_path / "missing")
    with pytest.raises(vecformer.Error, match="dtype 'f16' is unknown"):
        vecformer.Model.load(tmp_path, dtype="f16")
    with pytest.raises(vecformer.Error, match="needs backend 'optimized'"):
        vecformer.Model.load(tmp_path, dtype="bf16", backend="reference")
    vocab = model.config["vocab_size"]
    with pytest.raises(ValueError, match=str(vocab)):  # the C++ edge check of token ids
        model.encode([[2, vocab, 3]])
    with pytest.raises(vecformer.Error, match="pooling 'sum' is unknown"):
        model.encode(["a"], pooling="sum")
    with pytest.raises(vecformer.Error, match="2-d"):
        model.encode(np.zeros((2, 2, 2), dtype=np.int64))
    with pytest.raises(vecformer.Error, match="integers"):
        model.encode([np.array([1.0, 2.0])])
    with pytest.raises(vecformer.Error, match="integers"):
        model.encode(np.ones((2, 3)))
    with pytest.raises(vecformer.Error, match="not valid UTF-8|inputs\\[0\\]"):
        model.encode(["\udcff"])  # a lone surrogate cannot become UTF-8
    with pytest.raises(vecformer.Error, match="has no sequence-classification head"):
        model.classify(["no head was loaded"])
    with pytest.raises(vecformer.Error, match="sequence 0: is empty"):
        model.encode([[]])


def test_config_and_info_are_dicts(model, demo):
    config = json.loads((demo / "config.json").read_text())
    assert model.config["hidden_size"] == config["hidden_size"]
    assert model.config["num_hidden_layers"] == config["num_hidden_layers"]
    info = model.info
    assert info["model_type"] == "bert" and info["backend"] == "optimized"
    assert info["head"]["kind"] == "masked-lm" and not info["head_loaded"]
    assert info["parameters"] > 0


def test_tokenizer(demo):
    tok = vecformer.Tokenizer.load(demo)
    e = tok.encode("Hello world", "a pair")
    assert e["tokens"][0] == "[CLS]" and e["tokens"].count("[SEP]") == 2
    assert list(e["type_ids"]) == [0, 0, 0, 0, 1, 1, 1]
    assert e["offsets"][1] == (0, 5) and e["offsets"][2] == (6, 11)
    assert e["ids"].dtype == np.int64 and tok.token_to_id("[CLS]") == e["ids"][0]
    assert tok.special_tokens["mask"][0] == "[MASK]"
    assert len(tok.encode("a b c d e f", max_length=4)["ids"]) == 4


def test_fill_mask_equals_cli(binary, demo, tmp_path):
    text = "the cat sat on the [MASK] ."
    (tmp_path / "in.txt").write_text(text + "\n")
    result = subprocess.run([binary, "fill-mask", "--model", str(demo), "--text", "--input",
                             str(tmp_path / "in.txt"), "--top-k", "3", "--threads", str(THREADS),
                             "--quiet"], capture_output=True, text=True, timeout=120, check=True)
    expected = json.loads(result.stdout)["masks"][0]
    m = vecformer.Model.load(demo, load_head=True)
    got = m.fill_mask([text], top_k=3, threads=THREADS)[0]
    assert got["position"] == expected["position"]
    assert [p["token_id"] for p in got["predictions"]] == \
        [p["token_id"] for p in expected["predictions"]]
    # The CLI prints the float32 scores in shortest round-trip form: equal as float32.
    assert [np.float32(p["score"]) for p in got["predictions"]] == \
        [np.float32(p["score"]) for p in expected["predictions"]]


def test_classify_and_rerank_equal_cli(binary, reranker, tmp_path):
    pairs = [("what is a cat", "a cat is an animal"), ("what is a cat", "stocks fell today")]
    (tmp_path / "in.txt").write_text("".join(f"{q}\t{d}\n" for q, d in pairs))
    result = subprocess.run([binary, "classify", "--model", str(reranker), "--text", "--input",
                             str(tmp_path / "in.txt"), "--threads", str(THREADS), "--quiet"],
                            capture_output=True, text=True, timeout=120, check=True)
    expected = [json.loads(line) for line in result.stdout.splitlines()]
    m = vecformer.Model.load(reranker, load_head=True)
    assert m.info["head"]["kind"] == "sequence-classification" and m.info["head"]["pooling"] == "cls"
    logits, scores = m.classify(pairs, threads=THREADS)
    assert logits.shape == (2, 1)
    assert [np.float32(e["logits"][0]) for e in expected] == list(logits[:, 0])
    assert [np.float32(e["score"]) for e in expected] == list(scores[:, 0])
    assert np.array_equal(m.rerank(pairs[0][0], [d for _, d in pairs], threads=THREADS),
                          scores[:, 0])


def test_classify_tokens(tagger):
    m = vecformer.Model.load(tagger, load_head=True)
    assert m.info["head"]["labels"] == ["O", "B-PER", "I-PER"]
    texts = ["john smith lives here", "hi"]
    logits, scores, offsets = m.classify_tokens(texts, threads=THREADS)
    lengths = [len(ids) for ids in m.tokenize(texts)]
    assert list(np.diff(offsets)) == lengths and logits.shape == (sum(lengths), 3)
    # Softmax scores over the labels: each row sums to 1 within float32 rounding of 3 terms.
    assert np.allclose(scores.sum(axis=1), 1.0, atol=1e-6)


def test_version_is_the_projects():
    cmake = (Path(__file__).resolve().parents[2] / "CMakeLists.txt").read_text()
    assert f"project(vecformer VERSION {vecformer.__version__} " in cmake


def test_docstrings_render_in_help():
    text = pydoc.render_doc(vecformer, renderer=pydoc.plaintext)
    for phrase in ("thin binding", "Model", "Tokenizer", "Error"):
        assert phrase in text
    model_doc = pydoc.render_doc(vecformer.Model, renderer=pydoc.plaintext)
    assert "encode(self" in model_doc and "Lmax" in model_doc and "pooling" in model_doc
    assert "ValueError" in pydoc.render_doc(vecformer.Error, renderer=pydoc.plaintext)
