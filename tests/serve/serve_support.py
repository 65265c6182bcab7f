"""Starting and talking to `vecformer serve` from the ctest scripts of tests/serve/ (and bench/serve/).

The server is started on 127.0.0.1 with --port 0; the port it bound is read from its first stderr
line ("vecformer serve: listening on http://127.0.0.1:PORT"). Its stderr is collected by a thread
(the server logs a line per request) and can be read back.
"""

from __future__ import annotations

import http.client
import json
import re
import signal
import subprocess
import threading
import time
from typing import Any, Dict, List, Sequence, Tuple


class ServeProcess:
    def __init__(self, binary: str, model: str, args: Sequence[str] = (), ready: bool = True,
                 timeout_s: float = 60) -> None:
        self.process = subprocess.Popen([binary, "serve", "--model", model, "--port", "0", *args],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        self.lines: List[str] = []
        self._lock = threading.Lock()
        self._port_known = threading.Event()
        self.port = 0
        threading.Thread(target=self._read_stderr, daemon=True).start()
        if not self._port_known.wait(timeout_s) or self.port == 0:
            self.kill()
            raise RuntimeError(f"vecformer serve did not print its port: {self.stderr()!r}")
        if ready:
            self.wait_ready(timeout_s)

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._lock:
                self.lines.append(line)
            match = re.search(r"listening on http://[^:]+:(\d+)", line)
            if match and not self._port_known.is_set():
                self.port = int(match.group(1))
                self._port_known.set()
        self._port_known.set()

    def stderr(self) -> str:
        with self._lock:
            return "".join(self.lines)

    def wait_ready(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"vecformer serve exited {self.process.returncode}: {self.stderr()!r}")
            try:
                if self.request("GET", "/health")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("vecformer serve did not become ready")

    def request(self, method: str, path: str, body: Any = None, headers: Dict[str, str] | None = None,
                raw: bytes | None = None, timeout_s: float = 60) -> Tuple[int, bytes]:
        """One request on a fresh connection: (status, body bytes). `body` is sent as JSON."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout_s)
        try:
            data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
            all_headers = {"Content-Type": "application/json", **(headers or {})}
            connection.request(method, path, body=data, headers=all_headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def json(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Tuple[int, Any]:
        status, data = self.request(method, path, body, **kwargs)
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, data

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 30) -> int | None:
        """Sends `sig` and waits; the exit code, or None when it did not exit in time (then killed)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
