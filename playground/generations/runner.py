"""Run one generation: wait for a slot, stream, relay frames, steer, report.

A generation is a task of its own; the socket that started it never awaits it
inside ``receive`` (Channels handles one message at a time, so that would block
Stop). It publishes its events to the hub (playground/hub/), from which any number of
sockets follow it, so it outlives a dropped connection for a grace period.

Cancelling the streaming task closes the upstream HTTP stream: the async
generator is closed, which closes the SDK's response and its connection, so
the provider stops generating (and billing) at once.

Steering cancels only the current upstream stream, keeps the answer up to the
last point between edits (an edit half-received is discarded; applied edits
stay applied), and streams a continuation in the same generation: same id,
sequence numbers carry on. A backend that can steer a stream itself (the
Responses WebSocket: ``SteerableBackend``) is asked first; if it takes the
steer, the stream goes on with the upstream's own continuation, and if it hands
the steer back, the generation cuts and continues as above. ``gen.steered``
says which happened (``mode``: ``"native"`` or ``"restart"``).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from playground import limits, protocol
from playground.errors import FlintError
from playground.generations.relay import FrameRelay, Send
from playground.generations.stats import RetryPolicy, Stats
from playground.inference.base import Backend, ChatRequest, Delta, InferenceError
from playground.inference.queue import UpstreamQueue

log = logging.getLogger(__name__)


class EditSink(Protocol):
    """The streaming edit engine, as the generation uses it."""

    @property
    def files(self) -> dict[str, str]: ...

    @property
    def safe_chars(self) -> int: ...

    def feed(self, text: str) -> list[Any]: ...

    def finish(self) -> list[Any]: ...


# (files after applied edits, answer kept so far, the user's correction) -> request
Continuation = Callable[[dict[str, str], str, str], ChatRequest]


def new_generation_id() -> str:
    return "g_" + secrets.token_urlsafe(9)


class State(enum.Enum):
    """A generation's life: NEW -> RUNNING -> FINISHING -> DONE (see ``_ALLOWED``)."""

    NEW = "new"
    RUNNING = "running"  # streaming (or waiting for a slot), possibly steered
    FINISHING = "finishing"  # the outcome is known; flushing and publishing gen.done
    DONE = "done"


_ALLOWED = {
    State.NEW: {State.RUNNING},
    State.RUNNING: {State.FINISHING},
    State.FINISHING: {State.DONE},
    State.DONE: set(),
}


class IllegalTransitionError(RuntimeError):
    """A generation was asked to move to a state it cannot reach from where it is."""


class _RestartSteer(Exception):
    """The backend handed a native steer back: cut and continue ourselves."""


class InternalError(FlintError):
    """A bug in Flint: logged with its traceback; the user is told only that much."""

    code = "server.error"
    retryable_default = True

    def __init__(self) -> None:
        super().__init__("Flint hit an internal error; the log has the details.")


class AnswerTooLargeError(FlintError):
    """The model kept writing past the limit for one answer; it is cut off there."""

    code = "gen.answer_too_large"
    status = 502

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"The answer passed {limit:,} characters, the most one answer may have, so it "
            "was stopped there. What arrived is kept; ask for a smaller change.",
            limit=limit,
        )


# Called once the generation has published gen.done: (generation, outcome reason).
OnFinish = Callable[["Generation", str], Awaitable[None]]
# Called just before gen.done is sent: whatever a page that reads gen.done and asks
# again at once must find undone (the playground's claim) is undone here.
OnEnding = Callable[["Generation"], Awaitable[None]]


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
        new_edits: Callable[[dict[str, str]], EditSink] | None = None,
        continuation: Continuation | None = None,
        queue: UpstreamQueue | None = None,
        gen_id: str | None = None,
        on_finish: OnFinish | None = None,
        on_ending: OnEnding | None = None,
        max_answer_chars: int | None = None,
    ) -> None:
        self.id = gen_id or new_generation_id()
        self.backend = backend
        self.request = request
        self.retry = retry
        self.relay = FrameRelay(send, self.id, interval=frame_interval, max_tokens=frame_max_tokens)
        self.edits = edits
        self.new_edits = new_edits
        self.continuation = continuation
        self.queue = queue
        self.stats = Stats()
        self.answer: list[str] = []
        self.answer_chars = 0  # len("".join(self.answer)), kept as deltas arrive
        self._edits_base = 0  # where the current edit stream's text begins in the answer
        self.stop_reason: str | None = None
        self.on_finish = on_finish
        self.on_ending = on_ending
        self.max_answer_chars = max_answer_chars or limits.MAX_ANSWER_CHARS
        self.state = State.NEW
        self.task: asyncio.Task[None] | None = None
        self._segment: asyncio.Task[str | None] | None = None
        self._steer: str | None = None  # a restart-steer to apply when the segment ends
        self._native: str | None = None  # a steer the backend is applying itself
        self._native_task: asyncio.Task[None] | None = None
        self._relay_task: asyncio.Task[None] | None = None
        self._slot_taken: float | None = None  # a queue slot start() took: since when
        self._await_continuation = False  # the next token is a continuation's first

    def _move(self, to: State) -> None:
        if to not in _ALLOWED[self.state]:
            raise IllegalTransitionError(
                f"generation {self.id}: {self.state.value} -> {to.value} is not allowed"
            )
        self.state = to

    @property
    def running(self) -> bool:
        return self.state in (State.NEW, State.RUNNING) and self.task is not None

    def start(self) -> asyncio.Task[None]:
        """Start the generation's task (once: a second start raises).

        With a free slot in the upstream's queue (the usual case), the first segment's
        task is started here too, before the generation's: the request goes upstream on
        the loop's next pass, not the one after the generation's task has started it.
        gen.started is the relay's first frame (it is pushed before anything else can be),
        and the relay starts after that first segment's first step, so the request is on
        its way upstream before anything is framed for the page.
        """
        self._move(State.RUNNING)
        self.relay.push_event(
            "gen.started", model=self.backend.info.model, backend=self.backend.info.name
        )
        queue = self.queue
        if queue is None or queue.take_now():
            if queue is not None:
                self._slot_taken = time.monotonic()
            self._segment = asyncio.create_task(self._stream_with_retries())
        self.task = asyncio.create_task(self.run(), name=f"generation {self.id}")
        if self._segment is not None:
            self.task.add_done_callback(self._ended)
        return self.task

    def _ended(self, _task: asyncio.Task[None]) -> None:
        # Only if the generation's task was cancelled before its first step (so run()
        # never ran): the segment start() began, and its slot, are not left behind.
        segment = self._segment
        if segment is not None and not segment.done():
            segment.cancel()
        elif segment is not None and not segment.cancelled():
            segment.exception()  # retrieved (run() never awaited it)
        self._give_back()

    def _give_back(self) -> None:
        taken, self._slot_taken = self._slot_taken, None
        if taken is not None and self.queue is not None:
            self.queue.give_back(taken)

    def cancel(self, reason: str = "stopped") -> None:
        """Ask the generation to stop, without waiting (it still publishes gen.done)."""
        if self.state is State.RUNNING and self.task is not None and not self.task.done():
            self.stop_reason = reason
            self.task.cancel()

    async def stop(self, reason: str = "stopped") -> None:
        """Cancel the generation and wait until it has published gen.done."""
        if self.task is None or self.task.done():
            return
        self.cancel(reason)
        await asyncio.gather(self.task, return_exceptions=True)

    def steer(self, instruction: str) -> bool:
        """Redirect the answer with ``instruction``: natively when the backend can,
        else by cutting it at a safe point and streaming a continuation."""
        if self.state is not State.RUNNING or self.continuation is None:
            return False
        self.stats.steered_at = time.monotonic()
        native = getattr(self.backend, "steer", None)
        streaming = self._segment is not None and not self._segment.done()
        if native is not None and streaming and self._native is None:
            self._native = instruction
            self._native_task = asyncio.create_task(self._steer_natively(native, instruction))
            return True
        self._restart(instruction)
        return True

    def _restart(self, instruction: str) -> None:
        self._native = None
        self._steer = instruction
        if self._segment is not None and not self._segment.done():
            self._segment.cancel()

    async def _steer_natively(
        self, native: Callable[[ChatRequest, str], Awaitable[bool]], instruction: str
    ) -> None:
        try:
            taken = await native(self.request, instruction)
        except Exception:
            log.exception("generation %s: native steer failed", self.id)
            taken = False
        if not taken and self._native == instruction and self.state is State.RUNNING:
            self._restart(instruction)

    async def run(self) -> None:
        error: FlintError | None = None
        try:
            reason = await self._run_in_slot()
        except asyncio.CancelledError:
            reason = self.stop_reason or "abandoned"
        except FlintError as exc:  # upstream failures, a full queue
            error, reason = exc, "error"
        except Exception:
            log.exception("generation %s failed", self.id)
            error, reason = InternalError(), "error"
        self._move(State.FINISHING)
        await self._finish(reason, error)

    def _start_relay(self) -> asyncio.Task[None]:
        if self._relay_task is None:
            self._relay_task = asyncio.create_task(self.relay.run())
        return self._relay_task

    async def _finish(self, reason: str, error: FlintError | None) -> None:
        # Runs even after cancellation, so the log always ends with gen.done
        # (watchers of a stopped or abandoned generation need to hear it).
        if self.relay.take_over():  # the sender is idle: send the rest from here
            await self.relay.flush()
        else:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(self._start_relay())
        if error is not None:
            await self.relay.emit_error(error)
        if self.on_ending is not None:
            try:
                await self.on_ending(self)
            except Exception:  # gen.done goes out whatever happens
                log.exception("generation %s: ending failed", self.id)
        await self.relay.emit(
            "gen.done", reason=reason, partial=reason != "stop", stats=self.stats.as_wire()
        )
        self._move(State.DONE)
        if self.on_finish is not None:
            await self.on_finish(self, reason)

    async def _run_in_slot(self) -> str:
        if self.queue is None:
            return await self._segments()
        if self._slot_taken is not None:  # start() took a free slot and began streaming
            try:
                return await self._segments()
            finally:
                self._give_back()
        queued = time.monotonic()
        async with self.queue.slot(self._queued):
            self.stats.queued_for = time.monotonic() - queued
            return await self._segments()

    def _queued(self, position: int) -> None:
        self.relay.push_event("gen.queued", position=position)
        self._start_relay()  # the page hears of the wait now

    def _on_wait(self, kind: str, position: int | None) -> None:
        # The backend's own waits: a local model loading (or, rarely, its queue).
        if kind == "loading":
            self.relay.push_event("gen.loading")
        elif position is not None:
            self._queued(position)

    async def _segments(self) -> str:
        """Stream, and stream a continuation after each steer."""
        segment = self._segment  # the first one, if start() began it
        while True:
            if segment is None:
                segment = self._segment = asyncio.create_task(self._stream_with_retries())
            self._start_relay()  # after the segment: its request goes out first
            try:
                finish = await segment
            except _RestartSteer:
                self._continue(self._steer or "")
                self._steer = None
                segment = None
                continue
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if self._steer is None or (current is not None and current.cancelling()):
                    raise
                self._continue(self._steer)
                self._steer = None
                segment = None
                continue
            self._feed_edits(None)
            return finish or "stop"

    def _continue(self, instruction: str) -> None:
        assert self.continuation is not None
        answer = "".join(self.answer)
        # Cut at the last point between edits (asked once, here, not per token).
        cut = len(answer) if self.edits is None else self._edits_base + self.edits.safe_chars
        kept = answer[:cut]
        files = self.edits.files if self.edits is not None else {}
        self.answer = [kept]
        self.answer_chars = len(kept)
        self._edits_base = cut  # the new edit stream starts here
        if self.new_edits is not None:
            self.edits = self.new_edits(files)  # an edit half-received is dropped here
        self.request = self.continuation(files, kept, instruction)
        self._announce_steer(instruction, "restart", kept, answer[cut:])

    def _announce_steer(self, instruction: str, mode: str, kept: str, discarded: str) -> None:
        self._await_continuation = True
        self.relay.restart_window()  # the continuation's first token is a first token too
        self.relay.push_event(
            "gen.steered",
            instruction=instruction,
            kept=_utf16_len(kept),
            discarded=_utf16_len(discarded),
            mode=mode,
        )

    async def _stream_with_retries(self) -> str | None:
        attempt = 0
        tokens_before = self.stats.tokens
        while True:
            try:
                return await self._stream_once()
            except InferenceError as exc:
                attempt += 1
                got_tokens = self.stats.tokens > tokens_before
                wait = None if got_tokens else self.retry.wait_for(attempt, exc)
                if wait is None:
                    raise
                log.info("generation %s: retry %d in %.2fs (%s)", self.id, attempt, wait, exc.code)
                self.relay.push_event(
                    "gen.retry", attempt=attempt, wait=round(wait, 3), error=protocol.cause(exc)
                )
                await asyncio.sleep(wait)

    async def _stream_once(self) -> str | None:
        finish: str | None = None
        stream = self.backend.stream(self.request, on_wait=self._on_wait)
        try:
            async for delta in stream:
                finish = self._on_delta(delta) or finish
                if delta.steer is not None:
                    self._on_native_steer(delta.steer)
        finally:
            # Closing the generator closes the upstream response right now,
            # also on cancellation, so the provider stops generating.
            await stream.aclose()  # type: ignore[attr-defined]
        return finish

    def _on_native_steer(self, outcome: str) -> None:
        instruction, self._native = self._native, None
        if instruction is None:
            return  # superseded by a restart-steer meanwhile
        if outcome == "native":  # the upstream goes on with the continuation itself
            self._announce_steer(instruction, "native", "".join(self.answer), "")
            return
        self._steer = instruction  # handed back: cut and continue
        raise _RestartSteer

    def _on_delta(self, delta: Delta) -> str | None:
        if delta.text:
            now = time.monotonic()
            if self.stats.first_token is None:
                self.stats.first_token = now
            if self._await_continuation and self.stats.steered_at is not None:
                self._await_continuation = False
                self.stats.steer_ttft = now - self.stats.steered_at
            self.stats.tokens += delta.tokens
            room = self.max_answer_chars - self.answer_chars
            text = delta.text if len(delta.text) <= room else delta.text[: max(room, 0)]
            self.answer.append(text)
            self.answer_chars += len(text)
            self.relay.push_text(text, delta.tokens)
            self._feed_edits(text)
            if len(text) < len(delta.text):
                raise AnswerTooLargeError(self.max_answer_chars)
        if delta.usage is not None:
            self.stats.prompt_tokens = delta.usage.prompt_tokens
            self.stats.completion_tokens = delta.usage.completion_tokens
            self.stats.accepted_prediction_tokens = delta.usage.accepted_prediction_tokens
            self.stats.rejected_prediction_tokens = delta.usage.rejected_prediction_tokens
        return delta.finish_reason

    def _feed_edits(self, text: str | None) -> None:
        if self.edits is None:
            return
        events = self.edits.feed(text) if text is not None else self.edits.finish()
        for ev in events:
            event_type, fields = protocol.edit_event(ev)
            self.relay.push_event(event_type, **fields)


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
