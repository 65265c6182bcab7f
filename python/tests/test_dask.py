"""vecformer.dask on a real Dask cluster on this machine: a scheduler and two single-threaded
workers on 127.0.0.1, started and stopped here. 20,000 lines in 20 partitions; one worker is killed
(SIGKILL) once the first shard is written, and the job must still finish with every row exactly
once and the same bits as one Model.encode call over the whole corpus in this process.
"""

import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

import vecformer
import vecformer.dask as vd

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
dd = pytest.importorskip("dask.dataframe")
pd = pytest.importorskip("pandas")

ROWS = 20_000
PARTITIONS = 20


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def corpus(demo):
    lines = (demo / "sentences.txt").read_text().splitlines()
    return [f"{lines[i % len(lines)]} number {i}" for i in range(ROWS)]


@pytest.fixture(scope="module")
def reference(demo, corpus):
    """The single-process result: one encode over the whole corpus."""
    return vecformer.Model.load(demo).encode(corpus, pooling="mean", threads=1)


@pytest.fixture()
def cluster(tmp_path):
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, OMP_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    procs = {"scheduler": subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
         "--port", str(port), "--no-dashboard"],
        env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)}
    for name in ("w0", "w1"):
        # --no-nanny: a killed worker stays dead instead of being restarted by its nanny.
        procs[name] = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
             "--no-nanny", "--no-dashboard", "--name", name, "--host", "127.0.0.1"],
            env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = distributed.Client(address, timeout=30)
    try:
        client.wait_for_workers(2, timeout=30)
        yield client, procs
    finally:
        client.close()
        for p in procs.values():
            if p.poll() is None:
                p.terminate()
        for p in procs.values():
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def frame(corpus):
    df = pd.DataFrame({"id": np.arange(ROWS, dtype=np.int64), "text": corpus})
    return dd.from_pandas(df, npartitions=PARTITIONS)


def test_cluster_with_a_worker_killed(cluster, corpus, reference, demo, tmp_path):
    client, procs = cluster
    out = tmp_path / "shards"
    future = client.submit(lambda: None)  # the cluster answers before the job starts
    future.result(timeout=30)

    import threading
    result = {}
    def job():
        result["manifest"] = vd.embed_partitions(
            frame(corpus), "text", str(demo), str(out), id_column="id", pooling="mean",
            threads=1, client=client, retries=3)
    runner = threading.Thread(target=job)
    runner.start()
    deadline = time.monotonic() + 40
    while not (out.exists() and any(p.suffix == ".npz" for p in out.iterdir())):
        assert time.monotonic() < deadline, "no shard written within 40 s"
        time.sleep(0.02)
    finished_at_kill = sum(p.suffix == ".npz" for p in out.iterdir())
    # The worker to kill is one that holds tasks right now, so that work is lost with it.
    processing = client.processing()
    names = {addr: w["name"] for addr, w in client.scheduler_info()["workers"].items()}
    busy = [names[addr] for addr, tasks in processing.items() if tasks and addr in names]
    victim = busy[0] if busy else "w1"
    procs[victim].send_signal(signal.SIGKILL)
    procs[victim].wait()
    runner.join(timeout=60)
    assert not runner.is_alive(), "the job did not finish after a worker died"
    assert finished_at_kill < PARTITIONS and busy  # the kill came mid-run, from a busy worker

    manifest = result["manifest"]
    assert manifest["rows"] == ROWS and len(manifest["shards"]) == PARTITIONS
    shards = vd.load_shards(str(out))
    assert np.array_equal(shards["ids"], np.arange(ROWS))  # every row once, in order
    assert np.array_equal(shards["embeddings"], reference)

    # The surviving worker loaded the model once, however many partitions it ran.
    info = client.run(vd.cache_info)
    assert len(info) == 1
    (loads,) = [i["loads"] for i in info.values()]
    assert list(loads.values()) == [1]


def test_resume_rewrites_only_missing_shards(cluster, corpus, reference, demo, tmp_path):
    client, _ = cluster
    out = tmp_path / "shards"
    vd.embed_partitions(frame(corpus), "text", str(demo), str(out), pooling="mean", threads=1,
                        client=client)
    removed = ["part-00003.npy", "part-00011.npy"]
    for name in removed:
        (out / name).unlink()
    kept = {p.name: p.stat().st_mtime_ns for p in out.glob("part-*.npy")}
    manifest = vd.embed_partitions(frame(corpus), "text", str(demo), str(out), pooling="mean",
                                   threads=1, client=client)
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("part-*.npy")
            if p.name not in removed} == kept
    assert all((out / name).exists() for name in removed)
    assert manifest["rows"] == ROWS
    assert np.array_equal(vd.load_shards(str(out))["embeddings"], reference)
    assert not list(out.glob("*.tmp-*"))  # atomic writes leave nothing behind


def test_bag_without_cluster(corpus, reference, demo, tmp_path):
    import dask.bag as db
    texts = corpus[:2000]
    bag = db.from_sequence(texts, npartitions=4)
    with dask.config.set(scheduler="sync"):
        manifest = vd.embed_partitions(bag, None, str(demo), str(tmp_path), pooling="mean",
                                       threads=1)
    assert [s["rows"] for s in manifest["shards"]] == [500] * 4
    assert np.array_equal(vd.load_shards(str(tmp_path))["embeddings"], reference[:2000])
