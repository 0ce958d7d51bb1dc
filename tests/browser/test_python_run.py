"""Python playgrounds run main.py in the browser: Pyodide in a Web Worker, served by Flint."""

from __future__ import annotations

from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By

from tests.browser.preview_support import console_entries, open_playground, set_file, wait_for


def status(browser: WebDriver) -> str:
    return browser.find_element(By.CSS_SELECTOR, '[data-testid="run-status"]').text


def test_run_prints_into_the_console_and_stop_interrupts(
    flint_server: str, browser: WebDriver
) -> None:
    open_playground(browser, flint_server, template="python")
    assert "standard library only" in browser.find_element(By.CSS_SELECTOR, ".run-pane").text
    # Python pages are cross-origin isolated, so Stop can interrupt through shared memory.
    assert browser.execute_script("return self.crossOriginIsolated") is True
    set_file(browser, "main.py", 'import sys\nprint("hello")\nprint("oops", file=sys.stderr)\n')
    run = browser.find_element(By.CSS_SELECTOR, '[data-testid="run"]')
    run.click()
    assert "Loading Python" in status(browser) or "Running" in status(browser)
    wait_for(lambda: "hello" in console_entries(browser), timeout=30, what="hello from Pyodide")
    wait_for(lambda: status(browser).startswith("Finished"), what="the run to finish")
    assert "oops" in console_entries(browser)

    # An exception: a clean traceback with the line in main.py, and a Fix button.
    set_file(browser, "main.py", "def f(x):\n    return 1 / x\n\nf(0)\n")
    run.click()
    wait_for(
        lambda: any("ZeroDivisionError" in e for e in console_entries(browser)),
        what="the traceback",
    )
    tb = next(e for e in console_entries(browser) if "ZeroDivisionError" in e)
    assert "main.py:2" in tb and "_pyodide" not in tb
    assert browser.find_elements(By.CSS_SELECTOR, '[data-testid="console-fix"]')

    # A long run stops on Stop (KeyboardInterrupt via the interrupt buffer).
    set_file(browser, "main.py", "n = 0\nwhile True:\n    n += 1\n")
    run.click()
    wait_for(lambda: status(browser) == "Running…", what="running")
    browser.find_element(By.CSS_SELECTOR, '[data-testid="run-stop"]').click()
    wait_for(lambda: status(browser) == "Stopped.", timeout=5, what="stopped")
    # The worker's traceback is its own message, which may land after the status.
    wait_for(
        lambda: any("KeyboardInterrupt" in e for e in console_entries(browser)),
        timeout=5,
        what="the KeyboardInterrupt in the console",
    )
    # And Python is still usable afterwards, without a reload.
    set_file(browser, "main.py", 'print("again")\n')
    run.click()
    wait_for(lambda: "again" in console_entries(browser), what="a second program")
