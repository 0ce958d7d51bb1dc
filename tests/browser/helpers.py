"""Small Selenium helpers shared by the browser tests."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait


def by_testid(driver: WebDriver | WebElement, testid: str) -> WebElement:
    return driver.find_element(By.CSS_SELECTOR, f'[data-testid="{testid}"]')


def all_by_testid(driver: WebDriver | WebElement, testid: str) -> list[WebElement]:
    return driver.find_elements(By.CSS_SELECTOR, f'[data-testid="{testid}"]')


def wait_for(driver: WebDriver, predicate: Any, timeout: float = 15, message: str = "") -> Any:
    # An element re-rendered between finding it and reading it is asked again.
    return WebDriverWait(
        driver, timeout, poll_frequency=0.05, ignored_exceptions=(StaleElementReferenceException,)
    ).until(lambda d: predicate(d), message)


def open_playground(driver: WebDriver, base: str, template: str = "web") -> str:
    driver.get(f"{base}/?template={template}")
    wait_for(
        driver,
        lambda d: by_testid(d, "connection").text.strip() == "connected",
        message="socket never connected",
    )
    return str(driver.current_url)


def send_instruction(driver: WebDriver, text: str) -> None:
    box = by_testid(driver, "instruction")
    box.clear()
    box.send_keys(text)
    by_testid(driver, "send").click()


def file_text(driver: WebDriver, path: str) -> str:
    return str(driver.execute_script("return window.flint.workspace.text(arguments[0])", path))


def browser_errors(driver: WebDriver) -> list[str]:
    return [
        e["message"]
        for e in driver.get_log("browser")
        if e["level"] == "SEVERE" and "favicon" not in e["message"]
    ]


# --- persistence, history, share, steer (appended) ---------------------------------


def editor_type(driver: WebDriver, text: str, path: str | None = None) -> None:
    """Type ``text`` at the end of the active file (or of ``path``, opening its tab)."""
    from selenium.webdriver.common.keys import Keys

    if path is not None:
        tab = next(t for t in all_by_testid(driver, "file-tab") if t.text == path)
        tab.click()
    content = driver.find_element(By.CSS_SELECTOR, '[data-testid="editor"] .cm-content')
    content.click()
    content.send_keys(Keys.CONTROL, Keys.END)
    content.send_keys(text)


def save_state(driver: WebDriver) -> str:
    return by_testid(driver, "save-state").text.strip()


def wait_saved(driver: WebDriver, timeout: float = 10) -> None:
    wait_for(driver, lambda d: save_state(d) == "Saved", timeout, "autosave never said Saved")


def answer_text(driver: WebDriver) -> str:
    """The text of the newest turn's answer."""
    answers = all_by_testid(driver, "answer")
    return answers[-1].text if answers else ""


# Where browser tests leave screenshots to look at (the system's temporary directory).
SHOTS = Path(tempfile.gettempdir()) / "flint-shots"
SHOTS.mkdir(exist_ok=True)
