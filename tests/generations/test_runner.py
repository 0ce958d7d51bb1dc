"""A Generation's life as a state machine, against the real scripted upstream."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from playground import protocol
from playground.generations.runner import Generation, IllegalTransitionError, State
from playground.generations.service import build_generation
from playground.testing.upstream import Reply, ScriptedUpstream

pytestmark = [pytest.mark.django_db]

FILES = {"style.css": "p { color: red; }\n"}


def _start_message() -> protocol.GenStart:
    return protocol.GenStart(instruction="make it blue", files=FILES, active="style.css")


def _generation(events: list[dict[str, Any]], finished: list[str]) -> Generation:
    async def publish(event: dict[str, Any]) -> None:
        events.append(event)

    async def on_finish(gen: Generation, reason: str) -> None:
        assert gen.state is State.DONE  # gen.done is out before the callback runs
        finished.append(reason)

    return build_generation(_start_message(), publish=publish, gen_id="g_test", on_finish=on_finish)


async def test_it_goes_new_running_done_and_reports_once(use_upstream: ScriptedUpstream) -> None:
    use_upstream.script(Reply(text="Blue it is."))
    events: list[dict[str, Any]] = []
    finished: list[str] = []
    gen = _generation(events, finished)
    assert gen.state is State.NEW and not gen.running
    task = gen.start()
    assert gen.state is State.RUNNING and gen.running
    await task
    assert gen.state is State.DONE and not gen.running
    assert finished == ["stop"]
    assert events[0]["type"] == "gen.started"
    assert events[-1]["type"] == "gen.done" and events[-1]["reason"] == "stop"
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))


async def test_a_second_start_is_an_illegal_transition(use_upstream: ScriptedUpstream) -> None:
    use_upstream.script(Reply(text="ok"))
    gen = _generation([], [])
    task = gen.start()
    with pytest.raises(IllegalTransitionError):
        gen.start()
    await task
    with pytest.raises(IllegalTransitionError):
        gen.start()


async def test_stop_ends_it_with_reason_stopped_and_steer_after_done_is_refused(
    use_upstream: ScriptedUpstream,
) -> None:
    use_upstream.script(Reply(lorem=100_000, rate=200))
    events: list[dict[str, Any]] = []
    finished: list[str] = []
    first_delta = asyncio.Event()

    async def publish(event: dict[str, Any]) -> None:
        events.append(event)
        if event["type"] == "gen.delta":
            first_delta.set()

    async def on_finish(gen: Generation, reason: str) -> None:
        finished.append(reason)

    gen = build_generation(_start_message(), publish=publish, gen_id="g_t", on_finish=on_finish)
    gen.start()
    await asyncio.wait_for(first_delta.wait(), 10)
    await gen.stop("stopped")
    assert gen.state is State.DONE and finished == ["stopped"]
    assert events[-1]["reason"] == "stopped" and events[-1]["partial"] is True
    assert gen.steer("too late") is False
    await gen.stop()  # stopping a finished generation is a no-op


async def test_an_upstream_failure_ends_it_with_the_one_error_shape(
    use_upstream: ScriptedUpstream,
) -> None:
    use_upstream.configure(api_key="another-key")  # the upstream now refuses ours
    events: list[dict[str, Any]] = []
    finished: list[str] = []
    gen = _generation(events, finished)
    await gen.start()
    error = next(e for e in events if e["type"] == "error")
    assert error["code"] == "upstream.auth" and error["gen"] == "g_test"
    assert error["retryable"] is False and "seq" in error
    assert finished == ["error"] and events[-1]["reason"] == "error"


async def test_an_answer_past_the_limit_is_cut_off_there_and_says_so(
    use_upstream: ScriptedUpstream,
) -> None:
    from playground.generations.stats import RetryPolicy
    from playground.inference import get_backend
    from playground.inference.base import ChatRequest, Message

    use_upstream.script(Reply(lorem=5_000, rate=100_000))
    events: list[dict[str, Any]] = []

    async def publish(event: dict[str, Any]) -> None:
        events.append(event)

    gen = Generation(
        backend=get_backend(),
        request=ChatRequest(messages=(Message("user", "write a lot"),)),
        send=publish,
        retry=RetryPolicy(0),
        frame_interval=0.016,
        frame_max_tokens=256,
        max_answer_chars=1_000,
    )
    await gen.start()
    assert gen.answer_chars == 1_000 and len("".join(gen.answer)) == 1_000
    assert sum(len(e["text"]) for e in events if e["type"] == "gen.delta") == 1_000
    error = next(e for e in events if e["type"] == "error")
    assert error["code"] == "gen.answer_too_large" and error["detail"] == {"limit": 1_000}
    assert "1,000 characters" in error["message"] and error["retryable"] is False
    assert events[-1]["type"] == "gen.done" and events[-1]["reason"] == "error"
    assert len(use_upstream.streams) >= 1  # the upstream stream was opened, then closed
