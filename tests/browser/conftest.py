"""Real-browser fixtures: headless Chromium (Debian's) driving a real Daphne."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver

from playground.testing import browser as browsers
from playground.testing.servers import daphne_server
from playground.testing.upstream import ScriptedUpstream
from tests.conftest import flint_env_for

CHROMIUM = "/usr/bin/chromium"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def flint_server(
    tmp_path_factory: pytest.TempPathFactory, upstream_server: ScriptedUpstream
) -> Iterator[str]:
    env = flint_env_for(tmp_path_factory.mktemp("browser-var"), upstream_server)
    with daphne_server(env) as url:
        yield url


def new_driver() -> webdriver.Chrome:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: run scripts/test.sh, which installs chromium")
    driver: webdriver.Chrome = browsers.new_driver()
    return driver


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    driver = new_driver()
    yield driver
    driver.quit()
    shutil.rmtree(driver.flint_profile, ignore_errors=True)  # type: ignore[attr-defined]


@pytest.fixture
def page_upstream(upstream: ScriptedUpstream) -> ScriptedUpstream:
    """The scripted upstream, reset, as seen by the browser's Flint server."""
    return upstream
