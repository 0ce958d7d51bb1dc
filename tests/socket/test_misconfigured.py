"""A session the server cannot start is told why, then closed with 4500 (no retry loop)."""

from __future__ import annotations

import pytest
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from flint.asgi import application
from tests.socket.test_consumer import OWNER, new_playground

pytestmark = [pytest.mark.django_db(transaction=True)]

TYPO = {
    "BACKEND": "playground.inference.local.backend.LocalModelBackend",
    "MODEL": "qwen-typo",
    "EDIT_FORMAT": "whole_file",
}


async def test_an_unknown_local_model_is_an_error_then_close_4500() -> None:
    pid = await new_playground()
    with override_settings(FLINT_BACKEND=TYPO):
        comm = WebsocketCommunicator(
            application,
            f"/ws/p/{pid}/",
            headers=[
                (b"origin", b"http://127.0.0.1"),
                (b"host", b"127.0.0.1"),
                (b"cookie", f"flint_owner={OWNER}".encode()),
            ],
        )
        connected, _ = await comm.connect()
        assert connected
        error = await comm.receive_json_from()
        closed = await comm.receive_output()
    assert error["type"] == "error" and error["code"] == "server.misconfigured"
    assert "FLINT_LOCAL_MODEL is 'qwen-typo'" in error["message"]
    assert "qwen2.5-coder-0.5b" in error["message"]
    assert closed["type"] == "websocket.close" and closed["code"] == 4500
