"""The live loop in a real browser: instruction in, streamed answer out, Stop stops."""

from __future__ import annotations

import time

from selenium.webdriver.remote.webdriver import WebDriver

from playground.testing.upstream import Reply, ScriptedUpstream
from tests.browser.helpers import (
    browser_errors,
    by_testid,
    open_playground,
    send_instruction,
    wait_for,
)


def test_an_instruction_streams_its_answer_into_the_transcript(
    browser: WebDriver, flint_server: str, page_upstream: ScriptedUpstream
) -> None:
    answer = "Here is a friendlier greeting for your page, streamed word by word."
    page_upstream.script(Reply(text=answer, rate=40))
    open_playground(browser, flint_server)
    tabs = [t.text for t in browser.find_elements("css selector", '[data-testid="file-tab"]')]
    assert tabs == ["index.html", "style.css", "script.js"]
    send_instruction(browser, "make the greeting friendlier")
    transcript = by_testid(browser, "transcript")
    # Part of the answer is visible while the rest is still streaming.
    wait_for(browser, lambda d: "friendlier" in transcript.text)
    assert "word by word" not in transcript.text, "the answer appears as it streams"
    wait_for(browser, lambda d: "word by word." in transcript.text)
    status = by_testid(browser, "status")
    wait_for(browser, lambda d: status.get_attribute("data-phase") == "done")
    assert status.get_attribute("data-ttft-ms") and status.get_attribute("data-tokens")
    assert "make the greeting friendlier" in page_upstream.requests[-1].prompt
    assert browser_errors(browser) == []


def test_stop_ends_the_generation_and_keeps_the_partial_answer(
    browser: WebDriver, flint_server: str, page_upstream: ScriptedUpstream
) -> None:
    page_upstream.script(Reply(lorem=5000, rate=50))
    open_playground(browser, flint_server)
    send_instruction(browser, "write a lot")
    transcript = by_testid(browser, "transcript")
    wait_for(browser, lambda d: len(transcript.text) > 120)
    by_testid(browser, "stop").click()
    stopped_at = time.monotonic()
    outcome = wait_for(
        browser,
        lambda d: next(
            (
                e
                for e in d.find_elements("css selector", '[data-testid="outcome"]')
                if e.get_attribute("data-reason") == "stopped"
            ),
            None,
        ),
    )
    assert outcome.is_displayed()
    shown = transcript.text
    page_upstream.wait_idle()
    stream = page_upstream.streams[-1]
    assert stream.client_disconnected and stream.tokens_emitted < 5000
    assert stream.tokens_after(stopped_at) <= 5, "the upstream stopped when Stop was pressed"
    time.sleep(0.3)
    assert transcript.text == shown, "nothing more streams in after Stop"
    assert len(shown) > 120
