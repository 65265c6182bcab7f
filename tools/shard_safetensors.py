#!/usr/bin/python3
"""Splits a model folder's model.safetensors into shards plus model.safetensors.index.json, the way
Hugging Face ships every model over ~2 GB, so that the sharded loading path can be tested on the shipped
models.

    /usr/bin/python3 tools/shard_safetensors.py models/tiny-bert /tmp/tiny-bert-sharded [--shards 3]

OUT_DIR receives every other file of MODEL_DIR unchanged, model-0000K-of-0000N.safetensors (the tensors
in header order, in N contiguous runs of about as many tensors each, bytes copied as they are: nothing is decoded or
rounded) and the index: {"metadata": {"total_size": bytes of tensor data}, "weight_map": {tensor: shard}}.
Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import struct
import sys
from typing import Dict, List, Tuple


def read_raw(path: str) -> Tuple[Dict[str, dict], Dict[str, str], bytes]:
    """(tensor entries in header order, __metadata__, data section) of a safetensors file."""
    with open(path, "rb") as f:
        raw = f.read()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    return header, metadata, raw[8 + length:]


def write_raw(path: str, tensors: List[Tuple[str, dict, bytes]], metadata: Dict[str, str]) -> None:
    header: Dict[str, object] = {"__metadata__": metadata} if metadata else {}
    offset = 0
    for name, entry, blob in tensors:
        header[name] = {"dtype": entry["dtype"], "shape": entry["shape"],
                        "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for _, _, blob in tensors:
            f.write(blob)


def shard(model_dir: str, out_dir: str, count: int) -> List[str]:
    """Writes the sharded copy of model_dir to out_dir; returns the shard file names."""
    header, metadata, data = read_raw(os.path.join(model_dir, "model.safetensors"))
    if not 1 <= count <= len(header):
        raise ValueError(f"--shards must be between 1 and the {len(header)} tensors, got {count}")
    os.makedirs(out_dir, exist_ok=True)
    for name in os.listdir(model_dir):
        source = os.path.join(model_dir, name)
        if name == "model.safetensors":
            continue
        if os.path.isdir(source):
            shutil.copytree(source, os.path.join(out_dir, name), dirs_exist_ok=True)
        else:
            shutil.copy2(source, out_dir)

    tensors = [(name, entry, data[entry["data_offsets"][0]:entry["data_offsets"][1]])
               for name, entry in header.items()]
    total = sum(len(blob) for _, _, blob in tensors)
    names = [f"model-{k + 1:05d}-of-{count:05d}.safetensors" for k in range(count)]
    # Contiguous runs of about equal tensor count, none empty.
    runs = [tensors[k * len(tensors) // count:(k + 1) * len(tensors) // count] for k in range(count)]
    weight_map = {}
    for name, run in zip(names, runs):
        write_raw(os.path.join(out_dir, name), run, metadata)
        weight_map.update({tensor: name for tensor, _, _ in run})
    with open(os.path.join(out_dir, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
        f.write("\n")
    return names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model_dir")
    parser.add_argument("out_dir")
    parser.add_argument("--shards", type=int, default=2)
    args = parser.parse_args()
    try:
        names = shard(args.model_dir, args.out_dir, args.shards)
    except (OSError, ValueError) as e:
        print(f"shard_safetensors.py: error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {len(names)} shards and model.safetensors.index.json to {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
