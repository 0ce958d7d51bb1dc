"""The Responses API in WebSocket mode: one upstream socket per playground session.

``FLINT_API=responses`` selects this backend. It talks to ``FLINT_BASE_URL`` with the
official SDK (``AsyncOpenAI.responses.connect()``, the ``openai[realtime]`` extra): the
URL is the HTTP base with ``http(s)`` -> ``ws(s)`` and ``/responses`` appended, and the
key goes in ``Authorization: Bearer`` on the upgrade, to that host only.

What a session keeps, across turns (keyed by ``ChatRequest.session``, the playground):

* one open socket. A turn is one ``response.create`` frame on it: no TCP/TLS
  handshake, no HTTP request to build, so a turn reaches the model sooner.
* the id of the socket's most recent response. The connection remembers only that one,
  so a follow-up turn sends ``previous_response_id`` plus the new input only; on a new
  socket, or after ``previous_response_not_found``, it sends the full input (the
  session's conversation, kept here, trimmed to ``history_tokens``), transparently.

What the socket cannot do, and how it is handled:

* one response in flight per connection: a session's turns take a lock.
* no cancel event: Stop (or a restart-steer) closes the socket, which ends the response
  at once; the next turn finds a fresh socket, opened in the background meanwhile.
* connections are capped at 60 minutes (``connection_limit``): a socket is replaced
  before a turn once it is that old, and the server's
  ``websocket_connection_limit_reached`` is answered by reconnecting and resending.
* the server may close an idle socket, or a send may race its close: before the first
  event of a turn that is handled by reconnecting and resending, unseen by the user.
  Pings (the server's and our keepalive) are answered by the websockets library.
* an upgrade refused with HTTP 404 or 426 (a server without WebSocket mode): this
  backend falls back to HTTP streaming (the Chat Completions backend) for good, said
  once in the log.

Native steering: ``steer()`` sends ``response.steer`` for the response in flight; the
server answers ``response.steer.accepted``, ends the response with
``response.incomplete`` (``reason: "steered"``) and starts the successor with
``response.created`` — the stream yields ``Delta(steer="native")`` there and goes on
with the successor's text. ``response.steer.failed`` (or a model that cannot steer:
then native steering is switched off for this backend) yields
``Delta(steer="failed")`` and the generation cuts and continues as with any backend.

Hot path: the SDK opens the socket (URL, key, headers) and sends ``response.steer``;
a turn's ``response.create`` and its events go straight through the websockets
connection under it (``_ws``): orjson bytes sent as a text frame, events read as bytes
and parsed with orjson (like the SSE parser of ``openai_compatible``). The SDK's typed
path costs ~100 µs per event, and even its raw one adds a send queue (for its own
reconnection, which this backend does not use: it reconnects itself) and per-event
bookkeeping, ~50 µs a turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any

import openai
import orjson

from playground.inference.base import (
    BackendInfo,
    ChatRequest,
    Delta,
    InferenceError,
    Message,
    OnWait,
    Usage,
)
from playground.inference.openai_compatible import (
    OpenAICompatibleBackend,
    _retry_after,
    sdk_client,
)

log = logging.getLogger(__name__)

Item = dict[str, Any]

# Error codes that the backend answers itself, before the first event of a turn.
_NOT_FOUND = "previous_response_not_found"
_LIMIT = "websocket_connection_limit_reached"
# The upstream's client event (Responses API), not a message of Flint's browser
# protocol (those are built in playground/protocol/ only).
_CREATE = "response.create"
_CODE = re.compile(r"[a-z0-9_.]{1,64}")  # an error code we may repeat to the user
_RESEND_ATTEMPTS = 3  # transparent resends per turn (reconnect, full input) at most
_STEER_WAIT = 5.0  # s to wait, after the target ended, for a pending steer's outcome
_STEER_NOTE = (
    "\n\n(The user interrupted your answer to say this. Edits you finished are already "
    "applied. Continue from where you stopped.)"
)


class _Resend(Exception):
    """Send the turn again: on a new socket (``reconnect``), with the full input."""

    def __init__(self, reconnect: bool) -> None:
        self.reconnect = reconnect


class _Turn:
    """The response in flight on a session's socket (for ``steer``)."""

    __slots__ = ("conn", "done", "response_id", "steer_input", "steer_sent", "steers")

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.response_id: str | None = None  # after its response.created
        self.steer_sent = False
        self.steer_input = ""  # the input of the steer in flight
        self.steers: list[tuple[int, str]] = []  # (len(output) at the commit, input)
        self.done = False  # the response in flight has ended (no need to close to stop it)


class _Session:
    __slots__ = ("conn", "history", "key", "last_id", "lock", "opened", "turn", "used", "warm")

    def __init__(self, key: str | None) -> None:
        self.key = key
        self.conn: Any = None  # openai AsyncResponsesConnection
        self.opened = 0.0
        self.last_id: str | None = None  # the socket's most recent response
        self.history: list[Item] = []  # the conversation the upstream holds
        self.lock = asyncio.Lock()
        self.used = time.monotonic()
        self.turn: _Turn | None = None
        self.warm: asyncio.Task[None] | None = None  # a reconnect in the background


class ResponsesWebSocketBackend:
    """Streams Responses API answers over one kept WebSocket per playground session."""

    max_concurrent: int | None = None
    context_tokens: int | None = None

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str = "",
        name: str = "openai-responses",
        edit_format: str = "search_replace",
        timeout: float = 60.0,
        connect_timeout: float = 5.0,
        max_tokens: int | None = None,
        extra_body: dict[str, Any] | None = None,
        prediction: bool = False,
        steer: bool = True,
        store: bool = False,
        connection_limit: float = 3600.0,
        idle_timeout: float = 600.0,
        max_sessions: int = 1024,
        history_tokens: int = 8000,
    ) -> None:
        self.info = BackendInfo(name=name, model=model, edit_format=edit_format)
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._max_tokens = max_tokens
        self._extra_body = extra_body or {}
        self._steer = steer
        self._store = store
        # Replace a socket a little before the server's cap, so no turn meets it.
        self._max_age = max(0.0, connection_limit - min(60.0, connection_limit / 10))
        self._idle_timeout = idle_timeout
        self._max_sessions = max_sessions
        self._history_chars = history_tokens * 4
        self._client = sdk_client(base_url, api_key, timeout, connect_timeout)
        # The same server over HTTP, for a server that refuses the upgrade.
        self._http_options: dict[str, Any] = {
            "base_url": base_url,
            "model": model,
            "api_key": api_key,
            "name": name,
            "edit_format": edit_format,
            "timeout": timeout,
            "connect_timeout": connect_timeout,
            "max_tokens": max_tokens,
            "extra_body": extra_body,
            "prediction": prediction,
        }
        self.fallback: OpenAICompatibleBackend | None = None
        self._sessions: OrderedDict[str | None, _Session] = OrderedDict()
        self._background: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ lifecycle

    async def aclose(self) -> None:
        for task in list(self._background):
            task.cancel()
        for session in list(self._sessions.values()):
            await self._drop(session, warm=False)
        self._sessions.clear()
        if self.fallback is not None:
            await self.fallback.aclose()
        await self._client.close()

    def _session(self, key: str | None) -> _Session:
        now = time.monotonic()
        session = self._sessions.get(key)
        if session is None:
            session = self._sessions[key] = _Session(key)
        self._sessions.move_to_end(key)
        session.used = now
        # Close the least recently used sessions that went idle (a few per turn: O(1)).
        for _ in range(2):
            oldest_key, oldest = next(iter(self._sessions.items()))
            idle = now - oldest.used > self._idle_timeout
            if oldest is session or not (idle or len(self._sessions) > self._max_sessions):
                break
            if oldest.lock.locked():
                break
            del self._sessions[oldest_key]
            self._spawn(self._drop(oldest, warm=False))
        return session

    def _spawn(self, coro: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        task.add_done_callback(_ignore_result)
        return task

    # ------------------------------------------------------------------ the socket

    async def _connect(self, session: _Session) -> None:
        options: Any = {"max_queue": 4096, "open_timeout": self._connect_timeout}
        try:
            async with asyncio.timeout(self._connect_timeout):
                conn = await self._client.responses.connect(
                    websocket_connection_options=options
                ).enter()
        except TimeoutError:
            raise InferenceError(
                "upstream.timeout", "The model server did not accept the connection in time.", True
            ) from None
        except Exception as exc:
            if _refused_upgrade(exc):
                raise _FallBack from None
            raise _upgrade_error(exc, self.info.model) from None
        session.conn = conn
        session.opened = time.monotonic()
        session.last_id = None  # a new socket remembers no response

    async def _ready(self, session: _Session) -> Any:
        """The session's open socket: the background reconnect's, or a new one."""
        if session.warm is not None:
            warm, session.warm = session.warm, None
            with contextlib.suppress(Exception):
                await warm
        conn = session.conn
        if conn is not None and (
            not _is_open(conn) or time.monotonic() - session.opened > self._max_age
        ):
            await self._drop(session, warm=False)
            conn = None
        if conn is None:
            await self._connect(session)
            conn = session.conn
        return conn

    async def _drop(self, session: _Session, *, warm: bool) -> None:
        """Close the session's socket (ending any response on it); reopen it in the
        background when ``warm``, so the next turn does not wait for a handshake."""
        conn, session.conn, session.last_id = session.conn, None, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(conn.close())
        if warm and self._sessions.get(session.key) is session:
            session.warm = self._spawn(self._connect(session))

    # ------------------------------------------------------------------ streaming

    async def stream(
        self, request: ChatRequest, *, on_wait: OnWait | None = None
    ) -> AsyncIterator[Delta]:
        if self.fallback is not None:
            async for delta in self.fallback.stream(request, on_wait=on_wait):
                yield delta
            return
        session = self._session(request.session)
        async with session.lock:
            try:
                async for delta in self._turn(session, request):
                    yield delta
            except _FallBack:
                pass
            else:
                return
        assert self.fallback is not None
        async for delta in self.fallback.stream(request, on_wait=on_wait):
            yield delta

    async def _turn(self, session: _Session, request: ChatRequest) -> AsyncIterator[Delta]:
        instructions, items = _split(request.messages)
        history = session.history
        if len(items) > len(history) and items[: len(history)] == history:
            new, base = items[len(history) :], history  # extends the conversation
        elif len(items) == 1:
            new, base = items, history  # a follow-up turn of the session
        else:
            new, base = items, []  # a conversation of its own
        body: dict[str, Any] = {
            "type": _CREATE,
            "model": self.info.model,
            "instructions": instructions,
            "store": self._store,
            **self._extra_body,
        }
        max_tokens = request.max_tokens or self._max_tokens
        if max_tokens:
            body["max_output_tokens"] = max_tokens
        if request.temperature is not None:
            body["temperature"] = request.temperature
        turn: _Turn | None = None
        output: list[str] = []
        try:
            for attempt in range(_RESEND_ATTEMPTS + 1):
                try:
                    conn = await self._ready(session)
                except _FallBack:
                    self._fall_back()
                    raise
                if session.last_id is not None and base is history:
                    body["previous_response_id"] = session.last_id
                    body["input"] = new
                else:
                    body.pop("previous_response_id", None)
                    body["input"] = _trim(base, self._history_chars) + new
                turn = session.turn = _Turn(conn)
                try:
                    await _ws(conn).send(orjson.dumps(body), text=True)
                    async for delta in self._read(session, turn, output):
                        yield delta
                except _Resend as resend:
                    if output or attempt == _RESEND_ATTEMPTS:
                        raise _interrupted() from None
                    if resend.reconnect:
                        await self._drop(session, warm=False)
                    session.last_id = None
                    continue
                except _closed_errors() as exc:
                    if output or turn.response_id is not None or attempt == _RESEND_ATTEMPTS:
                        raise _interrupted() from exc
                    await self._drop(session, warm=False)  # closed idle, or as we sent
                    continue
                # Finished: the upstream now holds this exchange (natively steered
                # continuations included), which a new socket must be sent in full.
                session.history = [*base, *new, *_exchange(output, turn.steers)]
                return
        finally:
            if turn is not None:
                session.turn = None
                if not turn.done:
                    # Stopped, cancelled or broken mid-response: closing the socket is
                    # the only way to end the response upstream.
                    await self._drop(session, warm=True)

    async def _read(
        self, session: _Session, turn: _Turn, output: list[str]
    ) -> AsyncIterator[Delta]:
        """Deltas of the response in flight, until it (and any native steer) ends.

        Text events already buffered by the socket are joined into one Delta (one
        per network read, as the SSE parser does): at 1000+ tokens/s that halves the
        work per token downstream.
        """
        recv = _ws(turn.conn).recv
        buffered = _buffer_probe(turn.conn)
        loads = _loads
        steered = False  # the target ended as steered; the successor's created follows
        pending: dict[str, Any] | None = None
        while True:
            if pending is not None:
                event, pending = pending, None
            elif buffered():
                event = loads(await recv(decode=False))
            else:
                timeout = _STEER_WAIT if turn.done else self._timeout
                try:
                    async with asyncio.timeout(timeout):
                        raw = await recv(decode=False)
                except TimeoutError:
                    if turn.done:  # a steer that never got its answer: we cut ourselves
                        turn.steer_sent = False
                        yield Delta("", 0, steer="failed")
                        return
                    raise InferenceError(
                        "upstream.timeout",
                        "The model server stopped sending mid-answer and timed out.",
                        retryable=True,
                    ) from None
                event = loads(raw)
            kind = event.get("type")
            if kind == "response.output_text.delta":
                texts = [event.get("delta") or ""]
                while buffered():
                    nxt = loads(await recv(decode=False))
                    if nxt.get("type") != "response.output_text.delta":
                        pending = nxt
                        break
                    texts.append(nxt.get("delta") or "")
                text = "".join(texts)
                if text:
                    output.append(text)
                    yield Delta(text, len(texts))
            elif kind == "response.created":
                turn.response_id = (event.get("response") or {}).get("id")
                turn.done = False
                if steered:
                    steered = turn.steer_sent = False
                    turn.steers.append((len(output), turn.steer_input))
                    yield Delta("", 0, steer="native")
            elif kind in ("response.completed", "response.incomplete"):
                response = event.get("response") or {}
                session.last_id = response.get("id")
                turn.done = True
                reason = (response.get("incomplete_details") or {}).get("reason")
                if reason == "steered":
                    steered = True
                    continue
                if turn.steer_sent:
                    continue  # an accepted steer may still start a successor
                finish = "stop" if kind == "response.completed" else _finish(reason)
                yield Delta("", 0, finish_reason=finish, usage=_usage(response.get("usage")))
                return
            elif kind == "response.steer.failed":
                turn.steer_sent = False
                code = (event.get("error") or {}).get("code")
                if code == "steering_not_supported" and self._steer:
                    self._steer = False
                    log.info("%s: the model cannot steer; steering by restart", self.info.name)
                yield Delta("", 0, steer="failed")
                if turn.done:
                    return
            elif kind == "response.failed":
                response = event.get("response") or {}
                turn.done = True
                session.last_id = None
                raise _failed_error(response.get("error") or {})
            elif kind == "error":
                error = event.get("error") or {}
                code = error.get("code")
                if turn.response_id is None and not output:
                    turn.done = True
                    if code == _NOT_FOUND:
                        raise _Resend(reconnect=False)
                    if code == _LIMIT:
                        raise _Resend(reconnect=True)
                raise _error_frame(event.get("status"), error, self.info.model)
            # Others (response.in_progress, output_item/content_part added and done,
            # output_text.done, response.steer.accepted: the successor's
            # response.created is the commit point) carry nothing we need.

    # ------------------------------------------------------------------ steering

    async def steer(self, request: ChatRequest, instruction: str) -> bool:
        """Send ``response.steer`` for the session's response in flight; see the module doc."""
        if not self._steer or self.fallback is not None:
            return False
        session = self._sessions.get(request.session)
        turn = session.turn if session is not None else None
        if turn is None or turn.response_id is None or turn.done or turn.steer_sent:
            return False
        turn.steer_sent = True
        turn.steer_input = instruction + _STEER_NOTE
        try:
            await turn.conn.response.steer(
                input=turn.steer_input, previous_response_id=turn.response_id
            )
        except Exception:
            turn.steer_sent = False
            return False
        return True

    # ------------------------------------------------------------------ fallback

    def _fall_back(self) -> None:
        if self.fallback is None:
            log.warning(
                "%s: the model server refused the WebSocket upgrade; streaming over HTTP"
                " (Chat Completions) instead",
                self.info.name,
            )
            self.fallback = OpenAICompatibleBackend(**self._http_options)


class _FallBack(Exception):
    """The upgrade was refused: stream this request, and all later ones, over HTTP."""


# Events that carry nothing a turn needs, told by how they begin (the type comes first
# in the API's events and the scripted server's): not parsed. in_progress repeats the
# whole response (instructions, with the files, included); the *.done ones repeat the
# answer. An event spelled otherwise is parsed, and ignored by its type, as before.
_UNREAD = (
    b'{"type":"response.in_progress"',
    b'{"type":"response.output_item.',
    b'{"type":"response.content_part.',
    b'{"type":"response.output_text.done"',
)
_NOTHING: dict[str, Any] = {"type": None}  # read only


def _loads(raw: bytes) -> Any:
    return _NOTHING if raw.startswith(_UNREAD) else orjson.loads(raw)


def _ignore_result(task: asyncio.Future[None]) -> None:
    if not task.cancelled():
        task.exception()


def _ws(conn: Any) -> Any:
    """The websockets ClientConnection under the SDK's connection (the openai[realtime]
    extra pins websockets < 16)."""
    return conn._connection


def _buffer_probe(conn: Any) -> Any:
    """A cheap "is a frame already buffered?" for the SDK connection's websockets socket
    (websockets' asyncio Assembler; the openai[realtime] extra pins websockets < 16)."""
    frames = getattr(getattr(conn._connection, "recv_messages", None), "frames", None)
    if frames is None:
        return lambda: False
    return lambda: len(frames) > 0


def _is_open(conn: Any) -> bool:
    from websockets.protocol import State

    return bool(conn._connection.state is State.OPEN)


def _closed_errors() -> tuple[type[BaseException], ...]:
    from websockets.exceptions import ConnectionClosed

    return (ConnectionClosed, openai.WebSocketConnectionClosedError)


def _split(messages: tuple[Message, ...]) -> tuple[str, list[Item]]:
    """System messages become ``instructions`` (sent every turn: they carry the files, and
    the server does not carry instructions over); the others are the input items."""
    instructions = "\n\n".join(m.content for m in messages if m.role == "system")
    items = [{"role": m.role, "content": m.content} for m in messages if m.role != "system"]
    return instructions, items


def _exchange(output: list[str], steers: list[tuple[int, str]]) -> list[Item]:
    """The answer as items: the assistant's text, split where each native steer's input
    went in (the server holds them in that order)."""
    items: list[Item] = []
    start = 0
    for at, steer_input in steers:
        items.append({"role": "assistant", "content": "".join(output[start:at])})
        items.append({"role": "user", "content": steer_input})
        start = at
    items.append({"role": "assistant", "content": "".join(output[start:])})
    return items


def _trim(history: list[Item], chars: int) -> list[Item]:
    """The most recent whole exchanges of ``history`` within ``chars``."""
    kept: list[Item] = []
    for item in reversed(history):
        chars -= len(item["content"])
        if chars < 0:
            break
        kept.append(item)
    kept.reverse()
    while kept and kept[0]["role"] != "user":
        kept.pop(0)  # start with the user's message
    return kept


def _finish(reason: str | None) -> str:
    return {"max_output_tokens": "length", "content_filter": "content_filter"}.get(
        reason or "", "stop"
    )


def _usage(raw: Any) -> Usage | None:
    if not raw:
        return None
    return Usage(
        prompt_tokens=int(raw.get("input_tokens") or 0),
        completion_tokens=int(raw.get("output_tokens") or 0),
    )


def _interrupted() -> InferenceError:
    return InferenceError(
        "upstream.interrupted", "The connection to the model server broke mid-answer.", True
    )


def _refused_upgrade(exc: Exception) -> bool:
    """HTTP 404 or 426 to the upgrade: a server without WebSocket mode."""
    from websockets.exceptions import InvalidStatus

    return isinstance(exc, InvalidStatus) and exc.response.status_code in (404, 426)


def _upgrade_error(exc: Exception, model: str) -> InferenceError:
    """A failed WebSocket upgrade, in the chat backend's words (never the key)."""
    from websockets.exceptions import InvalidStatus

    if isinstance(exc, InvalidStatus):
        return _status_error(exc.response.status_code, model, exc.response.headers)
    if isinstance(exc, OSError):
        return InferenceError(
            "upstream.unreachable",
            "Could not connect to the model server. Is FLINT_BASE_URL right and the server up?",
            retryable=True,
        )
    return InferenceError(
        "upstream.unreachable",
        "Could not open a WebSocket to the model server.",
        retryable=True,
    )


def _status_error(status: int, model: str, headers: Any = None) -> InferenceError:
    if status in (401, 403):
        return InferenceError(
            "upstream.auth",
            f"The model server refused the API key (HTTP {status}). Check FLINT_API_KEY.",
            retryable=False,
            status=status,
        )
    if status == 404:
        return InferenceError(
            "upstream.model_not_found",
            f"The model server does not know the model {model!r} (HTTP 404). Check FLINT_MODEL.",
            retryable=False,
            status=status,
        )
    if status == 429:
        wait = _retry_after(headers)
        hint = f" Try again in {wait:.0f} s." if wait is not None else ""
        return InferenceError(
            "upstream.rate_limited",
            f"The model server is rate limiting requests (HTTP 429).{hint}",
            retryable=True,
            retry_after=wait,
            status=status,
        )
    if status >= 500:
        return InferenceError(
            "upstream.server_error",
            f"The model server failed (HTTP {status}).",
            retryable=True,
            status=status,
        )
    return InferenceError(
        "upstream.bad_request",
        f"The model server rejected the request (HTTP {status}).",
        retryable=False,
        status=status,
    )


def _error_frame(status: Any, error: dict[str, Any], model: str) -> InferenceError:
    """An ``error`` frame: by its status, else by its code. Our words, not the server's
    (its message may quote what it was sent)."""
    code = error.get("code") or ""
    if not isinstance(status, int):
        status = {
            "invalid_api_key": 401,
            "model_not_found": 404,
            "rate_limit_exceeded": 429,
            "server_error": 500,
        }.get(code, 400)
    if status == 400 and code == "model_not_found":
        status = 404
    if status in (401, 403, 404, 429) or status >= 500 or not _CODE.fullmatch(code):
        return _status_error(status, model)
    return InferenceError(
        "upstream.bad_request",
        f"The model server rejected the request (HTTP {status}, {code}).",
        retryable=False,
        status=status,
    )


def _failed_error(error: dict[str, Any]) -> InferenceError:
    code = error.get("code") or "server_error"
    if code == "rate_limit_exceeded":
        return InferenceError(
            "upstream.rate_limited", "The model server is rate limiting requests.", True
        )
    return InferenceError(
        "upstream.server_error", f"The model server failed the response ({code}).", True
    )
