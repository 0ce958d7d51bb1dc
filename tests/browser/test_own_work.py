"""Their own files and work: add/rename/delete files, My playgrounds, starters, input()."""

from __future__ import annotations

from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from tests.browser.helpers import (
    SHOTS,
    all_by_testid,
    browser_errors,
    by_testid,
    file_text,
    open_playground,
    wait_for,
    wait_saved,
)
from tests.browser.preview_support import console_entries, preview_shown, preview_text, set_file


def tabs(driver: WebDriver) -> list[str]:
    return [t.text for t in all_by_testid(driver, "file-tab")]


def reconnect(driver: WebDriver) -> None:
    driver.refresh()
    wait_for(driver, lambda d: by_testid(d, "connection").text.strip() == "connected")


def name_dialog(driver: WebDriver, text: str) -> None:
    field = wait_for(driver, lambda d: by_testid(d, "file-name"))
    assert driver.switch_to.active_element == field, "the dialog takes focus"
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(text)


def test_add_rename_and_delete_files_with_the_servers_path_rules(
    browser: WebDriver, flint_server: str
) -> None:
    open_playground(browser, flint_server)
    wait_saved(browser)
    add = by_testid(browser, "file-add")
    add.click()
    name_dialog(browser, "lib/../x.js")
    error = by_testid(browser, "file-name-error")
    assert "'..'" in error.text
    assert by_testid(browser, "file-name-ok").get_attribute("disabled") is not None
    browser.save_screenshot(f"{SHOTS}/file-dialog.png")
    # Esc closes the dialog and gives focus back to the button.
    by_testid(browser, "file-name").send_keys(Keys.ESCAPE)
    wait_for(browser, lambda d: not all_by_testid(d, "file-dialog"))
    assert browser.switch_to.active_element == add

    add.click()
    name_dialog(browser, "lib/util.js")
    assert by_testid(browser, "file-name-error").text == ""
    by_testid(browser, "file-name").send_keys(Keys.ENTER)
    wait_for(browser, lambda d: "lib/util.js" in tabs(d))
    assert browser.execute_script("return window.flint.workspace.active") == "lib/util.js"
    set_file(browser, "lib/util.js", "export const answer = 42;\n")
    wait_saved(browser)

    by_testid(browser, "file-rename").click()
    name_dialog(browser, "SCRIPT.js")
    assert "differ only in case" in by_testid(browser, "file-name-error").text
    name_dialog(browser, "lib/answer.js")
    by_testid(browser, "file-name-ok").click()
    wait_for(browser, lambda d: "lib/answer.js" in tabs(d) and "lib/util.js" not in tabs(d))
    wait_saved(browser)
    reconnect(browser)
    assert "lib/answer.js" in tabs(browser)
    assert file_text(browser, "lib/answer.js") == "export const answer = 42;\n"

    next(t for t in all_by_testid(browser, "file-tab") if t.text == "lib/answer.js").click()
    by_testid(browser, "file-delete").click()
    by_testid(
        wait_for(browser, lambda d: by_testid(d, "file-dialog")), "file-delete-confirm"
    ).click()
    wait_for(browser, lambda d: "lib/answer.js" not in tabs(d))
    wait_saved(browser)
    reconnect(browser)
    assert tabs(browser) == ["index.html", "style.css", "script.js"]
    assert browser_errors(browser) == []


def test_file_tabs_move_with_the_arrow_keys(browser: WebDriver, flint_server: str) -> None:
    open_playground(browser, flint_server)
    first = all_by_testid(browser, "file-tab")[0]
    assert first.get_attribute("tabindex") == "0"
    assert all_by_testid(browser, "file-tab")[1].get_attribute("tabindex") == "-1"
    first.send_keys(Keys.ARROW_RIGHT)
    wait_for(
        browser, lambda d: d.execute_script("return window.flint.workspace.active") == "style.css"
    )
    assert browser.switch_to.active_element.text == "style.css"
    browser.switch_to.active_element.send_keys(Keys.END)
    wait_for(browser, lambda d: d.switch_to.active_element.text == "script.js")
    browser.switch_to.active_element.send_keys(Keys.ARROW_RIGHT)  # wraps around
    wait_for(browser, lambda d: d.switch_to.active_element.text == "index.html")


def test_the_start_page_opens_each_web_starter_and_lists_my_playgrounds(
    browser: WebDriver, flint_server: str
) -> None:
    browser.get(f"{flint_server}/new")
    names = [a.get_attribute("data-name") for a in all_by_testid(browser, "starter")]
    assert {"canvas-game", "form", "css-animation", "table", "text-adventure", "csv"} <= set(names)
    assert by_testid(browser, "my-playgrounds-empty")
    browser.save_screenshot(f"{SHOTS}/start-page.png")
    expect = {
        "canvas-game": ("#score", "Score: 0"),
        "form": ("h1", "Join the club"),
        "css-animation": ("h1", "Good morning"),
        "table": ("tbody", "Jupiter"),
    }
    opened = []
    for name, (selector, text) in expect.items():
        browser.get(f"{flint_server}/new")
        next(
            a for a in all_by_testid(browser, "starter") if a.get_attribute("data-name") == name
        ).click()
        wait_for(browser, lambda d: "/p/" in d.current_url)
        wait_for(browser, lambda d: by_testid(d, "connection").text.strip() == "connected")
        wait_for(browser, lambda d: preview_shown(d), message=f"{name}: no preview")
        wait_for(
            browser,
            lambda d, s=selector, t=text: t in preview_text(d, s),
            message=f"{name}: {text!r} not in the preview",
        )
        browser.save_screenshot(f"{SHOTS}/starter-{name}.png")
        assert not [e for e in console_entries(browser) if "rror" in e], (
            name,
            console_entries(browser),
        )
        opened.append(browser.current_url.rstrip("/").split("/")[-1])
    browser.get(f"{flint_server}/new#mine")
    listed = [li.get_attribute("data-id") for li in all_by_testid(browser, "my-playground")]
    assert listed == list(reversed(opened))
    assert "Table from an array" in by_testid(browser, "my-playgrounds").text
    assert browser_errors(browser) == []


def run_status(driver: WebDriver) -> str:
    return by_testid(driver, "run-status").text


def answer_input(driver: WebDriver, text: str) -> None:
    field = wait_for(driver, lambda d: all_by_testid(d, "console-input"), timeout=60)[0]
    wait_for(driver, lambda d: d.switch_to.active_element == field)
    field.send_keys(text, Keys.ENTER)
    wait_for(
        driver,
        lambda d: (
            not all_by_testid(d, "console-input") or field not in all_by_testid(d, "console-input")
        ),
    )


def test_the_text_adventure_plays_through_input(browser: WebDriver, flint_server: str) -> None:
    browser.get(f"{flint_server}/?template=text-adventure")
    wait_for(browser, lambda d: by_testid(d, "connection").text.strip() == "connected")
    by_testid(browser, "run").click()
    answer_input(browser, "Ada")
    wait_for(browser, lambda d: any("Welcome, Ada!" in e for e in console_entries(d)))
    assert any("What is your name, adventurer? Ada" in e for e in console_entries(browser))
    browser.save_screenshot(f"{SHOTS}/python-input.png")
    for command in ("go north", "take key", "go south", "go east", "open chest"):
        answer_input(browser, command)
    wait_for(browser, lambda d: run_status(d).startswith("Finished"), timeout=20)
    assert any("You win." in e for e in console_entries(browser))

    # Stop while the program waits for input ends it.
    by_testid(browser, "run").click()
    wait_for(browser, lambda d: all_by_testid(d, "console-input"), timeout=30)
    by_testid(browser, "run-stop").click()
    wait_for(browser, lambda d: run_status(d) == "Stopped.", timeout=5)
    assert not all_by_testid(browser, "console-input")


def test_python_over_csv_and_a_second_module(browser: WebDriver, flint_server: str) -> None:
    browser.get(f"{flint_server}/?template=csv")
    wait_for(browser, lambda d: by_testid(d, "connection").text.strip() == "connected")
    by_testid(browser, "run").click()
    wait_for(browser, lambda d: run_status(d).startswith("Finished"), timeout=60)
    out = console_entries(browser)
    assert any("Wettest month: Jan in Lisbon (100 mm)" in e for e in out), out
    # Every file is on Pyodide's disk: main.py can import another file, or read it.
    browser.execute_script(
        "window.flint.workspace.addFile('helper.py', 'def twice(x):\\n    return 2 * x\\n')"
    )
    browser.execute_script("window.flint.workspace.addFile('notes.txt', 'hello file\\n')")
    set_file(
        browser,
        "main.py",
        "from helper import twice\nprint(twice(21))\nprint(open('notes.txt').read().strip())\n",
    )
    by_testid(browser, "run").click()
    wait_for(browser, lambda d: "hello file" in console_entries(d), timeout=30)
    assert "42" in console_entries(browser)
    set_file(browser, "helper.py", "def twice(x):\n    return 3 * x\n")
    by_testid(browser, "run").click()
    wait_for(browser, lambda d: "63" in console_entries(d), timeout=30, message="edited module")
