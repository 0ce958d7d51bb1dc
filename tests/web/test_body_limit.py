"""flint/asgi.py BodyLimit: the cap holds under any ASGI server, not only Daphne (#12)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from flint.asgi import application
from playground import limits

pytestmark = [pytest.mark.django_db]


async def call(path: str, headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> Any:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1"), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    pending = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]
    pulled = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += 1
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await application(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body, pulled


async def test_a_declared_length_over_the_cap_is_refused_unread() -> None:
    size = str(limits.MAX_REQUEST_BODY_BYTES + 1).encode()
    status, body, pulled = await call("/nowhere", [(b"content-length", size)], [b"x"])
    assert status == 413 and pulled == 0, "not one chunk read"
    assert orjson.loads(body)["code"] == "http.too_large"


async def test_import_has_its_own_smaller_cap() -> None:
    size = str(limits.MAX_IMPORT_BYTES + 1).encode()
    status, body, _ = await call("/import", [(b"content-length", size)], [b"x"])
    assert status == 413 and orjson.loads(body)["code"] == "import.too_large"


async def test_a_streamed_body_is_cut_off_once_past_the_cap() -> None:
    chunk = b"x" * (1024 * 1024)
    chunks = [chunk] * (limits.MAX_REQUEST_BODY_BYTES // len(chunk) + 3)
    status, _, pulled = await call("/nowhere", [], chunks)
    assert status == 413 and pulled < len(chunks)


async def test_a_non_numeric_length_is_a_bad_request() -> None:
    status, _, _ = await call("/nowhere", [(b"content-length", b"lots")], [b""])
    assert status == 400
