"""A scripted Responses API server in WebSocket mode: a real WebSocket on loopback.

The WebSocket twin of ``playground.testing.upstream`` (the Chat Completions SSE server), for
the tests and the benchmark of ``playground.inference.responses_ws``. It speaks the protocol
as the OpenAI docs ("WebSocket mode") describe it:

* ``GET /v1/responses`` with ``Authorization: Bearer KEY`` upgrades to a WebSocket (a wrong
  key: HTTP 401 before the upgrade; ``refuse_upgrade=404|426``: that status, no upgrade).
* Client frames: ``{"type": "response.create", ...the POST /v1/responses body...}`` and
  ``{"type": "response.steer", "previous_response_id": ID, "input": ...}``.
* Server frames: one JSON event per text frame, each with ``sequence_number`` (counted per
  response): ``response.created``, ``response.in_progress``, ``response.output_item.added``,
  ``response.content_part.added``, ``response.output_text.delta`` ...,
  ``response.output_text.done``, ``response.content_part.done``,
  ``response.output_item.done``, then ``response.completed`` (or ``response.incomplete`` /
  ``response.failed``). Errors: ``{"type": "error", "status": 400, "error": {"type", "code",
  "message", "param"}}``.
* One response in flight per connection (a second ``response.create`` meanwhile: error
  ``response_in_progress``). The connection remembers only its most recent response:
  ``previous_response_id`` naming any other gets error ``previous_response_not_found``.
* Connections are capped at ``connection_limit`` seconds (60 minutes by default, seconds in
  tests): a ``response.create`` after that gets error ``websocket_connection_limit_reached``
  and the server closes the socket.
* Steering (``steering=True``): ``response.steer`` naming the in-flight response (after its
  ``response.created``) -> ``response.steer.accepted``; at the next tick the target ends with
  ``response.incomplete`` (``incomplete_details.reason: "steered"``) and a successor's
  ``response.created`` follows, streaming the next scripted reply. ``steering=False``, or a
  target that is not in flight: ``response.steer.failed`` handing the input back.
* ``ping_interval``: the server pings the client that often (aiohttp heartbeat) and closes a
  client that does not answer.
* There is no cancel event: a client cancels by closing the socket (recorded as
  ``client_disconnected``; the response stops at once).

Replies are the upstream's ``Reply`` objects (``tokens``/``text``/``lorem``/``echo``, ``rate``,
``ttft``, ``chunk``, ``usage``, ``finish_reason``, ``fail``), consumed FIFO, one per response
(a steered successor takes the next one). Fail modes here: ``status`` (an error frame with
that status), ``close`` (close the socket on receipt), ``drop`` (close after ``after``
tokens), ``error_event`` (``response.failed`` after ``after`` tokens), ``stall``/``hang``
(send nothing for ``seconds``). ``finish_reason: "length"`` ends with ``response.incomplete``
(``max_output_tokens``).

Records (times are ``time.monotonic()``, one clock for every process on Linux):
``requests`` (RequestRecord, ``body`` = the client event, ``peer`` = its connection),
``streams`` (StreamRecord, one per response, successors included), ``connections``
(ConnectionRecord). ``close_all()`` closes every connection from the server side.

Standalone: ``python -m playground.testing.responses_ws --port 0`` prints the base URL
(``http://127.0.0.1:PORT/v1``) once it listens; HTTP control API on the same port:
``POST /_script``, ``POST /_reset``, ``GET|POST /_config``, ``GET /_requests``,
``GET /_streams`` (``?writes=1``), ``GET /_connections``, ``POST /_close_all``, ``GET /_health``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import dataclasses
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Self

import orjson
from aiohttp import WSMsgType, web

from playground.testing.upstream import (
    Reply,
    RequestRecord,
    StreamRecord,
    _error_body,
    _known,
    tokenize,
)

__all__ = ["ConnectionRecord", "ScriptedResponsesUpstream"]

_MAX_EVENTS = 4096  # delta frames per tick at most (unpaced replies, or running behind)


@dataclass
class ConnectionRecord:
    id: int
    t_open: float
    peer: str | None
    headers: dict[str, str]
    t_close: float | None = None
    closed_by: str | None = None  # "client" | "server"
    close_code: int | None = None
    responses: int = 0

    @property
    def api_key(self) -> str | None:
        auth = self.headers.get("authorization", "")
        return auth[7:] if auth.lower().startswith("bearer ") else None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class _Config:
    rate: float = 0.0
    ttft: float = 0.0
    chunk: int = 1
    tick: float = 0.005
    default: Reply = field(default_factory=lambda: Reply(echo=True))
    api_key: str | None = None
    connection_limit: float = 3600.0
    ping_interval: float | None = None
    steering: bool = True
    refuse_upgrade: int | None = None  # 404 / 426: answer the upgrade with that status

    def update(self, data: dict[str, Any]) -> None:
        for k, v in _known(_Config, data).items():
            if k == "default":
                v = Reply.coerce(v)
            elif k == "chunk" and int(v) < 1:
                raise ValueError("chunk must be >= 1")
            setattr(self, k, v)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _input_text(value: Any) -> str:
    """The text of the last user message in a Responses ``input`` (a string or items)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        for item in reversed(value):
            if isinstance(item, dict) and item.get("role", "user") == "user":
                content = item.get("content")
                if isinstance(content, str):
                    return content
                if isinstance(content, list):
                    return "".join(
                        p.get("text", "")
                        for p in content
                        if isinstance(p, dict) and p.get("type") in ("input_text", "text")
                    )
    return ""


def _input_tokens(body: dict[str, Any]) -> int:
    count = len(tokenize(str(body.get("instructions") or "")))
    value = body.get("input")
    if isinstance(value, str):
        return count + len(tokenize(value))
    for item in value if isinstance(value, list) else ():
        if isinstance(item, dict):
            content = item.get("content")
            text = content if isinstance(content, str) else _input_text([item])
            count += len(tokenize(text))
    return count


class _Conn:
    """One client connection: its socket, its last response, the response in flight."""

    def __init__(self, ws: web.WebSocketResponse, record: ConnectionRecord) -> None:
        self.ws = ws
        self.record = record
        self.last_response_id: str | None = None
        self.task: asyncio.Task[None] | None = None
        self.current_id: str | None = None  # in flight, after its response.created
        self.steer: dict[str, Any] | None = None  # accepted, not yet applied
        self.seq = 0

    async def send(self, event: dict[str, Any]) -> None:
        event["sequence_number"] = self.seq
        self.seq += 1
        await self.ws.send_str(orjson.dumps(event).decode())


class ScriptedResponsesUpstream:
    """The scripted Responses WebSocket server; thread-safe like ``ScriptedUpstream``."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        rate: float = 0.0,
        ttft: float = 0.0,
        chunk: int = 1,
        tick: float = 0.005,
        default: Reply | dict[str, Any] | str | None = None,
        api_key: str | None = None,
        connection_limit: float = 3600.0,
        ping_interval: float | None = None,
        steering: bool = True,
    ) -> None:
        self.host = host
        self.port = port
        self.config = _Config(
            rate=rate,
            ttft=ttft,
            chunk=chunk,
            tick=tick,
            default=Reply.coerce(default) if default is not None else Reply(echo=True),
            api_key=api_key,
            connection_limit=connection_limit,
            ping_interval=ping_interval,
            steering=steering,
        )
        self._lock = threading.Lock()
        self._queue: collections.deque[Reply] = collections.deque()
        self._requests: list[RequestRecord] = []
        self._streams: list[StreamRecord] = []
        self._connections: list[ConnectionRecord] = []
        self._open: set[_Conn] = set()
        self._active = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    # ----------------------------------------------------------------- lifecycle

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        if self._thread is not None:
            raise RuntimeError("already started")
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self.start_async())
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._thread = threading.Thread(target=run, name="scripted-responses-ws", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self.stop_async(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        self._thread = None
        self._loop = None

    async def start_async(self) -> None:
        self._loop = asyncio.get_running_loop()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/v1/responses", self._upgrade)
        app.router.add_get("/responses", self._upgrade)
        app.router.add_post("/_script", self._ctl_script)
        app.router.add_post("/_reset", self._ctl_reset)
        app.router.add_route("*", "/_config", self._ctl_config)
        app.router.add_get("/_requests", self._ctl_requests)
        app.router.add_get("/_streams", self._ctl_streams)
        app.router.add_get("/_connections", self._ctl_connections)
        app.router.add_post("/_close_all", self._ctl_close_all)
        app.router.add_get("/_health", self._ctl_health)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        if self.port == 0 and server is not None:
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def stop_async(self) -> None:
        await self.close_all_async()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _call(self, coro_fn: Callable[[], Any], timeout: float = 10) -> Any:
        loop = self._loop
        if loop is None:
            raise RuntimeError("not started")
        return asyncio.run_coroutine_threadsafe(coro_fn(), loop).result(timeout)

    # ----------------------------------------------------------------- scripting

    def script(self, *replies: Reply | dict[str, Any] | str) -> int:
        items = [Reply.coerce(r) for r in replies]
        with self._lock:
            self._queue.extend(items)
            return len(self._queue)

    def configure(self, **changes: Any) -> dict[str, Any]:
        with self._lock:
            self.config.update(changes)
            return self.config.to_dict()

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self._requests.clear()
            self._streams.clear()
            self._connections.clear()

    def forget(self) -> None:
        """Make every open connection forget its most recent response (as after a server
        restart behind the same socket): the next previous_response_id is not found."""
        for conn in list(self._open):
            conn.last_response_id = None

    def close_all(self) -> None:
        """Close every open connection from the server side (code 1001, going away)."""
        self._call(self.close_all_async)

    async def close_all_async(self, code: int = 1001) -> None:
        for conn in list(self._open):
            conn.record.closed_by = conn.record.closed_by or "server"
            with contextlib.suppress(Exception):
                await conn.ws.close(code=code, message=b"server closing")

    # ----------------------------------------------------------------- observing

    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._requests)

    @property
    def streams(self) -> list[StreamRecord]:
        with self._lock:
            return [s._snapshot() for s in self._streams]

    @property
    def connections(self) -> list[ConnectionRecord]:
        with self._lock:
            return [dataclasses.replace(c) for c in self._connections]

    @property
    def open_connections(self) -> int:
        return len(self._open)

    @property
    def idle(self) -> bool:
        with self._lock:
            return self._active == 0 and all(s.done for s in self._streams)

    def wait_for(self, pred: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not pred():
            if time.monotonic() > deadline:
                raise TimeoutError("condition not met in time")
            time.sleep(0.002)

    async def wait_for_async(self, pred: Callable[[], bool], limit: float = 5.0) -> None:
        """Await until ``pred()`` holds (set from the server's thread), for ``limit`` s."""
        deadline = time.monotonic() + limit
        while not pred():
            if time.monotonic() > deadline:
                raise TimeoutError("condition not met in time")
            await asyncio.sleep(0.002)

    # ----------------------------------------------------------------- the socket

    async def _upgrade(self, request: web.Request) -> web.StreamResponse:
        headers = {k.lower(): v for k, v in request.headers.items()}
        key = self.config.api_key
        auth = headers.get("authorization", "")
        if key is not None and auth != f"Bearer {key}":
            return _json_response(401, _error_body(401))
        if self.config.refuse_upgrade:
            status = self.config.refuse_upgrade
            return _json_response(status, _error_body(status, "WebSocket mode is not available."))
        ws = web.WebSocketResponse(heartbeat=self.config.ping_interval, max_msg_size=0)
        await ws.prepare(request)
        transport = request.transport
        peer = transport.get_extra_info("peername") if transport is not None else None
        with self._lock:
            record = ConnectionRecord(
                id=len(self._connections),
                t_open=time.monotonic(),
                peer=f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else None,
                headers=headers,
            )
            self._connections.append(record)
        conn = _Conn(ws, record)
        self._open.add(conn)
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                await self._on_message(conn, msg.data)
        finally:
            self._open.discard(conn)
            if conn.task is not None and not conn.task.done():
                conn.task.cancel()
                with contextlib.suppress(BaseException):
                    await conn.task
            record.t_close = time.monotonic()
            record.closed_by = record.closed_by or "client"
            record.close_code = ws.close_code
        return ws

    async def _on_message(self, conn: _Conn, data: str) -> None:
        t = time.monotonic()
        try:
            body = orjson.loads(data)
        except orjson.JSONDecodeError:
            await self._error(conn, 400, "invalid_json", "The frame is not JSON.")
            return
        with self._lock:
            rec = RequestRecord(
                id=len(self._requests),
                t=t,
                method="WS",
                path="/v1/responses",
                query="",
                headers=conn.record.headers,
                body=body,
                peer=conn.record.peer,
            )
            self._requests.append(rec)
        kind = body.get("type") if isinstance(body, dict) else None
        if kind == "response.create":
            await self._create(conn, body, rec)
        elif kind == "response.steer":
            await self._steer(conn, body)
        else:
            await self._error(conn, 400, "unknown_event_type", f"Unknown event type {kind!r}.")

    async def _error(
        self, conn: _Conn, status: int, code: str | None, message: str | None = None, **extra: Any
    ) -> None:
        err = _error_body(status, message, code=code)["error"]
        err.update(extra)
        await conn.send({"type": "error", "status": status, "error": err})

    async def _create(self, conn: _Conn, body: dict[str, Any], rec: RequestRecord) -> None:
        if time.monotonic() - conn.record.t_open > self.config.connection_limit:
            await self._error(
                conn,
                400,
                "websocket_connection_limit_reached",
                "Responses websocket connection limit reached (60 minutes). Create a new"
                " websocket connection to continue.",
            )
            conn.record.closed_by = "server"
            await conn.ws.close(code=1000, message=b"connection limit reached")
            return
        if conn.task is not None and not conn.task.done():
            await self._error(conn, 400, "response_in_progress", "A response is in progress.")
            return
        previous = body.get("previous_response_id")
        if previous is not None and previous != conn.last_response_id:
            await self._error(
                conn,
                400,
                "previous_response_not_found",
                f"Previous response with id '{previous}' not found.",
                param="previous_response_id",
            )
            return
        with self._lock:
            reply = self._queue.popleft() if self._queue else self.config.default
        conn.record.responses += 1
        conn.task = asyncio.create_task(self._respond(conn, body, reply, rec))

    async def _steer(self, conn: _Conn, body: dict[str, Any]) -> None:
        target = body.get("previous_response_id")
        steer_input = body.get("input")

        async def failed(code: str, message: str, steer_id: str | None = None) -> None:
            steer: dict[str, Any] = {"input": steer_input, "previous_response_id": target}
            if steer_id is not None:
                steer["id"] = steer_id
            await conn.send(
                {
                    "type": "response.steer.failed",
                    "error": {"code": code, "message": message, "type": "invalid_request_error"},
                    "steer": steer,
                }
            )

        if not self.config.steering:
            await failed("steering_not_supported", "This model does not support steering.")
        elif target is None or target != conn.current_id:
            code = (
                "response_already_completed"
                if target == conn.last_response_id
                else "response_not_found"
            )
            await failed(code, f"Response {target!r} is not active on this connection.")
        elif conn.steer is not None:
            await failed("too_many_pending_steers", "A steer is already pending.")
        else:
            steer_id = "steer_" + uuid.uuid4().hex[:16]
            conn.steer = {"id": steer_id, "input": steer_input, "t": time.monotonic()}
            await conn.send(
                {
                    "type": "response.steer.accepted",
                    "steer": {"id": steer_id, "previous_response_id": target},
                }
            )

    # ----------------------------------------------------------------- one response

    async def _respond(
        self, conn: _Conn, body: dict[str, Any], reply: Reply, rec: RequestRecord
    ) -> None:
        t_request = rec.t
        while True:
            steer = await self._one_response(conn, body, reply, rec, t_request)
            if steer is None:
                return
            # The steered successor: the next scripted reply, continuing with the input.
            with self._lock:
                reply = self._queue.popleft() if self._queue else self.config.default
            body = {**body, "input": steer["input"], "previous_response_id": conn.last_response_id}
            t_request = steer["t"]

    async def _one_response(
        self,
        conn: _Conn,
        body: dict[str, Any],
        reply: Reply,
        rec: RequestRecord,
        t_request: float,
    ) -> dict[str, Any] | None:
        """Stream one response; return the applied steer when it was steered."""
        cfg = self.config
        tokens = reply.content_tokens([{"role": "user", "content": _input_text(body.get("input"))}])
        rate = float(cfg.rate if reply.rate is None else reply.rate)
        ttft = float(cfg.ttft if reply.ttft is None else reply.ttft)
        chunk = int(cfg.chunk if reply.chunk is None else reply.chunk)
        model = reply.model or str(body.get("model") or "unknown")
        fail = reply.fail
        with self._lock:
            srec = StreamRecord(
                id=len(self._streams),
                request_id=rec.id,
                stream=True,
                model=model,
                reply=reply.to_dict(),
                fail=fail.mode if fail else None,
                tokens_planned=len(tokens),
                t_request=t_request,
            )
            self._streams.append(srec)
            self._active += 1
        conn.seq = 0
        try:
            return await self._stream(conn, body, reply, srec, tokens, rate, ttft, chunk, model)
        except asyncio.CancelledError:
            with self._lock:
                if not srec.server_closed:
                    srec.client_disconnected = True
                    srec.t_disconnect = time.monotonic()
            raise
        except ConnectionResetError:
            with self._lock:
                srec.client_disconnected = True
                srec.t_disconnect = time.monotonic()
            return None
        finally:
            conn.current_id = None
            with self._lock:
                srec.t_end = time.monotonic()
                srec.done = True
                self._active -= 1

    async def _stream(
        self,
        conn: _Conn,
        body: dict[str, Any],
        reply: Reply,
        srec: StreamRecord,
        tokens: list[str],
        rate: float,
        ttft: float,
        chunk: int,
        model: str,
    ) -> dict[str, Any] | None:
        fail = reply.fail
        if fail is not None and fail.mode == "status":
            srec.status = fail.status
            srec.t_headers = time.monotonic()
            await self._error(conn, fail.status, fail.code, fail.message)
            return None
        if fail is not None and fail.mode == "close":
            srec.server_closed = True
            conn.record.closed_by = "server"
            await conn.ws.close(code=1011, message=b"closed by script")
            return None
        if fail is not None and fail.mode == "hang":
            await asyncio.sleep(fail.seconds)
        response_id = "resp_" + uuid.uuid4().hex[:24]
        item_id = "msg_" + uuid.uuid4().hex[:24]
        created = int(time.time())
        response: dict[str, Any] = {
            "id": response_id,
            "object": "response",
            "created_at": created,
            "status": "in_progress",
            "model": model,
            "output": [],
            "previous_response_id": body.get("previous_response_id"),
            "usage": None,
        }
        srec.status = 200
        srec.t_headers = time.monotonic()
        conn.current_id = response_id
        await conn.send({"type": "response.created", "response": dict(response)})
        await conn.send({"type": "response.in_progress", "response": dict(response)})
        item = {"id": item_id, "type": "message", "status": "in_progress", "role": "assistant"}
        await conn.send(
            {
                "type": "response.output_item.added",
                "output_index": 0,
                "item": {**item, "content": []},
            }
        )
        part = {"type": "output_text", "text": "", "annotations": []}
        await conn.send(
            {
                "type": "response.content_part.added",
                "item_id": item_id,
                "output_index": 0,
                "content_index": 0,
                "part": part,
            }
        )
        pre = (
            b'{"type":"response.output_text.delta","item_id":"'
            + item_id.encode()
            + b'","output_index":0,"content_index":0,"logprobs":[],"delta":'
        )
        n = len(tokens)
        after_fail = fail if fail and fail.mode in ("drop", "error_event", "stall") else None
        limit = min(n, after_fail.after) if after_fail else n
        if ttft > 0:
            await asyncio.sleep(ttft)
        t0 = time.monotonic()
        emitted = 0
        steer: dict[str, Any] | None = None
        while True:
            now = time.monotonic()
            if conn.steer is not None and emitted > 0:
                steer, conn.steer = conn.steer, None
                break  # a safe boundary: between two ticks
            cap = emitted + _MAX_EVENTS * chunk
            due = n if rate <= 0 else min(n, (int((now - t0) * rate / chunk) + 1) * chunk)
            behind = due > cap
            target = min(due, cap, limit)
            frames = []
            for a in range(emitted, target, chunk):
                b = min(a + chunk, target)
                frames.append((b - a, "".join(tokens[a:b])))
            if frames:
                t_write = time.monotonic()
                k = target - emitted
                with self._lock:
                    srec.writes.append((t_write, k, 0))
                    srec.tokens_emitted += k
                    if srec.t_first_token is None:
                        srec.t_first_token = t_write
                for _count, text in frames:
                    seq = conn.seq
                    conn.seq += 1
                    await conn.ws.send_str(
                        (
                            pre
                            + orjson.dumps(text)
                            + b',"sequence_number":'
                            + str(seq).encode()
                            + b"}"
                        ).decode()
                    )
                emitted = target
            if emitted >= n and after_fail is None:
                if conn.steer is not None:  # accepted just as the answer ended
                    steer, conn.steer = conn.steer, None
                break
            if after_fail is not None and emitted >= limit:
                if after_fail.mode == "drop":
                    srec.server_closed = True
                    conn.record.closed_by = "server"
                    await conn.ws.close(code=1011, message=b"dropped by script")
                    return None
                if after_fail.mode == "error_event":
                    err = _error_body(
                        500, after_fail.message, after_fail.type, after_fail.code or "server_error"
                    )["error"]
                    failed = {**response, "status": "failed", "error": err}
                    conn.last_response_id = response_id
                    await conn.send({"type": "response.failed", "response": failed})
                    return None
                await asyncio.sleep(after_fail.seconds)  # stall
                t0 += after_fail.seconds
                after_fail = None
                limit = n
                continue
            if rate > 0:
                next_due = t0 + (emitted // chunk) * chunk / rate
                if behind:
                    await asyncio.sleep(0)
                else:
                    await asyncio.sleep(max(now + self.config.tick, next_due) - time.monotonic())
            else:
                await asyncio.sleep(0)
        text = "".join(tokens[:emitted])
        done_part = {"type": "output_text", "text": text, "annotations": []}
        await conn.send(
            {
                "type": "response.output_text.done",
                "item_id": item_id,
                "output_index": 0,
                "content_index": 0,
                "text": text,
                "logprobs": [],
            }
        )
        await conn.send(
            {
                "type": "response.content_part.done",
                "item_id": item_id,
                "output_index": 0,
                "content_index": 0,
                "part": done_part,
            }
        )
        status = (
            "incomplete" if steer is not None or reply.finish_reason == "length" else "completed"
        )
        done_item = {**item, "status": status, "content": [done_part]}
        await conn.send({"type": "response.output_item.done", "output_index": 0, "item": done_item})
        usage: dict[str, Any] = {
            "input_tokens": _input_tokens(body),
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": emitted,
            "output_tokens_details": {"reasoning_tokens": 0},
        }
        usage.update(reply.usage or {})
        usage["total_tokens"] = int(usage["input_tokens"]) + int(usage["output_tokens"])
        final = {**response, "status": status, "output": [done_item], "usage": usage}
        conn.last_response_id = response_id
        conn.current_id = None
        if steer is not None:
            final["incomplete_details"] = {"reason": "steered"}
            await conn.send({"type": "response.incomplete", "response": final})
            return steer
        if status == "incomplete":
            final["incomplete_details"] = {"reason": "max_output_tokens"}
            await conn.send({"type": "response.incomplete", "response": final})
        else:
            await conn.send({"type": "response.completed", "response": final})
        srec.completed = True
        return None

    # ----------------------------------------------------------------- control API

    async def _json(self, request: web.Request) -> Any:
        raw = await request.read()
        return orjson.loads(raw) if raw.strip() else None

    async def _ctl_script(self, request: web.Request) -> web.StreamResponse:
        try:
            data = await self._json(request)
            if isinstance(data, dict) and "replies" in data:
                data = data["replies"]
            items = data if isinstance(data, list) else [data]
            queued = self.script(*items)
        except (ValueError, TypeError) as exc:
            return _json_response(400, _error_body(400, f"bad script: {exc}"))
        return _json_response(200, {"queued": queued})

    async def _ctl_reset(self, request: web.Request) -> web.StreamResponse:
        self.reset()
        return _json_response(200, {"ok": True})

    async def _ctl_config(self, request: web.Request) -> web.StreamResponse:
        try:
            data = await self._json(request) if request.method == "POST" else None
            cfg = self.configure(**(data or {}))
        except (ValueError, TypeError) as exc:
            return _json_response(400, _error_body(400, f"bad config: {exc}"))
        return _json_response(200, cfg)

    async def _ctl_requests(self, request: web.Request) -> web.StreamResponse:
        return _json_response(200, [r.to_dict() for r in self.requests])

    async def _ctl_streams(self, request: web.Request) -> web.StreamResponse:
        writes = request.query.get("writes") in ("1", "true", "yes")
        return _json_response(200, [s.to_dict(writes) for s in self.streams])

    async def _ctl_connections(self, request: web.Request) -> web.StreamResponse:
        return _json_response(200, [c.to_dict() for c in self.connections])

    async def _ctl_close_all(self, request: web.Request) -> web.StreamResponse:
        asyncio.get_running_loop().create_task(self.close_all_async())
        return _json_response(200, {"closing": len(self._open)})

    async def _ctl_health(self, request: web.Request) -> web.StreamResponse:
        return _json_response(200, {"ok": True, "open": len(self._open)})


def _json_response(status: int, body: Any) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")


def main(argv: Iterable[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m playground.testing.responses_ws")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--rate", type=float, default=0.0)
    p.add_argument("--ttft", type=float, default=0.0)
    p.add_argument("--api-key", default=None)
    p.add_argument("--connection-limit", type=float, default=3600.0)
    p.add_argument("--ping-interval", type=float, default=None)
    p.add_argument("--no-steering", action="store_true")
    args = p.parse_args(list(argv) if argv is not None else None)
    up = ScriptedResponsesUpstream(
        args.host,
        args.port,
        rate=args.rate,
        ttft=args.ttft,
        api_key=args.api_key,
        connection_limit=args.connection_limit,
        ping_interval=args.ping_interval,
        steering=not args.no_steering,
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    up.start()
    print(up.base_url, flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        with contextlib.suppress(Exception):
            up.stop()


if __name__ == "__main__":
    main()
