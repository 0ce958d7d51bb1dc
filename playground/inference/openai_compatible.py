"""One backend for every OpenAI-compatible Chat Completions endpoint.

OpenAI, Cerebras, Groq, vLLM, SGLang, llama.cpp's server and Ollama all speak
the same streaming protocol, so they share this class and differ only in
``base_url``, ``api_key`` and ``model`` (the simonw/llm approach).

Hot path: the SDK's typed chunk iterator costs ~100 µs CPU per chunk, which is
too slow at 1000+ tokens/s (docs/benchmarks.md, "Live loop"), and even its raw byte
stream (httpx/httpcore/h11 on anyio) costs ~150 µs per network read, and at real-time
rates every token is a read (issue #15). So the streaming request goes through
playground/inference/sse_http.py, a lean HTTP/1.1 reader on an asyncio Protocol, with
the SDK's headers (auth, organization, user agent), base URL, TLS context and
timeouts; each ``data:`` line is parsed with orjson. The SDK itself (``reader="sdk"``)
stays for what the lean reader does not do: a proxy from the environment
(``HTTPS_PROXY``/``ALL_PROXY``…, which httpx honours), redirects, a base URL with a query.
Both paths raise the same errors for the same failures.
"""

from __future__ import annotations

import contextlib
import email.utils
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any, Literal

import httpx2  # the HTTP client under openai 3.x; raw stream reads raise its errors
import openai
import orjson

from playground.inference.base import BackendInfo, ChatRequest, Delta, InferenceError, OnWait, Usage
from playground.inference.redact import MAX_UPSTREAM_MESSAGE, KeyFilter, redact
from playground.inference.sse_http import HTTPStreamError, Origin, StreamPool

_DONE = b"[DONE]"
loads = orjson.loads
# One SSE line carries one chunk of a few tokens; a line this long is not an
# answer but a broken (or hostile) server, and buffering it would cost memory.
MAX_LINE = 1024 * 1024
MAX_RETRY_AFTER = 86_400.0  # s; a longer (or unreadable) Retry-After is ignored
# s; a streaming answer is read at most this often once its chunks come faster (a
# real-time stream: a token per chunk per ms), so one read carries several tokens
# (sse_http.py). Half of FLINT_FRAME_INTERVAL, which paces the frames anyway.
READ_INTERVAL = 0.008


def sdk_client(
    base_url: str, api_key: str, timeout: float, connect_timeout: float
) -> openai.AsyncOpenAI:
    """The SDK client every backend of an OpenAI-compatible server uses."""
    return openai.AsyncOpenAI(
        base_url=base_url,
        # Local servers need no key, but the SDK refuses an empty one.
        api_key=api_key or "no-key",
        # Retries are the generation runner's job (it tells the user and only
        # retries before the first token), so the SDK must not retry silently.
        max_retries=0,
        timeout=openai.Timeout(timeout, connect=connect_timeout),
    )


class OpenAICompatibleBackend:
    """Streams chat completions from any OpenAI-compatible server.

    One ``AsyncOpenAI`` client (and so one pooled HTTP client) per backend
    instance, which lives for the process: a turn never pays for a new TCP/TLS
    connection. The key is only ever sent to ``base_url``.
    """

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str = "",
        name: str = "openai-compatible",
        edit_format: str = "search_replace",
        timeout: float = 60.0,
        connect_timeout: float = 5.0,
        max_tokens: int | None = None,
        extra_body: dict[str, Any] | None = None,
        prediction: bool = False,
        reader: Literal["lean", "sdk"] = "lean",
        read_interval: float = READ_INTERVAL,
    ) -> None:
        self.info = BackendInfo(name=name, model=model, edit_format=edit_format)
        self._key = api_key
        self._max_tokens = max_tokens
        self._api_key = api_key
        self._extra_body = extra_body or {}
        # Predicted outputs: send ChatRequest.prediction (the active file, for
        # whole-file answers) as ``prediction``; only servers that support it should.
        self._prediction = prediction
        self._base_url = base_url
        self._client = sdk_client(base_url, api_key, timeout, connect_timeout)
        if reader not in ("lean", "sdk"):
            raise ValueError(f'reader must be "lean" or "sdk", not {reader!r}')
        self._reader = reader
        self._timeout, self._connect_timeout = timeout, connect_timeout
        self._read_interval = read_interval
        self._lean: tuple[StreamPool, Origin, str] | None = None
        self._lean_headers: dict[str, str] | None = None

    async def aclose(self) -> None:
        if self._lean is not None:
            self._lean[0].close()
        await self._client.close()

    def _lean_route(self) -> tuple[StreamPool, Origin, str] | None:
        """Where the lean reader sends the request; None where only the SDK can."""
        if self._reader != "lean":
            return None
        if self._lean is not None:
            return self._lean
        http = self._client._client  # the SDK's httpx client: its proxy rules decide
        url = self._client.base_url.copy_with(
            raw_path=self._client.base_url.raw_path + b"chat/completions"
        )
        if (
            url.scheme not in ("http", "https")
            or url.query
            or http._transport_for_url(url) is not http._transport  # a proxy applies
        ):
            self._reader = "sdk"
            return None
        port = url.port or (443 if url.scheme == "https" else 80)
        pool = StreamPool(
            connect_timeout=self._connect_timeout,
            read_timeout=self._timeout,
            read_interval=self._read_interval,
            ssl_context=lambda: httpx2.create_ssl_context(trust_env=http.trust_env),
        )
        self._lean = (pool, (url.scheme, url.host, port), url.raw_path.decode("ascii"))
        return self._lean

    def _headers(self) -> dict[str, str]:
        """The SDK's own request headers (auth, organization, project, user agent...)."""
        if self._lean_headers is None:
            headers = {k: v for k, v in self._client.default_headers.items() if isinstance(v, str)}
            headers["Authorization"] = f"Bearer {self._client.api_key}"
            headers["Accept"] = "text/event-stream"
            headers["Accept-Encoding"] = "identity"  # the lean reader decodes no compression
            self._lean_headers = headers
        return self._lean_headers

    max_concurrent: int | None = None
    context_tokens: int | None = None

    async def stream(
        self, request: ChatRequest, *, on_wait: OnWait | None = None
    ) -> AsyncIterator[Delta]:
        kwargs = self._request_kwargs(request)
        try:
            route = self._lean_route()
            if route is not None:
                async for delta in self._stream_lean(route, kwargs):
                    yield delta
                return
            async with self._client.chat.completions.with_streaming_response.create(
                **kwargs
            ) as response:
                async for delta in _parse_sse(response.iter_bytes(), self._key):
                    yield delta
        except InferenceError as exc:
            # A mid-stream error event quotes the model server's own words, which may
            # echo the key it was sent; the message goes to the browser.
            if self._api_key and self._api_key in exc.message:
                exc.message = exc.message.replace(self._api_key, "[redacted]")
                exc.args = (exc.message,)
            raise
        except openai.APIStatusError as exc:
            raise _status_error(
                exc.status_code,
                exc.response.headers,
                str(exc.message),
                self.info.model,
                self._base_url,
            ) from None
        except openai.APITimeoutError:
            raise InferenceError(
                "upstream.timeout",
                "The model server did not answer in time.",
                retryable=True,
            ) from None
        except openai.APIConnectionError as exc:
            raise _connection_error(exc) from None
        except httpx2.TimeoutException:
            # Raised by the raw line reader: the stream stalled mid-answer.
            raise InferenceError(
                "upstream.timeout",
                "The model server stopped sending mid-answer and timed out.",
                retryable=True,
            ) from None
        except httpx2.TransportError:
            raise InferenceError(
                "upstream.interrupted",
                "The connection to the model server broke mid-answer.",
                retryable=True,
            ) from None

    async def _stream_lean(
        self, route: tuple[StreamPool, Origin, str], kwargs: dict[str, Any]
    ) -> AsyncIterator[Delta]:
        pool, origin, target = route
        body = dict(kwargs)
        body.update(body.pop("extra_body", None) or {})
        try:
            response = await pool.request(origin, target, self._headers(), orjson.dumps(body))
        except HTTPStreamError as exc:
            raise _lean_error(exc) from None
        try:
            if response.status != 200:
                if 300 <= response.status < 400:  # redirects: the SDK follows them
                    response.aclose()
                    self._reader = "sdk"
                    async with self._client.chat.completions.with_streaming_response.create(
                        **kwargs
                    ) as sdk_response:
                        async for delta in _parse_sse(sdk_response.iter_bytes(), self._key):
                            yield delta
                    return
                try:
                    text = (await response.read()).decode("utf-8", "replace")
                except HTTPStreamError:
                    text = ""
                raise _status_error(
                    response.status, response.headers, text, self.info.model, self._base_url
                )
            try:
                async for delta in _parse_sse(response.chunks(), self._key):
                    yield delta
            except HTTPStreamError as exc:
                raise _lean_error(exc) from None
        finally:
            # Finished: the connection goes back to the pool; stopped early, it is closed now.
            response.aclose()

    def _request_kwargs(self, request: ChatRequest) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": self.info.model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        max_tokens = request.max_tokens or self._max_tokens
        if max_tokens:
            kwargs["max_tokens"] = max_tokens
        if request.temperature is not None:
            kwargs["temperature"] = request.temperature
        if request.stop:
            kwargs["stop"] = list(request.stop)
        if self._prediction and request.prediction:
            kwargs["prediction"] = {"type": "content", "content": request.prediction}
        if self._extra_body:
            kwargs["extra_body"] = self._extra_body
        return kwargs


async def _parse_sse(chunks: AsyncIterator[bytes], key: str = "") -> AsyncIterator[Delta]:
    """Turn the SSE body into deltas, one per network read; it must end with [DONE].

    At 1000+ tokens/s a network read carries many ``data:`` lines; parsing them
    in one loop and yielding one joined Delta per read halves the CPU per token
    compared with one async hop per line (docs/benchmarks.md).

    Whatever the server sends is checked for shape: a line that is not JSON, a
    chunk of the wrong shape or a line over MAX_LINE ends the stream with
    ``upstream.bad_response`` (after the text that came before it). ``key`` is
    scrubbed from the answer and from every error message.
    """
    state = _SSEState(key)
    buffer = b""
    async for chunk in chunks:
        lines = (buffer + chunk).split(b"\n")
        buffer = lines.pop()
        if len(buffer) > MAX_LINE:
            state.error = _bad_response(f"a line over {MAX_LINE} bytes")
        else:
            delta = state.take(lines)
            if delta is not None:
                yield delta
        if state.error is not None:
            raise state.error  # after the text that came before it
    delta = state.take([buffer, b""] if buffer else [b""])  # the last event, if unended
    if delta is not None:
        yield delta
    if state.error is not None:
        raise state.error
    if state.finish is None:
        raise InferenceError(
            "upstream.interrupted",
            "The model server closed the stream before the answer was finished.",
            retryable=True,
        )


class _SSEState:
    __slots__ = ("data", "data_size", "done", "error", "finish", "key", "keys")

    def __init__(self, key: str = "") -> None:
        self.data: list[bytes] = []  # the data lines of the event being read
        self.data_size = 0
        self.finish: str | None = None
        self.done = False
        self.error: InferenceError | None = None
        self.key = key
        self.keys = KeyFilter(key)  # the configured key never reaches the answer

    def take(self, lines: list[bytes]) -> Delta | None:
        """Fold complete lines into one delta (None if they carried nothing).

        SSE: an event is its ``data:`` lines (joined by newlines) up to a blank line;
        comments (``:``, keep-alives), ``event:``, ``id:`` and ``retry:`` lines are skipped.
        """
        texts: list[str] = []
        usage: Usage | None = None
        finish: str | None = None
        data = self.data
        for raw in lines:
            # After [DONE], keep reading to the end of the body: a response closed
            # unread is a connection closed, and the next turn would pay for a new one.
            if self.done:
                continue
            if raw.startswith(b"data:"):
                self.data_size += len(raw)
                if self.data_size > MAX_LINE:
                    self.error = _bad_response(f"a line over {MAX_LINE} bytes")
                    break
                data.append(raw[5:])
                continue
            if (raw and raw != b"\r") or not data:
                continue  # comments, event names, keep-alives; a blank line after nothing
            # A blank line: the event is complete.
            if len(data) == 1:
                payload = data[0]
                data.clear()
                self.data_size = 0
                if payload.endswith(b"]") and payload.strip() == _DONE:
                    self.done = True
                    continue
                try:
                    chunk = loads(payload)
                except orjson.JSONDecodeError:
                    self.error = _bad_response("a data line that is not JSON")
                    break
                # Nearly every chunk: one choice with text (or none), checked inline.
                if chunk.__class__ is dict and not chunk.get("usage") and "error" not in chunk:
                    choices = chunk.get("choices")
                    if choices.__class__ is list and len(choices) == 1:
                        choice = choices[0]
                        if choice.__class__ is dict and choice.get("finish_reason") is None:
                            delta = choice.get("delta")
                            content = delta.get("content") if delta.__class__ is dict else 0
                            if content.__class__ is str:
                                if content:
                                    texts.append(content)
                                continue
                            if content is None:
                                continue
                finish, usage = self._chunk(chunk, texts, finish, usage)
                if self.error is not None:
                    break
                continue
            payloads = _multiline(data)
            data.clear()
            self.data_size = 0
            for payload in payloads:
                if payload == _DONE:
                    self.done = True
                    break
                try:
                    chunk = loads(payload)
                except orjson.JSONDecodeError:
                    self.error = _bad_response("a data line that is not JSON")
                    break
                finish, usage = self._chunk(chunk, texts, finish, usage)
                if self.error is not None:
                    break
            if self.error is not None:
                break
        self.finish = finish or self.finish
        if not texts and finish is None and usage is None:
            return None
        text = self.keys.feed("".join(texts))
        if finish is not None or self.done:
            text += self.keys.flush()  # the answer is complete: nothing more can follow
        return Delta(text=text, tokens=len(texts), finish_reason=finish, usage=usage)

    def _chunk(
        self, chunk: Any, texts: list[str], finish: str | None, usage: Usage | None
    ) -> tuple[str | None, Usage | None]:
        """Fold one parsed chunk in: its text into ``texts``; (finish, usage) so far."""
        if chunk.__class__ is not dict:
            self.error = _bad_response("a data line that is not a JSON object")
            return finish, usage
        if "error" in chunk:
            self.error = _stream_error(chunk["error"], self.key)
            return finish, usage
        choices = chunk.get("choices")
        raw_usage = chunk.get("usage")
        try:
            usage = _usage(raw_usage) or usage
            for text, reason in _choices(choices):
                if text:
                    texts.append(text)
                finish = reason or finish
        except _Malformed as exc:
            self.error = _bad_response(str(exc))
        return finish, usage


def _multiline(data: list[bytes]) -> list[bytes]:
    """The payload of an event of several ``data:`` lines: joined by newlines (SSE); a
    server that sends one JSON chunk per line without blank lines between gets each."""
    lines = [line.removeprefix(b" ") for line in data]
    joined = b"\n".join(lines).strip()
    try:
        orjson.loads(joined)
    except orjson.JSONDecodeError:
        parts = [line.strip() for line in lines if line.strip()]
        if len(parts) > 1:
            return parts
    return [joined]


class _Malformed(Exception):
    """A chunk whose shape is not a chat completion chunk's; says which part."""


def _choices(raw: Any) -> list[tuple[str | None, str | None]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _Malformed('a chunk whose "choices" is not a list')
    out: list[tuple[str | None, str | None]] = []
    for choice in raw:
        if not isinstance(choice, dict):
            raise _Malformed("a choice that is not an object")
        delta = choice.get("delta") or {}
        if not isinstance(delta, dict):
            raise _Malformed('a choice whose "delta" is not an object')
        text, reason = delta.get("content"), choice.get("finish_reason")
        if not (text is None or isinstance(text, str)):
            raise _Malformed('a delta whose "content" is not text')
        if not (reason is None or isinstance(reason, str)):
            raise _Malformed('a choice whose "finish_reason" is not text')
        out.append((text, reason))
    return out


def _usage(raw: Any) -> Usage | None:
    if not raw:
        return None
    if not isinstance(raw, dict):
        raise _Malformed('a chunk whose "usage" is not an object')
    details = raw.get("completion_tokens_details") or {}
    if not isinstance(details, dict):
        details = {}
    accepted = details.get("accepted_prediction_tokens")
    rejected = details.get("rejected_prediction_tokens")
    try:
        return Usage(
            prompt_tokens=int(raw.get("prompt_tokens") or 0),
            completion_tokens=int(raw.get("completion_tokens") or 0),
            accepted_prediction_tokens=None if accepted is None else int(accepted),
            rejected_prediction_tokens=None if rejected is None else int(rejected),
        )
    except (TypeError, ValueError, OverflowError):
        raise _Malformed('a "usage" whose token counts are not numbers') from None


def _bad_response(what: str) -> InferenceError:
    return InferenceError(
        "upstream.bad_response",
        f"The model server sent something that is not an OpenAI-compatible stream ({what}). "
        "Check that FLINT_BASE_URL points at an OpenAI-compatible endpoint.",
        retryable=False,
    )


def _stream_error(raw: Any, key: str = "") -> InferenceError:
    message = raw.get("message") if isinstance(raw, dict) else raw
    # The server's own words, quoted to the user: never its echo of our key.
    text = redact(str(message), (key,), limit=MAX_UPSTREAM_MESSAGE).rstrip(".")
    return InferenceError(
        "upstream.server_error",
        f"The model server reported an error mid-stream: {text}.",
        retryable=True,
    )


def _retry_after(headers: Any) -> float | None:
    if headers is None:
        return None
    value = headers.get("retry-after-ms")
    if value:
        with contextlib.suppress(ValueError):
            return _sane_wait(float(value) / 1000)
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return _sane_wait(float(value))
    except ValueError:
        pass
    try:  # an HTTP date
        parsed = email.utils.parsedate_to_datetime(value)
        return _sane_wait(parsed.timestamp() - time.time())
    except (TypeError, ValueError, OverflowError):
        return None  # unreadable ("soon"): as if the server had not said


def _sane_wait(seconds: float) -> float | None:
    if seconds != seconds or seconds > MAX_RETRY_AFTER:  # NaN, inf, absurd
        return None
    return max(0.0, seconds)


def _status_error(
    status: int, headers: Mapping[str, str], message: str, model: str, base_url: str = ""
) -> InferenceError:
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
            _not_found_message(model, base_url),
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
    if status == 503 and "loading" in message.lower():
        return InferenceError(
            "upstream.loading", "The model is still loading.", retryable=True, status=status
        )
    if status >= 500:
        return InferenceError(
            "upstream.server_error",
            f"The model server failed (HTTP {status}).",
            retryable=True,
            retry_after=_retry_after(headers),
            status=status,
        )
    return InferenceError(
        "upstream.bad_request",
        f"The model server rejected the request (HTTP {status}).",
        retryable=False,
        status=status,
    )


def _not_found_message(model: str, base_url: str) -> str:
    """A 404 from a base URL without /v1 is a wrong path, not an unknown model."""
    path = httpx2.URL(base_url).path.rstrip("/") if base_url else "/v1"
    if not path.endswith("/v1"):
        return (
            "The model server answered HTTP 404: FLINT_BASE_URL does not end in /v1, and "
            "most OpenAI-compatible servers serve the API under /v1 (for example "
            "http://127.0.0.1:11434/v1). Add /v1 to FLINT_BASE_URL; if the path is right, "
            f"check FLINT_MODEL ({model!r})."
        )
    return f"The model server does not know the model {model!r} (HTTP 404). Check FLINT_MODEL."


def _lean_error(exc: HTTPStreamError) -> InferenceError:
    """The lean reader's failures, as the SDK path reports the same ones."""
    if exc.kind in ("timeout", "connect_timeout"):
        return InferenceError(
            "upstream.timeout", "The model server did not answer in time.", retryable=True
        )
    if exc.kind == "read_timeout":
        return InferenceError(
            "upstream.timeout",
            "The model server stopped sending mid-answer and timed out.",
            retryable=True,
        )
    if exc.kind == "connect":
        return InferenceError(
            "upstream.unreachable",
            "Could not connect to the model server. Is FLINT_BASE_URL right and the server up?",
            retryable=True,
        )
    return InferenceError(  # closed, protocol, broken
        "upstream.interrupted",
        "The connection to the model server broke mid-answer.",
        retryable=True,
    )


def _connection_error(exc: openai.APIConnectionError) -> InferenceError:
    # A read error after headers means the stream broke mid-way; before that,
    # the server could not be reached at all. Neither message names the key.
    cause = exc.__cause__
    if cause is not None and "RemoteProtocolError" in type(cause).__name__:
        return InferenceError(
            "upstream.interrupted",
            "The connection to the model server broke mid-answer.",
            retryable=True,
        )
    return InferenceError(
        "upstream.unreachable",
        "Could not connect to the model server. Is FLINT_BASE_URL right and the server up?",
        retryable=True,
    )
