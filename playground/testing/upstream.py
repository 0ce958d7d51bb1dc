"""A scripted OpenAI-compatible upstream: a real HTTP server on loopback for tests and benchmarks.

It speaks the Chat Completions protocol as providers do: ``POST /v1/chat/completions`` answers
with Server-Sent Events (``data: {chat.completion.chunk}\\n\\n`` ... ``data: [DONE]\\n\\n``) when
``stream`` is true, or one ``chat.completion`` JSON otherwise; ``GET /v1/models`` lists models.
Headers of a stream go out at once (like real providers); the first content chunk follows
after ``ttft`` seconds; then tokens are paced at ``rate`` tokens/s on a timer: each tick (1 ms by
default) writes ALL the tokens due in one transport write, ``chunk`` tokens per SSE event, so
100k+ tokens/s are reachable from Python (a write holds at most 4096 events; more only when
unpaced or running behind). At 1,000 tokens/s that is one token per write, 1 ms apart, as a real
server streams. Framing (``framing``, per reply): ``"event"`` (default) sends every SSE event as
its own HTTP chunk, as real servers do (one flush per event), even when one write carries
several; ``"write"`` one HTTP chunk per write; ``"length"`` a ``Content-Length`` body (no
chunking; not with ``stall``). With ``stream_options.include_usage`` chunks carry ``"usage": null``
and a usage chunk (``choices: []``) precedes ``[DONE]``.

Python use (the server runs in a background thread with its own event loop; every method is
safe to call from any thread)::

    with ScriptedUpstream(rate=1000, ttft=0.05) as up:      # port=0 (default): ephemeral
        client = AsyncOpenAI(base_url=up.base_url, api_key="k", max_retries=0)
        up.script("Hello world", Reply(tokens=["a", "b"], rate=0), Reply(fail=429))
        ...
        up.wait_idle()                 # (or: await up.wait_idle_async()) no reply in progress
        up.requests[-1].api_key, up.requests[-1].prompt, up.last_stream.tokens_emitted

``ScriptedUpstream(host, port, *, rate, ttft, chunk, tick, default, api_key, models,
check_model, usage, ssl_context)`` (an ``ssl.SSLContext``: serve https);
``start()``/``stop()`` or ``with``/``async with``; ``base_url``
(``http://127.0.0.1:PORT/v1``), ``root_url``; ``script(*replies)`` (Reply, dict or text) ->
queue length; ``configure(**changes)``; ``reset()``; ``pending``; ``requests``, ``streams``
(snapshots), ``last_stream``; ``idle``, ``wait_idle()``, ``wait_idle_async()``, ``wait_for()``;
``refuse(seconds=None, close_idle=True)`` / ``accept()``.

Standalone: ``python -m playground.testing.upstream --port 8765 [--rate R --ttft S --chunk N
--default echo|lorem:N|TEXT --api-key K --check-model --model NAME...]`` prints the base URL
(``http://127.0.0.1:8765/v1``) on stdout once it listens (``--port 0``: ephemeral); SIGTERM or
SIGINT stop it. ``--bench`` measures the rates one raw-SSE client is fed (server in a child
process).

Reply spec -- the same shape as a dataclass (``Reply``/``Fail``) and as JSON (``POST /_script``)::

    {
      "tokens": ["Hel", "lo", " world"],  # exact tokens, or:
      "text": "Hello world",    # split by tokenize(): word pieces, leading whitespace attached
      "lorem": 500,             # or N lorem tokens, or:
      "echo": true,             # or the last user message, tokenized
      "rate": 1000.0,           # tokens/s; null = server default; 0 = unpaced (client-bound)
      "ttft": 0.2,              # s from headers to first content chunk; null = server default
      "chunk": 1,               # tokens per SSE event; null = server default
      "framing": "event",       # event | write | length: HTTP framing of the body (above)
      "usage": {"prompt_tokens": 12},  # overrides; missing numbers are computed
      "finish_reason": "stop",
      "model": null,            # model echoed in chunks; null = the requested model
      "headers": {"x-extra": "1"},      # extra response headers
      "fail": null              # or a failure, below ("fail": 429 / "fail": "drop" work too)
    }
    "fail": {
      "mode": "status",         # status | close | hang | drop | truncate | stall | error_event
                                #   | raw
      "status": 429,            # status: HTTP status sent instead of a reply (401, 403, 404,
                                #   429, 500, 502, 503...) with {"error": {message,type,param,code}}
      "message": null, "type": null, "code": null,  # override the OpenAI-like defaults
      "retry_after": 1,         # Retry-After header (429 gets 1 unless given; a string is
                                #   sent as it is, e.g. "soon")
      "after": 5,               # drop/truncate/stall/error_event: after this many content tokens
      "seconds": 30,            # hang/stall duration
      "resume": true,           # after hang/stall: go on normally (true) or close the socket
      "event": null,            # error_event: SSE event name line ("error"); null = data only
      "raw": null               # raw: the bytes to send after `after` tokens (e.g.
                                #   "data: {not json\n\n"), then the body ends
    }

Failure modes: ``status`` -- error status before any stream; ``close`` -- read the request, close
the connection with no response; ``hang`` -- send no headers for ``seconds`` (client read
timeouts); ``drop`` -- after ``after`` tokens close the connection mid-body (incomplete chunked
body, no finish chunk, no [DONE]); ``truncate`` -- end the body cleanly after ``after`` tokens
but without finish chunk or [DONE]; ``stall`` -- after ``after`` tokens send nothing for
``seconds``; ``error_event`` -- after ``after`` tokens send ``data: {"error": {...}}`` (as
OpenAI does) and end the body; ``raw`` -- after ``after`` tokens send ``raw`` as it is (a
malformed line, a huge one) and end the body. Non-streaming requests: drop/truncate/raw close
the connection, stall delays the answer, error_event answers 500. Refusing connections is
server-wide: ``up.refuse(seconds)`` closes the listening socket (ECONNREFUSED) and reopens it later.
With ``api_key`` set, a request whose ``Authorization: Bearer`` differs gets 401; with
``check_model``, a model not in ``models`` gets 404 ``model_not_found``; neither consumes a reply.
Server ``usage`` numbers apply to every reply, under the reply's own. A request with a predicted
output (``prediction: {"type": "content", "content": ...}``) gets
``usage.completion_tokens_details.accepted_prediction_tokens`` / ``rejected_prediction_tokens``:
the predicted tokens the reply reused (longest matching runs) and the rest of the prediction.
Replies are consumed FIFO, one per chat request; with the queue empty, ``default`` answers
(server default: ``Reply(echo=True)``).

Observability: ``up.requests`` (RequestRecord: method, path, query, headers lower-cased incl.
authorization, parsed JSON body, ``peer`` (client ip:port, i.e. which connection), ``.api_key``,
``.model``, ``.prompt``) and ``up.streams``
(StreamRecord, one per chat request: ``status``, ``fail``, timestamps ``t_request``,
``t_headers`` (first byte on the wire), ``t_first_token``, ``t_end``; ``writes`` as
(t, tokens, bytes) per transport write; ``tokens_emitted``, ``completed``, ``server_closed``,
``client_disconnected`` + ``t_disconnect``, ``tokens_after_disconnect``, ``tokens_after(t)``,
``measured_rate``, ``done``). Times are ``time.monotonic()``: one clock for all processes on
Linux, so a client's own timestamp of its close can be compared with ``tokens_after(t)``.
A disconnect is seen when the connection is lost (the handler is cancelled at once, even
mid-sleep) or a write fails; generation stops there, so ``tokens_after_disconnect`` (server
clock) is 0 by design and ``tokens_after(t_client_close)`` is the honest figure: at most one
tick's worth.

HTTP control API (same port, not recorded as requests):
``POST /_script`` (a reply, a list of replies, or ``{"replies": [...]}``) -> ``{"queued": n}``;
``POST /_reset`` -> clears queue and records; ``POST /_config`` (any of rate, ttft, chunk,
tick, default, api_key, models, check_model, usage) -> the config (``GET`` reads it);
``GET /_requests``;
``GET /_streams`` (``?writes=1`` adds each write); ``POST /_refuse`` ``{"seconds": S,
"close_idle": true}`` (answered, then the listener closes for S seconds);
``GET /_health``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import dataclasses
import re
import signal
import ssl
import sys
import threading
import time
import typing
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, NoReturn, Self

import orjson
from aiohttp import web

__all__ = [
    "Fail",
    "Reply",
    "RequestRecord",
    "ScriptedUpstream",
    "StreamRecord",
    "lorem_tokens",
    "tokenize",
]

FailMode = Literal["status", "close", "hang", "drop", "truncate", "stall", "error_event", "raw"]
FAIL_MODES: tuple[str, ...] = typing.get_args(FailMode)
Framing = Literal["event", "write", "length"]
FRAMINGS: tuple[str, ...] = typing.get_args(Framing)
_MAX_EVENTS = 4096  # SSE events per write at most (unpaced replies, or a server running behind)
_AFTER_MODES = ("drop", "truncate", "stall", "error_event", "raw")  # fail after `after` tokens

_TOKEN_RE = re.compile(r"\s*\w+|\s*[^\w\s]|\s+")
_LOREM = (
    "lorem",
    "ipsum",
    "dolor",
    "sit",
    "amet",
    "consectetur",
    "adipiscing",
    "elit",
    "sed",
    "do",
    "eiusmod",
    "tempor",
    "incididunt",
    "ut",
    "labore",
    "et",
    "dolore",
    "magna",
    "aliqua",
    "ut",
    "enim",
    "ad",
    "minim",
    "veniam",
    "quis",
    "nostrud",
    "exercitation",
)


def tokenize(text: str) -> list[str]:
    """Split text into rough word pieces; whitespace stays attached to the piece after it.

    ``"".join(tokenize(s)) == s`` always holds.
    """
    return _TOKEN_RE.findall(text)


def lorem_tokens(n: int) -> list[str]:
    """N lorem tokens, each a word with its leading space."""
    return [" " + _LOREM[i % len(_LOREM)] for i in range(n)]


# --------------------------------------------------------------------------- reply spec


@dataclass
class Fail:
    """A failure to inject into one reply. See the module docstring for the modes."""

    mode: FailMode
    status: int = 500
    message: str | None = None
    type: str | None = None
    code: str | None = None
    retry_after: float | str | None = None
    after: int = 0
    seconds: float = 30.0
    resume: bool = True
    event: str | None = None
    raw: str | bytes | None = None

    def __post_init__(self) -> None:
        if self.mode not in FAIL_MODES:
            raise ValueError(f"unknown fail mode {self.mode!r}; one of {FAIL_MODES}")

    @classmethod
    def coerce(cls, value: Fail | dict[str, Any] | int | str | None) -> Fail | None:
        if value is None or isinstance(value, Fail):
            return value
        if isinstance(value, bool):
            raise TypeError("fail: expected a mode, a status or an object")
        if isinstance(value, int):
            return cls("status", status=value)
        if isinstance(value, str):
            return cls(value)  # type: ignore[arg-type]
        if isinstance(value, dict):
            return cls(**_known(cls, value))
        raise TypeError(f"fail: cannot use {value!r}")


@dataclass
class Reply:
    """One scripted reply. Content: ``tokens`` > ``text`` > ``lorem`` > ``echo`` (else empty)."""

    tokens: list[str] | None = None
    text: str | None = None
    lorem: int | None = None
    echo: bool = False
    rate: float | None = None
    ttft: float | None = None
    chunk: int | None = None
    usage: dict[str, int] | None = None
    finish_reason: str = "stop"
    model: str | None = None
    headers: dict[str, str] | None = None
    fail: Fail | None = None
    framing: Framing = "event"

    def __post_init__(self) -> None:
        self.fail = Fail.coerce(self.fail)
        if self.framing not in FRAMINGS:
            raise ValueError(f"framing must be one of {FRAMINGS}")
        if self.tokens is not None:
            self.tokens = [str(t) for t in self.tokens]
        if self.chunk is not None and self.chunk < 1:
            raise ValueError("chunk must be >= 1")

    @classmethod
    def coerce(cls, value: Reply | dict[str, Any] | str) -> Reply:
        """A Reply from a Reply, a dict of the JSON shape, or a text."""
        if isinstance(value, Reply):
            return value
        if isinstance(value, str):
            return cls(text=value)
        if isinstance(value, dict):
            return cls(**_known(cls, value))
        raise TypeError(f"reply: cannot use {value!r}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def content_tokens(self, messages: Any) -> list[str]:
        if self.tokens is not None:
            return list(self.tokens)
        if self.text is not None:
            return tokenize(self.text)
        if self.lorem is not None:
            return lorem_tokens(self.lorem)
        if self.echo:
            return tokenize(_last_user_text(messages))
        return []


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown field(s) {sorted(unknown)}")
    return dict(data)


def _message_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts
        return "".join(
            p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"
        )
    return ""


def _last_user_text(messages: Any) -> str:
    if isinstance(messages, list):
        for m in reversed(messages):
            if isinstance(m, dict) and m.get("role") == "user":
                return _message_text(m.get("content"))
    return ""


def _prompt_token_count(messages: Any) -> int:
    if not isinstance(messages, list):
        return 0
    return sum(
        len(tokenize(_message_text(m.get("content")))) for m in messages if isinstance(m, dict)
    )


# --------------------------------------------------------------------------- records


@dataclass
class RequestRecord:
    """One request received on the API (control routes under ``/_`` are not recorded)."""

    id: int
    t: float
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any = None
    body_text: str | None = None
    peer: str | None = None  # the client's "ip:port": one value per TCP connection

    @property
    def api_key(self) -> str | None:
        auth = self.headers.get("authorization", "")
        return auth[7:] if auth.lower().startswith("bearer ") else None

    @property
    def model(self) -> str | None:
        return self.body.get("model") if isinstance(self.body, dict) else None

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.body.get("messages") or [] if isinstance(self.body, dict) else []

    @property
    def prompt(self) -> str:
        """The text of the last user message."""
        return _last_user_text(self.messages)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class StreamRecord:
    """What the server did for one chat request (streaming or not)."""

    id: int
    request_id: int
    stream: bool
    model: str | None
    reply: dict[str, Any]
    fail: str | None = None
    status: int | None = None
    tokens_planned: int = 0
    t_request: float = 0.0
    t_headers: float | None = None
    t_first_token: float | None = None
    t_end: float | None = None
    writes: list[tuple[float, int, int]] = field(default_factory=list)
    tokens_emitted: int = 0
    bytes_emitted: int = 0
    completed: bool = False
    server_closed: bool = False
    client_disconnected: bool = False
    t_disconnect: float | None = None
    done: bool = False

    @property
    def tokens_after_disconnect(self) -> int:
        """Tokens written at or after the server saw the client go away."""
        return 0 if self.t_disconnect is None else self.tokens_after(self.t_disconnect)

    def tokens_after(self, t: float) -> int:
        """Tokens written at or after monotonic time ``t`` (e.g. the client's close)."""
        return sum(n for (tw, n, _b) in self.writes if tw >= t)

    @property
    def measured_rate(self) -> float | None:
        """Tokens/s between the first and the last content write (None if < 2 writes)."""
        ws = [w for w in self.writes if w[1]]
        if len(ws) < 2 or ws[-1][0] <= ws[0][0]:
            return None
        return (sum(w[1] for w in ws) - ws[0][1]) / (ws[-1][0] - ws[0][0])

    def to_dict(self, writes: bool = False) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        if not writes:
            d.pop("writes")
        d["n_writes"] = len(self.writes)
        d["tokens_after_disconnect"] = self.tokens_after_disconnect
        d["measured_rate"] = self.measured_rate
        return d

    def _snapshot(self) -> StreamRecord:
        return dataclasses.replace(self, writes=list(self.writes), reply=dict(self.reply))


# --------------------------------------------------------------------------- protocol bits

_ERROR_DEFAULTS: dict[int, tuple[str, str, str | None]] = {
    400: ("Invalid request.", "invalid_request_error", None),
    401: (
        "Incorrect API key provided. You can find your API key at your provider.",
        "invalid_request_error",
        "invalid_api_key",
    ),
    403: ("You are not allowed to access this resource.", "invalid_request_error", "forbidden"),
    404: (
        "The model `{model}` does not exist or you do not have access to it.",
        "invalid_request_error",
        "model_not_found",
    ),
    408: ("Request timed out.", "timeout", None),
    429: (
        "Rate limit reached for requests. Please try again later.",
        "requests",
        "rate_limit_exceeded",
    ),
    500: (
        "The server had an error while processing your request. Sorry about that!",
        "server_error",
        None,
    ),
    502: ("Bad gateway.", "server_error", None),
    503: ("The server is overloaded, please try again later.", "server_error", "overloaded"),
}


def _error_body(
    status: int,
    message: str | None = None,
    type_: str | None = None,
    code: str | None = None,
    model: str | None = None,
) -> dict[str, Any]:
    dm, dt, dc = _ERROR_DEFAULTS.get(status, ("Error.", "server_error", None))
    return {
        "error": {
            "message": message or dm.replace("{model}", str(model)),
            "type": type_ or dt,
            "param": None,
            "code": code or dc,
        }
    }


def _error_response(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        status=status,
        body=orjson.dumps(body),
        content_type="application/json",
        headers=headers,
    )


def _fmt_seconds(v: float | str) -> str:
    if isinstance(v, str):
        return v  # sent as given, malformed or not
    return str(int(v)) if float(v).is_integer() else repr(float(v))


_RECORD = web.RequestKey("record", RequestRecord)


def _until_stop(tokens: list[str], stop: Any) -> list[str]:
    """The tokens before the first stop sequence, as real servers cut (the stop not sent)."""
    stops = [stop] if isinstance(stop, str) else stop if isinstance(stop, list) else []
    stops = [s for s in stops if isinstance(s, str) and s]
    if not stops:
        return tokens
    text = "".join(tokens)
    cut = min((i for i in (text.find(s) for s in stops) if i >= 0), default=-1)
    if cut < 0:
        return tokens
    kept: list[str] = []
    used = 0
    for token in tokens:
        if used + len(token) >= cut:
            if cut > used:
                kept.append(token[: cut - used])
            break
        kept.append(token)
        used += len(token)
    return kept


class _Plan:
    """A reply resolved against the server defaults and the request."""

    __slots__ = (
        "chunk",
        "fail",
        "finish_reason",
        "framing",
        "headers",
        "id",
        "include_usage",
        "model",
        "rate",
        "tokens",
        "ttft",
        "usage",
    )

    def __init__(self, reply: Reply, cfg: _Config, body: dict[str, Any]) -> None:
        messages = body.get("messages")
        self.tokens = _until_stop(reply.content_tokens(messages), body.get("stop"))
        self.rate = float(cfg.rate if reply.rate is None else reply.rate)
        self.ttft = float(cfg.ttft if reply.ttft is None else reply.ttft)
        self.chunk = int(cfg.chunk if reply.chunk is None else reply.chunk)
        self.fail = reply.fail
        self.framing = reply.framing
        self.finish_reason = reply.finish_reason
        self.model = reply.model or str(body.get("model") or "unknown")
        self.headers = dict(reply.headers or {})
        self.id = "chatcmpl-" + uuid.uuid4().hex[:24]
        so = body.get("stream_options")
        self.include_usage = bool(isinstance(so, dict) and so.get("include_usage"))
        usage = {
            "prompt_tokens": _prompt_token_count(messages),
            "completion_tokens": len(self.tokens),
        }
        usage.update(cfg.usage or {})
        usage.update(reply.usage or {})
        usage.setdefault("total_tokens", usage["prompt_tokens"] + usage["completion_tokens"])
        self.usage: dict[str, Any] = dict(usage)
        prediction = body.get("prediction")
        if isinstance(prediction, dict) and isinstance(prediction.get("content"), str):
            accepted, rejected = _prediction_tokens(tokenize(prediction["content"]), self.tokens)
            self.usage["completion_tokens_details"] = {
                "reasoning_tokens": 0,
                "accepted_prediction_tokens": accepted,
                "rejected_prediction_tokens": rejected,
            }


def _prediction_tokens(predicted: list[str], answer: list[str]) -> tuple[int, int]:
    """(accepted, rejected) prediction tokens, as providers count them: the predicted
    tokens the answer reused (longest matching runs), and the rest of the prediction."""
    import difflib

    matcher = difflib.SequenceMatcher(None, predicted, answer, autojunk=False)
    accepted = sum(block.size for block in matcher.get_matching_blocks())
    return accepted, len(predicted) - accepted


@dataclass
class _Config:
    rate: float = 0.0
    ttft: float = 0.0
    chunk: int = 1
    tick: float = 0.001
    default: Reply = field(default_factory=lambda: Reply(echo=True))
    api_key: str | None = None
    models: list[str] = field(default_factory=lambda: ["gpt-test"])
    check_model: bool = False
    usage: dict[str, int] | None = None

    def update(self, data: dict[str, Any]) -> None:
        for k, v in _known(_Config, data).items():
            if k == "default":
                v = Reply.coerce(v)
            elif k == "models":
                v = list(v)
            elif k == "chunk" and int(v) < 1:
                raise ValueError("chunk must be >= 1")
            setattr(self, k, v)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# --------------------------------------------------------------------------- the server


class ScriptedUpstream:
    """The scripted upstream. Thread-safe: script it and read its records from any thread."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        rate: float = 0.0,
        ttft: float = 0.0,
        chunk: int = 1,
        tick: float = 0.001,
        default: Reply | dict[str, Any] | str | None = None,
        api_key: str | None = None,
        models: Iterable[str] = ("gpt-test",),
        check_model: bool = False,
        usage: dict[str, int] | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.ssl_context = ssl_context  # set: serve https
        self.config = _Config(
            rate=rate,
            ttft=ttft,
            chunk=chunk,
            tick=tick,
            default=Reply.coerce(default) if default is not None else Reply(echo=True),
            api_key=api_key,
            models=list(models),
            check_model=check_model,
            usage=usage,
        )
        self._lock = threading.Lock()
        self._queue: collections.deque[Reply] = collections.deque()
        self._requests: list[RequestRecord] = []
        self._streams: list[StreamRecord] = []
        self._active = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._busy: set[object] = set()  # protocols of connections inside a chat reply
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._stopping = False
        self._reopen: asyncio.TimerHandle | None = None

    # ----------------------------------------------------------------- lifecycle

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/v1"

    @property
    def root_url(self) -> str:
        return f"{'https' if self.ssl_context else 'http'}://{self.host}:{self.port}"

    def start(self) -> Self:
        """Start in a background thread with its own event loop; returns once listening."""
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

        self._thread = threading.Thread(target=run, name="scripted-upstream", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self

    def stop(self) -> None:
        """Stop the server thread (active replies are cancelled)."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self.stop_async(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        self._thread = None
        self._loop = None

    async def start_async(self) -> None:
        """Start listening on the running loop (what ``start()`` runs in its thread)."""
        self._loop = asyncio.get_running_loop()
        app = web.Application(client_max_size=64 * 1024 * 1024, middlewares=[self._record_mw])
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/v1/models/{model}", self._model)
        app.router.add_post("/_script", self._ctl_script)
        app.router.add_post("/_reset", self._ctl_reset)
        app.router.add_post("/_config", self._ctl_config)
        app.router.add_get("/_config", self._ctl_config)
        app.router.add_get("/_requests", self._ctl_requests)
        app.router.add_get("/_streams", self._ctl_streams)
        app.router.add_post("/_refuse", self._ctl_refuse)
        app.router.add_get("/_health", self._ctl_health)
        self._runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=0.5
        )
        await self._runner.setup()
        await self._listen()

    async def stop_async(self) -> None:
        self._stopping = True
        if self._reopen is not None:
            self._reopen.cancel()
        for task in list(self._tasks):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _listen(self) -> None:
        assert self._runner is not None
        site = web.TCPSite(self._runner, self.host, self.port, ssl_context=self.ssl_context)
        await site.start()
        self._site = site
        server = site._server
        if self.port == 0 and server is not None:
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        return await asyncio.to_thread(self.start)

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.stop)

    def _call(self, coro_fn: Callable[[], Any], timeout: float = 10) -> Any:
        loop = self._loop
        if loop is None:
            raise RuntimeError("not started")
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            raise RuntimeError("call the async variant from the server's own loop")
        return asyncio.run_coroutine_threadsafe(coro_fn(), loop).result(timeout)

    # ----------------------------------------------------------------- scripting

    def script(self, *replies: Reply | dict[str, Any] | str) -> int:
        """Append replies to the FIFO queue; returns the queue length."""
        items = [Reply.coerce(r) for r in replies]
        with self._lock:
            self._queue.extend(items)
            return len(self._queue)

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Change server defaults: rate, ttft, chunk, tick, default, api_key, models, ..."""
        with self._lock:
            self.config.update(changes)
            return self.config.to_dict()

    def reset(self) -> None:
        """Clear the queue and all records (configuration stays)."""
        with self._lock:
            self._queue.clear()
            self._requests.clear()
            self._streams.clear()

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def refuse(self, seconds: float | None = None, *, close_idle: bool = True) -> None:
        """Close the listening socket (new connections get ECONNREFUSED); reopen after
        ``seconds`` if given, else on ``accept()``. With ``close_idle``, kept-alive connections
        are closed too (idle ones now, busy ones once their reply is done), as when a provider
        goes down; otherwise clients may go on reusing them."""
        self._call(lambda: self.refuse_async(seconds, close_idle=close_idle))

    def accept(self) -> None:
        self._call(self.accept_async)

    async def refuse_async(self, seconds: float | None = None, *, close_idle: bool = True) -> None:
        if self._reopen is not None:
            self._reopen.cancel()
            self._reopen = None
        if self._site is not None:
            await self._site.stop()
            self._site = None
        server = self._runner.server if self._runner is not None else None
        if close_idle and server is not None:
            for conn in server.connections:
                if conn in self._busy:
                    conn.close()  # after the reply in progress
                else:
                    conn.force_close()
        if seconds is not None:
            loop = asyncio.get_running_loop()
            self._reopen = loop.call_later(seconds, lambda: self._spawn(self.accept_async()))

    async def accept_async(self) -> None:
        self._reopen = None
        if self._site is None and not self._stopping:
            await self._listen()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

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
    def last_stream(self) -> StreamRecord:
        with self._lock:
            return self._streams[-1]._snapshot()

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

    def wait_idle(self, timeout: float = 5.0) -> None:
        """Block until no chat request is in progress."""
        self.wait_for(lambda: self.idle, timeout)

    async def wait_idle_async(self) -> None:
        """Await until no chat request is in progress (wrap in ``asyncio.timeout``)."""
        while not self.idle:  # noqa: ASYNC110 - set from another thread
            await asyncio.sleep(0.002)

    # ----------------------------------------------------------------- handlers

    @web.middleware
    async def _record_mw(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.path.startswith("/_"):
            return await handler(request)
        raw = await request.read()
        body: Any = None
        text: str | None = None
        if raw:
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError:
                text = raw.decode("utf-8", "replace")
        with self._lock:
            rec = RequestRecord(
                id=len(self._requests),
                t=time.monotonic(),
                method=request.method,
                path=request.path,
                query=request.query_string,
                headers={k.lower(): v for k, v in request.headers.items()},
                body=body,
                body_text=text,
                peer=_peer(request),
            )
            self._requests.append(rec)
        request[_RECORD] = rec
        try:
            return await handler(request)
        except web.HTTPNotFound:
            return _error_response(
                404, _error_body(404, f"Unknown path {request.path}", code="unknown_url")
            )
        except web.HTTPMethodNotAllowed:
            return _error_response(
                405, _error_body(405, "Method not allowed", "invalid_request_error")
            )

    def _auth_error(self, rec: RequestRecord) -> web.Response | None:
        key = self.config.api_key
        if key is not None and rec.api_key != key:
            return _error_response(401, _error_body(401))
        return None

    async def _models(self, request: web.Request) -> web.StreamResponse:
        err = self._auth_error(request[_RECORD])
        if err is not None:
            return err
        data = [
            {"id": m, "object": "model", "created": 1700000000, "owned_by": "flint-test"}
            for m in self.config.models
        ]
        return web.json_response({"object": "list", "data": data}, dumps=_dumps)

    async def _model(self, request: web.Request) -> web.StreamResponse:
        err = self._auth_error(request[_RECORD])
        if err is not None:
            return err
        m = request.match_info["model"]
        if m not in self.config.models:
            return _error_response(404, _error_body(404, model=m))
        return web.json_response(
            {"id": m, "object": "model", "created": 1700000000, "owned_by": "flint-test"},
            dumps=_dumps,
        )

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        rec: RequestRecord = request[_RECORD]
        body = rec.body
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return _error_response(
                400, _error_body(400, "Expected a JSON body with a 'messages' list.")
            )
        err = self._auth_error(rec)
        if err is not None:
            return err
        model = body.get("model")
        if self.config.check_model and model not in self.config.models:
            return _error_response(404, _error_body(404, model=model))
        with self._lock:
            reply = self._queue.popleft() if self._queue else self.config.default
        plan = _Plan(reply, self.config, body)  # tokenizing may take a while: not under the lock
        with self._lock:
            srec = StreamRecord(
                id=len(self._streams),
                request_id=rec.id,
                stream=bool(body.get("stream")),
                model=model,
                reply=reply.to_dict(),
                fail=plan.fail.mode if plan.fail else None,
                tokens_planned=len(plan.tokens),
                t_request=rec.t,
            )
            self._streams.append(srec)
            self._active += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        proto = request.protocol
        self._busy.add(proto)
        try:
            return await self._serve(request, plan, srec)
        except asyncio.CancelledError:
            if not srec.server_closed and not self._stopping:
                self._mark_disconnect(srec)
            raise
        finally:
            self._tasks.discard(task)
            self._busy.discard(proto)
            with self._lock:
                srec.t_end = time.monotonic()
                srec.done = True
                self._active -= 1

    def _mark_disconnect(self, srec: StreamRecord) -> None:
        with self._lock:
            if not srec.client_disconnected:
                srec.client_disconnected = True
                srec.t_disconnect = time.monotonic()

    async def _close_connection(self, request: web.Request, srec: StreamRecord) -> NoReturn:
        """Close the socket from the server side and wait for the handler to be cancelled."""
        srec.server_closed = True
        transport = request.transport
        if transport is not None:
            transport.close()
        await asyncio.sleep(2.0)  # the lost connection cancels this handler first
        if transport is not None:
            transport.abort()
        raise asyncio.CancelledError

    async def _serve(
        self, request: web.Request, plan: _Plan, srec: StreamRecord
    ) -> web.StreamResponse:
        fail = plan.fail
        if fail is not None:
            if fail.mode == "status":
                srec.status = fail.status
                headers = dict(plan.headers)
                ra = fail.retry_after
                if ra is None and fail.status == 429:
                    ra = 1
                if ra is not None:
                    headers["Retry-After"] = _fmt_seconds(ra)
                body = _error_body(fail.status, fail.message, fail.type, fail.code, srec.model)
                resp = _error_response(fail.status, body, headers)
                srec.t_headers = time.monotonic()
                return resp
            if fail.mode == "close":
                await self._close_connection(request, srec)
            if fail.mode == "hang":
                await asyncio.sleep(fail.seconds)
                if not fail.resume:
                    await self._close_connection(request, srec)
        if srec.stream:
            return await self._stream(request, plan, srec)
        return await self._complete(request, plan, srec)

    async def _complete(
        self, request: web.Request, plan: _Plan, srec: StreamRecord
    ) -> web.StreamResponse:
        n = len(plan.tokens)
        delay = plan.ttft + (n / plan.rate if plan.rate > 0 else 0.0)
        fail = plan.fail
        if fail is not None and fail.mode in _AFTER_MODES:
            before = min(n, fail.after) / plan.rate if plan.rate > 0 else 0.0
            await asyncio.sleep(plan.ttft + before)
            if fail.mode == "error_event":
                srec.status = 500
                srec.t_headers = time.monotonic()
                body = _error_body(500, fail.message, fail.type, fail.code)
                return _error_response(500, body, plan.headers)
            if fail.mode == "stall":
                await asyncio.sleep(fail.seconds)
                if not fail.resume:
                    await self._close_connection(request, srec)
                delay -= plan.ttft + before
            else:
                await self._close_connection(request, srec)
        await asyncio.sleep(max(0.0, delay))
        content = "".join(plan.tokens)
        payload = {
            "id": plan.id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": plan.model,
            "system_fingerprint": None,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": None},
                    "logprobs": None,
                    "finish_reason": plan.finish_reason,
                }
            ],
            "usage": plan.usage,
        }
        data = orjson.dumps(payload)
        now = time.monotonic()
        with self._lock:
            srec.status = 200
            srec.t_headers = srec.t_first_token = now
            srec.writes.append((now, n, len(data)))
            srec.tokens_emitted = n
            srec.bytes_emitted = len(data)
            srec.completed = True
        return web.Response(
            body=data, content_type="application/json", headers=plan.headers or None
        )

    async def _stream(
        self, request: web.Request, plan: _Plan, srec: StreamRecord
    ) -> web.StreamResponse:
        headers = {
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            "X-Request-Id": "req_" + plan.id[9:],
        }
        headers.update(plan.headers)
        resp = web.StreamResponse(status=200, headers=headers)
        srec.status = 200

        created = int(time.time())
        common = (
            b'{"id":'
            + orjson.dumps(plan.id)
            + b',"object":"chat.completion.chunk","created":'
            + str(created).encode()
            + b',"model":'
            + orjson.dumps(plan.model)
            + b',"system_fingerprint":null,"choices":['
        )
        tail = b',"usage":null}' if plan.include_usage else b"}"
        pre = b"data: " + common + b'{"index":0,"delta":{"content":'
        post = b'},"logprobs":null,"finish_reason":null}]' + tail + b"\n\n"
        head = (
            b"data: "
            + common
            + b'{"index":0,"delta":{"role":"assistant","content":"","refusal":null},'
            + b'"logprobs":null,"finish_reason":null}]'
            + tail
            + b"\n\n"
        )
        finish = (
            b"data: "
            + common
            + b'{"index":0,"delta":{},"logprobs":null,"finish_reason":'
            + orjson.dumps(plan.finish_reason)
            + b"}]"
            + tail
            + b"\n\n"
        )
        if plan.include_usage:
            finish += b"data: " + common + b'],"usage":' + orjson.dumps(plan.usage) + b"}\n\n"
        finish += b"data: [DONE]\n\n"

        tokens = plan.tokens
        n = len(tokens)
        c = plan.chunk
        rate = plan.rate
        tick = self.config.tick
        fail = plan.fail
        pending_fail = fail if fail and fail.mode in _AFTER_MODES else None
        limit = min(n, pending_fail.after) if pending_fail else n
        dumps = orjson.dumps
        lock = self._lock
        writes = srec.writes
        first: bytes | None = head
        mono = time.monotonic

        framing = plan.framing
        if framing == "length":
            resp.content_length = self._body_length(plan, head, pre, post, finish)
        else:
            resp.enable_chunked_encoding()
        await resp.prepare(request)
        srec.t_headers = mono()
        if framing != "length":
            # We frame the chunks ourselves ("event": one HTTP chunk per SSE event, even
            # several in one write), so aiohttp's writer must pass the bytes through.
            writer = resp._payload_writer
            assert writer is not None
            writer.chunked = False  # type: ignore[attr-defined]

        def frame(parts: list[bytes], ending: bool) -> bytes:
            if framing == "length":
                return b"".join(parts)
            if framing == "write":
                body = b"".join(parts)
                parts = [body] if body else []
            out = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts if p)
            return out + b"0\r\n\r\n" if ending else out

        if plan.ttft > 0:
            await asyncio.sleep(plan.ttft)
        t0 = mono()
        emitted = 0
        while True:
            now = mono()
            # All tokens due go out in one write; a write holds at most _MAX_EVENTS events
            # (only reached when unpaced or running behind), the rest follows at once.
            cap = emitted + _MAX_EVENTS * c
            due = n if rate <= 0 else min(n, (int((now - t0) * rate / c) + 1) * c)
            behind = due > cap
            target = min(due, cap, limit)
            parts = [first] if first is not None else []
            first = None
            for a in range(emitted, target, c):
                b = a + c if a + c < target else target
                parts.append(pre + dumps("".join(tokens[a:b])) + post)
            final = target >= n and pending_fail is None
            if final:
                parts.append(finish)
            if pending_fail is not None and target >= limit and pending_fail.mode == "error_event":
                err = _error_body(500, pending_fail.message, pending_fail.type, pending_fail.code)
                ev = b"event: " + pending_fail.event.encode() + b"\n" if pending_fail.event else b""
                parts.append(ev + b"data: " + dumps(err) + b"\n\n")
            if pending_fail is not None and target >= limit and pending_fail.mode == "raw":
                raw = pending_fail.raw or b""
                parts.append(raw.encode() if isinstance(raw, str) else raw)
            # The last write carries the chunked-body terminator too (one transport write).
            ending = final or (
                pending_fail is not None
                and target >= limit
                and pending_fail.mode in ("truncate", "error_event", "raw")
            )
            if parts or ending:
                data = frame(parts, ending)
                k = target - emitted
                t_write = mono()
                with lock:
                    writes.append((t_write, k, len(data)))
                    srec.tokens_emitted += k
                    srec.bytes_emitted += len(data)
                    if k and srec.t_first_token is None:
                        srec.t_first_token = t_write
                try:
                    await (resp.write_eof(data) if ending else resp.write(data))
                except ConnectionResetError:  # transport already closing
                    with lock:
                        writes.pop()
                        srec.tokens_emitted -= k
                        srec.bytes_emitted -= len(data)
                    self._mark_disconnect(srec)
                    return resp
                emitted = target
            if final:
                srec.completed = True
                return resp
            if ending:
                return resp
            if pending_fail is not None and emitted >= limit:
                mode = pending_fail.mode
                if mode == "drop":
                    await self._close_connection(request, srec)
                # stall
                t_stall = mono()
                await asyncio.sleep(pending_fail.seconds)
                if not pending_fail.resume:
                    await self._close_connection(request, srec)
                t0 += mono() - t_stall
                pending_fail = None
                limit = n
                continue
            if rate > 0:
                # Wake when the next event is due, but at most once per tick (counted from
                # this wake-up, so time spent writing is not added to the tick).
                next_due = t0 + (emitted // c) * c / rate
                if behind:
                    await asyncio.sleep(0)
                else:
                    await asyncio.sleep(max(now + tick, next_due) - mono())
            else:
                await asyncio.sleep(0)

    @staticmethod
    def _body_length(plan: _Plan, head: bytes, pre: bytes, post: bytes, finish: bytes) -> int:
        """The Content-Length of a ``framing="length"`` body: what ``_stream`` will send (a
        reply that drops or stalls claims the whole answer, so its body ends short)."""
        tokens, n, c, fail = plan.tokens, len(plan.tokens), plan.chunk, plan.fail
        pending = fail if fail and fail.mode in _AFTER_MODES else None
        if pending is not None and pending.mode == "stall" and pending.resume:
            raise ValueError('framing "length" cannot resume a stall')
        limit = min(n, pending.after) if pending else n
        short = pending is not None and pending.mode in ("drop", "stall")
        end = n if short else limit
        size = len(head) + sum(
            len(pre) + len(orjson.dumps("".join(tokens[a : min(a + c, end)]))) + len(post)
            for a in range(0, end, c)
        )
        if pending is None or short:
            size += len(finish)
        elif pending.mode == "error_event":
            err = _error_body(500, pending.message, pending.type, pending.code)
            ev = b"event: " + pending.event.encode() + b"\n" if pending.event else b""
            size += len(ev + b"data: " + orjson.dumps(err) + b"\n\n")
        elif pending.mode == "raw":
            raw = pending.raw or b""
            size += len(raw.encode() if isinstance(raw, str) else raw)
        return size

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
            return _error_response(400, _error_body(400, f"bad script: {exc}"))
        return web.json_response({"queued": queued}, dumps=_dumps)

    async def _ctl_reset(self, request: web.Request) -> web.StreamResponse:
        self.reset()
        return web.json_response({"ok": True}, dumps=_dumps)

    async def _ctl_config(self, request: web.Request) -> web.StreamResponse:
        try:
            data = await self._json(request) if request.method == "POST" else None
            cfg = self.configure(**(data or {}))
        except (ValueError, TypeError) as exc:
            return _error_response(400, _error_body(400, f"bad config: {exc}"))
        return web.json_response(cfg, dumps=_dumps)

    async def _ctl_requests(self, request: web.Request) -> web.StreamResponse:
        return web.json_response([r.to_dict() for r in self.requests], dumps=_dumps)

    async def _ctl_streams(self, request: web.Request) -> web.StreamResponse:
        writes = request.query.get("writes") in ("1", "true", "yes")
        return web.json_response([s.to_dict(writes) for s in self.streams], dumps=_dumps)

    async def _ctl_refuse(self, request: web.Request) -> web.StreamResponse:
        data = await self._json(request) or {}
        seconds = float(data.get("seconds", 1.0))
        close_idle = bool(data.get("close_idle", True))
        asyncio.get_running_loop().call_soon(
            lambda: self._spawn(self.refuse_async(seconds, close_idle=close_idle))
        )
        return web.json_response({"refusing": seconds}, dumps=_dumps)

    async def _ctl_health(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"ok": True, "pending": self.pending}, dumps=_dumps)


def _peer(request: web.Request) -> str | None:
    transport = request.transport
    addr = transport.get_extra_info("peername") if transport is not None else None
    if isinstance(addr, tuple) and len(addr) >= 2:
        return f"{addr[0]}:{addr[1]}"
    return None


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


# --------------------------------------------------------------------------- benchmark


async def _bench_once(base_url: str, tokens: int, rate: float, parse: bool) -> dict[str, float]:
    """One stream of ``tokens`` lorem tokens at ``rate``, read as raw SSE with aiohttp."""
    import aiohttp

    async with aiohttp.ClientSession() as session:
        await session.post(
            base_url[:-3] + "/_script", json={"lorem": tokens, "rate": rate, "chunk": 1}
        )
        body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "x"}]}
        events = 0
        t_first = 0.0
        loads = orjson.loads
        cpu0 = time.process_time()
        async with session.post(base_url + "/chat/completions", json=body) as resp:
            buf = b""
            async for data in resp.content.iter_any():
                if not t_first:
                    t_first = time.monotonic()
                buf += data
                *lines, buf = buf.split(b"\n\n")
                for line in lines:
                    if line.startswith(b"data: {") and b'"content":' in line:
                        if b'"role":' in line:
                            continue
                        if parse:
                            loads(line[6:])["choices"][0]["delta"]["content"]
                        events += 1
        t_end = time.monotonic()
        cpu = time.process_time() - cpu0
    elapsed = t_end - t_first
    return {"events": events, "seconds": elapsed, "rate": events / elapsed, "client_cpu": cpu}


def _proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process, from /proc (Linux)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    import os

    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _bench(args: argparse.Namespace) -> None:
    """Feed one raw-SSE client at rising rates; the server runs in a child process."""
    import subprocess

    proc = subprocess.Popen(
        [sys.executable, "-m", "playground.testing.upstream", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        for rate in args.bench_rates:
            for parse in (False, True):
                n = int(min(rate if rate > 0 else 1e6, 1e6) * args.bench_seconds)
                s0 = _proc_cpu(proc.pid)
                r = asyncio.run(_bench_once(base_url, n, rate, parse))
                server_cpu = _proc_cpu(proc.pid) - s0
                lost = "" if r["events"] == n else f"  MISSING {n - r['events']}"
                print(
                    f"target {rate or float('inf'):>10,.0f} tok/s  json={parse!s:5}  "
                    f"achieved {r['rate']:>10,.0f} tok/s  over {r['seconds']:.2f}s  "
                    f"server cpu {server_cpu / r['seconds']:4.0%}  "
                    f"client cpu {r['client_cpu'] / r['seconds']:4.0%}{lost}",
                    flush=True,
                )
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


# --------------------------------------------------------------------------- CLI


def _default_from_arg(value: str) -> Reply:
    if value == "echo":
        return Reply(echo=True)
    if value.startswith("lorem:"):
        return Reply(lorem=int(value[6:]))
    return Reply(text=value)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m playground.testing.upstream", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--rate", type=float, default=0.0, help="tokens/s, 0 = unpaced")
    p.add_argument("--ttft", type=float, default=0.0)
    p.add_argument("--chunk", type=int, default=1)
    p.add_argument("--tick", type=float, default=0.001)
    p.add_argument("--default", default="echo", help="echo | lorem:N | a text")
    p.add_argument("--api-key", default=None)
    p.add_argument("--model", action="append", dest="models", default=None)
    p.add_argument("--check-model", action="store_true")
    p.add_argument("--bench", action="store_true", help="measure the max rate to one client")
    p.add_argument(
        "--bench-rates",
        type=float,
        nargs="+",
        default=[1e3, 1e4, 1e5, 3e5, 1e6, 0],
        help="tokens/s to try; 0 = unpaced",
    )
    p.add_argument("--bench-seconds", type=float, default=2.0)
    args = p.parse_args(argv)
    if args.bench:
        _bench(args)
        return
    up = ScriptedUpstream(
        args.host,
        args.port,
        rate=args.rate,
        ttft=args.ttft,
        chunk=args.chunk,
        tick=args.tick,
        default=_default_from_arg(args.default),
        api_key=args.api_key,
        models=args.models or ["gpt-test"],
        check_model=args.check_model,
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
