"""Start real Flint server processes (Daphne) on loopback for tests and benchmarks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def flint_env(var_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLINT_", "DATABASE_URL"))}
    env.update({"FLINT_VAR_DIR": str(var_dir), "DJANGO_SETTINGS_MODULE": "flint.settings"})
    env.update(extra)
    return env


def migrate(env: Mapping[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=REPO,
        env=dict(env),
        check=True,
    )


class ServerURL(str):
    """A server's base URL (a str), with its process id and log file beside it."""

    pid: int
    log_path: Path


@contextmanager
def daphne_server(env: Mapping[str, str], port: int | None = None) -> Iterator[ServerURL]:
    """Run ``daphne flint.asgi:application``; yield its http://127.0.0.1:PORT base URL.

    The URL is a ServerURL: ``.pid`` (for psutil readings) and ``.log_path``; its
    access log is beside it (``.access.log``).
    """
    port = port or free_port()
    # The server's log goes to a file (a pipe nobody reads would fill and block it).
    log_path = Path(env.get("FLINT_VAR_DIR") or tempfile.gettempdir()) / f"daphne-{port}.log"
    log_file = log_path.open("wb")
    command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
    # Its access log (line-buffered): which process took which socket (the fault tests).
    command += ["--access-log", str(log_path.with_suffix(".access.log"))]
    proc = subprocess.Popen(
        [*command, "flint.asgi:application"],
        cwd=REPO,
        env=dict(env),
        stdout=subprocess.DEVNULL,
        stderr=log_file,
    )
    with _serving(proc, port, log_path) as base:
        yield base
        log_file.close()


def _wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = log.read_text(errors="replace")
            raise RuntimeError(f"server exited with {proc.returncode}: {err[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server at {url} not ready after {timeout}s")


def nginx_binary() -> str | None:
    """Debian's nginx (scripts/test.sh installs it), or None."""
    import shutil

    if found := shutil.which("nginx"):
        return found
    return "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None


@contextmanager
def nginx_proxy(
    prefix: Path, upstream_ports: list[int], port: int | None = None
) -> Iterator[ServerURL]:
    """Run nginx (deploy/nginx.conf.template) in front of Daphne processes on loopback.

    Its own prefix, pid and temporary folders under ``prefix``; never the machine's
    nginx configuration. Yields its http://127.0.0.1:PORT base URL (a ServerURL:
    ``.pid``, ``.log_path`` = the error log; the access log is beside it).
    """
    from flint.deploy import nginx_command, render_nginx

    nginx = nginx_binary()
    if nginx is None:
        raise RuntimeError("nginx is not installed (scripts/test.sh installs Debian's)")
    port = port or free_port()
    conf = render_nginx(prefix, f"127.0.0.1:{port}", upstream_ports)
    log_path = prefix / "error.log"
    with log_path.open("ab") as log_file:  # nginx's start-up complaints land beside its log
        proc = subprocess.Popen(
            nginx_command(nginx, conf), stdout=subprocess.DEVNULL, stderr=log_file
        )
    with _serving(proc, port, log_path) as base:
        yield base


@contextmanager
def _serving(proc: subprocess.Popen[bytes], port: int, log_path: Path) -> Iterator[ServerURL]:
    """``proc``'s base URL once /healthz answers; SIGTERM (then SIGKILL) when done.

    For nginx, SIGTERM is its fast shutdown, workers included.
    """
    base = ServerURL(f"http://127.0.0.1:{port}")
    base.pid, base.log_path = proc.pid, log_path
    try:
        _wait_http(base + "/healthz", proc, log_path)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class PrivateRedis:
    """A redis-server of the test's own on a free port, that the test may kill and restart.

    Never the machine's shared Redis: this one's data directory (an append-only file,
    fsynced on every write, so a restart keeps what was written) is ``folder``.
    """

    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.folder, self.port = folder, port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)

    def start(self) -> None:
        import shutil

        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        command = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.folder)]
        log = (self.folder / "redis.log").open("ab")
        self.proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"redis-server exited: {(self.folder / 'redis.log').read_text()}"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(64).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} not ready")

    def kill(self) -> None:
        """SIGKILL, as a crash would; what was fsynced survives a ``start()``."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


@contextmanager
def redis_server(folder: Path) -> Iterator[PrivateRedis]:
    """Start a PrivateRedis; stopped (by its pid) when the block ends."""
    server = PrivateRedis(folder)
    server.start()
    try:
        yield server
    finally:
        server.kill()
