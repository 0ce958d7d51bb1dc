"""files.save over the socket: a refused save is an answer, never a dead socket (#10)."""

from __future__ import annotations

from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from playground.persistence.files import MAX_TOTAL_BYTES
from playground.protocol import MAX_FILES
from tests.socket.test_consumer import connect

pytestmark = [pytest.mark.django_db(transaction=True)]


def save(files: dict[str, str], base_version: int = 1, **extra: Any) -> dict[str, Any]:
    return {"type": "files.save", "files": files, "base_version": base_version, **extra}


async def still_healthy(comm: WebsocketCommunicator) -> None:
    await comm.send_json_to({"type": "ping", "t": 7})
    assert await comm.receive_json_from() == {"v": 1, "type": "pong", "t": 7}


BAD = {
    "backslash": ({"src\\util.js": "x"}, "bad_path"),
    "parent segment": ({"../escape.txt": "x"}, "bad_path"),
    "absolute": ({"/etc/passwd": "x"}, "bad_path"),
    "control char": ({"a\x01b.js": "x"}, "bad_path"),
    "too many files": ({f"f{i}.js": "" for i in range(MAX_FILES)}, "too_many"),
    "too much text": ({"big.txt": "x" * (MAX_TOTAL_BYTES + 1)}, "too_large"),
    "empty path": ({"": "x"}, "bad_path"),
    "long path": ({"a" * 300 + ".js": "x"}, "bad_path"),
}


@pytest.mark.parametrize("case", sorted(BAD))
async def test_a_refused_save_answers_files_invalid_and_the_socket_stays_healthy(
    case: str,
) -> None:
    files, rule = BAD[case]
    if case == "too many files":
        files = {**files, "one-more.js": ""}
    comm = await connect()
    # Room for the oversized case: here the save rules must answer, not the message cap.
    with override_settings(FLINT_MAX_MESSAGE_BYTES=4 * MAX_TOTAL_BYTES):
        await comm.send_json_to(save(files))
        reply = await comm.receive_json_from(timeout=10)
    assert reply["type"] == "error" and reply["code"] == "files.invalid", reply
    assert reply["detail"]["rule"] == rule and reply["message"]
    assert reply["retryable"] is False
    await still_healthy(comm)
    # And the next, valid save goes through on the same socket.
    await comm.send_json_to(save({"index.html": "<p>ok</p>\n"}))
    saved = await comm.receive_json_from(timeout=10)
    assert saved == {"v": 1, "type": "files.saved", "version": 2, "saved": True}
    await comm.disconnect()


async def test_a_stale_save_is_a_conflict_with_the_server_copy() -> None:
    comm = await connect()
    await comm.send_json_to(save({"index.html": "<p>mine</p>\n"}))
    assert (await comm.receive_json_from())["type"] == "files.saved"
    await comm.send_json_to(save({"index.html": "<p>stale</p>\n"}, base_version=1))
    reply = await comm.receive_json_from()
    assert reply["code"] == "save.conflict"
    assert reply["detail"]["server_version"] == 2
    assert reply["detail"]["server_files"] == {"index.html": "<p>mine</p>\n"}
    await still_healthy(comm)
    await comm.disconnect()
