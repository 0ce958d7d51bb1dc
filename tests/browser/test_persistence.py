"""Nothing is lost: autosave, reload, history/restore, share → fork, and conflicts."""

from __future__ import annotations

import shutil

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement

from tests.browser.conftest import new_driver
from tests.browser.helpers import (
    all_by_testid,
    browser_errors,
    by_testid,
    editor_type,
    file_text,
    open_playground,
    save_state,
    wait_for,
    wait_saved,
)


def test_autosave_survives_reload_and_history_restores_undoably(
    browser: WebDriver, flint_server: str
) -> None:
    open_playground(browser, flint_server)
    wait_saved(browser)
    original = file_text(browser, "index.html")
    editor_type(browser, "<!-- autosaved -->", path="index.html")
    assert save_state(browser) in ("Unsaved changes", "Saving…", "Saved")
    wait_saved(browser)
    browser.refresh()
    wait_for(browser, lambda d: by_testid(d, "connection").text.strip() == "connected")
    edited = file_text(browser, "index.html")
    assert edited.endswith("<!-- autosaved -->")

    # History: two revisions. The second shows what it changed against the first,
    # and, being the current one, offers no Restore.
    by_testid(browser, "history").click()
    panel = wait_for(browser, lambda d: by_testid(d, "history-panel"))
    wait_for(browser, lambda d: len(all_by_testid(panel, "revision")) == 2)

    def revision(number: str) -> WebElement:
        return next(
            r for r in all_by_testid(panel, "revision") if r.get_attribute("data-number") == number
        )

    revision("2").click()
    wait_for(
        browser, lambda d: "What #2 changed (against #1)" in by_testid(panel, "history-detail").text
    )
    diff = by_testid(panel, "revision-diff")
    added = diff.find_elements(By.CSS_SELECTOR, ".diff-add")
    assert [a.text for a in added if "autosaved" in a.text]
    assert not all_by_testid(panel, "restore")
    assert "This is the current version." in by_testid(panel, "restore-status").text
    # The first: its own files (the first revision), and Restore.
    revision("1").click()
    wait_for(browser, lambda d: "the first revision" in by_testid(panel, "history-detail").text)
    by_testid(panel, "restore").click()
    wait_for(
        browser, lambda d: file_text(d, "index.html") == original, message="restore not loaded"
    )
    wait_for(browser, lambda d: "Restored as #3" in by_testid(panel, "restore-status").text)
    wait_saved(browser)
    authors = [r.get_attribute("data-author") for r in all_by_testid(panel, "revision")]
    assert authors[0] == "restore"
    # The restore is one undoable change in the editor.
    content = browser.find_element(By.CSS_SELECTOR, '[data-testid="editor"] .cm-content')
    by_testid(browser, "history").click()  # close the panel
    content.click()
    content.send_keys(Keys.CONTROL, "z")
    wait_for(browser, lambda d: file_text(d, "index.html") == edited)
    wait_saved(browser)
    assert browser_errors(browser) == []


def test_share_opens_read_only_elsewhere_and_a_fork_is_independent(
    browser: WebDriver, flint_server: str
) -> None:
    playground = open_playground(browser, flint_server)
    editor_type(browser, "<!-- shared-marker -->", path="index.html")
    wait_saved(browser)
    by_testid(browser, "share").click()
    url_box = wait_for(browser, lambda d: by_testid(d, "share-url"))
    share_url = wait_for(browser, lambda d: url_box.get_attribute("value"))
    assert "/s/" in share_url and share_url.startswith("http")
    assert "/embed" in by_testid(browser, "share-embed").get_attribute("value")

    other = new_driver()  # a fresh profile: not the owner
    try:
        other.get(share_url)
        page = by_testid(other, "share")
        assert "shared-marker" in page.text
        assert other.find_elements(By.CSS_SELECTOR, "iframe.preview"), "the preview is shown"
        assert not other.find_elements(By.CSS_SELECTOR, ".cm-content"), (
            "no editor on the share page"
        )

        # The playground itself is read-only for someone else.
        other.get(playground)
        wait_for(other, lambda d: by_testid(d, "connection").text.strip() == "connected")
        wait_for(other, lambda d: by_testid(d, "readonly-banner").is_displayed())
        content = other.find_element(By.CSS_SELECTOR, '[data-testid="editor"] .cm-content')
        assert content.get_attribute("contenteditable") == "false"
        assert by_testid(other, "send").get_attribute("disabled") is not None

        # Fork, edit the fork.
        other.get(share_url)
        by_testid(other, "fork").click()
        wait_for(other, lambda d: "/p/" in d.current_url and d.current_url != playground)
        wait_for(other, lambda d: by_testid(d, "connection").text.strip() == "connected")
        assert "shared-marker" in file_text(other, "index.html")
        editor_type(other, "<!-- fork-edit -->", path="index.html")
        wait_saved(other)
        other.refresh()
        wait_for(other, lambda d: by_testid(d, "connection").text.strip() == "connected")
        assert "fork-edit" in file_text(other, "index.html")

        # The original and its share page are unchanged.
        other.get(share_url)
        assert "fork-edit" not in by_testid(other, "share").text
    finally:
        other.quit()
        shutil.rmtree(other.flint_profile, ignore_errors=True)  # type: ignore[attr-defined]
    browser.refresh()
    wait_for(browser, lambda d: by_testid(d, "connection").text.strip() == "connected")
    assert "fork-edit" not in file_text(browser, "index.html")


def test_two_tabs_saving_the_same_playground_get_the_conflict_panel(
    browser: WebDriver, flint_server: str
) -> None:
    playground = open_playground(browser, flint_server)
    wait_saved(browser)
    first = browser.current_window_handle
    browser.switch_to.new_window("window")
    browser.get(playground)
    wait_for(browser, lambda d: by_testid(d, "connection").text.strip() == "connected")
    second = browser.current_window_handle
    editor_type(browser, "<!-- from B -->", path="index.html")
    wait_saved(browser)

    browser.switch_to.window(first)
    editor_type(browser, "<!-- from A -->", path="index.html")
    panel = wait_for(
        browser, lambda d: by_testid(d, "conflict").is_displayed() and by_testid(d, "conflict")
    )
    assert save_state(browser) == "Conflict"
    assert "from B" in by_testid(panel, "conflict-theirs").text
    assert "from A" in by_testid(panel, "conflict-mine").text
    by_testid(panel, "keep-mine").click()
    wait_saved(browser)
    assert not all_by_testid(browser, "conflict")

    # B is now behind: its next save conflicts too; it takes A's version.
    browser.switch_to.window(second)
    editor_type(browser, "<!-- B again -->", path="index.html")
    panel = wait_for(browser, lambda d: by_testid(d, "conflict"))
    by_testid(panel, "take-theirs").click()
    wait_saved(browser)
    text = file_text(browser, "index.html")
    assert "from A" in text and "from B" not in text and "B again" not in text
    browser.refresh()
    wait_for(browser, lambda d: by_testid(d, "connection").text.strip() == "connected")
    assert "from A" in file_text(browser, "index.html")
