"""A supervised llama.cpp server (``python -m llama_cpp.server``) in its own process.

Why a process and not ``llama_cpp.Llama`` in-process: a native crash (bad build, bad
file, out of memory) must never take the web server down, and the OpenAI-compatible
HTTP API lets the local model share the client code of every remote one.

The supervisor is a daemon thread: it starts the server on a free loopback port,
polls ``GET /v1/models`` until the model is loaded, restarts the server with
exponential backoff when it dies, and stops it when the web process exits (atexit,
plus PR_SET_PDEATHSIG so even a SIGKILLed parent leaves no orphan).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TextIO

State = Literal["stopped", "starting", "ready", "backoff"]

BACKOFF_MAX = 30.0
HEALTHY_AFTER = 60.0  # a server that ran this long resets the backoff


@dataclass(frozen=True, slots=True)
class ServerConfig:
    model_path: Path
    alias: str  # the model name the OpenAI API answers to
    threads: int = 2
    n_ctx: int = 8192
    cache: bool = False  # llama-cpp-python's RAM state cache (FLINT_LOCAL_CACHE)
    # Prompt-lookup drafting: guess this many tokens ahead by copying from the prompt
    # (the file being edited is there), verified in one batch; 0 = off.
    draft_tokens: int = 0
    extra_args: tuple[str, ...] = field(default_factory=tuple)

    def argv(self, port: int) -> list[str]:
        # chat_format is left unset on purpose: llama-cpp-python then uses the
        # chat template stored in the GGUF (Qwen and SmolLM2 both carry one).
        return [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(self.model_path),
            "--model_alias", self.alias,
            "--host", "127.0.0.1",
            "--port", str(port),
            "--n_threads", str(self.threads),
            # Prompt processing too, so "1 thread" really leaves a core free.
            "--n_threads_batch", str(self.threads),
            "--n_ctx", str(self.n_ctx),
            # Only the last position's logits are needed for sampling; the server's
            # default (all positions) costs vocab x batch floats per prompt batch.
            "--logits_all", "false",
            "--cache", "true" if self.cache else "false",
            *self._draft_args(),
            *self.extra_args,
        ]  # fmt: skip

    def _draft_args(self) -> list[str]:
        if self.draft_tokens <= 0:
            return []
        return [
            "--draft_model", "prompt-lookup-decoding",
            "--draft_model_num_pred_tokens", str(self.draft_tokens),
        ]  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL: graceful shutdown could wait minutes


class LocalModelServer:
    """Supervises one llama.cpp server process. Thread-safe; never raises into callers
    of ``start()``: failures show up as ``state``/``last_error`` and in the log."""

    def __init__(
        self,
        config: ServerConfig,
        *,
        log_path: Path,
        out: TextIO | None = None,
        ready_timeout: float = 600.0,
        port: int | None = None,
    ) -> None:
        self.config = config
        # A fixed port (`manage.py models serve`: other processes are told it once);
        # None: a free one at every start, followed by this process's own backend.
        self.fixed_port = port
        self.log_path = log_path
        self.ready_timeout = ready_timeout
        self._out = out
        self._state: State = "stopped"
        self._port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._atexit = False
        self._ready = threading.Event()
        self.failures = 0  # consecutive starts that died or never became ready
        self.restarts = 0
        self.last_error: str | None = None
        self.loaded_in: float | None = None  # seconds the last successful load took

    # -- public -----------------------------------------------------------------
    @property
    def state(self) -> State:
        return self._state

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def start(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stopping.clear()
            self._state = "starting"
            self._thread = threading.Thread(
                target=self._supervise, name=f"llama-server-{self.config.alias}", daemon=True
            )
            self._thread.start()
            if not self._atexit:
                atexit.register(self.stop)
                self._atexit = True

    def wait_ready(self, timeout: float | None = None) -> bool:
        return self._ready.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._ready.clear()
        self._terminate(timeout)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._state = "stopped"

    # -- supervisor thread ----------------------------------------------------------
    def _say(self, msg: str) -> None:
        out = self._out if self._out is not None else sys.stderr
        with contextlib.suppress(Exception):  # a closed terminal must not kill supervision
            out.write(f"[local model] {msg}\n")
            out.flush()

    def _supervise(self) -> None:
        while not self._stopping.is_set():
            try:
                ran_for = self._run_once()
            except Exception as exc:  # never let supervision die silently
                self.last_error = f"supervisor error: {exc!r}"
                ran_for = 0.0
            if self._stopping.is_set():
                break
            self.failures = 1 if ran_for >= HEALTHY_AFTER else self.failures + 1
            delay = min(BACKOFF_MAX, 2.0 ** (self.failures - 1))
            self._state = "backoff"
            self._say(f"server stopped: {self.last_error}; restarting in {delay:.0f} s")
            self.restarts += 1
            self._stopping.wait(delay)
        self._state = "stopped"

    def _run_once(self) -> float:
        """Start the server, wait for it, supervise until it exits; return its uptime."""
        self._state = "starting"
        self._port = self.fixed_port or free_port()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        if self.log_path.exists():  # keep the previous run's log: it may explain a crash
            os.replace(self.log_path, self.log_path.with_name(self.log_path.name + ".1"))
        size_mb = self.config.model_path.stat().st_size / 1e6
        self._say(
            f"loading {self.config.alias} ({size_mb:,.0f} MB, {self.config.threads} threads, "
            f"ctx {self.config.n_ctx}) on port {self._port}; log: {self.log_path}"
        )
        started = time.monotonic()
        with self.log_path.open("wb") as log:
            proc = subprocess.Popen(
                self.config.argv(self._port),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                start_new_session=True,  # a Ctrl-C meant for runserver is ours to relay
                preexec_fn=_die_with_parent,  # async-signal-safe: one prctl call
            )
        self._proc = proc
        if self._await_ready(proc, started):
            self.loaded_in = time.monotonic() - started
            self.failures = 0
            self._state = "ready"
            self._ready.set()
            self._say(f"ready in {self.loaded_in:.1f} s (pid {proc.pid}, {self.base_url})")
            proc.wait()
        self._ready.clear()
        if proc.poll() is None:
            self._terminate(5.0)
        if not self._stopping.is_set():
            self.last_error = self._describe_exit(proc)
        return time.monotonic() - started

    def _await_ready(self, proc: subprocess.Popen[bytes], started: float) -> bool:
        url = f"{self.base_url}/v1/models"
        next_note = started + 10.0
        while not self._stopping.is_set():
            if proc.poll() is not None:
                return False
            now = time.monotonic()
            if now - started > self.ready_timeout:
                self.last_error = f"not ready after {self.ready_timeout:.0f} s"
                return False
            with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1.0) as resp:
                if resp.status == 200:
                    return True
            if now >= next_note:
                self._say(f"still loading ({now - started:.0f} s)…")
                next_note = now + 10.0
            self._stopping.wait(0.2)
        return False

    def _describe_exit(self, proc: subprocess.Popen[bytes]) -> str:
        rc = proc.returncode
        how = f"killed by signal {-rc}" if rc is not None and rc < 0 else f"exit code {rc}"
        tail = self.log_tail(3)
        return f"{how}" + (f" — {tail}" if tail else "")

    def log_tail(self, lines: int = 5) -> str:
        try:
            with self.log_path.open("rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - 4096))
                text = f.read().decode(errors="replace")
        except OSError:
            return ""
        return " | ".join(line.strip() for line in text.splitlines()[-lines:] if line.strip())

    def _terminate(self, timeout: float) -> None:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- one shared server per process ----------------------------------------------------
_shared: dict[ServerConfig, LocalModelServer] = {}
_shared_lock = threading.Lock()


def shared_server(
    config: ServerConfig, *, log_path: Path, ready_timeout: float = 600.0
) -> LocalModelServer:
    """The process's server for ``config``. A different config stops the old server
    first: two resident models would not fit the RAM this is meant for.

    ``ready_timeout`` is how long a start may take before the supervisor gives up on
    it (FLINT_LOCAL_LOAD_TIMEOUT): the backend waits that long, so the supervisor
    must not kill the load sooner."""
    with _shared_lock:
        server = _shared.get(config)
        if server is None:
            for old in _shared.values():
                old.stop()
            _shared.clear()
            server = _shared[config] = LocalModelServer(
                config, log_path=log_path, ready_timeout=ready_timeout
            )
        server.ready_timeout = max(server.ready_timeout, ready_timeout)
        return server


def stop_shared() -> None:
    with _shared_lock:
        for server in _shared.values():
            server.stop()
        _shared.clear()


def running_config() -> Sequence[ServerConfig]:
    with _shared_lock:
        return tuple(_shared)
