"""Present live, in two real browsers: the viewer sees the owner's typing, the model's
answer and its edits, and the preview, as they happen; Fork; the end."""

from __future__ import annotations

import shutil

from selenium.webdriver.remote.webdriver import WebDriver

from playground.testing.upstream import Reply, ScriptedUpstream
from tests.browser.conftest import new_driver
from tests.browser.helpers import (
    SHOTS,
    answer_text,
    browser_errors,
    by_testid,
    editor_type,
    file_text,
    open_playground,
    send_instruction,
    wait_for,
)

ANSWER = "Making the heading green.\n```css style.css\nh1 { color: green; }\n```\n"


def connected(driver: WebDriver) -> bool:
    return bool(by_testid(driver, "connection").text.strip() == "connected")


def preview_heading_colour(driver: WebDriver) -> str:
    frame = by_testid(driver, "preview")
    driver.switch_to.frame(frame)
    try:
        return str(
            driver.execute_script(
                "const h = document.querySelector('h1');return h ? getComputedStyle(h).color : '';"
            )
        )
    finally:
        driver.switch_to.default_content()


def test_a_viewer_watches_typing_and_an_answer_live_then_forks_and_sees_the_end(
    browser: WebDriver, flint_server: str, page_upstream: ScriptedUpstream
) -> None:
    open_playground(browser, flint_server)
    by_testid(browser, "present").click()
    url_box = wait_for(browser, lambda d: by_testid(d, "live-url"))
    live_url = wait_for(browser, lambda d: url_box.get_attribute("value"))
    assert "/live/" in live_url

    viewer = new_driver()  # another person: a fresh profile, not the owner
    try:
        viewer.get(live_url)
        wait_for(viewer, connected, message="the viewer's socket never connected")
        wait_for(viewer, lambda d: "1 watching" in by_testid(d, "live-banner").text)
        wait_for(browser, lambda d: by_testid(d, "live-viewers").text == "1 watching")
        content = viewer.find_element("css selector", '[data-testid="editor"] .cm-content')
        assert content.get_attribute("contenteditable") == "false"
        assert by_testid(viewer, "send").get_attribute("disabled") is not None

        # The owner types (not saved yet): the viewer's editor follows, keystroke batches.
        editor_type(browser, "<!-- typed-live -->", path="index.html")
        wait_for(
            viewer,
            lambda d: file_text(d, "index.html") == file_text(browser, "index.html"),
            message="the viewer's index.html never caught up with the owner's typing",
        )
        assert "typed-live" in file_text(viewer, "index.html")

        # The owner asks the model: the viewer sees the answer stream and the edit land.
        page_upstream.script(Reply(text=ANSWER, rate=200))
        send_instruction(browser, "make the heading green")
        wait_for(viewer, lambda d: "Making the heading green" in answer_text(d), 20)
        wait_for(
            viewer,
            lambda d: "color: green" in file_text(d, "style.css"),
            20,
            "the model's edit never reached the viewer's style.css",
        )
        wait_for(browser, lambda d: "color: green" in file_text(d, "style.css"), 20)
        assert file_text(viewer, "style.css") == file_text(browser, "style.css")
        assert by_testid(viewer, "transcript").text.count("make the heading green") == 1
        wait_for(
            viewer,
            lambda d: preview_heading_colour(d) == "rgb(0, 128, 0)",
            20,
            "the viewer's preview never repainted green",
        )
        viewer.save_screenshot(str(SHOTS / "present-viewer.png"))
        browser.save_screenshot(str(SHOTS / "present-owner.png"))

        # A second viewer joining now sees the current files at once.
        late = new_driver()
        try:
            late.get(live_url)
            wait_for(late, connected)
            wait_for(late, lambda d: "color: green" in file_text(d, "style.css"))
            assert "typed-live" in file_text(late, "index.html")
            wait_for(browser, lambda d: by_testid(d, "live-viewers").text == "2 watching")
        finally:
            late.quit()
            shutil.rmtree(late.flint_profile, ignore_errors=True)  # type: ignore[attr-defined]
        wait_for(browser, lambda d: by_testid(d, "live-viewers").text == "1 watching")

        # The owner ends it: the viewer is told, and keeps the last state.
        by_testid(browser, "live-end").click()
        wait_for(viewer, lambda d: "has ended" in by_testid(d, "live-banner").text)
        assert "color: green" in file_text(viewer, "style.css")

        # Fork: the viewer gets a playground of their own with what the link showed.
        by_testid(viewer, "live-fork").click()
        wait_for(viewer, lambda d: "/p/" in d.current_url)
        wait_for(viewer, connected)
        assert "typed-live" in file_text(viewer, "index.html")
        assert "color: green" in file_text(viewer, "style.css")
        assert not viewer.find_elements("css selector", '[data-testid="readonly-banner"]')
        assert browser_errors(viewer) == []
    finally:
        viewer.quit()
        shutil.rmtree(viewer.flint_profile, ignore_errors=True)  # type: ignore[attr-defined]
    assert browser_errors(browser) == []


def test_presenting_again_after_an_end_and_through_a_dropped_socket_reaches_the_viewer(
    browser: WebDriver, flint_server: str
) -> None:
    open_playground(browser, flint_server)
    by_testid(browser, "present").click()
    wait_for(browser, lambda d: by_testid(d, "live-url").get_attribute("value"))
    by_testid(browser, "live-end").click()
    wait_for(browser, lambda d: not d.find_elements("css selector", '[data-testid="live-bar"]'))
    # Present again on the same page (the same socket): a new link that goes on.
    by_testid(browser, "present").click()
    url_box = wait_for(browser, lambda d: by_testid(d, "live-url"))
    live_url = wait_for(browser, lambda d: url_box.get_attribute("value"))
    viewer = new_driver()
    try:
        viewer.get(live_url)
        wait_for(viewer, connected)
        editor_type(browser, "<!-- second-link -->", path="index.html")
        wait_for(viewer, lambda d: "second-link" in file_text(d, "index.html"), 10)
        assert by_testid(browser, "live-bar").is_displayed()  # still presenting
        # The presenter's socket drops mid-typing: the page reconnects, sends its
        # files, and the viewer ends up with exactly the owner's.
        editor_type(browser, "<!-- before-drop -->", path="index.html")
        browser.execute_script("window.flint.socket.ws.close()")
        editor_type(browser, "<!-- while-away -->", path="index.html")
        wait_for(browser, connected)
        wait_for(
            viewer,
            lambda d: file_text(d, "index.html") == file_text(browser, "index.html"),
            10,
            "the viewer never caught up with the owner after the owner's socket dropped",
        )
        assert "while-away" in file_text(viewer, "index.html")
        assert browser_errors(viewer) == []
    finally:
        viewer.quit()
        shutil.rmtree(viewer.flint_profile, ignore_errors=True)  # type: ignore[attr-defined]
    assert browser_errors(browser) == []
