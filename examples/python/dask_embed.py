#!/usr/bin/python3
"""Embeds a text corpus (one text a line) on Dask: one .npy shard per partition plus a manifest.

    python3 examples/python/dask_embed.py MODEL_DIR CORPUS.txt OUT_DIR \\
        [--scheduler local|sync|tcp://HOST:8786] [--workers 2] [--partitions 8]

--scheduler local (the default) starts a LocalCluster of --workers processes with one thread
each; an address joins a running cluster (dask-scheduler / dask-worker, docs/SCALING.md; MODEL_DIR
must then be readable at the same path on every worker); sync runs in this process. Running the
same command again skips the shards already written. Prints the manifest's row and shard counts
and the shape of the concatenated embeddings.
"""

import argparse

import dask.dataframe as dd
import pandas as pd

import vecformer.dask as vd


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("corpus")
    parser.add_argument("out_dir")
    parser.add_argument("--scheduler", default="local")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--partitions", type=int, default=8)
    args = parser.parse_args()

    with open(args.corpus, encoding="utf-8") as f:
        lines = f.read().splitlines()
    frame = pd.DataFrame({"id": range(len(lines)), "text": lines})
    ddf = dd.from_pandas(frame, npartitions=args.partitions)

    client = cluster = None
    if args.scheduler == "local":
        from distributed import Client, LocalCluster
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    elif args.scheduler != "sync":
        from distributed import Client
        client = Client(args.scheduler)
    try:
        if client is None:
            import dask
            with dask.config.set(scheduler="sync"):
                manifest = vd.embed_partitions(ddf, "text", args.model, args.out_dir,
                                               id_column="id", pooling="mean", threads=1)
        else:
            manifest = vd.embed_partitions(ddf, "text", args.model, args.out_dir,
                                           id_column="id", pooling="mean", threads=1,
                                           client=client)
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    shards = vd.load_shards(args.out_dir)
    print(f"rows {manifest['rows']} shards {len(manifest['shards'])} "
          f"embeddings {shards['embeddings'].shape}")


if __name__ == "__main__":
    main()
