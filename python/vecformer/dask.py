"""Corpus-scale embedding on Dask: one shard per partition, one model per worker process.

    from vecformer.dask import embed_partitions
    manifest = embed_partitions(ddf, "text", "models/demo", "out/", pooling="mean", client=client)

Each partition of a dask.dataframe column (or of a dask.bag of texts) is encoded by the worker
that holds it, with a Model loaded once per worker process (a per-process cache, never once per
partition), and written to OUT_DIR/part-00000.npy (or .npz holding "embeddings" and "ids" when
id_column is given) by an atomic rename, so a shard on disk is always complete. Re-running the
same call skips the shards already written: a job cut short by a dead worker or a stopped cluster
resumes where it stopped. When every shard is there, OUT_DIR/manifest.json lists them in order
with their row counts. Rows keep their order: concatenating the shards in manifest order gives the
rows of the input in order.

The per-partition function, embed_partition(), is plain Python over a list of texts; it is what
Ray Data's map_batches or Spark's mapInPandas would call the same way (docs/SCALING.md).
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from . import Model

MANIFEST = "manifest.json"

_models: Dict[tuple, Model] = {}
_loads: Dict[tuple, int] = {}
_lock = threading.Lock()


def get_model(model_path: str, dtype: str = "f32", backend: str = "optimized") -> Model:
    """The process's Model for (path, dtype, backend), loaded on first use. A Model is immutable and
    thread-safe, so every task of a worker process shares it."""
    key = (os.path.abspath(str(model_path)), dtype, backend)
    with _lock:
        model = _models.get(key)
        if model is None:
            model = Model.load(key[0], dtype=dtype, backend=backend)
            _models[key] = model
            _loads[key] = _loads.get(key, 0) + 1
        return model


def cache_info() -> Dict[str, Any]:
    """How many times this process loaded each model (1 each, unless the cache failed)."""
    with _lock:
        return {"pid": os.getpid(), "loads": {"|".join(k): n for k, n in _loads.items()}}


def shard_name(index: int, with_ids: bool) -> str:
    return f"part-{index:05d}.{'npz' if with_ids else 'npy'}"


def _write_atomic(path: str, embeddings: np.ndarray, ids: Optional[np.ndarray]) -> None:
    # A temporary name in the same folder, then rename: readers and re-runs see a whole shard or none.
    tmp = f"{path}.tmp-{os.getpid()}-{uuid.uuid4().hex}"
    try:
        with open(tmp, "wb") as f:
            if ids is None:
                np.save(f, embeddings)
            else:
                np.savez(f, embeddings=embeddings, ids=ids)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def embed_partition(texts: Sequence[str], index: int, out_dir: str, model_path: str, *,
                    ids: Optional[Sequence[Any]] = None, dtype: str = "f32",
                    backend: str = "optimized", pooling: Optional[str] = None,
                    normalize: Optional[bool] = None, threads: int = 1,
                    batch_tokens: int = 16384, max_length: int = 0) -> Dict[str, Any]:
    """Encodes one partition's texts into its shard (skipped when the shard exists) and returns
    {"index", "file", "rows"}."""
    with_ids = ids is not None
    name = shard_name(index, with_ids)
    path = os.path.join(out_dir, name)
    if not os.path.exists(path):
        model = get_model(model_path, dtype, backend)
        embeddings = model.encode(list(texts), pooling=pooling, normalize=normalize,
                                  threads=threads, batch_tokens=batch_tokens,
                                  max_length=max_length)
        _write_atomic(path, embeddings, np.asarray(list(ids)) if with_ids else None)
    return {"index": index, "file": name, "rows": len(texts)}


def _partition_texts(part: Any, column: Optional[str], id_column: Optional[str]):
    """(texts, ids) of a pandas DataFrame / Series partition or a bag partition (a list)."""
    if column is None:
        texts = list(part)
        return [t if isinstance(t, str) else str(t) for t in texts], None
    texts = part[column].astype(str).tolist()
    ids = part[id_column].to_numpy() if id_column is not None else None
    return texts, ids


def _embed_delayed_part(part, index, out_dir, model_path, column, id_column, options):
    texts, ids = _partition_texts(part, column, id_column)
    return embed_partition(texts, index, out_dir, model_path, ids=ids, **options)


def embed_partitions(data: Any, column: Optional[str], model_path: str, out_dir: str, *,
                     id_column: Optional[str] = None, dtype: str = "f32",
                     backend: str = "optimized", pooling: Optional[str] = None,
                     normalize: Optional[bool] = None, threads: int = 1,
                     batch_tokens: int = 16384, max_length: int = 0, client: Any = None,
                     retries: int = 2, resources: Optional[Dict[str, float]] = None
                     ) -> Dict[str, Any]:
    """Embeds a dask.dataframe text column (`column`) or a dask.bag of texts (column=None) into
    one shard per partition under out_dir and returns the manifest (also written to
    out_dir/manifest.json).

    model_path must be readable by every worker at that path. threads: OpenMP threads per task;
    set it to cores / (tasks running at once on a machine) so OpenMP and Dask do not oversubscribe
    (with `dask-worker --nthreads 1`, the cores of the machine / its workers). client: a
    distributed.Client (None: dask's current scheduler). retries: how many times a task that
    raised is run again (client runs only; tasks lost with a dead worker are rescheduled by Dask
    itself). resources: worker resources each task needs (client runs only), e.g.
    {"vecformer": 1} for workers started with --resources vecformer=1. Shards already in out_dir are kept;
    delete out_dir (or its shards) to recompute after changing the model or options.
    """
    import dask

    os.makedirs(out_dir, exist_ok=True)
    options = dict(dtype=dtype, backend=backend, pooling=pooling, normalize=normalize,
                   threads=threads, batch_tokens=batch_tokens, max_length=max_length)
    parts = data.to_delayed()
    if hasattr(parts, "flatten"):  # a dataframe gives an array of delayed partitions
        parts = list(parts.flatten())
    with_ids = id_column is not None
    done: List[Optional[Dict[str, Any]]] = [None] * len(parts)
    tasks, pending = [], []
    for index, part in enumerate(parts):
        # A finished shard is not even read back: its row count is in its .npy header.
        path = os.path.join(out_dir, shard_name(index, with_ids))
        if os.path.exists(path):
            done[index] = {"index": index, "file": shard_name(index, with_ids),
                           "rows": _shard_rows(path)}
            continue
        tasks.append(dask.delayed(_embed_delayed_part, pure=False)(
            part, index, out_dir, str(model_path), column, id_column, options))
        pending.append(index)
    if tasks:
        if client is not None:
            results = client.gather(client.compute(tasks, retries=retries, resources=resources))
        else:
            results = dask.compute(*tasks)
        for index, result in zip(pending, results):
            done[index] = result
    manifest = {
        "model": os.path.abspath(str(model_path)),
        "options": options,
        "column": column,
        "id_column": id_column,
        "rows": sum(d["rows"] for d in done),
        "shards": done,
    }
    tmp = os.path.join(out_dir, f"{MANIFEST}.tmp-{os.getpid()}")
    with open(tmp, "w") as f:
        json.dump(manifest, f, indent=1)
    os.replace(tmp, os.path.join(out_dir, MANIFEST))
    return manifest


def _shard_rows(path: str) -> int:
    if path.endswith(".npz"):
        with np.load(path) as z:
            return int(z["ids"].shape[0])
    return int(np.load(path, mmap_mode="r").shape[0])


def load_shards(out_dir: str) -> Dict[str, np.ndarray]:
    """Every shard of a finished job concatenated in manifest order: {"embeddings"} and, when the
    job had an id column, {"ids"}."""
    with open(os.path.join(out_dir, MANIFEST)) as f:
        manifest = json.load(f)
    embeddings, ids = [], []
    for shard in manifest["shards"]:
        path = os.path.join(out_dir, shard["file"])
        if path.endswith(".npz"):
            with np.load(path) as z:
                embeddings.append(z["embeddings"])
                ids.append(z["ids"])
        else:
            embeddings.append(np.load(path))
    out = {"embeddings": np.concatenate(embeddings) if embeddings else np.zeros((0, 0), np.float32)}
    if ids:
        out["ids"] = np.concatenate(ids)
    return out
