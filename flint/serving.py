"""Limits enforced where the bytes arrive: in Daphne, before anything is buffered.

Daphne (through Twisted) reads a whole request body, into a temporary file and
then into the application's queue, before the application sees a single byte,
so an ASGI middleware alone can only refuse a body after it has cost memory.
Daphne has no option for a body cap or for a deadline on a half-sent request,
caps WebSocket messages at 1 MiB by default, drops the connection (no close
frame) on a message over its cap, and refuses to send close code 1008 from an
application (autobahn's ``sendClose`` allows only 1000 and 3000-4999).

``install()`` fixes these for the Daphne running this process, whichever way it
was started (``daphne flint.asgi:application`` or ``manage.py runserver``:
both import flint/asgi.py, which calls it, before the server starts). It swaps
in subclasses of Daphne's request and WebSocket classes:

* a request whose ``Content-Length`` is over its cap (``body_cap``) is
  answered 413 as soon as its headers are in, and its body is read and thrown
  away, never stored; a chunked body is counted as it arrives and cut off the
  same way;
* a request not fully received ``FLINT_REQUEST_TIMEOUT`` seconds (30) after its
  first line is answered 408 and closed (Twisted's idle timeout stops once the
  request line is in, so headers could trickle forever);
* WebSocket frames and messages are capped at ``WS_HARD_CAP_BYTES`` (over
  Flint's message limit, which gets a readable error), and a message over the
  cap is closed with 1009 instead of dropped;
* an application may close a socket with any code an endpoint may send
  (1000-1003, 1007-1011, 3000-4999), so the flood cut-off's 1008 goes out;
* a frame is written, and a read handed on, without the debug line autobahn
  formats for each (colouring three values with click) whatever the log level,
  unless its debug log is on; and on a plain TCP connection with nothing queued it is sent at once
  (``_write_now``), where Twisted would queue it, watch the socket for writing
  and send it on the loop's next pass;
* when the server starts, generation records left "running" by a process
  that died mid-answer are closed (``close_dead_generations``), and the objects
  of start-up (Django, the app, the libraries: ~165,000) are moved out of the
  garbage collector's way (``freeze_startup_objects``).

Written against Daphne 4.2 (pinned in pyproject.toml); tests/servers/
test_hardening.py drives each behaviour through a real Daphne process.
"""

from __future__ import annotations

import gc
import logging
from typing import Any

import orjson

from playground import limits
from playground.protocol import error

log = logging.getLogger(__name__)

# Close codes RFC 6455 lets an endpoint send (1004-1006 and 1015 are reserved).
_SENDABLE = frozenset([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011])


def body_cap(path: str) -> int:
    """The largest request body accepted on ``path`` (query string ignored)."""
    if path.split("?", 1)[0].rstrip("/") == "/import":
        return limits.MAX_IMPORT_BYTES  # checked before anything parses the upload
    return limits.MAX_REQUEST_BODY_BYTES


def too_large_body(path: str, cap: int) -> bytes:
    what = "upload" if body_cap(path) == limits.MAX_IMPORT_BYTES else "request body"
    code = "import.too_large" if what == "upload" else "http.too_large"
    return orjson.dumps(error(code, f"The {what} is over {cap} bytes; make it smaller.", limit=cap))


def _raw_response(status: bytes, body: bytes) -> bytes:
    return (
        b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body
    )


def _later(seconds: float, call: Any) -> Any:
    # Imported when first needed: Daphne installs its asyncio reactor at start-up,
    # and importing twisted's reactor any earlier would install the default one.
    from twisted.internet import reactor

    return getattr(reactor, "callLater")(seconds, call)  # noqa: B009  (untyped in stubs)


def _receive_timeout() -> float:
    from django.conf import settings

    return float(getattr(settings, "FLINT_REQUEST_TIMEOUT", limits.REQUEST_RECEIVE_TIMEOUT))


def close_dead_generations() -> int:
    """Close the records of generations that died with their process; how many.

    Only records that began before now: this process has started none yet. On
    the memory hub each of them is dead (a generation lives in the process that
    runs it). With Redis another process may still be running one: those whose
    playground's claim in Redis names them are left alone.
    """
    from django.conf import settings
    from django.utils import timezone

    from playground.persistence import generations_close_dead

    alive: Any = lambda playground, gen: False  # noqa: E731
    client = None
    try:
        if str(settings.FLINT_HUB.get("BACKEND", "")).endswith("RedisHub"):
            import redis

            from playground.hub.redis import claim_key

            client = redis.Redis.from_url(str(settings.FLINT_HUB["URL"]))

            def alive(playground: str, gen: str) -> bool:
                found: Any = client.get(claim_key(playground))
                return bytes(found or b"").decode() == gen

        closed = generations_close_dead(timezone.now(), alive)
    except Exception:
        log.exception("could not close the records of generations that died with a process")
        return 0
    finally:
        if client is not None:
            client.close()
    if closed:
        log.warning("closed %d generation record(s) left running by a stopped process", closed)
    return closed


def freeze_startup_objects() -> int:
    """Collect once, then move every object alive now to the collector's permanent
    generation (``gc.freeze``); how many.

    They live as long as the process (modules, classes, settings, URL patterns), and
    a full collection walks them all: ~45 ms on this project's 2-core machine, a
    pause in whatever turn it falls on, every few tens of thousands of surviving
    objects. Frozen, they are no longer walked; what is created later is collected
    as before.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def _write_now(transport: Any, data: bytes) -> bool:
    """Send ``data`` on a plain TCP transport now, if nothing is queued before it.

    Twisted's ``write`` always queues: it registers the socket for writing (an
    epoll_ctl), sends on the loop's next pass and unregisters (another). For one
    frame with an empty queue that is a loop pass and two system calls more than
    sending. What the socket does not take now is queued the usual way, behind
    nothing, so the order holds. False (the caller writes the usual way) under TLS,
    with anything queued, or on a connection closing or lost.
    """
    if (
        getattr(transport, "TLS", True)  # not Twisted's plain TCP connection, or TLS
        or not getattr(transport, "connected", False)
        or transport.disconnecting
        or transport._writeDisconnected
        or transport._tempDataBuffer
        or len(transport.dataBuffer) > transport.offset
    ):
        return False
    sent = transport.writeSomeData(data)
    if not isinstance(sent, int):  # the connection is lost: Twisted's write sees to it
        return False
    if sent < len(data):
        transport.write(data[sent:])
    return True


def _txaio_no_op() -> Any:
    """What a disabled txaio log level is bound to (autobahn logs through txaio)."""
    try:
        from txaio import tx

        return tx._no_op
    except (ImportError, AttributeError):  # another txaio: always autobahn's own path
        return object()


def install() -> None:
    """Harden the Daphne classes this process will use; a no-op without Daphne."""
    try:
        from daphne import http_protocol, server, ws_protocol
    except ImportError:  # another ASGI server: flint/asgi.py's middleware still applies
        return
    if getattr(http_protocol, "_flint_hardened", False):
        return
    base_request: Any = http_protocol.WebRequest
    base_factory: Any = ws_protocol.WebSocketFactory
    base_protocol: Any = ws_protocol.WebSocketProtocol

    class FlintWebRequest(base_request):  # type: ignore[misc]
        _flint_refused = False
        _flint_seen = 0
        _flint_cap = limits.MAX_REQUEST_BODY_BYTES
        _flint_deadline: Any = None

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._flint_deadline = _later(_receive_timeout(), self._flint_too_slow)

        def _flint_path(self) -> str:
            raw: Any = getattr(self.channel, "_path", b"") or b""
            return raw.decode("latin-1") if isinstance(raw, bytes) else str(raw)

        def _flint_stop_clock(self) -> None:
            if self._flint_deadline is not None and self._flint_deadline.active():
                self._flint_deadline.cancel()
            self._flint_deadline = None

        def _flint_refuse(self, status: bytes, body: bytes) -> None:
            if self._flint_refused:
                return
            self._flint_refused = True
            self._flint_stop_clock()
            channel = self.channel
            if channel is None or channel.transport is None:
                return
            channel.transport.write(_raw_response(status, body))
            # Keep reading (and dropping) for a moment so the client, still
            # sending, reads the answer instead of a reset; then close.
            _later(2.0, channel.transport.loseConnection)

        def _flint_too_slow(self) -> None:
            self._flint_deadline = None
            seconds = _receive_timeout()
            body = orjson.dumps(
                error("http.timeout", f"The request was not fully sent within {seconds:g} s.")
            )
            self._flint_refuse(b"408 Request Timeout", body)
            if self.channel is not None and self.channel.transport is not None:
                self.channel.transport.loseConnection()

        def gotLength(self, length: int | None) -> None:
            self._flint_cap = body_cap(self._flint_path())
            if length is not None and length > self._flint_cap:
                self._flint_refuse(
                    b"413 Content Too Large", too_large_body(self._flint_path(), self._flint_cap)
                )
                length = 0  # nothing of it is kept: a BytesIO that stays empty
            super().gotLength(length)

        def handleContentChunk(self, data: bytes) -> None:
            if self._flint_refused:
                return  # read and dropped
            self._flint_seen += len(data)
            if self._flint_seen > self._flint_cap:  # a chunked body that grew too big
                self._flint_refuse(
                    b"413 Content Too Large", too_large_body(self._flint_path(), self._flint_cap)
                )
                return
            super().handleContentChunk(data)

        def requestReceived(self, command: bytes, path: bytes, version: bytes) -> None:
            self._flint_stop_clock()
            if self._flint_refused:
                return  # answered already; the connection is closing
            super().requestReceived(command, path, version)

        def connectionLost(self, reason: Any) -> None:
            self._flint_stop_clock()
            super().connectionLost(reason)

    no_op = _txaio_no_op()

    class FlintWebSocketProtocol(base_protocol):  # type: ignore[misc]
        def sendData(self, data: bytes, sync: bool = False, chopsize: int | None = None) -> None:
            # autobahn's own, less the per-frame debug line's formatting (a no-op log
            # call whose arguments are built anyway: ~10 us a frame).
            if sync or chopsize or self.send_queue or self.logOctets or self.log.debug is not no_op:
                super().sendData(data, sync, chopsize)
                return
            if not _write_now(self.transport, data):
                self.transport.write(data)
            if self.state == self.STATE_OPEN:
                self.trafficStats.outgoingOctetsWireLevel += len(data)
            elif self.state in (self.STATE_CONNECTING, self.STATE_PROXY_CONNECTING):
                self.trafficStats.preopenOutgoingOctetsWireLevel += len(data)

        def dataReceived(self, data: bytes) -> None:
            # autobahn's own, less its per-read debug line's formatting (three values
            # coloured with click, debug off or not).
            if self.log.debug is not no_op:
                super().dataReceived(data)
                return
            self._dataReceived(data)

        def serverClose(self, code: int | None = None) -> None:
            if code in _SENDABLE:
                self.sendCloseFrame(code=code, isReply=False)
            else:
                super().serverClose(code)

    class FlintWebSocketFactory(base_factory):  # type: ignore[misc]
        protocol = FlintWebSocketProtocol

        def setProtocolOptions(self, **options: Any) -> None:
            options.update(
                maxMessagePayloadSize=limits.WS_HARD_CAP_BYTES,
                maxFramePayloadSize=limits.WS_HARD_CAP_BYTES,
                failByDrop=False,  # a close frame (1009) rather than a silent drop
            )
            super().setProtocolOptions(**options)

    base_run: Any = server.Server.run

    def run(self: Any) -> Any:
        close_dead_generations()  # before the first request: nothing of ours runs yet
        freeze_startup_objects()
        return base_run(self)

    server.Server.run = run
    http_protocol.WebRequest = FlintWebRequest
    server.WebSocketFactory = FlintWebSocketFactory
    http_protocol._flint_hardened = True
