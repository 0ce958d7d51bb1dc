"""Helpers for the live-preview browser tests: open a playground, set files, read the preview."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from selenium.common.exceptions import (
    NoSuchElementException,
    NoSuchFrameException,
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By

T = TypeVar("T")

SET_FILE = """
const [path, text] = arguments;
const ws = window.flint.workspace;
ws.open(path);
ws.view.dispatch({changes: {from: 0, to: ws.view.state.doc.length, insert: text}});
"""


def wait_for(
    fn: Callable[[], T],
    timeout: float = 10.0,
    what: str = "condition",
    describe: Callable[[], object] | None = None,
) -> T:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = fn()
            if value:
                return value
        except (NoSuchElementException, StaleElementReferenceException, NoSuchFrameException) as e:
            last = e
        time.sleep(0.05)
    detail = f"; state: {describe()}" if describe else ""
    raise AssertionError(f"timed out waiting for {what}" + (f" ({last})" if last else "") + detail)


def open_playground(driver: WebDriver, base: str, template: str = "web") -> str:
    driver.get(f"{base}/?template={template}")
    wait_for(
        lambda: driver.execute_script("return !!(window.flint && window.flint.socket.isOpen)"),
        what="the socket",
    )
    if template == "web":
        wait_for(lambda: preview_shown(driver), what="the first preview")
    return driver.current_url


def preview_shown(driver: WebDriver) -> bool:
    return bool(
        driver.execute_script(
            "const p = window.flint.preview;"
            " return !!(p && p.shown && p.shown.state === 'shown' && !p.pending)"
        )
    )


def set_file(driver: WebDriver, path: str, text: str) -> None:
    driver.execute_script(SET_FILE, path, text)


def in_preview(driver: WebDriver, script: str) -> object:
    """Run a script inside the shown preview frame (Selenium can enter sandboxed frames)."""
    frame = driver.find_element(By.CSS_SELECTOR, '[data-testid="preview"]')
    driver.switch_to.frame(frame)
    try:
        return driver.execute_script(script)
    finally:
        driver.switch_to.default_content()


def preview_text(driver: WebDriver, selector: str = "body") -> str:
    try:
        return str(
            in_preview(
                driver,
                f"const e = document.querySelector({selector!r}); return e ? e.textContent : ''",
            )
        )
    except (
        StaleElementReferenceException,
        NoSuchFrameException,
        NoSuchElementException,
        WebDriverException,
    ):
        return ""


def console_entries(driver: WebDriver) -> list[str]:
    return list(
        driver.execute_script(
            "return [...document.querySelectorAll("
            "'[data-testid=console] [data-testid=console-entry]')]"
            ".map(e => e.textContent)"
        )
    )


def badge_visible(driver: WebDriver) -> bool:
    return bool(
        driver.execute_script(
            "return !document.querySelector('[data-testid=preview-badge]').hidden"
        )
    )


def send_instruction(driver: WebDriver, text: str) -> None:
    wait_for(
        lambda: driver.execute_script(
            "return !document.querySelector('[data-testid=send]').disabled"
        ),
        what="Send enabled",
    )
    box = driver.find_element(By.CSS_SELECTOR, '[data-testid="instruction"]')
    box.clear()
    box.send_keys(text)
    driver.find_element(By.CSS_SELECTOR, '[data-testid="send"]').click()


def transcript_text(driver: WebDriver) -> str:
    return driver.find_element(By.CSS_SELECTOR, '[data-testid="transcript"]').text


def generation_done(driver: WebDriver) -> bool:
    return bool(driver.execute_script("return !window.flint.session.busy"))


def preview_trace(driver: WebDriver) -> object:
    """The preview's recent frame events (for failure messages)."""
    return driver.execute_script("return window.flint.preview.trace")
