"""Run one generation: stream from the backend, relay frames, report the outcome.

A generation is a task owned by the socket's consumer; the consumer never awaits
it inside ``receive`` (Channels handles one message at a time, so that would
block Stop). Cancelling the task closes the upstream HTTP stream: the async
generator is closed, which closes the SDK's response and its connection.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from .inference.base import Backend, ChatRequest, Delta, InferenceError
from .relay import FrameRelay, Send

log = logging.getLogger(__name__)


class EditSink(Protocol):
    """What the generation feeds the answer into (the streaming edit engine)."""

    def feed(self, text: str) -> list[Any]: ...

    def finish(self) -> list[Any]: ...


@dataclass
class Stats:
    started: float = field(default_factory=time.monotonic)
    first_token: float | None = None
    tokens: int = 0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None

    def as_wire(self) -> dict[str, Any]:
        now = time.monotonic()
        ttft = None if self.first_token is None else (self.first_token - self.started) * 1000
        decode_s = 0.0 if self.first_token is None else now - self.first_token
        return {
            "ttft_ms": None if ttft is None else round(ttft, 1),
            "tokens": self.completion_tokens or self.tokens,
            "prompt_tokens": self.prompt_tokens,
            "tokens_per_s": round(self.tokens / decode_s, 1) if decode_s > 0 else None,
            "elapsed_ms": round((now - self.started) * 1000, 1),
        }


@dataclass
class RetryPolicy:
    retries: int = 2
    max_wait: float = 10.0
    base: float = 0.25

    def wait_for(self, attempt: int, error: InferenceError) -> float | None:
        """Seconds to wait before retry ``attempt`` (1-based), or None to give up."""
        if not error.retryable or attempt > self.retries:
            return None
        if error.retry_after is not None:
            return error.retry_after if error.retry_after <= self.max_wait else None
        # Full jitter (AWS architecture blog): spreads retries of many clients.
        return random.uniform(0, self.base * 2 ** (attempt - 1))


def new_generation_id() -> str:
    return "g_" + secrets.token_urlsafe(9)


class Generation:
    def __init__(
        self,
        *,
        backend: Backend,
        request: ChatRequest,
        send: Send,
        retry: RetryPolicy,
        frame_interval: float,
        frame_max_tokens: int,
        edits: EditSink | None = None,
        on_edit: Callable[[Any], dict[str, Any] | None] | None = None,
    ) -> None:
        self.id = new_generation_id()
        self.backend = backend
        self.request = request
        self.retry = retry
        self.relay = FrameRelay(send, self.id, interval=frame_interval, max_tokens=frame_max_tokens)
        self.edits = edits
        self.on_edit = on_edit
        self.stats = Stats()
        self.answer: list[str] = []
        self.stop_reason: str | None = None  # set by the consumer before cancelling
        self.task: asyncio.Task[None] | None = None

    def start(self) -> asyncio.Task[None]:
        self.task = asyncio.create_task(self.run(), name=f"generation {self.id}")
        return self.task

    async def stop(self, reason: str = "stopped") -> None:
        """Cancel the generation and wait until it has told the client."""
        if self.task is None or self.task.done():
            return
        self.stop_reason = reason
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)

    async def run(self) -> None:
        relay_task = asyncio.create_task(self.relay.run())
        await self.relay.emit(
            "gen.started", model=self.backend.info.model, backend=self.backend.info.name
        )
        outcome: dict[str, Any]
        error: dict[str, Any] = {}
        try:
            finish = await self._stream_with_retries()
            self._feed_edits(None)
            outcome = {"reason": finish or "stop"}
        except asyncio.CancelledError:
            if self.stop_reason is None:  # socket gone: nobody to tell
                relay_task.cancel()
                raise
            outcome = {"reason": self.stop_reason}
        except InferenceError as exc:
            error = _error_fields(exc)
            outcome = {"reason": "error"}
        except Exception:
            log.exception("generation %s failed", self.id)
            error = {
                "code": "server.error",
                "retryable": True,
                "message": "Flint hit an internal error; the log has the details.",
            }
            outcome = {"reason": "error"}
        self.relay.close()
        await relay_task
        if outcome["reason"] == "error":
            await self.relay.emit_error(**error)
        await self.relay.emit(
            "gen.done", **outcome, partial=outcome["reason"] != "stop", stats=self.stats.as_wire()
        )

    async def _stream_with_retries(self) -> str | None:
        attempt = 0
        while True:
            try:
                return await self._stream_once()
            except InferenceError as exc:
                attempt += 1
                wait = None if self.stats.tokens else self.retry.wait_for(attempt, exc)
                if wait is None:
                    raise
                log.info(
                    "generation %s: retry %d in %.2fs after %s", self.id, attempt, wait, exc.code
                )
                self.relay.push_event(
                    "gen.retry", attempt=attempt, wait=round(wait, 3), error=_error_fields(exc)
                )
                await asyncio.sleep(wait)

    async def _stream_once(self) -> str | None:
        finish: str | None = None
        stream = self.backend.stream(self.request)
        try:
            async for delta in stream:
                finish = self._on_delta(delta) or finish
        finally:
            # Closing the generator closes the upstream response right now,
            # also on cancellation, so the provider stops generating.
            await stream.aclose()  # type: ignore[attr-defined]
        return finish

    def _on_delta(self, delta: Delta) -> str | None:
        if delta.text:
            if self.stats.first_token is None:
                self.stats.first_token = time.monotonic()
            self.stats.tokens += delta.tokens
            self.answer.append(delta.text)
            self.relay.push_text(delta.text, delta.tokens)
            self._feed_edits(delta.text)
        if delta.usage is not None:
            self.stats.prompt_tokens = delta.usage.prompt_tokens
            self.stats.completion_tokens = delta.usage.completion_tokens
        return delta.finish_reason

    def _feed_edits(self, text: str | None) -> None:
        if self.edits is None:
            return
        events = self.edits.feed(text) if text is not None else self.edits.finish()
        for ev in events:
            wire = self.on_edit(ev) if self.on_edit else None
            if wire is not None:
                event_type = wire.pop("type")
                self.relay.push_event(event_type, **wire)


def _error_fields(exc: InferenceError) -> dict[str, Any]:
    out: dict[str, Any] = {"code": exc.code, "message": exc.message, "retryable": exc.retryable}
    if exc.retry_after is not None:
        out["retry_after"] = round(exc.retry_after, 3)
    return out
