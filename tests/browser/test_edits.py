"""Streamed edits in a real browser: applied as undoable AI edits, bad ones rejected."""

from __future__ import annotations

from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from playground.testing.upstream import Reply, ScriptedUpstream
from tests.browser.helpers import (
    all_by_testid,
    by_testid,
    file_text,
    open_playground,
    send_instruction,
    wait_for,
)

ANSWER = """Two changes, then a broken one.
style.css
<<<<<<< SEARCH
h1 {
  color: #b4441c;
}
=======
h1 {
  color: rebeccapurple;
}
>>>>>>> REPLACE
index.html
<<<<<<< SEARCH
    <h1>Hello, Flint</h1>
=======
    <h1>Hello, live edits</h1>
>>>>>>> REPLACE
script.js
<<<<<<< SEARCH
let clicks = 0;
=======
let clicks = (0;
>>>>>>> REPLACE
That is all.
"""


def test_good_hunks_apply_as_undoable_edits_and_a_breaking_one_is_rejected(
    browser: WebDriver, flint_server: str, page_upstream: ScriptedUpstream
) -> None:
    open_playground(browser, flint_server)
    original_js = file_text(browser, "script.js")
    original_html = file_text(browser, "index.html")
    page_upstream.script(Reply(text=ANSWER, rate=400))
    send_instruction(browser, "purple heading")
    rejected = wait_for(browser, lambda d: all_by_testid(d, "edit-rejected"))
    wait_for(browser, lambda d: by_testid(d, "status").get_attribute("data-phase") == "done")
    assert "rebeccapurple" in file_text(browser, "style.css")
    assert "Hello, live edits" in file_text(browser, "index.html")
    assert file_text(browser, "script.js") == original_js, "the buffer is byte-identical"
    card = rejected[0].text
    assert "script.js" in card and "syntax" in card.lower()
    assert "(0;" in card, "the offending line is shown"

    # Each applied edit is its own undo step, separate from typing.
    tab = next(t for t in all_by_testid(browser, "file-tab") if t.text == "index.html")
    tab.click()
    editor = browser.find_element("css selector", '[data-testid="editor"] .cm-content')
    editor.click()
    editor.send_keys(Keys.CONTROL, "z")
    wait_for(browser, lambda d: file_text(d, "index.html") == original_html)
    assert "rebeccapurple" in file_text(browser, "style.css"), "undo reverted only one edit"
