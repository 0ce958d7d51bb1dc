"""Finished answers survive a reload, with each edit's outcome and its buttons."""

from __future__ import annotations

from selenium.webdriver.remote.webdriver import WebDriver

from playground.testing.upstream import Reply, ScriptedUpstream
from tests.browser.helpers import (
    SHOTS,
    all_by_testid,
    browser_errors,
    by_testid,
    editor_type,
    file_text,
    open_playground,
    send_instruction,
    wait_for,
    wait_saved,
)

ANSWER = """Purple heading, one more click, then a broken line.
style.css
<<<<<<< SEARCH
  color: #b4441c;
=======
  color: rebeccapurple;
>>>>>>> REPLACE
script.js
<<<<<<< SEARCH
let clicks = 0;
=======
let clicks = 1;
>>>>>>> REPLACE
script.js
<<<<<<< SEARCH
  clicks += 1;
=======
  clicks += (1;
>>>>>>> REPLACE
That is all.
"""


def reconnect(driver: WebDriver) -> None:
    driver.refresh()
    wait_for(driver, lambda d: by_testid(d, "connection").text.strip() == "connected")


def test_finished_answers_come_back_after_a_reload_with_their_buttons(
    browser: WebDriver, flint_server: str, page_upstream: ScriptedUpstream
) -> None:
    open_playground(browser, flint_server)
    page_upstream.script(Reply(text=ANSWER, rate=400))
    send_instruction(browser, "purple heading and count from one")
    wait_for(browser, lambda d: by_testid(d, "status").get_attribute("data-phase") == "done")
    wait_saved(browser)
    live = by_testid(browser, "transcript").text

    reconnect(browser)
    turn = wait_for(browser, lambda d: d.find_elements("css selector", ".turn[data-restored]"))[0]
    assert "purple heading and count from one" in turn.text
    assert "That is all." in by_testid(turn, "answer").text
    notes = [n.text for n in turn.find_elements("css selector", ".note-edit")]
    assert notes == ["✎ changed style.css", "✎ changed script.js"]
    [card] = all_by_testid(turn, "edit-rejected")
    assert "script.js" in card.text and "(1;" in card.text
    assert by_testid(card, "ask-fix").is_displayed()
    # Everything the live transcript said about the answer is back (the buttons too).
    for line in ("Purple heading, one more click", "not applied", "Ask model to fix", "Apply"):
        assert line in live and line in turn.text
    browser.save_screenshot(f"{SHOTS}/transcript-reloaded.png")

    # Apply anyway, on the reloaded page, after the user typed in that file: the
    # edit is rebased onto the file as it is now.
    editor_type(browser, "\n// mine", path="script.js")
    by_testid(card, "apply-anyway").click()
    wait_for(browser, lambda d: "clicks += (1;" in file_text(d, "script.js"))
    text = file_text(browser, "script.js")
    assert "let clicks = 1;" in text and text.endswith("// mine")
    assert by_testid(card, "apply-anyway").get_attribute("disabled") is not None
    wait_saved(browser)

    # Reloaded again: the turn remembers it was applied.
    reconnect(browser)
    card = wait_for(browser, lambda d: all_by_testid(d, "edit-rejected"))[0]
    assert "applied" in card.find_element("css selector", ".rejected-status").text
    assert by_testid(card, "apply-anyway").get_attribute("disabled") is not None

    # Ask model to fix, from the reloaded turn, starts a new generation.
    page_upstream.script(Reply(text="Fixed.", rate=400))
    by_testid(card, "ask-fix").click()
    wait_for(browser, lambda d: len(d.find_elements("css selector", ".turn")) == 2)
    newest = browser.find_elements("css selector", ".turn")[-1]
    assert "was rejected" in newest.text
    wait_for(browser, lambda d: "Fixed." in by_testid(newest, "answer").text)
    assert browser_errors(browser) == []
