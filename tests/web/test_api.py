"""The HTTP generation endpoint (Server-Sent Events)."""

from __future__ import annotations

import orjson
import pytest
from channels.db import database_sync_to_async
from django.test import AsyncClient

from playground import persistence
from playground.testing.upstream import Reply, ScriptedUpstream
from tests.socket.test_consumer import OWNER

pytestmark = [pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def new_playground() -> str:
    return persistence.playground_create("python", owner_token=OWNER).id


async def post(
    pid: str, body: bytes, content_type: str = "application/json", owner: str | None = OWNER
):
    client = AsyncClient()
    if owner:
        client.cookies["flint_owner"] = owner
    return await client.post(f"/api/p/{pid}/generate", body, content_type=content_type)


async def test_it_streams_the_same_events_as_the_socket(use_upstream: ScriptedUpstream) -> None:
    use_upstream.script(Reply(text="print('hi')"))
    pid = await new_playground()
    body = orjson.dumps({"type": "gen.start", "instruction": "x", "files": {"main.py": "pass\n"}})
    resp = await post(pid, body)
    assert resp.status_code == 200 and resp["Content-Type"] == "text/event-stream"
    raw = b"".join([chunk async for chunk in resp.streaming_content])
    events = [orjson.loads(line[6:]) for line in raw.split(b"\n\n") if line.startswith(b"data: ")]
    assert events[0]["type"] == "gen.started"
    assert events[-1]["type"] == "gen.done" and events[-1]["reason"] == "stop"
    assert "".join(e.get("text", "") for e in events) == "print('hi')"


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b"{bad", "application/json", 400, "protocol.invalid"),
        (b'{"type": "gen.start", "files": {}}', "application/json", 400, "protocol.invalid"),
        (b"instruction=x", "application/x-www-form-urlencoded", 415, "http.content_type"),
    ],
)
async def test_bad_requests_get_the_canonical_error(
    use_upstream: ScriptedUpstream, body: bytes, content_type: str, status: int, code: str
) -> None:
    resp = await post(await new_playground(), body, content_type)
    assert resp.status_code == status
    err = orjson.loads(resp.content)
    assert err["type"] == "error" and err["code"] == code and err["message"]


async def test_an_unknown_playground_is_404(use_upstream: ScriptedUpstream) -> None:
    body = orjson.dumps({"type": "gen.start", "instruction": "x", "files": {}})
    resp = await post("missing", body)
    assert resp.status_code == 404 and orjson.loads(resp.content)["code"] == "playground.not_found"


async def test_get_is_refused(use_upstream: ScriptedUpstream) -> None:
    resp = await AsyncClient().get(f"/api/p/{await new_playground()}/generate")
    assert resp.status_code == 405


async def test_a_viewer_cannot_ask_the_model(use_upstream: ScriptedUpstream) -> None:
    body = orjson.dumps({"type": "gen.start", "instruction": "x", "files": {}})
    resp = await post(await new_playground(), body, owner=None)
    assert resp.status_code == 403 and orjson.loads(resp.content)["code"] == "auth.forbidden"
    assert use_upstream.requests == []
