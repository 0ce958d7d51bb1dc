"""One backend per chosen model, built from the configured settings."""

from __future__ import annotations

import pytest
from django.test import override_settings

from playground.inference import catalog, get_backend
from playground.inference.local.backend import LocalModelBackend
from playground.testing.upstream import ScriptedUpstream
from tests.conftest import backend_config

LOCAL = {"BACKEND": "playground.inference.local.backend.LocalModelBackend", "MODEL": "smollm2-135m"}


async def test_each_model_gets_its_own_backend_and_the_default_its_usual_one(
    use_upstream: ScriptedUpstream,
) -> None:
    default = get_backend()
    assert get_backend(catalog.backend_key(catalog.default_choice())) is default
    other = get_backend("endpoint:gpt-other")
    assert other is not default and other.info.model == "gpt-other"
    assert other is get_backend("endpoint:gpt-other"), "cached per loop"
    local = get_backend("local:qwen2.5-coder-0.5b")
    assert isinstance(local, LocalModelBackend) and local.info.model == "qwen2.5-coder-0.5b"


async def test_local_models_share_one_slot_so_a_switch_never_kills_a_running_answer(
    use_upstream: ScriptedUpstream,
) -> None:
    small, tiny = get_backend("local:qwen2.5-coder-0.5b"), get_backend("local:smollm2-135m")
    assert isinstance(small, LocalModelBackend) and isinstance(tiny, LocalModelBackend)
    assert small.queue is tiny.queue
    assert small.max_concurrent == tiny.max_concurrent == 1


def test_the_local_setting_is_used_for_local_choices_even_with_an_endpoint(
    upstream: ScriptedUpstream,
) -> None:
    with override_settings(
        FLINT_BACKEND=backend_config(upstream),
        FLINT_LOCAL_BACKEND={**LOCAL, "THREADS": 1, "MODEL": None},
    ):
        assert catalog.backend_setting("local:smollm2-135m") == {
            **LOCAL,
            "THREADS": 1,
            "MODEL": "smollm2-135m",
        }
        assert catalog.backend_setting("endpoint:x")["BASE_URL"] == upstream.base_url
        assert catalog.backend_setting("endpoint:x")["MODEL"] == "x"


def test_endpoint_urls_are_shown_without_credentials() -> None:
    assert catalog.display_url("https://u:p@api.example:8443/v1/?key=1") == (
        "https://api.example:8443/v1"
    )


@pytest.mark.parametrize(
    ("model", "endpoint", "used", "noted"),
    [
        ("", "", "local:smollm2-135m", False),
        ("local:qwen2.5-coder-0.5b", "", "local:qwen2.5-coder-0.5b", False),
        ("local:gone-model", "", "local:smollm2-135m", True),
        ("endpoint:gpt-x", "https://api.example/v1", "local:smollm2-135m", True),
    ],
)
def test_a_stored_choice_this_server_cannot_honour_falls_back_with_a_note(
    model: str, endpoint: str, used: str, noted: bool
) -> None:
    with override_settings(FLINT_BACKEND=LOCAL):
        choice, note = catalog.effective(model, endpoint)
    assert choice.id == used
    assert (note is not None) is noted
