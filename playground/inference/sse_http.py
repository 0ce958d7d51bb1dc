"""A lean HTTP/1.1 client for one thing: POST a request, read a streamed (SSE) body.

Why (issue #15, docs/benchmarks.md "Per-token cost at real-time rates"): at 1,000 tokens/s
a real server sends every SSE event as its own HTTP chunk, in its own TCP segment, so
each token is one network read. Through httpx/httpcore/h11 and anyio every read paid
for a timeout scope, an epoll unregister/register, one h11 event per chunk and four
layers of async iterators: ~200 us of CPU per token. Here the socket is an asyncio
``Protocol``: the event loop calls ``data_received`` with whatever arrived, the chunked
framing is undone in place, and the reader is woken once with *all* complete body bytes
there are (many events when it fell behind, one at real-time rates). A read costs the
loop's callback, a regex match per chunk and one future. Since a wake-up of the process
is most of what a small read costs, a connection whose small reads come less than
``interval`` apart is then read at most once per ``interval`` (paused meanwhile; the
first reads of an answer never wait), on a grid of loop time shared with the frame
relays' timers, so one wake-up serves every stream.

What it does (everything else stays on the SDK path, see openai_compatible.py): http
and https (``ssl`` with the SDK's own context, so ``SSL_CERT_FILE`` and friends work the
same), ``Transfer-Encoding: chunked``, ``Content-Length`` and close-delimited bodies,
1xx interim responses skipped, keep-alive connections pooled per origin and reused
(idle ones expire after ``KEEPALIVE_EXPIRY`` s, as httpx's do; one closed by the server
while idle is never handed out; a reused one that dies before the first byte of the
answer is retried once on a new connection). Timeouts: ``connect`` for the TCP/TLS set-up
and ``read`` for any silence (waiting for the head, or between reads of the body), kept
by one timer per connection that re-arms itself only when it fires, not a timeout scope
per read. Closing the reader early (Stop) closes the connection at once.

Errors are raised as :class:`HTTPStreamError` with a ``kind`` the backend maps to the
same user-facing errors as the SDK path: ``connect`` (could not reach or set up),
``connect_timeout``, ``timeout`` (silence before the head), ``closed`` (the server
closed before the head), ``protocol`` (not HTTP/1.x), ``read_timeout`` / ``broken``
(mid-body). No message names a header or the request, so none can carry the key.
"""

from __future__ import annotations

import asyncio
import collections
import re
import ssl
import time
from collections.abc import AsyncIterator, Callable
from typing import Literal

KEEPALIVE_EXPIRY = 5.0  # s an idle pooled connection is kept (httpx's default)
MAX_IDLE_PER_ORIGIN = 100  # the SDK's max_keepalive_connections
MAX_HEAD = 64 * 1024  # bytes of status line and headers
MAX_CHUNK_LINE = 4096
HIGH_WATER = 1024 * 1024  # unread body bytes before the socket is paused
MAX_ERROR_BODY = 64 * 1024  # bytes of an error answer kept
PACE_BELOW = 16 * 1024  # bytes; reads this large are not paced

ErrorKind = Literal[
    "connect", "connect_timeout", "timeout", "closed", "protocol", "read_timeout", "broken"
]
_STATUS_RE = re.compile(rb"HTTP/1\.([01]) (\d{3})(?: [^\r\n]*)?")
_HEX = frozenset(b"0123456789abcdefABCDEF")
_match_size = re.compile(rb"([0-9a-fA-F]{1,16})[ \t]*(?:;[^\r\n]*)?\r\n").match


class HTTPStreamError(Exception):
    def __init__(self, kind: ErrorKind, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


# Body framing states.
_HEAD, _SIZE, _DATA, _CRLF, _TRAILER, _LENGTH, _UNTIL_CLOSE, _DONE = range(8)


class _Conn(asyncio.Protocol):
    """One HTTP/1.1 connection; parses what arrives as it arrives."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, timeout: float | None, interval: float = 0.0
    ) -> None:
        self.loop = loop
        self.timeout = timeout
        self.interval = interval  # read pacing (see data_received); 0: off
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()  # bytes received and not parsed yet
        self.body: list[bytes | bytearray] = []  # decoded body the reader has not taken
        self.pending = 0  # len of body, summed
        self.state = _HEAD
        self.remaining = 0
        self.status = 0
        self.headers: dict[str, str] = {}
        self.keep_alive = True
        self.error: HTTPStreamError | None = None
        self.lost = False  # the connection is gone (or going)
        self.received = False  # any byte of the current response arrived
        self.waiter: asyncio.Future[None] | None = None
        self.paused = False  # by flow control: the reader has not taken HIGH_WATER bytes
        self.pacing: asyncio.TimerHandle | None = None  # paused until the next read is due
        self.fast = 0  # body reads in a row that came less than ``interval`` apart
        self.resumed = False
        self.last_body = 0.0
        self.last = 0.0  # loop time of the last byte (or of the request)
        self.idle_since = 0.0
        self.timer: asyncio.TimerHandle | None = None

    # --- protocol callbacks -----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.last = self.loop.time()
        if self.state == _DONE:  # bytes nobody asked for: the connection is unusable
            self.keep_alive = False
            return
        self.received = True
        self.buf += data
        try:
            self._parse()
        except HTTPStreamError as exc:
            self.error = exc
            self.keep_alive = False
        transport = self.transport
        if self.pending > HIGH_WATER and not self.paused and transport is not None:
            self.paused = True
            if self.pacing is None:
                transport.pause_reading()
        if self.interval and self.body and self.state != _DONE and len(data) < PACE_BELOW:
            # Pacing: once the body comes in reads less than ``interval`` apart (a stream
            # at a real-time rate: one token per chunk, 1 ms apart), read at most once per
            # interval, so one read (and one wake-up of the reader) carries every chunk
            # that arrived meanwhile. The first reads of an answer never wait (no added
            # time to the first token); a wait adds at most ``interval`` to a token whose
            # frame waits FLINT_FRAME_INTERVAL anyway. Large reads are never paced: a fast
            # stream batches by itself, and one read per interval would cap its rate.
            now = self.last
            hot = self.resumed or now - self.last_body < self.interval
            self.fast = self.fast + 1 if hot else 0
            self.last_body = now
            self.resumed = False
            if self.fast >= 2 and self.pacing is None and transport is not None:
                if not self.paused:
                    transport.pause_reading()
                # On a grid of ``interval`` (loop time): every paced connection, and the
                # frame relays (generations/relay.py: a 4 ms grid, 8 ms is on it) wake together.
                q = self.interval
                self.pacing = self.loop.call_at((int(now / q + 0.5) + 1) * q, self._resume)
        self._wake()

    def _resume(self) -> None:
        self.pacing = None
        self.resumed = True  # the next read is still part of a fast stream
        if not self.paused and not self.lost and self.transport is not None:
            self.transport.resume_reading()

    def stop_pacing(self) -> None:
        if self.pacing is not None:
            self.pacing.cancel()
            self._resume()
        self.fast = 0
        self.resumed = False

    def eof_received(self) -> bool:
        self._ended()
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._ended()
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _ended(self) -> None:
        self.lost = True
        self.keep_alive = False
        if self.state == _UNTIL_CLOSE:
            self.state = _DONE
        elif self.state != _DONE and self.error is None:
            if self.state == _HEAD:
                kind: ErrorKind = "closed" if not self.buf else "protocol"
                self.error = HTTPStreamError(kind, "the server closed the connection")
            else:
                self.error = HTTPStreamError("broken", "the body ended early")
        self._wake()

    def _wake(self) -> None:
        w = self.waiter
        if w is not None and not w.done():
            w.set_result(None)

    # --- parsing ------------------------------------------------------------------------

    def _parse(self) -> None:
        buf = self.buf
        pos = 0
        while True:
            state = self.state
            if state in (_DATA, _LENGTH):
                left = len(buf) - pos
                if left <= 0:
                    break
                take = self.remaining if self.remaining < left else left
                self.body.append(buf[pos : pos + take])
                self.pending += take
                pos += take
                self.remaining -= take
                if self.remaining == 0:
                    self.state = _CRLF if state == _DATA else _DONE
            elif state == _SIZE:
                # Fast path: whole chunks in the buffer (a server that falls behind, or a
                # paced read, brings hundreds of one-event chunks at once).
                n = len(buf)
                body = self.body
                while True:
                    m = _match_size(buf, pos)
                    if m is None:
                        break
                    size = int(m.group(1), 16)
                    start = m.end()
                    end = start + size
                    if not size or end + 2 > n or buf[end : end + 2] != b"\r\n":
                        break  # the last chunk, a partial one, or a bad one: the slow path
                    body.append(buf[start:end])
                    self.pending += size
                    pos = end + 2
                if pos >= n:
                    break
                end = buf.find(b"\r\n", pos)
                if end < 0:
                    if len(buf) - pos > MAX_CHUNK_LINE:
                        raise HTTPStreamError("broken", "a chunk size line too long")
                    break
                digits = bytes(buf[pos:end]).split(b";", 1)[0].strip()
                if not digits or not _HEX.issuperset(digits):
                    raise HTTPStreamError("broken", "a malformed chunk size")
                pos = end + 2
                self.remaining = int(digits, 16)
                self.state = _DATA if self.remaining else _TRAILER
            elif state == _CRLF:
                if len(buf) - pos < 2:
                    break
                if buf[pos : pos + 2] != b"\r\n":
                    raise HTTPStreamError("broken", "a chunk not ended by CRLF")
                pos += 2
                self.state = _SIZE
            elif state == _TRAILER:
                end = buf.find(b"\r\n", pos)
                if end < 0:
                    if len(buf) - pos > MAX_HEAD:
                        raise HTTPStreamError("broken", "trailers too long")
                    break
                if end == pos:  # the empty line that ends the trailers (usually: none)
                    self.state = _DONE
                pos = end + 2
            elif state == _HEAD:
                end = buf.find(b"\r\n\r\n", pos)
                if end < 0:
                    if len(buf) - pos > MAX_HEAD:
                        raise HTTPStreamError("protocol", "a response head too long")
                    break
                self._head(bytes(buf[pos:end]))
                pos = end + 4
            elif state == _UNTIL_CLOSE:
                if len(buf) > pos:
                    self.body.append(buf[pos:])
                    self.pending += len(buf) - pos
                pos = len(buf)
                break
            else:  # _DONE: bytes after the body
                if len(buf) > pos:
                    self.keep_alive = False
                pos = len(buf)
                break
        if pos:
            del buf[:pos]

    def _head(self, head: bytes) -> None:
        lines = head.split(b"\r\n")
        m = _STATUS_RE.fullmatch(lines[0])
        if m is None:
            raise HTTPStreamError("protocol", "not an HTTP/1.x response")
        status = int(m.group(2))
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep or not name or name != name.strip():
                raise HTTPStreamError("protocol", "a malformed header line")
            key = name.decode("latin-1").lower()
            text = value.strip().decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        if 100 <= status < 200:  # interim (100 Continue, 103 Early Hints): the real one follows
            return
        self.status = status
        self.headers = headers
        connection = headers.get("connection", "").lower()
        self.keep_alive = m.group(1) == b"1" and "close" not in connection
        te = headers.get("transfer-encoding", "").lower()
        if te:
            if te.rsplit(",", 1)[-1].strip() != "chunked":
                raise HTTPStreamError("protocol", "a transfer coding other than chunked")
            self.state = _SIZE
        elif "content-length" in headers:
            length = headers["content-length"].split(",")[0].strip()
            if not length.isdigit():
                raise HTTPStreamError("protocol", "a malformed Content-Length")
            self.remaining = int(length)
            self.state = _LENGTH if self.remaining else _DONE
        elif status in (204, 304):
            self.state = _DONE
        else:
            self.state = _UNTIL_CLOSE
            self.keep_alive = False

    # --- the reader's side --------------------------------------------------------------

    def start(self) -> None:
        """A new request on this connection: reset the response state, arm the timer."""
        self.state = _HEAD
        self.status = 0
        self.headers = {}
        self.received = False
        self.error = None
        self.body.clear()
        self.pending = 0
        self.fast = 0
        self.resumed = False
        self.last = self.loop.time()
        if self.timeout is not None and self.timer is None:
            self.timer = self.loop.call_at(self.last + self.timeout, self._on_timer)

    def _on_timer(self) -> None:
        self.timer = None
        if self.state == _DONE or self.lost or self.timeout is None:
            return
        due = self.last + self.timeout
        if self.loop.time() >= due - 0.001:
            kind: ErrorKind = "timeout" if self.state == _HEAD else "read_timeout"
            self.error = HTTPStreamError(kind, "no data within the read timeout")
            self.keep_alive = False
            self._wake()
        else:
            self.timer = self.loop.call_at(due, self._on_timer)

    async def wait(self) -> None:
        """Until something happened (bytes, the end, an error)."""
        fut = self.loop.create_future()
        self.waiter = fut
        try:
            await fut
        finally:
            self.waiter = None

    def take(self) -> bytes:
        body = self.body
        data = bytes(body[0]) if len(body) == 1 else b"".join(body)
        body.clear()
        self.pending = 0
        if self.paused:
            self.paused = False
            if self.pacing is None and self.transport is not None:
                self.transport.resume_reading()
        return data

    def close(self) -> None:
        self.keep_alive = False
        self.lost = True
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.pacing is not None:
            self.pacing.cancel()
            self.pacing = None
        if self.transport is not None:
            self.transport.close()


Origin = tuple[str, str, int]  # scheme, host, port


class Response:
    """The answer to one request: ``status``, ``headers``, then ``chunks()`` or ``read()``."""

    def __init__(self, pool: StreamPool, origin: Origin, conn: _Conn) -> None:
        self._pool = pool
        self._origin = origin
        self._conn = conn
        self.status = conn.status
        self.headers = conn.headers
        self._released = False

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives: each piece is every byte that arrived since the last."""
        conn = self._conn
        while True:
            if conn.body:
                yield conn.take()
                continue
            if conn.error is not None:
                raise conn.error
            if conn.state == _DONE:
                self._release()
                return
            await conn.wait()

    async def read(self, limit: int = MAX_ERROR_BODY) -> bytes:
        """The whole body, up to ``limit`` bytes (a longer one is cut and its connection closed)."""
        parts: list[bytes] = []
        size = 0
        async for piece in self.chunks():
            parts.append(piece)
            size += len(piece)
            if size >= limit:
                self.aclose()
                break
        return b"".join(parts)[:limit]

    def _release(self) -> None:
        if not self._released:
            self._released = True
            self._pool.release(self._origin, self._conn)

    def aclose(self) -> None:
        """Done with the response: a finished one goes back to the pool, else it is closed."""
        if self._released:
            return
        self._released = True
        if self._conn.state == _DONE and self._conn.error is None:
            self._pool.release(self._origin, self._conn)
        else:
            self._conn.close()


class StreamPool:
    """Keep-alive connections per origin, for one event loop."""

    def __init__(
        self,
        *,
        connect_timeout: float | None,
        read_timeout: float | None,
        ssl_context: Callable[[], ssl.SSLContext],
        read_interval: float = 0.0,
    ) -> None:
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.read_interval = read_interval
        self._ssl_context = ssl_context
        self._ssl: ssl.SSLContext | None = None
        self._idle: dict[Origin, collections.deque[_Conn]] = {}
        self.opened = 0  # connections opened (tests and benchmarks read it)

    async def request(
        self, origin: Origin, target: str, headers: dict[str, str], body: bytes
    ) -> Response:
        """Send ``POST target`` with ``body``; return once the response head is in."""
        scheme, host, port = origin
        default = 443 if scheme == "https" else 80
        host_header = host if port == default else f"{host}:{port}"
        if ":" in host and not host.startswith("["):
            host_header = f"[{host}]" if port == default else f"[{host}]:{port}"
        lines = [f"POST {target} HTTP/1.1", f"Host: {host_header}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines.append(f"Content-Length: {len(body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        conn = self._take(origin)
        reused = conn is not None
        if conn is None:
            conn = await self._connect(origin)
        try:
            return await self._send(origin, conn, head + body)
        except HTTPStreamError as exc:
            if not (reused and exc.kind in ("closed", "broken") and not conn.received):
                raise
        # The server closed the kept-alive connection as we reused it: once more, anew.
        conn = await self._connect(origin)
        return await self._send(origin, conn, head + body)

    async def _send(self, origin: Origin, conn: _Conn, data: bytes) -> Response:
        conn.start()
        assert conn.transport is not None
        try:
            conn.transport.write(data)
            while conn.state == _HEAD:
                if conn.error is not None:
                    raise conn.error
                await conn.wait()
        except BaseException:
            conn.close()
            raise
        return Response(self, origin, conn)

    def _take(self, origin: Origin) -> _Conn | None:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            conn = idle.pop()
            if (
                conn.lost
                or not conn.keep_alive  # e.g. bytes arrived while it was idle
                or conn.transport is None
                or conn.transport.is_closing()
                or now - conn.idle_since > KEEPALIVE_EXPIRY
            ):
                conn.close()
                continue
            return conn
        return None

    async def _connect(self, origin: Origin) -> _Conn:
        scheme, host, port = origin
        loop = asyncio.get_running_loop()
        context: ssl.SSLContext | None = None
        if scheme == "https":
            if self._ssl is None:
                self._ssl = self._ssl_context()
            context = self._ssl
        conn = _Conn(loop, self.read_timeout, self.read_interval)
        try:
            async with asyncio.timeout(self.connect_timeout):
                await loop.create_connection(
                    lambda: conn,
                    host.strip("[]"),
                    port,
                    ssl=context,
                    server_hostname=host.strip("[]") if context is not None else None,
                )
        except TimeoutError:
            raise HTTPStreamError("connect_timeout", "connecting timed out") from None
        except (OSError, ssl.SSLError) as exc:
            raise HTTPStreamError("connect", type(exc).__name__) from None
        self.opened += 1
        return conn

    def release(self, origin: Origin, conn: _Conn) -> None:
        if not conn.keep_alive or conn.lost or conn.buf:
            conn.close()
            return
        if conn.timer is not None:
            conn.timer.cancel()
            conn.timer = None
        conn.stop_pacing()  # an idle connection reads, so a close by the server is seen
        idle = self._idle.setdefault(origin, collections.deque())
        if len(idle) >= MAX_IDLE_PER_ORIGIN:
            conn.close()
            return
        conn.idle_since = time.monotonic()
        idle.append(conn)

    def close(self) -> None:
        for idle in self._idle.values():
            while idle:
                idle.pop().close()
        self._idle.clear()
