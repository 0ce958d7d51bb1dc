"""Predicted outputs: the active file offered as the prediction of a whole-file answer."""

from __future__ import annotations

import pytest
from django.test import override_settings

from playground.inference.base import ChatRequest, Message
from playground.inference.openai_compatible import OpenAICompatibleBackend
from playground.testing.upstream import Reply, ScriptedUpstream
from tests.conftest import TEST_KEY, backend_config

FILE = "def main():\n    return 1\n"


def backend(up: ScriptedUpstream, **kw: object) -> OpenAICompatibleBackend:
    return OpenAICompatibleBackend(
        base_url=up.base_url, model="gpt-test", api_key=TEST_KEY, timeout=5.0, **kw
    )


REQUEST = ChatRequest(messages=(Message("user", "rename main"),), prediction=FILE)


async def test_the_prediction_is_sent_and_its_tokens_are_reported(
    upstream: ScriptedUpstream,
) -> None:
    upstream.script(Reply(text="def start():\n    return 1\n"))
    b = backend(upstream, prediction=True)
    deltas = [d async for d in b.stream(REQUEST)]
    await b.aclose()
    assert upstream.requests[-1].body["prediction"] == {"type": "content", "content": FILE}
    usage = deltas[-1].usage
    assert usage is not None
    assert usage.accepted_prediction_tokens and usage.accepted_prediction_tokens > 0
    assert usage.rejected_prediction_tokens is not None and usage.rejected_prediction_tokens > 0


async def test_without_the_option_no_prediction_is_sent(upstream: ScriptedUpstream) -> None:
    b = backend(upstream)
    deltas = [d async for d in b.stream(REQUEST)]
    await b.aclose()
    assert "prediction" not in upstream.requests[-1].body
    assert deltas[-1].usage is not None
    assert deltas[-1].usage.accepted_prediction_tokens is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("edit_format", "sent"), [("whole_file", True), ("search_replace", False)])
async def test_a_whole_file_answer_predicts_the_active_file_and_stats_count_it(
    upstream: ScriptedUpstream, edit_format: str, sent: bool
) -> None:
    from tests.socket.test_consumer import FILES, connect, start, until_done

    upstream.script(Reply(text="```css style.css\np { color: blue; }\n```"))
    config = backend_config(upstream, prediction=True, edit_format=edit_format)
    with override_settings(FLINT_BACKEND=config):
        comm = await connect()
        await comm.send_json_to(start())
        events = await until_done(comm)
        await comm.disconnect()
    body = upstream.requests[-1].body
    stats = events[-1]["stats"]
    if sent:
        assert body["prediction"] == {"type": "content", "content": FILES["style.css"]}
        assert stats["accepted_prediction_tokens"] > 0
        assert stats["rejected_prediction_tokens"] is not None
    else:
        assert "prediction" not in body
        assert stats["accepted_prediction_tokens"] is None
