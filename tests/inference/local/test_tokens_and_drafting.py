"""The local model's own tokenizer for prompt budgets, and prompt-lookup drafting (#11)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from playground.inference.base import ChatRequest, Message
from playground.inference.local.backend import LocalModelBackend
from playground.inference.local.server import ServerConfig, stop_shared
from tests.inference.local.test_e2e_llama import MODEL, smollm2  # noqa: F401 (fixture)


def test_prompt_lookup_drafting_is_off_unless_asked_for() -> None:
    plain = ServerConfig(model_path=Path("m.gguf"), alias="m").argv(1234)
    assert "--draft_model" not in plain
    drafting = ServerConfig(model_path=Path("m.gguf"), alias="m", draft_tokens=8).argv(1234)
    at = drafting.index("--draft_model")
    assert drafting[at : at + 4] == [
        "--draft_model",
        "prompt-lookup-decoding",
        "--draft_model_num_pred_tokens",
        "8",
    ]


def test_no_count_before_the_model_is_loaded() -> None:
    backend = LocalModelBackend(model=MODEL, threads=1)
    assert backend.count_tokens("def greet(name): ...") is None


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None,
    reason="llama_cpp is not importable: run scripts/install-llama.sh to build it",
)
async def test_a_drafting_server_answers_and_counts_with_the_models_tokenizer(
    smollm2: None,  # noqa: F811
) -> None:
    backend = LocalModelBackend(model=MODEL, threads=1, max_tokens=8, draft_tokens=4)
    try:
        request = ChatRequest(messages=(Message("user", "Say hi."),), max_tokens=8)
        text = "".join([d.text async for d in backend.stream(request)])  # type: ignore[attr-defined]
        assert text.strip(), "the server started with drafting on and answered"
        code = 'def greet(name):\n    return f"Hello, {name}!"\n'
        counted = backend.count_tokens(code)
        assert counted is not None and 8 <= counted < len(code)
        assert backend.count_tokens(code * 2) in (2 * counted, 2 * counted - 1, 2 * counted + 1)
    finally:
        await backend.aclose()
        stop_shared()
