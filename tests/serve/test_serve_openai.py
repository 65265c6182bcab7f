#!/usr/bin/python3
"""Real clients against `vecformer serve`: the official `openai` npm client (pinned by
scripts/install-deps.sh into tools/node/serve) embedding through /v1/embeddings with nothing changed
but its baseURL, and curl on /embed; their embeddings equal `vecformer run`'s bit for bit (float32).

    /usr/bin/python3 tests/serve/test_serve_openai.py --binary build/vecformer
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(REPO, "tests", "support"))
sys.path.insert(0, os.path.join(REPO, "tests", "serve"))
from script_support import Failures, report, scratch_folder, script_arguments  # noqa: E402
from serve_support import ServeProcess  # noqa: E402

NAME = "test_serve_openai"
MODEL = os.path.join(REPO, "models", "mini-sentence")
NODE_DIR = os.path.join(REPO, "tools", "node", "serve")
KEY = "sk-test-vecformer"
SENTENCES = ["The cat sat on the mat.", "A cat was sitting on a mat.", "Stock markets fell sharply today.", ""]


def as_float32(values: list[float]) -> list[float]:
    return list(struct.unpack(f"<{len(values)}f", struct.pack(f"<{len(values)}f", *values)))


def main() -> int:
    args = script_arguments(NAME, __doc__)
    if args is None:
        return 1
    failures = Failures()
    check = failures.check
    if not os.path.isfile(os.path.join(NODE_DIR, "node_modules", "openai", "package.json")) or \
            shutil.which("node") is None:
        return report(NAME, [f"no node or no openai package in {NODE_DIR}: run ./scripts/install-deps.sh"])

    with scratch_folder("vecformer_serve_openai_", args.keep) as work:
        path = os.path.join(work, "sentences.txt")
        with open(path, "w") as f:
            f.write("".join(s + "\n" for s in SENTENCES))
        run = subprocess.run([args.binary, "run", "--model", MODEL, "--text", "--input", path, "--threads", "1",
                              "--quiet"], capture_output=True, text=True, timeout=300)
        expected = [json.loads(line)["embedding"] for line in run.stdout.splitlines()]
        check(run.returncode == 0 and len(expected) == len(SENTENCES), f"vecformer run: {run.stderr}")

        server = ServeProcess(args.binary, MODEL, ["--threads", "1", "--api-key", KEY, "--quiet"])
        try:
            node = subprocess.run(["node", os.path.join(REPO, "tests", "serve", "openai_client.cjs"),
                                   os.path.join(NODE_DIR, "node_modules"), f"http://127.0.0.1:{server.port}/v1",
                                   KEY, json.dumps(SENTENCES)], capture_output=True, text=True, timeout=120)
            check(node.returncode == 0, f"openai client: exit {node.returncode}: {node.stderr.strip()[-500:]}")
            if node.returncode == 0:
                out = json.loads(node.stdout)
                check(out["default"] == [as_float32(e) for e in expected],
                      "openai client (base64 by default) decodes run's embeddings bit for bit")
                check(out["float"] == [expected[0]], "openai client encoding_format float equals run")
                check(out["indices"] == list(range(len(SENTENCES))), f"indices {out['indices']}")
                check(out["model"] == "mini-sentence" and out["usage"]["prompt_tokens"] > 0
                      and out["usage"]["total_tokens"] == out["usage"]["prompt_tokens"], f"usage {out['usage']}")
                check(isinstance(out["wrongKey"], dict) and out["wrongKey"]["status"] == 401
                      and out["wrongKey"]["name"] == "AuthenticationError", f"wrong key: {out['wrongKey']}")
                check(isinstance(out["empty"], dict) and out["empty"]["status"] == 400
                      and out["empty"]["name"] == "BadRequestError", f"empty input: {out['empty']}")

            if shutil.which("curl"):
                curl = subprocess.run(["curl", "-sS", "-X", "POST", f"http://127.0.0.1:{server.port}/embed",
                                       "-H", f"Authorization: Bearer {KEY}", "-H", "Content-Type: application/json",
                                       "-d", json.dumps({"inputs": SENTENCES})], capture_output=True, text=True,
                                      timeout=60)
                check(curl.returncode == 0 and json.loads(curl.stdout or "null") == expected,
                      f"curl /embed equals run: {curl.stderr.strip()}")
            else:
                print("  (curl not installed: its check skipped)")
        finally:
            code = server.stop()
        check(code == 0, f"server exit {code}")
    return report(NAME, failures.messages)


if __name__ == "__main__":
    sys.exit(main())
