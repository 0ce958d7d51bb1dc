"""Steer mid-generation, and a generation that survives a reload and a network blip."""

from __future__ import annotations

from selenium.webdriver.remote.webdriver import WebDriver

from playground.testing.upstream import Reply, ScriptedUpstream
from tests.browser.helpers import (
    all_by_testid,
    answer_text,
    browser_errors,
    by_testid,
    file_text,
    open_playground,
    send_instruction,
    wait_for,
    wait_saved,
)

NUMBERED = " ".join(f"w{i:03d}" for i in range(160))  # one token per word


def _done(driver: WebDriver) -> bool:
    return by_testid(driver, "status").get_attribute("data-phase") == "done"


def test_steer_marks_the_cut_and_the_continuation_streams_on(
    browser: WebDriver, flint_server: str, page_upstream: ScriptedUpstream
) -> None:
    page_upstream.script(
        Reply(lorem=400, rate=40), Reply(text="CONTINUED in a shorter style.", rate=200)
    )
    open_playground(browser, flint_server)
    send_instruction(browser, "write a lot")
    send = by_testid(browser, "send")
    wait_for(browser, lambda d: len(answer_text(d)) > 60)
    assert send.text == "Steer" and send.is_enabled()
    box = by_testid(browser, "instruction")
    assert box.is_enabled()
    box.send_keys("actually, be brief")
    send.click()
    marker = wait_for(browser, lambda d: all_by_testid(d, "steer-marker"))[0]
    assert marker.text == "↪ steered: actually, be brief"
    wait_for(browser, lambda d: "CONTINUED in a shorter style." in answer_text(d))
    wait_for(browser, _done)
    answer = answer_text(browser)
    assert answer.index("↪ steered") < answer.index("CONTINUED"), "the continuation follows the cut"
    assert answer.strip().startswith("lorem ipsum"), answer[:200]
    status = by_testid(browser, "status")
    assert int(status.get_attribute("data-steer-ms")) >= 0
    assert "steer → first token" in status.text
    assert send.text == "Send"
    assert "actually, be brief" in page_upstream.requests[-1].prompt
    assert len(page_upstream.requests) == 2, "one continuation request, same generation"
    assert browser_errors(browser) == []


def test_a_reload_mid_stream_resumes_without_gaps(
    browser: WebDriver, flint_server: str, page_upstream: ScriptedUpstream
) -> None:
    page_upstream.script(Reply(text=NUMBERED, rate=40))
    open_playground(browser, flint_server)
    send_instruction(browser, "count")
    wait_for(browser, lambda d: "w020" in answer_text(d))
    browser.refresh()
    wait_for(browser, lambda d: by_testid(d, "connection").text.strip() == "connected")
    turn = wait_for(browser, lambda d: all_by_testid(d, "answer"))
    assert len(turn) == 1
    assert "w010" in answer_text(browser), "the answer so far is back at once"
    assert by_testid(browser, "send").text == "Steer", "the generation is still running"
    wait_for(browser, _done, timeout=20)
    assert answer_text(browser) == NUMBERED
    assert by_testid(browser, "status").get_attribute("data-reason") == "stop"


def test_a_network_blip_resumes_from_the_last_event(
    browser: WebDriver, flint_server: str, page_upstream: ScriptedUpstream
) -> None:
    page_upstream.script(Reply(text=NUMBERED, rate=60))
    open_playground(browser, flint_server)
    send_instruction(browser, "count")
    wait_for(browser, lambda d: "w015" in answer_text(d))
    browser.execute_script("window.flint.socket.ws.close()")
    wait_for(browser, _done, timeout=20)
    assert answer_text(browser) == NUMBERED
    assert by_testid(browser, "status").get_attribute("data-reason") == "stop"


EDITS = (
    "First the colour.\nstyle.css\n<<<<<<< SEARCH\nh1 {\n  color: #b4441c;\n}\n=======\n"
    "h1 {\n  color: rebeccapurple;\n}\n>>>>>>> REPLACE\n"
    + " ".join(f"w{i:03d}" for i in range(60))
    + "\nindex.html\n<<<<<<< SEARCH\n    <h1>Hello, Flint</h1>\n=======\n"
    "    <h1>Hello, live edits</h1>\n>>>>>>> REPLACE\nDone.\n"
)


def test_edits_applied_before_a_reload_are_not_applied_twice(
    browser: WebDriver, flint_server: str, page_upstream: ScriptedUpstream
) -> None:
    page_upstream.script(Reply(text=EDITS, rate=40))
    open_playground(browser, flint_server)
    send_instruction(browser, "purple, then a new heading")
    wait_for(browser, lambda d: "w010" in answer_text(d))
    assert "rebeccapurple" in file_text(browser, "style.css")
    browser.refresh()
    wait_for(browser, lambda d: by_testid(d, "connection").text.strip() == "connected")
    wait_for(browser, _done, timeout=20)
    css = file_text(browser, "style.css")
    assert css.count("rebeccapurple") == 1 and "#b4441c" not in css
    assert "Hello, live edits" in file_text(browser, "index.html")
    assert "Done." in answer_text(browser)
    wait_saved(browser)
    revisions = browser.execute_async_script(
        "const done = arguments[0];"
        "fetch(`/api/p/${window.flint.boot.playground}/revisions`).then(r => r.json()).then(done)"
    )["revisions"]
    assert revisions[-1]["author"] == "model"
    assert revisions[-1]["instruction"] == "purple, then a new heading"
    browser.refresh()
    wait_for(browser, lambda d: by_testid(d, "connection").text.strip() == "connected")
    assert "Hello, live edits" in file_text(browser, "index.html")
    assert file_text(browser, "style.css") == css


def test_a_steer_inside_an_edit_strikes_the_dropped_tail(
    browser: WebDriver, flint_server: str, page_upstream: ScriptedUpstream
) -> None:
    half_edit = "Intro line.\nstyle.css\n<<<<<<< SEARCH\nh1 {\n" + " ".join(["zz"] * 300)
    page_upstream.script(Reply(text=half_edit, rate=60), Reply(text="CONTINUED.", rate=200))
    open_playground(browser, flint_server)
    send_instruction(browser, "restyle")
    wait_for(browser, lambda d: answer_text(d).count("zz") > 5)
    send_instruction(browser, "leave the css alone")
    tail = wait_for(browser, lambda d: all_by_testid(d, "steer-discarded"))[0]
    assert tail.text.startswith("style.css") or "SEARCH" in tail.text
    assert "zz" in tail.text
    wait_for(browser, lambda d: "CONTINUED." in answer_text(d))
    wait_for(browser, _done)
    kept = answer_text(browser).split("↪ steered")[0]
    assert kept.strip().startswith("Intro line.")
    assert "#b4441c" in file_text(browser, "style.css"), "the half-received edit was never applied"
