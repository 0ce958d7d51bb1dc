"""Daphne set-up in process: frames without autobahn's debug formatting, start-up frozen."""

from __future__ import annotations

import collections
from typing import Any

import pytest

from flint import serving


class Transport:
    def __init__(self) -> None:
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(data)


def protocol() -> Any:
    serving.install()
    from autobahn.websocket.protocol import TrafficStats, WebSocketProtocol
    from daphne import server

    factory = server.WebSocketFactory(object(), server="Daphne")
    proto = factory.protocol()
    proto.factory = factory
    proto.transport = Transport()
    proto.send_queue = collections.deque()
    proto.logOctets = False
    proto.state = WebSocketProtocol.STATE_OPEN
    proto.trafficStats = TrafficStats()
    return proto


def test_a_frame_is_written_as_autobahn_writes_it_without_the_debug_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from autobahn import util

    proto = protocol()
    formatted: list[Any] = []
    monkeypatch.setattr(util, "hl", lambda *a, **k: formatted.append(a) or "")
    proto.sendData(b"\x81\x03abc")
    assert proto.transport.written == [b"\x81\x03abc"]
    assert proto.trafficStats.outgoingOctetsWireLevel == 5
    assert formatted == []  # nothing formatted for a log line nobody reads


def test_with_autobahn_debug_on_its_own_path_logs_the_frame() -> None:
    proto = protocol()
    lines: list[str] = []
    proto.log.debug = lambda fmt, **kw: lines.append(fmt)
    proto.sendData(b"\x81\x01x")
    assert proto.transport.written == [b"\x81\x01x"] and lines
    queued = protocol()
    queued.send_queue.append((b"first", False))  # a queued write keeps its order
    queued._trigger = lambda: None
    queued.sendData(b"second")
    assert queued.transport.written == [] and list(queued.send_queue)[-1] == (b"second", False)


def test_start_up_objects_are_frozen_out_of_the_collectors_walks() -> None:
    import gc

    try:
        frozen = serving.freeze_startup_objects()
        assert frozen > 1000 and gc.get_freeze_count() == frozen
        assert gc.isenabled()  # later objects are still collected
    finally:
        gc.unfreeze()


class PlainTCP(Transport):
    """What _write_now reads of Twisted's tcp.Connection."""

    TLS = False
    connected = True
    disconnecting = False
    _writeDisconnected = False
    dataBuffer = b""
    offset = 0

    def __init__(self, takes: int) -> None:
        super().__init__()
        self.takes = takes  # bytes the socket accepts now
        self._tempDataBuffer: list[bytes] = []
        self.sent: list[bytes] = []

    def writeSomeData(self, data: bytes) -> int:
        self.sent.append(bytes(data[: self.takes]))
        return min(self.takes, len(data))


def test_on_plain_tcp_with_nothing_queued_a_frame_is_sent_at_once() -> None:
    whole = PlainTCP(takes=1 << 20)
    assert serving._write_now(whole, b"frame") and whole.sent == [b"frame"]
    assert whole.written == []  # nothing left for the loop's next pass
    part = PlainTCP(takes=2)
    assert serving._write_now(part, b"frame")
    assert part.sent == [b"fr"] and part.written == [b"ame"]  # the rest, queued in order
    queued = PlainTCP(takes=1 << 20)
    queued._tempDataBuffer = [b"earlier"]
    assert not serving._write_now(queued, b"later") and queued.sent == []
    tls = PlainTCP(takes=1 << 20)
    tls.TLS = True
    assert not serving._write_now(tls, b"x") and tls.sent == []
    assert not serving._write_now(Transport(), b"x")  # not Twisted's TCP transport
