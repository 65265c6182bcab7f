#!/usr/bin/python3
"""Converts a Hugging Face pytorch_model.bin (or the shards a pytorch_model.bin.index.json lists) into the
model.safetensors vecformer reads, without running any code from the pickle.

    /usr/bin/python3 tools/convert_bin.py MODEL_DIR [--output PATH] [--force]

* Reading: torch.load(..., weights_only=True), PyTorch's restricted unpickler, which builds tensors and
  plain containers only and refuses anything else (a pickle that would import or call something fails
  instead of running it). Without a torch that has weights_only (1.13 and later) nothing is read.
* Tensors: float32, float16 and bfloat16 are written as F32, F16 and BF16, bit for bit; float64 is
  rounded to F32. Integer and boolean buffers (e.g. the embeddings.position_ids many BERT checkpoints
  carry) are not weights and are left out, each named on stderr; vecformer does not read them.
* Writing: the safetensors layout of docs/FORMAT.md (8-byte little-endian header length, JSON header,
  raw little-endian data), written by this script (the `safetensors` package is not needed) to a
  temporary file beside the output and renamed over it only when complete, so a failure leaves no partial
  file. An existing output is kept unless --force.

Default output: MODEL_DIR/model.safetensors. Exit status 0 on success, 1 on any error (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import sys
import tempfile
from typing import Dict, List, Tuple

# torch dtype name -> safetensors dtype, for the dtypes written as they are.
_EXACT = {"torch.float32": "F32", "torch.float16": "F16", "torch.bfloat16": "BF16"}


class ConvertError(Exception):
    pass


def _load_one(torch, path: str) -> Dict[str, object]:
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except TypeError as e:  # a torch without weights_only: refuse rather than unpickle freely
        raise ConvertError(f"{path}: this torch ({torch.__version__}) has no torch.load(weights_only=True); "
                           "PyTorch 1.13 or later is needed to read a checkpoint safely") from e
    except Exception as e:  # noqa: BLE001 - the restricted unpickler raises several kinds
        raise ConvertError(f"{path}: cannot load with weights_only=True: {str(e).splitlines()[0]}") from e
    if not isinstance(loaded, dict):
        raise ConvertError(f"{path}: holds a {type(loaded).__name__}, not a state dict of tensors")
    if "state_dict" in loaded and isinstance(loaded["state_dict"], dict):
        loaded = loaded["state_dict"]  # a training checkpoint wrapping the weights
    return loaded


def bin_files(model_dir: str) -> List[str]:
    """The pickle files of a model folder: pytorch_model.bin, or the shards its index lists."""
    single = os.path.join(model_dir, "pytorch_model.bin")
    index = os.path.join(model_dir, "pytorch_model.bin.index.json")
    if os.path.isfile(single):
        return [single]
    if os.path.isfile(index):
        try:
            with open(index, encoding="utf-8") as f:
                weight_map = json.load(f)["weight_map"]
            shards = sorted(set(weight_map.values()))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            raise ConvertError(f"{index}: not an index with a weight_map: {e}") from e
        for shard in shards:
            if os.path.isabs(shard) or ".." in shard.replace("\\", "/").split("/"):
                raise ConvertError(f"{index}: shard {shard!r} lies outside the model folder")
        return [os.path.join(model_dir, shard) for shard in shards]
    raise ConvertError(f"{model_dir}: neither pytorch_model.bin nor pytorch_model.bin.index.json")


def load_state_dict(paths: List[str]) -> Tuple[Dict[str, object], List[str]]:
    """(tensors to write, names left out) of every file, in file and key order."""
    import torch  # imported here so that --help works without torch

    tensors: Dict[str, object] = {}
    skipped: List[str] = []
    for path in paths:
        for name, value in _load_one(torch, path).items():
            if not isinstance(value, torch.Tensor):
                raise ConvertError(f"{path}: entry {name!r} is a {type(value).__name__}, not a tensor")
            if name in tensors:
                raise ConvertError(f"{path}: tensor {name!r} is also in an earlier shard")
            if str(value.dtype) in _EXACT or value.dtype == torch.float64:
                tensors[name] = value
            else:
                skipped.append(f"{name} ({value.dtype})")
    if not tensors:
        raise ConvertError(f"{paths[0]}: holds no floating-point tensors")
    return tensors, skipped


def tensor_bytes(value) -> Tuple[str, bytes]:
    """(safetensors dtype, little-endian bytes) of one tensor."""
    import torch

    value = value.detach().cpu().contiguous()
    if value.dtype == torch.float64:
        value = value.to(torch.float32)
    dtype = _EXACT[str(value.dtype)]
    if dtype == "BF16":  # numpy has no bfloat16: its bits, as int16
        array = value.view(torch.int16).numpy().astype("<i2", copy=False)
    else:
        array = value.numpy().astype("<f4" if dtype == "F32" else "<f2", copy=False)
    return dtype, array.tobytes()


def write_safetensors_atomically(path: str, tensors: Dict[str, object], force: bool) -> None:
    if os.path.lexists(path) and not force:
        raise ConvertError(f"{path}: already exists (use --force to replace it)")
    header: Dict[str, object] = {"__metadata__": {"format": "pt"}}
    blobs = []
    offset = 0
    for name, value in tensors.items():
        dtype, blob = tensor_bytes(value)
        header[name] = {"dtype": dtype, "shape": list(value.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the data section starts 8-byte aligned

    folder = os.path.dirname(os.path.abspath(path))
    fd, temp = tempfile.mkstemp(prefix=".convert_bin-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(struct.pack("<Q", len(text)))
            f.write(text)
            for blob in blobs:
                f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)  # mkstemp creates 0600; the output is an ordinary file
        if os.path.lexists(path) and not force:  # appeared while writing
            raise ConvertError(f"{path}: already exists (use --force to replace it)")
        os.replace(temp, path)
    except BaseException:
        try:
            os.remove(temp)
        except OSError:
            pass
        raise


def convert(model_dir: str, output: str | None = None, force: bool = False) -> Tuple[str, List[str]]:
    """Converts model_dir's pickle checkpoint; returns (the written path, the names left out)."""
    output = output or os.path.join(model_dir, "model.safetensors")
    if os.path.lexists(output) and not force:  # before the (possibly long) load
        raise ConvertError(f"{output}: already exists (use --force to replace it)")
    tensors, skipped = load_state_dict(bin_files(model_dir))
    write_safetensors_atomically(output, tensors, force)
    return output, skipped


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model_dir", help="folder holding pytorch_model.bin (or pytorch_model.bin.index.json)")
    parser.add_argument("--output", help="where to write (default: MODEL_DIR/model.safetensors)")
    parser.add_argument("--force", action="store_true", help="replace an existing output file")
    args = parser.parse_args()
    try:
        output, skipped = convert(args.model_dir, args.output, args.force)
    except (ConvertError, OSError) as e:
        print(f"convert_bin.py: error: {e}", file=sys.stderr)
        return 1
    for name in skipped:
        print(f"convert_bin.py: left out {name}: not a floating-point weight", file=sys.stderr)
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
