"""A model hub on loopback that serves files the way the Hugging Face Hub does.

For tests of playground/inference/local/fetch.py through ``huggingface_hub`` with
``HF_ENDPOINT`` pointing here: ``HEAD`` and ``GET`` on
``/<repo_id>/resolve/<revision>/<filename>`` answer with the headers the client reads
(``X-Repo-Commit``, ``ETag``/``X-Linked-Etag``, ``X-Linked-Size``, ``Content-Length``,
``Accept-Ranges``); ``GET`` honours ``Range: bytes=N-`` with a 206. To test resume and
retries it can drop the connection after sending a number of bytes (``drop_after``,
``drops`` times), and to make progress visible it can send at a fixed ``rate``.

Usage::

    with FakeHub() as hub:
        hub.add("org/model-GGUF", "model.gguf", data)   # or a Path
        os.environ["HF_ENDPOINT"] = hub.url
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self

COMMIT = "0123456789abcdef0123456789abcdef01234567"
CHUNK = 64 * 1024


@dataclass
class Served:
    data: bytes | Path
    sha256: str
    size: int

    def read(self, start: int, end: int) -> bytes:
        if isinstance(self.data, bytes):
            return self.data[start:end]
        with self.data.open("rb") as f:
            f.seek(start)
            return f.read(end - start)


@dataclass
class HubRequest:
    method: str
    path: str
    range: str | None


@dataclass
class _State:
    files: dict[str, Served] = field(default_factory=dict)
    requests: list[HubRequest] = field(default_factory=list)
    drop_after: int | None = None  # bytes of a body sent before the connection is cut
    drops: int = 0  # how many more responses are cut that way
    rate: float | None = None  # bytes per second, None = as fast as possible
    lock: threading.Lock = field(default_factory=threading.Lock)


_RANGE = re.compile(r"bytes=(\d+)-(\d*)$")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet
        return

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def do_GET(self) -> None:
        self._serve(body=True)

    def _serve(self, *, body: bool) -> None:
        state = self.server.state
        with state.lock:
            state.requests.append(HubRequest(self.command, self.path, self.headers.get("Range")))
            served = state.files.get(self.path.split("?", 1)[0])
        if served is None:
            self.send_response(404)
            self.send_header("X-Error-Code", "EntryNotFound")
            self.send_header("X-Repo-Commit", COMMIT)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        start, end = 0, served.size
        status = 200
        wanted = self.headers.get("Range") if body else None
        if wanted and (m := _RANGE.match(wanted.strip())):
            start = int(m.group(1))
            end = int(m.group(2)) + 1 if m.group(2) else served.size
            status = 206
            if start >= served.size:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{served.size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        self.send_response(status)
        self.send_header("X-Repo-Commit", COMMIT)
        self.send_header("ETag", f'"{served.sha256}"')
        self.send_header("X-Linked-Etag", f'"{served.sha256}"')
        self.send_header("X-Linked-Size", str(served.size))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(end - start))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{served.size}")
        self.end_headers()
        if not body:
            return
        with state.lock:
            cut = state.drop_after if state.drops > 0 else None
            if cut is not None:
                state.drops -= 1
        sent = 0
        began = time.monotonic()
        pos = start
        while pos < end:
            n = min(CHUNK, end - pos)
            if cut is not None and sent + n > cut:
                n = cut - sent
            if n > 0:
                self.wfile.write(served.read(pos, pos + n))
                self.wfile.flush()
                pos += n
                sent += n
            if cut is not None and sent >= cut:
                # Cut mid-body: the client sees fewer bytes than Content-Length said.
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if state.rate:
                ahead = sent / state.rate - (time.monotonic() - began)
                if ahead > 0:
                    time.sleep(ahead)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: _State


class FakeHub:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = _Server((host, port), _Handler)
        self._server.state = _State()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def state(self) -> _State:
        return self._server.state

    @property
    def requests(self) -> list[HubRequest]:
        with self.state.lock:
            return list(self.state.requests)

    def add(self, repo: str, filename: str, data: bytes | Path, revision: str = "main") -> str:
        """Serve ``data`` at the hub path of ``repo``/``filename``; return its URL."""
        if isinstance(data, bytes):
            sha, size = hashlib.sha256(data).hexdigest(), len(data)
        else:
            digest = hashlib.sha256()
            with data.open("rb") as f:
                while chunk := f.read(4 << 20):
                    digest.update(chunk)
            sha, size = digest.hexdigest(), data.stat().st_size
        path = f"/{repo}/resolve/{revision}/{filename}"
        with self.state.lock:
            self.state.files[path] = Served(data, sha, size)
        return self.url + path

    def configure(
        self,
        *,
        drop_after: int | None = None,
        drops: int = 0,
        rate: float | None = None,
    ) -> None:
        with self.state.lock:
            self.state.drop_after, self.state.drops, self.state.rate = drop_after, drops, rate

    def start(self) -> Self:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fake-hub", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:  # pragma: no cover - a helper for browser tests' server processes
    import argparse

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--serve", nargs=3, action="append", metavar=("REPO", "FILE", "PATH"))
    p.add_argument("--rate", type=float)
    args = p.parse_args()
    hub = FakeHub(port=args.port)
    for repo, filename, path in args.serve or ():
        hub.add(repo, filename, Path(path))
    hub.configure(rate=args.rate)
    print(hub.url, flush=True)
    hub._server.serve_forever()


if __name__ == "__main__":  # pragma: no cover
    main()
