"""Configuration problems reach the page as messages, never as endless reconnecting."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from selenium.webdriver.remote.webdriver import WebDriver

from playground.testing.servers import daphne_server, flint_env, migrate
from playground.testing.upstream import Fail, Reply, ScriptedUpstream
from tests.browser.helpers import (
    SHOTS,
    all_by_testid,
    by_testid,
    open_playground,
    send_instruction,
    wait_for,
)
from tests.conftest import flint_env_for


@pytest.fixture(scope="module")
def typo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The local model (no FLINT_BASE_URL) with a misspelt model name, started by Daphne
    (which runs no system checks, unlike manage.py runserver)."""
    var = tmp_path_factory.mktemp("typo-var")
    migrate(flint_env(var))  # manage.py migrate itself refuses the typo (system checks)
    with daphne_server(flint_env(var, FLINT_LOCAL_MODEL="qwen-typo")) as url:
        yield url


@pytest.fixture(scope="module")
def origin_server(
    tmp_path_factory: pytest.TempPathFactory, upstream_server: ScriptedUpstream
) -> Iterator[str]:
    env = flint_env_for(
        tmp_path_factory.mktemp("origin-var"),
        upstream_server,
        FLINT_ALLOWED_ORIGINS="https://flint.example",
    )
    with daphne_server(env) as url:
        yield url


def problems(driver: WebDriver) -> list[str]:
    return [p.text for p in all_by_testid(driver, "problem")]


def test_an_unknown_local_model_is_said_in_the_page_and_the_socket_stops(
    browser: WebDriver, typo_server: str
) -> None:
    browser.get(f"{typo_server}/?template=web")
    banner = wait_for(browser, lambda d: by_testid(d, "problems"))
    assert banner.is_displayed()
    # From the system checks, in the page's boot data.
    assert any("FLINT_LOCAL_MODEL is 'qwen-typo'" in p for p in problems(browser))
    # The socket: the server says why (server.misconfigured), closes with 4500, and
    # the page stops reconnecting.
    connection = by_testid(browser, "connection")
    wait_for(browser, lambda d: connection.text == "server misconfigured")
    session = wait_for(
        browser,
        lambda d: [
            p for p in all_by_testid(d, "problem") if p.get_attribute("data-id") == "session"
        ],
    )[0]
    assert "cannot start this playground's session until that is fixed" in session.text
    assert by_testid(session, "problem-retry").is_displayed()
    time.sleep(3)
    assert connection.text == "server misconfigured"
    assert browser.execute_script("return window.flint.socket.state") == "offline"
    browser.save_screenshot(f"{SHOTS}/config-typo.png")


FAILED_TIMES = re.compile(r"failed (\d+) times in a row")


def test_a_refused_origin_is_named_before_the_socket_even_tries(
    browser: WebDriver, origin_server: str
) -> None:
    browser.get(f"{origin_server}/?template=web")
    wait_for(browser, lambda d: by_testid(d, "problems").is_displayed())
    [first, *_] = problems(browser)
    assert "is not in FLINT_ALLOWED_ORIGINS (https://flint.example)" in first
    assert "Add http://127.0.0.1:" in first
    # The refused handshakes themselves: after three the page says what they mean.
    # (It counts on as the page retries: a retry drawn near 0 ms of jitter can
    # follow the third within one poll, so "3" itself may never be seen.)
    said = wait_for(
        browser,
        lambda d: next((m for p in problems(d) if (m := FAILED_TIMES.search(p))), None),
        timeout=40,
    )
    assert int(said.group(1)) >= 3
    browser.save_screenshot(f"{SHOTS}/config-origin.png")


def test_an_error_shows_its_message_first_and_its_code_last(
    browser: WebDriver, flint_server: str, page_upstream: ScriptedUpstream
) -> None:
    page_upstream.script(Reply(fail=Fail("status", 404)))
    open_playground(browser, flint_server)
    assert not by_testid(browser, "problems").is_displayed()
    send_instruction(browser, "hello")
    error = wait_for(browser, lambda d: by_testid(d, "error"))
    parts = browser.execute_script("return [...arguments[0].children].map(c => c.className)", error)
    assert parts[:2] == ["error-message", "error-code"]
    assert error.text.startswith("The model server does not know the model")
    assert error.text.rstrip().endswith("upstream.model_not_found")
    status = by_testid(browser, "status")
    wait_for(browser, lambda d: "Failed: The model server" in status.text)
    browser.save_screenshot(f"{SHOTS}/error-order.png")
