"""The socket end to end on the real local model (SmolLM2-135M under llama.cpp)."""

from __future__ import annotations

import importlib.util

import pytest
from django.test import override_settings

from playground.inference.local.server import stop_shared
from tests.inference.local.test_e2e_llama import MODEL, smollm2  # noqa: F401 - fixture
from tests.socket.test_consumer import connect, start, text_of, until_done

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None,
        reason="llama_cpp is not importable: run scripts/install-llama.sh to build it",
    ),
]

LOCAL = {
    "BACKEND": "playground.inference.local.backend.LocalModelBackend",
    "MODEL": MODEL,
    "THREADS": 1,
    "MAX_TOKENS": 24,
    "EDIT_FORMAT": "whole_file",
}


@pytest.mark.usefixtures("smollm2")
async def test_an_instruction_streams_real_tokens_from_the_local_model() -> None:
    with override_settings(FLINT_BACKEND=LOCAL):
        try:
            comm = await connect()
            await comm.send_json_to(start("Say hello in one short sentence."))
            events = await until_done(comm, wait=300)
            await comm.disconnect()
        finally:
            stop_shared()
    kinds = [e["type"] for e in events]
    assert kinds[0] == "gen.started" and events[0]["backend"] == "local"
    assert events[-1]["reason"] in ("stop", "length"), events[-1]
    deltas = [e for e in events if e["type"] == "gen.delta"]
    assert deltas and text_of(events).strip(), "the model wrote something"
    assert events[-1]["stats"]["tokens"] > 0
