"""The live preview follows the model while it writes, keeps the last good frame, and
its console feeds the "Fix" loop. Headless Chromium against a real Daphne."""

from __future__ import annotations

import time

from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By

from playground.testing.upstream import Fail, Reply, ScriptedUpstream, tokenize
from tests.browser.preview_support import (
    badge_visible,
    console_entries,
    generation_done,
    open_playground,
    preview_text,
    preview_trace,
    send_instruction,
    set_file,
    transcript_text,
    wait_for,
)

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Streamed</title>
  <link rel="stylesheet" href="style.css">
</head>
<body>
  <main>
    <h1 id="title">Streaming page</h1>
    <p class="one">First paragraph arrives.</p>
    <p class="two">Second paragraph arrives.</p>
    <p class="three">Third paragraph arrives.</p>
    <ul>
      <li>alpha</li>
      <li>beta</li>
      <li>gamma</li>
    </ul>
    <p class="last">The end.</p>
  </main>
  <script src="script.js"></script>
</body>
</html>
"""


def test_the_preview_repaints_while_the_model_writes_a_page(
    flint_server: str, browser: WebDriver, page_upstream: ScriptedUpstream
) -> None:
    open_playground(browser, flint_server)
    answer = f"Here is the new page.\n\n```html index.html\n{PAGE}```\n"
    page_upstream.script(Reply(tokens=tokenize(answer), rate=80))
    send_instruction(browser, "Write a page with three paragraphs and a list")

    seen: list[str] = []
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        text = " ".join(preview_text(browser).split())
        if text and (not seen or seen[-1] != text):
            seen.append(text)
        if "The end." in text and generation_done(browser):
            break
        time.sleep(0.05)

    final = " ".join(preview_text(browser).split())
    assert "Streaming page" in final and "gamma" in final and "The end." in final
    # Intermediate states were on screen: the page grew while the answer streamed.
    partial = [t for t in seen if "Streaming page" in t and "The end." not in t]
    assert len(partial) >= 2, seen
    # The HTML was morphed in place as it grew (not reloaded per token).
    modes = browser.execute_script("return window.flint.preview.samples.map(s => s.mode)")
    assert modes.count("morph") >= 3, modes
    assert browser.execute_script("return window.flint.workspace.text('index.html')") == PAGE
    assert not badge_visible(browser)


def test_a_broken_state_keeps_the_last_good_frame(
    flint_server: str, browser: WebDriver, page_upstream: ScriptedUpstream
) -> None:
    open_playground(browser, flint_server)
    set_file(
        browser, "script.js", '// greeting\ndocument.querySelector("h1").textContent = "good";\n'
    )
    wait_for(lambda: preview_text(browser, "h1") == "good", what="the first script's result")

    # The model rewrites script.js and stalls in the middle of a function.
    script = (
        "// greeting\n"
        'document.querySelector("h1").textContent = "better";\n'
        "function shout(text) {\n"
        "  return text.toUpperCase();\n"
        "}\n"
        'document.querySelector("h1").textContent = shout("best");\n'
    )
    answer = f"Updated script:\n\n```js script.js\n{script}```\n"
    tokens = tokenize(answer)
    stall_at = next(i for i, _ in enumerate(tokens) if "".join(tokens[:i]).endswith("(text) {"))
    page_upstream.script(
        Reply(tokens=tokens, rate=40, fail=Fail("stall", after=stall_at, seconds=2.5, resume=True))
    )
    send_instruction(browser, "Shout the title")

    # While stalled mid-function: the badge shows, the last good frame ("better") stays.
    wait_for(
        lambda: badge_visible(browser) and preview_text(browser, "h1") == "better",
        timeout=8,
        what="the waiting badge over the last good frame",
        describe=lambda: (
            badge_visible(browser),
            preview_text(browser, "h1"),
            preview_trace(browser),
        ),
    )
    time.sleep(0.5)
    assert badge_visible(browser) and preview_text(browser, "h1") == "better"

    # The rest arrives: the script parses again and runs.
    wait_for(lambda: preview_text(browser, "h1") == "BEST", timeout=8, what="the final script")
    wait_for(lambda: not badge_visible(browser), what="the badge to go")

    # Typing broken CSS: badge, old styles kept; fixing it repaints.
    set_file(browser, "style.css", "h1 { color: rgb(0, 128, 0); }\n")
    green = "rgb(0, 128, 0)"
    wait_for(lambda: in_color(browser) == green, what="green title")
    set_file(browser, "style.css", "h1 { color: rgb(255, 0, 0);\n")
    wait_for(lambda: badge_visible(browser), what="badge for unclosed CSS")
    assert in_color(browser) == green
    set_file(browser, "style.css", "h1 { color: rgb(255, 0, 0); }\n")
    wait_for(lambda: in_color(browser) == "rgb(255, 0, 0)", what="red title")
    assert not badge_visible(browser)


def in_color(browser: WebDriver) -> str:
    from tests.browser.preview_support import in_preview

    return str(in_preview(browser, "return getComputedStyle(document.querySelector('h1')).color"))


def test_console_errors_show_with_their_line_and_fix_asks_the_model(
    flint_server: str, browser: WebDriver, page_upstream: ScriptedUpstream
) -> None:
    open_playground(browser, flint_server)
    set_file(
        browser,
        "script.js",
        'console.log("ready", {count: 2});\n'
        "const widget = null;\n"
        'console.error("Widget failed: " + 42);\n'
        "widget.render();\n",
    )
    wait_for(
        lambda: any("TypeError" in e for e in console_entries(browser)), what="the uncaught error"
    )
    entries = console_entries(browser)
    assert any("ready {count: 2}" in e and "script.js:1" in e for e in entries), entries
    assert any("Widget failed: 42" in e and "script.js:3" in e for e in entries), entries
    assert any("Cannot read properties of null" in e and "script.js:4" in e for e in entries), (
        entries
    )

    # An inline script's line maps back to index.html.
    html = browser.execute_script("return window.flint.workspace.text('index.html')")
    html = html.replace("</body>", '<script>\nconsole.warn("inline here");\n</script>\n</body>')
    set_file(browser, "index.html", html)
    want_line = html.split("\n").index('console.warn("inline here");') + 1
    wait_for(
        lambda: any(f"index.html:{want_line}" in e for e in console_entries(browser)),
        what="the inline warning with its index.html line",
    )

    page_upstream.script(Reply(text="I will fix it."))
    before = len(page_upstream.requests)
    fix_buttons = browser.find_elements(By.CSS_SELECTOR, '[data-testid="console-fix"]')
    widget_fix = next(
        b for b in fix_buttons if "Cannot read" in b.find_element(By.XPATH, "./ancestor::li").text
    )
    widget_fix.click()
    wait_for(lambda: len(page_upstream.requests) > before, what="the fix request")
    prompt = page_upstream.requests[-1].prompt
    assert "Cannot read properties of null" in prompt
    assert "script.js" in prompt and "line 4" in prompt and "widget.render();" in prompt
    wait_for(lambda: "I will fix it." in transcript_text(browser), what="the answer")

    # Clear empties the panel.
    browser.find_element(By.CSS_SELECTOR, '[data-testid="console-clear"]').click()
    wait_for(lambda: console_entries(browser) == [], what="an empty console")


def test_css_changes_repaint_without_reloading(flint_server: str, browser: WebDriver) -> None:
    open_playground(browser, flint_server)
    # Script state survives CSS and HTML edits: they never reload the page.
    browser.switch_to.frame(browser.find_element(By.CSS_SELECTOR, '[data-testid="preview"]'))
    browser.find_element(By.ID, "counter").click()
    browser.switch_to.default_content()
    wait_for(lambda: "Clicked 1 times" in preview_text(browser), what="a click")
    set_file(browser, "style.css", "h1 { color: rgb(1, 2, 3); }\n")
    wait_for(lambda: in_color(browser) == "rgb(1, 2, 3)", what="the new colour")
    html = browser.execute_script("return window.flint.workspace.text('index.html')")
    set_file(browser, "index.html", html.replace("Ask the model", "Ask the streaming model"))
    wait_for(lambda: "Ask the streaming model" in preview_text(browser), what="the morphed text")
    assert "Clicked 1 times" in preview_text(browser)
    modes = browser.execute_script("return window.flint.preview.samples.map(s => s.mode)")
    assert modes[-2:] == ["css", "morph"], modes
