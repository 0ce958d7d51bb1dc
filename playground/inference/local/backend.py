"""The embedded default model: a llama.cpp server Flint starts itself.

``LocalModelBackend`` makes sure the supervised server (playground.inference.local.server)
is up and delegates the streaming to :class:`OpenAICompatibleBackend`, so the local
model and remote ones share one client.

Loading decision: the first ``stream()`` starts the server and *waits* for it (up to
``load_timeout``) instead of raising ``upstream.loading``. The runner retries only
``FLINT_RETRIES`` times within ``FLINT_RETRY_MAX_WAIT`` seconds, less than a cold load
of the 1.5B model can take, so raising would show the user an error for a model that
is about to work. The caller can still tell: pass ``on_wait`` to ``stream()`` to hear
``("loading", None)`` and ``("queued", position)``; ``status()`` reports the same.
Only when the load outlasts ``load_timeout`` is ``upstream.loading`` raised.

One generation at a time: two decodes on 2 cores each run at less than half speed,
and llama-cpp-python's server interrupts a running stream when a new one arrives.
The line is shared by every local model's backend (a playground can choose its own
local model, playground/inference/catalog.py): one llama.cpp server runs at a time
(server.py stops the old one when another model is asked for), so a generation on
another model waits for the running one instead of killing its server mid-answer.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

from playground.inference.base import BackendInfo, ChatRequest, Delta, InferenceError, OnWait
from playground.inference.local.paths import chosen_model, model_path, var_dir
from playground.inference.local.registry import UnknownModelError, get_spec
from playground.inference.local.server import LocalModelServer, ServerConfig, shared_server
from playground.inference.local.verify import ModelVerificationError, ensure_verified
from playground.inference.openai_compatible import OpenAICompatibleBackend
from playground.inference.queue import UpstreamQueue
from playground.registry import PerLoop

CRASH_LOOP = 3  # consecutive failed starts after which we stop waiting and report

# The fair line in front of the one llama.cpp server, for every local model alike.
_slot: PerLoop[UpstreamQueue] = PerLoop(
    "local model slot", lambda: UpstreamQueue(cap=1, size=1_000)
)


class LocalModelBackend:
    def __init__(
        self,
        model: str | None = None,
        threads: int = 2,
        edit_format: str = "whole_file",
        max_tokens: int = 1024,
        ctx: int | None = None,
        cache: bool = False,
        load_timeout: float = 600.0,
        timeout: float = 120.0,
        draft_tokens: int = 0,
    ) -> None:
        # model=None: the `manage.py models use` choice, else the registry default.
        name = model or chosen_model()
        try:
            self._spec = get_spec(name)
        except UnknownModelError as exc:
            raise ValueError(str(exc)) from None  # a settings mistake: fail at startup
        self.info = BackendInfo(name="local", model=name, edit_format=edit_format)
        self._threads = threads
        self._ctx = ctx or self._spec.n_ctx
        self._cache = cache
        self._draft_tokens = draft_tokens
        self._max_tokens = max_tokens
        self._timeout = timeout
        self.load_timeout = load_timeout
        # One generation at a time on the local model; the rest wait in line.
        self.max_concurrent = 1
        # Room for the prompt: the model's window less the answer's.
        self.context_tokens = max(512, self._ctx - max_tokens)
        self._server: LocalModelServer | None = None
        self._upstream: OpenAICompatibleBackend | None = None
        self._upstream_url = ""

    @property
    def queue(self) -> UpstreamQueue:
        """The same fair line as every backend's (playground/inference/queue.py), with room
        for one, shared by the local models: it guards the server also when the backend
        is used on its own."""
        return _slot.get()

    # -- what the UI can show ----------------------------------------------------------
    def queue_position(self) -> int:
        """How many generations a new request would wait behind (0 = runs at once)."""
        return self.queue.active + self.queue.waiting

    def status(self) -> str:
        if not model_path(self.info.model).exists():
            return "missing"
        return self._server.state if self._server is not None else "stopped"

    # -- Backend contract ----------------------------------------------------------------
    async def stream(
        self, request: ChatRequest, *, on_wait: OnWait | None = None
    ) -> AsyncIterator[Delta]:
        queued = (lambda position: on_wait("queued", position)) if on_wait else _ignore
        async with self.queue.slot(queued):
            server = await self._ensure_server()
            if not _alive(server):
                if on_wait is not None:
                    on_wait("loading", None)
                await self._wait_ready(server)
            upstream = await self._upstream_for(server.base_url)
            async for delta in upstream.stream(request):
                yield delta

    async def aclose(self) -> None:
        if self._upstream is not None:
            await self._upstream.aclose()
            self._upstream = None

    def count_tokens(self, text: str) -> int | None:
        """``text``'s length in the model's own tokens, or None when the server can't be asked.

        Only while the model is loaded and idle: llama-cpp-python's server interrupts a
        running stream when any other request arrives, and a generation that waits for
        the model should not wait for a count. Called from the prompt builder on the
        event loop, so no stream can start during the (loopback, milliseconds) call.
        """
        server = self._server
        if server is None or not _alive(server) or self.queue.active:
            return None
        request = urllib.request.Request(
            f"{server.base_url}/extras/tokenize/count",
            data=json.dumps({"input": text}).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=2.0) as response:
                return int(json.load(response)["count"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    # -- internals -----------------------------------------------------------------------
    async def _ensure_server(self) -> LocalModelServer:
        path = model_path(self.info.model)
        if not path.exists():
            raise InferenceError(
                "upstream.model_not_found",
                f"The local model {self.info.model!r} is not downloaded yet. Download it from "
                "the model menu (or run `python manage.py models fetch "
                f"{self.info.model}` on the server), then retry.",
                retryable=False,
            )
        # Hashing (only when the file changed since it was verified) and process
        # start-up are blocking: keep them off the event loop.
        try:
            return await asyncio.to_thread(self._start_server, path)
        except InferenceError:
            raise
        except Exception as exc:  # e.g. OSError spawning: report, never crash the consumer
            raise InferenceError(
                "upstream.server_error",
                f"Could not start the local model server: {exc}",
                retryable=False,
            ) from None

    def _start_server(self, path: Path) -> LocalModelServer:
        try:
            ensure_verified(path, self._spec)
        except ModelVerificationError as exc:
            raise InferenceError("upstream.model_not_found", str(exc), retryable=False) from None
        server = shared_server(
            self.server_config(path),
            log_path=var_dir() / "logs" / "llama-server.log",
            ready_timeout=self.load_timeout,  # else the supervisor gives up at 600 s
        )
        server.start()
        self._server = server
        return server

    def server_config(self, path: Path) -> ServerConfig:
        """How this backend's llama.cpp server runs ``path`` (also `manage.py models
        serve`, the one server the processes of run-scaled.sh share)."""
        return ServerConfig(
            model_path=path,
            alias=self.info.model,
            threads=self._threads,
            n_ctx=self._ctx,
            cache=self._cache,
            draft_tokens=self._draft_tokens,
        )

    async def _wait_ready(self, server: LocalModelServer) -> None:
        deadline = time.monotonic() + self.load_timeout
        while not _alive(server):
            if server.failures >= CRASH_LOOP:
                raise InferenceError(
                    "upstream.server_error",
                    f"The local model server keeps failing ({server.last_error}). "
                    f"See {server.log_path}.",
                    retryable=False,
                )
            if time.monotonic() > deadline:
                raise InferenceError(
                    "upstream.loading",
                    "Loading the local model… (first start takes a while)",
                    retryable=True,
                    retry_after=2,
                )
            await asyncio.sleep(0.1)  # cancellable: a closed tab stops the wait

    async def _upstream_for(self, base_url: str) -> OpenAICompatibleBackend:
        # The server gets a fresh port when it restarts, so the client follows it.
        url = f"{base_url}/v1"
        if self._upstream is None or self._upstream_url != url:
            if self._upstream is not None:
                await self._upstream.aclose()
            self._upstream = OpenAICompatibleBackend(
                base_url=url,
                model=self.info.model,
                api_key="",
                name="local",
                edit_format=self.info.edit_format,
                timeout=self._timeout,
                connect_timeout=2.0,
                max_tokens=self._max_tokens,
            )
            self._upstream_url = url
        return self._upstream


def _ignore(position: int) -> None:
    return None


def _alive(server: LocalModelServer) -> bool:
    # pid polls the process, so a server killed a moment ago is not "ready" even
    # before the supervisor thread has noticed.
    return server.ready and server.pid is not None
