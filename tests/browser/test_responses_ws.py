"""FLINT_API=responses in a real browser: two turns, Stop and Steer over one upstream socket."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from selenium.webdriver.remote.webdriver import WebDriver

from playground.testing.responses_ws import ScriptedResponsesUpstream
from playground.testing.servers import daphne_server
from playground.testing.upstream import Reply
from tests.browser.helpers import (
    all_by_testid,
    answer_text,
    browser_errors,
    by_testid,
    open_playground,
    send_instruction,
    wait_for,
)
from tests.conftest import TEST_KEY, flint_env_for


@pytest.fixture(scope="module")
def ws_upstream() -> Iterator[ScriptedResponsesUpstream]:
    with ScriptedResponsesUpstream(api_key=TEST_KEY) as up:
        yield up


@pytest.fixture(scope="module")
def responses_server(
    tmp_path_factory: pytest.TempPathFactory, ws_upstream: ScriptedResponsesUpstream
) -> Iterator[str]:
    env = flint_env_for(
        tmp_path_factory.mktemp("responses-var"), ws_upstream, FLINT_API="responses"
    )  # type: ignore[arg-type]
    with daphne_server(env) as url:
        yield url


def _done(driver: WebDriver) -> bool:
    return by_testid(driver, "status").get_attribute("data-phase") == "done"


def _creates(up: ScriptedResponsesUpstream) -> list[dict]:
    return [r.body for r in up.requests if r.body.get("type") == "response.create"]


def test_two_turns_stop_and_steer_over_the_responses_socket(
    browser: WebDriver, responses_server: str, ws_upstream: ScriptedResponsesUpstream
) -> None:
    ws_upstream.reset()
    open_playground(browser, responses_server)

    # Two turns: one upstream socket; the second sends only the new instruction.
    ws_upstream.script(Reply(text="First answer, over the socket.", rate=200))
    send_instruction(browser, "first question")
    wait_for(browser, lambda d: "First answer, over the socket." in answer_text(d))
    wait_for(browser, _done)
    ws_upstream.script(Reply(text="Second answer, same socket.", rate=200))
    send_instruction(browser, "second question")
    wait_for(browser, lambda d: "Second answer, same socket." in answer_text(d))
    wait_for(browser, _done)
    first, second = _creates(ws_upstream)
    assert "previous_response_id" not in first
    assert second["previous_response_id"]
    assert [i["content"] for i in second["input"]] == ["second question"]
    assert len(ws_upstream.connections) == 1

    # Stop: the upstream socket is closed at once, so the response ends there.
    ws_upstream.script(Reply(lorem=5000, rate=50))
    send_instruction(browser, "write a lot")
    wait_for(browser, lambda d: len(answer_text(d)) > 120)
    by_testid(browser, "stop").click()
    stopped_at = time.monotonic()
    wait_for(
        browser,
        lambda d: any(
            e.get_attribute("data-reason") == "stopped" for e in all_by_testid(d, "outcome")
        ),
    )
    ws_upstream.wait_for(lambda: ws_upstream.streams[-1].done)
    stream = ws_upstream.streams[-1]
    assert stream.client_disconnected and stream.tokens_emitted < 5000
    assert stream.tokens_after(stopped_at) <= 5, "the upstream went on after Stop"

    # Steer: the next turn reconnects; the steer goes to the server (response.steer),
    # and the page shows it as any steer.
    ws_upstream.script(Reply(lorem=400, rate=40), Reply(text=" CONTINUED briefly.", rate=200))
    send_instruction(browser, "write a lot again")
    send = by_testid(browser, "send")
    wait_for(browser, lambda d: len(answer_text(d)) > 60)
    assert send.text == "Steer"
    box = by_testid(browser, "instruction")
    box.send_keys("actually, be brief")
    send.click()
    marker = wait_for(browser, lambda d: all_by_testid(d, "steer-marker"))[0]
    assert marker.text == "↪ steered: actually, be brief"
    wait_for(browser, lambda d: "CONTINUED briefly." in answer_text(d))
    wait_for(browser, _done)
    answer = answer_text(browser)
    assert answer.index("↪ steered") < answer.index("CONTINUED")
    steers = [r.body for r in ws_upstream.requests if r.body.get("type") == "response.steer"]
    assert len(steers) == 1 and steers[0]["input"].startswith("actually, be brief")
    assert len(ws_upstream.connections) == 2, "one socket, and one more after Stop"
    assert send.text == "Send"
    assert browser_errors(browser) == []
