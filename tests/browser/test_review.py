"""Review of an answer: a unified diff in the editor, Accept/Reject each change, undo it all."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from playground.testing.upstream import Reply, ScriptedUpstream
from tests.browser.helpers import (
    SHOTS,
    all_by_testid,
    browser_errors,
    by_testid,
    file_text,
    open_playground,
    send_instruction,
    wait_for,
    wait_saved,
)

ANSWER = """Purple heading, count from one, louder button.
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
  button.textContent = `Clicked ${clicks} times`;
=======
  button.textContent = `Clicked ${clicks} times!`;
>>>>>>> REPLACE
Done.
"""


def answer(driver: WebDriver, upstream: ScriptedUpstream) -> dict[str, str]:
    before = {p: file_text(driver, p) for p in ("style.css", "script.js")}
    upstream.script(Reply(text=ANSWER, rate=400))
    send_instruction(driver, "purple, from one, louder")
    wait_for(driver, lambda d: by_testid(d, "status").get_attribute("data-phase") == "done")
    wait_for(driver, lambda d: by_testid(d, "review").is_displayed())
    return before


def review_files(driver: WebDriver) -> dict[str, str]:
    return {
        b.get_attribute("data-path"): b.get_attribute("data-remaining")
        for b in all_by_testid(driver, "review-file")
    }


def test_reject_one_change_then_undo_the_whole_answer_in_one_step(
    browser: WebDriver, flint_server: str, page_upstream: ScriptedUpstream
) -> None:
    open_playground(browser, flint_server)
    wait_saved(browser)
    before = answer(browser, page_upstream)
    assert review_files(browser) == {"style.css": "1", "script.js": "2"}

    next(b for b in all_by_testid(browser, "review-file") if "script.js" in b.text).click()
    wait_for(
        browser, lambda d: d.execute_script("return window.flint.workspace.active") == "script.js"
    )
    chunks = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".cm-deletedChunk"))
    assert len(chunks) == 2
    assert "let clicks = 0;" in chunks[0].text  # the old line, shown inline
    browser.save_screenshot(f"{SHOTS}/review.png")
    by_testid(chunks[0], "chunk-reject").click()
    wait_for(browser, lambda d: "let clicks = 0;" in file_text(d, "script.js"))
    assert "times!`" in file_text(browser, "script.js"), "only that change was rejected"
    wait_for(browser, lambda d: review_files(d)["script.js"] == "1")

    by_testid(browser, "review-undo").click()
    wait_for(browser, lambda d: not by_testid(d, "review").is_displayed())
    assert {p: file_text(browser, p) for p in before} == before
    assert "answer undone" in by_testid(browser, "transcript").text
    wait_saved(browser)

    # One step: undo in style.css brings the answer's change back.
    next(t for t in all_by_testid(browser, "file-tab") if t.text == "style.css").click()
    content = browser.find_element(By.CSS_SELECTOR, '[data-testid="editor"] .cm-content')
    content.click()
    content.send_keys(Keys.CONTROL, "z")
    wait_for(browser, lambda d: "rebeccapurple" in file_text(d, "style.css"))
    content.send_keys(Keys.CONTROL, Keys.SHIFT, "z")
    wait_for(browser, lambda d: file_text(d, "style.css") == before["style.css"])
    wait_saved(browser)
    browser.refresh()
    wait_for(browser, lambda d: by_testid(d, "connection").text.strip() == "connected")
    assert {p: file_text(browser, p) for p in before} == before
    assert browser_errors(browser) == []


def test_accept_one_by_one_ends_the_review_and_history_shows_each_revisions_changes(
    browser: WebDriver, flint_server: str, page_upstream: ScriptedUpstream
) -> None:
    open_playground(browser, flint_server)
    wait_saved(browser)
    answer(browser, page_upstream)
    # Keyboard: the buttons are real buttons (Enter works).
    next(b for b in all_by_testid(browser, "review-file") if "style.css" in b.text).click()
    accept = wait_for(browser, lambda d: all_by_testid(d, "chunk-accept"))[0]
    accept.send_keys(Keys.ENTER)
    wait_for(browser, lambda d: review_files(d).get("style.css") == "0")
    assert "rebeccapurple" in file_text(browser, "style.css")
    by_testid(browser, "review-accept-all").click()
    wait_for(browser, lambda d: not by_testid(d, "review").is_displayed())
    assert not browser.find_elements(By.CSS_SELECTOR, ".cm-deletedChunk")
    assert "let clicks = 1;" in file_text(browser, "script.js")
    # The turn can open the review again.
    by_testid(browser, "review-again").click()
    wait_for(browser, lambda d: by_testid(d, "review").is_displayed())
    by_testid(browser, "review-accept-all").click()
    wait_saved(browser)

    by_testid(browser, "history").click()
    panel = wait_for(browser, lambda d: by_testid(d, "history-panel"))
    model = wait_for(
        browser,
        lambda d: [
            r for r in all_by_testid(panel, "revision") if r.get_attribute("data-author") == "model"
        ],
    )[0]
    n = int(model.get_attribute("data-number"))
    model.click()
    detail = by_testid(panel, "history-detail")
    wait_for(browser, lambda d: f"What #{n} changed (against #{n - 1})" in detail.text)
    api = browser.execute_async_script(
        "const done = arguments[1];"
        "fetch(`/api/p/${window.flint.boot.playground}/revisions/${arguments[0]}`)"
        ".then(r => r.json()).then(done)",
        n,
    )
    assert api["current_version"] == n and api["diff_to_current"] == [], api["diff_to_current"]
    assert "+  color: rebeccapurple;" in detail.text and "-  color: #b4441c;" in detail.text
    assert not all_by_testid(panel, "restore"), "the current revision offers no Restore"
    browser.save_screenshot(f"{SHOTS}/history.png")
