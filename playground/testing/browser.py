"""Headless Chromium for browser tests and benchmarks (Debian's chromium + chromedriver)."""

from __future__ import annotations

import time
from pathlib import Path
from tempfile import mkdtemp
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--window-size=1400,900",
)


def new_driver(*, prefix: str = "flint-chrome-", page_load_timeout: float = 30) -> Any:
    """A fresh headless Chromium with its own profile (``driver.flint_profile``)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} missing: run scripts/test.sh, which installs chromium")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = mkdtemp(prefix=prefix)
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(page_load_timeout)
    driver.flint_profile = profile  # type: ignore[attr-defined]  # removed by the caller
    return driver


def open_playground(driver: Any, base: str, template: str = "web", timeout: float = 30) -> str:
    """Open a new playground and wait for its socket (and, for a web page, its preview)."""
    driver.get(f"{base}/?template={template}")
    ready = "return !!(window.flint && window.flint.socket.isOpen)"
    if template == "web":
        ready = (
            "const p = window.flint && window.flint.preview;"
            " return !!(window.flint && window.flint.socket.isOpen && p && p.shown"
            " && p.shown.state === 'shown' && !p.pending)"
        )
    deadline = time.monotonic() + timeout
    while not driver.execute_script(ready):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the playground at {base} did not get ready in {timeout} s")
        time.sleep(0.05)
    return str(driver.current_url)
