"""Phones and screen readers: 390x844 without horizontal scroll, a pane switcher, Send in
view, one announcement per answer, dialogs with focus and Esc, axe-core, a light theme."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from playground.testing.upstream import Reply, ScriptedUpstream
from tests.browser.helpers import (
    SHOTS,
    all_by_testid,
    by_testid,
    open_playground,
    send_instruction,
    wait_for,
    wait_saved,
)

AXE = Path(__file__).resolve().parents[2] / "frontend" / "node_modules" / "axe-core" / "axe.min.js"

ANSWER = """A purple heading.
style.css
<<<<<<< SEARCH
  color: #b4441c;
=======
  color: rebeccapurple;
>>>>>>> REPLACE
index.html
<<<<<<< SEARCH
    <h1>Hello, Flint</h1>
=======
    <h1>Hello, phone</h1>
>>>>>>> REPLACE
Done.
"""


def phone(driver: WebDriver) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True},
    )


def scheme(driver: WebDriver, value: str) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": value}]},
    )


def overflow(driver: WebDriver) -> list[str]:
    """What sticks out past the viewport's right edge (the page scrolls sideways)."""
    return list(
        driver.execute_script(
            """
            const w = document.documentElement.clientWidth;
            const out = [];
            const page = document.documentElement.scrollWidth, body = document.body.scrollWidth;
            if (page > w) out.push(`page scrollWidth ${page} > ${w}`);
            if (body > w) out.push(`body scrollWidth ${body} > ${w}`);
            for (const el of document.querySelectorAll("body *")) {
              const r = el.getBoundingClientRect();
              if (!r.width || r.right <= w + 1) continue;
              // Inside something that scrolls or clips on its own: not the page's overflow.
              let p = el.parentElement, clipped = false;
              while (p && p !== document.body) {
                const o = getComputedStyle(p).overflowX;
                if (o !== "visible") { clipped = true; break; }
                p = p.parentElement;
              }
              const name = `${el.tagName.toLowerCase()}.${el.className}`;
              if (!clipped) out.push(`${name} right=${Math.round(r.right)}`);
            }
            return out.slice(0, 10);
            """
        )
    )


def in_view(driver: WebDriver, testid: str) -> bool:
    return bool(
        driver.execute_script(
            "const e = document.querySelector(`[data-testid='${arguments[0]}']`);"
            "if (!e || !e.offsetParent) return false;"
            "const r = e.getBoundingClientRect();"
            "return r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth;",
            testid,
        )
    )


def test_at_390x844_nothing_scrolls_sideways_and_send_stays_in_view(
    browser: WebDriver, flint_server: str, page_upstream: ScriptedUpstream
) -> None:
    phone(browser)
    open_playground(browser, flint_server)
    wait_saved(browser)
    assert browser.execute_script("return innerWidth") == 390
    switcher = [by_testid(browser, f"pane-{p}") for p in ("code", "preview", "chat")]
    assert all(t.is_displayed() for t in switcher)
    for name, tab in zip(("code", "preview", "chat"), switcher, strict=True):
        tab.click()
        wait_for(
            browser,
            lambda d, n=name: (
                d.execute_script("return document.querySelector('.app').dataset.pane") == n
            ),
        )
        assert overflow(browser) == [], name
        assert in_view(browser, "send") and in_view(browser, "instruction"), name
        browser.save_screenshot(f"{SHOTS}/phone-{name}.png")
    assert by_testid(browser, "preview").is_displayed() is False  # chat shows: preview hidden

    # The switcher is a tablist: arrow keys move between the panes.
    switcher[2].send_keys(Keys.ARROW_LEFT)
    wait_for(
        browser,
        lambda d: (
            d.execute_script("return document.querySelector('.app').dataset.pane") == "preview"
        ),
    )
    assert browser.switch_to.active_element == switcher[1]

    # Sending shows the chat; the answer and its review fit too.
    switcher[0].click()
    page_upstream.script(Reply(text=ANSWER, rate=400))
    send_instruction(browser, "purple")
    assert browser.execute_script("return document.querySelector('.app').dataset.pane") == "chat"
    wait_for(browser, lambda d: by_testid(d, "status").get_attribute("data-phase") == "done")
    assert overflow(browser) == []
    switcher[0].click()
    wait_for(browser, lambda d: by_testid(d, "review").is_displayed())
    assert overflow(browser) == [] and in_view(browser, "send")
    browser.save_screenshot(f"{SHOTS}/phone-review.png")
    by_testid(browser, "history").click()
    wait_for(browser, lambda d: all_by_testid(d, "revision"))
    assert overflow(browser) == []
    browser.save_screenshot(f"{SHOTS}/phone-history.png")

    for path in ("/new", "/import"):
        browser.get(flint_server + path)
        assert overflow(browser) == [], path


def test_a_python_playground_and_the_share_page_fit_a_phone(
    browser: WebDriver, flint_server: str
) -> None:
    phone(browser)
    open_playground(browser, flint_server, template="python")
    assert by_testid(browser, "pane-preview").text == "Run"
    for name in ("code", "preview", "chat"):
        by_testid(browser, f"pane-{name}").click()
        assert overflow(browser) == [], name
        assert in_view(browser, "send"), name
    by_testid(browser, "share").click()
    url = wait_for(browser, lambda d: by_testid(d, "share-url").get_attribute("value"))
    assert overflow(browser) == []
    browser.get(url)
    assert overflow(browser) == []
    browser.get(url.rstrip("/") + "/embed")
    assert overflow(browser) == []


def test_a_finished_answer_is_announced_once_and_the_transcript_is_not_live(
    browser: WebDriver, flint_server: str, page_upstream: ScriptedUpstream
) -> None:
    open_playground(browser, flint_server)
    transcript = by_testid(browser, "transcript")
    assert transcript.get_attribute("aria-live") is None
    assert by_testid(browser, "status").get_attribute("role") is None
    announcer = by_testid(browser, "announcer")
    assert announcer.get_attribute("aria-live") == "polite"
    browser.execute_script(
        "window.__said = [];"
        "const el = arguments[0];"
        "new MutationObserver(() => { if (el.textContent) window.__said.push(el.textContent); })"
        ".observe(arguments[0], {childList: true, characterData: true, subtree: true});",
        announcer,
    )
    page_upstream.script(Reply(text=ANSWER + " " + "word " * 200, rate=800))
    send_instruction(browser, "purple")
    wait_for(browser, lambda d: by_testid(d, "status").get_attribute("data-phase") == "done")
    wait_for(browser, lambda d: d.execute_script("return window.__said.length") >= 1)
    said = browser.execute_script("return window.__said")
    assert said == ["The answer is done: 2 changes applied."]


def test_dialogs_take_focus_and_close_on_escape(browser: WebDriver, flint_server: str) -> None:
    open_playground(browser, flint_server)
    wait_saved(browser)
    for opener, panel in (("history", "history-panel"), ("share", "share-panel")):
        button = by_testid(browser, opener)
        button.click()
        element = wait_for(browser, lambda d, p=panel: by_testid(d, p))
        assert element.get_attribute("role") == "dialog"
        wait_for(
            browser,
            lambda d, e=element: d.execute_script(
                "return arguments[0].contains(document.activeElement)", e
            ),
            message=f"{panel} did not take focus",
        )
        browser.switch_to.active_element.send_keys(Keys.ESCAPE)
        wait_for(browser, lambda d, p=panel: not all_by_testid(d, p))
        assert browser.switch_to.active_element == button, f"{panel}: focus not given back"


def axe(driver: WebDriver) -> list[dict[str, Any]]:
    if not driver.execute_script("return !!window.axe"):
        driver.execute_script(AXE.read_text())
    result = driver.execute_async_script(
        "const done = arguments[0];"
        "axe.run(document, {iframes: false, resultTypes: ['violations']})"
        ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ': ' + n.failureSummary)}))))"
        ".catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));"
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]


def assert_no_violations(driver: WebDriver, where: str) -> None:
    found = axe(driver)
    assert not found, f"{where}: " + json.dumps(found, indent=1)


def test_axe_finds_no_serious_or_critical_violations(
    browser: WebDriver, flint_server: str, page_upstream: ScriptedUpstream
) -> None:
    assert AXE.exists(), "cd frontend && npm ci (axe-core is a dev dependency)"
    browser.set_script_timeout(60)
    for colors in ("dark", "light"):
        scheme(browser, colors)
        open_playground(browser, flint_server)
        wait_saved(browser)
        page_upstream.script(Reply(text=ANSWER, rate=400))
        send_instruction(browser, "purple")
        wait_for(browser, lambda d: by_testid(d, "status").get_attribute("data-phase") == "done")
        wait_for(browser, lambda d: by_testid(d, "review").is_displayed())
        assert_no_violations(browser, f"playground ({colors})")
        browser.save_screenshot(f"{SHOTS}/theme-{colors}.png")
        by_testid(browser, "history").click()
        wait_for(browser, lambda d: all_by_testid(d, "revision"))
        assert_no_violations(browser, f"history ({colors})")
        by_testid(browser, "share").click()
        url = wait_for(browser, lambda d: by_testid(d, "share-url").get_attribute("value"))
        assert_no_violations(browser, f"share panel ({colors})")
        for page in (
            url,
            url.rstrip("/") + "/embed",
            f"{flint_server}/new",
            f"{flint_server}/import",
        ):
            browser.get(page)
            assert_no_violations(browser, f"{page} ({colors})")
            if page == url:
                browser.save_screenshot(f"{SHOTS}/share-{colors}.png")
        open_playground(browser, flint_server, template="python")
        assert_no_violations(browser, f"python playground ({colors})")
